//! A real server over HTTPS on an ephemeral port, wired to a real simulator
//! over HTTP, with a real SQLite file in a temporary data dir.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    dead_code,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use m365_sim::{SimOptions, Simulator, Tenant};
use openvbo_server::ServerConfig;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

mod graph;
// Not every test binary talks to Graph itself.
#[allow(unused_imports)]
pub use graph::{Graph, SimUrl, CLIENT_ID};

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "Adm1n-Test-Password";
pub const M365_PASSWORD: &str = "Tenant-Secret-Passw0rd!";

/// A tenant `name.onmicrosoft.com` whose users all have `M365_PASSWORD`.
/// `users`: (local part, roles, extra JSON fields).
pub fn tenant(index: u32, name: &str, users: &[(&str, &[&str], Value)]) -> Tenant {
    let users: Vec<Value> = users
        .iter()
        .enumerate()
        .map(|(i, (local, roles, extra))| {
            let mut u = json!({
                "id": format!("00000000-0000-4000-8000-{:06}{:06}", index, i),
                "userPrincipalName": format!("{local}@{name}.onmicrosoft.com"),
                "displayName": local,
                "password": M365_PASSWORD,
                "roles": roles,
            });
            if let (Some(obj), Some(extra)) = (u.as_object_mut(), extra.as_object()) {
                for (k, v) in extra {
                    obj.insert(k.clone(), v.clone());
                }
            }
            u
        })
        .collect();
    serde_json::from_value(json!({
        "id": format!("11111111-0000-4000-8000-{:012}", index),
        "displayName": name,
        "initialDomain": format!("{name}.onmicrosoft.com"),
        "verifiedDomains": [format!("{name}.example.com")],
        "users": users,
    }))
    .unwrap()
}

/// The standard test tenant: an administrator and one user per refusal.
pub fn contoso() -> Tenant {
    tenant(
        1,
        "contoso",
        &[
            ("admin", &["Global Administrator"], json!({})),
            ("exchadmin", &["Exchange Administrator"], json!({})),
            ("spadmin", &["SharePoint Administrator"], json!({})),
            ("user", &[], json!({})),
            (
                "mfa",
                &["Global Administrator"],
                json!({"mfaRequired": true}),
            ),
            (
                "disabled",
                &["Global Administrator"],
                json!({"accountEnabled": false}),
            ),
            ("locked", &["Global Administrator"], json!({"locked": true})),
            (
                "expired",
                &["Global Administrator"],
                json!({"passwordExpired": true}),
            ),
        ],
    )
}

pub fn fabrikam() -> Tenant {
    tenant(
        2,
        "fabrikam",
        &[("admin", &["Global Administrator"], json!({}))],
    )
}

pub struct Sim {
    pub sim: Simulator,
    pub url: Url,
    stop: Option<oneshot::Sender<()>>,
}

impl Sim {
    pub async fn start(tenants: Vec<Tenant>) -> Sim {
        let sim = Simulator::new(tenants, SimOptions::default()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(sim.clone().serve(listener, async {
            let _ = stopped.await;
        }));
        Sim {
            sim,
            url,
            stop: Some(stop),
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), openvbo_server::LaunchError>>>,
}

/// A simulator with `tenants` and a server wired to it in a fresh data dir,
/// its configuration adjusted first.
pub async fn start_with(
    tenants: Vec<Tenant>,
    adjust: impl FnOnce(&mut ServerConfig),
) -> (tempfile::TempDir, Sim, Server) {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(tenants).await;
    let mut cfg = config(dir.path(), &sim.url);
    adjust(&mut cfg);
    let server = Server::start(cfg).await;
    (dir, sim, server)
}

/// [`start_with`] on `clock`: tests advance it instead of sleeping.
pub async fn start_on_clock(
    tenants: Vec<Tenant>,
    adjust: impl FnOnce(&mut ServerConfig),
    clock: openvbo_core::clock::SharedClock,
) -> (tempfile::TempDir, Sim, Server) {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(tenants).await;
    let mut cfg = config(dir.path(), &sim.url);
    adjust(&mut cfg);
    let server = Server::start_on(cfg, clock).await;
    (dir, sim, server)
}

pub fn config(data_dir: &Path, sim: &Url) -> ServerConfig {
    let mut config = ServerConfig::with_data_dir(data_dir);
    config.m365_login_url = Some(sim.clone());
    config.m365_graph_url = Some(sim.clone());
    config.admin_user = ADMIN.into();
    config.admin_password = Some(SecretString::from(ADMIN_PASSWORD));
    config.m365_timeout = Duration::from_secs(5);
    config.shutdown_grace = Duration::from_secs(10);
    config
}

impl Server {
    pub async fn start(config: ServerConfig) -> Server {
        Self::start_on(config, openvbo_core::clock::system()).await
    }

    pub async fn start_on(config: ServerConfig, clock: openvbo_core::clock::SharedClock) -> Server {
        let data_dir = config.data_dir.clone();
        let prepared = openvbo_server::prepare_with_clock(config, clock)
            .await
            .unwrap();
        Self::serve(prepared, data_dir).await
    }

    /// Serves `prepared`, made for `data_dir` (a test reaches into its services first, e.g.
    /// to install a hook).
    pub async fn serve(prepared: openvbo_server::Prepared, data_dir: PathBuf) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let cert = std::fs::read(&prepared.cert_path).unwrap();
        let handle = tokio::spawn(prepared.serve(listener, async {
            let _ = stopped.await;
        }));
        let client = client_trusting(&cert, None);
        Server {
            addr,
            base: format!("https://localhost:{}", addr.port()),
            client,
            data_dir,
            stop: Some(stop),
            handle: Some(handle),
        }
    }

    /// Stops the server and waits until requests in flight have finished.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap().unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client whose requests come from another loopback address.
    pub fn client_from(&self, local: [u8; 4]) -> reqwest::Client {
        let cert = std::fs::read(openvbo_server::tls::generated_paths(&self.data_dir).0).unwrap();
        client_trusting(&cert, Some(std::net::IpAddr::from(local)))
    }

    /// A client from `local` that speaks HTTP/1.1 only (one request per
    /// connection at a time).
    pub fn http1_client_from(&self, local: [u8; 4]) -> reqwest::Client {
        let cert = std::fs::read(openvbo_server::tls::generated_paths(&self.data_dir).0).unwrap();
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
            .tls_built_in_root_certs(false)
            .local_address(Some(std::net::IpAddr::from(local)))
            .http1_only()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap()
    }

    /// A client from `local` holding one HTTP/2 connection, already open, so
    /// concurrent requests share it.
    pub async fn http2_client_from(&self, local: [u8; 4]) -> reqwest::Client {
        let client = self.client_from(local);
        let response = client
            .get(self.url("/swagger/docs/v6"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.version(), reqwest::Version::HTTP_2);
        client
    }

    pub async fn token(&self) -> String {
        let (status, body) = self.login(ADMIN, ADMIN_PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn login(&self, user: &str, password: &str) -> (StatusCode, Value) {
        self.login_via(&self.client, user, password).await
    }

    /// A password sign-in with `client` (e.g. one from another address).
    pub async fn login_via(
        &self,
        client: &reqwest::Client,
        user: &str,
        password: &str,
    ) -> (StatusCode, Value) {
        let response = client
            .post(self.url("/v6/Token"))
            .form(&[
                ("grant_type", "password"),
                ("username", user),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn add(&self, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(
            reqwest::Method::POST,
            "/v6/Organizations",
            token,
            Some(body),
        )
        .await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn client_trusting(cert_pem: &[u8], local: Option<std::net::IpAddr>) -> reqwest::Client {
    let cert = reqwest::Certificate::from_pem(cert_pem).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(cert)
        .tls_built_in_root_certs(false)
        .local_address(local)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// The seed page's request body for `user@name.onmicrosoft.com`.
pub fn seed_body(account: &str, password: &str) -> Value {
    json!({
        "type": "Office365",
        "region": "Worldwide",
        "isExchangeOnline": true,
        "isSharePointOnline": true,
        "isTeamsChatsOnline": false,
        "sharePointOnlineSettings": {
            "account": account, "password": password,
            "grantAdminAccess": true, "useMfa": false, "useCustomVeeamAADApplication": false
        },
        "exchangeOnlineSettings": {
            "account": account, "password": password,
            "grantAdminAccess": true, "useMfa": false, "useCustomVeeamAADApplication": false
        }
    })
}

/// Asserts a `{"message"}` error with the given status whose message
/// contains every fragment (case-insensitive).
pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, fragments: &[&str]) {
    assert_eq!(status, expected, "body: {body}");
    let message = body["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message in {body}"));
    for f in fragments {
        assert!(
            message.to_lowercase().contains(&f.to_lowercase()),
            "message {message:?} lacks {f:?}"
        );
    }
}

/// A TCP proxy in front of the simulator that resets the 1st, then every
/// `reset_every`-th new connection (0: none) after reading its request: the
/// network failing mid-request.
pub struct FlakyProxy {
    pub url: Url,
    pub reset_every: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pub resets: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl FlakyProxy {
    pub async fn start(target: &Url) -> FlakyProxy {
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::sync::Arc;
        let target = format!("{}:{}", target.host_str().unwrap(), target.port().unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let reset_every = Arc::new(AtomicU64::new(0));
        let resets = Arc::new(AtomicU64::new(0));
        let (every, count) = (reset_every.clone(), resets.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while let Ok((mut client, _)) = listener.accept().await {
                n += 1;
                let every = every.load(Ordering::SeqCst);
                if every > 0 && (n - 1).is_multiple_of(every) {
                    count.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(async move {
                        let mut buf = [0u8; 1024];
                        let _ = tokio::io::AsyncReadExt::read(&mut client, &mut buf).await;
                        // SO_LINGER 0: close with RST, as a dropped connection
                        // does. (Deprecated for blocking on drop, which a zero
                        // linger never does.)
                        #[allow(deprecated)]
                        let _ = client.set_linger(Some(Duration::ZERO));
                        drop(client);
                    });
                    continue;
                }
                let target = target.clone();
                tokio::spawn(async move {
                    if let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                });
            }
        });
        FlakyProxy {
            url,
            reset_every,
            resets,
        }
    }
}

/// A TCP connection to the server from a chosen loopback address.
pub async fn tcp_from(server: &Server, local: [u8; 4]) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(std::net::SocketAddr::from((local, 0))).unwrap();
    socket.connect(server.addr).await.unwrap()
}

/// A TLS client connection to the server, trusting its certificate.
pub async fn tls_connect(
    server: &Server,
    local: [u8; 4],
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let pem = std::fs::read(openvbo_server::tls::generated_paths(&server.data_dir).0).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tcp_from(server, local).await;
    connector
        .connect(
            rustls::pki_types::ServerName::try_from("localhost").unwrap(),
            tcp,
        )
        .await
        .unwrap()
}

/// Sends `request` (raw HTTP/1.1, exactly as given: no client-side path
/// normalisation) over TLS from 127.0.0.1 and reads the answer until the
/// server closes: (status, body).
pub async fn raw_request(server: &Server, request: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tls = tls_connect(server, [127, 0, 0, 1]).await;
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Runs `sql` on the server's database with Python's sqlite3 (committed); prints what the
/// last statement selects, one row a line. Statements are split where sqlite says one is
/// complete, so a trigger's body (with `;` inside) stays whole.
pub fn sqlite(db: &Path, sql: &str) -> String {
    let script = "import sqlite3,sys\n\
                  c=sqlite3.connect(sys.argv[1], timeout=30)\n\
                  rows=[]\n\
                  buf=''\n\
                  for s in sys.argv[2].split(';'):\n    \
                      buf+=s+';'\n    \
                      if sqlite3.complete_statement(buf):\n        \
                          if buf.strip(' \\n;'): rows=c.execute(buf).fetchall()\n        \
                          buf=''\n\
                  c.commit()\n\
                  print('\\n'.join('|'.join(str(v) for v in r) for r in rows))\n";
    let run = std::process::Command::new("python3")
        .args(["-c", script, db.to_str().unwrap(), sql])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8(run.stdout).unwrap().trim().to_owned()
}
