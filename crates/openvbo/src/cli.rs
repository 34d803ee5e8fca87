//! The command line. Operators and tests script it: names are a contract.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "openvbo",
    version,
    about = "Open-source Microsoft 365 backup server speaking the Veeam Backup for Microsoft 365 REST API v6"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTPS REST API server.
    Serve(ServeArgs),
    /// Run the Microsoft 365 tenant simulator (plain HTTP; tests and demos).
    #[command(name = "m365-sim")]
    M365Sim(crate::sim::SimArgs),
    /// Start the simulator with a demo tenant and a server wired to it, and
    /// print how to use them.
    Demo(crate::demo::DemoArgs),
    /// Administration of a data dir.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Work on a backup repository without the server (list, extract, check, maintain).
    Repo(openvbo_repo::cli::RepoArgs),
}

/// Every option: flag > environment > config file > default.
#[derive(Args, Debug, Default, Clone)]
pub struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, env = "OPENVBO_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 0.0.0.0:4443].
    #[arg(long, env = "OPENVBO_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Where the database, master key and generated certificate live [default: ./openvbo-data].
    #[arg(long, env = "OPENVBO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// PEM certificate chain (with --tls-key); default: self-signed in the data dir.
    #[arg(long, env = "OPENVBO_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (with --tls-cert).
    #[arg(long, env = "OPENVBO_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Replace Microsoft's sign-in host (e.g. the simulator's URL).
    #[arg(long, env = "OPENVBO_M365_LOGIN_URL")]
    pub m365_login_url: Option<String>,
    /// Replace Microsoft Graph's host (e.g. the simulator's URL).
    #[arg(long, env = "OPENVBO_M365_GRAPH_URL")]
    pub m365_graph_url: Option<String>,
    /// The Entra ID public client application used for password sign-in.
    #[arg(long, env = "OPENVBO_M365_CLIENT_ID")]
    pub m365_client_id: Option<String>,
    /// Timeout of one request to Microsoft 365, in seconds [default: 20].
    #[arg(long, env = "OPENVBO_M365_TIMEOUT_SECS")]
    pub m365_timeout_secs: Option<u64>,
    /// Access token lifetime in seconds [default: 3600].
    #[arg(long, env = "OPENVBO_ACCESS_TOKEN_LIFETIME_SECS")]
    pub access_token_lifetime_secs: Option<u64>,
    /// Refresh token lifetime in seconds [default: 1209600, 14 days].
    #[arg(long, env = "OPENVBO_REFRESH_TOKEN_LIFETIME_SECS")]
    pub refresh_token_lifetime_secs: Option<u64>,
    /// How long a cached listing (setId) answers, in seconds [default: 900].
    #[arg(long, env = "OPENVBO_DISCOVERY_CACHE_TTL_SECS")]
    pub discovery_cache_ttl_secs: Option<u64>,
    /// Objects held in cached listings across all sets [default: 1000000].
    #[arg(long, env = "OPENVBO_DISCOVERY_CACHE_MAX_ITEMS")]
    pub discovery_cache_max_items: Option<usize>,
    /// Simultaneous client connections [default: 1024].
    #[arg(long, env = "OPENVBO_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Simultaneous connections from one client address [default: 256].
    #[arg(long, env = "OPENVBO_MAX_CONNECTIONS_PER_IP")]
    pub max_connections_per_ip: Option<usize>,
    /// Seconds a client may take to send a request's headers, or stay idle between requests [default: 15].
    #[arg(long, env = "OPENVBO_HEADER_TIMEOUT_SECS")]
    pub header_timeout_secs: Option<u64>,
    /// Log filter (tracing syntax, e.g. info or openvbo_api=debug) [default: info].
    #[arg(long, env = "OPENVBO_LOG")]
    pub log: Option<String>,
    /// Begin a new installation although the data dir holds a master key
    /// without its database (refused otherwise: the database was lost).
    #[arg(long)]
    pub initialize: bool,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Set a new administrator password (generated unless OPENVBO_ADMIN_PASSWORD
    /// is set) and sign the administrator out everywhere.
    ResetPassword(ResetPasswordArgs),
}

#[derive(Args, Debug)]
pub struct ResetPasswordArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// The administrator [default: admin, or OPENVBO_ADMIN_USER].
    #[arg(long)]
    pub user: Option<String>,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => crate::settings::serve(args).await,
        Command::M365Sim(args) => crate::sim::run(args).await,
        Command::Demo(args) => crate::demo::run(args).await,
        Command::Repo(args) => Ok(openvbo_repo::cli::run(args).await?),
        Command::Admin(AdminCommand::ResetPassword(args)) => {
            crate::admin::reset_password(args).await
        }
    }
}
