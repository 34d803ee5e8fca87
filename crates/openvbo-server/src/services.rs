//! The services the API serves, built over an open data dir: sign-in, the
//! Microsoft 365 connector under organizations and discovery, repositories,
//! and jobs.

use openvbo_api::Services;
use openvbo_core::auth::{AuthService, AuthSettings};
use openvbo_core::clock::SharedClock;
use openvbo_core::discovery::DiscoveryService;
use openvbo_core::organization::{EndpointOverrides, OrganizationService, ServiceOptions};
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
    let endpoints = EndpointOverrides {
        login: config.m365_login_url.clone(),
        graph: config.m365_graph_url.clone(),
    };
    let organizations = OrganizationService::new(
        data.store.clone(),
        connector.clone(),
        data.sealer.clone(),
        ServiceOptions {
            endpoints: endpoints.clone(),
        },
    );
    // The setId cache reads the system clock: core's DiscoveryService does
    // not take one yet.
    let discovery = DiscoveryService::new(
        organizations.clone(),
        connector,
        data.sealer.clone(),
        endpoints,
        config.discovery_cache,
    );
    let repositories = crate::repositories::service(data, config, clock.clone());
    crate::repositories::start_cleanup(&repositories, clock.clone());
    let jobs = crate::jobs::service(
        data.store.clone(),
        repositories.clone(),
        discovery.clone(),
        clock.clone(),
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
    })
}
