//! Bulk OneDrive restore (`POST …/Organization/OneDrives/restore`, `RESTBulkRestoreConfig`)
//! over HTTPS against the simulator, from a real backup of two users' OneDrives: both put
//! back whole (bytes checked by hash, empty and deleted folders re-created), the counts of
//! each OneDrive and their sums in the answer, a second run that finds nothing to do, `Keep`
//! beside a changed file, a OneDrive whose files Microsoft refuses not stopping the other,
//! and the refusals (unknown OneDrive, bad bodies) before anything is written.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;
mod drive_common;
mod jobs_common;

use common::*;
use drive_common::sha256;
use jobs_common::{call, get_ok, manual_job, organization_and_repository, run, ANDREW, NANCY};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const BIG: u64 = 6_000_000;

/// Every file of both OneDrives, by user, as the backup takes them.
const NANCY_FILES: [&str; 4] = [
    "readme.txt",
    "Plans/plan.txt",
    "Plans/Q3/report.txt",
    "Plans/big.bin",
];
const ANDREW_FILES: [&str; 3] = ["notes.txt", "Docs/a.txt", "Docs/b.txt"];

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
                    {"path": "readme.txt", "content": "nancy's readme"},
                    {"path": "Plans/plan.txt", "content": "the original plan"},
                    {"path": "Plans/Q3/report.txt", "content": "Q3 was good"},
                    // Above the connector's simple-upload limit: an upload session.
                    {"path": "Plans/big.bin", "size": BIG, "seed": 3},
                    {"path": "Empty/"}
                ]}),
            ),
            (
                "andrew",
                &[],
                json!({"displayName": "Andrew Fuller", "driveItems": [
                    {"path": "notes.txt", "content": "andrew's notes"},
                    {"path": "Docs/a.txt", "content": "alpha"},
                    {"path": "Docs/b.txt", "content": "beta"}
                ]}),
            ),
        ],
    )
}

/// A backed-up server: both OneDrives in one finished run, and the simulator's Graph.
struct Backed {
    _dir: tempfile::TempDir,
    _repo_dir: tempfile::TempDir,
    _sim: Sim,
    server: Server,
    token: String,
    org: String,
    graph: Graph,
    nancy: String,
    andrew: String,
}

async fn backed_up() -> Backed {
    let repo_dir = tempfile::tempdir().unwrap();
    let (dir, sim, server) = start_with(vec![tenant_with_drives()], |_| {}).await;
    let token = server.token().await;
    let (org, repo) = organization_and_repository(&server, &token, repo_dir.path()).await;
    let items = [NANCY, ANDREW]
        .iter()
        .map(|u| json!({"type": "User", "user": {"id": u}, "oneDrive": true}))
        .collect();
    let job = manual_job(&server, &token, &org, &repo, "OneDrives", items).await;
    let session = run(&server, &token, &job, 1).await;
    assert_eq!(session["status"], "Success", "{session}");
    let graph = Graph::new(&sim).await;
    let nancy = graph.drive_of(NANCY).await;
    let andrew = graph.drive_of(ANDREW).await;
    Backed {
        _dir: dir,
        _repo_dir: repo_dir,
        _sim: sim,
        server,
        token,
        org,
        graph,
        nancy,
        andrew,
    }
}

impl Backed {
    /// A `Veod` session on the newest backup; its OneDrives' base path.
    async fn explore(&self) -> (String, String) {
        let (status, session) = call(
            &self.server,
            &self.token,
            Method::POST,
            &format!("/v6/Organizations/{}/explore", self.org),
            Some(json!({"type": "Veod"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{session}");
        let id = session["id"].as_str().unwrap().to_owned();
        let base = format!("/v6/RestoreSessions/{id}/Organization/OneDrives");
        (id, base)
    }

    async fn bulk(&self, base: &str, body: Value) -> (StatusCode, Value) {
        call(
            &self.server,
            &self.token,
            Method::POST,
            &format!("{base}/restore"),
            Some(body),
        )
        .await
    }

    /// SHA-256 of each of `files` in `drive` (None where there is no file).
    async fn hashes(&self, drive: &str, files: &[&str]) -> Vec<Option<String>> {
        let mut out = Vec::new();
        for f in files {
            out.push(self.graph.read(drive, f).await.map(|b| sha256(&b)));
        }
        out
    }

    /// Messages of the session's events, in order.
    async fn events(&self, session: &str) -> Vec<(String, String)> {
        let page = get_ok(
            &self.server,
            &self.token,
            &format!("/v6/RestoreSessions/{session}/Events?limit=200"),
        )
        .await;
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["status"].as_str().unwrap().to_owned(),
                    e["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

/// The detail of the OneDrive `id` in a bulk answer.
fn detail<'a>(answer: &'a Value, id: &str) -> &'a Value {
    answer["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["oneDrive"]["id"] == id)
        .unwrap_or_else(|| panic!("no detail for {id}: {answer}"))
}

/// (total, restored, unchanged, failed) as an answer or detail counts them.
fn counts(stats: &Value) -> (u64, u64, u64, u64) {
    let n = |k: &str| {
        stats[k]
            .as_u64()
            .unwrap_or_else(|| panic!("no {k}: {stats}"))
    };
    (
        n("totalItemsCount"),
        n("restoredItemsCount"),
        n("skippedItemsByNoChangesCount"),
        n("failedItemsCount"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_onedrives_come_back_whole_and_a_second_run_changes_nothing() {
    let b = backed_up().await;
    let nancy_before = b.hashes(&b.nancy, &NANCY_FILES).await;
    let andrew_before = b.hashes(&b.andrew, &ANDREW_FILES).await;
    assert!(nancy_before
        .iter()
        .chain(&andrew_before)
        .all(Option::is_some));

    // After the backup: a file overwritten and a folder (with its file) and an empty folder
    // deleted in Nancy's OneDrive; a file deleted and one overwritten in Andrew's.
    b.graph
        .write_file(&b.nancy, "Plans/plan.txt", "changed after the backup")
        .await;
    b.graph.delete(&b.nancy, "Plans/Q3").await;
    b.graph.delete(&b.nancy, "Empty").await;
    b.graph.delete(&b.andrew, "notes.txt").await;
    b.graph.write_file(&b.andrew, "Docs/a.txt", "ALPHA!").await;
    assert_ne!(b.hashes(&b.nancy, &NANCY_FILES).await, nancy_before);
    assert_ne!(b.hashes(&b.andrew, &ANDREW_FILES).await, andrew_before);

    let (session, base) = b.explore().await;
    let (status, answer) = b
        .bulk(
            &base,
            json!({"documentAction": "Overwrite", "oneDrives": [
                // A whole RESTOneDrive as generated clients send it, and a bare id.
                {"id": NANCY, "name": "Nancy Davolio", "url": "", "_links": {}},
                {"id": ANDREW}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "Success", "{answer}");
    assert!(answer.get("error").is_none(), "{answer}");
    assert_eq!(answer["details"].as_array().unwrap().len(), 2, "{answer}");
    let nancy = detail(&answer, NANCY);
    assert_eq!(nancy["status"], "Success", "{answer}");
    assert_eq!(nancy["oneDrive"]["name"], "Nancy Davolio", "{answer}");
    // plan.txt and report.txt written; readme.txt and big.bin already held their bytes.
    assert_eq!(counts(&nancy["details"]), (4, 2, 2, 0), "{answer}");
    assert_eq!(nancy["details"]["restoreIssues"], json!([]), "{answer}");
    let andrew = detail(&answer, ANDREW);
    assert_eq!(andrew["status"], "Success", "{answer}");
    assert_eq!(counts(&andrew["details"]), (3, 2, 1, 0), "{answer}");
    assert_eq!(counts(&answer), (7, 4, 3, 0), "the sums: {answer}");

    // Every file holds its backed-up bytes, and the deleted folders are back.
    assert_eq!(b.hashes(&b.nancy, &NANCY_FILES).await, nancy_before);
    assert_eq!(b.hashes(&b.andrew, &ANDREW_FILES).await, andrew_before);
    assert_eq!(
        b.graph.children(&b.nancy, "").await,
        ["Empty", "Plans", "readme.txt"]
    );
    assert_eq!(
        b.graph.children(&b.nancy, "Plans").await,
        ["Q3", "big.bin", "plan.txt"]
    );
    assert_eq!(b.graph.children(&b.andrew, "").await, ["Docs", "notes.txt"]);

    // One event per OneDrive, with its counts.
    let events = b.events(&session).await;
    for (name, counted) in [
        (
            "Nancy Davolio",
            "2 of 4 document(s) restored, 2 unchanged, 0 failed",
        ),
        (
            "Andrew Fuller",
            "2 of 3 document(s) restored, 1 unchanged, 0 failed",
        ),
    ] {
        let found: Vec<_> = events
            .iter()
            .filter(|(_, m)| m.starts_with(&format!("Restored OneDrive {name}")))
            .collect();
        assert_eq!(found.len(), 1, "{events:?}");
        assert_eq!(found[0].0, "Success", "{events:?}");
        assert!(found[0].1.ends_with(counted), "{events:?}");
    }

    // Again: everything is where it was, nothing is written or duplicated.
    let (status, again) = b
        .bulk(&base, json!({"oneDrives": [{"id": NANCY}, {"id": ANDREW}]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["status"], "Success", "{again}");
    assert_eq!(counts(&again), (7, 0, 7, 0), "{again}");
    assert_eq!(
        b.graph.children(&b.nancy, "Plans").await,
        ["Q3", "big.bin", "plan.txt"]
    );
    assert_eq!(b.graph.children(&b.andrew, "").await, ["Docs", "notes.txt"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_restores_beside_and_a_refused_onedrive_does_not_stop_the_other() {
    let b = backed_up().await;
    b.graph
        .write_file(&b.nancy, "Plans/plan.txt", "changed after the backup")
        .await;
    // Andrew's folder replaced by a file of the same name: Microsoft refuses to create the
    // folder, so its two files fail; notes.txt is untouched.
    b.graph.delete(&b.andrew, "Docs").await;
    b.graph.write_file(&b.andrew, "Docs", "not a folder").await;

    let (session, base) = b.explore().await;
    let (status, answer) = b
        .bulk(
            &base,
            // Listed twice: restored once.
            json!({"documentAction": "Keep", "oneDrives": [{"id": ANDREW}, {"id": NANCY}, {"id": NANCY}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "Warning", "{answer}");
    assert_eq!(answer["details"].as_array().unwrap().len(), 2, "{answer}");
    let andrew = detail(&answer, ANDREW);
    assert_eq!(andrew["status"], "Warning", "{answer}");
    assert_eq!(counts(&andrew["details"]), (3, 0, 1, 2), "{answer}");
    let mut issues: Vec<&str> = andrew["details"]["restoreIssues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    issues.sort();
    assert_eq!(issues, ["Docs/a.txt", "Docs/b.txt"], "{answer}");
    // Nancy's OneDrive went on: the changed file kept, the backed-up one beside it.
    let nancy = detail(&answer, NANCY);
    assert_eq!(nancy["status"], "Success", "{answer}");
    assert_eq!(counts(&nancy["details"]), (4, 1, 3, 0), "{answer}");
    assert_eq!(counts(&answer), (7, 1, 4, 2), "{answer}");
    assert_eq!(
        b.graph.read(&b.nancy, "Plans/plan.txt").await.unwrap(),
        b"changed after the backup"
    );
    assert_eq!(
        b.graph.read(&b.nancy, "Plans/plan 1.txt").await.unwrap(),
        b"the original plan"
    );
    assert_eq!(
        b.graph.read(&b.andrew, "Docs").await.unwrap(),
        b"not a folder"
    );

    // Each failed document is an event, and Andrew's restore a warning.
    let events = b.events(&session).await;
    for path in ["Docs/a.txt", "Docs/b.txt"] {
        assert!(
            events
                .iter()
                .any(|(s, m)| s == "Failed" && m.starts_with(&format!("Failed to restore {path}:"))),
            "{events:?}"
        );
    }
    assert!(
        events
            .iter()
            .any(|(s, m)| s == "Warning" && m.starts_with("Restored OneDrive Andrew Fuller")),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_onedrives_and_bad_bodies_are_refused_before_anything_is_written() {
    let b = backed_up().await;
    b.graph
        .write_file(&b.andrew, "notes.txt", "changed after the backup")
        .await;
    let (_, base) = b.explore().await;
    let unknown = "00000000-0000-4000-8000-0000010000ff";

    let (status, body) = b
        .bulk(
            &base,
            json!({"oneDrives": [{"id": ANDREW}, {"id": unknown}]}),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, &["OneDrive", unknown]);
    // Andrew's OneDrive was listed first, yet nothing was written.
    assert_eq!(
        b.graph.read(&b.andrew, "notes.txt").await.unwrap(),
        b"changed after the backup"
    );

    // skipUnresolved: the unknown one is a warning, the known one is restored.
    let (status, answer) = b
        .bulk(
            &base,
            json!({"skipUnresolved": true, "documentAction": "Overwrite",
                   "oneDrives": [{"id": ANDREW}, {"id": unknown}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "Warning", "{answer}");
    assert_eq!(detail(&answer, unknown)["status"], "Warning", "{answer}");
    assert_eq!(counts(&answer), (3, 1, 2, 0), "{answer}");
    assert_eq!(
        b.graph.read(&b.andrew, "notes.txt").await.unwrap(),
        b"andrew's notes"
    );

    for (bad, fragment) in [
        (json!({}), "oneDrives must list at least one OneDrive"),
        (
            json!({"oneDrives": []}),
            "oneDrives must list at least one OneDrive",
        ),
        (
            json!({"oneDrives": [{"name": " "}]}),
            "oneDrives[0].id is required",
        ),
        (json!({"oneDrives": "all"}), "oneDrives"),
        (json!({"oneDrives": [{"id": 7}]}), "oneDrives[0].id"),
        (
            json!({"documentAction": "Merge", "oneDrives": [{"id": NANCY}]}),
            "documentAction must be Overwrite or Keep",
        ),
        (
            json!({"skipUnresolved": "yes", "oneDrives": [{"id": NANCY}]}),
            "skipUnresolved",
        ),
        (
            json!({"officeUsername": "admin@contoso.onmicrosoft.com", "oneDrives": [{"id": NANCY}]}),
            "without its password",
        ),
        (
            json!({"officeUsername": "admin@contoso.onmicrosoft.com", "officeUserpassword": 12345,
                   "oneDrives": [{"id": NANCY}]}),
            "officeUserpassword must be a string",
        ),
    ] {
        let (status, body) = b.bulk(&base, bad.clone()).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, &[fragment]);
        assert!(!body.to_string().contains("12345"), "{bad}: {body}");
    }
    // Not JSON at all.
    let response = b
        .server
        .client
        .post(b.server.url(&format!("{base}/restore")))
        .bearer_auth(&b.token)
        .header("Content-Type", "application/json")
        .body("{\"oneDrives\": [")
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_error(status, &body, StatusCode::BAD_REQUEST, &[]);

    // A device code is not signed in with yet: 501 naming the field.
    let (status, body) = b
        .bulk(
            &base,
            json!({"userCode": "ABC-123", "oneDrives": [{"id": NANCY}]}),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_IMPLEMENTED, &["userCode"]);

    // A mailbox session has no OneDrives to restore.
    let (status, session) = call(
        &b.server,
        &b.token,
        Method::POST,
        &format!("/v6/Organizations/{}/explore", b.org),
        Some(json!({"type": "Vex"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let (status, body) = b
        .bulk(
            &format!(
                "/v6/RestoreSessions/{}/Organization/OneDrives",
                session["id"].as_str().unwrap()
            ),
            json!({"oneDrives": [{"id": NANCY}]}),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, &["Veod"]);
    // Nothing above wrote anything.
    assert_eq!(
        b.graph.read(&b.andrew, "notes.txt").await.unwrap(),
        b"andrew's notes"
    );
}
