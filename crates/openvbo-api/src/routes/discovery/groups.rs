//! `/v6/Organizations/{id}/Groups`, `…/Groups/{groupId}` and its `Members`.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use openvbo_core::discovery::{
    DirectoryGroup, GroupFilter, GroupKind, GroupMember, MemberKind, Needle,
};
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
pub(crate) struct GroupView {
    id: String,
    display_name: String,
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    location_type: &'static str,
    #[serde(rename = "_links")]
    links: Links,
}

fn group_view(org: OrganizationId, g: DirectoryGroup) -> GroupView {
    let me = format!("{}/groups/{}", org_path(org), seg(&g.id));
    let mut links = Links::default();
    href(&mut links, "self", me.clone());
    href(&mut links, "organization", org_path(org));
    href(&mut links, "members", format!("{me}/members"));
    GroupView {
        kind: match g.kind {
            GroupKind::Office365 => "Office365",
            GroupKind::Security => "Security",
            GroupKind::Distribution => "Distribution",
            GroupKind::DynamicDistribution => "DynamicDistribution",
        },
        location_type: location_type(g.location),
        id: g.id,
        display_name: g.display_name,
        name: g.name,
        links,
    }
}

fn group_filter(q: &QueryParams) -> Result<GroupFilter, ApiError> {
    Ok(GroupFilter {
        display_name: q.get("displayName").map(Needle::new),
        group_name: q.get("groupName").map(Needle::new),
        location: location_filter(q)?,
    })
}

pub(crate) async fn groups(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(org): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<PageView<GroupView>>, ApiError> {
    let org = parse_id(&org)?;
    let q = QueryParams::parse(raw.as_deref())?;
    let page = state
        .discovery
        .groups(org, page_request(&q)?, &group_filter(&q)?)
        .await?;
    let filters = given(&q, &["displayName", "groupName", "locationFilter"]);
    Ok(Json(page_view(
        page,
        org,
        format!("{}/groups", org_path(org)),
        &filters,
        |g| group_view(org, g),
    )))
}

pub(crate) async fn group(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((org, group)): Path<(String, String)>,
) -> Result<Json<GroupView>, ApiError> {
    let org = parse_id(&org)?;
    let g = state.discovery.group(org, &group).await?;
    Ok(Json(group_view(org, g)))
}

/// `RESTGroupMember`; `groupId` carries the member's own object id.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MemberView {
    group_id: String,
    name: String,
    login: String,
    #[serde(rename = "type")]
    kind: &'static str,
    is_cloud: bool,
    #[serde(rename = "_links")]
    links: Links,
}

pub(crate) async fn members(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((org, group)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<PageView<MemberView>>, ApiError> {
    let org = parse_id(&org)?;
    let q = QueryParams::parse(raw.as_deref())?;
    let page = state
        .discovery
        .group_members(org, &group, page_request(&q)?)
        .await?;
    let group_path = format!("{}/groups/{}", org_path(org), seg(&group));
    let view = |m: GroupMember| {
        let mut links = Links::default();
        let (kind, own) = match m.kind {
            MemberKind::User => (
                "User",
                Some(format!("{}/users/{}", org_path(org), seg(&m.id))),
            ),
            MemberKind::Group => (
                "Group",
                Some(format!("{}/groups/{}", org_path(org), seg(&m.id))),
            ),
            MemberKind::Unknown => ("Unknown", None),
        };
        if let Some(own) = own {
            href(&mut links, "self", own);
        }
        href(&mut links, "group", group_path.clone());
        href(&mut links, "organization", org_path(org));
        MemberView {
            group_id: m.id,
            name: m.name,
            login: m.login,
            kind,
            is_cloud: true,
            links,
        }
    };
    Ok(Json(page_view(
        page,
        org,
        format!("{group_path}/members"),
        &[],
        view,
    )))
}
