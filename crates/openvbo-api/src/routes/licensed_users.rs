//! `DELETE /v6/LicensedUsers/{licensedUserId}` (204): revokes a user's
//! licence. The backups stay; the user stops counting in `LicensedUsers`
//! and `LicensingInformation` until a backup newer than the revocation
//! protects them again. (`GET /v6/LicensedUsers` is served with the other
//! backup listings.)

use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) async fn remove(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.jobs.revoke_licence(id.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}
