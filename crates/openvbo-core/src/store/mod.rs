//! The configuration store: what a storage backend must provide.
//!
//! Every method is one transaction: it happens entirely or not at all.
//! Secrets arrive already sealed ([`crate::crypto::SealedSecret`]) and
//! tokens already hashed; a backend never sees anything in clear.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::organization::Organization;
use crate::OrganizationId;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated (e.g. the tenant is already added).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store could not be used (I/O, locked, disk full, …).
    #[error("configuration store unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be understood.
    #[error("configuration store holds unreadable data: {0}")]
    Corrupt(String),
}

/// An administrator of the openvbo server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminRecord {
    pub user_name: String,
    /// PHC string (argon2id).
    pub password_hash: String,
}

/// SHA-256 of a bearer or refresh token, hex encoded. Tokens themselves are
/// never stored.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenHash(pub String);

#[derive(Clone, Debug)]
pub struct IssuedToken {
    pub hash: TokenHash,
    pub expires_at: OffsetDateTime,
}

/// A login: one access token and one refresh token, the start of a chain of
/// refreshes (a "session").
#[derive(Clone, Debug)]
pub struct NewSession {
    pub session_id: Uuid,
    pub user_name: String,
    pub issued_at: OffsetDateTime,
    pub access: IssuedToken,
    pub refresh: IssuedToken,
}

/// What a valid access token grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessGrant {
    pub user_name: String,
    pub session_id: Uuid,
    pub expires_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The refresh token was consumed and the new pair stored.
    Rotated {
        user_name: String,
    },
    Unknown,
    Expired,
    /// The refresh token had been used before: the whole session was revoked,
    /// because a used token presented again means it was copied.
    Reused,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- installation metadata ----

    /// Returns the stored value of `key`, storing `value` first if there was none.
    async fn meta_get_or_insert(&self, key: &str, value: &[u8]) -> Result<Vec<u8>, StoreError>;

    // ---- administrators ----

    async fn admin_count(&self) -> Result<u64, StoreError>;
    /// Conflict if the user name (case-insensitive) exists.
    async fn create_admin(&self, admin: &AdminRecord) -> Result<(), StoreError>;
    /// Case-insensitive lookup.
    async fn find_admin(&self, user_name: &str) -> Result<Option<AdminRecord>, StoreError>;
    /// Replaces the password hash and revokes every session of that user.
    /// Returns false if there is no such user.
    async fn set_admin_password(
        &self,
        user_name: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError>;

    // ---- tokens ----

    async fn insert_session(&self, session: &NewSession) -> Result<(), StoreError>;
    async fn find_access_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<AccessGrant>, StoreError>;
    /// Consumes `old` and stores `access` and `refresh` in the same session.
    async fn rotate_refresh_token(
        &self,
        old: &TokenHash,
        access: &IssuedToken,
        refresh: &IssuedToken,
        now: OffsetDateTime,
    ) -> Result<RefreshOutcome, StoreError>;
    /// Forgets tokens that expired before `before`; returns how many.
    async fn purge_expired_tokens(&self, before: OffsetDateTime) -> Result<u64, StoreError>;

    // ---- organizations ----

    /// Conflict if an organization with the same tenant id exists.
    async fn insert_organization(&self, org: &Organization) -> Result<(), StoreError>;
    async fn list_organizations(&self) -> Result<Vec<Organization>, StoreError>;
    async fn get_organization(
        &self,
        id: OrganizationId,
    ) -> Result<Option<Organization>, StoreError>;
    /// Writes `org` (with `org.revision` already incremented) if the stored
    /// revision is still `expected_revision`; false otherwise (changed or gone).
    async fn update_organization(
        &self,
        org: &Organization,
        expected_revision: i64,
    ) -> Result<bool, StoreError>;
    /// False if there was no such organization.
    async fn delete_organization(&self, id: OrganizationId) -> Result<bool, StoreError>;
}
