//! A `Vesp` session: the backed-up sites, their document libraries, and the libraries'
//! folders and documents (listings, saves and restores are shared with OneDrive in
//! `drive_area.rs`). Here are the sites and libraries themselves and where a `restoreTo` goes.
//!
//! Path ids: `siteId` is Microsoft's site id (`host,siteCollectionGuid,webGuid`), `libraryId`
//! the library's drive id, `folderId` and `documentId` Microsoft's item ids, as backed up.
//! Lists, list items, attachments, versions, sends, searches and whole-site restores are not
//! routed: the fallback answers 501 naming each.

use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use futures::future::BoxFuture;
use openvbo_core::restore::browse;
use openvbo_core::restore::drive::{destination_folder, Destination};
use openvbo_core::restore::{ChosenResource, FolderFilter, RestoreKind, RestoreSession};
use serde_json::{json, Value};

use super::drive_area::{
    area_session, open_catalog, resource_path, routes as drive_routes, ActionBody, CopyTarget,
    DriveArea, Scope,
};
use super::drive_tree::{DriveLibrary, DriveSnapshot};
use super::views::{resource_page, session_path, window, PageView};
use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::query::QueryParams;
use crate::state::AppState;

pub(crate) struct Sites;

impl DriveArea for Sites {
    const KIND: RestoreKind = RestoreKind::SharePoint;
    const COLLECTION: &'static str = "sites";
    const LINK: &'static str = "site";
    const NOUN: &'static str = "SharePoint";
    const FOLDER_TYPE: Option<&'static str> = Some("LibraryFolder");

    /// A file or folder goes back into the library it was backed up in.
    fn original_drive(chosen: &ChosenResource, drive: Option<&str>) -> Result<String, ApiError> {
        drive.map(str::to_owned).ok_or_else(|| {
            ApiError::Core(openvbo_core::CoreError::Internal(format!(
                "the backup of {} does not record the library of an item",
                chosen.resource.display_name
            )))
        })
    }
}

const SITES: &str = "/v6/restoresessions/{session_id}/organization/sites";
const SITE: &str = "/v6/restoresessions/{session_id}/organization/sites/{resource_id}";

/// The `Vesp` routes, in the canonical lower-case form (see `paths`).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(SITES, get(sites))
        .route(SITE, get(site))
        .route(&format!("{SITE}/libraries"), get(libraries))
        .route(&format!("{SITE}/libraries/{{library_id}}"), get(library))
        .merge(drive_routes::<Sites>(
            &[("/libraries/{library_id}", Scope::Library)],
            Some(("restoreto", restore_to_target)),
        ))
}

/// `RESTSharePointSite`.
fn site_view(session: &RestoreSession, chosen: &ChosenResource) -> Value {
    let r = &chosen.resource;
    let base = resource_path::<Sites>(session, &r.resource_id);
    json!({
        "id": r.resource_id,
        "name": r.display_name,
        "url": r.address,
        "_links": {
            "self": {"href": base},
            "restoreSession": {"href": session_path(session)},
            "libraries": {"href": format!("{base}/libraries")},
            "folders": {"href": format!("{base}/folders")},
            "documents": {"href": format!("{base}/documents")},
        },
    })
}

/// `RESTSharePointLibrary`. The backup keeps no description or creation time of a library:
/// both are left out (neither is required).
fn library_view(session: &RestoreSession, chosen: &ChosenResource, l: &DriveLibrary) -> Value {
    let base = resource_path::<Sites>(session, &chosen.resource.resource_id);
    json!({
        "id": l.id,
        "name": l.name,
        "url": l.url,
        "_links": {
            "self": {"href": format!("{base}/libraries/{}", l.id)},
            "site": {"href": base},
            "folders": {"href": format!("{base}/folders?parentId={}", l.id)},
            "documents": {"href": format!("{base}/documents?parentId={}", l.id)},
        },
    })
}

/// `SharePointSite_Get`. `parentId` asks for subsites: a site's subsites are backed up as
/// sites of their own, so under a site of the session the page is empty.
pub(crate) async fn sites(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(session): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<PageView<Value>>, ApiError> {
    let session = area_session::<Sites>(&state, &session)?;
    let q = QueryParams::parse(query.as_deref())?;
    if let FolderFilter::Children(parent) = FolderFilter::from_wire(q.get("parentId")) {
        browse::resource(&session, &parent)?;
        let (offset, limit) = window(&q)?;
        let base = format!("{}/organization/sites", session_path(&session));
        return Ok(Json(PageView::new(
            &base,
            offset,
            limit,
            Vec::new(),
            false,
            Some(0),
            &[("parentId", parent)],
        )));
    }
    Ok(Json(resource_page(
        &session,
        query.as_deref(),
        "sites",
        site_view,
    )?))
}

pub(crate) async fn site(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, site)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let session = area_session::<Sites>(&state, &session)?;
    let chosen = browse::resource(&session, &site)?;
    Ok(Json(site_view(&session, chosen)))
}

pub(crate) async fn libraries(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, site)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<PageView<Value>>, ApiError> {
    let q = QueryParams::parse(query.as_deref())?;
    let (offset, limit) = window(&q)?;
    let (session, chosen, catalog) = open_catalog::<Sites>(&state, &session, &site).await?;
    let all = catalog.libraries();
    let results: Vec<Value> = all
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|l| library_view(&session, &chosen, l))
        .collect();
    let total = all.len() as u64;
    let more = offset + (results.len() as u64) < total;
    let base = format!(
        "{}/libraries",
        resource_path::<Sites>(&session, &chosen.resource.resource_id)
    );
    Ok(Json(PageView::new(
        &base,
        offset,
        limit,
        results,
        more,
        Some(total),
        &[],
    )))
}

pub(crate) async fn library(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, site, library_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (session, chosen, catalog) = open_catalog::<Sites>(&state, &session, &site).await?;
    let found = catalog.require_library(&library_id)?;
    Ok(Json(library_view(&session, &chosen, found)))
}

fn same_url(a: &str, b: &str) -> bool {
    a.trim()
        .trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim().trim_end_matches('/'))
}

/// `restoreTo`: into the library `list` names (`Library` or `Library/Folder/…`, the library
/// by name or id) of the site `siteURL` names (this site when absent). The target site must
/// be a site of the session and the library one its backup holds: other sites, and libraries
/// made after the backup, are not found yet.
fn restore_to_target<'a>(
    state: &'a AppState,
    session: &'a RestoreSession,
    chosen: &'a ChosenResource,
    snapshot: &'a DriveSnapshot,
    body: &'a ActionBody,
) -> BoxFuture<'a, Result<CopyTarget, ApiError>> {
    Box::pin(async move {
        let site = match body.site_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url) if same_url(url, &chosen.resource.address) => None,
            Some(url) => Some(
                session
                    .resources
                    .iter()
                    .find(|r| {
                        same_url(url, &r.resource.address)
                            || r.resource.resource_id.eq_ignore_ascii_case(url)
                    })
                    .ok_or_else(|| {
                        ApiError::NotImplemented(format!(
                            "restoring to '{}', a site this restore session does not show, is not implemented yet; siteURL must be the URL of one of its sites",
                            crate::query::shorten(url)
                        ))
                    })?,
            ),
        };
        let other;
        let (target_site, target_snapshot) = match site {
            Some(s) if s.resource.resource_id != chosen.resource.resource_id => {
                other = DriveSnapshot::open(state, s).await?;
                (s, &other)
            }
            _ => (chosen, snapshot),
        };
        let list = body.list.as_deref().map(str::trim).unwrap_or_default();
        let mut path = destination_folder(Some(list))?;
        if path.is_empty() {
            return Err(ApiError::bad_request(
                "list (the target document library's name, optionally with a folder: Library/Folder) is required",
            ));
        }
        let name = path.remove(0);
        let library = target_snapshot
            .libraries()
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(&name) || l.id == name)
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "the backup of {} holds no document library named '{}'",
                    target_site.resource.display_name,
                    crate::query::shorten(&name)
                ))
            })?;
        Ok(CopyTarget {
            to: Destination {
                drive: library.id.clone(),
                folder: path,
            },
            name: format!("{}/{}", target_site.resource.display_name, library.name),
        })
    })
}
