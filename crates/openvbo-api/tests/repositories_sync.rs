//! `POST /v6/BackupRepositories/{id}/Sync` answers at once with a `Synchronizing` session
//! and imports in the background; `/v6/RepositorySynchronizeSessions` shows the session
//! end as `None` (done) or `Failed` with the reason. The test waits on the state (bounded
//! polling), never on time.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;
mod jobs_common;

use std::time::{Duration, Instant};

use common::*;
use jobs_common::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

async fn start_sync(server: &Server, token: &str, repo: &str) -> Value {
    let (status, session) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/BackupRepositories/{repo}/Sync"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["repositoryId"], repo, "{session}");
    assert_eq!(
        (
            session["state"].as_str(),
            session["progressPercent"].as_i64()
        ),
        (Some("Synchronizing"), Some(0)),
        "answered before the import: {session}"
    );
    assert!(session.get("error").is_none(), "{session}");
    session
}

/// Polls the session (bounded) until it is no longer `Synchronizing`; every state seen on
/// the way is `Synchronizing` or the final one.
async fn finished(server: &Server, token: &str, sid: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = get_ok(
            server,
            token,
            &format!("/v6/RepositorySynchronizeSessions/{sid}"),
        )
        .await;
        match s["state"].as_str() {
            Some("Synchronizing") => {}
            Some("None" | "Failed") => {
                assert_eq!(s["progressPercent"], 100, "{s}");
                return s;
            }
            other => panic!("unexpected state {other:?}: {s}"),
        }
        assert!(Instant::now() < deadline, "still synchronizing: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn point_ids(listed: &Value) -> Vec<String> {
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synchronization_runs_in_the_background_and_its_session_shows_how_it_ended() {
    let (_dir, _sim, server) = start_with(vec![tenant_with_mail()], |_| {}).await;
    let token = server.token().await;
    let repos = tempfile::tempdir().unwrap();
    let (org, repo) = organization_and_repository(&server, &token, repos.path()).await;
    let job = mailbox_job(&server, &token, &org, &repo, &[NANCY, ANDREW]).await;
    let session = run(&server, &token, &job, 1).await;
    assert_eq!(session["status"], "Success", "{session}");
    let points = point_ids(&get_ok(&server, &token, "/v6/RestorePoints").await);
    assert_eq!(points.len(), 1);

    // A repository that reads: done, nothing imported twice.
    let first = start_sync(&server, &token, &repo).await;
    let sid = first["id"].as_str().unwrap().to_owned();
    let listed = get_ok(&server, &token, "/v6/RepositorySynchronizeSessions").await;
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "listed at once: {listed}"
    );
    assert_eq!(listed[0]["id"], sid.as_str());
    let done = finished(&server, &token, &sid).await;
    assert_eq!(done["state"], "None", "{done}");
    assert!(done.get("error").is_none(), "{done}");
    assert_eq!(
        (done["id"].clone(), done["repositoryId"].clone()),
        (first["id"].clone(), first["repositoryId"].clone())
    );
    assert_eq!(
        point_ids(&get_ok(&server, &token, "/v6/RestorePoints").await),
        points
    );
    let shown = get_ok(&server, &token, &format!("/v6/BackupRepositories/{repo}")).await;
    assert_eq!(shown["isOutOfSync"], false, "{shown}");

    // Its directory replaced by a file: the session fails with the reason; the points stay
    // listed.
    let path = repos.path().join("repo");
    std::fs::rename(&path, repos.path().join("moved")).unwrap();
    std::fs::write(&path, b"not a repository").unwrap();
    let second = start_sync(&server, &token, &repo).await;
    let sid2 = second["id"].as_str().unwrap().to_owned();
    assert_ne!(sid2, sid);
    let failed = finished(&server, &token, &sid2).await;
    assert_eq!(failed["state"], "Failed", "{failed}");
    let reason = failed["error"].as_str().unwrap();
    let listing = path.join("points");
    assert!(
        reason.contains("reading the restore points") && reason.contains(listing.to_str().unwrap()),
        "{failed}"
    );
    let listed = get_ok(&server, &token, "/v6/RepositorySynchronizeSessions").await;
    let states: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["None", "Failed"], "{listed}");
    assert_eq!(
        point_ids(&get_ok(&server, &token, "/v6/RestorePoints").await),
        points
    );
    let shown = get_ok(&server, &token, &format!("/v6/BackupRepositories/{repo}")).await;
    assert_eq!(
        shown["isOutOfSync"], true,
        "a failed import marks it: {shown}"
    );
    server.stop().await;
}
