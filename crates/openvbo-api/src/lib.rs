//! openvbo's HTTPS server: the Veeam Backup for Microsoft 365 REST API v6.
//!
//! [`launch`] is the whole server: open the data dir, create the first
//! administrator, build the services, serve until `shutdown` resolves.
//! Tests call it with a listener on port 0.

mod authn;
pub mod bootstrap;
pub mod config;
mod deadline;
mod error;
mod fsutil;
mod jobs_setup;
mod json;
mod layers;
mod paths;
#[cfg(test)]
mod proptests;
mod query;
mod repository_setup;
mod routes;
mod server;
mod state;
pub mod tls;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use openvbo_core::auth::{AuthService, AuthSettings};
use openvbo_core::discovery::DiscoveryService;
use openvbo_core::organization::{EndpointOverrides, OrganizationService, ServiceOptions};
use openvbo_core::store::Store;
use openvbo_m365::{ConnectorSettings, M365Client};
use secrecy::SecretString;
use tokio::net::TcpListener;

pub use config::ServerConfig;
pub use error::ApiError;
pub use routes::COMPATIBLE_VERSION;
pub use server::ConnectionLimits;

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Bootstrap(#[from] bootstrap::BootstrapError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("{0}")]
    Setup(String),
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A server ready to serve: data dir open, administrator present.
pub struct Prepared {
    app: Router,
    tls: Arc<rustls::ServerConfig>,
    auth: AuthService,
    store: Arc<openvbo_store::SqliteStore>,
    /// Held while serving: one server per data dir.
    _lock: std::fs::File,
    config: ServerConfig,
    /// Set when the first administrator's password was generated: show it
    /// once to the operator (stdout), never log it.
    pub generated_admin_password: Option<SecretString>,
    pub admin_user: String,
    pub cert_path: std::path::PathBuf,
}

/// Opens the data dir and builds the services.
pub async fn prepare(config: ServerConfig) -> Result<Prepared, LaunchError> {
    let lock = bootstrap::lock(&config.data_dir)?;
    let data = bootstrap::open_with(
        &config.data_dir,
        config.master_key.as_ref(),
        config.initialize,
    )
    .await?;
    let (tls, cert_path) = tls::server_config(
        config.tls_cert.as_deref(),
        config.tls_key.as_deref(),
        &config.data_dir,
    )?;
    let store: Arc<dyn Store> = data.store.clone();
    let auth = AuthService::new(
        store.clone(),
        AuthSettings {
            access_token_lifetime: config.access_token_lifetime,
            refresh_token_lifetime: config.refresh_token_lifetime,
            throttle: config.login_throttle,
            hashing_queue: config.login_queue,
            ..AuthSettings::default()
        },
    )
    .map_err(|e| LaunchError::Setup(e.to_string()))?;
    let generated_admin_password = auth
        .ensure_admin(&config.admin_user, config.admin_password.clone())
        .await
        .map_err(|e| LaunchError::Setup(format!("cannot create the administrator: {e}")))?;
    let connector = M365Client::new(ConnectorSettings {
        client_id: config.m365_client_id.clone(),
        request_timeout: config.m365_timeout,
        ..ConnectorSettings::default()
    })
    .map_err(|e| LaunchError::Setup(e.to_string()))?;
    let endpoints = EndpointOverrides {
        login: config.m365_login_url.clone(),
        graph: config.m365_graph_url.clone(),
    };
    let organizations = OrganizationService::new(
        store,
        connector.clone(),
        data.sealer.clone(),
        ServiceOptions {
            endpoints: endpoints.clone(),
        },
    );
    let discovery = DiscoveryService::new(
        organizations.clone(),
        connector,
        data.sealer.clone(),
        endpoints,
        config.discovery_cache,
    );
    let repositories = repository_setup::service(&data, &config);
    let jobs = jobs_setup::service(
        data.store.clone(),
        repositories.clone(),
        discovery.clone(),
        openvbo_core::clock::system(),
    )
    .await;
    let state = state::AppState {
        auth: auth.clone(),
        organizations,
        discovery,
        repositories,
        jobs,
        installation_id: data.installation_id,
        list_bodies: Arc::default(),
        restore: routes::restore::RestoreState::new(
            data.store.clone(),
            openvbo_core::clock::system(),
            routes::restore::SESSION_IDLE,
        ),
    };
    Ok(Prepared {
        app: app(state, &config.connections),
        tls,
        auth,
        store: data.store.clone(),
        _lock: lock,
        generated_admin_password,
        admin_user: config.admin_user.clone(),
        cert_path,
        config,
    })
}

/// The router with its cross-cutting layers.
fn app(state: state::AppState, limits: &ConnectionLimits) -> Router {
    layers::layered(routes::router(state), limits)
}

impl Prepared {
    /// Serves until `shutdown` resolves, then lets requests in flight finish.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), LaunchError> {
        let purge = tokio::spawn(purge_expired_tokens(self.auth.clone()));
        let local = listener.local_addr()?;
        tracing::info!(address = %local, "openvbo is serving https");
        let result = server::serve(
            listener,
            self.tls,
            self.app,
            server::ServeOptions {
                limits: self.config.connections,
                shutdown_grace: self.config.shutdown_grace,
            },
            shutdown,
        )
        .await;
        purge.abort();
        // Every request has finished: checkpoint and close the database.
        self.store.close().await;
        result.map_err(LaunchError::from)
    }
}

/// The whole server: prepare, tell the operator a generated password (on
/// stdout, once), serve until `shutdown`.
pub async fn launch(
    config: ServerConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), LaunchError> {
    let prepared = prepare(config).await?;
    if let Some(password) = &prepared.generated_admin_password {
        print_generated_password(
            &format!(
                "openvbo created the administrator '{}'",
                prepared.admin_user
            ),
            password,
        );
    }
    prepared.serve(listener, shutdown).await
}

/// stdout, not the log: logs are collected and kept; this is shown once.
pub fn print_generated_password(headline: &str, password: &SecretString) {
    use secrecy::ExposeSecret;
    println!(
        "\n{headline} with the generated password:\n\n    {}\n\nIt is shown only this once. Lost it? Run `openvbo admin reset-password`.\n",
        password.expose_secret()
    );
}

/// Sets an administrator's password (created if missing; generated if
/// `password` is `None`) and revokes their sessions. Works while a server
/// runs on the same data dir.
pub async fn reset_admin_password(
    config: &ServerConfig,
    user: &str,
    password: Option<SecretString>,
) -> Result<SecretString, LaunchError> {
    let data = bootstrap::open(&config.data_dir, config.master_key.as_ref()).await?;
    let store: Arc<dyn Store> = data.store.clone();
    let auth = AuthService::new(store, AuthSettings::default())
        .map_err(|e| LaunchError::Setup(e.to_string()))?;
    let password = auth
        .reset_password(user, password)
        .await
        .map_err(|e| LaunchError::Setup(format!("cannot set the password: {e}")))?;
    data.store.close().await;
    Ok(password)
}

async fn purge_expired_tokens(auth: AuthService) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        match auth.purge_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(tokens = n, "purged expired tokens"),
            Err(e) => tracing::warn!(error = %e, "purging expired tokens failed"),
        }
    }
}
