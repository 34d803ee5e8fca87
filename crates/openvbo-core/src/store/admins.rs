//! Administrators of the openvbo server.

use async_trait::async_trait;

use super::StoreError;

/// An administrator of the openvbo server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminRecord {
    pub user_name: String,
    /// PHC string (argon2id).
    pub password_hash: String,
}

#[async_trait]
pub trait AdminStore: Send + Sync {
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
}
