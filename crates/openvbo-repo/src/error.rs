//! One error type for the whole crate: a [`ErrorKind`] callers can branch on, a message a
//! person can act on, and the underlying cause kept as `source` (never folded into the text,
//! so secrets in a cause cannot leak into a log line by formatting).

use std::fmt;

/// What went wrong, coarse enough for callers to map to v6 status codes and CLI exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The object or repository does not exist.
    NotFound,
    /// A create-only write found the name taken.
    AlreadyExists,
    /// The storage refused our credentials or permissions.
    AccessDenied,
    /// The file system or bucket is out of space (ENOSPC, quota).
    StorageFull,
    /// The file system is mounted read-only.
    ReadOnly,
    /// A transient failure (5xx, SlowDown, reset, timeout) that outlived the retry budget.
    Unavailable,
    /// Stored bytes failed authentication, a hash, or a structural check.
    Corrupted,
    /// The key or password does not open this repository.
    WrongKey,
    /// Another server holds the repository, or maintenance holds its lease.
    Locked,
    /// The caller passed something invalid.
    InvalidInput,
    /// Anything else the storage reported.
    Storage,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::AccessDenied => "access denied",
            ErrorKind::StorageFull => "storage full",
            ErrorKind::ReadOnly => "read-only storage",
            ErrorKind::Unavailable => "storage unavailable",
            ErrorKind::Corrupted => "corrupted data",
            ErrorKind::WrongKey => "wrong key",
            ErrorKind::Locked => "locked",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Storage => "storage error",
        };
        f.write_str(s)
    }
}

/// The crate's error: kind + message + optional cause.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct RepoError {
    kind: ErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl RepoError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            kind,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn corrupted(what: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corrupted, what)
    }

    pub(crate) fn invalid(what: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, what)
    }
}

pub type Result<T, E = RepoError> = std::result::Result<T, E>;

/// Maps an I/O error on `what` to a kind, so "disk full" and "read-only" reach the user as such.
pub(crate) fn io_error(what: &str, e: std::io::Error) -> RepoError {
    use std::io::ErrorKind as K;
    let kind = match e.kind() {
        K::NotFound => ErrorKind::NotFound,
        K::AlreadyExists => ErrorKind::AlreadyExists,
        K::PermissionDenied => ErrorKind::AccessDenied,
        K::StorageFull | K::QuotaExceeded => ErrorKind::StorageFull,
        K::ReadOnlyFilesystem => ErrorKind::ReadOnly,
        K::TimedOut | K::ConnectionReset | K::ConnectionAborted | K::Interrupted => {
            ErrorKind::Unavailable
        }
        _ => ErrorKind::Storage,
    };
    let message = match kind {
        ErrorKind::StorageFull => format!("{what}: no space left on the device"),
        ErrorKind::ReadOnly => format!("{what}: the file system is read-only"),
        ErrorKind::AccessDenied => format!("{what}: permission denied"),
        _ => what.to_string(),
    };
    RepoError::with_source(kind, message, e)
}
