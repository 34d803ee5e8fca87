//! `/v6/Organizations/{id}/Sites` and `…/Sites/{siteId}`.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use openvbo_core::discovery::{DirectorySite, SiteFilter};
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
pub(crate) struct SiteView {
    id: String,
    url: String,
    name: String,
    title: String,
    is_cloud: bool,
    is_personal: bool,
    is_available: bool,
    #[serde(rename = "_links")]
    links: Links,
}

fn site_view(org: OrganizationId, s: DirectorySite) -> SiteView {
    let mut links = Links::default();
    href(
        &mut links,
        "self",
        format!("{}/sites/{}", org_path(org), seg(&s.id)),
    );
    href(&mut links, "organization", org_path(org));
    href(
        &mut links,
        "children",
        format!("{}/sites?parentId={}", org_path(org), seg(&s.id)),
    );
    SiteView {
        id: s.id,
        url: s.url,
        name: s.name,
        title: s.title,
        is_cloud: true,
        is_personal: s.is_personal,
        is_available: true,
        links,
    }
}

pub(crate) async fn sites(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(org): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<PageView<SiteView>>, ApiError> {
    let org = parse_id(&org)?;
    let q = QueryParams::parse(raw.as_deref())?;
    let on_premises_only = match q.get("locationFilter") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("Cloud") || v.eq_ignore_ascii_case("Any") => false,
        Some(v) if v.eq_ignore_ascii_case("OnPremises") => true,
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "locationFilter must be one of Cloud, OnPremises, Any (got '{}')",
                shorten(v)
            )))
        }
    };
    let filter = SiteFilter {
        include_personal_sites: q.bool("includePersonalSites")?.unwrap_or(false),
        parent_id: q.string("parentId"),
        on_premises_only,
    };
    let page = state
        .discovery
        .sites(org, page_request(&q)?, &filter)
        .await?;
    let filters = given(&q, &["includePersonalSites", "parentId", "locationFilter"]);
    Ok(Json(page_view(
        page,
        org,
        format!("{}/sites", org_path(org)),
        &filters,
        |s| site_view(org, s),
    )))
}

pub(crate) async fn site(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((org, site)): Path<(String, String)>,
) -> Result<Json<SiteView>, ApiError> {
    let org = parse_id(&org)?;
    let s = state.discovery.site(org, &site).await?;
    Ok(Json(site_view(org, s)))
}
