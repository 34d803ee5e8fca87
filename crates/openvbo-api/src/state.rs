//! What every handler can reach.

use openvbo_core::auth::AuthService;
use openvbo_core::discovery::DiscoveryService;
use openvbo_core::organization::OrganizationService;
use std::sync::Arc;

use uuid::Uuid;

use crate::routes::ListBodies;

#[derive(Clone)]
pub(crate) struct AppState {
    pub auth: AuthService,
    pub organizations: OrganizationService,
    pub discovery: DiscoveryService,
    pub repositories: openvbo_core::repositories::RepositoryService,
    pub jobs: openvbo_core::jobs::JobService,
    pub installation_id: Uuid,
    pub list_bodies: Arc<ListBodies>,
    pub restore: Arc<crate::routes::restore::RestoreState>,
}

impl AppState {
    /// The composition root's services plus what only HTTP keeps.
    pub(crate) fn new(services: crate::Services) -> Self {
        Self {
            auth: services.auth,
            organizations: services.organizations,
            discovery: services.discovery,
            repositories: services.repositories,
            jobs: services.jobs,
            installation_id: services.installation_id,
            list_bodies: Arc::default(),
            restore: crate::routes::restore::RestoreState::new(
                services.store,
                services.clock,
                services.restore_session_idle,
                services.restore_access,
                services.temp_dir,
                services.drive_restore_units_per_minute,
            ),
        }
    }
}
