//! The services the API serves, built over an open data dir: sign-in, the
//! Microsoft 365 connector under organizations, discovery and restore,
//! repositories, and jobs.

use std::sync::Arc;

use openvbo_api::Services;
use openvbo_backup::directory_adapter::M365TokenSource;
use openvbo_backup::restore::GraphRestoreConnector;
use openvbo_core::auth::{AuthService, AuthSettings};
use openvbo_core::clock::SharedClock;
use openvbo_core::discovery::DiscoveryService;
use openvbo_core::microsoft365::TokenSource;
use openvbo_core::organization::OrganizationService;
use openvbo_core::restore::credentials::RestoreAccess;
use openvbo_m365::{ConnectorSettings, M365Client};

use crate::config::ServerConfig;
use crate::data_dir::DataDir;
use crate::LaunchError;

/// Every service, on `clock`. Settings that could not work (token lifetimes
/// beyond what the dates can hold, …) are refused here, before serving.
pub async fn assemble(
    data: &DataDir,
    config: &ServerConfig,
    clock: SharedClock,
) -> Result<Services, LaunchError> {
    let auth = AuthService::with_clock(
        data.store.clone(),
        AuthSettings {
            access_token_lifetime: config.access_token_lifetime,
            refresh_token_lifetime: config.refresh_token_lifetime,
            throttle: config.login_throttle,
            hashing_queue: config.login_queue,
            ..AuthSettings::default()
        },
        clock.clone(),
    )
    .map_err(|e| LaunchError::setup("the sign-in settings are unusable", e))?;
    let connector = M365Client::new(ConnectorSettings {
        client_id: config.m365_client_id.clone(),
        request_timeout: config.m365_timeout,
        ..ConnectorSettings::default()
    })
    .map_err(|e| LaunchError::setup("cannot build the Microsoft 365 connector", e))?;
    // Core signs in through its port; the adapter holds the connector and
    // the operator's endpoint overrides (the simulator).
    let tokens: Arc<dyn TokenSource> = Arc::new(M365TokenSource::new(
        connector,
        config.m365_login_url.clone(),
        config.m365_graph_url.clone(),
    ));
    let organizations = OrganizationService::new(
        data.store.clone(),
        tokens,
        data.sealer.clone(),
        clock.clone(),
    );
    let discovery = DiscoveryService::new(
        organizations.clone(),
        data.sealer.clone(),
        config.discovery_cache,
        clock.clone(),
    );
    // Restores sign in through core (the stored accounts, or one a request
    // names) and write through the connector's restore writers.
    let restore_access = RestoreAccess::new(
        organizations.clone(),
        discovery.clone(),
        Arc::new(GraphRestoreConnector::new()),
    );
    let repositories = crate::repositories::service(data, config, clock.clone())?;
    crate::repositories::start_cleanup(&repositories, clock.clone());
    let jobs = crate::jobs::service(
        data.store.clone(),
        repositories.clone(),
        discovery.clone(),
        clock.clone(),
        config.drive_backup_units_per_minute,
    )
    .await;
    Ok(Services {
        auth,
        organizations,
        discovery,
        repositories,
        jobs,
        store: data.store.clone(),
        clock,
        installation_id: data.installation_id,
        restore_session_idle: config.restore_session_idle,
        restore_access,
        drive_restore_units_per_minute: config.drive_restore_units_per_minute,
        temp_dir: data.temp.clone(),
    })
}
