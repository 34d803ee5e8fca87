//! What can go wrong in a store, by what the caller can do about it.
//!
//! The variant is the kind; the [`Failure`] inside says what was being
//! attempted and keeps the backend's own error as its `source`, so the cause
//! is logged once, whole, instead of being flattened into a string.

use std::error::Error;
use std::fmt;

/// A failed store operation.
///
/// A [`Conflict`](StoreError::Conflict) message is meant for the user (it
/// names what already exists); the others are for the server log.
#[derive(Debug)]
pub enum StoreError {
    /// A uniqueness rule was violated (e.g. the tenant is already added).
    /// Fix the input.
    Conflict(String),
    /// The store could not be used (I/O, locked, closed, …). Retry later.
    Unavailable(Failure),
    /// The file system holding the store is full. Nothing was written; free
    /// space, then retry — the store recovers by itself.
    StorageFull(Failure),
    /// Stored data could not be understood. Needs an operator.
    Corrupt(Failure),
}

/// The kind of a [`StoreError`], for callers that decide by kind only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreErrorKind {
    Conflict,
    Unavailable,
    StorageFull,
    Corrupt,
}

impl StoreError {
    pub fn kind(&self) -> StoreErrorKind {
        match self {
            StoreError::Conflict(_) => StoreErrorKind::Conflict,
            StoreError::Unavailable(_) => StoreErrorKind::Unavailable,
            StoreError::StorageFull(_) => StoreErrorKind::StorageFull,
            StoreError::Corrupt(_) => StoreErrorKind::Corrupt,
        }
    }

    /// True when the same call may succeed later without any change of input.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable(_) | StoreError::StorageFull(_)
        )
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Conflict(message) => write!(f, "conflict: {message}"),
            StoreError::Unavailable(failure) => {
                write!(f, "configuration store unavailable: {failure}")
            }
            StoreError::StorageFull(failure) => write!(
                f,
                "the file system holding the configuration store is full: {failure}"
            ),
            StoreError::Corrupt(failure) => {
                write!(f, "configuration store holds unreadable data: {failure}")
            }
        }
    }
}

impl Error for StoreError {
    /// The backend's error, skipping the [`Failure`] layer, whose message is
    /// already part of this error's own.
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            StoreError::Conflict(_) => None,
            StoreError::Unavailable(failure)
            | StoreError::StorageFull(failure)
            | StoreError::Corrupt(failure) => failure.source(),
        }
    }
}

/// What was being attempted, and the backend error that stopped it.
#[derive(Debug)]
pub struct Failure {
    message: String,
    source: Option<Box<dyn Error + Send + Sync + 'static>>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            source: None,
        }
    }

    pub fn with_source(
        message: impl Into<String>,
        source: impl Error + Send + Sync + 'static,
    ) -> Failure {
        Failure {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::new(message)
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Failure {
        Failure::new(message)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_source_chain_reaches_the_backend_error_once() {
        let io = std::io::Error::other("No space left on device");
        let err = StoreError::StorageFull(Failure::with_source("cannot add the organization", io));
        assert_eq!(err.kind(), StoreErrorKind::StorageFull);
        assert!(err.is_transient());
        assert_eq!(
            err.to_string(),
            "the file system holding the configuration store is full: \
             cannot add the organization"
        );
        let source = err.source().unwrap();
        assert_eq!(source.to_string(), "No space left on device");
        assert!(source.source().is_none());
    }

    #[test]
    fn conflicts_have_no_source_and_are_not_transient() {
        let err = StoreError::Conflict("administrator 'a' already exists".into());
        assert_eq!(err.kind(), StoreErrorKind::Conflict);
        assert!(!err.is_transient());
        assert!(err.source().is_none());
        let corrupt = StoreError::Corrupt("installation_id is not a UUID".into());
        assert_eq!(corrupt.kind(), StoreErrorKind::Corrupt);
        assert!(corrupt.source().is_none());
    }
}
