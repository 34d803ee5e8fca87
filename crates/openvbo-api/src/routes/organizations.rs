//! `/v6/Organizations`: add, list, read, change and remove organizations.

use axum::extract::{Path, RawQuery, State};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use openvbo_core::organization::{Organization, OrganizationInput, Service, ServiceAccount};
use openvbo_core::{OrganizationId, Region};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::json::LenientJson;
use crate::query::QueryParams;
use crate::state::AppState;

/// `RestOrganizationComposed` as we answer it. Secrets are never part of it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationView {
    is_teams_online: bool,
    is_teams_chats_online: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    exchange_online_settings: Option<SettingsView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    share_point_online_settings: Option<SettingsView>,
    #[serde(rename = "type")]
    kind: &'static str,
    region: Region,
    is_exchange_online: bool,
    is_share_point_online: bool,
    id: String,
    name: String,
    office_name: String,
    is_backedup: bool,
    #[serde(rename = "_links")]
    links: Links,
    #[serde(rename = "_actions")]
    actions: Map<String, Value>,
}

/// `RESTOffice365ConnectionSettings` without password or secrets.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SettingsView {
    account: String,
    grant_admin_access: bool,
    use_mfa: bool,
    #[serde(rename = "useCustomVeeamAADApplication")]
    use_custom_veeam_aad_application: bool,
    use_application_only_auth: bool,
    office_organization_name: String,
    share_point_save_all_web_parts: bool,
}

impl OrganizationView {
    fn new(org: &Organization, extended: bool) -> Self {
        let settings = |service: Service| {
            org.account(service)
                .filter(|_| extended)
                .map(|a: &ServiceAccount| SettingsView {
                    account: a.account.to_string(),
                    grant_admin_access: a.grant_admin_access,
                    use_mfa: false,
                    use_custom_veeam_aad_application: a.use_custom_veeam_aad_application,
                    use_application_only_auth: false,
                    office_organization_name: org.office_name.clone(),
                    share_point_save_all_web_parts: a.share_point_save_all_web_parts,
                })
        };
        let base = format!("/v6/organizations/{}", org.id);
        let links = Links {
            jobs: Href::new(format!("{base}/jobs")),
            groups: Href::new(format!("{base}/groups")),
            users: Href::new(format!("{base}/users")),
            sites: Href::new(format!("{base}/sites")),
            used_repositories: Href::new(format!("{base}/usedRepositories")),
            self_: Href::new(base),
        };
        Self {
            is_teams_online: org.is_teams_online,
            is_teams_chats_online: org.is_teams_chats_online,
            exchange_online_settings: settings(Service::Exchange),
            share_point_online_settings: settings(Service::SharePoint),
            kind: "Office365",
            region: org.region,
            is_exchange_online: org.exchange.is_some(),
            is_share_point_online: org.sharepoint.is_some(),
            id: org.id.to_string(),
            name: org.name.clone(),
            office_name: org.office_name.clone(),
            is_backedup: false,
            links,
            actions: Map::new(),
        }
    }
}

/// `RESTLinkHAL`.
#[derive(Serialize)]
struct Href {
    href: String,
}

impl Href {
    fn new(href: String) -> Self {
        Self { href }
    }
}

/// The organization's `_links`, in the order Veeam lists them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Links {
    #[serde(rename = "self")]
    self_: Href,
    jobs: Href,
    groups: Href,
    users: Href,
    sites: Href,
    used_repositories: Href,
}

/// `extendedView` (default true).
fn extended_view(query: Option<&str>) -> Result<bool, ApiError> {
    Ok(QueryParams::parse(query)?
        .bool("extendedView")?
        .unwrap_or(true))
}

pub(crate) fn parse_id(raw: &str) -> Result<OrganizationId, ApiError> {
    raw.parse().map_err(|e: openvbo_core::ids::MalformedId| {
        ApiError::bad_request(format!("organizationId: {e}"))
    })
}

/// The serialized list per snapshot generation and view: a list of 10,000
/// organizations is serialized once per change, not once per request.
#[derive(Default)]
pub struct ListBodies(Mutex<[Option<(u64, Bytes)>; 2]>);

impl ListBodies {
    fn get(&self, generation: u64, extended: bool) -> Option<Bytes> {
        let slots = self.0.lock().unwrap_or_else(|p| p.into_inner());
        slots[usize::from(extended)]
            .as_ref()
            .filter(|(g, _)| *g == generation)
            .map(|(_, b)| b.clone())
    }

    fn put(&self, generation: u64, extended: bool, body: Bytes) {
        let mut slots = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let slot = &mut slots[usize::from(extended)];
        // A slower request must not put back an older list.
        if slot.as_ref().is_none_or(|(g, _)| *g <= generation) {
            *slot = Some((generation, body));
        }
    }
}

pub async fn list(
    _auth: Authenticated,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let extended = extended_view(query.as_deref())?;
    let snapshot = state.organizations.snapshot().await?;
    let body = match state.list_bodies.get(snapshot.generation, extended) {
        Some(body) => body,
        None => {
            let views: Vec<OrganizationView> = snapshot
                .organizations
                .iter()
                .map(|o| OrganizationView::new(o, extended))
                .collect();
            let body =
                Bytes::from(serde_json::to_vec(&views).map_err(|e| {
                    ApiError::Core(openvbo_core::CoreError::Internal(e.to_string()))
                })?);
            state
                .list_bodies
                .put(snapshot.generation, extended, body.clone());
            body
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

pub async fn get_one(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<OrganizationView>, ApiError> {
    let id = parse_id(&id)?;
    let extended = extended_view(query.as_deref())?;
    let org = state.organizations.get(id).await?;
    Ok(Json(OrganizationView::new(&org, extended)))
}

pub async fn add(
    _auth: Authenticated,
    State(state): State<AppState>,
    LenientJson(input): LenientJson<OrganizationInput>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let added = state.organizations.add(input).await?;
    let mut response = Json(OrganizationView::new(&added.organization, true)).into_response();
    // Lets an operator (and the benchmark) tell Microsoft's time from ours.
    let total = started.elapsed();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let timing = format!(
        "m365;dur={:.3}, app;dur={:.3}, total;dur={:.3}",
        ms(added.microsoft),
        ms(total.saturating_sub(added.microsoft)),
        ms(total)
    );
    if let Ok(value) = HeaderValue::from_str(&timing) {
        response.headers_mut().insert("server-timing", value);
    }
    Ok(response)
}

pub async fn update(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    LenientJson(input): LenientJson<OrganizationInput>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    state.organizations.update(id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    state.organizations.remove(id).await?;
    state.discovery.forget(id);
    Ok(StatusCode::NO_CONTENT)
}
