//! What every handler can reach.

use openvbo_core::auth::AuthService;
use openvbo_core::discovery::DiscoveryService;
use openvbo_core::organization::OrganizationService;
use std::sync::Arc;

use uuid::Uuid;

use crate::routes::ListBodies;

#[derive(Clone)]
pub struct AppState {
    pub auth: AuthService,
    pub organizations: OrganizationService,
    pub discovery: DiscoveryService,
    pub repositories: openvbo_core::repositories::RepositoryService,
    pub jobs: openvbo_core::jobs::JobService,
    pub installation_id: Uuid,
    pub list_bodies: Arc<ListBodies>,
    pub restore: Arc<crate::routes::restore::RestoreState>,
}
