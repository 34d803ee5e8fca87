//! The behaviour every [`Store`] backend must show, as one sequence of
//! checks that panic with a message saying what went wrong.
//!
//! Each backend's tests (a dev-dependency; never part of a release build)
//! call [`run_all`] on a fresh, empty store and [`concurrent_writes`] on any
//! store. The checks look at results and error kinds, and at messages only
//! for what the user must be told (which organization holds a tenant), never
//! at a database's own wording, so that every backend can pass them as they
//! are.
//!
//! Tests of what is built on a store (the job runner, restore sessions) seed
//! one with [`seed`]'s records.

// A test harness: failing loudly is its job, and its checks index what they wrote.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod admins;
mod backup;
mod concurrency;
mod fixtures;
mod meta;
mod organizations;
pub mod seed;
mod tokens;

use openvbo_core::store::Store;

pub use concurrency::concurrent_writes;

/// Runs every check against `store`, which must be freshly created and empty.
pub async fn run_all(store: &dyn Store) {
    meta::run(store).await;
    admins::run(store).await;
    tokens::run(store).await;
    organizations::run(store).await;
    backup::run(store).await;
}
