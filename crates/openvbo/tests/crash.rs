//! Crash safety: the server killed with SIGKILL in the middle of concurrent
//! adds, updates and deletes comes back with a sound database, every
//! acknowledged change kept, nothing refused present, nothing half-written.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use m365_sim::{SimOptions, Simulator, SyntheticSpec, SYNTHETIC_PASSWORD};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_openvbo");
const ADMIN_PASSWORD: &str = "Crash-Test-Admin-1";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_server(data: &std::path::Path, port: u16, sim: &str) -> Child {
    Command::new(BIN)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--m365-login-url",
            sim,
            "--m365-graph-url",
            sim,
        ])
        .arg("--data-dir")
        .arg(data)
        .env("OPENVBO_ADMIN_USER", "admin")
        .env("OPENVBO_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("OPENVBO_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Until the server answers HTTPS (it listens before its certificate exists).
async fn wait_up(port: u16, data: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if data.join("tls/cert.pem").exists() {
            let answered = client(data)
                .get(format!("https://localhost:{port}/v6/ServiceInstance"))
                .send()
                .await
                .is_ok();
            if answered {
                return;
            }
        }
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn client(data: &std::path::Path) -> reqwest::Client {
    let pem = std::fs::read(data.join("tls/cert.pem")).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .tls_built_in_root_certs(false)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn body(tenant: u32) -> Value {
    let account = format!("admin@synth{tenant}.onmicrosoft.com");
    json!({
        "type": "Office365", "region": "Worldwide", "isExchangeOnline": true, "isSharePointOnline": true,
        "exchangeOnlineSettings": {"account": account, "password": SYNTHETIC_PASSWORD, "grantAdminAccess": false},
        "sharePointOnlineSettings": {"account": account, "password": SYNTHETIC_PASSWORD, "grantAdminAccess": false}
    })
}

/// What the client learnt: a status, or nothing (the connection died).
type Outcome = Option<u16>;

enum Op {
    Add(u32),
    Update(String),
    Delete(String),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_flight_loses_nothing_acknowledged() {
    let spec = SyntheticSpec {
        users: 2,
        groups: 0,
        sites: 0,
    };
    let sim = Simulator::new(
        m365_sim::synthetic_tenants(200, spec),
        SimOptions::default(),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(sim.clone().serve(listener, std::future::pending()));

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_path_buf();
    let mut next_tenant = 1u32;
    // Three rounds, killed once 1, 10 and 25 requests of the burst have been
    // answered: some acknowledged, the rest in flight.
    for kill_after_answers in [1usize, 10, 25] {
        let port = free_port();
        let mut server = spawn_server(&data, port, &sim_url);
        wait_up(port, &data).await;
        let http = client(&data);
        let base = format!("https://localhost:{port}");
        let token: Value = http
            .post(format!("{base}/v6/Token"))
            .form(&[
                ("grant_type", "password"),
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = token["access_token"].as_str().unwrap().to_owned();

        // Existing organizations to update and delete.
        let existing: Vec<Value> = http
            .get(format!("{base}/v6/Organizations"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let before: HashMap<String, Value> = existing
            .into_iter()
            .map(|o| (o["id"].as_str().unwrap().to_owned(), o))
            .collect();
        let mut ops = Vec::new();
        for _ in 0..50 {
            ops.push(Op::Add(next_tenant));
            next_tenant += 1;
        }
        for (i, id) in before.keys().enumerate() {
            ops.push(if i % 2 == 0 {
                Op::Update(id.clone())
            } else {
                Op::Delete(id.clone())
            });
            if i >= 9 {
                break;
            }
        }
        sim.set_latency(Duration::from_millis(20));
        let http = Arc::new(http);
        let answered = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for op in ops {
            let (http, base, token, answered) =
                (http.clone(), base.clone(), token.clone(), answered.clone());
            tasks.push(tokio::spawn(async move {
                let request = match &op {
                    Op::Add(t) => http.post(format!("{base}/v6/Organizations")).json(&body(*t)),
                    Op::Update(id) => http.put(format!("{base}/v6/Organizations/{id}")).json(&json!({
                        "exchangeOnlineSettings": {"grantAdminAccess": true, "password": SYNTHETIC_PASSWORD},
                        "sharePointOnlineSettings": {"grantAdminAccess": true, "password": SYNTHETIC_PASSWORD}
                    })),
                    Op::Delete(id) => http.delete(format!("{base}/v6/Organizations/{id}")),
                };
                let outcome: Outcome = request.bearer_auth(token).send().await.ok().map(|r| r.status().as_u16());
                if outcome.is_some() {
                    answered.fetch_add(1, Ordering::SeqCst);
                }
                (op, outcome)
            }));
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while answered.load(Ordering::SeqCst) < kill_after_answers {
            assert!(Instant::now() < deadline, "the burst never got answers");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        let results: Vec<(Op, Outcome)> = futures::future::join_all(tasks)
            .await
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        sim.set_latency(Duration::ZERO);

        // The database is sound.
        {
            let store = openvbo_store::SqliteStore::open(&data.join("openvbo.db"))
                .await
                .unwrap();
            assert!(
                store.integrity_check().await.unwrap(),
                "integrity_check after SIGKILL"
            );
            store.close().await;
        }
        let port = free_port();
        let mut server = spawn_server(&data, port, &sim_url);
        wait_up(port, &data).await;
        let base = format!("https://localhost:{port}");
        let http = client(&data);
        // A token issued before the crash still works: tokens are persisted.
        let r = http
            .get(format!("{base}/v6/Organizations"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "the pre-crash token survives");
        let after: Vec<Value> = r.json().await.unwrap();
        let by_name: HashMap<String, &Value> = after
            .iter()
            .map(|o| (o["name"].as_str().unwrap().to_owned(), o))
            .collect();
        let by_id: HashMap<String, &Value> = after
            .iter()
            .map(|o| (o["id"].as_str().unwrap().to_owned(), o))
            .collect();

        let mut acknowledged = 0;
        let mut lost_in_flight = 0;
        for (op, outcome) in &results {
            match (op, outcome) {
                (Op::Add(t), Some(200)) => {
                    acknowledged += 1;
                    let org = by_name
                        .get(&format!("synth{t}.onmicrosoft.com"))
                        .unwrap_or_else(|| panic!("acknowledged add of synth{t} lost"));
                    assert_eq!(
                        org["exchangeOnlineSettings"]["account"],
                        format!("admin@synth{t}.onmicrosoft.com")
                    );
                }
                (Op::Add(t), Some(status)) => {
                    assert!(
                        !by_name.contains_key(&format!("synth{t}.onmicrosoft.com")),
                        "refused add ({status}) of synth{t} is present"
                    );
                }
                (Op::Delete(id), Some(204)) => {
                    acknowledged += 1;
                    assert!(
                        !by_id.contains_key(id),
                        "acknowledged delete of {id} undone"
                    );
                }
                (Op::Delete(id), Some(status)) => panic!("delete of {id} answered {status}"),
                (Op::Update(id), Some(204)) => {
                    acknowledged += 1;
                    let org = by_id
                        .get(id)
                        .unwrap_or_else(|| panic!("updated {id} vanished"));
                    assert_eq!(org["exchangeOnlineSettings"]["grantAdminAccess"], true);
                    assert_eq!(org["sharePointOnlineSettings"]["grantAdminAccess"], true);
                }
                (Op::Update(id), Some(status)) => panic!("update of {id} answered {status}"),
                (_, None) => lost_in_flight += 1,
            }
        }
        // Whatever was in flight is all or nothing: both services agree.
        for org in &after {
            assert_eq!(
                org["exchangeOnlineSettings"]["grantAdminAccess"],
                org["sharePointOnlineSettings"]["grantAdminAccess"],
                "half-applied update: {org}"
            );
        }
        // And every surviving organization's sealed passwords still open:
        // re-verification with Microsoft works for each one.
        for org in &after {
            let id = org["id"].as_str().unwrap();
            let r = http
                .put(format!("{base}/v6/Organizations/{id}"))
                .bearer_auth(&token)
                .json(&json!({"isTeamsOnline": !org["isTeamsOnline"].as_bool().unwrap()}))
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status().as_u16(),
                204,
                "{id}: {}",
                r.text().await.unwrap()
            );
        }
        eprintln!(
            "killed after {kill_after_answers} answers: {acknowledged} acknowledged, {lost_in_flight} cut off, {} organizations",
            after.len()
        );
        assert!(
            acknowledged >= 1 && lost_in_flight >= 1,
            "the kill must land mid-flight"
        );
        server.kill().unwrap();
        server.wait().unwrap();
    }
}
