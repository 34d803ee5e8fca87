//! Exchange browsing serves only pages of a complete catalog, over HTTPS from a real backup:
//! a mailbox's catalog dropped by a clean-up, or left half-written and not complete by an
//! interrupted indexing, is indexed again and read again rather than shown in part (as the
//! drive catalog does); an item whose entry was dropped is still found by id.
//!
//! The catalog is changed behind the server's back with Python's sqlite3 (an independent
//! reader and writer of the server's database), as a clean-up or a crash would leave it. The
//! race itself (a catalog dropped between the indexing check and the read) is covered where
//! it can be made deterministic: core `restore_sessions`, on the store.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;
mod jobs_common;

use common::*;
use jobs_common::*;
use reqwest::Method;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_or_half_written_mailbox_catalog_is_indexed_again_not_shown_in_part() {
    let (dir, _sim, server) = start_with(vec![tenant_with_mail()], |_| {}).await;
    let db = dir.path().join("openvbo.db");
    let token = server.token().await;
    let repos = tempfile::tempdir().unwrap();
    let (org, repo) = organization_and_repository(&server, &token, repos.path()).await;
    let job = mailbox_job(&server, &token, &org, &repo, &[NANCY]).await;
    let session = run(&server, &token, &job, 1).await;
    assert_eq!(session["status"], "Success", "{session}");
    let sid = explore_at(&server, &token, &org, "Vex", "2100-01-01T00:00:00Z").await;
    let whole = vec![
        "/Inbox/Projects: Plan".to_owned(),
        "/Inbox: Quarterly report 0".to_owned(),
        "/Inbox: Quarterly report 1".to_owned(),
        "/Inbox: Quarterly report 2".to_owned(),
    ];
    assert_eq!(mailbox_state(&server, &token, &sid, NANCY).await, whole);
    let mbx = format!("/v6/RestoreSessions/{sid}/organization/mailboxes/{NANCY}");
    let plan = get_ok(&server, &token, &format!("{mbx}/items?limit=1000")).await["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["subject"] == "Plan")
        .unwrap()
        .clone();
    let plan_id = plan["id"].as_str().unwrap().to_owned();

    let scope = "resource_kind = 'Mailbox'";
    let counts = || {
        sqlite(
            &db,
            &format!(
                "SELECT (SELECT count(*) FROM catalog_resources WHERE {scope}), \
                 (SELECT count(*) FROM catalog_items WHERE {scope})"
            ),
        )
    };
    let full = counts();
    assert!(full.starts_with("1|"), "{full}");
    assert_ne!(full, "1|0");

    // Dropped, as an item-level clean-up drops it: indexed again, the same mailbox.
    sqlite(
        &db,
        &format!(
            "DELETE FROM catalog_resources WHERE {scope}; DELETE FROM catalog_items WHERE {scope}"
        ),
    );
    assert_eq!(counts(), "0|0");
    assert_eq!(mailbox_state(&server, &token, &sid, NANCY).await, whole);
    assert_eq!(counts(), full);

    // Half-written and not complete, as an interrupted indexing leaves it (the messages gone):
    // never shown as the mailbox; cleared and indexed again.
    sqlite(
        &db,
        &format!(
            "DELETE FROM catalog_resources WHERE {scope}; \
             DELETE FROM catalog_items WHERE {scope} AND kind = 'Message'"
        ),
    );
    let half = counts();
    assert!(
        half.starts_with("0|") && half != "0|0" && half[2..] != full[2..],
        "{half} of {full}"
    );
    assert_eq!(mailbox_state(&server, &token, &sid, NANCY).await, whole);
    assert_eq!(counts(), full);

    // An item whose entry was dropped is found by id, not answered 404.
    sqlite(
        &db,
        &format!(
            "DELETE FROM catalog_resources WHERE {scope}; \
             DELETE FROM catalog_items WHERE {scope} AND kind = 'Message'"
        ),
    );
    let (status, by_id) = server
        .call(Method::GET, &format!("{mbx}/items/{plan_id}"), &token, None)
        .await;
    assert_eq!(
        (
            status.as_u16(),
            by_id["id"].as_str(),
            by_id["subject"].as_str()
        ),
        (200, Some(plan_id.as_str()), Some("Plan")),
        "{by_id}"
    );
    assert_eq!(by_id, plan);
    assert_eq!(counts(), full);
    server.stop().await;
    drop(dir);
}
