//! Sessions and the hashes of their access and refresh tokens.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;

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
pub trait TokenStore: Send + Sync {
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
}
