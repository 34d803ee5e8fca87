//! The configuration store: what a storage backend must provide.
//!
//! One trait per aggregate ([`AdminStore`], [`TokenStore`],
//! [`OrganizationStore`], [`RepositoryStore`], [`JobStore`], …) under the umbrella [`Store`], which a backend
//! implements whole and callers hold as `Arc<dyn Store>`. A service that
//! needs one aggregate only can take `Arc<dyn AdminStore>` (any `dyn Store`
//! upcasts to it).
//!
//! Every method is one transaction: it happens entirely or not at all, and a
//! failed one leaves the store usable. Secrets arrive already sealed
//! ([`crate::crypto::SealedSecret`]) and tokens already hashed; a backend
//! never sees anything in clear.

mod admins;
mod backup;
mod error;
mod organizations;
mod tokens;

use async_trait::async_trait;

pub use admins::{AdminRecord, AdminStore};
pub use backup::{
    EncryptionKeyStore, JobSessionStore, JobStore, LicenceRevocation, ObjectStorageStore,
    ProxyStore, Removal, RepositoryStore, RestorePointStore,
};
pub use error::{Failure, StoreError, StoreErrorKind};
pub use organizations::OrganizationStore;
pub use tokens::{AccessGrant, IssuedToken, NewSession, RefreshOutcome, TokenHash, TokenStore};

/// Everything a configuration store backend provides.
#[async_trait]
pub trait Store:
    AdminStore
    + TokenStore
    + OrganizationStore
    + ProxyStore
    + RepositoryStore
    + ObjectStorageStore
    + EncryptionKeyStore
    + JobStore
    + JobSessionStore
    + RestorePointStore
    + Send
    + Sync
    + 'static
{
    // ---- installation metadata ----

    /// Returns the stored value of `key`, storing `value` first if there was none.
    async fn meta_get_or_insert(&self, key: &str, value: &[u8]) -> Result<Vec<u8>, StoreError>;

    /// The stored value of `key`, if any. Lets start-up tell an existing
    /// installation from an empty (or replaced) database before writing.
    async fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    // ---- the store itself ----

    /// Asks the backend to verify its own storage; true if it finds nothing
    /// wrong (problems are logged by the backend).
    async fn integrity_check(&self) -> Result<bool, StoreError>;

    /// Waits for running operations, then releases every connection; later
    /// calls fail with [`StoreError::Unavailable`].
    async fn close(&self);
}
