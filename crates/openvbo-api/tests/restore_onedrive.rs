//! OneDrive restore over HTTPS against the simulator, from real backups (jobs through the v6
//! API): browsing a `Veod` session, downloads equal to the backed-up bytes (raw and zip),
//! restores to the original place with `Keep` and `Overwrite`, a deleted folder restored
//! whole (a large file through an upload session), a copy into another user's OneDrive, and
//! the refusals.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;
mod drive_common;

use std::time::{Duration, Instant};

use common::*;
use drive_common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const NANCY: &str = "00000000-0000-4000-8000-000001000001";
const BOB: &str = "00000000-0000-4000-8000-000001000002";
const BIG: u64 = 6_000_000;

fn tenant_with_drives() -> m365_sim::Tenant {
    tenant(
        1,
        "contoso",
        &[
            ("admin", &["Global Administrator"], json!({})),
            (
                "nancy",
                &[],
                json!({"displayName": "Nancy Davolio", "driveItems": [
                    {"path": "readme.txt", "content": "top level"},
                    {"path": "Documents/plan.txt", "content": "the original plan"},
                    {"path": "Documents/Q3/report.txt", "content": "Q3 was good"},
                    {"path": "Documents/Q3/Deep/big.bin", "size": BIG, "seed": 7},
                    {"path": "Empty folder/"}
                ]}),
            ),
            (
                "bob",
                &[],
                json!({"displayName": "Bob Smith", "driveItems": [{"path": "mine.txt", "content": "bob's"}]}),
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

/// Waits until the newest session of `job` has ended; returns it.
async fn finished_session(server: &Server, token: &str, job: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, page) = call(
            server,
            token,
            Method::GET,
            &format!("/v6/Jobs/{job}/JobSessions"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let results = page["results"].as_array().unwrap();
        if !results.is_empty() && results[0]["status"] != "Running" {
            return results[0].clone();
        }
        assert!(Instant::now() < deadline, "the backup did not end: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An organization, a repository and a backup of the OneDrives of `users`.
pub async fn backed_up(
    server: &Server,
    dir: &tempfile::TempDir,
    token: &str,
    users: &[&str],
) -> String {
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
    let selected: Vec<Value> = users
        .iter()
        .map(|id| json!({"type": "User", "user": {"id": id}, "oneDrive": true}))
        .collect();
    let (status, job) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/Organizations/{org_id}/Jobs"),
        Some(json!({
            "name": "OneDrives", "backupType": "SelectedItems", "repositoryId": repo["id"],
            "selectedItems": selected, "schedulePolicy": {"type": "ManualOnly"}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    let job_id = job["id"].as_str().unwrap().to_owned();
    let (status, body) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/Jobs/{job_id}/start"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let session = finished_session(server, token, &job_id).await;
    assert_eq!(session["status"], "Success", "{session}");
    org_id
}

async fn explore(server: &Server, token: &str, org_id: &str) -> String {
    let (status, session) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/Organizations/{org_id}/explore"),
        Some(json!({"type": "Veod"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["type"], "Veod");
    session["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onedrive_browse_download_restore_and_copy() {
    let repo_dir = tempfile::tempdir().unwrap();
    let (_dir, sim, server) = start_with(vec![tenant_with_drives()], |_| {}).await;
    let token = server.token().await;
    let org_id = backed_up(&server, &repo_dir, &token, &[NANCY, BOB]).await;
    let graph = Graph::new(&sim).await;
    let nancy_drive = graph.drive_of(NANCY).await;
    let bob_drive = graph.drive_of(BOB).await;
    let original_big = graph
        .read(&nancy_drive, "Documents/Q3/Deep/big.bin")
        .await
        .unwrap();
    assert_eq!(original_big.len() as u64, BIG);

    // After the backup: a file changed, a folder deleted.
    graph
        .write(
            &nancy_drive,
            "Documents/plan.txt",
            b"changed after the backup",
        )
        .await;
    graph.delete(&nancy_drive, "Documents/Q3").await;

    let session = explore(&server, &token, &org_id).await;
    let base = format!("/v6/RestoreSessions/{session}/Organization/OneDrives");
    let (status, drives) = call(&server, &token, Method::GET, &base, None).await;
    assert_eq!(status, StatusCode::OK, "{drives}");
    assert_eq!(drives["totalCount"], 2, "{drives}");
    let mut shown = names(&drives);
    shown.sort();
    assert_eq!(shown, ["Bob Smith", "Nancy Davolio"], "{drives}");
    let nancy = id_named(&drives, "Nancy Davolio").to_owned();
    let bob = id_named(&drives, "Bob Smith").to_owned();
    let od = format!("{base}/{nancy}");
    let (status, one) = call(&server, &token, Method::GET, &od, None).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["id"], nancy.as_str());
    assert!(one["_links"]["documents"]["href"].is_string(), "{one}");

    // Folders: the top level (null and root alike), the whole tree, children, by id.
    let (_, top) = call(
        &server,
        &token,
        Method::GET,
        &format!("{od}/Folders?parentId=null"),
        None,
    )
    .await;
    assert_eq!(names(&top), ["Documents", "Empty folder"], "{top}");
    let (_, root) = call(
        &server,
        &token,
        Method::GET,
        &format!("{od}/folders?parentId=root"),
        None,
    )
    .await;
    assert_eq!(names(&root), names(&top));
    for folder in top["results"].as_array().unwrap() {
        assert!(folder["_links"].get("parent").is_none(), "{folder}");
        for field in [
            "createdBy",
            "creationTime",
            "modifiedBy",
            "modificationTime",
        ] {
            assert!(folder.get(field).is_some(), "{field} missing: {folder}");
        }
    }
    let (_, tree) = call(&server, &token, Method::GET, &format!("{od}/Folders"), None).await;
    assert_eq!(
        names(&tree),
        ["Documents", "Q3", "Deep", "Empty folder"],
        "{tree}"
    );
    let documents_id = id_named(&top, "Documents").to_owned();
    let q3_id = id_named(&tree, "Q3").to_owned();
    let (_, children) = call(
        &server,
        &token,
        Method::GET,
        &format!("{od}/Folders?parentID={documents_id}"),
        None,
    )
    .await;
    assert_eq!(names(&children), ["Q3"]);
    let (status, q3) = call(
        &server,
        &token,
        Method::GET,
        &format!("{od}/Folders/{q3_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{q3}");
    assert!(
        q3["_links"]["parent"]["href"]
            .as_str()
            .unwrap()
            .ends_with(&documents_id),
        "{q3}"
    );

    // Documents: the top level, a folder's, all of them, paged, by id.
    let (_, top_docs) = call(
        &server,
        &token,
        Method::GET,
        &format!("{od}/Documents?parentId=null"),
        None,
    )
    .await;
    assert_eq!(names(&top_docs), ["readme.txt"], "{top_docs}");
    let (_, docs) = call(
        &server,
        &token,
        Method::GET,
        &format!("{od}/Documents?parentId={documents_id}"),
        None,
    )
    .await;
    assert_eq!(names(&docs), ["plan.txt"], "{docs}");
    let plan = docs["results"][0].clone();
    assert_eq!(plan["sizeBytes"], "the original plan".len());
    for field in [
        "id",
        "name",
        "sizeBytes",
        "createdBy",
        "creationTime",
        "modifiedBy",
        "modificationTime",
    ] {
        assert!(plan.get(field).is_some(), "{field} missing: {plan}");
    }
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    let (_, all) = call(
        &server,
        &token,
        Method::GET,
        &format!("{od}/Documents?limit=2"),
        None,
    )
    .await;
    assert_eq!(all["results"].as_array().unwrap().len(), 2, "{all}");
    assert!(all["_links"]["next"].is_object(), "{all}");
    let (_, rest) = call(
        &server,
        &token,
        Method::GET,
        &format!("{od}/Documents?offset=2&limit=10"),
        None,
    )
    .await;
    let mut every: Vec<&str> = names(&all);
    every.extend(names(&rest));
    every.sort();
    assert_eq!(every, ["big.bin", "plan.txt", "readme.txt", "report.txt"]);
    let (status, by_id) = call(
        &server,
        &token,
        Method::GET,
        &format!("{od}/Documents/{plan_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id["name"], "plan.txt");

    // Downloads equal the backed-up bytes: raw, zipped, a folder, the whole OneDrive.
    let (status, disposition, bytes) = download(
        &server,
        &token,
        &format!("{od}/Documents/{plan_id}/save"),
        Some(json!({"asZip": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, b"the original plan");
    assert!(disposition.contains("plan.txt"), "{disposition}");
    let (_, _, empty_body) = download(
        &server,
        &token,
        &format!("{od}/Documents/{plan_id}/save"),
        None,
    )
    .await;
    assert_eq!(empty_body, b"the original plan");
    let (status, disposition, zip) = download(
        &server,
        &token,
        &format!("{od}/Documents/{plan_id}/save"),
        Some(json!({"asZip": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(disposition.contains(".zip"), "{disposition}");
    assert_eq!(
        unzip(&zip),
        [("plan.txt".to_owned(), b"the original plan".to_vec())]
    );
    let (status, _, zip) = download(
        &server,
        &token,
        &format!("{od}/Folders/{documents_id}/save"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let entries = unzip(&zip);
    let listed: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        listed,
        [
            "Documents/Q3/Deep/big.bin",
            "Documents/Q3/report.txt",
            "Documents/plan.txt"
        ]
    );
    assert_eq!(entries[0].1, original_big);
    assert_eq!(entries[1].1, b"Q3 was good");
    let (status, _, zip) = download(&server, &token, &format!("{od}/save"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(unzip(&zip).len(), 4);
    let (status, _, zip) = download(
        &server,
        &token,
        &format!("{od}/Documents/save"),
        Some(json!({"documents": [{"id": plan_id}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(unzip(&zip)[0].1, b"the original plan");

    // Keep: the changed file stays, the backed-up one comes back beside it.
    let (status, stats) = call(
        &server,
        &token,
        Method::POST,
        &format!("{od}/Documents/{plan_id}/restore"),
        Some(json!({"documentAction": "Keep"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["totalItemsCount"], 1, "{stats}");
    assert_eq!(stats["restoredItemsCount"], 1, "{stats}");
    assert_eq!(stats["failedItemsCount"], 0, "{stats}");
    assert_eq!(
        graph
            .read(&nancy_drive, "Documents/plan.txt")
            .await
            .unwrap(),
        b"changed after the backup"
    );
    assert_eq!(
        graph
            .read(&nancy_drive, "Documents/plan 1.txt")
            .await
            .unwrap(),
        b"the original plan"
    );
    // Overwrite: the original bytes in place.
    let (status, stats) = call(
        &server,
        &token,
        Method::POST,
        &format!("{od}/Documents/restore"),
        Some(json!({"documentAction": "overwrite", "documents": [{"id": plan_id}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["restoredItemsCount"], 1, "{stats}");
    assert_eq!(stats["skippedItemsByNoChangesCount"], 0, "{stats}");
    assert_eq!(
        graph
            .read(&nancy_drive, "Documents/plan.txt")
            .await
            .unwrap(),
        b"the original plan"
    );
    // Keep on a file that holds the backed-up bytes again: nothing to keep apart, so no
    // third copy, and the file is not written at all (its eTag stays).
    let before = graph.item(&nancy_drive, "Documents/plan.txt").await;
    let (status, stats) = call(
        &server,
        &token,
        Method::POST,
        &format!("{od}/Documents/{plan_id}/restore"),
        Some(json!({"documentAction": "Keep"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(
        (
            &stats["totalItemsCount"],
            &stats["restoredItemsCount"],
            &stats["skippedItemsByNoChangesCount"],
            &stats["failedItemsCount"]
        ),
        (&json!(1), &json!(0), &json!(1), &json!(0)),
        "{stats}"
    );
    assert_eq!(
        graph.children(&nancy_drive, "Documents").await,
        ["plan 1.txt", "plan.txt"]
    );
    let after = graph.item(&nancy_drive, "Documents/plan.txt").await;
    assert_eq!(after["eTag"], before["eTag"], "{after}");
    assert_eq!(
        graph
            .read(&nancy_drive, "Documents/plan.txt")
            .await
            .unwrap(),
        b"the original plan"
    );

    // The deleted folder comes back whole, its large file through an upload session.
    let (status, stats) = call(
        &server,
        &token,
        Method::POST,
        &format!("{od}/Folders/{q3_id}/restore"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["totalItemsCount"], 2, "{stats}");
    assert_eq!(stats["restoredItemsCount"], 2, "{stats}");
    assert_eq!(
        graph.children(&nancy_drive, "Documents/Q3").await,
        ["Deep", "report.txt"]
    );
    assert_eq!(
        graph
            .read(&nancy_drive, "Documents/Q3/report.txt")
            .await
            .unwrap(),
        b"Q3 was good"
    );
    assert_eq!(
        graph
            .read(&nancy_drive, "Documents/Q3/Deep/big.bin")
            .await
            .unwrap(),
        original_big
    );

    // Copy to another user's OneDrive, into a folder created for it.
    let (status, stats) = call(
        &server,
        &token,
        Method::POST,
        &format!("{od}/Folders/{documents_id}/copyTo"),
        Some(json!({
            "onedrive": {"id": bob, "name": "Bob Smith"}, "folder": "From Nancy"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["restoredItemsCount"], 3, "{stats}");
    assert_eq!(
        graph.children(&bob_drive, "").await,
        ["From Nancy", "mine.txt"]
    );
    assert_eq!(
        graph
            .read(&bob_drive, "From Nancy/Documents/plan.txt")
            .await
            .unwrap(),
        b"the original plan"
    );
    assert_eq!(
        graph
            .read(&bob_drive, "From Nancy/Documents/Q3/Deep/big.bin")
            .await
            .unwrap(),
        original_big
    );
    // A whole OneDrive restored in place, overwriting: every file, and the deleted empty
    // folder comes back too.
    graph.delete(&nancy_drive, "Empty folder").await;
    let (status, stats) = call(
        &server,
        &token,
        Method::POST,
        &format!("{od}/restore"),
        Some(json!({"documentAction": "Overwrite"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    // Every file already holds its backed-up bytes (restored above, or never changed):
    // none is written again, not even the 6 MB one.
    let big_before = graph.item(&nancy_drive, "Documents/Q3/Deep/big.bin").await;
    assert_eq!(stats["totalItemsCount"], 4, "{stats}");
    assert_eq!(stats["restoredItemsCount"], 0, "{stats}");
    assert_eq!(stats["skippedItemsByNoChangesCount"], 4, "{stats}");
    assert!(graph
        .children(&nancy_drive, "")
        .await
        .contains(&"Empty folder".to_owned()));
    // Overwrite of a changed file among unchanged ones writes that one only.
    graph
        .write(&nancy_drive, "readme.txt", b"ransomware was here")
        .await;
    let (status, stats) = call(
        &server,
        &token,
        Method::POST,
        &format!("{od}/restore"),
        Some(json!({"documentAction": "Overwrite"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["restoredItemsCount"], 1, "{stats}");
    assert_eq!(stats["skippedItemsByNoChangesCount"], 3, "{stats}");
    assert_eq!(
        graph.read(&nancy_drive, "readme.txt").await.unwrap(),
        b"top level"
    );
    let big_after = graph.item(&nancy_drive, "Documents/Q3/Deep/big.bin").await;
    assert_eq!(big_after["eTag"], big_before["eTag"], "{big_after}");
    assert_eq!(
        big_after["file"]["hashes"]["quickXorHash"],
        big_before["file"]["hashes"]["quickXorHash"]
    );
    assert_eq!(
        graph
            .read(&nancy_drive, "Documents/Q3/Deep/big.bin")
            .await
            .unwrap(),
        original_big
    );

    // Each action is an event of the session.
    let (_, events) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/RestoreSessions/{session}/Events?limit=100"),
        None,
    )
    .await;
    let titles: Vec<&str> = events["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"Restored plan.txt"), "{titles:?}");
    assert!(titles.contains(&"Restored folder Q3"), "{titles:?}");
    assert!(titles.iter().any(|t| t.starts_with("Saved")), "{titles:?}");

    // Refusals, each with a message.
    let (status, body) = call(
        &server,
        &token,
        Method::GET,
        &format!("{od}/Documents/nope"),
        None,
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        &["no document", "nope"],
    );
    let (status, body) = call(
        &server,
        &token,
        Method::GET,
        &format!("{base}/nobody"),
        None,
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        &["OneDrive", "nobody"],
    );
    let (status, body) = call(
        &server,
        &token,
        Method::GET,
        &format!("{od}/Folders?parentId=nope"),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, &["no folder"]);
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("{od}/Documents/{plan_id}/restore"),
        Some(json!({"documentAction": "Shred"})),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, &["documentAction"]);
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("{od}/Documents/restore"),
        Some(json!({"documents": [{"id": "nope"}]})),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, &["nope"]);
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("{od}/Documents/{plan_id}/copyTo"),
        Some(json!({"folder": "x"})),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, &["onedrive"]);
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("{od}/Documents/{plan_id}/restore"),
        Some(json!({"userName": "admin@contoso.onmicrosoft.com", "userPassword": "x"})),
    )
    .await;
    // Credentials are signed in with first (restore_credentials.rs): a wrong password is
    // refused before anything is written, never echoed.
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        &[
            "admin@contoso.onmicrosoft.com",
            "incorrect",
            "nothing was restored",
        ],
    );
    assert!(!body.to_string().contains("\"x\""), "{body}");
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("{od}/Documents/{plan_id}/restore"),
        Some(json!({"userCode": "ABCD-EFGH"})),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_IMPLEMENTED, &["device code"]);
    let (status, body) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/RestoreSessions/{session}/organization/mailboxes"),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, &["Veod"]);
    let (status, _) = call(
        &server,
        &token,
        Method::POST,
        &format!("/v6/RestoreSessions/{session}/stop"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(
        &server,
        &token,
        Method::GET,
        &format!("{od}/Documents"),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, &["stopped"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_microsoft_is_counted_and_told() {
    let repo_dir = tempfile::tempdir().unwrap();
    let (_dir, sim, server) = start_with(vec![tenant_with_drives()], |_| {}).await;
    let token = server.token().await;
    let org_id = backed_up(&server, &repo_dir, &token, &[NANCY]).await;
    let session = explore(&server, &token, &org_id).await;
    let base = format!("/v6/RestoreSessions/{session}/Organization/OneDrives");
    let (_, drives) = call(&server, &token, Method::GET, &base, None).await;
    let od = format!("{base}/{}", drives["results"][0]["id"].as_str().unwrap());
    let (_, docs) = call(
        &server,
        &token,
        Method::GET,
        &format!("{od}/Documents?parentId=null"),
        None,
    )
    .await;
    let readme = docs["results"][0]["id"].as_str().unwrap().to_owned();
    sim.sim.set_fault(Some(m365_sim::Fault::Unavailable {
        every: 1,
        retry_after_secs: 0,
    }));
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("{od}/Documents/{readme}/restore"),
        Some(json!({"documentAction": "Overwrite"})),
    )
    .await;
    sim.sim.set_fault(None);
    // The first Graph call of the restore (finding the drive) fails after the connector's
    // retries: a 503 that says so, and nothing written.
    assert_error(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        &[
            "Microsoft 365 could not be used",
            "503",
            "nothing was changed",
        ],
    );
    // Microsoft back (and the file changed meanwhile): the same restore goes through.
    let graph = Graph::new(&sim).await;
    let drive = graph.drive_of(NANCY).await;
    graph.write(&drive, "readme.txt", b"changed").await;
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("{od}/Documents/{readme}/restore"),
        Some(json!({"documentAction": "Overwrite"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["restoredItemsCount"], 1, "{body}");
    assert_eq!(
        graph.read(&drive, "readme.txt").await.unwrap(),
        b"top level"
    );

    // A destination Microsoft refuses: the file is counted as failed with Microsoft's reason,
    // recorded as a failed event, and the session's result says so.
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("{od}/Documents/{readme}/copyTo"),
        Some(json!({"onedrive": {"id": "b!no-such-drive"}, "folder": "Restored"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["totalItemsCount"], 1, "{body}");
    assert_eq!(body["failedItemsCount"], 1, "{body}");
    assert_eq!(body["restoredItemsCount"], 0, "{body}");
    let issue = &body["restoreIssues"][0];
    assert_eq!(issue["title"], "readme.txt", "{body}");
    assert_eq!(issue["path"], "Restored/readme.txt", "{body}");
    assert!(issue["error"].as_str().unwrap().contains("404"), "{body}");
    let (_, events) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/RestoreSessions/{session}/Events?limit=100"),
        None,
    )
    .await;
    let failed: Vec<&str> = events["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == "Failed")
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(
        failed.iter().any(|m| m.contains("Restored/readme.txt")),
        "{events}"
    );
    let (_, got) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/RestoreSessions/{session}"),
        None,
    )
    .await;
    assert_eq!(got["result"], "Failed", "{got}");
}
