//! A backup of 20 mailboxes over HTTPS against a simulator enforcing
//! Microsoft's limits (`--throttle-profile microsoft`) with a tight
//! per-mailbox budget: the job waits out the 429s instead of failing, ends
//! `Success` with every message, and never has more than Microsoft's four
//! requests in flight on one mailbox.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;
mod jobs_common;

use std::time::Duration;

use common::*;
use jobs_common::*;
use m365_sim::{
    Budget, ContentOptions, SimOptions, SyntheticSpec, ThrottleOptions, ThrottleProfile,
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const USERS: u32 = 20;
const MESSAGES: u32 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_mailboxes_under_microsofts_limits_finish_with_at_most_four_requests_per_mailbox() {
    let tenant = m365_sim::synthetic_tenant(
        7,
        SyntheticSpec {
            users: USERS,
            groups: 0,
            sites: 0,
        },
    );
    let users: Vec<String> = tenant
        .users
        .iter()
        .filter(|u| u.user_principal_name.starts_with("user"))
        .map(|u| u.id.clone())
        .collect();
    assert_eq!(users.len(), USERS as usize);
    let sim = SimWith::start(
        vec![tenant],
        SimOptions {
            throttle: ThrottleOptions {
                profile: ThrottleProfile::Microsoft,
                // Tight: a mailbox's backup needs more requests than one
                // window allows, so every mailbox is refused and waits.
                mailbox_budget: Budget {
                    requests: 8,
                    window: Duration::from_secs(1),
                },
                mailbox_concurrency: 4,
            },
            content: ContentOptions {
                synthetic_messages: MESSAGES,
                ..ContentOptions::default()
            },
            ..SimOptions::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(config(dir.path(), &sim.url)).await;
    let token = server.token().await;
    let (status, org) = server
        .add(
            &token,
            seed_body("admin@synth7.onmicrosoft.com", m365_sim::SYNTHETIC_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let org = org["id"].as_str().unwrap().to_owned();
    let repo_dir = tempfile::tempdir().unwrap();
    let (status, repo) = call(
        &server,
        &token,
        Method::POST,
        "/v6/BackupRepositories",
        Some(json!({
            "name": "Mail", "path": repo_dir.path().join("repo").to_str().unwrap(),
            "retentionType": "SnapshotBased", "retentionPeriodType": "Yearly", "yearlyRetentionPeriod": "Year1"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{repo}");
    let selected: Vec<Value> = users
        .iter()
        .map(|u| json!({"type": "User", "user": {"id": u}, "mailbox": true}))
        .collect();
    let (status, job) = call(
        &server,
        &token,
        Method::POST,
        &format!("/v6/Organizations/{org}/Jobs"),
        Some(json!({
            "name": "Twenty", "backupType": "SelectedItems", "repositoryId": repo["id"],
            "selectedItems": selected, "schedulePolicy": {"type": "ManualOnly"}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    let job = job["id"].as_str().unwrap().to_owned();

    sim.sim.reset_stats();
    let session = run_within(&server, &token, &job, Duration::from_secs(120)).await;
    let log = log_titles(&server, &token, session["id"].as_str().unwrap()).await;
    assert_eq!(session["status"], "Success", "{session} {log:?}");
    assert_eq!(session["progress"], USERS, "{session}");
    let stats = sim.sim.stats();
    assert!(
        stats.throttle.max_concurrent_per_mailbox <= 4,
        "at most Microsoft's 4 requests in flight per mailbox: {:?}",
        stats.throttle
    );
    assert!(
        stats.throttle.rejected > 0,
        "the budget was tight enough to refuse some requests: {:?}",
        stats.throttle
    );
    assert_eq!(
        stats.content.message_downloads,
        u64::from(USERS * MESSAGES),
        "each message once, 429s retried rather than repeated: {:?}",
        stats.content
    );
    let processed = log
        .iter()
        .filter(|t| t.starts_with("[Success] Processing mailbox: User "))
        .count();
    assert_eq!(processed, USERS as usize, "{log:?}");
}

/// Starts `job` and waits (bounded by `limit`) for its first session to end.
async fn run_within(server: &Server, token: &str, job: &str, limit: Duration) -> Value {
    let (status, body) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/Jobs/{job}/start"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    tokio::time::timeout(limit, finished_session_patiently(server, token, job))
        .await
        .expect("the backup under throttling did not end in time")
}

async fn finished_session_patiently(server: &Server, token: &str, job: &str) -> Value {
    loop {
        let page = get_ok(server, token, &format!("/v6/Jobs/{job}/JobSessions")).await;
        if let Some(s) = page["results"].as_array().unwrap().first() {
            if s["status"] != "Running" {
                return s.clone();
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
