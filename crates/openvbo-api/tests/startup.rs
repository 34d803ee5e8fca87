//! Startup: HTTPS only (the operator's certificate, the generated one reused, no
//! plain HTTP), the master key check, one server per data dir.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;

use common::*;
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_certificate_is_served_and_plain_http_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = dir.path().join("operator-cert.pem");
    let key_path = dir.path().join("operator-key.pem");
    std::fs::write(&cert_path, certified.cert.pem()).unwrap();
    std::fs::write(&key_path, certified.key_pair.serialize_pem()).unwrap();

    let sim = Sim::start(vec![contoso()]).await;
    let mut cfg = config(&dir.path().join("data"), &sim.url);
    cfg.tls_cert = Some(cert_path.clone());
    cfg.tls_key = Some(key_path);
    let server = Server::start(cfg).await;
    assert!(
        !openvbo_server::tls::generated_paths(&server.data_dir)
            .0
            .exists(),
        "no certificate generated"
    );

    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap(),
        )
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    let r = client
        .get(server.url("/v6/ServiceInstance"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "served with the operator's certificate"
    );

    let plain = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{}/v6/ServiceInstance",
            server.addr.port()
        ))
        .send()
        .await;
    assert!(
        plain.is_err() || !plain.unwrap().status().is_success(),
        "plain HTTP must not be served"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_certificate_is_reused_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![contoso()]).await;
    let server = Server::start(config(dir.path(), &sim.url)).await;
    let (cert, key) = openvbo_server::tls::generated_paths(dir.path());
    let first = std::fs::read(&cert).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(dir.path().join("master.key"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    server.stop().await;
    let server = Server::start(config(dir.path(), &sim.url)).await;
    assert_eq!(std::fs::read(&cert).unwrap(), first);
    // The client built from the first certificate still trusts the restarted server.
    let token = server.token().await;
    assert!(!token.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_different_master_key_is_refused_at_startup() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![contoso()]).await;
    let server = Server::start(config(dir.path(), &sim.url)).await;
    server.stop().await;
    let mut cfg = config(dir.path(), &sim.url);
    // A valid key, but not this data dir's.
    cfg.master_key = Some(secrecy::SecretString::from(
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    ));
    let err = openvbo_server::prepare(cfg)
        .await
        .err()
        .expect("must refuse");
    assert!(chain(&err).contains("does not match"), "{}", chain(&err));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_data_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![contoso()]).await;
    let server = Server::start(config(dir.path(), &sim.url)).await;
    let err = openvbo_server::prepare(config(dir.path(), &sim.url))
        .await
        .err()
        .expect("must refuse");
    assert!(
        chain(&err).contains("another openvbo server"),
        "{}",
        chain(&err)
    );
    // The administrator tools still work beside it.
    let password = openvbo_server::reset_admin_password(&config(dir.path(), &sim.url), ADMIN, None)
        .await
        .unwrap();
    assert_eq!(
        server
            .login(ADMIN, secrecy::ExposeSecret::expose_secret(&password))
            .await
            .0,
        StatusCode::OK
    );
    server.stop().await;
    // Once it stopped, the next one starts.
    let again = Server::start(config(dir.path(), &sim.url)).await;
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_beside_the_master_key_is_refused_unless_initializing() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![contoso()]).await;
    let server = Server::start(config(dir.path(), &sim.url)).await;
    let token = server.token().await;
    let (status, _) = server
        .add(
            &token,
            seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    server.stop().await;
    let database = dir.path().join(openvbo_server::data_dir::DATABASE_FILE);
    for lose in ["delete", "empty"] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", database.display()));
        }
        if lose == "empty" {
            std::fs::write(&database, b"").unwrap();
        }
        let err = openvbo_server::prepare(config(dir.path(), &sim.url))
            .await
            .err()
            .expect("must refuse");
        let message = chain(&err);
        assert!(message.contains("no database"), "{lose}: {message}");
        assert!(message.contains("--initialize"), "{lose}: {message}");
        // Nothing was created on the way.
        let len = std::fs::metadata(&database).map_or(0, |m| m.len());
        assert_eq!(len, 0, "{lose}");
        // The administrator tools refuse too.
        let err = openvbo_server::reset_admin_password(&config(dir.path(), &sim.url), ADMIN, None)
            .await
            .expect_err("must refuse");
        assert!(chain(&err).contains("no database"), "{}", chain(&err));
    }
    // Asked to, it begins a new installation with the same key.
    let mut cfg = config(dir.path(), &sim.url);
    cfg.initialize = true;
    let server = Server::start(cfg).await;
    let token = server.token().await;
    let (status, body) = server
        .call(reqwest::Method::GET, "/v6/Organizations", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, serde_json::json!([]));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_admin_passwords_and_absurd_lifetimes_are_refused_at_startup() {
    let sim = Sim::start(vec![contoso()]).await;
    for weak in ["x", "short-pw", "aaaaaaaaaaaaaaaa", &"p".repeat(600)] {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = config(dir.path(), &sim.url);
        cfg.admin_password = Some(secrecy::SecretString::from(weak.to_owned()));
        let err = openvbo_server::prepare(cfg)
            .await
            .err()
            .expect("must refuse");
        assert!(chain(&err).contains("password"), "{}", chain(&err));
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &sim.url);
    cfg.access_token_lifetime = std::time::Duration::from_secs(u64::MAX);
    let err = openvbo_server::prepare(cfg)
        .await
        .err()
        .expect("must refuse");
    assert!(
        chain(&err).contains("access_token_lifetime"),
        "{}",
        chain(&err)
    );
    // The largest accepted lifetime signs in without overflowing.
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), &sim.url);
    cfg.refresh_token_lifetime = openvbo_core_max();
    let server = Server::start(cfg).await;
    server.token().await;
    server.stop().await;
}

/// An error and its causes, as the binary prints them.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(err), |e| e.source())
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

fn openvbo_core_max() -> std::time::Duration {
    std::time::Duration::from_secs(366 * 24 * 60 * 60)
}
