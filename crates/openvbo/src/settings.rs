//! Configuration layers: defaults → TOML file → `OPENVBO_*` environment →
//! flags (clap reads the last two; flags win), and running the server.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use openvbo_server::ServerConfig;
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use crate::cli::ServeArgs;

/// The config file: the same names as the flags, in snake case. Unknown keys
/// are refused so a typo does not go unnoticed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub m365_login_url: Option<String>,
    pub m365_graph_url: Option<String>,
    pub m365_client_id: Option<String>,
    pub m365_timeout_secs: Option<u64>,
    pub access_token_lifetime_secs: Option<u64>,
    pub refresh_token_lifetime_secs: Option<u64>,
    pub discovery_cache_ttl_secs: Option<u64>,
    pub discovery_cache_max_items: Option<usize>,
    pub max_connections: Option<usize>,
    pub max_connections_per_ip: Option<usize>,
    pub header_timeout_secs: Option<u64>,
    pub log: Option<String>,
}

pub fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("the config file {} is invalid", path.display()))
}

/// Resolves every layer into the server's configuration.
pub fn resolve(args: &ServeArgs) -> anyhow::Result<(ServerConfig, String)> {
    let file = match &args.config {
        Some(path) => read_file(path)?,
        None => FileConfig::default(),
    };
    let data_dir = args
        .data_dir
        .clone()
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from(ServerConfig::DEFAULT_DATA_DIR));
    let mut config = ServerConfig::with_data_dir(data_dir);

    if let Some(listen) = args.listen {
        config.listen = listen;
    } else if let Some(listen) = file.listen {
        config.listen = listen.parse().with_context(|| {
            format!("listen: '{listen}' is not an address such as 0.0.0.0:4443")
        })?;
    }
    config.tls_cert = args.tls_cert.clone().or(file.tls_cert);
    config.tls_key = args.tls_key.clone().or(file.tls_key);
    if config.tls_cert.is_some() != config.tls_key.is_some() {
        bail!("tls_cert and tls_key must be given together");
    }
    config.m365_login_url = parse_override(
        "m365_login_url",
        args.m365_login_url.clone().or(file.m365_login_url),
    )?;
    config.m365_graph_url = parse_override(
        "m365_graph_url",
        args.m365_graph_url.clone().or(file.m365_graph_url),
    )?;
    if let Some(id) = args.m365_client_id.clone().or(file.m365_client_id) {
        config.m365_client_id = id;
    }
    if let Some(secs) = args.m365_timeout_secs.or(file.m365_timeout_secs) {
        config.m365_timeout = positive_secs("m365_timeout_secs", secs)?;
    }
    config.initialize = args.initialize;
    if let Some(secs) = args
        .access_token_lifetime_secs
        .or(file.access_token_lifetime_secs)
    {
        config.access_token_lifetime = positive_secs("access_token_lifetime_secs", secs)?;
    }
    if let Some(secs) = args
        .refresh_token_lifetime_secs
        .or(file.refresh_token_lifetime_secs)
    {
        config.refresh_token_lifetime = positive_secs("refresh_token_lifetime_secs", secs)?;
    }
    if let Some(secs) = args
        .discovery_cache_ttl_secs
        .or(file.discovery_cache_ttl_secs)
    {
        config.discovery_cache.ttl = positive_secs("discovery_cache_ttl_secs", secs)?;
    }
    if let Some(n) = args
        .discovery_cache_max_items
        .or(file.discovery_cache_max_items)
    {
        if n == 0 {
            bail!("discovery_cache_max_items must be at least 1");
        }
        config.discovery_cache.max_items = n;
    }
    if let Some(n) = args.max_connections.or(file.max_connections) {
        if n == 0 {
            bail!("max_connections must be at least 1");
        }
        config.connections.max_connections = n;
    }
    if let Some(n) = args.max_connections_per_ip.or(file.max_connections_per_ip) {
        if n == 0 {
            bail!("max_connections_per_ip must be at least 1");
        }
        config.connections.max_connections_per_ip = n;
    }
    if let Some(secs) = args.header_timeout_secs.or(file.header_timeout_secs) {
        config.connections.header_timeout = positive_secs("header_timeout_secs", secs)?;
    }
    // Secrets come from the environment only: never a flag (visible in ps)
    // nor the config file (often world-readable).
    if let Ok(user) = std::env::var("OPENVBO_ADMIN_USER") {
        if !user.trim().is_empty() {
            config.admin_user = user;
        }
    }
    config.admin_password = secret_env("OPENVBO_ADMIN_PASSWORD");
    config.master_key = secret_env("OPENVBO_MASTER_KEY");
    let log = args
        .log
        .clone()
        .or(file.log)
        .unwrap_or_else(|| "info".to_owned());
    Ok((config, log))
}

fn secret_env(name: &str) -> Option<SecretString> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}

/// The longest duration any setting takes: a year (token lifetimes; every
/// timeout is far shorter). Larger values are mistakes, and absurd ones
/// would overflow the dates computed from them.
const MAX_SECS: u64 = 366 * 24 * 60 * 60;

fn positive_secs(name: &str, secs: u64) -> anyhow::Result<Duration> {
    if secs == 0 {
        bail!("{name} must be at least 1");
    }
    if secs > MAX_SECS {
        bail!("{name} must be at most {MAX_SECS} (366 days); got {secs}");
    }
    Ok(Duration::from_secs(secs))
}

/// Overrides may be `http://` (the simulator); Microsoft itself is always https.
fn parse_override(name: &str, value: Option<String>) -> anyhow::Result<Option<Url>> {
    let Some(text) = value.filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let url = Url::parse(text.trim()).with_context(|| format!("{name}: '{text}' is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        bail!("{name}: '{text}' must be an http:// or https:// URL with a host");
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("{name}: '{text}' must not have a query or fragment");
    }
    Ok(Some(url))
}

pub fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Resolves when SIGTERM or SIGINT arrives.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested");
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let (config, log) = resolve(&args)?;
    init_logging(&log);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let prepared = openvbo_server::prepare(config).await?;
    if let Some(password) = &prepared.generated_admin_password {
        crate::console::print_generated_password(
            &format!(
                "openvbo created the administrator '{}'",
                prepared.admin_user
            ),
            password,
        );
    }
    prepared.serve(listener, shutdown_signal()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openvbo.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9443\"\ndata_dir = \"/tmp/from-file\"\naccess_token_lifetime_secs = 120\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(path),
            data_dir: Some(PathBuf::from("/tmp/from-flag")),
            ..ServeArgs::default()
        };
        let (config, _) = resolve(&args).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/tmp/from-flag"));
        assert_eq!(config.listen.to_string(), "127.0.0.1:9443");
        assert_eq!(config.access_token_lifetime, Duration::from_secs(120));
        assert_eq!(
            config.refresh_token_lifetime,
            Duration::from_secs(14 * 24 * 3600)
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "listne = \"x\"\n").unwrap();
        let err = read_file(&path).unwrap_err();
        assert!(format!("{err:#}").contains("listne"), "{err:#}");
        assert!(parse_override("m365_login_url", Some("ftp://x".into())).is_err());
        assert!(
            parse_override("m365_login_url", Some("http://127.0.0.1:1".into()))
                .unwrap()
                .is_some()
        );
        assert!(positive_secs("x", 0).is_err());
        assert!(positive_secs("x", MAX_SECS).is_ok());
        let err = positive_secs("access_token_lifetime_secs", u64::MAX).unwrap_err();
        assert!(err.to_string().contains("at most"), "{err}");
    }
}
