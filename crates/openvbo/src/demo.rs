//! `openvbo demo`: a newcomer's single command. A simulated Microsoft 365
//! tenant and a server wired to it; the demo organization, a repository
//! under the data dir and a backup job for the whole organization, set up
//! through the v6 API exactly as a client would; the first backup run; and
//! a curl sequence that works as printed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use m365_sim::{SimOptions, Simulator, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_UPN};
use openvbo_server::ServerConfig;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use url::Url;

#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// Address of the API server.
    #[arg(long, default_value = "127.0.0.1:4443")]
    pub listen: SocketAddr,
    /// Where the demo keeps its data: the server's in `server/`, the
    /// backups in `repository/`.
    #[arg(long, default_value = "./openvbo-demo")]
    pub data_dir: PathBuf,
}

const REPOSITORY_NAME: &str = "Demo repository";
const JOB_NAME: &str = "Demo backup";
/// How long the demo waits for the first backup before printing anyway.
const FIRST_RUN_WAIT: Duration = Duration::from_secs(120);

pub(crate) async fn run(args: DemoArgs) -> anyhow::Result<()> {
    crate::settings::init_logging(&std::env::var("OPENVBO_LOG").unwrap_or_else(|_| "warn".into()));

    let sim = Simulator::new(vec![m365_sim::demo_tenant()], SimOptions::default())?;
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sim_url = Url::parse(&format!("http://{}", sim_listener.local_addr()?))?;
    let (stop_sim, sim_stopped) = tokio::sync::oneshot::channel::<()>();
    let sim_task = tokio::spawn(sim.serve(sim_listener, async {
        let _ = sim_stopped.await;
    }));

    // The server's own data and the repository side by side: a repository
    // may not lie inside the server's data directory.
    let mut config = ServerConfig::with_data_dir(args.data_dir.join("server"));
    config.listen = args.listen;
    config.m365_login_url = Some(sim_url.clone());
    config.m365_graph_url = Some(sim_url.clone());
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (is another openvbo running? use --listen)",
                args.listen
            )
        })?;
    // A fresh password every run, so the printed commands always work.
    let password = openvbo_server::reset_admin_password(&config, &config.admin_user, None).await?;
    let prepared = openvbo_server::prepare(config).await?;

    let port = listener.local_addr()?.port();
    let base = format!("https://localhost:{port}");
    let cacert = prepared.cert_path.clone();
    let user = prepared.admin_user.clone();
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(prepared.serve(listener, async {
        tokio::select! {
            _ = crate::settings::shutdown_signal() => {}
            _ = server_stopped => {}
        }
    }));

    let client = Client::new(&base, &cacert, &user, password.expose_secret()).await;
    let setup = match client {
        Ok(client) => set_up(&client, &args.data_dir).await,
        Err(e) => Err(e),
    };
    let setup = match setup {
        Ok(s) => s,
        Err(e) => {
            let _ = stop_server.send(());
            let _ = server.await;
            let _ = stop_sim.send(());
            let _ = sim_task.await;
            return Err(e.context("the demo could not set up its backup"));
        }
    };

    let cacert = cacert.display().to_string();
    let curl = format!("curl -sS --cacert '{cacert}'");
    let auth = r#"-H "Authorization: Bearer $TOKEN""#;
    let first_id = r#"grep -o '"id":"[^"]*"' | head -n 1 | cut -d '"' -f 4"#;
    println!(
        r#"
openvbo demo is running (Ctrl-C stops it).

  API            {base}/v6
  administrator  {user} / {pw}
  certificate    {cacert}
  Microsoft 365  simulated tenant at {sim_url} (account {DEMO_ADMIN_UPN} / {DEMO_ADMIN_PASSWORD})

  organization   {org_name} ({org_note})
  repository     {REPOSITORY_NAME} at {repo_path}
  job            {JOB_NAME}: the whole organization, daily at 22:00 ({job_note})
  backup         {outcome}

Paste into a shell:

TOKEN=$({curl} {base}/v6/Token -d grant_type=password -d username='{user}' -d password='{pw}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
ORG=$({curl} {base}/v6/Organizations {auth} | {first_id})
{curl} "{base}/v6/Organizations/$ORG/Users?limit=5" {auth}
JOB=$({curl} {base}/v6/Organizations/$ORG/Jobs {auth} | {first_id})
{curl} "{base}/v6/Jobs/$JOB/JobSessions?limit=1" {auth}
SESSION=$({curl} "{base}/v6/Jobs/$JOB/JobSessions?limit=1" {auth} | sed -E 's/.*"results":\[//' | {first_id})
{curl} "{base}/v6/JobSessions/$SESSION/LogItems?limit=100" {auth}
{curl} "{base}/v6/RestorePoints?jobId=$JOB" {auth}
{curl} "{base}/v6/Organizations/$ORG" {auth}

Run the job again (it backs up only what changed):
  {curl} -X POST {base}/v6/Jobs/$JOB/start {auth}

(The organization, repository and job stay in the data dir: the next demo run reuses them.)
"#,
        pw = password.expose_secret(),
        org_name = setup.organization_name,
        org_note = if setup.organization_added {
            "added"
        } else {
            "already added"
        },
        repo_path = setup.repository_path.display(),
        job_note = if setup.job_created {
            "created"
        } else {
            "already there"
        },
        outcome = setup.outcome,
    );
    let result = server.await;
    let _ = stop_sim.send(());
    let _ = sim_task.await;
    result
        .context("the server task failed")?
        .map_err(anyhow::Error::from)
}

/// What the demo set up, for the banner.
struct Setup {
    organization_name: String,
    organization_added: bool,
    repository_path: PathBuf,
    job_created: bool,
    /// How the first run ended, in a line.
    outcome: String,
}

/// The v6 API as the demo uses it: a signed-in client trusting the
/// server's own certificate.
struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn new(base: &str, cacert: &Path, user: &str, password: &str) -> anyhow::Result<Self> {
        let pem = std::fs::read(cacert)
            .with_context(|| format!("cannot read the certificate {}", cacert.display()))?;
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem)?)
            .tls_built_in_root_certs(false)
            .timeout(Duration::from_secs(60))
            .build()?;
        let token: Value = http
            .post(format!("{base}/v6/Token"))
            .form(&[
                ("grant_type", "password"),
                ("username", user),
                ("password", password),
            ])
            .send()
            .await
            .context("cannot reach the demo server")?
            .error_for_status()
            .context("the demo server refused its own administrator")?
            .json()
            .await?;
        let token = field(&token, "access_token")
            .as_str()
            .context("the token answer has no access_token")?
            .to_owned();
        Ok(Client {
            http,
            base: base.to_owned(),
            token,
        })
    }

    /// The status and the JSON body (Null when there is none).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(reqwest::StatusCode, Value)> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let bytes = response.bytes().await?;
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        Ok((status, value))
    }

    async fn expect(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        expected: reqwest::StatusCode,
    ) -> anyhow::Result<Value> {
        let (status, value) = self.call(method.clone(), path, body).await?;
        if status != expected {
            let message = field(&value, "message").as_str().unwrap_or("(no message)");
            bail!("{method} {path} answered {status}: {message}");
        }
        Ok(value)
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.expect(reqwest::Method::GET, path, None, reqwest::StatusCode::OK)
            .await
    }
}

fn id_of(v: &Value) -> anyhow::Result<String> {
    v["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no id in {v}"))
}

async fn set_up(client: &Client, data_dir: &Path) -> anyhow::Result<Setup> {
    use reqwest::{Method, StatusCode};

    // The organization: added once, found again on later runs.
    let settings = json!({"account": DEMO_ADMIN_UPN, "password": DEMO_ADMIN_PASSWORD, "grantAdminAccess": true, "useMfa": false});
    let (status, added) = client
        .call(
            Method::POST,
            "/v6/Organizations",
            Some(json!({
                "type": "Office365", "region": "Worldwide", "isExchangeOnline": true,
                "isSharePointOnline": true, "isTeamsChatsOnline": false,
                "exchangeOnlineSettings": settings, "sharePointOnlineSettings": settings,
            })),
        )
        .await?;
    let (organization, organization_added) = match status {
        StatusCode::OK => (added, true),
        StatusCode::CONFLICT => {
            let list = client.get("/v6/Organizations").await?;
            let first = list
                .as_array()
                .and_then(|l| l.first())
                .cloned()
                .context("the organization is said to exist but is not listed")?;
            (first, false)
        }
        other => bail!(
            "adding the demo organization answered {other}: {}",
            field(&added, "message").as_str().unwrap_or("(no message)")
        ),
    };
    let org = id_of(&organization)?;

    // The repository, under the data dir.
    let repository_path = std::path::absolute(data_dir.join("repository"))?;
    let repositories = client.get("/v6/BackupRepositories").await?;
    let existing = repositories
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == REPOSITORY_NAME)
        .cloned();
    let repository = match existing {
        Some(r) => r,
        None => {
            client
                .expect(
                    Method::POST,
                    "/v6/BackupRepositories",
                    Some(json!({
                        "name": REPOSITORY_NAME,
                        "description": "Created by openvbo demo",
                        "path": repository_path.to_string_lossy(),
                        "retentionType": "SnapshotBased",
                        "retentionPeriodType": "Yearly",
                        "yearlyRetentionPeriod": "Year1",
                    })),
                    StatusCode::OK,
                )
                .await?
        }
    };
    let repo = id_of(&repository)?;

    // The job: created with runNow, or started again.
    let jobs = client.get(&format!("/v6/Organizations/{org}/Jobs")).await?;
    let existing = jobs
        .as_array()
        .into_iter()
        .flatten()
        .find(|j| j["name"] == JOB_NAME)
        .cloned();
    let (job, job_created) = match existing {
        Some(j) => {
            let job = id_of(&j)?;
            // Already running (a schedule, a previous start) is fine.
            client
                .call(Method::POST, &format!("/v6/Jobs/{job}/start"), None)
                .await?;
            (job, false)
        }
        None => {
            let created = client
                .expect(
                    Method::POST,
                    &format!("/v6/Organizations/{org}/Jobs"),
                    Some(json!({
                        "name": JOB_NAME,
                        "description": "Created by openvbo demo",
                        "backupType": "EntireOrganization",
                        "repositoryId": repo,
                        "schedulePolicy": {"type": "Daily", "dailyType": "Everyday", "dailyTime": "22:00:00"},
                        "runNow": true,
                    })),
                    StatusCode::OK,
                )
                .await?;
            (id_of(&created)?, true)
        }
    };

    let outcome = wait_for_run(client, &job).await?;
    Ok(Setup {
        organization_name: field(&organization, "name")
            .as_str()
            .unwrap_or("?")
            .to_owned(),
        organization_added,
        repository_path: PathBuf::from(
            field(&repository, "path")
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| repository_path.to_string_lossy().into_owned()),
        ),
        job_created,
        outcome,
    })
}

/// Waits for the newest session of `job` to end; a line saying how.
async fn wait_for_run(client: &Client, job: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + FIRST_RUN_WAIT;
    loop {
        let page = client
            .get(&format!("/v6/Jobs/{job}/JobSessions?limit=1"))
            .await?;
        if let Some(s) = field(&page, "results").as_array().and_then(|r| r.first()) {
            let status = s["status"].as_str().unwrap_or("?");
            if status != "Running" && status != "Queued" {
                let st = &s["statistics"];
                return Ok(format!(
                    "{status}: {} objects, {} bytes transferred (session {})",
                    s["progress"],
                    st["transferredDataBytes"],
                    s["id"].as_str().unwrap_or("?")
                ));
            }
        }
        if Instant::now() >= deadline {
            return Ok("still running; the commands below show its progress".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `value[key]` without the index operator: `Null` when absent.
fn field<'a>(value: &'a Value, key: &str) -> &'a Value {
    value.get(key).unwrap_or(&Value::Null)
}
