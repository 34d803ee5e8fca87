//! The HTTP surface, one module per resource.

mod discovery;
mod fallback;
mod openapi;
mod organizations;
mod service_instance;

pub use organizations::ListBodies;
pub use service_instance::COMPATIBLE_VERSION;
mod token;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// Paths are declared in their canonical lower-case form; see `paths`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v6/token", post(token::issue))
        .route(
            "/v6/organizations",
            get(organizations::list).post(organizations::add),
        )
        .route(
            "/v6/organizations/{organization_id}",
            get(organizations::get_one)
                .put(organizations::update)
                .delete(organizations::remove),
        )
        .route(
            "/v6/organizations/{organization_id}/users",
            get(discovery::users),
        )
        .route(
            "/v6/organizations/{organization_id}/users/{user_id}",
            get(discovery::user),
        )
        .route(
            "/v6/organizations/{organization_id}/users/{user_id}/onedrives",
            get(discovery::onedrives),
        )
        .route(
            "/v6/organizations/{organization_id}/users/{user_id}/onedrives/{onedrive_id}",
            get(discovery::onedrive),
        )
        .route(
            "/v6/organizations/{organization_id}/groups",
            get(discovery::groups),
        )
        .route(
            "/v6/organizations/{organization_id}/groups/{group_id}",
            get(discovery::group),
        )
        .route(
            "/v6/organizations/{organization_id}/groups/{group_id}/members",
            get(discovery::members),
        )
        .route(
            "/v6/organizations/{organization_id}/sites",
            get(discovery::sites),
        )
        .route(
            "/v6/organizations/{organization_id}/sites/{site_id}",
            get(discovery::site),
        )
        .route(
            "/v6/organizations/{organization_id}/teams",
            get(discovery::teams),
        )
        .route(
            "/v6/organizations/{organization_id}/teams/{team_id}",
            get(discovery::team),
        )
        .route(
            "/v6/organizations/{organization_id}/licensinginformation",
            get(discovery::licensing),
        )
        .route("/v6/serviceinstance", get(service_instance::get))
        .route("/swagger/docs/v6", get(openapi::document))
        .fallback(fallback::not_routed)
        .method_not_allowed_fallback(fallback::not_routed)
        // Around every route and both fallbacks: nothing answers anonymously
        // but what `authn::PUBLIC` lists.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::authn::require_token,
        ))
        .with_state(state)
}
