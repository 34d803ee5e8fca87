//! The behaviour every [`Store`] backend must show, as one sequence of
//! checks that panic with a message saying what went wrong.
//!
//! Each backend's tests call [`run_all`] on a fresh, empty store and
//! [`concurrent_writes`] on any store. Public (but hidden) so that backends
//! tested from other crates or with other services can run the same checks.

// A test harness: failing loudly is its job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admins;
mod concurrency;
mod fixtures;
mod meta;
mod organizations;
mod tokens;

use openvbo_core::store::Store;

pub use concurrency::concurrent_writes;

/// Runs every check against `store`, which must be freshly created and empty.
pub async fn run_all(store: &dyn Store) {
    meta::run(store).await;
    admins::run(store).await;
    tokens::run(store).await;
    organizations::run(store).await;
}
