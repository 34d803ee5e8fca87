//! The openvbo configuration store: implementations of
//! [`openvbo_core::store::Store`].
//!
//! [`SqliteStore`] keeps everything in one SQLite file. Each backend writes
//! its own SQL in its own module, and its schema in its own directory
//! (`migrations/sqlite/`, later `migrations/postgres/`). The behaviour every
//! backend must show is the `openvbo-store-conformance` crate, a
//! dev-dependency only, so it is never part of a release build.

mod sqlite;

pub use sqlite::{SqliteOptions, SqliteStore};
