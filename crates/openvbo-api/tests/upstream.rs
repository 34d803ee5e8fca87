//! Microsoft failing during an add: resets, throttling, errors, slowness.
//! The API answers a clear 502/503/504 or succeeds after waiting, within its
//! documented time, and never stores a half-verified organization.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_resets_are_retried_or_reported() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![contoso(), fabrikam()]).await;
    let proxy = FlakyProxy::start(&sim.url).await;
    let server = Server::start(config(dir.path(), &proxy.url)).await;
    let token = server.token().await;

    // Every other connection is reset: retries get through.
    proxy.reset_every.store(2, Ordering::SeqCst);
    let (status, body) = server
        .add(
            &token,
            seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        proxy.resets.load(Ordering::SeqCst) >= 1,
        "the proxy did reset connections"
    );

    // Every connection is reset: a clear 502, bounded in time, nothing stored.
    // (A restart empties the connector's pool of live connections.)
    server.stop().await;
    let server = Server::start(config(dir.path(), &proxy.url)).await;
    proxy.reset_every.store(1, Ordering::SeqCst);
    let started = Instant::now();
    let (status, body) = server
        .add(
            &token,
            seed_body("admin@fabrikam.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_GATEWAY,
        &["connection", "nothing was changed"],
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    proxy.reset_every.store(0, Ordering::SeqCst);
    let (_, list) = server
        .call(Method::GET, "/v6/Organizations", &token, None)
        .await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["contoso.onmicrosoft.com"]);
}

/// Lines written by the tracing subscriber of one test.
#[derive(Clone, Default)]
struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

// One thread: the server, the simulator and this test run on it, so the
// thread's own subscriber sees every line they log and none of the tests
// running beside it.
#[tokio::test(flavor = "current_thread")]
async fn a_502_is_logged_once_with_its_cause() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![contoso()]).await;
    let proxy = FlakyProxy::start(&sim.url).await;
    let server = Server::start(config(dir.path(), &proxy.url)).await;
    let token = server.token().await;
    // Every connection to Microsoft is reset.
    proxy.reset_every.store(1, Ordering::SeqCst);
    let (status, body) = server
        .add(
            &token,
            seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_GATEWAY,
        &["connection", "nothing was changed"],
    );
    server.stop().await;

    let lines = capture.lines();
    let logged: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("Microsoft 365 could not be used"))
        .collect();
    assert_eq!(logged.len(), 1, "one line for the one 502: {lines:#?}");
    let line = logged[0];
    assert!(
        line.contains("WARN") && line.contains("status=502"),
        "{line}"
    );
    // The cause as the connector saw it, which is what the client was told.
    let message = body["message"].as_str().unwrap();
    assert!(line.contains(message), "{line} lacks {message}");
    for line in &lines {
        assert!(!line.contains(M365_PASSWORD), "a secret in {line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_microsoft_during_verification_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![contoso()]).await;
    let mut cfg = config(dir.path(), &sim.url);
    cfg.m365_timeout = Duration::from_secs(1);
    let server = Server::start(cfg).await;
    let token = server.token().await;
    // Fail at each step in turn: the sign-in, the tenant read, the role read.
    for step in 1..=3 {
        sim.sim.set_fault(Some(m365_sim::Fault::Unavailable {
            every: step,
            retry_after_secs: 60,
        }));
        let started = Instant::now();
        let (status, body) = server
            .add(
                &token,
                seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
            )
            .await;
        assert_error(
            status,
            &body,
            StatusCode::SERVICE_UNAVAILABLE,
            &["unavailable", "nothing was changed"],
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a long Retry-After is reported, not waited"
        );
    }
    sim.sim.set_fault(None);
    let (_, list) = server
        .call(Method::GET, "/v6/Organizations", &token, None)
        .await;
    assert_eq!(list, json!([]));
    // A failure in the middle of an update changes nothing either.
    let (status, org) = server
        .add(
            &token,
            seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("/v6/Organizations/{}", org["id"].as_str().unwrap());
    sim.sim.set_fault(Some(m365_sim::Fault::Unavailable {
        every: 2,
        retry_after_secs: 60,
    }));
    let (status, _) = server
        .call(Method::PUT, &path, &token, Some(json!({"exchangeOnlineSettings": {"account": "exchadmin@contoso.onmicrosoft.com", "password": M365_PASSWORD}})))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    sim.sim.set_fault(None);
    let (_, after) = server.call(Method::GET, &path, &token, None).await;
    assert_eq!(after, org);
}
