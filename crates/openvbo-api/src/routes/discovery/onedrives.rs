//! `/v6/Organizations/{id}/Users/{userId}/OneDrives` and `…/OneDrives/{oneDriveId}`.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use openvbo_core::discovery::OneDrive;
use openvbo_core::OrganizationId;
use serde::Serialize;

use super::{href, org_path, page_request, page_view, seg, Links, PageView};
use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::query::QueryParams;
use crate::routes::organizations::parse_id;
use crate::state::AppState;

#[derive(Serialize)]
pub(crate) struct OneDriveView {
    id: String,
    name: String,
    url: String,
    #[serde(rename = "_links")]
    links: Links,
}

fn onedrive_view(org: OrganizationId, user: &str, d: OneDrive) -> OneDriveView {
    let owner = format!("{}/users/{}", org_path(org), seg(user));
    let mut links = Links::default();
    href(
        &mut links,
        "self",
        format!("{owner}/onedrives/{}", seg(&d.id)),
    );
    href(&mut links, "user", owner);
    href(&mut links, "organization", org_path(org));
    OneDriveView {
        id: d.id,
        name: d.name,
        url: d.url,
        links,
    }
}

pub(crate) async fn onedrives(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((org, user)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<PageView<OneDriveView>>, ApiError> {
    let org = parse_id(&org)?;
    let q = QueryParams::parse(raw.as_deref())?;
    let page = state
        .discovery
        .onedrives(org, &user, page_request(&q)?)
        .await?;
    let base = format!("{}/users/{}/onedrives", org_path(org), seg(&user));
    Ok(Json(page_view(page, org, base, &[], |d| {
        onedrive_view(org, &user, d)
    })))
}

pub(crate) async fn onedrive(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((org, user, drive)): Path<(String, String, String)>,
) -> Result<Json<OneDriveView>, ApiError> {
    let org = parse_id(&org)?;
    let d = state.discovery.onedrive(org, &user, &drive).await?;
    Ok(Json(onedrive_view(org, &user, d)))
}
