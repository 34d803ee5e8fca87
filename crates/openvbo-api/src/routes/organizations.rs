//! `/v6/Organizations`: add, list, read, change and remove organizations.

use axum::extract::{Path, RawQuery, State};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use openvbo_core::jobs::BackupTimes;
use openvbo_core::organization::{Organization, ServiceAccount};
use openvbo_core::{OrganizationId, Region};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::json::LenientJson;
use crate::organization_input::OrganizationInput;
use crate::query::QueryParams;
use crate::state::AppState;

/// `RestOrganizationComposed` as we answer it, borrowing from the stored
/// organization (a list of 10,000 is serialized without copying them).
/// Secrets are never part of it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OrganizationView<'a> {
    is_teams_online: bool,
    is_teams_chats_online: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    exchange_online_settings: Option<SettingsView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    share_point_online_settings: Option<SettingsView<'a>>,
    #[serde(rename = "type")]
    kind: &'static str,
    region: Region,
    is_exchange_online: bool,
    is_share_point_online: bool,
    id: OrganizationId,
    name: &'a str,
    office_name: &'a str,
    is_backedup: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_backuptime: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_backuptime: Option<String>,
    #[serde(rename = "_links")]
    links: Links,
    #[serde(rename = "_actions")]
    actions: Map<String, Value>,
}

/// `RESTOffice365ConnectionSettings` without password or secrets.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SettingsView<'a> {
    account: &'a str,
    grant_admin_access: bool,
    use_mfa: bool,
    #[serde(rename = "useCustomVeeamAADApplication")]
    use_custom_veeam_aad_application: bool,
    use_application_only_auth: bool,
    office_organization_name: &'a str,
    share_point_save_all_web_parts: bool,
}

impl<'a> OrganizationView<'a> {
    /// `backups`: its first and last restore point, if it has any.
    fn new(org: &'a Organization, extended: bool, backups: Option<BackupTimes>) -> Self {
        let accounts = org.accounts();
        let settings = accounts.map(|_, account| {
            account
                .filter(|_| extended)
                .map(|a: &'a ServiceAccount| SettingsView {
                    account: a.account.as_str(),
                    grant_admin_access: a.grant_admin_access,
                    use_mfa: false,
                    use_custom_veeam_aad_application: a.use_custom_veeam_aad_application,
                    use_application_only_auth: false,
                    office_organization_name: &org.office_name,
                    share_point_save_all_web_parts: a.share_point_save_all_web_parts,
                })
        });
        let href = |suffix| Href { id: org.id, suffix };
        Self {
            is_teams_online: org.is_teams_online,
            is_teams_chats_online: org.is_teams_chats_online,
            exchange_online_settings: settings.exchange,
            share_point_online_settings: settings.sharepoint,
            kind: "Office365",
            region: org.region,
            is_exchange_online: accounts.exchange.is_some(),
            is_share_point_online: accounts.sharepoint.is_some(),
            id: org.id,
            name: &org.name,
            office_name: &org.office_name,
            is_backedup: backups.is_some(),
            first_backuptime: backups.map(|b| super::jobs::wire_time(b.first)),
            last_backuptime: backups.map(|b| super::jobs::wire_time(b.last)),
            links: Links {
                self_: href(""),
                jobs: href("/jobs"),
                groups: href("/groups"),
                users: href("/users"),
                sites: href("/sites"),
                used_repositories: href("/usedRepositories"),
            },
            actions: Map::new(),
        }
    }
}

/// `RESTLinkHAL` to `/v6/organizations/{id}{suffix}`, written straight into
/// the output.
struct Href {
    id: OrganizationId,
    suffix: &'static str,
}

impl Serialize for Href {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Path<'a>(&'a Href);
        impl Serialize for Path<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(&format_args!(
                    "/v6/organizations/{}{}",
                    self.0.id, self.0.suffix
                ))
            }
        }
        let mut link = serializer.serialize_struct("RESTLinkHAL", 1)?;
        link.serialize_field("href", &Path(self))?;
        link.end()
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

/// A fingerprint of every organization's backup times: a cached list is
/// reused only while they are unchanged.
fn backup_stamp(backups: &HashMap<OrganizationId, BackupTimes>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut sorted: Vec<_> = backups.iter().collect();
    sorted.sort_by_key(|(id, _)| **id);
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for (id, t) in sorted {
        id.hash(&mut hasher);
        t.first.unix_timestamp_nanos().hash(&mut hasher);
        t.last.unix_timestamp_nanos().hash(&mut hasher);
    }
    hasher.finish()
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

/// The list as a JSON array, each organization viewed as it is written.
struct ListView<'a> {
    organizations: &'a [Organization],
    extended: bool,
    backups: &'a HashMap<OrganizationId, BackupTimes>,
}

impl Serialize for ListView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.organizations
                .iter()
                .map(|o| OrganizationView::new(o, self.extended, self.backups.get(&o.id).copied())),
        )
    }
}

/// The serialized list per snapshot generation and view: a list of 10,000
/// organizations is serialized once per change, not once per request.
#[derive(Default)]
pub(crate) struct ListBodies(Mutex<[Option<(ListGeneration, Bytes)>; 2]>);

/// The snapshot's generation and a stamp of the organizations' backup
/// times: the list body depends on both.
type ListGeneration = (u64, u64);

impl ListBodies {
    fn get(&self, generation: ListGeneration, extended: bool) -> Option<Bytes> {
        let slots = self.0.lock().unwrap_or_else(|p| p.into_inner());
        slots
            .get(usize::from(extended))?
            .as_ref()
            .filter(|(g, _)| *g == generation)
            .map(|(_, b)| b.clone())
    }

    fn put(&self, generation: ListGeneration, extended: bool, body: Bytes) {
        let mut slots = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let Some(slot) = slots.get_mut(usize::from(extended)) else {
            return;
        };
        // A slower request must not put back an older list.
        if slot.as_ref().is_none_or(|(g, _)| g.0 <= generation.0) {
            *slot = Some((generation, body));
        }
    }
}

pub(super) async fn list(
    _auth: Authenticated,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let extended = extended_view(query.as_deref())?;
    let snapshot = state.organizations.snapshot().await?;
    // Backups change the flags without changing the snapshot.
    let backups = state.jobs.backup_times().await?;
    let generation = (snapshot.generation, backup_stamp(&backups));
    let body = match state.list_bodies.get(generation, extended) {
        Some(body) => body,
        None => {
            // About 1.4 KB an organization: sized once, no regrowth copies.
            let mut buffer = Vec::with_capacity(snapshot.organizations.len() * 1400 + 2);
            let list = ListView {
                organizations: &snapshot.organizations,
                extended,
                backups: &backups,
            };
            serde_json::to_writer(&mut buffer, &list)
                .map_err(|e| ApiError::Core(openvbo_core::CoreError::Internal(e.to_string())))?;
            buffer.shrink_to_fit();
            let body = Bytes::from(buffer);
            state.list_bodies.put(generation, extended, body.clone());
            body
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

pub(super) async fn get_one(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let extended = extended_view(query.as_deref())?;
    let org = state.organizations.get(id).await?;
    let backups = state.jobs.backup_times().await?.get(&id).copied();
    Ok(Json(OrganizationView::new(&org, extended, backups)).into_response())
}

pub(super) async fn add(
    _auth: Authenticated,
    State(state): State<AppState>,
    LenientJson(input): LenientJson<OrganizationInput>,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let added = state.organizations.add(input.into_add()?).await?;
    let mut response = Json(OrganizationView::new(&added.organization, true, None)).into_response();
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

pub(super) async fn update(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    LenientJson(input): LenientJson<OrganizationInput>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    state.organizations.update(id, input.into_change()?).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn remove(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    // Core forgets the organization's sessions and cached sets with it.
    state.organizations.remove(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
