//! A `Veod` session: OneDrives, their folders and documents as the session's restore point
//! holds them (read from the repository), downloads (a document's bytes, or a streamed zip),
//! restores to the original place and copies to another OneDrive or folder.
//!
//! Path ids: `oneDriveId` is the session's OneDrive id (Microsoft's drive id), `folderId` and
//! `documentId` are Microsoft's item ids as backed up.

use axum::extract::{Path, RawQuery, Request, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use openvbo_core::organization::Service;
use openvbo_core::restore::browse;
use openvbo_core::restore::{
    ChosenResource, EventStatus, EventType, FolderFilter, NewEvent, RestoreKind, RestoreSession,
};
use openvbo_core::CoreError;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use openvbo_core::restore::drive::{
    destination_folder, drive_of, units_for, Destination, DocumentAction, DriveRestore, Outcome,
    PlannedFile, DEFAULT_UNITS_PER_MINUTE,
};

use super::drive_content::{file_reader, file_response, zip_response};
use super::drive_tree::{DriveFile, DriveFolder, DriveSnapshot};
use super::sessions::session_id;
use super::views::{resource_page, session_path, window, wire_time, PageView};
use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::query::QueryParams;
use crate::state::AppState;

const ONEDRIVES: &str = "/v6/restoresessions/{session_id}/organization/onedrives";
const ONEDRIVE: &str = "/v6/restoresessions/{session_id}/organization/onedrives/{onedrive_id}";

/// The `Veod` routes, in the canonical lower-case form (see `paths`).
pub fn routes() -> Router<AppState> {
    let at = |tail: &str| format!("{ONEDRIVE}{tail}");
    Router::new()
        .route(ONEDRIVES, get(onedrives))
        .route(ONEDRIVE, get(onedrive))
        .route(&at("/save"), post(save_onedrive))
        .route(&at("/restore"), post(restore_onedrive))
        .route(&at("/copyto"), post(copy_onedrive))
        .route(&at("/folders"), get(folders))
        .route(&at("/folders/save"), post(save_folders))
        .route(&at("/folders/restore"), post(restore_folders))
        .route(&at("/folders/copyto"), post(copy_folders))
        .route(&at("/folders/{folder_id}"), get(folder))
        .route(&at("/folders/{folder_id}/save"), post(save_folder))
        .route(&at("/folders/{folder_id}/restore"), post(restore_folder))
        .route(&at("/folders/{folder_id}/copyto"), post(copy_folder))
        .route(&at("/documents"), get(documents))
        .route(&at("/documents/save"), post(save_documents))
        .route(&at("/documents/restore"), post(restore_documents))
        .route(&at("/documents/copyto"), post(copy_documents))
        .route(&at("/documents/{document_id}"), get(document))
        .route(&at("/documents/{document_id}/save"), post(save_document))
        .route(
            &at("/documents/{document_id}/restore"),
            post(restore_document),
        )
        .route(&at("/documents/{document_id}/copyto"), post(copy_document))
}

fn onedrive_session(state: &AppState, raw: &str) -> Result<RestoreSession, ApiError> {
    let session = state.restore.sessions.active(session_id(raw)?)?;
    if session.kind != RestoreKind::OneDrive {
        return Err(ApiError::bad_request(format!(
            "restore session {} is of type {}; OneDrives are browsed in Veod sessions",
            session.id,
            session.kind.as_wire()
        )));
    }
    Ok(session)
}

fn onedrive_path(session: &RestoreSession, id: &str) -> String {
    format!("{}/organization/onedrives/{id}", session_path(session))
}

/// `RESTOneDrive`.
fn onedrive_view(session: &RestoreSession, chosen: &ChosenResource) -> Value {
    let r = &chosen.resource;
    let base = onedrive_path(session, &r.resource_id);
    json!({
        "id": r.resource_id,
        "name": r.display_name,
        "url": r.address,
        "_links": {
            "self": {"href": base},
            "restoreSession": {"href": session_path(session)},
            "folders": {"href": format!("{base}/folders")},
            "documents": {"href": format!("{base}/documents")},
        },
    })
}

/// `RESTOneDriveFolder`. The backup keeps no author or times for folders: the required
/// fields carry an empty author and the restore point's time.
fn folder_view(session: &RestoreSession, chosen: &ChosenResource, f: &DriveFolder) -> Value {
    let base = onedrive_path(session, &chosen.resource.resource_id);
    let mut links = Map::new();
    links.insert(
        "self".into(),
        json!({"href": format!("{base}/folders/{}", f.id)}),
    );
    if let Some(parent) = &f.parent {
        links.insert(
            "parent".into(),
            json!({"href": format!("{base}/folders/{parent}")}),
        );
    }
    links.insert(
        "folders".into(),
        json!({"href": format!("{base}/folders?parentId={}", f.id)}),
    );
    links.insert(
        "documents".into(),
        json!({"href": format!("{base}/documents?parentId={}", f.id)}),
    );
    links.insert("onedrive".into(), json!({"href": base}));
    let at = wire_time(chosen.backup_time);
    json!({
        "id": f.id,
        "name": f.name,
        "createdBy": "",
        "creationTime": at,
        "modifiedBy": "",
        "modificationTime": at,
        "_links": links,
    })
}

/// `RESTOneDriveDocument`: the backup keeps the last modification time (also given as the
/// creation time, which Microsoft's delta does not carry) and no author.
fn document_view(session: &RestoreSession, chosen: &ChosenResource, d: &DriveFile) -> Value {
    let base = onedrive_path(session, &chosen.resource.resource_id);
    let modified = time::OffsetDateTime::from_unix_timestamp(d.modified)
        .map(wire_time)
        .unwrap_or_else(|_| wire_time(chosen.backup_time));
    let mut links = Map::new();
    links.insert(
        "self".into(),
        json!({"href": format!("{base}/documents/{}", d.id)}),
    );
    if let Some(parent) = &d.parent {
        links.insert(
            "parent".into(),
            json!({"href": format!("{base}/folders/{parent}")}),
        );
    }
    links.insert("onedrive".into(), json!({"href": base}));
    json!({
        "id": d.id,
        "name": d.name,
        "sizeBytes": d.size,
        "createdBy": "",
        "creationTime": modified,
        "modifiedBy": "",
        "modificationTime": modified,
        "_links": links,
    })
}

/// The session, one of its OneDrives and that OneDrive's snapshot.
async fn open(
    state: &AppState,
    session: &str,
    onedrive: &str,
) -> Result<(RestoreSession, ChosenResource, DriveSnapshot), ApiError> {
    let session = onedrive_session(state, session)?;
    let chosen = browse::resource(&session, onedrive)?.clone();
    let snapshot = DriveSnapshot::open(state, &chosen).await?;
    Ok((session, chosen, snapshot))
}

/// `parentId` (also `parentID`): an id, `null`/`root` for the top level, absent for all.
fn parent_filter(q: &QueryParams) -> FolderFilter {
    FolderFilter::from_wire(q.get("parentId"))
}

fn filters(q: &QueryParams) -> Vec<(&'static str, String)> {
    q.string("parentId")
        .map(|p| ("parentId", p))
        .into_iter()
        .collect()
}

pub async fn onedrives(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(session): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<PageView<Value>>, ApiError> {
    let session = onedrive_session(&state, &session)?;
    Ok(Json(resource_page(
        &session,
        query.as_deref(),
        "onedrives",
        onedrive_view,
    )?))
}

pub async fn onedrive(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let session = onedrive_session(&state, &session)?;
    let chosen = browse::resource(&session, &onedrive)?;
    Ok(Json(onedrive_view(&session, chosen)))
}

pub async fn folders(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<PageView<Value>>, ApiError> {
    let q = QueryParams::parse(query.as_deref())?;
    let (offset, limit) = window(&q)?;
    let (session, chosen, snapshot) = open(&state, &session, &onedrive).await?;
    let (page, more) = snapshot.folders(&parent_filter(&q), offset, limit)?;
    let results = page
        .iter()
        .map(|f| folder_view(&session, &chosen, f))
        .collect();
    let base = format!(
        "{}/folders",
        onedrive_path(&session, &chosen.resource.resource_id)
    );
    Ok(Json(PageView::new(
        &base,
        offset,
        limit,
        results,
        more,
        None,
        &filters(&q),
    )))
}

pub async fn folder(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive, folder_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (session, chosen, snapshot) = open(&state, &session, &onedrive).await?;
    let found = snapshot.require_folder(&folder_id)?;
    Ok(Json(folder_view(&session, &chosen, &found)))
}

pub async fn documents(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<PageView<Value>>, ApiError> {
    let q = QueryParams::parse(query.as_deref())?;
    let (offset, limit) = window(&q)?;
    let (session, chosen, snapshot) = open(&state, &session, &onedrive).await?;
    let (page, more) = snapshot
        .documents(&parent_filter(&q), offset, limit)
        .await?;
    let results = page
        .iter()
        .map(|d| document_view(&session, &chosen, d))
        .collect();
    let base = format!(
        "{}/documents",
        onedrive_path(&session, &chosen.resource.resource_id)
    );
    Ok(Json(PageView::new(
        &base,
        offset,
        limit,
        results,
        more,
        None,
        &filters(&q),
    )))
}

pub async fn document(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive, document_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (session, chosen, snapshot) = open(&state, &session, &onedrive).await?;
    let found = snapshot.document(&document_id).await?;
    Ok(Json(document_view(&session, &chosen, &found)))
}

// ---- bodies -------------------------------------------------------------------------------

/// `{"id": …}` of the bulk bodies (which embed whole response objects; only `id` is read).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IdRef {
    id: Option<String>,
}

/// The target of a copy: `RESTOneDrive {id, name, url}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TargetRef {
    id: Option<String>,
    name: Option<String>,
    url: Option<String>,
}

/// Every restore, copy and save body of the area, each field optional (the schema requires
/// none); unknown fields are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ActionBody {
    as_zip: Option<bool>,
    documents: Vec<IdRef>,
    folders: Vec<IdRef>,
    document_action: Option<String>,
    onedrive: Option<TargetRef>,
    folder: Option<String>,
    document_version: Option<String>,
    document_last_version_action: Option<String>,
    user_name: Option<String>,
    user_password: Option<Value>,
    user_code: Option<String>,
    application_id: Option<String>,
    application_certificate: Option<String>,
}

/// The body if there is one: saves are sent with an empty body by some clients.
async fn body(req: Request, state: &AppState) -> Result<ActionBody, ApiError> {
    let bytes = crate::json::read_body(req, state).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(ActionBody::default());
    }
    crate::json::from_value(&crate::json::parse_value(&bytes)?)
}

fn ids(list: &[IdRef], field: &str) -> Result<Vec<String>, ApiError> {
    if list.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{field} must list at least one item (each with its id)"
        )));
    }
    list.iter()
        .enumerate()
        .map(|(i, r)| {
            r.id.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| ApiError::bad_request(format!("{field}[{i}].id is required")))
        })
        .collect()
}

fn document_action(body: &ActionBody) -> Result<DocumentAction, ApiError> {
    Ok(DocumentAction::from_wire(body.document_action.as_deref())?)
}

/// Copies write the latest version; `All` (every version) is not restored yet.
fn copy_options(body: &ActionBody) -> Result<(), ApiError> {
    match body.document_version.as_deref().map(str::trim) {
        None | Some("") => {}
        Some(v) if v.eq_ignore_ascii_case("last") => {}
        Some(v) if v.eq_ignore_ascii_case("all") => {
            return Err(ApiError::NotImplemented(
                "copying every version of documents (documentVersion All) is not implemented yet; send Last".into(),
            ))
        }
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "documentVersion must be All or Last (got '{}')",
                crate::query::shorten(v)
            )))
        }
    }
    match body.document_last_version_action.as_deref().map(str::trim) {
        None | Some("") => Ok(()),
        Some(a) if a.eq_ignore_ascii_case("overwrite") || a.eq_ignore_ascii_case("merge") => Ok(()),
        Some(a) => Err(ApiError::bad_request(format!(
            "documentLastVersionAction must be Overwrite or Merge (got '{}')",
            crate::query::shorten(a)
        ))),
    }
}

/// Restores use the organization's stored SharePoint account. Credentials in the body would
/// have to be verified with Microsoft first, which this build does not do yet: refuse them
/// rather than ignore them.
fn stored_account_only(body: &ActionBody) -> Result<(), ApiError> {
    let given = body
        .user_name
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty())
        || body.user_password.as_ref().is_some_and(|v| !v.is_null())
        || body.user_code.is_some()
        || body.application_id.is_some()
        || body.application_certificate.is_some();
    if given {
        return Err(ApiError::NotImplemented(
            "restoring OneDrive data with credentials in the request body is not implemented yet; leave out userName, userPassword, userCode and the application fields to restore with the organization's stored account".into(),
        ));
    }
    Ok(())
}

// ---- saves --------------------------------------------------------------------------------

fn record_save(state: &AppState, session: &RestoreSession, what: &str, count: usize, bytes: u64) {
    let mut event = NewEvent::new(
        EventType::Save,
        EventStatus::Success,
        format!("Saved {what}"),
    );
    event.message = format!("Saved {what}: {count} document(s)");
    event.item_name = Some(what.to_owned());
    event.item_size_bytes = i64::try_from(bytes).ok();
    if let Err(e) = state.restore.sessions.record(session.id, event) {
        tracing::warn!(error = %e, "could not record a save event");
    }
}

/// `OneDriveDocument_SaveDocumentAction`: the bytes, or a zip with `asZip: true`.
pub async fn save_document(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive, document_id)): Path<(String, String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    let body = body(req, &state).await?;
    let (session, _, snapshot) = open(&state, &session, &onedrive).await?;
    let file = snapshot.document(&document_id).await?;
    record_save(&state, &session, &file.name, 1, file.size);
    if body.as_zip == Some(true) {
        let name = file.name.clone();
        return Ok(zip_response(
            &snapshot.repo,
            vec![(Vec::new(), file)],
            &name,
        ));
    }
    Ok(file_response(&snapshot.repo, &file))
}

/// `OneDriveDocument_SaveDocumentsAction`: a zip of the documents.
pub async fn save_documents(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive)): Path<(String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    let body = body(req, &state).await?;
    let wanted = ids(&body.documents, "documents")?;
    let (session, chosen, snapshot) = open(&state, &session, &onedrive).await?;
    let files = snapshot.documents_by_id(&wanted).await?;
    let bytes = files.iter().map(|f| f.size).sum();
    record_save(
        &state,
        &session,
        &chosen.resource.display_name,
        files.len(),
        bytes,
    );
    let files = files.into_iter().map(|f| (Vec::new(), f)).collect();
    Ok(zip_response(
        &snapshot.repo,
        files,
        &chosen.resource.display_name,
    ))
}

async fn save_folders_zip(
    state: &AppState,
    session: &RestoreSession,
    snapshot: &DriveSnapshot,
    folders: &[String],
    name: &str,
) -> Result<Response, ApiError> {
    let mut files = Vec::new();
    for id in folders {
        snapshot.require_folder(id)?;
        files.extend(snapshot.files_within(Some(id)).await?);
    }
    let bytes = files.iter().map(|(_, f)| f.size).sum();
    record_save(state, session, name, files.len(), bytes);
    Ok(zip_response(&snapshot.repo, files, name))
}

/// `OneDriveFolder_SaveFolderAction`: a zip of the folder, its name leading every path.
pub async fn save_folder(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive, folder_id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (session, _, snapshot) = open(&state, &session, &onedrive).await?;
    let folder = snapshot.require_folder(&folder_id)?;
    save_folders_zip(&state, &session, &snapshot, &[folder.id], &folder.name).await
}

/// `OneDriveFolder_SaveFoldersAction`.
pub async fn save_folders(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive)): Path<(String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    let body = body(req, &state).await?;
    let wanted = ids(&body.folders, "folders")?;
    let (session, chosen, snapshot) = open(&state, &session, &onedrive).await?;
    let name = chosen.resource.display_name.clone();
    save_folders_zip(&state, &session, &snapshot, &wanted, &name).await
}

/// `OneDrive_SaveOneDriveAction`: the whole OneDrive as a zip.
pub async fn save_onedrive(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (session, chosen, snapshot) = open(&state, &session, &onedrive).await?;
    let files = snapshot.files_within(None).await?;
    let bytes = files.iter().map(|(_, f)| f.size).sum();
    let name = chosen.resource.display_name.clone();
    record_save(&state, &session, &name, files.len(), bytes);
    Ok(zip_response(&snapshot.repo, files, &name))
}

// ---- restores and copies ------------------------------------------------------------------

/// What to restore, with folder paths from the drive's root (original place) or relative to
/// the copy's folder.
struct Selection {
    what: String,
    folders: Vec<Vec<String>>,
    files: Vec<(Vec<String>, DriveFile)>,
}

async fn select_documents(
    snapshot: &DriveSnapshot,
    wanted: &[String],
    keep_paths: bool,
) -> Result<Selection, ApiError> {
    let files = snapshot.documents_by_id(wanted).await?;
    let what = match files.as_slice() {
        [one] => one.name.clone(),
        many => format!("{} documents", many.len()),
    };
    let files = files
        .into_iter()
        .map(|f| {
            let path = if keep_paths {
                snapshot.folder_path(f.parent.as_deref())
            } else {
                Vec::new()
            };
            (path, f)
        })
        .collect();
    Ok(Selection {
        what,
        folders: Vec::new(),
        files,
    })
}

async fn select_folders(
    snapshot: &DriveSnapshot,
    wanted: &[String],
    keep_paths: bool,
) -> Result<Selection, ApiError> {
    let mut names = Vec::new();
    let mut folders = Vec::new();
    let mut files = Vec::new();
    for id in wanted {
        let folder = snapshot.require_folder(id)?;
        // The folder's own path above it, when restoring to where it was.
        let above = if keep_paths {
            snapshot.folder_path(folder.parent.as_deref())
        } else {
            Vec::new()
        };
        let prefix = |rel: Vec<String>| {
            let mut p = above.clone();
            p.extend(rel);
            p
        };
        folders.extend(
            snapshot
                .folders_within(Some(&folder.id))
                .into_iter()
                .map(prefix),
        );
        files.extend(
            snapshot
                .files_within(Some(&folder.id))
                .await?
                .into_iter()
                .map(|(rel, f)| (prefix(rel), f)),
        );
        names.push(folder.name);
    }
    let what = match names.as_slice() {
        [one] => format!("folder {one}"),
        many => format!("{} folders", many.len()),
    };
    Ok(Selection {
        what,
        folders,
        files,
    })
}

async fn select_all(snapshot: &DriveSnapshot, name: &str) -> Result<Selection, ApiError> {
    Ok(Selection {
        what: format!("OneDrive {name}"),
        folders: snapshot.folders_within(None),
        files: snapshot.files_within(None).await?,
    })
}

/// The environment variable that sets the SharePoint resource units per minute restores may
/// spend per organization (Microsoft's budget grows with the tenant's licences; the default
/// stays under the smallest tenant's).
pub const UNITS_ENV: &str = "OPENVBO_DRIVE_RESTORE_UNITS_PER_MINUTE";

fn units_per_minute() -> u32 {
    std::env::var(UNITS_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_UNITS_PER_MINUTE)
}

/// `RESTItemRestoreStatistics`.
fn statistics(outcome: &Outcome) -> Value {
    let issues: Vec<Value> = outcome
        .issues
        .iter()
        .map(|i| {
            json!({
                "path": i.path,
                "title": i.title,
                "type": "Item",
                "warnings": [],
                "error": i.error,
            })
        })
        .collect();
    json!({
        "totalItemsCount": outcome.total,
        "restoredItemsCount": outcome.restored,
        "failedItemsCount": outcome.failed,
        "skippedItemsByErrorCount": 0,
        "skippedItemsByNoChangesCount": 0,
        "failedRestrictionsCount": 0,
        "restoreIssues": issues,
    })
}

/// Runs a restore into `to` and records it (and each failed file) in the session's events.
async fn run_restore(
    state: &AppState,
    session: &RestoreSession,
    snapshot: &DriveSnapshot,
    selection: Selection,
    to: Destination,
    target_name: &str,
    action: DocumentAction,
) -> Result<Json<Value>, ApiError> {
    let graph = state
        .discovery
        .graph_session(session.organization_id, Service::SharePoint)
        .await?;
    let units = units_for(session.organization_id, units_per_minute());
    let to = Destination {
        drive: drive_of(&graph, &to.drive).await?,
        folder: to.folder,
    };
    let restore = DriveRestore {
        session: &graph,
        units: &units,
        action,
    };
    let (planned, files): (Vec<PlannedFile>, Vec<DriveFile>) = selection
        .files
        .into_iter()
        .map(|(folder, f)| {
            (
                PlannedFile {
                    folder,
                    name: f.name.clone(),
                    size: f.content.as_ref().map_or(0, |p| p.size),
                },
                f,
            )
        })
        .unzip();
    let repo = &snapshot.repo;
    let files = &files;
    let outcome = restore
        .run(&to, selection.folders, planned, |i| {
            files
                .get(i)
                .map(|f| file_reader(repo, f))
                .ok_or_else(|| CoreError::Internal(format!("no file {i} in the restore plan")))
        })
        .await;
    for issue in &outcome.issues {
        let mut event = NewEvent::new(
            EventType::Restore,
            EventStatus::Failed,
            format!("Failed to restore {}", issue.title),
        );
        event.message = format!("Failed to restore {}: {}", issue.path, issue.error);
        event.item_name = Some(issue.title.clone());
        event.item_type = Some("Document".into());
        event.target = Some(target_name.to_owned());
        state.restore.sessions.record(session.id, event)?;
    }
    let status = match (outcome.failed, outcome.restored) {
        (0, _) => EventStatus::Success,
        (_, 0) => EventStatus::Failed,
        _ => EventStatus::Warning,
    };
    let mut event = NewEvent::new(
        EventType::Restore,
        status,
        format!("Restored {}", selection.what),
    );
    event.message = format!(
        "Restored {} to {target_name}: {} of {} document(s) restored, {} failed",
        selection.what, outcome.restored, outcome.total, outcome.failed
    );
    event.item_name = Some(selection.what.clone());
    event.item_size_bytes = i64::try_from(outcome.bytes).ok();
    event.target = Some(target_name.to_owned());
    state.restore.sessions.record(session.id, event)?;
    Ok(Json(statistics(&outcome)))
}

/// Which items a restore or copy is about.
enum Scope {
    Document(String),
    Documents,
    Folder(String),
    Folders,
    OneDrive,
}

async fn selection(
    snapshot: &DriveSnapshot,
    chosen: &ChosenResource,
    scope: &Scope,
    body: &ActionBody,
    keep_paths: bool,
) -> Result<Selection, ApiError> {
    match scope {
        Scope::Document(id) => {
            select_documents(snapshot, std::slice::from_ref(id), keep_paths).await
        }
        Scope::Documents => {
            select_documents(snapshot, &ids(&body.documents, "documents")?, keep_paths).await
        }
        Scope::Folder(id) => select_folders(snapshot, std::slice::from_ref(id), keep_paths).await,
        Scope::Folders => {
            select_folders(snapshot, &ids(&body.folders, "folders")?, keep_paths).await
        }
        Scope::OneDrive => select_all(snapshot, &chosen.resource.display_name).await,
    }
}

/// Restore to the original place.
async fn restore(
    state: AppState,
    session: String,
    onedrive: String,
    scope: Scope,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let body = body(req, &state).await?;
    let action = document_action(&body)?;
    stored_account_only(&body)?;
    let (session, chosen, snapshot) = open(&state, &session, &onedrive).await?;
    let selection = selection(&snapshot, &chosen, &scope, &body, true).await?;
    let to = Destination {
        drive: chosen.resource.resource_id.clone(),
        folder: Vec::new(),
    };
    let name = chosen.resource.display_name.clone();
    run_restore(&state, &session, &snapshot, selection, to, &name, action).await
}

/// Copy to another OneDrive (or the same one) and folder.
async fn copy_to(
    state: AppState,
    session: String,
    onedrive: String,
    scope: Scope,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let body = body(req, &state).await?;
    copy_options(&body)?;
    stored_account_only(&body)?;
    let (session, chosen, snapshot) = open(&state, &session, &onedrive).await?;
    let target = body.onedrive.as_ref().ok_or_else(|| {
        ApiError::bad_request("onedrive (the target OneDrive, with its id) is required")
    })?;
    let target_id = [&target.id, &target.name, &target.url]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("onedrive.id is required"))?
        .to_owned();
    // A OneDrive of the session is addressed by its backed-up id.
    let (drive, target_name) = match browse::resource(&session, &target_id) {
        Ok(r) => (
            r.resource.resource_id.clone(),
            r.resource.display_name.clone(),
        ),
        Err(_) => (
            target_id.clone(),
            target.name.clone().unwrap_or_else(|| target_id.clone()),
        ),
    };
    let folder = destination_folder(body.folder.as_deref())?;
    let selection = selection(&snapshot, &chosen, &scope, &body, false).await?;
    // A whole OneDrive keeps its tree under the folder.
    let to = Destination { drive, folder };
    run_restore(
        &state,
        &session,
        &snapshot,
        selection,
        to,
        &target_name,
        DocumentAction::Overwrite,
    )
    .await
}

pub async fn restore_document(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive, id)): Path<(String, String, String)>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    restore(state, session, onedrive, Scope::Document(id), req).await
}

pub async fn restore_documents(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive)): Path<(String, String)>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    restore(state, session, onedrive, Scope::Documents, req).await
}

pub async fn restore_folder(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive, id)): Path<(String, String, String)>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    restore(state, session, onedrive, Scope::Folder(id), req).await
}

pub async fn restore_folders(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive)): Path<(String, String)>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    restore(state, session, onedrive, Scope::Folders, req).await
}

pub async fn restore_onedrive(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive)): Path<(String, String)>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    restore(state, session, onedrive, Scope::OneDrive, req).await
}

pub async fn copy_document(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive, id)): Path<(String, String, String)>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    copy_to(state, session, onedrive, Scope::Document(id), req).await
}

pub async fn copy_documents(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive)): Path<(String, String)>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    copy_to(state, session, onedrive, Scope::Documents, req).await
}

pub async fn copy_folder(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive, id)): Path<(String, String, String)>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    copy_to(state, session, onedrive, Scope::Folder(id), req).await
}

pub async fn copy_folders(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive)): Path<(String, String)>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    copy_to(state, session, onedrive, Scope::Folders, req).await
}

pub async fn copy_onedrive(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive)): Path<(String, String)>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    copy_to(state, session, onedrive, Scope::OneDrive, req).await
}
