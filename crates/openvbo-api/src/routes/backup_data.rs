//! What repositories hold, as restore points record it:
//! `/v6/BackupRepositories/{id}/UserData|MailboxData|OneDriveData|SiteData|
//! OrganizationData|backedupOrganizations` (pages, each with a by-id form
//! but the last), `/v6/Organizations/{id}/usedRepositories` and
//! `/v6/LicensedUsers`. Absent times are left out, never null.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::Json;
use openvbo_core::backup::{ProtectedResource, RepositoryId, ResourceKind};
use openvbo_core::jobs::ProtectedUser;
use openvbo_core::{CoreError, OrganizationId};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::job_sessions::parse_time;
use super::jobs::wire_time;
use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::extract::{Paging, PathId};
use crate::hal::{Links, PageOf};
use crate::query::QueryParams;
use crate::state::AppState;

fn repo_href(repo: RepositoryId, rest: &str) -> String {
    format!("/v6/backuprepositories/{repo}/{rest}")
}

/// One page of `all`, as `PageOf…`.
fn paged(base: &str, paging: Paging, all: Vec<Value>) -> Result<Json<PageOf<Value>>, ApiError> {
    Ok(Json(PageOf::of_all(base, paging, all)))
}

/// The links every item of a repository's data has.
fn data_links(repo: RepositoryId, own: String, organization: OrganizationId) -> Links {
    Links::new()
        .with("self", own)
        .with("backupRepository", format!("/v6/backuprepositories/{repo}"))
        .with("organization", format!("/v6/organizations/{organization}"))
}

fn insert_time(map: &mut Map<String, Value>, key: &str, t: Option<OffsetDateTime>) {
    if let Some(t) = t {
        map.insert(key.into(), json!(wire_time(t)));
    }
}

/// `*` and `?` wildcards, case-insensitive, as VB365's `filter` takes them;
/// no wildcard means "contains".
fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    if !p.iter().any(|c| *c == '*' || *c == '?') {
        return text.to_lowercase().contains(&pattern.to_lowercase());
    }
    // Iterative glob with backtracking to the last star: linear memory.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while let Some(&tc) = t.get(ti) {
        match p.get(pi) {
            Some(&pc) if pc == '?' || pc == tc => {
                pi += 1;
                ti += 1;
            }
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            _ => {
                let Some((sp, st)) = star else {
                    return false;
                };
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
        }
    }
    p.get(pi..).unwrap_or_default().iter().all(|c| *c == '*')
}

/// `filter`, `organizationId` and `pointInTime` of MailboxData and
/// OneDriveData.
pub(crate) struct ResourceFilter {
    name: Option<String>,
    organization: Option<OrganizationId>,
    point_in_time: Option<OffsetDateTime>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ResourceFilter {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Self::parse(&QueryParams::parse(parts.uri.query())?)
    }
}

impl ResourceFilter {
    fn parse(q: &QueryParams) -> Result<Self, ApiError> {
        Ok(ResourceFilter {
            name: q.string("filter"),
            organization: q.uuid("organizationId")?.map(Into::into),
            point_in_time: match q.string("pointInTime") {
                Some(raw) => Some(parse_time("pointInTime", &raw)?),
                None => None,
            },
        })
    }

    fn keeps(&self, r: &ProtectedResource) -> bool {
        self.name
            .as_deref()
            .is_none_or(|n| matches(n, &r.display_name))
            && self.organization.is_none_or(|o| o == r.organization_id)
            // Backed up by then: its first restore point is not later.
            && self.point_in_time.is_none_or(|t| r.first_backup_time <= t)
    }
}

async fn resources(
    state: &AppState,
    repo: RepositoryId,
    kinds: &[ResourceKind],
) -> Result<Vec<ProtectedResource>, ApiError> {
    Ok(state
        .jobs
        .protected(repo, None)
        .await?
        .into_iter()
        .filter(|r| kinds.contains(&r.kind))
        .collect())
}

fn mailbox_id(r: &ProtectedResource) -> String {
    match r.kind {
        // The archive belongs to the same account: it needs its own id.
        ResourceKind::ArchiveMailbox => format!("{}:archive", r.resource_id),
        _ => r.resource_id.clone(),
    }
}

fn not_found(what: &str, id: &str, repo: RepositoryId) -> ApiError {
    ApiError::Core(CoreError::NotFound(format!(
        "The backup repository {repo} holds no {what} {}.",
        crate::query::shorten(id)
    )))
}

/// `RESTBackupUserData`.
fn user_body(repo: RepositoryId, u: &ProtectedUser) -> Value {
    let mut body = json!({
        "id": u.id,
        "accountId": u.id,
        "displayName": u.display_name,
        "email": u.email,
        "accountType": "User",
        // Required by the v6 schema (without a definition): what kind of backed-up data it is.
        "itemType": "User",
        "isMailboxBackedUp": u.mailbox.is_some(),
        "isArchiveBackedUp": u.archive.is_some(),
        "isOneDriveBackedUp": u.onedrive.is_some(),
        "isPersonalSiteBackedUp": false,
        "oneDriveUrl": u.onedrive_urls,
        "personalSiteUrl": [],
        "organizationId": u.organization_id,
        "repositoryId": repo,
        "_links": data_links(repo, repo_href(repo, &format!("userdata/{}", u.id)), u.organization_id),
    });
    if let Value::Object(map) = &mut body {
        insert_time(map, "mailboxBackedUpTime", u.mailbox);
        insert_time(map, "archiveBackedUpTime", u.archive);
        insert_time(map, "oneDriveBackedUpTime", u.onedrive);
        if u.archive.is_some() {
            map.insert(
                "archiveName".into(),
                json!(format!("In-Place Archive - {}", u.display_name)),
            );
        }
    }
    body
}

/// `RESTBackupMailboxData`.
fn mailbox_body(repo: RepositoryId, r: &ProtectedResource) -> Value {
    let id = mailbox_id(r);
    json!({
        "id": id,
        "isArchive": r.kind == ResourceKind::ArchiveMailbox,
        "itemType": "Mailbox",
        "displayName": r.display_name,
        "email": r.address,
        "backedUpTime": wire_time(r.last_backup_time),
        "organizationId": r.organization_id,
        "repositoryId": repo,
        "isDeleted": false,
        "_links": data_links(repo, repo_href(repo, &format!("mailboxdata/{id}")), r.organization_id),
    })
}

/// `RESTBackupOneDriveData` and `RESTBackupSiteData` (same fields).
fn drive_or_site_body(repo: RepositoryId, segment: &str, r: &ProtectedResource) -> Value {
    let mut body = json!({
        "id": r.resource_id,
        "itemType": if segment == "onedrivedata" { "OneDrive" } else { "Site" },
        "title": r.display_name,
        "url": r.address,
        "backedUpTime": wire_time(r.last_backup_time),
        "organizationId": r.organization_id,
        "repositoryId": repo,
        "_links": data_links(
            repo,
            repo_href(repo, &format!("{segment}/{}", r.resource_id)),
            r.organization_id,
        ),
    });
    if let (Value::Object(map), "onedrivedata") = (&mut body, segment) {
        map.insert("isDeleted".into(), json!(false));
    }
    body
}

/// Display names of organizations, including those removed since (their
/// backups stay): the id stands in for a removed one's name.
async fn organization_names(state: &AppState) -> Result<HashMap<OrganizationId, String>, ApiError> {
    let snapshot = state.organizations.snapshot().await?;
    Ok(snapshot
        .organizations
        .iter()
        .map(|o| (o.id, o.name.clone()))
        .collect())
}

fn name_of(names: &HashMap<OrganizationId, String>, id: OrganizationId) -> String {
    names.get(&id).cloned().unwrap_or_else(|| id.to_string())
}

pub(super) async fn users(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(repo): PathId<RepositoryId>,
    paging: Paging,
) -> Result<Json<PageOf<Value>>, ApiError> {
    let all = state.jobs.protected_users(repo).await?;
    let body = all.iter().map(|u| user_body(repo, u)).collect();
    paged(&repo_href(repo, "userdata"), paging, body)
}

pub(super) async fn user(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(repo): PathId<RepositoryId>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let all = state.jobs.protected_users(repo).await?;
    let found = all
        .iter()
        .find(|u| u.id.eq_ignore_ascii_case(id.trim()))
        .ok_or_else(|| not_found("user", &id, repo))?;
    Ok(Json(user_body(repo, found)))
}

const MAILBOXES: &[ResourceKind] = &[ResourceKind::Mailbox, ResourceKind::ArchiveMailbox];

pub(super) async fn mailboxes(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(repo): PathId<RepositoryId>,
    filter: ResourceFilter,
    paging: Paging,
) -> Result<Json<PageOf<Value>>, ApiError> {
    let all = resources(&state, repo, MAILBOXES).await?;
    let body = all
        .iter()
        .filter(|r| filter.keeps(r))
        .map(|r| mailbox_body(repo, r))
        .collect();
    paged(&repo_href(repo, "mailboxdata"), paging, body)
}

pub(super) async fn mailbox(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(repo): PathId<RepositoryId>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let all = resources(&state, repo, MAILBOXES).await?;
    let found = all
        .iter()
        .find(|r| mailbox_id(r).eq_ignore_ascii_case(id.trim()))
        .ok_or_else(|| not_found("mailbox", &id, repo))?;
    Ok(Json(mailbox_body(repo, found)))
}

pub(super) async fn onedrives(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(repo): PathId<RepositoryId>,
    filter: ResourceFilter,
    paging: Paging,
) -> Result<Json<PageOf<Value>>, ApiError> {
    drive_or_site_page(&state, repo, ResourceKind::OneDrive, Some(filter), paging).await
}

pub(super) async fn onedrive(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(repo): PathId<RepositoryId>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    drive_or_site(&state, repo, ResourceKind::OneDrive, &id).await
}

pub(super) async fn sites(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(repo): PathId<RepositoryId>,
    paging: Paging,
) -> Result<Json<PageOf<Value>>, ApiError> {
    drive_or_site_page(&state, repo, ResourceKind::Site, None, paging).await
}

pub(super) async fn site(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(repo): PathId<RepositoryId>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    drive_or_site(&state, repo, ResourceKind::Site, &id).await
}

/// The listing's path segment and the name a 404 uses, per drive kind.
fn drive_or_site_names(kind: ResourceKind) -> (&'static str, &'static str) {
    match kind {
        ResourceKind::Site => ("sitedata", "site"),
        _ => ("onedrivedata", "OneDrive"),
    }
}

async fn drive_or_site_page(
    state: &AppState,
    repo: RepositoryId,
    kind: ResourceKind,
    filter: Option<ResourceFilter>,
    paging: Paging,
) -> Result<Json<PageOf<Value>>, ApiError> {
    let (segment, _) = drive_or_site_names(kind);
    let all = resources(state, repo, &[kind]).await?;
    let body = all
        .iter()
        .filter(|r| filter.as_ref().is_none_or(|f| f.keeps(r)))
        .map(|r| drive_or_site_body(repo, segment, r))
        .collect();
    paged(&repo_href(repo, segment), paging, body)
}

async fn drive_or_site(
    state: &AppState,
    repo: RepositoryId,
    kind: ResourceKind,
    id: &str,
) -> Result<Json<Value>, ApiError> {
    let (segment, label) = drive_or_site_names(kind);
    let all = resources(state, repo, &[kind]).await?;
    let found = all
        .iter()
        .find(|r| r.resource_id.eq_ignore_ascii_case(id.trim()))
        .ok_or_else(|| not_found(label, id, repo))?;
    Ok(Json(drive_or_site_body(repo, segment, found)))
}

/// `RESTBackupOrganizationData`.
fn organization_data_body(repo: RepositoryId, id: OrganizationId, name: String) -> Value {
    json!({
        "displayName": name,
        "organizationId": id,
        "_links": Links::new()
            .with("self", repo_href(repo, &format!("organizationdata/{id}")))
            .with("organization", format!("/v6/organizations/{id}"))
            .with("backupRepository", format!("/v6/backuprepositories/{repo}")),
    })
}

pub(super) async fn organizations(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(repo): PathId<RepositoryId>,
    paging: Paging,
) -> Result<Json<PageOf<Value>>, ApiError> {
    let usage = state.jobs.usage(Some(repo), None).await?;
    let names = organization_names(&state).await?;
    let body = usage
        .iter()
        .map(|u| {
            organization_data_body(repo, u.organization_id, name_of(&names, u.organization_id))
        })
        .collect();
    paged(&repo_href(repo, "organizationdata"), paging, body)
}

pub(super) async fn organization(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(repo): PathId<RepositoryId>,
    PathId(org): PathId<OrganizationId>,
) -> Result<Json<Value>, ApiError> {
    let usage = state.jobs.usage(Some(repo), Some(org)).await?;
    if usage.is_empty() {
        return Err(not_found("organization", &org.to_string(), repo));
    }
    let names = organization_names(&state).await?;
    Ok(Json(organization_data_body(
        repo,
        org,
        name_of(&names, org),
    )))
}

/// `RESTBackupRepositoryStorageUsageInfo` per organization.
pub(super) async fn backed_up_organizations(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(repo): PathId<RepositoryId>,
    paging: Paging,
) -> Result<Json<PageOf<Value>>, ApiError> {
    let object_storage = state
        .repositories
        .repository(repo)
        .await?
        .repository
        .object_storage_id
        .is_some();
    let usage = state.jobs.usage(Some(repo), None).await?;
    let names = organization_names(&state).await?;
    let body = usage
        .iter()
        .map(|u| {
            let used = i64::try_from(u.used_bytes).unwrap_or(i64::MAX);
            json!({
                "id": u.organization_id,
                "name": name_of(&names, u.organization_id),
                "usedSpaceBytes": used,
                "localCacheUsedSpaceBytes": if object_storage { 0 } else { used },
                "objectStorageUsedSpaceBytes": if object_storage { used } else { 0 },
            })
        })
        .collect();
    paged(&repo_href(repo, "backedupOrganizations"), paging, body)
}

/// `RESTOrganizationStorageSpaceUsage` per repository; v6 names the
/// repository only in `_links`.
pub(super) async fn used_repositories(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(org): PathId<OrganizationId>,
    paging: Paging,
) -> Result<Json<PageOf<Value>>, ApiError> {
    state.organizations.get(org).await?;
    let usage = state.jobs.usage(None, Some(org)).await?;
    let mut body = Vec::with_capacity(usage.len());
    for u in &usage {
        let used = i64::try_from(u.used_bytes).unwrap_or(i64::MAX);
        // A repository removed since keeps nothing usable.
        let view = state.repositories.repository(u.repository_id).await.ok();
        let object_storage = view
            .as_ref()
            .is_some_and(|v| v.repository.object_storage_id.is_some());
        body.push(json!({
            "usedSpaceBytes": used,
            "localCacheUsedSpaceBytes": if object_storage { 0 } else { used },
            "objectStorageUsedSpaceBytes": if object_storage { used } else { 0 },
            "isAvailable": view.is_some(),
            "details": if view.is_some() { "" } else { "The repository was removed" },
            "_links": Links::new()
                .with("backupRepository", format!("/v6/backuprepositories/{}", u.repository_id))
                .with("organization", format!("/v6/organizations/{org}")),
        }));
    }
    paged(
        &format!("/v6/organizations/{org}/usedRepositories"),
        paging,
        body,
    )
}

/// `GET /v6/LicensedUsers`: every user with a backup, which is who counts
/// against the licence.
pub(super) async fn licensed_users(
    _auth: Authenticated,
    State(state): State<AppState>,
    q: QueryParams,
    paging: Paging,
) -> Result<Json<PageOf<Value>>, ApiError> {
    let org: Option<OrganizationId> = q.uuid("organizationId")?.map(Into::into);
    let name = q.string("name");
    let users = state.jobs.licensed_users(org).await?;
    let names = organization_names(&state).await?;
    let body = users
        .iter()
        .map(|u| (u, licensed_name(u)))
        .filter(|(_, n)| name.as_deref().is_none_or(|p| matches(p, n)))
        .map(|(u, n)| {
            json!({
                "id": u.id,
                "name": n,
                "isBackedUp": true,
                "lastBackupDate": wire_time(u.times.last),
                "licenseState": "Licensed",
                "organizationId": u.organization_id,
                "backedUpOrganizationId": u.organization_id,
                "organizationName": name_of(&names, u.organization_id),
                "_links": Links::new()
                    .with("self", format!("/v6/licensedusers/{}", u.id))
                    .with("organization", format!("/v6/organizations/{}", u.organization_id)),
            })
        })
        .collect();
    paged("/v6/licensedusers", paging, body)
}

/// VB365 names a licensed user by sign-in address; the display name when
/// only a OneDrive was backed up.
fn licensed_name(u: &ProtectedUser) -> String {
    if u.email.is_empty() {
        u.display_name.clone()
    } else {
        u.email.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn wildcards_match_like_vb365_filters() {
        assert!(matches("nan*", "Nancy Davolio"));
        assert!(matches("*DAVOLIO", "Nancy Davolio"));
        assert!(matches("n?ncy*", "Nancy Davolio"));
        assert!(!matches("andrew*", "Nancy Davolio"));
        assert!(matches("cy Da", "Nancy Davolio"));
        assert!(!matches("a*b", "ab c"));
        assert!(matches("*", ""));
    }
}
