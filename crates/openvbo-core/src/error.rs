//! The errors of the domain, by what the caller should do about them. Each
//! interface maps them once (the v6 HTTP API: `openvbo-api/src/error.rs`).

use std::time::Duration;

use crate::store::StoreError;
use crate::OrganizationId;

/// Input that breaks a rule; `field` names the offending property as the
/// v6 schema spells it (e.g. `exchangeOnlineSettings.account`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    pub field: Option<String>,
    pub message: String,
}

impl ValidationError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            message: message.into(),
        }
    }
}

/// Why Microsoft 365 could not be used, by what the caller can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamFailure {
    /// No connection, or an answer we cannot use: nothing to retry soon.
    Unusable,
    /// Microsoft is throttling or failing; try again later.
    Unavailable,
    /// Microsoft did not answer in time.
    Timeout,
}

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// A valid request for something not built yet.
    #[error("{0}")]
    NotSupported(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// Microsoft 365 refused the request for a reason the administrator can fix
    /// (credentials, roles, region). The message says what to do.
    #[error("{0}")]
    Refused(String),
    /// The stored credentials of `organization` (or their roles) no longer
    /// work: the administrator must give the organization new ones. The
    /// message says which account and why; the caller's interface words how.
    #[error("{message}")]
    StoredCredentials {
        organization: OrganizationId,
        message: String,
    },
    #[error("{message}")]
    Upstream {
        failure: UpstreamFailure,
        message: String,
        retry_after: Option<Duration>,
    },
    /// The bearer token is missing, unknown or expired.
    #[error("{0}")]
    Unauthenticated(String),
    /// The token endpoint refused the grant (wrong password, bad refresh token).
    #[error("{0}")]
    InvalidGrant(String),
    #[error("too many failed sign-in attempts; retry in {} s", retry_after.as_secs().max(1))]
    TooManyAttempts { retry_after: Duration },
    /// The server is at capacity for this kind of work (`what`): shed rather
    /// than queued without bound. Retry shortly.
    #[error("the server is busy with other {what} requests; retry in {} s", retry_after.as_secs().max(1))]
    Busy {
        what: &'static str,
        retry_after: Duration,
    },
    /// A listing too large for the configured cache.
    #[error("{0}")]
    Capacity(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl CoreError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(ValidationError::field(field, message))
    }
}
