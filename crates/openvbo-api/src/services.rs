//! What the API serves: the services the composition root (`openvbo-server`)
//! assembled. The API adds only what is HTTP's own (cached list bodies, the
//! restore routes' sessions) when it builds its state from them.

use std::sync::Arc;

use openvbo_core::auth::AuthService;
use openvbo_core::clock::SharedClock;
use openvbo_core::discovery::DiscoveryService;
use openvbo_core::jobs::JobService;
use openvbo_core::organization::OrganizationService;
use openvbo_core::repositories::RepositoryService;
use openvbo_core::restore::credentials::RestoreAccess;
use openvbo_core::store::Store;
use uuid::Uuid;

/// Ready services, one field per port the routes use. A new service is a
/// field here, its assembly in `openvbo-server`, and a field of `AppState`.
#[derive(Clone)]
pub struct Services {
    pub auth: AuthService,
    pub organizations: OrganizationService,
    pub discovery: DiscoveryService,
    pub repositories: RepositoryService,
    pub jobs: JobService,
    /// Restore points and the catalog, read by the restore routes.
    pub store: Arc<dyn Store>,
    /// The one clock: restore sessions expire on it.
    pub clock: SharedClock,
    /// Shown as the service instance id; stable for a data dir.
    pub installation_id: Uuid,
    /// How long a restore session may go unused before it stops.
    pub restore_session_idle: std::time::Duration,
    /// Signs restores in and gives the writers they put data back through.
    pub restore_access: RestoreAccess,
    /// SharePoint resource units per minute drive restores may spend per organization;
    /// `None`: the connector's default.
    pub drive_restore_units_per_minute: Option<std::num::NonZeroU32>,
    /// A private directory for temporary files (big `.msg` downloads are built there).
    pub temp_dir: std::path::PathBuf,
}
