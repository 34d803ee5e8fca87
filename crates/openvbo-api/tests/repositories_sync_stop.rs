//! `POST /v6/RepositorySynchronizeSessions/{id}/StopSynchronize` stops a running import
//! between restore points: the session ends `None` (v6 has no `Stopped`) with
//! `progressPercent` the share imported, the points imported are whole and stay, the
//! repository stays out of sync, and the next Sync imports exactly the rest.
//!
//! The import is held at a known point by a gate installed on the server's repository
//! service (awaited before each restore point it creates), never by timing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;
mod jobs_common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use futures::FutureExt;
use jobs_common::*;
use openvbo_core::repositories::{ImportGate, ImportStep};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};

/// 32 bytes of 7, base64: both servers open the repository with it.
const MASTER_KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

/// Restore points the first server makes (one per job run).
const RUNS: usize = 4;

/// Where the gate holds the first import: before creating its point of this index.
const HOLD_AT: usize = 2;

fn cfg(dir: &std::path::Path, sim: &Sim) -> openvbo_server::ServerConfig {
    let mut cfg = config(dir, &sim.url);
    cfg.master_key = Some(SecretString::from(MASTER_KEY));
    cfg
}

/// Per restore point of `repo` (by backup time): its id, backup time and mailboxes.
async fn points(server: &Server, token: &str, repo: &str) -> Vec<(String, String, Vec<String>)> {
    let listed = get_ok(
        server,
        token,
        &format!("/v6/RestorePoints?repositoryId={repo}"),
    )
    .await;
    let mut out = Vec::new();
    for p in listed.as_array().unwrap() {
        let id = p["id"].as_str().unwrap().to_owned();
        let mailboxes = get_ok(server, token, &format!("/v6/RestorePoints/{id}/mailboxes")).await;
        let mut names: Vec<String> = mailboxes
            .get("results")
            .unwrap_or(&mailboxes)
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        out.push((id, p["backupTime"].as_str().unwrap().to_owned(), names));
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

fn times(points: &[(String, String, Vec<String>)]) -> Vec<(String, Vec<String>)> {
    points
        .iter()
        .map(|(_, t, m)| (t.clone(), m.clone()))
        .collect()
}

/// A gate that, once, holds the import before point [`HOLD_AT`] until the stop is asked,
/// and tells `reached` (with the step) when it starts holding.
fn hold_once(reached: tokio::sync::mpsc::UnboundedSender<ImportStep>) -> ImportGate {
    let armed = Arc::new(Mutex::new(true));
    Arc::new(move |step: ImportStep| {
        let hold = step.done == HOLD_AT && std::mem::replace(&mut *armed.lock().unwrap(), false);
        let reached = reached.clone();
        async move {
            if hold {
                let stop = step.stop.clone();
                reached.send(step).unwrap();
                stop.requested().await;
            }
        }
        .boxed()
    })
}

async fn sync(server: &Server, token: &str, repo: &str) -> Value {
    let (status, session) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/BackupRepositories/{repo}/Sync"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["state"], "Synchronizing", "{session}");
    session
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_a_synchronization_keeps_whole_points_and_the_next_sync_imports_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![tenant_with_mail()]).await;
    let first = Server::start(cfg(&dir.path().join("first"), &sim)).await;
    let token = first.token().await;
    let (org, repo) = organization_and_repository(&first, &token, dir.path()).await;
    let job = mailbox_job(&first, &token, &org, &repo, &[NANCY, ANDREW]).await;
    for runs in 1..=RUNS {
        let session = run(&first, &token, &job, runs).await;
        assert_eq!(session["status"], "Success", "{session}");
    }
    let made = times(&points(&first, &token, &repo).await);
    assert_eq!(made.len(), RUNS, "{made:?}");
    assert!(made.iter().all(|(_, m)| m.len() == 2), "{made:?}");
    first.stop().await;

    // A new server attaches before the organization is added (nothing imported, out of
    // sync); the organization is added; its import will be held before its third point.
    let data = dir.path().join("second");
    let prepared =
        openvbo_server::prepare_with_clock(cfg(&data, &sim), openvbo_core::clock::system())
            .await
            .unwrap();
    let repositories = prepared.repositories();
    let (reached_tx, mut reached) = tokio::sync::mpsc::unbounded_channel();
    repositories.set_import_gate(Some(hold_once(reached_tx)));
    let second = Server::serve(prepared, data).await;
    let token = second.token().await;
    let (status, attached) = call(
        &second,
        &token,
        Method::POST,
        "/v6/BackupRepositories",
        Some(json!({
            "name": "Mail again", "path": dir.path().join("repo").to_str().unwrap(),
            "attachUsedRepository": true, "retentionType": "SnapshotBased",
            "retentionPeriodType": "Yearly", "yearlyRetentionPeriod": "Year1",
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{attached}");
    assert_eq!(attached["isOutOfSync"], true, "{attached}");
    let repo2 = attached["id"].as_str().unwrap().to_owned();
    assert!(points(&second, &token, &repo2).await.is_empty());
    let (status, added) = second
        .add(
            &token,
            seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");

    let session = sync(&second, &token, &repo2).await;
    let sid = session["id"].as_str().unwrap().to_owned();
    let step = tokio::time::timeout(Duration::from_secs(60), reached.recv())
        .await
        .expect("the import reaches its third point")
        .unwrap();
    assert_eq!((step.done, step.total), (HOLD_AT, RUNS));
    assert!(!step.stop.is_requested());
    let held = get_ok(
        &second,
        &token,
        &format!("/v6/RepositorySynchronizeSessions/{sid}"),
    )
    .await;
    assert_eq!(held["state"], "Synchronizing", "{held}");
    assert_eq!(points(&second, &token, &repo2).await.len(), HOLD_AT);

    // Stopped: 200 (no body) once the import has ended; ended None, not failed, half done.
    let (status, body) = call(
        &second,
        &token,
        Method::POST,
        &format!("/v6/RepositorySynchronizeSessions/{sid}/StopSynchronize"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(step.stop.is_requested());
    let stopped = get_ok(
        &second,
        &token,
        &format!("/v6/RepositorySynchronizeSessions/{sid}"),
    )
    .await;
    assert_eq!(
        (
            stopped["state"].as_str(),
            stopped["progressPercent"].as_i64(),
            stopped.get("error")
        ),
        (Some("None"), Some(50), None),
        "{stopped}"
    );
    let kept = points(&second, &token, &repo2).await;
    assert_eq!(
        times(&kept),
        made[..HOLD_AT].to_vec(),
        "the oldest points, each with both mailboxes"
    );
    let shown = get_ok(&second, &token, &format!("/v6/BackupRepositories/{repo2}")).await;
    assert_eq!(shown["isOutOfSync"], true, "the rest waits: {shown}");
    // Stopping an ended session changes nothing.
    let (status, _) = call(
        &second,
        &token,
        Method::POST,
        &format!("/v6/RepositorySynchronizeSessions/{sid}/StopSynchronize"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        get_ok(
            &second,
            &token,
            &format!("/v6/RepositorySynchronizeSessions/{sid}"),
        )
        .await,
        stopped
    );

    // The next Sync (not held: the gate holds once) imports exactly the other two.
    let again = sync(&second, &token, &repo2).await;
    let sid2 = again["id"].as_str().unwrap().to_owned();
    assert_ne!(sid2, sid);
    let ended = tokio::time::timeout(
        Duration::from_secs(60),
        repositories.wait_synchronization(sid2.parse().unwrap()),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(!ended.running && !ended.stopped(), "{ended:?}");
    let report = ended.report.unwrap();
    assert_eq!(
        (report.points, report.already_known, report.left),
        (RUNS - HOLD_AT, HOLD_AT * 2, 0),
        "two points imported; the four records of the kept ones known"
    );
    let done = get_ok(
        &second,
        &token,
        &format!("/v6/RepositorySynchronizeSessions/{sid2}"),
    )
    .await;
    assert_eq!(
        (done["state"].as_str(), done["progressPercent"].as_i64()),
        (Some("None"), Some(100)),
        "{done}"
    );
    let all = points(&second, &token, &repo2).await;
    assert_eq!(times(&all), made);
    assert_eq!(
        all[..HOLD_AT]
            .iter()
            .map(|p| p.0.clone())
            .collect::<Vec<_>>(),
        kept.iter().map(|p| p.0.clone()).collect::<Vec<_>>(),
        "the points of the stopped session stay, by id"
    );
    let listed = get_ok(&second, &token, "/v6/RestorePoints").await;
    assert_eq!(
        listed.as_array().unwrap().len(),
        RUNS,
        "no copies: {listed}"
    );
    let shown = get_ok(&second, &token, &format!("/v6/BackupRepositories/{repo2}")).await;
    assert_eq!(shown["isOutOfSync"], false, "{shown}");
    second.stop().await;
}
