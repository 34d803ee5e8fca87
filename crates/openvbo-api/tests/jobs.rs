//! Backup jobs over HTTPS against the simulator: organization →
//! repository → job → start → session → log → restore points, the
//! incremental run, and the refusals.
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
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_backs_up_a_mailbox_and_the_next_run_downloads_nothing_new() {
    let (_dir, sim, server) = start_with(vec![tenant_with_mail()], |_| {}).await;
    let token = server.token().await;
    let (status, org) = server
        .add(
            &token,
            seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let org_id = org["id"].as_str().unwrap().to_owned();
    // Not inside the data dir: repositories may not be.
    let repo_dir = tempfile::tempdir().unwrap();
    let repo_path = repo_dir.path().join("repo");
    let (status, repo) = call(
        &server,
        &token,
        Method::POST,
        "/v6/BackupRepositories",
        Some(json!({
            "name": "Mail", "path": repo_path.to_str().unwrap(), "retentionType": "SnapshotBased",
            "retentionPeriodType": "Yearly", "yearlyRetentionPeriod": "Year1"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{repo}");
    let repo_id = repo["id"].as_str().unwrap().to_owned();

    // Refusals first: an empty selection, an unknown repository.
    let (status, body) = call(&server, &token, Method::POST, &format!("/v6/Organizations/{org_id}/Jobs"), Some(json!({
        "name": "Nothing", "backupType": "SelectedItems", "repositoryId": repo_id, "selectedItems": []
    }))).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, &["selected item"]);
    let (status, body) = call(&server, &token, Method::POST, &format!("/v6/Organizations/{org_id}/Jobs"), Some(json!({
        "name": "Elsewhere", "backupType": "EntireOrganization", "repositoryId": uuid::Uuid::new_v4()
    }))).await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        &["no backup repository"],
    );

    let (status, job) = call(&server, &token, Method::POST, &format!("/v6/Organizations/{org_id}/Jobs"), Some(json!({
        "name": "Nancy's mail", "backupType": "SelectedItems", "RepositoryId": repo_id,
        "SelectedItems": [{"type": "User", "user": {"id": NANCY, "displayName": "Nancy Davolio"}, "Mailbox": true, "archiveMailbox": true, "site": false}],
        "schedulePolicy": {"type": "ManualOnly"}
    }))).await;
    assert_eq!(status, StatusCode::OK, "{job}");
    let job_id = job["id"].as_str().unwrap().to_owned();
    assert_eq!(job["lastStatus"], "Stopped");
    assert_eq!(job["isEnabled"], true);
    assert!(
        job.get("nextRun").is_none() && job.get("lastRun").is_none(),
        "{job}"
    );
    assert_eq!(job["schedulePolicy"]["type"], "ManualOnly");
    let (_, items) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/Jobs/{job_id}/SelectedItems"),
        None,
    )
    .await;
    let items = items.as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["mailbox"], true);
    assert!(items[0]["id"]
        .as_str()
        .unwrap()
        .starts_with("2b38d840-8098-4614-b369-ebce33f9b2c7"));
    let (_, listed) = call(&server, &token, Method::GET, "/v6/Jobs", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("/v6/Jobs/{job_id}/start"),
        Some(json!({"full": false})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let session = finished_session(&server, &token, &job_id, 1).await;
    // The archive mailbox cannot be backed up yet: a warning, not silence.
    assert_eq!(session["status"], "Warning", "{session}");
    assert!(session["endTime"].is_string());
    assert_eq!(session["progress"], 1);
    assert!(
        session["statistics"]["transferredDataBytes"]
            .as_i64()
            .unwrap()
            > 0
    );
    let session_id = session["id"].as_str().unwrap().to_owned();
    let (status, log) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/JobSessions/{session_id}/LogItems?limit=100"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let titles: Vec<&str> = log["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["title"].as_str().unwrap())
        .collect();
    assert!(
        titles[0].starts_with("[Success] Job started at "),
        "{titles:?}"
    );
    assert!(
        titles.contains(
            &"[Warning] Nancy Davolio: backing up the archive mailbox is not supported yet"
        ),
        "{titles:?}"
    );
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("[Success] Processing mailbox: Nancy Davolio (4 items")),
        "{titles:?}"
    );
    assert_eq!(log["totalCount"], titles.len());
    let downloads = sim.sim.stats().content.message_downloads;
    assert_eq!(downloads, 4);

    let (_, points) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/RestorePoints?jobId={job_id}"),
        None,
    )
    .await;
    let points = points.as_array().unwrap().clone();
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0]["isExchange"], true);
    assert_eq!(points[0]["organizationId"], org_id.as_str());
    let point_id = points[0]["id"].as_str().unwrap();
    let (_, mailboxes) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/RestorePoints/{point_id}/mailboxes"),
        None,
    )
    .await;
    assert_eq!(
        mailboxes[0]["email"], "nancy@contoso.onmicrosoft.com",
        "{mailboxes}"
    );
    assert_eq!(mailboxes.as_array().unwrap().len(), 1);
    let (_, job) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/Jobs/{job_id}"),
        None,
    )
    .await;
    assert_eq!(job["lastStatus"], "Warning");
    assert!(job["lastRun"].is_string());

    // The incremental: nothing changed, nothing downloaded, a new point.
    let (status, _) = call(
        &server,
        &token,
        Method::POST,
        &format!("/v6/Jobs/{job_id}/start"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    finished_session(&server, &token, &job_id, 2).await;
    assert_eq!(sim.sim.stats().content.message_downloads, downloads);
    let (_, points) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/RestorePoints?organizationId={org_id}"),
        None,
    )
    .await;
    assert_eq!(points.as_array().unwrap().len(), 2);
    let (_, all) = call(
        &server,
        &token,
        Method::GET,
        "/v6/JobSessions?jobType=Backup",
        None,
    )
    .await;
    assert_eq!(all["totalCount"], 2);

    // Disabled jobs do not start; stopping a job that is not running is refused.
    let (status, _) = call(
        &server,
        &token,
        Method::POST,
        &format!("/v6/Jobs/{job_id}/disable"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("/v6/Jobs/{job_id}/start"),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, &["disabled"]);
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("/v6/Jobs/{job_id}/stop"),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, &["not running"]);

    // One EntireOrganization job per organization and repository.
    let entire = json!({"name": "All", "backupType": "EntireOrganization", "repositoryId": repo_id, "schedulePolicy": {"type": "Daily", "dailyTime": "22:00"}});
    let (status, first) = call(
        &server,
        &token,
        Method::POST,
        &format!("/v6/Organizations/{org_id}/Jobs"),
        Some(entire.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert!(
        first["nextRun"].as_str().unwrap().contains("T22:00:00"),
        "{first}"
    );
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("/v6/Organizations/{org_id}/Jobs"),
        Some(entire),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // PUT and DELETE answer 204.
    let (status, _) = call(
        &server,
        &token,
        Method::PUT,
        &format!("/v6/Jobs/{job_id}"),
        Some(json!({"name": "Renamed"})),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, job) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/Jobs/{job_id}"),
        None,
    )
    .await;
    assert_eq!(job["name"], "Renamed");
    let (status, _) = call(
        &server,
        &token,
        Method::DELETE,
        &format!("/v6/Jobs/{job_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/Jobs/{job_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Its restore points stay.
    let (_, points) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/RestorePoints?jobId={job_id}"),
        None,
    )
    .await;
    assert_eq!(points.as_array().unwrap().len(), 2);
}
