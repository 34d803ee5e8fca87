//! What can go wrong talking to Microsoft 365, classified so callers can tell
//! the administrator what to do and whether retrying can help.

use std::fmt;
use std::time::Duration;

/// Why Microsoft Entra ID refused a password sign-in, from its AADSTS codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignInFailure {
    /// 50126: wrong user name or password.
    InvalidCredentials,
    /// 50034: the user does not exist in the tenant.
    UserNotFound,
    /// 50076, 50079: multi-factor authentication is enforced for the account.
    MfaRequired,
    /// 50057.
    AccountDisabled,
    /// 50053: locked, or too many failed attempts.
    AccountLocked,
    /// 50055.
    PasswordExpired,
    /// 65001: the application needs admin consent.
    ConsentRequired,
    /// 90002: no such tenant in this cloud.
    TenantNotFound,
    /// 53003.
    ConditionalAccess,
    /// 7000218, 700016, invalid_client: the client application is misconfigured.
    ClientMisconfigured,
    /// 500011: the tenant is not in the cloud the token was requested for.
    WrongCloud,
    /// 50173, 70008, 70043: a refresh token was revoked or expired.
    GrantExpired,
    /// Any other refusal, with Microsoft's codes.
    Other(Vec<u32>),
}

impl SignInFailure {
    /// Microsoft may send several codes; the first one we know decides.
    pub fn from_codes(codes: &[u32], error: &str) -> Self {
        for code in codes {
            let known = match code {
                50126 => Some(Self::InvalidCredentials),
                50034 => Some(Self::UserNotFound),
                50076 | 50079 => Some(Self::MfaRequired),
                50057 => Some(Self::AccountDisabled),
                50053 => Some(Self::AccountLocked),
                50055 => Some(Self::PasswordExpired),
                65001 => Some(Self::ConsentRequired),
                90002 => Some(Self::TenantNotFound),
                53003 => Some(Self::ConditionalAccess),
                7000218 | 700016 => Some(Self::ClientMisconfigured),
                500011 => Some(Self::WrongCloud),
                50173 | 70008 | 70043 => Some(Self::GrantExpired),
                _ => None,
            };
            if let Some(known) = known {
                return known;
            }
        }
        if error == "invalid_client" || error == "unauthorized_client" {
            return Self::ClientMisconfigured;
        }
        Self::Other(codes.to_vec())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Microsoft Entra ID refused the sign-in.
    SignIn(SignInFailure),
    /// Graph rejected the token (401).
    Unauthorized,
    /// Graph refused the operation (403): the account lacks a permission.
    Forbidden,
    /// Graph has no such object (404).
    NotFound,
    /// The name is taken at the destination (409 `nameAlreadyExists`).
    Conflict,
    /// The state the request relied on is gone for good: a delta token
    /// Microsoft no longer knows (410 `SyncStateNotFound`, `resyncRequired`).
    /// Start over without it.
    Gone,
    /// Still throttled (429) after the retries allowed.
    Throttled { retry_after: Option<Duration> },
    /// Microsoft answered with a server error (5xx), also after retries.
    Unavailable { retry_after: Option<Duration> },
    /// No answer within the timeout.
    Timeout,
    /// No connection could be made (DNS, refused, TLS).
    Unreachable,
    /// An answer we cannot use: unexpected status or body.
    Protocol,
    /// The caller stopped a listing that grew beyond what it can hold.
    TooLarge,
}

/// An error from the connector. Its message names the host and Microsoft's
/// codes, never a password or token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct M365Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl M365Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// For a listing sink that refuses to grow beyond `max` items.
    pub fn too_large(max: usize) -> Self {
        Self::new(
            ErrorKind::TooLarge,
            format!("the listing has more than {max} items"),
        )
    }

    /// Whether the same request may succeed later without any change.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Throttled { .. }
                | ErrorKind::Unavailable { .. }
                | ErrorKind::Timeout
                | ErrorKind::Unreachable
        )
    }
}

impl fmt::Display for M365Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for M365Error {}

/// Classifies a transport failure without echoing the URL's query.
pub(crate) fn transport_error(err: &reqwest::Error, host: &str, timeout: Duration) -> M365Error {
    if err.is_timeout() {
        M365Error::new(
            ErrorKind::Timeout,
            format!("{host} did not answer within {} s", timeout.as_secs()),
        )
    } else if err.is_connect() {
        M365Error::new(
            ErrorKind::Unreachable,
            format!("could not connect to {host}: {}", root_cause(err)),
        )
    } else if err.is_decode() || err.is_body() {
        M365Error::new(
            ErrorKind::Protocol,
            format!(
                "{host} sent a response that could not be read: {}",
                root_cause(err)
            ),
        )
    } else {
        M365Error::new(
            ErrorKind::Unreachable,
            format!("the connection to {host} failed: {}", root_cause(err)),
        )
    }
}

/// The innermost cause is the informative one ("connection refused"); the
/// outer reqwest message repeats the URL.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_known_code_decides() {
        assert_eq!(
            SignInFailure::from_codes(&[12345, 50076], "invalid_grant"),
            SignInFailure::MfaRequired
        );
        assert_eq!(
            SignInFailure::from_codes(&[], "invalid_client"),
            SignInFailure::ClientMisconfigured
        );
        assert_eq!(
            SignInFailure::from_codes(&[1], "x"),
            SignInFailure::Other(vec![1])
        );
    }
}
