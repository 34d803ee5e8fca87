//! Schedules over HTTPS on a manual clock: the server's scheduler sleeps on
//! the injected clock, so advancing it past a job's `nextRun` starts a
//! session (seen through `GET /v6/JobSessions`), `nextRun` moves on, and a
//! run that falls due outside its backup window waits for the window.
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
use openvbo_core::clock::ManualClock;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::macros::datetime;
use time::OffsetDateTime;

/// Waits (bounded) until the scheduler has finished a pass after the
/// `before`th sleep: it sleeps again only after a whole pass.
async fn scheduler_pass(clock: &ManualClock, before: u64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while clock.sleeps_started() <= before {
        assert!(Instant::now() < deadline, "the scheduler made no pass");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Advances the clock by `by` and waits for the scheduler's pass at the new time.
async fn advance(clock: &ManualClock, by: time::Duration) {
    let before = clock.sleeps_started();
    clock.advance(by.try_into().unwrap());
    scheduler_pass(clock, before).await;
}

async fn scheduled_job(
    server: &Server,
    token: &str,
    org: &str,
    repo: &str,
    user: &str,
    policy: Value,
) -> String {
    let (status, job) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/Organizations/{org}/Jobs"),
        Some(json!({
            "name": format!("Mail of {user}"), "backupType": "SelectedItems", "repositoryId": repo,
            "selectedItems": [{"type": "User", "user": {"id": user}, "mailbox": true}],
            "schedulePolicy": policy
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    job["id"].as_str().unwrap().to_owned()
}

fn time_of(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(
        v.as_str().unwrap_or_else(|| panic!("not a time: {v}")),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

async fn next_run(server: &Server, token: &str, job: &str) -> OffsetDateTime {
    let job = get_ok(server, token, &format!("/v6/Jobs/{job}")).await;
    time_of(&job["nextRun"])
}

/// The sessions of `job`, newest first.
async fn sessions(server: &Server, token: &str, job: &str) -> Vec<Value> {
    let page = get_ok(server, token, "/v6/JobSessions?limit=100").await;
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["_links"]["job"]["href"] == format!("/v6/jobs/{job}").as_str())
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn periodic_and_daily_jobs_run_when_the_clock_reaches_them_and_honour_the_window() {
    // Monday 2 March 2026, 08:00 UTC.
    let clock = ManualClock::starting_at(datetime!(2026-03-02 08:00:00 UTC));
    let (_dir, _sim, server) =
        start_on_clock(vec![tenant_with_mail()], |_| {}, clock.clone()).await;
    let token = server.token().await;
    let repo_dir = tempfile::tempdir().unwrap();
    let (org, repo) = organization_and_repository(&server, &token, repo_dir.path()).await;

    let periodic = scheduled_job(
        &server,
        &token,
        &org,
        &repo,
        NANCY,
        json!({"type": "Periodically", "periodicallyEvery": "Minutes30", "retryEnabled": false}),
    )
    .await;
    // Daily at 10:00, allowed to run only from 10:00 to 11:00 (any day).
    let window: Vec<bool> = (0..168).map(|slot| slot % 24 == 10).collect();
    let daily = scheduled_job(
        &server,
        &token,
        &org,
        &repo,
        ANDREW,
        json!({
            "type": "Daily", "dailyType": "Everyday", "dailyTime": "10:00:00", "retryEnabled": false,
            "backupWindowEnabled": true,
            "backupWindowSettings": {"backupWindow": window, "minuteOffset": 0}
        }),
    )
    .await;
    assert_eq!(
        next_run(&server, &token, &periodic).await,
        datetime!(2026-03-02 08:30:00 UTC)
    );
    assert_eq!(
        next_run(&server, &token, &daily).await,
        datetime!(2026-03-02 10:00:00 UTC)
    );
    // The scheduler has made its first pass (before the jobs existed) and sleeps.
    scheduler_pass(&clock, 0).await;
    assert!(sessions(&server, &token, &periodic).await.is_empty());

    // 08:31: the periodic job is due, the daily one is not.
    advance(&clock, time::Duration::minutes(31)).await;
    let started = sessions(&server, &token, &periodic).await;
    assert_eq!(started.len(), 1, "{started:?}");
    assert_eq!(
        time_of(&started[0]["creationTime"]),
        datetime!(2026-03-02 08:31:00 UTC)
    );
    let first = finished_session(&server, &token, &periodic, 1).await;
    assert_eq!(first["status"], "Success", "{first}");
    assert_eq!(
        next_run(&server, &token, &periodic).await,
        datetime!(2026-03-02 09:00:00 UTC),
        "nextRun moved on to the next half hour"
    );
    assert!(sessions(&server, &token, &daily).await.is_empty());

    // 11:30: the daily run (due 10:00) missed its window and waits; the
    // periodic one runs.
    advance(&clock, time::Duration::minutes(179)).await;
    let token = server.token().await;
    assert!(
        sessions(&server, &token, &daily).await.is_empty(),
        "a run outside its backup window waits"
    );
    assert_eq!(
        next_run(&server, &token, &daily).await,
        datetime!(2026-03-02 10:00:00 UTC),
        "the waiting run keeps its time"
    );
    let second = finished_session(&server, &token, &periodic, 2).await;
    assert_eq!(
        time_of(&second["creationTime"]),
        datetime!(2026-03-02 11:30:00 UTC)
    );
    assert_eq!(
        next_run(&server, &token, &periodic).await,
        datetime!(2026-03-02 12:00:00 UTC)
    );

    // Tuesday 10:05: the window is open again, the daily run starts.
    advance(&clock, time::Duration::minutes(22 * 60 + 35)).await;
    let token = server.token().await;
    let run = finished_session(&server, &token, &daily, 1).await;
    assert_eq!(run["status"], "Success", "{run}");
    assert_eq!(
        time_of(&run["creationTime"]),
        datetime!(2026-03-03 10:05:00 UTC)
    );
    let log = log_titles(&server, &token, run["id"].as_str().unwrap()).await;
    assert!(
        log.iter()
            .any(|t| t.starts_with("[Success] Processing mailbox: Andrew Fuller")),
        "{log:?}"
    );
    assert_eq!(
        next_run(&server, &token, &daily).await,
        datetime!(2026-03-04 10:00:00 UTC),
        "the next daily run is Wednesday's"
    );
    finished_session(&server, &token, &periodic, 3).await;
    assert_eq!(sessions(&server, &token, &daily).await.len(), 1);

    // Disabled, a job has no nextRun and the clock passing its time starts nothing.
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("/v6/Jobs/{periodic}/disable"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let job = get_ok(&server, &token, &format!("/v6/Jobs/{periodic}")).await;
    assert!(job.get("nextRun").is_none(), "{job}");
    advance(&clock, time::Duration::hours(2)).await;
    let token = server.token().await;
    assert_eq!(sessions(&server, &token, &periodic).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_still_going_when_its_window_closes_stops_and_waits_for_the_next_window() {
    // Monday 2 March 2026, 09:59 UTC; the window is 10:00 to 11:00 daily.
    let clock = ManualClock::starting_at(datetime!(2026-03-02 09:59:00 UTC));
    let (_dir, sim, server) = start_on_clock(vec![tenant_with_mail()], |_| {}, clock.clone()).await;
    let token = server.token().await;
    let repo_dir = tempfile::tempdir().unwrap();
    let (org, repo) = organization_and_repository(&server, &token, repo_dir.path()).await;
    let window: Vec<bool> = (0..168).map(|slot| slot % 24 == 10).collect();
    let job = scheduled_job(
        &server,
        &token,
        &org,
        &repo,
        NANCY,
        json!({
            "type": "Daily", "dailyType": "Everyday", "dailyTime": "10:00:00", "retryEnabled": false,
            "backupWindowEnabled": true,
            "backupWindowSettings": {"backupWindow": window, "minuteOffset": 0}
        }),
    )
    .await;
    scheduler_pass(&clock, 0).await;
    // Microsoft answers slowly, so the run is still going at 11:00.
    sim.sim.set_latency(Duration::from_millis(300));
    advance(&clock, time::Duration::minutes(2)).await;
    let started = sessions(&server, &token, &job).await;
    assert_eq!(started.len(), 1, "{started:?}");
    assert_eq!(started[0]["status"], "Running");
    advance(&clock, time::Duration::minutes(59)).await;
    sim.sim.set_latency(Duration::ZERO);
    let token = server.token().await;
    let ended = finished_session(&server, &token, &job, 1).await;
    assert_eq!(ended["status"], "Stopped", "{ended}");
    let log = log_titles(&server, &token, ended["id"].as_str().unwrap()).await;
    assert!(
        log.iter().any(
            |t| t == "[Warning] The backup window closed; the job continues in the next window"
        ),
        "{log:?}"
    );
    assert_eq!(
        next_run(&server, &token, &job).await,
        datetime!(2026-03-03 10:00:00 UTC),
        "it continues when the window next opens"
    );
}
