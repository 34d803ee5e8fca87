//! Engine errors → the port's kinds, keeping the cause as `source`.

use openvbo_core::repositories::{EngineError, EngineErrorKind};
use openvbo_repo::{ErrorKind, RepoError};

pub(crate) fn from_repo(e: RepoError) -> EngineError {
    let kind = match e.kind() {
        ErrorKind::NotFound => EngineErrorKind::NotFound,
        ErrorKind::AlreadyExists => EngineErrorKind::AlreadyExists,
        ErrorKind::AccessDenied => EngineErrorKind::AccessDenied,
        ErrorKind::StorageFull => EngineErrorKind::StorageFull,
        ErrorKind::ReadOnly => EngineErrorKind::Unusable,
        ErrorKind::Unavailable => EngineErrorKind::Unreachable,
        ErrorKind::Corrupted => EngineErrorKind::Corrupted,
        ErrorKind::WrongKey => EngineErrorKind::WrongKey,
        ErrorKind::InvalidInput => EngineErrorKind::InvalidInput,
        ErrorKind::Locked | ErrorKind::Storage => EngineErrorKind::Other,
    };
    let message = e.message().to_string();
    EngineError::with_source(kind, message, e)
}

/// object_store's errors from browsing, classified the way the engine classifies them.
pub(crate) fn from_object_store(what: String, e: object_store::Error) -> EngineError {
    use object_store::Error as E;
    let kind = match &e {
        E::NotFound { .. } => EngineErrorKind::NotFound,
        E::AlreadyExists { .. } | E::Precondition { .. } => EngineErrorKind::AlreadyExists,
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => EngineErrorKind::AccessDenied,
        _ => classify_text(&e),
    };
    EngineError::with_source(kind, what, e)
}

/// object_store reports HTTP and transport failures as `Generic`; the text (with its chain)
/// is the only signal of which one it was.
fn classify_text(e: &object_store::Error) -> EngineErrorKind {
    let mut text = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        text.push_str(&s.to_string());
        src = s.source();
    }
    let t = text.to_ascii_lowercase();
    if t.contains("403")
        || t.contains("accessdenied")
        || t.contains("signaturedoesnotmatch")
        || t.contains("invalidaccesskeyid")
    {
        EngineErrorKind::AccessDenied
    } else if t.contains("nosuchbucket") || t.contains("404") {
        EngineErrorKind::NotFound
    } else if t.contains("connect")
        || t.contains("error sending request")
        || t.contains("timed out")
        || t.contains("timeout")
        || t.contains("retries")
        || t.contains("dns")
    {
        EngineErrorKind::Unreachable
    } else {
        EngineErrorKind::Other
    }
}
