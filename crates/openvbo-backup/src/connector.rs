//! The Microsoft 365 connector (`openvbo-m365`) in core's terms, for every adapter over it
//! (the backup engine's sources here, the restore writers in [`crate::restore`], the
//! directory adapter in `openvbo-server`): its errors as core's [`M365Failure`] with the
//! connector's error kept as the source, and its session behind core's directory session.
//!
//! Core knows only the ports (`openvbo_core::microsoft365`); a signed-in session reaches the
//! connector's own [`GraphSession`] through the port's `connector_session`, unwrapped here,
//! next to the readers and writers that need it.

use std::sync::Arc;

use async_trait::async_trait;
use openvbo_core::discovery::DiscoveryService;
use openvbo_core::microsoft365::{DirectorySession, FailureKind, M365Failure, SignInRefusal};
use openvbo_core::organization::Service;
use openvbo_core::{CoreError, OrganizationId};
use openvbo_m365::{ErrorKind, GraphSession, M365Error, SignInFailure};

/// A connector error as core's failure, classified by what the caller can do, with the
/// connector's error as its source.
pub fn failure(err: M365Error) -> M365Failure {
    let kind = match &err.kind {
        ErrorKind::SignIn(refusal) => FailureKind::SignInRefused(match refusal {
            SignInFailure::InvalidCredentials => SignInRefusal::InvalidCredentials,
            SignInFailure::UserNotFound => SignInRefusal::UserNotFound,
            SignInFailure::MfaRequired => SignInRefusal::MfaRequired,
            SignInFailure::AccountDisabled => SignInRefusal::AccountDisabled,
            SignInFailure::AccountLocked => SignInRefusal::AccountLocked,
            SignInFailure::PasswordExpired => SignInRefusal::PasswordExpired,
            SignInFailure::ConsentRequired => SignInRefusal::ConsentRequired,
            SignInFailure::TenantNotFound => SignInRefusal::TenantNotFound,
            SignInFailure::ConditionalAccess => SignInRefusal::ConditionalAccess,
            SignInFailure::ClientMisconfigured => SignInRefusal::ClientMisconfigured,
            SignInFailure::WrongCloud => SignInRefusal::WrongCloud,
            SignInFailure::GrantExpired => SignInRefusal::GrantExpired,
            SignInFailure::Other(_) => SignInRefusal::Other,
        }),
        ErrorKind::Unauthorized => FailureKind::TokenRejected,
        ErrorKind::Forbidden => FailureKind::Forbidden,
        ErrorKind::NotFound => FailureKind::NotFound,
        ErrorKind::Conflict => FailureKind::Conflict,
        ErrorKind::Throttled { retry_after } | ErrorKind::Unavailable { retry_after } => {
            FailureKind::Retry {
                retry_after: *retry_after,
            }
        }
        ErrorKind::Timeout => FailureKind::Timeout,
        ErrorKind::Unreachable => FailureKind::Unreachable,
        ErrorKind::TooLarge => FailureKind::TooLarge,
        ErrorKind::Gone | ErrorKind::Protocol => FailureKind::Unusable,
    };
    M365Failure::new(kind, err.message.clone()).caused_by(err)
}

/// The connector's session behind a directory session that this connector signed in.
pub fn graph_of(session: &dyn DirectorySession) -> Result<Arc<GraphSession>, M365Failure> {
    session
        .connector_session()
        .downcast::<GraphSession>()
        .map_err(|_| {
            M365Failure::new(
                FailureKind::Unusable,
                "the Microsoft 365 token source does not give Graph sessions",
            )
        })
}

/// Graph sessions of an organization's accounts, shared with discovery's and renewed with
/// them: what the backup engine reads content with.
#[async_trait]
pub trait GraphSessions {
    async fn graph_session(
        &self,
        organization: OrganizationId,
        service: Service,
    ) -> Result<Arc<GraphSession>, CoreError>;
}

#[async_trait]
impl GraphSessions for DiscoveryService {
    async fn graph_session(
        &self,
        organization: OrganizationId,
        service: Service,
    ) -> Result<Arc<GraphSession>, CoreError> {
        let session = self.session(organization, service).await?;
        graph_of(session.as_ref())
            .map_err(|e| CoreError::Internal(format!("{}; content cannot be read", e.message)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::error::Error as _;
    use std::time::Duration;

    use super::*;

    fn kind_of(kind: ErrorKind) -> FailureKind {
        failure(M365Error {
            kind,
            message: "m".into(),
        })
        .kind
    }

    #[test]
    fn connector_errors_keep_what_the_caller_can_do() {
        let wait = Some(Duration::from_secs(7));
        assert_eq!(
            kind_of(ErrorKind::Throttled { retry_after: wait }),
            FailureKind::Retry { retry_after: wait }
        );
        assert_eq!(
            kind_of(ErrorKind::Unavailable { retry_after: None }),
            FailureKind::Retry { retry_after: None }
        );
        assert_eq!(kind_of(ErrorKind::Unauthorized), FailureKind::TokenRejected);
        assert_eq!(kind_of(ErrorKind::Forbidden), FailureKind::Forbidden);
        assert_eq!(kind_of(ErrorKind::Conflict), FailureKind::Conflict);
        assert_eq!(kind_of(ErrorKind::Timeout), FailureKind::Timeout);
        assert_eq!(kind_of(ErrorKind::Unreachable), FailureKind::Unreachable);
        assert_eq!(kind_of(ErrorKind::Protocol), FailureKind::Unusable);
        assert_eq!(kind_of(ErrorKind::Gone), FailureKind::Unusable);
        assert_eq!(
            kind_of(ErrorKind::SignIn(SignInFailure::MfaRequired)),
            FailureKind::SignInRefused(SignInRefusal::MfaRequired)
        );
        assert_eq!(
            kind_of(ErrorKind::SignIn(SignInFailure::Other(vec![1]))),
            FailureKind::SignInRefused(SignInRefusal::Other)
        );
        // Transient exactly where the connector says so.
        for kind in [
            ErrorKind::Throttled { retry_after: None },
            ErrorKind::Timeout,
            ErrorKind::Unreachable,
            ErrorKind::Protocol,
            ErrorKind::NotFound,
        ] {
            let err = M365Error {
                kind,
                message: "m".into(),
            };
            assert_eq!(failure(err.clone()).is_transient(), err.is_transient());
        }
    }

    #[test]
    fn the_connectors_error_is_the_failures_source() {
        let err = M365Error {
            kind: ErrorKind::Unreachable,
            message: "could not connect to graph.microsoft.com: connection refused".into(),
        };
        let failed = failure(err.clone());
        assert_eq!(failed.message, err.message);
        let source = failed.source().unwrap();
        assert_eq!(source.downcast_ref::<M365Error>(), Some(&err));
        // A copy (failures are cloned through listings) keeps the cause.
        let copy = failed.clone();
        assert_eq!(
            copy.source().unwrap().to_string(),
            "could not connect to graph.microsoft.com: connection refused"
        );
    }
}
