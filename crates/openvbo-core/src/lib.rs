//! The openvbo domain: validated types, the rules for adding and changing
//! Microsoft 365 organizations, administrator authentication, and the sealing
//! of secrets. No HTTP and no SQL live here: the HTTP layer is `openvbo-api`,
//! storage sits behind [`store::Store`] (implemented in `openvbo-store`), and
//! Microsoft 365 is reached through the ports of [`microsoft365`].

pub mod auth;
pub mod backup;
pub mod clock;
pub mod crypto;
pub mod discovery;
pub mod error;
pub mod ids;
pub mod jobs;
pub mod logsafe;
pub mod microsoft365;
pub mod organization;
pub mod region;
pub mod repositories;
pub mod restore;
pub mod schedule;
pub mod store;
pub mod upn;

pub use error::{CoreError, ValidationError};
pub use ids::OrganizationId;
pub use region::Region;
pub use upn::Upn;
