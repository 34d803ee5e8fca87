//! No secret in the data dir or the logs. This binary installs its own
//! tracing subscriber, at TRACE for the server's crates and its HTTP stack,
//! and captures every line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_data_dir_or_the_logs() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace,m365_sim=off,reqwest=trace,hyper=trace,h2=trace,rustls=trace")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![contoso()]).await;
    let server = Server::start(config(dir.path(), &sim.url)).await;
    let (_, grant) = server.login(ADMIN, ADMIN_PASSWORD).await;
    let token = grant["access_token"].as_str().unwrap().to_owned();
    let refresh = grant["refresh_token"].as_str().unwrap().to_owned();
    let (status, _) = server.login(ADMIN, "Wrong-Admin-Guess").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, org) = server
        .add(
            &token,
            seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .add(
            &token,
            seed_body("admin@contoso.onmicrosoft.com", "Wrong-M365-Guess"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let path = format!("/v6/Organizations/{}", org["id"].as_str().unwrap());
    sim.sim
        .set_password(
            "contoso.onmicrosoft.com",
            "admin@contoso.onmicrosoft.com",
            "Rotated-Passw0rd-9",
        )
        .unwrap();
    let (status, body) = server
        .call(Method::PUT, &path, &token, Some(json!({"exchangeOnlineSettings": {"password": "Rotated-Passw0rd-9"}, "sharePointOnlineSettings": {"password": "Rotated-Passw0rd-9"}})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let r = server
        .client
        .post(server.url("/v6/Token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (status, list) = server
        .call(Method::GET, "/v6/Organizations", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    server.stop().await;

    let secrets = [
        ADMIN_PASSWORD,
        "Wrong-Admin-Guess",
        M365_PASSWORD,
        "Wrong-M365-Guess",
        "Rotated-Passw0rd-9",
        token.as_str(),
        refresh.as_str(),
    ];
    for secret in &secrets {
        assert!(
            !list.to_string().contains(secret),
            "a response holds {secret}"
        );
    }

    let files = files_under(dir.path());
    assert!(files.iter().any(|f| f.ends_with("openvbo.db")), "{files:?}");
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for secret in &secrets {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "{} contains the secret {secret}", file.display());
        }
    }

    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).to_string();
    assert!(
        logs.contains("organization added"),
        "the capture works: {}",
        &logs[..logs.len().min(2000)]
    );
    assert!(logs.lines().count() > 50, "trace level captured");
    for secret in &secrets {
        assert!(
            !logs.contains(secret),
            "the log contains the secret {secret}"
        );
    }
}
