//! What every handler can reach.

use openvbo_core::auth::AuthService;
use openvbo_core::discovery::DiscoveryService;
use openvbo_core::organization::OrganizationService;
use uuid::Uuid;

#[derive(Clone)]
pub struct AppState {
    pub auth: AuthService,
    pub organizations: OrganizationService,
    pub discovery: DiscoveryService,
    pub installation_id: Uuid,
}
