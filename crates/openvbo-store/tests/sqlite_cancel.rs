// Test code: failed expectations panic, fixtures are indexed, helpers are pub.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

//! A request dropped half way through a write (a client that hangs up, a
//! timeout) must not leave the single writer connection inside its
//! transaction: the writes after it go through, and nothing half-written is
//! kept.

use std::time::Duration;

use openvbo_core::store::{AdminRecord, AdminStore as _};
use openvbo_store::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_cancelled_at_any_point_leave_the_writer_usable() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("openvbo.db"))
        .await
        .unwrap();
    let mut completed = 0_u64;
    // Deadlines from 0 to a few milliseconds cut the write at every stage:
    // waiting for the writer, inside BEGIN, inside the statements, at COMMIT.
    for i in 0..200_u64 {
        let admin = AdminRecord {
            user_name: format!("cancelled-{i}"),
            password_hash: "$argon2id$h".into(),
        };
        let deadline = Duration::from_micros(i * 25);
        if let Ok(result) = tokio::time::timeout(deadline, store.create_admin(&admin)).await {
            result.unwrap();
            completed += 1;
        }
    }
    // The writer still works, promptly.
    let after = AdminRecord {
        user_name: "after".into(),
        password_hash: "$argon2id$h".into(),
    };
    tokio::time::timeout(Duration::from_secs(10), store.create_admin(&after))
        .await
        .expect("a write after cancelled ones must not hang")
        .unwrap();

    // Each cancelled write happened whole or not at all: every stored
    // administrator can be read back complete.
    let count = store.admin_count().await.unwrap();
    assert!(
        count > completed,
        "at least the completed writes and the last one are stored ({count} vs {completed})"
    );
    assert!(count <= 201);
    for i in 0..200 {
        if let Some(found) = store.find_admin(&format!("cancelled-{i}")).await.unwrap() {
            assert_eq!(found.password_hash, "$argon2id$h");
        }
    }
    assert!(store.integrity_check().await.unwrap());
    store.close().await;
}
