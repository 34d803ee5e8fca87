//! The resolved server configuration (the binary layers defaults, file,
//! environment and flags into it).

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use openvbo_core::auth::ThrottleSettings;
use openvbo_core::discovery::CacheSettings;
use secrecy::SecretString;
use url::Url;

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// PEM files; both or neither. Neither: a self-signed certificate in the data dir.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Replace Microsoft's hosts (the simulator). `http://` is allowed only here.
    pub m365_login_url: Option<Url>,
    pub m365_graph_url: Option<Url>,
    pub m365_client_id: String,
    pub m365_timeout: Duration,
    pub access_token_lifetime: Duration,
    pub refresh_token_lifetime: Duration,
    pub login_throttle: ThrottleSettings,
    /// Sign-ins waiting for a hashing thread at most (beyond: 503).
    pub login_queue: usize,
    /// Cached listings (`setId`): lifetime and size.
    pub discovery_cache: CacheSettings,
    /// First start only: the administrator to create.
    pub admin_user: String,
    pub admin_password: Option<SecretString>,
    /// Overrides the key file in the data dir.
    pub master_key: Option<SecretString>,
    /// Begin a new installation even though the data dir holds a master key
    /// without its database (otherwise refused: the database was lost).
    pub initialize: bool,
    pub connections: openvbo_api::ConnectionLimits,
    /// How long in-flight requests may take to finish on shutdown.
    pub shutdown_grace: Duration,
    /// How long a restore session may go unused before it stops.
    pub restore_session_idle: Duration,
    /// PEM certificates trusted for S3-compatible services besides the system's roots
    /// (a private CA, or a self-signed service).
    pub s3_ca_file: Option<PathBuf>,
    /// SharePoint resource units per minute that OneDrive/SharePoint restores may spend per
    /// organization (one budget shared by all of them). `None`: the connector's default,
    /// [`Self::DEFAULT_DRIVE_RESTORE_UNITS_PER_MINUTE`]; Microsoft's budget grows with the
    /// tenant's licences, so large tenants raise it.
    pub drive_restore_units_per_minute: Option<NonZeroU32>,
    /// SharePoint resource units per minute that OneDrive/SharePoint backups may spend per
    /// organization, a budget of their own so a long restore does not starve the night's
    /// backups (or the reverse). `None`: [`Self::DEFAULT_DRIVE_BACKUP_UNITS_PER_MINUTE`].
    pub drive_backup_units_per_minute: Option<NonZeroU32>,
}

impl ServerConfig {
    pub const DEFAULT_LISTEN: &'static str = "0.0.0.0:4443";
    pub const DEFAULT_DATA_DIR: &'static str = "./openvbo-data";
    /// What restores spend when `drive_restore_units_per_minute` is not set (below the
    /// smallest tenant's budget, leaving room for its other applications).
    pub const DEFAULT_DRIVE_RESTORE_UNITS_PER_MINUTE: u32 =
        openvbo_m365::drive::ResourceUnits::DEFAULT_PER_MINUTE;
    /// What backups spend when `drive_backup_units_per_minute` is not set.
    pub const DEFAULT_DRIVE_BACKUP_UNITS_PER_MINUTE: u32 =
        openvbo_m365::drive::ResourceUnits::DEFAULT_PER_MINUTE;

    /// Defaults for everything but where to keep data.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 4443)),
            data_dir: data_dir.into(),
            tls_cert: None,
            tls_key: None,
            m365_login_url: None,
            m365_graph_url: None,
            m365_client_id: openvbo_m365::DEFAULT_CLIENT_ID.to_owned(),
            m365_timeout: Duration::from_secs(20),
            access_token_lifetime: Duration::from_secs(60 * 60),
            refresh_token_lifetime: Duration::from_secs(14 * 24 * 60 * 60),
            login_throttle: ThrottleSettings::default(),
            login_queue: 64,
            discovery_cache: CacheSettings::default(),
            admin_user: "admin".to_owned(),
            admin_password: None,
            master_key: None,
            initialize: false,
            connections: openvbo_api::ConnectionLimits::default(),
            shutdown_grace: Duration::from_secs(30),
            restore_session_idle: Duration::from_secs(30 * 60),
            s3_ca_file: None,
            drive_restore_units_per_minute: None,
            drive_backup_units_per_minute: None,
        }
    }
}
