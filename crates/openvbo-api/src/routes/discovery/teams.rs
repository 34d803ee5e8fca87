//! `/v6/Organizations/{id}/Teams` and `…/Teams/{teamId}`.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use openvbo_core::discovery::{GroupFilter, Needle, Team};
use openvbo_core::OrganizationId;
use serde::Serialize;

use super::{given, href, org_path, page_request, page_view, seg, Links, PageView};
use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::query::{shorten, QueryParams};
use crate::routes::organizations::parse_id;
use crate::state::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TeamView {
    id: String,
    display_name: String,
    description: String,
    mail: String,
    #[serde(rename = "_links")]
    links: Links,
}

fn team_view(org: OrganizationId, t: Team) -> TeamView {
    let mut links = Links::default();
    href(
        &mut links,
        "self",
        format!("{}/teams/{}", org_path(org), seg(&t.id)),
    );
    href(&mut links, "organization", org_path(org));
    href(
        &mut links,
        "group",
        format!("{}/groups/{}", org_path(org), seg(&t.id)),
    );
    TeamView {
        id: t.id,
        display_name: t.display_name,
        description: t.description,
        mail: t.mail,
        links,
    }
}

pub(crate) async fn teams(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(org): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<PageView<TeamView>>, ApiError> {
    let org = parse_id(&org)?;
    let q = QueryParams::parse(raw.as_deref())?;
    let filter = GroupFilter {
        display_name: q.get("displayName").map(Needle::new),
        ..GroupFilter::default()
    };
    let page = state
        .discovery
        .teams(org, page_request(&q)?, &filter)
        .await?;
    let filters = given(&q, &["displayName"]);
    Ok(Json(page_view(
        page,
        org,
        format!("{}/teams", org_path(org)),
        &filters,
        |t| team_view(org, t),
    )))
}

pub(crate) async fn team(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((org, team)): Path<(String, String)>,
) -> Result<Json<TeamView>, ApiError> {
    let org = parse_id(&org)?;
    if uuid::Uuid::parse_str(&team).is_err() {
        return Err(ApiError::bad_request(format!(
            "teamId must be a UUID (got '{}')",
            shorten(&team)
        )));
    }
    let t = state.discovery.team(org, &team).await?;
    Ok(Json(team_view(org, t)))
}
