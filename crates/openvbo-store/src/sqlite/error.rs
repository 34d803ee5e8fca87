//! Turning sqlx errors into [`StoreError`]s.
//!
//! Messages name the operation and SQLite's own explanation; SQLite never
//! puts bound values into its messages, so nothing stored leaks through here.

use openvbo_core::store::StoreError;

/// SQLITE_CORRUPT and SQLITE_NOTADB, as primary result codes.
const SQLITE_CORRUPT: i64 = 11;
const SQLITE_NOTADB: i64 = 26;

/// `what` says what was being attempted, e.g. "cannot list organizations".
pub(crate) fn map(what: &str, err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Corrupt(format!("{what}: {err}"))
        }
        sqlx::Error::Database(db) => {
            if db.is_unique_violation() {
                return StoreError::Conflict(format!("{what}: {}", db.message()));
            }
            let primary = db
                .code()
                .and_then(|code| code.parse::<i64>().ok())
                .map(|code| code & 0xff);
            if matches!(primary, Some(SQLITE_CORRUPT | SQLITE_NOTADB)) {
                StoreError::Corrupt(format!("{what}: {}", db.message()))
            } else {
                StoreError::Unavailable(format!("{what}: {}", db.message()))
            }
        }
        _ => StoreError::Unavailable(format!("{what}: {err}")),
    }
}

/// For `map_err`: `.map_err(err("cannot add organization"))`.
pub(crate) fn err(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| map(what, e)
}
