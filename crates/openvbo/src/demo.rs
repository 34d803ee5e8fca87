//! `openvbo demo`: a newcomer's single command. A simulated Microsoft 365
//! tenant and a server wired to it, and a curl sequence that works as printed.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use m365_sim::{SimOptions, Simulator, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_UPN};
use openvbo_server::ServerConfig;
use secrecy::ExposeSecret;
use url::Url;

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Address of the API server.
    #[arg(long, default_value = "127.0.0.1:4443")]
    pub listen: SocketAddr,
    /// Where the demo keeps its data.
    #[arg(long, default_value = "./openvbo-demo")]
    pub data_dir: PathBuf,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    crate::settings::init_logging(&std::env::var("OPENVBO_LOG").unwrap_or_else(|_| "warn".into()));

    let sim = Simulator::new(vec![m365_sim::demo_tenant()], SimOptions::default())?;
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let sim_url = Url::parse(&format!("http://{}", sim_listener.local_addr()?))?;
    let (stop_sim, sim_stopped) = tokio::sync::oneshot::channel::<()>();
    let sim_task = tokio::spawn(sim.serve(sim_listener, async {
        let _ = sim_stopped.await;
    }));

    let mut config = ServerConfig::with_data_dir(&args.data_dir);
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
    let cacert = prepared.cert_path.display().to_string();
    let user = prepared.admin_user.clone();
    let settings = format!(
        r#"{{"account":"{DEMO_ADMIN_UPN}","password":"{DEMO_ADMIN_PASSWORD}","grantAdminAccess":true,"useMfa":false}}"#
    );
    let body = format!(
        r#"{{"type":"Office365","region":"Worldwide","isExchangeOnline":true,"isSharePointOnline":true,"isTeamsChatsOnline":false,"exchangeOnlineSettings":{settings},"sharePointOnlineSettings":{settings}}}"#
    );
    println!(
        r#"
openvbo demo is running (Ctrl-C stops it).

  API            {base}/v6
  administrator  {user} / {pw}
  certificate    {cacert}
  Microsoft 365  simulated tenant at {sim_url} (account {DEMO_ADMIN_UPN} / {DEMO_ADMIN_PASSWORD})

Paste into a shell:

TOKEN=$(curl -sS --cacert '{cacert}' {base}/v6/Token -d grant_type=password -d username='{user}' -d password='{pw}' | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
curl -sS --cacert '{cacert}' {base}/v6/Organizations -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{body}'
curl -sS --cacert '{cacert}' {base}/v6/Organizations -H "Authorization: Bearer $TOKEN"
ORG=$(curl -sS --cacert '{cacert}' {base}/v6/Organizations -H "Authorization: Bearer $TOKEN" | grep -o '"id":"[^"]*"' | head -n 1 | cut -d '"' -f 4)
curl -sS --cacert '{cacert}' "{base}/v6/Organizations/$ORG/Users?limit=5" -H "Authorization: Bearer $TOKEN"

(Adding the demo organization a second time answers 409: it is already added.)
"#,
        pw = password.expose_secret(),
    );
    let result = prepared
        .serve(listener, crate::settings::shutdown_signal())
        .await;
    let _ = stop_sim.send(());
    let _ = sim_task.await;
    result.map_err(anyhow::Error::from)
}
