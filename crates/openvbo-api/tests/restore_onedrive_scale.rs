//! OneDrive restore at size, from real backups over HTTPS: a folder of 1,000 files restored
//! after it was deleted, and a 1 GiB folder downloaded as a zip while the process's resident
//! memory stays within 64 MB of where it started.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const NANCY: &str = "00000000-0000-4000-8000-000001000001";
const FILES: usize = 1000;

fn tenant_with(items: Vec<Value>) -> m365_sim::Tenant {
    tenant(
        1,
        "contoso",
        &[
            ("admin", &["Global Administrator"], json!({})),
            (
                "nancy",
                &[],
                json!({"displayName": "Nancy Davolio", "driveItems": items}),
            ),
        ],
    )
}

async fn call(
    server: &Server,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    server.call(method, path, token, body).await
}

/// An organization, a repository and a finished backup of Nancy's OneDrive.
async fn backed_up(server: &Server, dir: &tempfile::TempDir, token: &str) -> String {
    let (status, org) = server
        .add(
            token,
            seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let org_id = org["id"].as_str().unwrap().to_owned();
    let (status, repo) = call(
        server,
        token,
        Method::POST,
        "/v6/BackupRepositories",
        Some(json!({
            "name": "Drives", "path": dir.path().join("repo").to_str().unwrap(), "retentionType": "SnapshotBased",
            "retentionPeriodType": "Yearly", "yearlyRetentionPeriod": "Year1"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{repo}");
    let (status, job) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/Organizations/{org_id}/Jobs"),
        Some(json!({
            "name": "OneDrive", "backupType": "SelectedItems", "repositoryId": repo["id"],
            "selectedItems": [{"type": "User", "user": {"id": NANCY}, "oneDrive": true}],
            "schedulePolicy": {"type": "ManualOnly"}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    let job_id = job["id"].as_str().unwrap().to_owned();
    let (status, _) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/Jobs/{job_id}/start"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let (_, page) = call(
            server,
            token,
            Method::GET,
            &format!("/v6/Jobs/{job_id}/JobSessions"),
            None,
        )
        .await;
        let first = &page["results"][0];
        if first.is_object() && first["status"] != "Running" {
            assert_eq!(first["status"], "Success", "{first}");
            break;
        }
        assert!(Instant::now() < deadline, "the backup did not end: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    org_id
}

/// The session's OneDrive path and the id of its top-level folder `name`.
async fn folder_of(server: &Server, token: &str, org_id: &str, name: &str) -> (String, String) {
    let (status, session) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/Organizations/{org_id}/explore"),
        Some(json!({"type": "Veod"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let base = format!(
        "/v6/RestoreSessions/{}/Organization/OneDrives",
        session["id"].as_str().unwrap()
    );
    let (_, drives) = call(server, token, Method::GET, &base, None).await;
    let od = format!("{base}/{}", drives["results"][0]["id"].as_str().unwrap());
    let (_, top) = call(
        server,
        token,
        Method::GET,
        &format!("{od}/Folders?parentId=null"),
        None,
    )
    .await;
    let folder = top["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no {name}: {top}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (od, folder)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_folder_of_a_thousand_files_is_restored() {
    // 1,000 uploads cost 2,000 SharePoint resource units: a large tenant's budget.
    std::env::set_var("OPENVBO_DRIVE_RESTORE_UNITS_PER_MINUTE", "100000");
    let items: Vec<Value> = (0..FILES)
        .map(
            |i| json!({"path": format!("Bulk/f{i:04}.txt"), "content": format!("file number {i}")}),
        )
        .collect();
    let repo_dir = tempfile::tempdir().unwrap();
    let (_dir, sim, server) = start_with(vec![tenant_with(items)], |_| {}).await;
    let token = server.token().await;
    let org_id = backed_up(&server, &repo_dir, &token).await;
    let graph = Graph::new(&sim).await;
    let drive = graph.drive_of(NANCY).await;
    graph.delete(&drive, "Bulk").await;

    let (od, bulk) = folder_of(&server, &token, &org_id, "Bulk").await;
    let started = Instant::now();
    let (status, stats) = call(
        &server,
        &token,
        Method::POST,
        &format!("{od}/Folders/{bulk}/restore"),
        Some(json!({"documentAction": "Keep"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["totalItemsCount"], FILES, "{stats}");
    assert_eq!(stats["restoredItemsCount"], FILES, "{stats}");
    assert_eq!(stats["failedItemsCount"], 0, "{stats}");
    eprintln!("1,000 files restored in {:?}", started.elapsed());

    // Every file is back with its own bytes.
    let expected: Vec<String> = (0..FILES).map(|i| format!("f{i:04}.txt")).collect();
    assert_eq!(graph.children(&drive, "Bulk").await, expected);
    for i in [0, 517, FILES - 1] {
        let bytes = graph.read(&drive, &format!("Bulk/f{i:04}.txt")).await;
        assert_eq!(bytes.unwrap(), format!("file number {i}").as_bytes());
    }
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Backs up 1 GiB and downloads it again: about 6 minutes in a debug build on two cores, so
/// it runs on demand (`cargo test -p openvbo-api --test restore_onedrive_scale -- --ignored`).
/// Measured 2026-12-02: RSS 149 MiB before, peak 153 MiB while 1,024 MiB streamed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "1 GiB backup and download: minutes in a debug build; run with --ignored"]
async fn a_one_gigabyte_folder_zip_streams_in_bounded_memory() {
    const PARTS: u64 = 8;
    const PART: u64 = 128 * 1024 * 1024;
    let items: Vec<Value> = (0..PARTS)
        .map(|i| json!({"path": format!("Video/part{i}.bin"), "size": PART, "seed": i + 1}))
        .collect();
    let repo_dir = tempfile::tempdir().unwrap();
    let (_dir, _sim, server) = start_with(vec![tenant_with(items)], |_| {}).await;
    let token = server.token().await;
    let org_id = backed_up(&server, &repo_dir, &token).await;
    let (od, video) = folder_of(&server, &token, &org_id, "Video").await;

    let before = rss_bytes();
    let response = server
        .client
        .post(server.url(&format!("{od}/Folders/{video}/save")))
        .bearer_auth(&token)
        .timeout(Duration::from_secs(600))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.bytes_stream();
    let mut total = 0u64;
    let mut peak = before;
    let mut chunks = 0u64;
    while let Some(chunk) = body.next().await {
        total += chunk.unwrap().len() as u64;
        chunks += 1;
        if chunks.is_multiple_of(64) {
            peak = peak.max(rss_bytes());
        }
    }
    peak = peak.max(rss_bytes());
    assert!(total > PARTS * PART, "the zip holds every byte: {total}");
    let growth = peak.saturating_sub(before);
    eprintln!(
        "zip of {} MiB streamed; RSS {} MiB → peak {} MiB",
        total >> 20,
        before >> 20,
        peak >> 20
    );
    assert!(
        growth < 64 * 1024 * 1024,
        "RSS grew by {} MiB while streaming",
        growth >> 20
    );
}
