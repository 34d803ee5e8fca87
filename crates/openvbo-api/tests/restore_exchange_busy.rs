//! Exchange browsing answers 503 with Retry-After when the mailbox's catalog stays incomplete
//! however often it is indexed again, over HTTPS from a real backup; once indexing completes
//! again, the same requests answer the backed-up mailbox.
//!
//! Every indexing is made to leave the catalog incomplete by a SQLite trigger, created on the
//! server's database with Python's sqlite3, that deletes the mark of completion
//! (`catalog_resources`) as soon as the indexer inserts it. The indexer then reports success,
//! and each read of the same snapshot finds the catalog incomplete: `complete_read` indexes and
//! reads `browse::READ_ATTEMPTS` times, then answers 503. A second trigger counts the
//! completions the indexer wrote, so the test sees how many times it indexed.
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
use openvbo_core::restore::browse::READ_ATTEMPTS;
use reqwest::StatusCode;
use serde_json::Value;

/// GET `path`: the status, the `Retry-After` header, and the JSON body.
async fn get(server: &Server, token: &str, path: &str) -> (StatusCode, Option<String>, Value) {
    let response = server
        .client
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.json().await.unwrap();
    (status, retry_after, body)
}

fn names(page: &Value, field: &str) -> Vec<String> {
    let mut out: Vec<String> = page["results"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|r| r[field].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_catalog_that_never_completes_answers_503_then_serves_once_it_does() {
    let (dir, _sim, server) = start_with(vec![tenant_with_mail()], |_| {}).await;
    let db = dir.path().join("openvbo.db");
    let token = server.token().await;
    let repos = tempfile::tempdir().unwrap();
    let (org, repo) = organization_and_repository(&server, &token, repos.path()).await;
    let job = mailbox_job(&server, &token, &org, &repo, &[NANCY]).await;
    let session = run(&server, &token, &job, 1).await;
    assert_eq!(session["status"], "Success", "{session}");
    let sid = explore_at(&server, &token, &org, "Vex", "2100-01-01T00:00:00Z").await;
    let mbx = format!("/v6/RestoreSessions/{sid}/organization/mailboxes/{NANCY}");

    // No catalog yet, whatever the backup or the explore left, so the first read indexes.
    let scope = "resource_kind = 'Mailbox'";
    sqlite(
        &db,
        &format!(
            "DELETE FROM catalog_resources WHERE {scope}; DELETE FROM catalog_items WHERE {scope}"
        ),
    );
    sqlite(
        &db,
        &format!(
            "CREATE TABLE test_completions (resource_id TEXT NOT NULL);
             CREATE TRIGGER test_count_completions AFTER INSERT ON catalog_resources
             WHEN NEW.{scope} BEGIN
                 INSERT INTO test_completions (resource_id) VALUES (NEW.resource_id);
             END;
             CREATE TRIGGER test_never_complete AFTER INSERT ON catalog_resources
             WHEN NEW.{scope} BEGIN
                 DELETE FROM catalog_resources
                 WHERE restore_point_id = NEW.restore_point_id
                   AND resource_kind = NEW.resource_kind AND resource_id = NEW.resource_id;
             END;"
        ),
    );
    let completions = || {
        sqlite(
            &db,
            "SELECT count(*), group_concat(DISTINCT resource_id) FROM test_completions",
        )
    };

    let busy = serde_json::json!({
        "message": "the server is busy with other catalog indexing requests; retry in 1 s"
    });
    let mut indexed = 0;
    for path in [
        format!("{mbx}/folders?parentId=null&limit=1000"),
        format!("{mbx}/items?limit=1000"),
    ] {
        let (status, retry_after, body) = get(&server, &token, &path).await;
        assert_eq!(
            (status, retry_after.as_deref(), &body),
            (StatusCode::SERVICE_UNAVAILABLE, Some("1"), &busy),
            "GET {path}"
        );
        // Indexed (and completed, then un-completed by the trigger) once per read attempt.
        indexed += READ_ATTEMPTS;
        assert_eq!(completions(), format!("{indexed}|{NANCY}"), "GET {path}");
        assert_eq!(
            sqlite(
                &db,
                &format!("SELECT count(*) FROM catalog_resources WHERE {scope}")
            ),
            "0"
        );
    }

    // Indexing completes again: the same requests answer the backed-up mailbox, indexed once
    // more and then served from the complete catalog.
    sqlite(&db, "DROP TRIGGER test_never_complete");
    let (status, retry_after, folders) = get(
        &server,
        &token,
        &format!("{mbx}/folders?parentId=null&limit=1000"),
    )
    .await;
    assert_eq!((status, retry_after), (StatusCode::OK, None), "{folders}");
    // The simulator gives every mailbox Exchange's well-known folders besides the tenant's.
    assert_eq!(
        names(&folders, "name"),
        [
            "Archive",
            "Deleted Items",
            "Drafts",
            "Inbox",
            "Junk Email",
            "Outbox",
            "Sent Items"
        ]
    );
    let (status, retry_after, items) =
        get(&server, &token, &format!("{mbx}/items?limit=1000")).await;
    assert_eq!((status, retry_after), (StatusCode::OK, None), "{items}");
    assert_eq!(
        names(&items, "subject"),
        [
            "Plan",
            "Quarterly report 0",
            "Quarterly report 1",
            "Quarterly report 2"
        ]
    );
    assert_eq!(
        mailbox_state(&server, &token, &sid, NANCY).await,
        [
            "/Inbox/Projects: Plan",
            "/Inbox: Quarterly report 0",
            "/Inbox: Quarterly report 1",
            "/Inbox: Quarterly report 2",
        ]
    );
    assert_eq!(completions(), format!("{}|{NANCY}", indexed + 1));
    assert_eq!(
        sqlite(
            &db,
            &format!("SELECT count(*) FROM catalog_resources WHERE {scope}")
        ),
        "1"
    );
    server.stop().await;
    drop(dir);
}
