//! Crash safety of backups: the `openvbo serve` process killed with SIGKILL
//! in the middle of a run, at two points (right after the first mailbox
//! finished, and in the middle of a OneDrive), then started again on the
//! same data dir. Each interrupted session ends `Failed` with a log item
//! saying so, `openvbo repo check` finds the repository consistent after
//! each kill, and the next run continues from the last checkpoint: what was
//! stored before the crash is not downloaded again (the simulator's
//! counters and the runs' own log lines).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use m365_sim::{SimOptions, Simulator};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_openvbo");
const ADMIN_PASSWORD: &str = "Crash-Test-Admin-1";
const M365_PASSWORD: &str = "Tenant-Secret-Passw0rd!";
const ALICE: &str = "00000000-0000-4000-8000-000001000001";
const BOB: &str = "00000000-0000-4000-8000-000001000002";
const CAROL: &str = "00000000-0000-4000-8000-000001000003";
const BOB_FOLDERS: usize = 3;
const BOB_PER_FOLDER: usize = 40;
const CAROL_FILES: usize = 400;
/// The engine's checkpoint interval (items), as the server configures it.
const CHECKPOINT_EVERY: usize = 100;
const INTERRUPTED: &str =
    "[Failed] Job session was interrupted: the server stopped while it was running";

fn tenant() -> m365_sim::Tenant {
    let user = |n: u32, local: &str, name: &str, extra: Value| {
        let mut u = json!({
            "id": format!("00000000-0000-4000-8000-000001{n:06}"),
            "userPrincipalName": format!("{local}@contoso.onmicrosoft.com"),
            "displayName": name,
            "password": M365_PASSWORD,
        });
        for (k, v) in extra.as_object().unwrap() {
            u[k] = v.clone();
        }
        u
    };
    let bob_folders: Vec<Value> = (0..BOB_FOLDERS)
        .map(|f| {
            let messages: Vec<Value> = (0..BOB_PER_FOLDER)
                .map(|m| json!({"subject": format!("Bob {f}/{m}"), "from": "x@contoso.com", "body": format!("message {f} {m} ").repeat(20)}))
                .collect();
            json!({"displayName": format!("Folder {f}"), "messages": messages})
        })
        .collect();
    let carol_files: Vec<Value> = (0..CAROL_FILES)
        .map(|i| json!({"path": format!("Dir {}/file-{i:03}.txt", i % 4), "content": format!("file {i} ").repeat(30)}))
        .collect();
    serde_json::from_value(json!({
        "id": "11111111-0000-4000-8000-000000000001",
        "displayName": "contoso",
        "initialDomain": "contoso.onmicrosoft.com",
        "verifiedDomains": ["contoso.example.com"],
        "users": [
            user(0, "admin", "admin", json!({"roles": ["Global Administrator"]})),
            user(1, "alice", "Alice Smith", json!({"mailFolders": [{"displayName": "Inbox", "wellKnownName": "inbox", "messages": [
                {"subject": "One", "from": "x@contoso.com", "body": "1"},
                {"subject": "Two", "from": "x@contoso.com", "body": "2"},
                {"subject": "Three", "from": "x@contoso.com", "body": "3"}
            ]}]})),
            user(2, "bob", "Bob Jones", json!({"mailFolders": bob_folders})),
            user(3, "carol", "Carol White", json!({"driveItems": carol_files})),
        ],
    }))
    .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_server(data: &Path, port: u16, sim: &str) -> Child {
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

fn client(data: &Path) -> reqwest::Client {
    let pem = std::fs::read(data.join("tls/cert.pem")).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .tls_built_in_root_certs(false)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A running server: its process, its HTTPS client and a token.
struct Api {
    child: Child,
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn start(data: &Path, sim: &str) -> Api {
        let port = free_port();
        let child = spawn_server(data, port, sim);
        let base = format!("https://localhost:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        // It listens before its certificate exists.
        let http = loop {
            if data.join("tls/cert.pem").exists() {
                let http = client(data);
                if http
                    .get(format!("{base}/v6/ServiceInstance"))
                    .send()
                    .await
                    .is_ok()
                {
                    break http;
                }
            }
            assert!(Instant::now() < deadline, "server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
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
        Api {
            child,
            http,
            base,
            token: token["access_token"].as_str().unwrap().to_owned(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    async fn start_job(&self, job: &str) {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                &format!("/v6/Jobs/{job}/start"),
                None,
            )
            .await;
        assert_eq!(status, 204, "{body}");
    }

    /// The newest session of `job`.
    async fn newest_session(&self, job: &str) -> Value {
        let page = self.get(&format!("/v6/Jobs/{job}/JobSessions")).await;
        page["results"][0].clone()
    }

    async fn log(&self, session: &str) -> Vec<String> {
        let page = self
            .get(&format!("/v6/JobSessions/{session}/LogItems?limit=1000"))
            .await;
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["title"].as_str().unwrap().to_owned())
            .collect()
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

/// `openvbo repo check --read-data` on the repository, with the server's
/// master key (which wraps the repository's keys) written as hex.
fn repo_check(data: &Path, repo: &Path) -> String {
    let key_b64 = std::fs::read_to_string(data.join("master.key")).unwrap();
    let hex = Command::new("python3")
        .args([
            "-c",
            "import base64,sys;print(base64.b64decode(sys.argv[1].strip()).hex())",
            &key_b64,
        ])
        .output()
        .unwrap();
    assert!(hex.status.success());
    let key_file = data.join("repo-check.key");
    std::fs::write(&key_file, &hex.stdout).unwrap();
    let out = Command::new(BIN)
        .arg("repo")
        .arg("--repo")
        .arg(repo)
        .arg("--key-file")
        .arg(&key_file)
        .args(["check", "--read-data"])
        .output()
        .unwrap();
    std::fs::remove_file(&key_file).unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "repo check failed: {text}");
    assert!(text.contains("no errors were found"), "{text}");
    text
}

/// Items a finished unit's log line says this run downloaded: the `N` of
/// `[Success] Processing …: NAME (N items, …)`.
fn downloaded(log: &[String], what: &str) -> usize {
    let line = log
        .iter()
        .find(|t| t.starts_with("[Success] Processing ") && t.contains(what))
        .unwrap_or_else(|| panic!("no finished {what} in {log:?}"));
    let after = &line[line.find(&format!("{what} (")).unwrap() + what.len() + 2..];
    after[..after.find(' ').unwrap()].parse().unwrap()
}

async fn until(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn assert_interrupted(api: &Api, job: &str) {
    let session = api.newest_session(job).await;
    assert_eq!(session["status"], "Failed", "{session}");
    assert!(session["endTime"].is_string(), "{session}");
    let log = api.log(session["id"].as_str().unwrap()).await;
    assert!(log.iter().any(|t| t == INTERRUPTED), "{log:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_backup_fails_the_session_keeps_the_repository_sound_and_resumes() {
    let sim = Simulator::new(vec![tenant()], SimOptions::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(sim.clone().serve(listener, std::future::pending()));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&data).unwrap();

    let api = Api::start(&data, &sim_url).await;
    let (status, org) = api
        .call(
            reqwest::Method::POST,
            "/v6/Organizations",
            Some(json!({
                "type": "Office365", "region": "Worldwide", "isExchangeOnline": true, "isSharePointOnline": true,
                "exchangeOnlineSettings": {"account": "admin@contoso.onmicrosoft.com", "password": M365_PASSWORD, "grantAdminAccess": false},
                "sharePointOnlineSettings": {"account": "admin@contoso.onmicrosoft.com", "password": M365_PASSWORD, "grantAdminAccess": false}
            })),
        )
        .await;
    assert_eq!(status, 200, "{org}");
    let (status, repository) = api
        .call(
            reqwest::Method::POST,
            "/v6/BackupRepositories",
            Some(json!({
                "name": "Crash", "path": repo.to_str().unwrap(), "retentionType": "SnapshotBased",
                "retentionPeriodType": "Yearly", "yearlyRetentionPeriod": "Year1"
            })),
        )
        .await;
    assert_eq!(status, 200, "{repository}");
    let (status, job) = api
        .call(
            reqwest::Method::POST,
            &format!("/v6/Organizations/{}/Jobs", org["id"].as_str().unwrap()),
            Some(json!({
                "name": "Crash", "backupType": "SelectedItems", "repositoryId": repository["id"],
                "selectedItems": [
                    {"type": "User", "user": {"id": ALICE}, "mailbox": true},
                    {"type": "User", "user": {"id": BOB}, "mailbox": true},
                    {"type": "User", "user": {"id": CAROL}, "oneDrive": true}
                ],
                "schedulePolicy": {"type": "ManualOnly"}
            })),
        )
        .await;
    assert_eq!(status, 200, "{job}");
    let job = job["id"].as_str().unwrap().to_owned();
    // Slow enough that the kills land mid-run.
    sim.set_latency(Duration::from_millis(10));

    // 1. Killed right after the first mailbox (Alice's) finished.
    api.start_job(&job).await;
    let session = api.newest_session(&job).await;
    let first = session["id"].as_str().unwrap().to_owned();
    until("Alice's mailbox", Duration::from_secs(60), async || {
        api.log(&first)
            .await
            .iter()
            .any(|t| t.starts_with("[Success] Processing mailbox: Alice Smith"))
    })
    .await;
    let running = api.newest_session(&job).await;
    assert_eq!(
        running["status"], "Running",
        "the kill lands mid-run: {running}"
    );
    api.kill();
    repo_check(&data, &repo);

    // 2. Started again: the session is Failed as interrupted. The next run
    //    is killed in the middle of Carol's OneDrive, past a checkpoint.
    let api = Api::start(&data, &sim_url).await;
    assert_interrupted(&api, &job).await;
    let files_before = sim.stats().content.file_downloads;
    api.start_job(&job).await;
    until(
        "half of Carol's files",
        Duration::from_secs(60),
        async || {
            sim.stats().content.file_downloads - files_before >= (CHECKPOINT_EVERY * 3 / 2) as u64
        },
    )
    .await;
    let running = api.newest_session(&job).await;
    assert_eq!(
        running["status"], "Running",
        "the kill lands mid-drive: {running}"
    );
    api.kill();
    let files_second = (sim.stats().content.file_downloads - files_before) as usize;
    assert!(files_second < CAROL_FILES, "mid-drive: {files_second}");
    repo_check(&data, &repo);

    // 3. The run after the crashes finishes, downloading only what no
    //    checkpoint had stored.
    sim.set_latency(Duration::ZERO);
    let api = Api::start(&data, &sim_url).await;
    assert_interrupted(&api, &job).await;
    let before = sim.stats().content;
    api.start_job(&job).await;
    let mut last = Value::Null;
    until("the last run", Duration::from_secs(60), async || {
        last = api.newest_session(&job).await;
        last["status"] != "Running"
    })
    .await;
    let log = api.log(last["id"].as_str().unwrap()).await;
    assert_eq!(last["status"], "Success", "{last} {log:?}");
    let after = sim.stats().content;
    assert_eq!(
        downloaded(&log, "Alice Smith"),
        0,
        "Alice's mailbox finished before the first crash: {log:?}"
    );
    let carol = downloaded(&log, "Carol White");
    assert_eq!(carol as u64, after.file_downloads - before.file_downloads);
    assert!(
        carol <= CAROL_FILES - CHECKPOINT_EVERY,
        "the drive resumed from its checkpoint: {carol} of {CAROL_FILES} downloaded again"
    );
    let bob = downloaded(&log, "Bob Jones");
    assert!(
        bob < BOB_FOLDERS * BOB_PER_FOLDER,
        "Bob's mailbox resumed: {bob} downloaded again"
    );
    assert_eq!(
        (bob + downloaded(&log, "Alice Smith")) as u64,
        after.message_downloads - before.message_downloads
    );
    // The restore point of the last run holds every resource whole.
    let points = api.get(&format!("/v6/RestorePoints?jobId={job}")).await;
    let newest = points
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|p| p["backupTime"].as_str().unwrap().to_owned())
        .unwrap()
        .clone();
    let mailboxes = api
        .get(&format!(
            "/v6/RestorePoints/{}/mailboxes",
            newest["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(mailboxes.as_array().unwrap().len(), 2, "{mailboxes}");
    api.kill();
    let check = repo_check(&data, &repo);
    eprintln!("after the crashes: {check}; last run downloaded {bob} messages and {carol} files");
}
