//! The openvbo configuration store: implementations of
//! [`openvbo_core::store::Store`].
//!
//! [`SqliteStore`] keeps everything in one SQLite file. Each backend writes
//! its own SQL in its own module; [`conformance`] is the behaviour every
//! backend must show, run by each backend's tests.

#[doc(hidden)]
pub mod conformance;
mod sqlite;

pub use sqlite::SqliteStore;
