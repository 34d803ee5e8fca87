//! `/v6/Organizations/{id}/LicensingInformation`.

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;

use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::routes::organizations::parse_id;
use crate::state::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LicensingView {
    licensed_users: u32,
    new_users: u32,
}

pub(crate) async fn licensing(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> Result<Json<LicensingView>, ApiError> {
    let org = parse_id(&org)?;
    state.organizations.get(org).await?;
    // The users openvbo protects (have a backup), not those Microsoft
    // licenses: what VB365 counts against its licence.
    let (licensed_users, new_users) = state.jobs.licence_counts(org).await?;
    Ok(Json(LicensingView {
        licensed_users,
        new_users,
    }))
}
