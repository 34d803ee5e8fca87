//! OneDrive browsing reads the catalog, not the snapshot, over HTTPS from a real backup: a
//! drive of 120 files in nested folders is listed in pages of 30 whose windows are disjoint
//! and cover every file once, in path order (folder path compared name by name, then name);
//! the listings are the same after the snapshot's blobs are gone from the repository (while a
//! folder's save, which reads the snapshot, fails); a catalog dropped by a clean-up, or left
//! half-written by an interrupted indexing, is indexed again rather than shown in part.
//!
//! The catalog is changed behind the server's back with Python's sqlite3 (an independent
//! reader and writer of the server's database), as a clean-up or a crash would leave it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;
mod drive_common;

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use drive_common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const NANCY: &str = "00000000-0000-4000-8000-000001000001";
const PAGE: usize = 30;

/// The folders of the drive and how many files each holds ("" is the top level). `A B`
/// sorts after `A/B` (a folder's subtree follows it), though ' ' is below '/'.
const FOLDERS: [(&str, usize); 5] = [
    ("", 20),
    ("A", 40),
    ("A/B", 30),
    ("A B", 20),
    ("Z/deep/er", 10),
];

/// Every file as (folder, name), in creation order; names are numbered against the
/// order they are created in, so that neither creation nor id order is the path order.
fn files() -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut n = 0usize;
    for (folder, count) in FOLDERS {
        for _ in 0..count {
            // 120 files: 7 is prime to 120, so k runs over 0..120 once, shuffled.
            let k = (n * 7 + 3) % 120;
            out.push((folder, format!("n{k:03}.txt")));
            n += 1;
        }
    }
    out
}

/// The file names as path order lists them: by folder path, name by name, then name.
fn expected_order() -> Vec<String> {
    let mut all = files();
    all.sort_by(|a, b| {
        let path = |f: &str| -> Vec<String> {
            f.split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        (path(a.0), &a.1).cmp(&(path(b.0), &b.1))
    });
    all.into_iter().map(|(_, name)| name).collect()
}

fn tenant_with_drive() -> m365_sim::Tenant {
    let items: Vec<Value> = files()
        .into_iter()
        .map(|(folder, name)| {
            let path = if folder.is_empty() {
                name.clone()
            } else {
                format!("{folder}/{name}")
            };
            json!({"path": path, "content": format!("bytes of {path}")})
        })
        .collect();
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

async fn get(server: &Server, token: &str, path: &str) -> Value {
    let (status, body) = server.call(Method::GET, path, token, None).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body
}

/// An organization, a repository (in `repo`) and a finished backup of Nancy's OneDrive.
async fn backed_up(server: &Server, repo: &Path, token: &str) -> String {
    let (status, org) = server
        .add(
            token,
            seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let (status, repository) = server
        .call(
            Method::POST,
            "/v6/BackupRepositories",
            token,
            Some(json!({
                "name": "Drives", "path": repo.to_str().unwrap(), "retentionType": "SnapshotBased",
                "retentionPeriodType": "Yearly", "yearlyRetentionPeriod": "Year1"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{repository}");
    let (status, job) = server
        .call(
            Method::POST,
            &format!("/v6/Organizations/{}/Jobs", org["id"].as_str().unwrap()),
            token,
            Some(json!({
                "name": "OneDrive", "backupType": "SelectedItems", "repositoryId": repository["id"],
                "selectedItems": [{"type": "User", "user": {"id": NANCY}, "oneDrive": true}],
                "schedulePolicy": {"type": "ManualOnly"}
            })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    let job_id = job["id"].as_str().unwrap();
    let (status, body) = server
        .call(
            Method::POST,
            &format!("/v6/Jobs/{job_id}/start"),
            token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let page = get(server, token, &format!("/v6/Jobs/{job_id}/JobSessions")).await;
        let results = page["results"].as_array().unwrap();
        if !results.is_empty() && results[0]["status"] != "Running" {
            assert_eq!(results[0]["status"], "Success", "{page}");
            break;
        }
        assert!(Instant::now() < deadline, "the backup did not end: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    org["id"].as_str().unwrap().to_owned()
}

/// Every document of the drive, read in pages of [`PAGE`] by offset: the names in order,
/// after checking that each page is full but the last, says whether more follow, and that
/// no id comes twice.
async fn documents_in_pages(server: &Server, token: &str, od: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut ids = HashSet::new();
    let mut pages = 0;
    loop {
        let page = get(
            server,
            token,
            &format!("{od}/Documents?offset={}&limit={PAGE}", names.len()),
        )
        .await;
        pages += 1;
        let results = page["results"].as_array().unwrap();
        for r in results {
            assert!(
                ids.insert(r["id"].as_str().unwrap().to_owned()),
                "twice: {r}"
            );
            names.push(r["name"].as_str().unwrap().to_owned());
        }
        let more = page["_links"]["next"].is_object();
        if !more {
            break;
        }
        assert_eq!(
            results.len(),
            PAGE,
            "a page before the last is full: {page}"
        );
        assert!(pages < 10, "paging must end");
    }
    assert_eq!(pages, 4, "120 documents in pages of 30");
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drive_pages_come_from_the_catalog_in_path_order() {
    let repo_dir = tempfile::tempdir().unwrap();
    let repo = repo_dir.path().join("repo");
    let (dir, _sim, server) = start_with(vec![tenant_with_drive()], |_| {}).await;
    let db = dir.path().join("openvbo.db");
    let token = server.token().await;
    let org = backed_up(&server, &repo, &token).await;
    let (status, session) = server
        .call(
            Method::POST,
            &format!("/v6/Organizations/{org}/explore"),
            &token,
            Some(json!({"type": "Veod"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let base = format!(
        "/v6/RestoreSessions/{}/Organization/OneDrives",
        session["id"].as_str().unwrap()
    );
    let drives = get(&server, &token, &base).await;
    let od = format!("{base}/{}", id_named(&drives, "Nancy Davolio"));

    // Folders: the whole tree in path order, a subtree right after its folder.
    let tree = get(&server, &token, &format!("{od}/Folders")).await;
    assert_eq!(names(&tree), ["A", "B", "A B", "Z", "deep", "er"], "{tree}");
    let a = id_named(&tree, "A").to_owned();

    // Documents: pages of 30 that are disjoint, cover all 120 once, in path order.
    let expected = expected_order();
    assert_eq!(expected.len(), 120);
    let listed = documents_in_pages(&server, &token, &od).await;
    assert_eq!(listed, expected);
    // A folder's own files, by name, across a page boundary.
    let first = get(
        &server,
        &token,
        &format!("{od}/Documents?parentId={a}&limit={PAGE}"),
    )
    .await;
    let rest = get(
        &server,
        &token,
        &format!("{od}/Documents?parentId={a}&offset={PAGE}&limit={PAGE}"),
    )
    .await;
    assert!(first["_links"]["next"].is_object(), "{first}");
    assert!(rest["_links"].get("next").is_none(), "{rest}");
    let mut in_a: Vec<String> = names(&first).into_iter().map(str::to_owned).collect();
    in_a.extend(names(&rest).into_iter().map(str::to_owned));
    let mut want: Vec<String> = files()
        .into_iter()
        .filter(|(f, _)| *f == "A")
        .map(|(_, n)| n)
        .collect();
    want.sort();
    assert_eq!(in_a, want);

    // The catalog indexed once: one complete resource, one entry per folder and file.
    let scope = "resource_kind = 'OneDrive'";
    let counts = || {
        sqlite(
            &db,
            &format!(
                "SELECT (SELECT count(*) FROM catalog_resources WHERE {scope}), \
                 (SELECT count(*) FROM catalog_items WHERE {scope})"
            ),
        )
    };
    assert_eq!(counts(), "1|126");

    // Dropped, as an item-level clean-up drops it: indexed again, the same pages.
    sqlite(
        &db,
        &format!(
            "DELETE FROM catalog_resources WHERE {scope}; DELETE FROM catalog_items WHERE {scope}"
        ),
    );
    assert_eq!(counts(), "0|0");
    assert_eq!(documents_in_pages(&server, &token, &od).await, expected);
    assert_eq!(counts(), "1|126");

    // Half-written and not complete, as an interrupted indexing leaves it: never shown as the
    // drive; cleared and indexed again.
    sqlite(
        &db,
        &format!(
            "DELETE FROM catalog_resources WHERE {scope}; \
             DELETE FROM catalog_items WHERE {scope} AND kind = 'File' AND name >= 'n060'"
        ),
    );
    assert_eq!(counts(), "0|66");
    let tree_again = get(&server, &token, &format!("{od}/Folders")).await;
    assert_eq!(names(&tree_again), names(&tree));
    assert_eq!(counts(), "1|126");
    assert_eq!(documents_in_pages(&server, &token, &od).await, expected);

    // The snapshot's blobs gone: listings and lookups still answer from the catalog, while a
    // folder's save, which reads the snapshot, cannot.
    let one = get(&server, &token, &format!("{od}/Documents?limit=1")).await;
    let one_id = one["results"][0]["id"].as_str().unwrap().to_owned();
    // (Backups put their tree blobs into data packs; `meta/` holds only what repack gathered.)
    for blobs in ["meta", "data"] {
        let from = repo.join(blobs);
        if blobs == "meta" && !from.exists() {
            continue;
        }
        std::fs::rename(from, repo_dir.path().join(format!("gone-{blobs}"))).unwrap();
    }
    let (status, _, body) =
        download(&server, &token, &format!("{od}/Folders/{a}/save"), None).await;
    assert!(
        !status.is_success(),
        "the snapshot is unreadable: {status} {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(documents_in_pages(&server, &token, &od).await, expected);
    assert_eq!(
        names(&get(&server, &token, &format!("{od}/Folders")).await),
        names(&tree)
    );
    let by_id = get(&server, &token, &format!("{od}/Documents/{one_id}")).await;
    assert_eq!(by_id["name"], expected[0].as_str());
    assert_eq!(
        by_id["sizeBytes"],
        format!("bytes of {}", expected[0]).len()
    );
}
