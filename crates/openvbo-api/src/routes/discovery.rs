//! `/v6/Organizations/{id}/Users|Groups|Sites|Teams|LicensingInformation`:
//! an organization's objects, live from Microsoft 365, paged with `setId`.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use openvbo_core::discovery::{
    DirectoryGroup, DirectorySite, DirectoryUser, GroupFilter, GroupKind, GroupMember, Location,
    LocationFilter, MemberKind, Needle, OneDrive, Page, PageRequest, SiteFilter, Team, UserFilter,
    UserKind,
};
use openvbo_core::OrganizationId;
use serde::Serialize;

use super::organizations::parse_id;
use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::query::{shorten, QueryParams};
use crate::state::AppState;

/// `_links`: relation → `{"href": …}`. A few strings per item rather than
/// a map of maps: a page of 100 users is serialized on every request.
#[derive(Default)]
pub struct Links(Vec<(&'static str, String)>);

impl Serialize for Links {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        #[derive(Serialize)]
        struct Href<'a> {
            href: &'a str,
        }
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (rel, href) in &self.0 {
            map.serialize_entry(rel, &Href { href })?;
        }
        map.end()
    }
}

fn href(links: &mut Links, rel: &'static str, path: String) {
    links.0.push((rel, path));
}

fn org_path(org: OrganizationId) -> String {
    format!("/v6/organizations/{org}")
}

/// A path segment as it must appear in a link (site ids hold commas, user
/// ids may be UPNs).
fn seg(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// `PageOfREST…`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageView<T> {
    offset: u32,
    limit: u32,
    set_id: String,
    results: Vec<T>,
    #[serde(rename = "_links")]
    links: Links,
    total_count: u32,
}

/// Builds a page with self/next/previous links that repeat the filters.
fn page_view<I, T>(
    page: Page<I>,
    org: OrganizationId,
    base: String,
    filters: &[(&str, String)],
    view: impl Fn(I) -> T,
) -> PageView<T> {
    let link = |offset: u32| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("offset", &offset.to_string());
        query.append_pair("limit", &page.limit.to_string());
        query.append_pair("setId", &page.set_id.hyphenated().to_string());
        for (k, v) in filters {
            query.append_pair(k, v);
        }
        format!("{base}?{}", query.finish())
    };
    let mut links = Links::default();
    href(&mut links, "self", link(page.offset));
    if u64::from(page.offset) + u64::from(page.limit) < u64::from(page.total_count) {
        href(&mut links, "next", link(page.offset + page.limit));
    }
    if page.offset > 0 {
        href(
            &mut links,
            "previous",
            link(page.offset.saturating_sub(page.limit)),
        );
    }
    href(&mut links, "organization", org_path(org));
    PageView {
        offset: page.offset,
        limit: page.limit,
        set_id: page.set_id.hyphenated().to_string(),
        total_count: page.total_count,
        results: page.results.into_iter().map(view).collect(),
        links,
    }
}

fn page_request(q: &QueryParams) -> Result<PageRequest, ApiError> {
    Ok(PageRequest::new(
        q.int("offset")?,
        q.int("limit")?,
        q.uuid("setId")?,
    )?)
}

fn location_filter(q: &QueryParams) -> Result<LocationFilter, ApiError> {
    match q.get("locationFilter") {
        None => Ok(LocationFilter::Any),
        Some(v) => LocationFilter::parse(v).ok_or_else(|| {
            ApiError::bad_request(format!(
                "locationFilter must be one of {} (got '{}')",
                LocationFilter::NAMES.join(", "),
                shorten(v)
            ))
        }),
    }
}

/// The filters that were given, to carry into page links.
fn given(q: &QueryParams, names: &[&'static str]) -> Vec<(&'static str, String)> {
    names
        .iter()
        .filter_map(|n| q.string(n).map(|v| (*n, v)))
        .collect()
}

fn location_type(l: Location) -> &'static str {
    match l {
        Location::Cloud => "Cloud",
        Location::Hybrid => "Hybrid",
    }
}

// ---- users ----

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
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

pub async fn users(
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

pub async fn user(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((org, user)): Path<(String, String)>,
) -> Result<Json<UserView>, ApiError> {
    let org = parse_id(&org)?;
    let u = state.discovery.user(org, &user).await?;
    Ok(Json(user_view(org, u)))
}

// ---- OneDrives ----

#[derive(Serialize)]
pub struct OneDriveView {
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

pub async fn onedrives(
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

pub async fn onedrive(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((org, user, drive)): Path<(String, String, String)>,
) -> Result<Json<OneDriveView>, ApiError> {
    let org = parse_id(&org)?;
    let d = state.discovery.onedrive(org, &user, &drive).await?;
    Ok(Json(onedrive_view(org, &user, d)))
}

// ---- groups ----

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
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

pub async fn groups(
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

pub async fn group(
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
pub struct MemberView {
    group_id: String,
    name: String,
    login: String,
    #[serde(rename = "type")]
    kind: &'static str,
    is_cloud: bool,
    #[serde(rename = "_links")]
    links: Links,
}

pub async fn members(
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

// ---- teams ----

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamView {
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

pub async fn teams(
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

pub async fn team(
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

// ---- sites ----

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteView {
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

pub async fn sites(
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

pub async fn site(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((org, site)): Path<(String, String)>,
) -> Result<Json<SiteView>, ApiError> {
    let org = parse_id(&org)?;
    let s = state.discovery.site(org, &site).await?;
    Ok(Json(site_view(org, s)))
}

// ---- licences ----

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LicensingView {
    licensed_users: u32,
    new_users: u32,
}

pub async fn licensing(
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
