//! `attachUsedRepository: true` over HTTPS: a repository backed up by one server, whose
//! database is then lost, is attached by a new server (same master key) and its restore
//! points come back from the repository's own records — the same points, times, jobs,
//! mailboxes and listings — and an item of them downloads byte for byte.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;
mod jobs_common;

use std::collections::BTreeSet;

use common::*;
use jobs_common::*;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};

/// 32 bytes of 7, base64: both servers use it, as an operator keeping
/// `OPENVBO_MASTER_KEY` outside the lost data dir would.
const MASTER_KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

async fn server_in(dir: &std::path::Path, sim: &Sim) -> Server {
    let mut cfg = config(dir, &sim.url);
    cfg.master_key = Some(SecretString::from(MASTER_KEY));
    Server::start(cfg).await
}

/// What a client sees of the repository's backups: per restore point (by backup time) its
/// job, flags and mailboxes with their counts; and the repository's mailbox and user data.
/// An organization, a repository under `dir`, a job over Nancy's and Andrew's mailboxes,
/// run twice (both runs `Success`): the restore points every test here attaches again.
async fn two_backups(
    server: &Server,
    token: &str,
    dir: &std::path::Path,
) -> (String, String, String) {
    let (org, repo) = organization_and_repository(server, token, dir).await;
    let job = mailbox_job(server, token, &org, &repo, &[NANCY, ANDREW]).await;
    for runs in 1..=2 {
        let session = run(server, token, &job, runs).await;
        assert_eq!(session["status"], "Success", "{session}");
    }
    (org, repo, job)
}

async fn picture(server: &Server, token: &str, repo: &str) -> (Vec<Value>, Vec<String>, usize) {
    let points = get_ok(
        server,
        token,
        &format!("/v6/RestorePoints?repositoryId={repo}"),
    )
    .await;
    let mut out = Vec::new();
    for p in points.as_array().unwrap() {
        let id = p["id"].as_str().unwrap();
        let mailboxes = get_ok(server, token, &format!("/v6/RestorePoints/{id}/mailboxes")).await;
        let list = mailboxes
            .get("results")
            .unwrap_or(&mailboxes)
            .as_array()
            .unwrap()
            .clone();
        let mut ids: Vec<String> = list
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        out.push(json!({
            "backupTime": p["backupTime"], "jobId": p["jobId"], "isExchange": p["isExchange"],
            "isOneDrive": p["isOneDrive"], "mailboxes": ids,
        }));
    }
    let data = get_ok(
        server,
        token,
        &format!("/v6/BackupRepositories/{repo}/MailboxData"),
    )
    .await;
    let mut mailbox_data: Vec<String> = data["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}|{}",
                m["email"].as_str().unwrap_or(""),
                m["displayName"].as_str().unwrap_or("")
            )
        })
        .collect();
    mailbox_data.sort();
    let users = get_ok(
        server,
        token,
        &format!("/v6/BackupRepositories/{repo}/UserData"),
    )
    .await;
    let user_count = users["results"].as_array().unwrap().len();
    (out, mailbox_data, user_count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_server_attaching_the_repository_sees_its_restore_points_and_restores_from_them() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![tenant_with_mail()]).await;

    // The first server: two runs of a job over two mailboxes.
    let first = server_in(&dir.path().join("first"), &sim).await;
    let token = first.token().await;
    let (org, repo, job) = two_backups(&first, &token, dir.path()).await;
    let before = picture(&first, &token, &repo).await;
    assert_eq!(before.0.len(), 2, "{:?}", before.0);
    for p in &before.0 {
        assert_eq!(p["mailboxes"], json!([NANCY, ANDREW]), "{p}");
        assert_eq!(p["jobId"], job.as_str());
        assert_eq!(p["isExchange"], true);
    }
    assert_eq!(before.1.len(), 2, "{:?}", before.1);
    assert_eq!(before.2, 2);
    let eml_before = inbox_message_eml(&first, &token, &org, NANCY, "Quarterly report 0").await;
    assert!(
        String::from_utf8_lossy(&eml_before).contains("Quarterly report 0"),
        "an EML of the message"
    );
    first.stop().await;

    // A new server: its own data dir (the first one's database is gone), the same key.
    let second = server_in(&dir.path().join("second"), &sim).await;
    let token = second.token().await;
    let (status, org2) = second
        .add(
            &token,
            seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org2}");
    let org2 = org2["id"].as_str().unwrap().to_owned();
    assert_ne!(org2, org, "a new server gives the organization a new id");
    let repo_path = dir.path().join("repo");
    let body = json!({
        "name": "Mail again", "path": repo_path.to_str().unwrap(),
        "retentionType": "SnapshotBased", "retentionPeriodType": "Yearly",
        "yearlyRetentionPeriod": "Year1",
    });
    // Without attachUsedRepository the existing repository is refused, and says how.
    let (status, refused) = call(
        &second,
        &token,
        Method::POST,
        "/v6/BackupRepositories",
        Some(body.clone()),
    )
    .await;
    assert_error(
        status,
        &refused,
        StatusCode::BAD_REQUEST,
        &["attachUsedRepository"],
    );
    let mut attach = body;
    attach["attachUsedRepository"] = json!(true);
    let (status, repo2) = call(
        &second,
        &token,
        Method::POST,
        "/v6/BackupRepositories",
        Some(attach),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{repo2}");
    let repo2 = repo2["id"].as_str().unwrap().to_owned();

    let after = picture(&second, &token, &repo2).await;
    assert_eq!(
        after, before,
        "the same restore points, mailboxes and users"
    );
    // The points belong to the organization as this server knows it.
    let mine = get_ok(
        &second,
        &token,
        &format!("/v6/RestorePoints?organizationId={org2}"),
    )
    .await;
    assert_eq!(mine.as_array().unwrap().len(), 2, "{mine}");
    let orgs = get_ok(
        &second,
        &token,
        &format!("/v6/BackupRepositories/{repo2}/OrganizationData"),
    )
    .await;
    let listed: BTreeSet<&str> = orgs["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["organizationId"].as_str().unwrap())
        .collect();
    assert_eq!(listed, BTreeSet::from([org2.as_str()]), "{orgs}");

    // And the content is there: the same message, byte for byte.
    let eml_after = inbox_message_eml(&second, &token, &org2, NANCY, "Quarterly report 0").await;
    assert_eq!(eml_after, eml_before);
    second.stop().await;
}

/// The ids of the repository's restore points, oldest first.
async fn point_ids(server: &Server, token: &str, repo: &str) -> Vec<String> {
    let points = get_ok(
        server,
        token,
        &format!("/v6/RestorePoints?repositoryId={repo}"),
    )
    .await;
    points
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

fn attach_body(path: &std::path::Path, name: &str) -> Value {
    json!({
        "name": name, "path": path.to_str().unwrap(), "attachUsedRepository": true,
        "retentionType": "SnapshotBased", "retentionPeriodType": "Yearly",
        "yearlyRetentionPeriod": "Year1",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repository_removed_and_attached_again_shows_the_same_restore_points() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![tenant_with_mail()]).await;
    let server = server_in(&dir.path().join("data"), &sim).await;
    let token = server.token().await;
    let (org, repo, job) = two_backups(&server, &token, dir.path()).await;
    let before = picture(&server, &token, &repo).await;
    let ids = point_ids(&server, &token, &repo).await;
    assert_eq!(ids.len(), 2, "{ids:?}");
    let eml_before = inbox_message_eml(&server, &token, &org, NANCY, "Quarterly report 0").await;

    // The job goes (a repository in use cannot be removed), then the repository, twice.
    let (status, body) = call(
        &server,
        &token,
        Method::DELETE,
        &format!("/v6/Jobs/{job}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let mut current = repo.clone();
    for round in 0..2 {
        let (status, body) = call(
            &server,
            &token,
            Method::DELETE,
            &format!("/v6/BackupRepositories/{current}"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (status, again) = call(
            &server,
            &token,
            Method::POST,
            "/v6/BackupRepositories",
            Some(attach_body(&dir.path().join("repo"), "Mail")),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "round {round}: {again}");
        assert_eq!(again["isOutOfSync"], false, "{again}");
        current = again["id"].as_str().unwrap().to_owned();
        assert_eq!(
            point_ids(&server, &token, &current).await,
            ids,
            "round {round}: the same restore points, by id"
        );
        assert_eq!(picture(&server, &token, &current).await, before);
        let all = get_ok(&server, &token, "/v6/RestorePoints").await;
        assert_eq!(
            all.as_array().unwrap().len(),
            2,
            "round {round}: no copies: {all}"
        );
    }
    assert_eq!(
        inbox_message_eml(&server, &token, &org, NANCY, "Quarterly report 0").await,
        eml_before
    );
    server.stop().await;
}

/// Waits (bounded) until synchronization session `sid` is no longer `Synchronizing`.
async fn finished_sync(server: &Server, token: &str, sid: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let s = get_ok(
            server,
            token,
            &format!("/v6/RepositorySynchronizeSessions/{sid}"),
        )
        .await;
        if s["state"] != "Synchronizing" {
            return s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still synchronizing: {s}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_waiting_for_its_organization_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![tenant_with_mail()]).await;
    let first = server_in(&dir.path().join("first"), &sim).await;
    let token = first.token().await;
    let (_, repo, _) = two_backups(&first, &token, dir.path()).await;
    let before = picture(&first, &token, &repo).await;
    first.stop().await;

    // A new server attaches before the organization is added: nothing to show yet, and
    // the repository says it is out of sync.
    let data = dir.path().join("second");
    let second = server_in(&data, &sim).await;
    let token = second.token().await;
    let (status, attached) = call(
        &second,
        &token,
        Method::POST,
        "/v6/BackupRepositories",
        Some(attach_body(&dir.path().join("repo"), "Mail again")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{attached}");
    assert_eq!(attached["isOutOfSync"], true, "{attached}");
    let repo2 = attached["id"].as_str().unwrap().to_owned();
    assert!(point_ids(&second, &token, &repo2).await.is_empty());
    second.stop().await;

    // Restarted on the same data dir: still out of sync; the organization is added and a
    // synchronization imports its restore points.
    let second = server_in(&data, &sim).await;
    let token = second.token().await;
    let shown = get_ok(&second, &token, &format!("/v6/BackupRepositories/{repo2}")).await;
    assert_eq!(shown["isOutOfSync"], true, "{shown}");
    let (status, org2) = second
        .add(
            &token,
            seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org2}");
    let (status, session) = call(
        &second,
        &token,
        Method::POST,
        &format!("/v6/BackupRepositories/{repo2}/Sync"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["repositoryId"], repo2.as_str(), "{session}");
    assert_eq!(session["state"], "Synchronizing", "{session}");
    let sid = session["id"].as_str().unwrap().to_owned();
    let session = finished_sync(&second, &token, &sid).await;
    assert_eq!(session["state"], "None", "finished, not failed: {session}");
    assert_eq!(picture(&second, &token, &repo2).await, before);
    let shown = get_ok(&second, &token, &format!("/v6/BackupRepositories/{repo2}")).await;
    assert_eq!(shown["isOutOfSync"], false, "{shown}");

    // The session is listed; a second synchronization imports nothing more.
    let one = get_ok(
        &second,
        &token,
        &format!("/v6/RepositorySynchronizeSessions/{sid}"),
    )
    .await;
    assert_eq!(one, session);
    let (status, again) = call(
        &second,
        &token,
        Method::POST,
        &format!("/v6/BackupRepositories/{repo2}/Sync"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    finished_sync(&second, &token, again["id"].as_str().unwrap()).await;
    assert_eq!(point_ids(&second, &token, &repo2).await.len(), 2);
    let listed = get_ok(&second, &token, "/v6/RepositorySynchronizeSessions").await;
    assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
    let (status, stop) = call(
        &second,
        &token,
        Method::POST,
        &format!("/v6/RepositorySynchronizeSessions/{sid}/StopSynchronize"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{stop}");

    // Unknown and malformed ids.
    let unknown = "00000000-0000-4000-8000-00000000abcd";
    for (path, method, expected, fragment) in [
        (
            format!("/v6/BackupRepositories/{unknown}/Sync"),
            Method::POST,
            StatusCode::NOT_FOUND,
            "no backup repository",
        ),
        (
            format!("/v6/RepositorySynchronizeSessions/{unknown}"),
            Method::GET,
            StatusCode::NOT_FOUND,
            "no repository synchronization session",
        ),
        (
            "/v6/RepositorySynchronizeSessions/not-a-guid".to_owned(),
            Method::GET,
            StatusCode::BAD_REQUEST,
            "sessionId",
        ),
        (
            "/v6/BackupRepositories/not-a-guid/Sync".to_owned(),
            Method::POST,
            StatusCode::BAD_REQUEST,
            "repositoryId",
        ),
    ] {
        let (status, body) = call(&second, &token, method, &path, None).await;
        assert_error(status, &body, expected, &[fragment]);
    }
    second.stop().await;
}
