//! Errors of the sources (Microsoft 365 as the engine sees it) and of a unit.

use std::fmt;

/// What went wrong reading Microsoft 365, by what the engine does about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceErrorKind {
    /// Throttled or unavailable after the connector's own retries: worth
    /// one more try later.
    Transient,
    /// The delta state is gone (410): enumerate again.
    Gone,
    /// The item or resource no longer exists.
    NotFound,
    /// Access refused: retrying will not help.
    Forbidden,
    /// Anything else that retrying will not fix.
    Other,
}

/// A source failure: a kind, a message for the session log (never a secret),
/// and its cause.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SourceError {
    pub kind: SourceErrorKind,
    pub message: String,
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl SourceError {
    pub fn new(kind: SourceErrorKind, message: impl Into<String>) -> Self {
        SourceError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub fn with_source(
        kind: SourceErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        SourceError {
            kind,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    pub fn is_transient(&self) -> bool {
        self.kind == SourceErrorKind::Transient
    }
}

/// Why a whole unit could not complete.
#[derive(Debug, thiserror::Error)]
pub enum UnitError {
    #[error("reading Microsoft 365: {0}")]
    Source(#[from] SourceError),
    #[error("writing the repository: {0}")]
    Repository(#[from] openvbo_repo::RepoError),
    #[error("{0}")]
    Setup(String),
}

/// The short form of an error for a log line: the message and its causes.
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

impl fmt::Display for SourceErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
