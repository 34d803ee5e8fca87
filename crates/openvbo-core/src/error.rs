//! The errors of the domain, by what the caller should do about them. Each
//! interface maps them once (the v6 HTTP API: `openvbo-api/src/error.rs`).

use std::time::Duration;

use crate::microsoft365::M365Failure;
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
    /// Microsoft 365 could not be used right now. `message` says what was
    /// being done and why, for the caller; `source` is the connector's failure
    /// (and, through it, the connector's own error), kept whole so the log
    /// line of a 5xx can show the cause instead of a flattened string.
    #[error("{message}")]
    Upstream {
        failure: UpstreamFailure,
        message: String,
        retry_after: Option<Duration>,
        #[source]
        source: Option<M365Failure>,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::error::Error as _;

    use super::*;
    use crate::microsoft365::FailureKind;

    /// Stands for the connector's own error (`openvbo_m365::M365Error`), which
    /// core does not link.
    #[derive(Debug, thiserror::Error)]
    #[error("connection reset by peer (os error 104) talking to graph.example")]
    struct ConnectorError;

    #[test]
    fn an_upstream_error_keeps_the_connector_error_as_its_source() {
        let failure = M365Failure::new(
            FailureKind::Unreachable,
            "could not connect to graph.example",
        )
        .caused_by(ConnectorError);
        let err = crate::organization::upstream(failure, "reading the organization");
        assert!(matches!(
            err,
            CoreError::Upstream {
                failure: UpstreamFailure::Unusable,
                ..
            }
        ));
        assert_eq!(
            err.to_string(),
            "Microsoft 365 could not be used while reading the organization: could not connect to graph.example; nothing was changed"
        );

        // The chain: the core error, the connector's failure, its own error.
        let first = err.source().unwrap();
        let failure = first.downcast_ref::<M365Failure>().unwrap();
        assert_eq!(failure.kind, FailureKind::Unreachable);
        let second = first.source().unwrap();
        assert!(second.downcast_ref::<ConnectorError>().is_some());
        assert_eq!(
            second.to_string(),
            "connection reset by peer (os error 104) talking to graph.example"
        );
        assert!(second.source().is_none());
    }

    #[test]
    fn a_throttled_upstream_error_says_when_to_retry_and_keeps_its_cause() {
        let failure = M365Failure::new(
            FailureKind::Retry {
                retry_after: Some(Duration::from_secs(7)),
            },
            "graph.example throttled the request (429)",
        )
        .caused_by(ConnectorError);
        let err = crate::organization::upstream(failure, "listing users");
        let CoreError::Upstream {
            failure,
            retry_after,
            ..
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(*failure, UpstreamFailure::Unavailable);
        assert_eq!(*retry_after, Some(Duration::from_secs(7)));
        let mut depth = 0;
        let mut next = err.source();
        while let Some(cause) = next {
            depth += 1;
            next = cause.source();
        }
        assert_eq!(depth, 2, "the failure and the connector's error");
    }
}
