//! The Veeam Backup for Microsoft 365 REST API v6 over HTTPS: routes,
//! authentication, the cross-cutting layers, and the connection loop.
//!
//! This crate serves HTTP and nothing else. It is handed ready [`Services`]
//! and a TLS configuration by the composition root (`openvbo-server`, which
//! owns the data dir, the store, the master key and the Microsoft 365
//! connector): [`app`] builds the router, [`serve`] runs it on a listener.

mod authn;
mod deadline;
mod error;
mod extract;
mod hal;
mod json;
mod layers;
mod organization_input;
mod paths;
#[cfg(test)]
mod proptests;
mod query;
mod refusals;
mod routes;
mod server;
mod services;
mod state;
pub mod tls;

use axum::Router;

pub use error::ApiError;
pub use routes::COMPATIBLE_VERSION;
pub use server::{serve, ConnectionLimits, ServeOptions};
pub use services::Services;

/// The v6 router for `services`, with its cross-cutting layers (deadlines
/// from `limits`, the panic guard, `{"message"}` bodies for every refusal).
pub fn app(services: Services, limits: &ConnectionLimits) -> Router {
    layers::layered(routes::router(state::AppState::new(services)), limits)
}
