//! Turning sqlx errors into [`StoreError`]s of the right kind.
//!
//! The message names the operation; sqlx's error is kept whole as the
//! `source`. SQLite never puts bound values into its messages, so nothing
//! stored leaks through the chain.

use openvbo_core::store::{Failure, StoreError};

/// Primary result codes (the low byte of an extended code).
const SQLITE_CORRUPT: i64 = 11;
const SQLITE_FULL: i64 = 13;
const SQLITE_NOTADB: i64 = 26;

/// `what` says what was being attempted, e.g. "cannot list organizations".
pub(crate) fn map(what: &str, err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(Failure::with_source(what, err))
        }
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::StorageFull => {
            StoreError::StorageFull(Failure::with_source(what, err))
        }
        sqlx::Error::Database(db) => {
            if db.is_unique_violation() {
                return StoreError::Conflict(format!("{what}: {}", db.message()));
            }
            let primary = db
                .code()
                .and_then(|code| code.parse::<i64>().ok())
                .map(|code| code & 0xff);
            match primary {
                Some(SQLITE_FULL) => StoreError::StorageFull(Failure::with_source(what, err)),
                Some(SQLITE_CORRUPT | SQLITE_NOTADB) => {
                    StoreError::Corrupt(Failure::with_source(what, err))
                }
                _ => StoreError::Unavailable(Failure::with_source(what, err)),
            }
        }
        _ => StoreError::Unavailable(Failure::with_source(what, err)),
    }
}

/// For `map_err`: `.map_err(err("cannot add organization"))`.
pub(crate) fn err(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| map(what, e)
}

/// A file-system error around the database file (creating it, its
/// directory), with a full disk reported as such.
pub(crate) fn io(what: String, err: std::io::Error) -> StoreError {
    if err.kind() == std::io::ErrorKind::StorageFull {
        StoreError::StorageFull(Failure::with_source(what, err))
    } else {
        StoreError::Unavailable(Failure::with_source(what, err))
    }
}

/// For data that was read but does not make sense.
pub(crate) fn corrupt(message: String) -> StoreError {
    StoreError::Corrupt(Failure::new(message))
}
