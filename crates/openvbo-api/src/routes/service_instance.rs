//! `GET /v6/ServiceInstance`.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use crate::authn::Authenticated;
use crate::state::AppState;

/// The VB365 release whose v6 API we implement; scripts compare it to pick
/// features. openvbo's own version is in the `Server` header.
pub const COMPATIBLE_VERSION: &str = "6.1.0.222";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ServiceInstance {
    installation_id: String,
    version: &'static str,
}

pub(super) async fn get(
    _auth: Authenticated,
    State(state): State<AppState>,
) -> Json<ServiceInstance> {
    Json(ServiceInstance {
        installation_id: state.installation_id.hyphenated().to_string(),
        version: COMPATIBLE_VERSION,
    })
}
