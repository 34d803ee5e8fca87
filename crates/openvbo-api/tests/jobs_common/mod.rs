//! What the job tests share: a tenant with mail, the organization and
//! repository every flow starts from, and waiting for a run to end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    dead_code,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

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
    manual_job(
        server,
        token,
        org,
        repo,
        &format!("Mail of {}", users.len()),
        items,
    )
    .await
}

/// A manual job of `org` on `repo` backing up `items` (v6 `selectedItems`).
pub async fn manual_job(
    server: &Server,
    token: &str,
    org: &str,
    repo: &str,
    name: &str,
    items: Vec<Value>,
) -> String {
    let (status, job) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/Organizations/{org}/Jobs"),
        Some(json!({
            "name": name, "backupType": "SelectedItems",
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

/// A restore session on the state of `org` at `at` (a point's backupTime).
pub async fn explore_at(server: &Server, token: &str, org: &str, kind: &str, at: &str) -> String {
    let (status, session) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/Organizations/{org}/explore"),
        Some(json!({"type": kind, "dateTime": at})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    session["id"].as_str().unwrap().to_owned()
}

fn listed(page: &Value) -> Vec<Value> {
    page["results"].as_array().unwrap().clone()
}

/// Every message of a mailbox as a restore session shows it:
/// `folder/path: subject`, sorted.
pub async fn mailbox_state(server: &Server, token: &str, session: &str, user: &str) -> Vec<String> {
    let mbx = format!("/v6/RestoreSessions/{session}/organization/mailboxes/{user}");
    let mut out = Vec::new();
    let mut todo = vec![("null".to_owned(), String::new())];
    while let Some((parent, path)) = todo.pop() {
        let folders = get_ok(
            server,
            token,
            &format!("{mbx}/folders?parentId={parent}&limit=1000"),
        )
        .await;
        for f in listed(&folders) {
            let id = f["id"].as_str().unwrap().to_owned();
            let here = format!("{path}/{}", f["name"].as_str().unwrap());
            let items = get_ok(
                server,
                token,
                &format!("{mbx}/items?folderId={id}&limit=1000"),
            )
            .await;
            for i in listed(&items) {
                out.push(format!("{here}: {}", i["subject"].as_str().unwrap()));
            }
            todo.push((id, here));
        }
    }
    out.sort();
    out
}

/// Every file of a OneDrive as a restore session shows it: its path, sorted.
pub async fn onedrive_state(
    server: &Server,
    token: &str,
    session: &str,
    user: &str,
) -> Vec<String> {
    let od = format!("/v6/RestoreSessions/{session}/Organization/OneDrives/{user}");
    let mut out = Vec::new();
    let mut todo = vec![("null".to_owned(), String::new())];
    while let Some((parent, path)) = todo.pop() {
        let docs = get_ok(
            server,
            token,
            &format!("{od}/Documents?parentId={parent}&limit=1000"),
        )
        .await;
        for d in listed(&docs) {
            out.push(format!("{path}/{}", d["name"].as_str().unwrap()));
        }
        let folders = get_ok(
            server,
            token,
            &format!("{od}/Folders?parentId={parent}&limit=1000"),
        )
        .await;
        for f in listed(&folders) {
            let here = format!("{path}/{}", f["name"].as_str().unwrap());
            out.push(format!("{here}/"));
            todo.push((f["id"].as_str().unwrap().to_owned(), here));
        }
    }
    out.sort();
    out
}

/// The restore points of `job`, oldest first.
pub async fn points_of(server: &Server, token: &str, job: &str) -> Vec<Value> {
    let (status, points) = call(
        server,
        token,
        Method::GET,
        &format!("/v6/RestorePoints?jobId={job}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{points}");
    let mut points = points.as_array().unwrap().clone();
    points.sort_by_key(|p| p["backupTime"].as_str().unwrap().to_owned());
    points
}

/// A simulator with `options` on an ephemeral port (the common `Sim` runs
/// with the defaults); stops when dropped.
pub struct SimWith {
    pub sim: m365_sim::Simulator,
    pub url: url::Url,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl SimWith {
    pub async fn start(tenants: Vec<m365_sim::Tenant>, options: m365_sim::SimOptions) -> SimWith {
        let sim = m365_sim::Simulator::new(tenants, options).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = url::Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(sim.clone().serve(listener, async {
            let _ = stopped.await;
        }));
        SimWith {
            sim,
            url,
            _stop: stop,
        }
    }
}

impl SimUrl for SimWith {
    fn sim_url(&self) -> &url::Url {
        &self.url
    }
}

/// Explores the organization's latest backup (`Vex`) and downloads the message with this
/// subject from `user`'s Inbox as EML (the Inbox must hold 3 messages).
pub async fn inbox_message_eml(
    server: &Server,
    token: &str,
    org: &str,
    user: &str,
    subject: &str,
) -> Vec<u8> {
    let (status, session) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/Organizations/{org}/explore"),
        Some(json!({"type": "vex"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let sid = session["id"].as_str().unwrap();
    let mbx = format!("/v6/RestoreSessions/{sid}/organization/mailboxes/{user}");
    let top = get_ok(server, token, &format!("{mbx}/folders?parentId=null")).await;
    let inbox = top["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Inbox")
        .unwrap_or_else(|| panic!("no Inbox in {top}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let items = get_ok(server, token, &format!("{mbx}/items?folderId={inbox}")).await;
    let listed = items["results"].as_array().unwrap();
    assert_eq!(listed.len(), 3, "{items}");
    let item = listed
        .iter()
        .find(|i| i["subject"] == subject)
        .unwrap_or_else(|| panic!("{items}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let eml = server
        .client
        .post(server.url(&format!("{mbx}/items/{item}/save")))
        .bearer_auth(token)
        .header("Content-Type", "application/json")
        .header("Accept", "message/rfc822")
        .send()
        .await
        .unwrap();
    assert_eq!(eml.status(), StatusCode::OK);
    eml.bytes().await.unwrap().to_vec()
}
