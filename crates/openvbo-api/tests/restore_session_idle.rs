//! The configured restore-session idle time (`restore_session_idle_secs`) is the one the
//! restore sessions stop after: on a manual clock, a session is still working just before
//! it and stopped just after.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;

use std::time::Duration;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn state(server: &Server, token: &str, session: &str) -> Value {
    let (status, body) = server
        .call(
            Method::GET,
            &format!("/v6/RestoreSessions/{session}"),
            token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_session_stops_after_the_configured_idle_time() {
    let clock = openvbo_core::clock::ManualClock::new();
    let (_dir, _sim, server) = start_on_clock(
        vec![contoso()],
        |c| c.restore_session_idle = Duration::from_secs(120),
        clock.clone(),
    )
    .await;
    let token = server.token().await;
    let (status, org) = server
        .add(
            &token,
            seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let org_id = org["id"].as_str().unwrap();
    // No backup yet: an empty session, working all the same.
    let (status, session) = server
        .call(
            Method::POST,
            &format!("/v6/Organizations/{org_id}/explore"),
            &token,
            Some(json!({"type": "Vex"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let id = session["id"].as_str().unwrap().to_owned();
    assert_eq!(session["state"], "Working", "{session}");

    // Under the configured 120 s (far under the 30-minute default): still working.
    clock.advance(Duration::from_secs(119));
    let body = state(&server, &token, &id).await;
    assert_eq!(body["state"], "Working", "{body}");
    assert!(body.get("endTime").is_none(), "{body}");

    // 120 s without use: stopped, with its end time.
    clock.advance(Duration::from_secs(121));
    let body = state(&server, &token, &id).await;
    assert_eq!(body["state"], "Stopped", "{body}");
    assert!(body["endTime"].is_string(), "{body}");
    server.stop().await;
}
