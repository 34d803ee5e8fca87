//! Microsoft 365 organizations: the model, the rules for the requests that
//! add and change them, and the service that verifies them with Microsoft.

mod model;
mod request;
mod service;
mod snapshot;
mod verify;

pub use model::{Organization, Service, ServiceAccount};
pub use request::{ConnectionSettingsInput, OrganizationInput, OrganizationType};
pub use service::{Added, OrganizationService, RemovalListener};
pub use snapshot::Snapshot;
pub(crate) use verify::upstream;
