//! openvbo's composition root: everything a running server is made of, put
//! together in one place.
//!
//! It owns the data dir's layout ([`data_dir`]), chooses and opens the
//! store (SQLite today), holds the master key, loads or generates the TLS
//! certificate ([`tls`]), builds the Microsoft 365 connector and the core
//! services over them ([`services`]), and hands those to `openvbo-api`,
//! which serves the v6 HTTP surface. The `openvbo` binary parses the command
//! line into a [`ServerConfig`] and calls [`prepare`] and
//! [`Prepared::serve`]; tests do the same with a listener on port 0. Nothing
//! here prints: what an operator must see (a generated password) is
//! returned, and the binary shows it.
#![deny(clippy::panic, clippy::indexing_slicing, unreachable_pub)]

pub mod config;
pub mod data_dir;
mod fsutil;
mod jobs;
mod repositories;
pub mod services;
pub mod tls;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use openvbo_core::auth::{AuthService, AuthSettings};
use openvbo_core::clock::SharedClock;
use openvbo_core::store::Store;
use secrecy::SecretString;
use tokio::net::TcpListener;

pub use config::ServerConfig;

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    DataDir(#[from] data_dir::DataDirError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("{what}")]
    Setup {
        what: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
}

impl LaunchError {
    fn setup(what: &'static str, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Setup {
            what,
            source: Box::new(source),
        }
    }
}

/// A server ready to serve: data dir open and locked, administrator present,
/// services built.
pub struct Prepared {
    services: openvbo_api::Services,
    tls: Arc<rustls::ServerConfig>,
    store: Arc<dyn Store>,
    /// Held while serving: one server per data dir.
    _lock: std::fs::File,
    config: ServerConfig,
    /// Set when the first administrator's password was generated: the
    /// caller shows it once to the operator (stdout), never logs it.
    pub generated_admin_password: Option<SecretString>,
    pub admin_user: String,
    pub cert_path: PathBuf,
}

/// Opens the data dir and builds the services on the system clock.
pub async fn prepare(config: ServerConfig) -> Result<Prepared, LaunchError> {
    prepare_with_clock(config, openvbo_core::clock::system()).await
}

/// [`prepare`] with the clock every service reads time from (tests pass a
/// manual one and advance it instead of sleeping).
pub async fn prepare_with_clock(
    config: ServerConfig,
    clock: SharedClock,
) -> Result<Prepared, LaunchError> {
    let lock = data_dir::lock(&config.data_dir)?;
    let data = data_dir::open_with(
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
    let services = services::assemble(&data, &config, clock).await?;
    let generated_admin_password = services
        .auth
        .ensure_admin(&config.admin_user, config.admin_password.clone())
        .await
        .map_err(|e| LaunchError::setup("cannot create the administrator", e))?;
    Ok(Prepared {
        services,
        tls,
        store: data.store.clone(),
        _lock: lock,
        generated_admin_password,
        admin_user: config.admin_user.clone(),
        cert_path,
        config,
    })
}

impl Prepared {
    /// The repository service the server is about to serve (a handle to the same one): tests
    /// install an import gate on it to hold a synchronization at a known restore point.
    pub fn repositories(&self) -> openvbo_core::repositories::RepositoryService {
        self.services.repositories.clone()
    }

    /// Serves until `shutdown` resolves, then lets requests in flight finish
    /// and closes the store.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), LaunchError> {
        let purge = tokio::spawn(purge_expired_tokens(self.services.auth.clone()));
        let local = listener.local_addr()?;
        tracing::info!(address = %local, "openvbo is serving https");
        let limits = self.config.connections;
        let app = openvbo_api::app(self.services, &limits);
        let result = openvbo_api::serve(
            listener,
            self.tls,
            app,
            openvbo_api::ServeOptions {
                limits,
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

/// Sets an administrator's password (created if missing; generated if
/// `password` is `None`) and revokes their sessions. Works while a server
/// runs on the same data dir (it does not take the lock).
pub async fn reset_admin_password(
    config: &ServerConfig,
    user: &str,
    password: Option<SecretString>,
) -> Result<SecretString, LaunchError> {
    let data = data_dir::open(&config.data_dir, config.master_key.as_ref()).await?;
    let auth = AuthService::new(data.store.clone(), AuthSettings::default())
        .map_err(|e| LaunchError::setup("cannot start the sign-in service", e))?;
    let password = auth
        .reset_password(user, password)
        .await
        .map_err(|e| LaunchError::setup("cannot set the password", e));
    data.store.close().await;
    password
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
