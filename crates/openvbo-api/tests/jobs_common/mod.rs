//! What the job tests share: a tenant with mail, the organization and
//! repository every flow starts from, and waiting for a run to end.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

pub const NANCY: &str = "00000000-0000-4000-8000-000001000001";
pub const ANDREW: &str = "00000000-0000-4000-8000-000001000002";

/// contoso: an administrator, Nancy (4 messages in two folders) and
/// Andrew (2 messages).
pub fn tenant_with_mail() -> m365_sim::Tenant {
    let inbox: Vec<Value> = (0..3)
        .map(|n| json!({"subject": format!("Quarterly report {n}"), "from": "boss@contoso.com", "to": ["nancy@contoso.onmicrosoft.com"], "body": format!("body {n} ").repeat(40)}))
        .collect();
    tenant(
        1,
        "contoso",
        &[
            ("admin", &["Global Administrator"], json!({})),
            (
                "nancy",
                &[],
                json!({"displayName": "Nancy Davolio", "mailFolders": [
                    {"displayName": "Inbox", "wellKnownName": "inbox", "messages": inbox,
                     "childFolders": [{"displayName": "Projects", "messages": [{"subject": "Plan", "from": "x@contoso.com", "body": "p"}]}]}
                ]}),
            ),
            (
                "andrew",
                &[],
                json!({"displayName": "Andrew Fuller", "mailFolders": [
                    {"displayName": "Inbox", "wellKnownName": "inbox", "messages": [
                        {"subject": "Hello", "from": "x@contoso.com", "body": "hello ".repeat(100)},
                        {"subject": "Again", "from": "x@contoso.com", "body": "again"}
                    ]}
                ]}),
            ),
        ],
    )
}

pub async fn call(
    server: &Server,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    server.call(method, path, token, body).await
}

pub async fn get_ok(server: &Server, token: &str, path: &str) -> Value {
    let (status, body) = call(server, token, Method::GET, path, None).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body
}

/// The organization (contoso) and a local repository under `dir` (not the
/// server's data dir: a repository may not lie inside it).
pub async fn organization_and_repository(
    server: &Server,
    token: &str,
    dir: &std::path::Path,
) -> (String, String) {
    let (status, org) = server
        .add(
            token,
            seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let repo_path = dir.join("repo");
    let (status, repo) = call(
        server,
        token,
        Method::POST,
        "/v6/BackupRepositories",
        Some(json!({
            "name": "Mail", "path": repo_path.to_str().unwrap(), "retentionType": "SnapshotBased",
            "retentionPeriodType": "Yearly", "yearlyRetentionPeriod": "Year1"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{repo}");
    (
        org["id"].as_str().unwrap().to_owned(),
        repo["id"].as_str().unwrap().to_owned(),
    )
}

/// A manual job of `org` on `repo` backing up the mailboxes of `users`.
pub async fn mailbox_job(
    server: &Server,
    token: &str,
    org: &str,
    repo: &str,
    users: &[&str],
) -> String {
    let items: Vec<Value> = users
        .iter()
        .map(|u| json!({"type": "User", "user": {"id": u}, "mailbox": true}))
        .collect();
    let (status, job) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/Organizations/{org}/Jobs"),
        Some(json!({
            "name": format!("Mail of {}", users.len()), "backupType": "SelectedItems",
            "repositoryId": repo, "selectedItems": items, "schedulePolicy": {"type": "ManualOnly"}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    job["id"].as_str().unwrap().to_owned()
}

/// Waits until `job` has `runs` sessions and the newest has ended; returns
/// it. A running session never shows an `endTime`.
pub async fn finished_session(server: &Server, token: &str, job: &str, runs: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = get_ok(server, token, &format!("/v6/Jobs/{job}/JobSessions")).await;
        let results = page["results"].as_array().unwrap();
        if results.len() >= runs && results[0]["status"] != "Running" {
            return results[0].clone();
        }
        if let Some(running) = results.first().filter(|s| s["status"] == "Running") {
            assert!(
                running.get("endTime").is_none(),
                "a running session has no endTime: {running}"
            );
        }
        assert!(Instant::now() < deadline, "the session did not end: {page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts `job` (204) and waits for its `runs`th session to end.
pub async fn run(server: &Server, token: &str, job: &str, runs: usize) -> Value {
    let (status, body) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/Jobs/{job}/start"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    finished_session(server, token, job, runs).await
}

/// The titles of a session's log, in `usn` order.
pub async fn log_titles(server: &Server, token: &str, session: &str) -> Vec<String> {
    let log = get_ok(
        server,
        token,
        &format!("/v6/JobSessions/{session}/LogItems?limit=1000"),
    )
    .await;
    let items = log["results"].as_array().unwrap();
    let usns: Vec<i64> = items.iter().map(|l| l["usn"].as_i64().unwrap()).collect();
    assert!(usns.windows(2).all(|w| w[0] < w[1]), "usn rises: {usns:?}");
    items
        .iter()
        .map(|l| l["title"].as_str().unwrap().to_owned())
        .collect()
}
