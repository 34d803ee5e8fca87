//! Configuration layers: defaults → TOML file → `OPENVBO_*` environment →
//! flags (clap reads the last two; flags win), and running the server.
//!
//! Every setting is written once, in the [`settings!`] table below: its file
//! key (the field name), its flag (the same name in kebab case), its
//! environment variable, its help text, how it is validated and where it
//! lands in [`ServerConfig`]. The defaults are `ServerConfig`'s own; the help
//! shows them from there ([`document_defaults`]), and a test checks that the
//! README's configuration table lists every row.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use openvbo_server::ServerConfig;
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use crate::cli::ServeArgs;

/// What the layers resolve into: the server's configuration and the log filter
/// (which only the binary uses).
pub(crate) struct Resolved {
    pub server: ServerConfig,
    pub log: String,
}

impl Default for Resolved {
    fn default() -> Self {
        Self {
            server: ServerConfig::with_data_dir(ServerConfig::DEFAULT_DATA_DIR),
            log: "info".to_owned(),
        }
    }
}

/// One row per setting:
/// `doc and #[arg] attributes, key: type, env "OPENVBO_…", default |resolved| shown,
/// apply |resolved, value, key| statement;` — `apply` validates (`?` refuses
/// with a message naming `key`) and stores the value.
macro_rules! settings {
    ($(
        $(#[$meta:meta])*
        $name:ident: $ty:ty, env $env:literal,
        default |$d:ident| $default:expr,
        apply |$c:ident, $v:ident, $key:ident| $apply:expr;
    )*) => {
        /// One layer of settings, each absent unless this layer gives it. The
        /// flags and environment (clap) and the TOML file (serde) are this one
        /// struct; unknown keys in the file are refused so a typo does not go
        /// unnoticed.
        #[derive(clap::Args, Deserialize, Debug, Default, Clone)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct Settings {
            $(
                $(#[$meta])*
                #[arg(long, env = $env)]
                pub $name: Option<$ty>,
            )*
        }

        impl Settings {
            /// `self` layered over `lower`: what `self` gives wins.
            pub(crate) fn over(self, lower: Settings) -> Settings {
                Settings { $($name: self.$name.or(lower.$name),)* }
            }

            /// Validates each given value into `resolved`.
            fn apply(self, resolved: &mut Resolved) -> anyhow::Result<()> {
                $(
                    if let Some($v) = self.$name {
                        let $c = &mut *resolved;
                        let $key = stringify!($name);
                        $apply;
                    }
                )*
                Ok(())
            }
        }

        /// `(file key, environment variable, default as shown)` of every setting.
        pub(crate) fn table() -> Vec<(&'static str, &'static str, Option<String>)> {
            let defaults = Resolved::default();
            vec![$(
                (stringify!($name), $env, { let $d = &defaults; $default }),
            )*]
        }
    };
}

settings! {
    /// Address to listen on.
    listen: String, env "OPENVBO_LISTEN",
    default |d| Some(d.server.listen.to_string()),
    apply |c, v, key| c.server.listen = v.trim().parse().with_context(|| {
        format!("{key}: '{v}' is not an address such as 0.0.0.0:4443")
    })?;

    /// Where the database, master key and generated certificate live.
    data_dir: PathBuf, env "OPENVBO_DATA_DIR",
    default |d| Some(d.server.data_dir.display().to_string()),
    apply |c, v, _key| c.server.data_dir = v;

    /// PEM certificate chain (with --tls-key); default: self-signed in the data dir.
    #[arg(requires = "tls_key")]
    tls_cert: PathBuf, env "OPENVBO_TLS_CERT",
    default |_d| None,
    apply |c, v, _key| c.server.tls_cert = Some(v);

    /// PEM private key (with --tls-cert).
    #[arg(requires = "tls_cert")]
    tls_key: PathBuf, env "OPENVBO_TLS_KEY",
    default |_d| None,
    apply |c, v, _key| c.server.tls_key = Some(v);

    /// Replace Microsoft's sign-in host (e.g. the simulator's URL).
    m365_login_url: String, env "OPENVBO_M365_LOGIN_URL",
    default |_d| None,
    apply |c, v, key| c.server.m365_login_url = parse_override(key, v)?;

    /// Replace Microsoft Graph's host (e.g. the simulator's URL).
    m365_graph_url: String, env "OPENVBO_M365_GRAPH_URL",
    default |_d| None,
    apply |c, v, key| c.server.m365_graph_url = parse_override(key, v)?;

    /// The Entra ID public client application used for password sign-in.
    m365_client_id: String, env "OPENVBO_M365_CLIENT_ID",
    default |d| Some(d.server.m365_client_id.clone()),
    apply |c, v, _key| c.server.m365_client_id = v;

    /// Timeout of one request to Microsoft 365, in seconds.
    m365_timeout_secs: u64, env "OPENVBO_M365_TIMEOUT_SECS",
    default |d| Some(d.server.m365_timeout.as_secs().to_string()),
    apply |c, v, key| c.server.m365_timeout = positive_secs(key, v)?;

    /// Access token lifetime in seconds.
    access_token_lifetime_secs: u64, env "OPENVBO_ACCESS_TOKEN_LIFETIME_SECS",
    default |d| Some(d.server.access_token_lifetime.as_secs().to_string()),
    apply |c, v, key| c.server.access_token_lifetime = positive_secs(key, v)?;

    /// Refresh token lifetime in seconds.
    refresh_token_lifetime_secs: u64, env "OPENVBO_REFRESH_TOKEN_LIFETIME_SECS",
    default |d| Some(d.server.refresh_token_lifetime.as_secs().to_string()),
    apply |c, v, key| c.server.refresh_token_lifetime = positive_secs(key, v)?;

    /// How long a cached listing (setId) answers, in seconds.
    discovery_cache_ttl_secs: u64, env "OPENVBO_DISCOVERY_CACHE_TTL_SECS",
    default |d| Some(d.server.discovery_cache.ttl.as_secs().to_string()),
    apply |c, v, key| c.server.discovery_cache.ttl = positive_secs(key, v)?;

    /// Objects held in cached listings across all sets.
    discovery_cache_max_items: usize, env "OPENVBO_DISCOVERY_CACHE_MAX_ITEMS",
    default |d| Some(d.server.discovery_cache.max_items.to_string()),
    apply |c, v, key| c.server.discovery_cache.max_items = at_least_one(key, v)?;

    /// Simultaneous client connections.
    max_connections: usize, env "OPENVBO_MAX_CONNECTIONS",
    default |d| Some(d.server.connections.max_connections.to_string()),
    apply |c, v, key| c.server.connections.max_connections = at_least_one(key, v)?;

    /// Simultaneous connections from one client address.
    max_connections_per_ip: usize, env "OPENVBO_MAX_CONNECTIONS_PER_IP",
    default |d| Some(d.server.connections.max_connections_per_ip.to_string()),
    apply |c, v, key| c.server.connections.max_connections_per_ip = at_least_one(key, v)?;

    /// Seconds a client may take to send a request's headers, or stay idle between requests.
    header_timeout_secs: u64, env "OPENVBO_HEADER_TIMEOUT_SECS",
    default |d| Some(d.server.connections.header_timeout.as_secs().to_string()),
    apply |c, v, key| c.server.connections.header_timeout = positive_secs(key, v)?;

    /// Seconds a restore session may go unused before it stops (60 to 604800, 7 days).
    restore_session_idle_secs: u64, env "OPENVBO_RESTORE_SESSION_IDLE_SECS",
    default |d| Some(d.server.restore_session_idle.as_secs().to_string()),
    apply |c, v, key| c.server.restore_session_idle = secs_within(key, v, 60, MAX_RESTORE_IDLE_SECS)?;

    /// PEM certificates trusted for S3-compatible services besides the system's (a private CA).
    s3_ca_file: PathBuf, env "OPENVBO_S3_CA_FILE",
    default |_d| None,
    apply |c, v, _key| c.server.s3_ca_file = Some(v);

    /// SharePoint resource units per minute drive restores may spend per organization.
    drive_restore_units_per_minute: u32, env "OPENVBO_DRIVE_RESTORE_UNITS_PER_MINUTE",
    default |d| Some(
        d.server
            .drive_restore_units_per_minute
            .map_or(ServerConfig::DEFAULT_DRIVE_RESTORE_UNITS_PER_MINUTE, NonZeroU32::get)
            .to_string(),
    ),
    apply |c, v, key| c.server.drive_restore_units_per_minute = Some(units_per_minute(key, v)?);

    /// SharePoint resource units per minute drive backups may spend per organization.
    drive_backup_units_per_minute: u32, env "OPENVBO_DRIVE_BACKUP_UNITS_PER_MINUTE",
    default |d| Some(
        d.server
            .drive_backup_units_per_minute
            .map_or(ServerConfig::DEFAULT_DRIVE_BACKUP_UNITS_PER_MINUTE, NonZeroU32::get)
            .to_string(),
    ),
    apply |c, v, key| c.server.drive_backup_units_per_minute = Some(units_per_minute(key, v)?);

    /// Log filter (tracing syntax, e.g. info or openvbo_api=debug).
    log: String, env "OPENVBO_LOG",
    default |d| Some(d.log.clone()),
    apply |c, v, _key| c.log = v;
}

pub(crate) fn read_file(path: &Path) -> anyhow::Result<Settings> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("the config file {} is invalid", path.display()))
}

/// Resolves every layer into the server's configuration and the log filter.
pub(crate) fn resolve(args: &ServeArgs) -> anyhow::Result<(ServerConfig, String)> {
    let file = match &args.config {
        Some(path) => read_file(path)?,
        None => Settings::default(),
    };
    let mut resolved = Resolved::default();
    // clap has already put the flags over the environment.
    args.settings.clone().over(file).apply(&mut resolved)?;
    let Resolved {
        server: mut config,
        log,
    } = resolved;
    if config.tls_cert.is_some() != config.tls_key.is_some() {
        bail!("tls_cert and tls_key must be given together");
    }
    config.initialize = args.initialize;
    // Secrets come from the environment only: never a flag (visible in ps)
    // nor the config file (often world-readable).
    if let Ok(user) = std::env::var("OPENVBO_ADMIN_USER") {
        if !user.trim().is_empty() {
            config.admin_user = user;
        }
    }
    config.admin_password = secret_env("OPENVBO_ADMIN_PASSWORD");
    config.master_key = secret_env("OPENVBO_MASTER_KEY");
    Ok((config, log))
}

/// Appends `[default: …]` to the help of every setting, from the table (so
/// the help cannot disagree with the defaults the server uses).
pub(crate) fn document_defaults(command: clap::Command) -> clap::Command {
    let table = table();
    command
        .mut_args(|arg| {
            let shown = table
                .iter()
                .find(|(key, _, _)| arg.get_id() == *key)
                .and_then(|(_, _, default)| default.as_ref());
            match (shown, arg.get_help()) {
                (Some(default), Some(help)) => {
                    let help = format!("{help} [default: {default}]");
                    arg.help(help)
                }
                _ => arg,
            }
        })
        .mut_subcommands(document_defaults)
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

/// A week: longer than any restore an operator leaves open on purpose; a
/// session holds memory (its chosen resources) until it stops.
const MAX_RESTORE_IDLE_SECS: u64 = 7 * 24 * 60 * 60;

fn secs_within(name: &str, secs: u64, min: u64, max: u64) -> anyhow::Result<Duration> {
    if !(min..=max).contains(&secs) {
        bail!("{name} must be from {min} to {max}; got {secs}");
    }
    Ok(Duration::from_secs(secs))
}

/// Every write costs 2 units, so a budget of less than 2 a minute could never let one go.
const MIN_UNITS_PER_MINUTE: u32 = 2;

fn units_per_minute(name: &str, n: u32) -> anyhow::Result<NonZeroU32> {
    match NonZeroU32::new(n) {
        Some(units) if n >= MIN_UNITS_PER_MINUTE => Ok(units),
        _ => bail!(
            "{name} must be at least {MIN_UNITS_PER_MINUTE} (a write costs 2 resource units); got {n}"
        ),
    }
}

fn at_least_one(name: &str, n: usize) -> anyhow::Result<usize> {
    if n == 0 {
        bail!("{name} must be at least 1");
    }
    Ok(n)
}

/// Overrides may be `http://` (the simulator); Microsoft itself is always https.
/// An empty value means no override.
fn parse_override(name: &str, text: String) -> anyhow::Result<Option<Url>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let url = Url::parse(text.trim()).with_context(|| format!("{name}: '{text}' is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        bail!("{name}: '{text}' must be an http:// or https:// URL with a host");
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("{name}: '{text}' must not have a query or fragment");
    }
    Ok(Some(url))
}

pub(crate) fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Resolves when SIGTERM or SIGINT arrives.
pub(crate) async fn shutdown_signal() {
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

pub(crate) async fn serve(args: ServeArgs) -> anyhow::Result<()> {
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

    fn flags(settings: Settings, config: Option<PathBuf>) -> ServeArgs {
        ServeArgs {
            config,
            settings,
            initialize: false,
        }
    }

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openvbo.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9443\"\ndata_dir = \"/tmp/from-file\"\naccess_token_lifetime_secs = 120\nrestore_session_idle_secs = 600\n",
        )
        .unwrap();
        let args = flags(
            Settings {
                data_dir: Some(PathBuf::from("/tmp/from-flag")),
                restore_session_idle_secs: Some(90),
                ..Settings::default()
            },
            Some(path),
        );
        let (config, log) = resolve(&args).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/tmp/from-flag"));
        assert_eq!(config.listen.to_string(), "127.0.0.1:9443");
        assert_eq!(config.access_token_lifetime, Duration::from_secs(120));
        assert_eq!(config.restore_session_idle, Duration::from_secs(90));
        assert_eq!(
            config.refresh_token_lifetime,
            Duration::from_secs(14 * 24 * 3600)
        );
        assert_eq!(log, "info");
        // Without any layer: the server's defaults.
        let (config, _) = resolve(&flags(Settings::default(), None)).unwrap();
        assert_eq!(config.restore_session_idle, Duration::from_secs(1800));
        assert_eq!(config.listen.to_string(), "0.0.0.0:4443");
        assert_eq!(config.data_dir, PathBuf::from("./openvbo-data"));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "listne = \"x\"\n").unwrap();
        let err = read_file(&path).unwrap_err();
        assert!(format!("{err:#}").contains("listne"), "{err:#}");
        assert!(parse_override("m365_login_url", "ftp://x".into()).is_err());
        assert!(
            parse_override("m365_login_url", "http://127.0.0.1:1".into())
                .unwrap()
                .is_some()
        );
        assert!(positive_secs("x", 0).is_err());
        assert!(positive_secs("x", MAX_SECS).is_ok());
        let err = positive_secs("access_token_lifetime_secs", u64::MAX).unwrap_err();
        assert!(err.to_string().contains("at most"), "{err}");
        for (secs, ok) in [(59, false), (60, true), (604_800, true), (604_801, false)] {
            let args = flags(
                Settings {
                    restore_session_idle_secs: Some(secs),
                    ..Settings::default()
                },
                None,
            );
            match resolve(&args) {
                Ok((config, _)) => {
                    assert!(ok, "{secs} was accepted");
                    assert_eq!(config.restore_session_idle, Duration::from_secs(secs));
                }
                Err(e) => {
                    assert!(!ok, "{secs} was refused: {e}");
                    assert_eq!(
                        e.to_string(),
                        format!("restore_session_idle_secs must be from 60 to 604800; got {secs}")
                    );
                }
            }
        }
        let args = flags(
            Settings {
                listen: Some("nowhere".into()),
                ..Settings::default()
            },
            None,
        );
        let err = resolve(&args).err().unwrap();
        assert!(err.to_string().starts_with("listen: 'nowhere'"), "{err}");
    }

    /// The drive restore budget from each layer: unset is the connector's default, the file
    /// sets it, the environment beats the file, and values that could never let a write go
    /// (0, 1) or are not numbers are refused before the server starts.
    #[test]
    fn the_drive_restore_budget_comes_from_the_layers_and_is_validated() {
        use clap::{CommandFactory, FromArgMatches};
        let (config, _) = resolve(&flags(Settings::default(), None)).unwrap();
        assert_eq!(config.drive_restore_units_per_minute, None);
        let shown = table()
            .into_iter()
            .find(|(key, _, _)| *key == "drive_restore_units_per_minute")
            .and_then(|(_, _, default)| default);
        assert_eq!(shown.as_deref(), Some("1000"));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openvbo.toml");
        std::fs::write(&path, "drive_restore_units_per_minute = 2500\n").unwrap();
        let (config, _) = resolve(&flags(Settings::default(), Some(path.clone()))).unwrap();
        assert_eq!(config.drive_restore_units_per_minute, NonZeroU32::new(2500));

        // The environment through clap, as `serve` reads it; no other test sets this variable.
        const ENV: &str = "OPENVBO_DRIVE_RESTORE_UNITS_PER_MINUTE";
        std::env::set_var(ENV, "6250");
        let matches = crate::cli::Cli::command().try_get_matches_from([
            "openvbo".as_ref(),
            "serve".as_ref(),
            "--config".as_ref(),
            path.as_os_str(),
        ]);
        std::env::remove_var(ENV);
        let cli = crate::cli::Cli::from_arg_matches(&matches.unwrap()).unwrap();
        let crate::cli::Command::Serve(args) = cli.command else {
            panic!("not serve");
        };
        let (config, _) = resolve(&args).unwrap();
        assert_eq!(config.drive_restore_units_per_minute, NonZeroU32::new(6250));

        for units in [0, 1] {
            let args = flags(
                Settings {
                    drive_restore_units_per_minute: Some(units),
                    ..Settings::default()
                },
                None,
            );
            let err = resolve(&args).err().unwrap();
            assert_eq!(
                err.to_string(),
                format!(
                    "drive_restore_units_per_minute must be at least 2 (a write costs 2 \
                     resource units); got {units}"
                )
            );
        }
        let (config, _) = resolve(&flags(
            Settings {
                drive_restore_units_per_minute: Some(2),
                ..Settings::default()
            },
            None,
        ))
        .unwrap();
        assert_eq!(config.drive_restore_units_per_minute, NonZeroU32::new(2));

        for bad in ["\"many\"", "-5", "1.5"] {
            std::fs::write(&path, format!("drive_restore_units_per_minute = {bad}\n")).unwrap();
            let err = read_file(&path).unwrap_err();
            let text = format!("{err:#}");
            assert!(
                text.contains("drive_restore_units_per_minute"),
                "{bad}: {text}"
            );
        }
    }

    /// Backups have their own budget: setting it leaves the restores' alone, and the same
    /// floor applies (a listing costs 2 units, so fewer could never let a backup go).
    #[test]
    fn the_drive_backup_budget_is_its_own_setting() {
        let (config, _) = resolve(&flags(Settings::default(), None)).unwrap();
        assert_eq!(config.drive_backup_units_per_minute, None);
        let shown = table()
            .into_iter()
            .find(|(key, _, _)| *key == "drive_backup_units_per_minute")
            .and_then(|(_, _, default)| default);
        assert_eq!(shown.as_deref(), Some("1000"));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openvbo.toml");
        std::fs::write(&path, "drive_backup_units_per_minute = 25000\n").unwrap();
        let (config, _) = resolve(&flags(Settings::default(), Some(path))).unwrap();
        assert_eq!(config.drive_backup_units_per_minute, NonZeroU32::new(25000));
        assert_eq!(config.drive_restore_units_per_minute, None);

        let args = flags(
            Settings {
                drive_backup_units_per_minute: Some(1),
                ..Settings::default()
            },
            None,
        );
        let err = resolve(&args).err().unwrap();
        assert_eq!(
            err.to_string(),
            "drive_backup_units_per_minute must be at least 2 (a write costs 2 resource units); \
             got 1"
        );
    }

    #[test]
    fn flags_and_environment_names_come_from_the_one_table() {
        use clap::{CommandFactory, FromArgMatches};
        let command = document_defaults(crate::cli::Cli::command());
        let serve = command.find_subcommand("serve").unwrap();
        for (key, env, default) in table() {
            let arg = serve
                .get_arguments()
                .find(|a| a.get_id() == key)
                .unwrap_or_else(|| panic!("no flag for {key}"));
            assert_eq!(arg.get_long(), Some(key.replace('_', "-").as_str()));
            assert_eq!(arg.get_env().and_then(|e| e.to_str()), Some(env));
            assert!(
                env.starts_with("OPENVBO_") && env == format!("OPENVBO_{}", key.to_uppercase())
            );
            let help = arg.get_help().unwrap().to_string();
            if let Some(default) = default {
                assert!(help.ends_with(&format!("[default: {default}]")), "{help}");
            }
        }
        let matches = command
            .try_get_matches_from([
                "openvbo",
                "serve",
                "--restore-session-idle-secs",
                "120",
                "--listen",
                "127.0.0.1:1",
            ])
            .unwrap();
        let cli = crate::cli::Cli::from_arg_matches(&matches).unwrap();
        let crate::cli::Command::Serve(args) = cli.command else {
            panic!("not serve");
        };
        let (config, _) = resolve(&args).unwrap();
        assert_eq!(config.restore_session_idle, Duration::from_secs(120));
    }

    /// The README's configuration table is what operators read: each setting
    /// appears there with its key, variable and flag.
    #[test]
    fn the_readme_lists_every_setting() {
        let readme = include_str!("../../../README.md");
        let section = readme
            .split("### Configuration")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .unwrap();
        for (key, env, _) in table() {
            let row = section
                .lines()
                .find(|l| l.contains(&format!("`{key}`")))
                .unwrap_or_else(|| panic!("README: no row for `{key}`"));
            assert!(row.contains(&format!("`{env}`")), "{row}");
            assert!(
                row.contains(&format!("`--{}`", key.replace('_', "-"))),
                "{row}"
            );
        }
    }
}
