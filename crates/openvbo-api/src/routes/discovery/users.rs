//! `/v6/Organizations/{id}/Users` and `…/Users/{userId}`.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use openvbo_core::discovery::{DirectoryUser, Needle, UserFilter, UserKind};
use openvbo_core::OrganizationId;
use serde::Serialize;

use super::{
    given, href, location_filter, location_type, org_path, page_request, page_view, seg, Links,
    PageView,
};
use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::query::QueryParams;
use crate::routes::organizations::parse_id;
use crate::state::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserView {
    id: String,
    display_name: String,
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    location_type: &'static str,
    #[serde(rename = "_links")]
    links: Links,
}

fn user_view(org: OrganizationId, u: DirectoryUser) -> UserView {
    let me = format!("{}/users/{}", org_path(org), seg(&u.id));
    let mut links = Links::default();
    href(&mut links, "self", me.clone());
    href(&mut links, "organization", org_path(org));
    href(&mut links, "onedrives", format!("{me}/onedrives"));
    UserView {
        kind: match u.kind {
            UserKind::User => "User",
            UserKind::Shared => "Shared",
            UserKind::Public => "Public",
        },
        location_type: location_type(u.location),
        id: u.id,
        display_name: u.display_name,
        name: u.name,
        links,
    }
}

pub(crate) async fn users(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(org): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<PageView<UserView>>, ApiError> {
    let org = parse_id(&org)?;
    let q = QueryParams::parse(raw.as_deref())?;
    let filter = UserFilter {
        user_name: q.get("userName").map(Needle::new),
        display_name: q.get("displayName").map(Needle::new),
        location: location_filter(&q)?,
    };
    let page = state
        .discovery
        .users(org, page_request(&q)?, &filter)
        .await?;
    let filters = given(&q, &["userName", "displayName", "locationFilter"]);
    Ok(Json(page_view(
        page,
        org,
        format!("{}/users", org_path(org)),
        &filters,
        |u| user_view(org, u),
    )))
}

pub(crate) async fn user(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((org, user)): Path<(String, String)>,
) -> Result<Json<UserView>, ApiError> {
    let org = parse_id(&org)?;
    let u = state.discovery.user(org, &user).await?;
    Ok(Json(user_view(org, u)))
}
