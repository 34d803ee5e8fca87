//! Checks of the backup aggregates: proxies, repositories, object storage,
//! encryption keys, jobs, sessions and their log, restore points, catalog.

mod catalog;
mod catalog_order;
pub(crate) mod concurrency;
mod fixtures;
mod jobs;
mod proxies;
mod repositories;
mod restore_points;
mod sessions;

use openvbo_core::store::Store;

/// Expects a fresh store (organizations of other checks may exist).
pub(super) async fn run(store: &dyn Store) {
    let proxy = proxies::run(store).await;
    repositories::run(store, proxy).await;
    let (job, repo) = jobs::run(store, proxy).await;
    sessions::run(store, &job).await;
    restore_points::run(store, &job, repo).await;
    catalog::run(store, &job).await;
    catalog_order::run(store, &job).await;
}
