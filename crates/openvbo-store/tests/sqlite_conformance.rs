// Test code: failed expectations panic, fixtures are indexed, helpers are pub.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

//! The backend-independent checks, against a real SQLite file.

use std::sync::Arc;

use openvbo_store::SqliteStore;
use openvbo_store_conformance as conformance;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_passes_the_conformance_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("openvbo.db"))
        .await
        .unwrap();
    conformance::run_all(&store).await;
    assert!(store.integrity_check().await.unwrap());
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn sqlite_takes_many_concurrent_writers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("openvbo.db"))
            .await
            .unwrap(),
    );
    conformance::concurrent_writes(store.clone()).await;
    assert!(store.integrity_check().await.unwrap());
    store.close().await;
}
