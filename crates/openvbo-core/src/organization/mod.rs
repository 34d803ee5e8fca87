//! Microsoft 365 organizations: the model, the rules for the (validated)
//! requests that add and change them, and the service that verifies them with Microsoft.

mod model;
mod per_service;
mod request;
mod service;
mod snapshot;
mod verify;

pub use model::{Organization, Service, ServiceAccount};
pub use per_service::PerService;
pub use request::{
    AccountSettings, NewOffice365Organization, NewServiceAccount, OrganizationRequest,
    ServiceRequest,
};
pub use service::{Added, OrganizationService, RemovalListener};
pub use snapshot::Snapshot;
pub(crate) use verify::upstream;
