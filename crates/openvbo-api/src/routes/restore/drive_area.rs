//! What OneDrive (`Veod`) and SharePoint (`Vesp`) sessions share: a resource (a OneDrive, a
//! site) holding drives whose folders and documents are browsed, saved (a document's bytes or
//! a streamed zip) and put back through the drive writer. Each area (`onedrive.rs`,
//! `sharepoint.rs`) names its session type, its collection and where a file goes back to;
//! everything else — listings, views, bodies, saves, restores and their events — is here, once,
//! and [`routes`] is the one table that serves it under either collection.
//!
//! Path ids: the resource is the session's OneDrive (Microsoft's user id) or site; `folderId`,
//! `documentId` and `libraryId` are Microsoft's ids as backed up (a library's is its drive id).

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, RawQuery, Request, State};
use axum::response::Response;
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use openvbo_core::restore::browse;
use openvbo_core::restore::credentials::{CredentialFields, RestoreCredentials};
use openvbo_core::restore::drive::{
    drive_of, Destination, DocumentAction, DriveRestore, Outcome, PlannedFile, ISSUES_LISTED,
};
use openvbo_core::restore::{
    ChosenResource, EventStatus, EventType, FolderFilter, NewEvent, RestoreKind, RestoreSession,
};
use openvbo_core::CoreError;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::drive_catalog::DriveCatalog;
use super::drive_content::{file_reader, file_response, zip_response};
use super::drive_tree::{repository_of, DriveFile, DriveFolder, DriveSnapshot, Within};
use super::sessions::session_id;
use super::views::{session_path, window, wire_time, PageView};
use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::query::QueryParams;
use crate::state::AppState;

/// One kind of drive resource.
pub(crate) trait DriveArea: Send + Sync + 'static {
    /// The session type that shows it.
    const KIND: RestoreKind;
    /// `…/organization/{COLLECTION}/{id}` (canonical lower case).
    const COLLECTION: &'static str;
    /// The `_links` name of the resource in folder and document views.
    const LINK: &'static str;
    /// What the resource is called in messages ("OneDrive", "site").
    const NOUN: &'static str;
    /// `RESTSharePointFolder.type`, where the shape has one.
    const FOLDER_TYPE: Option<&'static str>;

    /// The drive a file or folder of `chosen` goes back to, from the drive it was backed up
    /// in; a user's id or name is resolved to the user's current OneDrive.
    fn original_drive(chosen: &ChosenResource, drive: Option<&str>) -> Result<String, ApiError>;
}

pub(crate) fn resource_path<A: DriveArea>(session: &RestoreSession, id: &str) -> String {
    format!(
        "{}/organization/{}/{id}",
        session_path(session),
        A::COLLECTION
    )
}

/// The session, if it is active and of the area's type.
pub(crate) fn area_session<A: DriveArea>(
    state: &AppState,
    raw: &str,
) -> Result<RestoreSession, ApiError> {
    let session = state.restore.sessions.active(session_id(raw)?)?;
    if session.kind != A::KIND {
        return Err(ApiError::bad_request(format!(
            "restore session {} is of type {}; {} data is browsed in {} sessions",
            session.id,
            session.kind.as_wire(),
            A::NOUN,
            A::KIND.as_wire()
        )));
    }
    Ok(session)
}

/// The session, one of its resources and that resource's snapshot.
pub(crate) async fn open<A: DriveArea>(
    state: &AppState,
    session: &str,
    resource: &str,
) -> Result<(RestoreSession, ChosenResource, DriveSnapshot), ApiError> {
    let session = area_session::<A>(state, session)?;
    let chosen = browse::resource(&session, resource)?.clone();
    let snapshot = DriveSnapshot::open(state, &chosen).await?;
    Ok((session, chosen, snapshot))
}

/// The session, one of its resources and that resource's catalog (what browsing reads).
pub(crate) async fn open_catalog<'s, A: DriveArea>(
    state: &'s AppState,
    session: &str,
    resource: &str,
) -> Result<(RestoreSession, ChosenResource, DriveCatalog<'s>), ApiError> {
    let session = area_session::<A>(state, session)?;
    let chosen = browse::resource(&session, resource)?.clone();
    let catalog = DriveCatalog::open(state, &chosen).await?;
    Ok((session, chosen, catalog))
}

// ---- views --------------------------------------------------------------------------------

fn link(href: String) -> Value {
    json!({ "href": href })
}

/// The links every folder and document carries: self, parent (only where there is one: a
/// client builds its tree from its absence), the resource and, in a site, the library.
fn item_links<A: DriveArea>(
    base: &str,
    own: String,
    parent: Option<&str>,
    drive: Option<&str>,
) -> Map<String, Value> {
    let mut links = Map::new();
    links.insert("self".into(), link(own));
    if let Some(parent) = parent {
        links.insert("parent".into(), link(format!("{base}/folders/{parent}")));
    }
    links.insert(A::LINK.into(), link(base.to_owned()));
    if let (Some(drive), RestoreKind::SharePoint) = (drive, A::KIND) {
        links.insert("library".into(), link(format!("{base}/libraries/{drive}")));
    }
    links
}

/// `RESTOneDriveFolder` / `RESTSharePointFolder`. The backup keeps no author or times for
/// folders: the required fields carry an empty author and the restore point's time.
fn folder_view<A: DriveArea>(
    session: &RestoreSession,
    chosen: &ChosenResource,
    f: &DriveFolder,
) -> Value {
    let base = resource_path::<A>(session, &chosen.resource.resource_id);
    let mut links = item_links::<A>(
        &base,
        format!("{base}/folders/{}", f.id),
        f.parent.as_deref(),
        f.drive.as_deref(),
    );
    links.insert(
        "folders".into(),
        link(format!("{base}/folders?parentId={}", f.id)),
    );
    links.insert(
        "documents".into(),
        link(format!("{base}/documents?parentId={}", f.id)),
    );
    let at = wire_time(chosen.backup_time);
    let mut view = json!({
        "id": f.id,
        "name": f.name,
        "createdBy": "",
        "creationTime": at,
        "modifiedBy": "",
        "modificationTime": at,
        "_links": links,
    });
    if let (Some(kind), Some(fields)) = (A::FOLDER_TYPE, view.as_object_mut()) {
        fields.insert("type".into(), kind.into());
    }
    view
}

/// `RESTOneDriveDocument` / `RESTSharePointDocument`: the backup keeps the last modification
/// time (also given as the creation time, which Microsoft's delta does not carry) and no
/// author.
fn document_view<A: DriveArea>(
    session: &RestoreSession,
    chosen: &ChosenResource,
    d: &DriveFile,
) -> Value {
    let base = resource_path::<A>(session, &chosen.resource.resource_id);
    let modified = time::OffsetDateTime::from_unix_timestamp(d.modified)
        .map(wire_time)
        .unwrap_or_else(|_| wire_time(chosen.backup_time));
    let links = item_links::<A>(
        &base,
        format!("{base}/documents/{}", d.id),
        d.parent.as_deref(),
        d.drive.as_deref(),
    );
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

// ---- listings -----------------------------------------------------------------------------

/// `parentId` (also `parentID`): an id, `null`/`root` for the top level, absent for all. In a
/// site a library's id lists that library's top level.
fn parent_filter(q: &QueryParams, catalog: &DriveCatalog<'_>) -> (FolderFilter, Option<String>) {
    match FolderFilter::from_wire(q.get("parentId")) {
        FolderFilter::Children(id) if catalog.library(&id).is_some() => {
            (FolderFilter::TopLevel, Some(id.trim().to_owned()))
        }
        filter => (filter, None),
    }
}

fn filters(q: &QueryParams) -> Vec<(&'static str, String)> {
    q.string("parentId")
        .map(|p| ("parentId", p))
        .into_iter()
        .collect()
}

/// A page of folders or documents at `…/{collection}/{id}/{kind}`.
fn listing<A: DriveArea>(
    session: &RestoreSession,
    chosen: &ChosenResource,
    kind: &str,
    q: &QueryParams,
    (offset, limit): (u64, u64),
    (results, more): (Vec<Value>, bool),
) -> Json<PageView<Value>> {
    let base = format!(
        "{}/{kind}",
        resource_path::<A>(session, &chosen.resource.resource_id)
    );
    Json(PageView::new(
        &base,
        offset,
        limit,
        results,
        more,
        None,
        &filters(q),
    ))
}

pub(crate) async fn folders<A: DriveArea>(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, resource)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<PageView<Value>>, ApiError> {
    let q = QueryParams::parse(query.as_deref())?;
    let page = window(&q)?;
    let (session, chosen, catalog) = open_catalog::<A>(&state, &session, &resource).await?;
    let (filter, drive) = parent_filter(&q, &catalog);
    let (found, more) = catalog
        .folders(&filter, drive.as_deref(), page.0, page.1)
        .await?;
    let results = found
        .iter()
        .map(|f| folder_view::<A>(&session, &chosen, f))
        .collect();
    Ok(listing::<A>(
        &session,
        &chosen,
        "folders",
        &q,
        page,
        (results, more),
    ))
}

pub(crate) async fn folder<A: DriveArea>(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, resource, folder_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (session, chosen, catalog) = open_catalog::<A>(&state, &session, &resource).await?;
    let found = catalog.require_folder(&folder_id).await?;
    Ok(Json(folder_view::<A>(&session, &chosen, &found)))
}

pub(crate) async fn documents<A: DriveArea>(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, resource)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<PageView<Value>>, ApiError> {
    let q = QueryParams::parse(query.as_deref())?;
    let page = window(&q)?;
    let (session, chosen, catalog) = open_catalog::<A>(&state, &session, &resource).await?;
    let (filter, drive) = parent_filter(&q, &catalog);
    let (found, more) = catalog
        .documents(&filter, drive.as_deref(), page.0, page.1)
        .await?;
    let results = found
        .iter()
        .map(|d| document_view::<A>(&session, &chosen, d))
        .collect();
    Ok(listing::<A>(
        &session,
        &chosen,
        "documents",
        &q,
        page,
        (results, more),
    ))
}

pub(crate) async fn document<A: DriveArea>(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, resource, document_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (session, chosen, catalog) = open_catalog::<A>(&state, &session, &resource).await?;
    let found = catalog.document(&document_id).await?;
    Ok(Json(document_view::<A>(&session, &chosen, &found)))
}

// ---- bodies -------------------------------------------------------------------------------

/// `{"id": …}` of the bulk bodies (which embed whole response objects; only `id` is read).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct IdRef {
    id: Option<String>,
}

/// The target of a OneDrive copy: `RESTOneDrive {id, name, url}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TargetRef {
    pub id: Option<String>,
    pub name: Option<String>,
    pub url: Option<String>,
}

/// Every restore, copy and save body of both areas, each field optional (the schemas require
/// none); unknown fields are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ActionBody {
    as_zip: Option<bool>,
    documents: Vec<IdRef>,
    folders: Vec<IdRef>,
    document_action: Option<String>,
    pub onedrive: Option<TargetRef>,
    pub folder: Option<String>,
    document_version: Option<String>,
    document_last_version_action: Option<String>,
    /// SharePoint: the target library (restoreTo), `Library/Folder/…` for a folder in it.
    pub list: Option<String>,
    /// SharePoint: the target site (restoreTo).
    #[serde(rename = "siteURL", alias = "siteUrl")]
    pub site_url: Option<String>,
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

/// `documentAction` (OneDrive's `Keep`/`Overwrite`, also read in SharePoint bodies as an
/// openvbo extension); without it SharePoint's `documentLastVersionAction` (`Overwrite` or
/// `Merge`: either way the backed-up bytes become the current version and Microsoft keeps the
/// replaced ones as versions) means `Overwrite`; neither means `Keep`, which loses nothing.
fn document_action(body: &ActionBody) -> Result<DocumentAction, ApiError> {
    if body.document_action.is_some() {
        return Ok(DocumentAction::from_wire(body.document_action.as_deref())?);
    }
    Ok(match last_version_action(body)? {
        Some(()) => DocumentAction::Overwrite,
        None => DocumentAction::Keep,
    })
}

/// `documentLastVersionAction`, checked: Some when given.
fn last_version_action(body: &ActionBody) -> Result<Option<()>, ApiError> {
    match body.document_last_version_action.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(a) if a.eq_ignore_ascii_case("overwrite") || a.eq_ignore_ascii_case("merge") => {
            Ok(Some(()))
        }
        Some(a) => Err(ApiError::bad_request(format!(
            "documentLastVersionAction must be Overwrite or Merge (got '{}')",
            crate::query::shorten(a)
        ))),
    }
}

/// Only the backed-up (last) version is restored; `All` (every version) is not yet.
fn version_options(body: &ActionBody) -> Result<(), ApiError> {
    match body.document_version.as_deref().map(str::trim) {
        None | Some("") => {}
        Some(v) if v.eq_ignore_ascii_case("last") => {}
        Some(v) if v.eq_ignore_ascii_case("all") => {
            return Err(ApiError::NotImplemented(
                "restoring every version of documents (documentVersion All) is not implemented yet; send Last".into(),
            ))
        }
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "documentVersion must be All or Last (got '{}')",
                crate::query::shorten(v)
            )))
        }
    }
    last_version_action(body).map(|_| ())
}

/// The account a restore body names (`userName`/`userPassword`), signed in before anything
/// is written (see `openvbo_core::restore::credentials`); `None`: the organization's stored
/// SharePoint account. A device code or an application is not signed in with yet: 501.
fn credentials<A: DriveArea>(body: &ActionBody) -> Result<Option<RestoreCredentials>, ApiError> {
    if body.user_code.is_some()
        || body.application_id.is_some()
        || body.application_certificate.is_some()
    {
        return Err(ApiError::NotImplemented(format!(
            "restoring {} data with a device code or an application (userCode, applicationId, applicationCertificate) is not implemented yet; send userName and userPassword, or neither to restore with the organization's stored account",
            A::NOUN
        )));
    }
    let password = match &body.user_password {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(("userPassword", p.as_str())),
        // Never echo the value: it may be a password.
        Some(_) => return Err(ApiError::bad_request("userPassword must be a string")),
    };
    Ok(RestoreCredentials::from_fields(CredentialFields {
        user_name: body.user_name.as_deref().map(|u| ("userName", u)),
        password,
        other: None,
    })?)
}

// ---- scopes -------------------------------------------------------------------------------

/// Which items an action is about, as the route names them.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scope {
    /// `…/documents/{document_id}/…`
    Document,
    /// `…/documents/…` with `documents` in the body.
    Documents,
    /// `…/folders/{folder_id}/…`
    Folder,
    /// `…/folders/…` with `folders` in the body.
    Folders,
    /// `…/libraries/{library_id}/…`
    Library,
    /// The whole resource (`…/{id}/…`).
    Whole,
}

/// The path parameters of an action route.
type Params = HashMap<String, String>;

fn param<'p>(params: &'p Params, name: &str) -> Result<&'p str, ApiError> {
    params
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| ApiError::Core(CoreError::Internal(format!("no {name} in the route"))))
}

/// What an action takes, its name for events and the archive, with folder paths from the
/// drive's root (original place) or relative to the copy's folder, and each folder's drive.
struct Selection {
    what: String,
    folders: Vec<(Option<String>, Vec<String>)>,
    files: Vec<(Vec<String>, DriveFile)>,
}

fn named(many: usize, one: Option<String>, noun: &str) -> String {
    match (many, one) {
        (1, Some(one)) => one,
        (n, _) => format!("{n} {noun}"),
    }
}

async fn select_documents(
    snapshot: &DriveSnapshot,
    wanted: &[String],
    keep_paths: bool,
) -> Result<Selection, ApiError> {
    let files = snapshot.documents_by_id(wanted).await?;
    let what = named(
        files.len(),
        files.first().map(|f| f.name.clone()),
        "documents",
    );
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
        let within = Within::Folder(&folder.id);
        folders.extend(
            snapshot
                .folders_within(within)
                .into_iter()
                .map(|(drive, rel)| (drive, prefix(rel))),
        );
        files.extend(
            snapshot
                .files_within(within)
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

async fn select_within(
    snapshot: &DriveSnapshot,
    within: Within<'_>,
    what: String,
) -> Result<Selection, ApiError> {
    Ok(Selection {
        what,
        folders: snapshot.folders_within(within),
        files: snapshot.files_within(within).await?,
    })
}

async fn selection<A: DriveArea>(
    snapshot: &DriveSnapshot,
    chosen: &ChosenResource,
    scope: Scope,
    params: &Params,
    body: &ActionBody,
    keep_paths: bool,
) -> Result<Selection, ApiError> {
    match scope {
        Scope::Document => {
            let id = param(params, "document_id")?.to_owned();
            select_documents(snapshot, &[id], keep_paths).await
        }
        Scope::Documents => {
            select_documents(snapshot, &ids(&body.documents, "documents")?, keep_paths).await
        }
        Scope::Folder => {
            let id = param(params, "folder_id")?.to_owned();
            select_folders(snapshot, &[id], keep_paths).await
        }
        Scope::Folders => {
            select_folders(snapshot, &ids(&body.folders, "folders")?, keep_paths).await
        }
        Scope::Library => {
            let library = snapshot.require_library(param(params, "library_id")?)?;
            let what = format!("library {}", library.name);
            let id = library.id.clone();
            select_within(snapshot, Within::Drive(&id), what).await
        }
        Scope::Whole => {
            let what = format!("{} {}", A::NOUN, chosen.resource.display_name);
            select_within(snapshot, Within::All, what).await
        }
    }
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

/// Every save: one document's bytes (or a zip with `asZip: true`); several documents, folders,
/// a library or the whole resource always as a zip, streamed. A folder's name leads its
/// entries' paths; the archive is named after the folder, the library or the resource.
async fn save<A: DriveArea>(
    state: AppState,
    params: Params,
    scope: Scope,
    req: Request,
) -> Result<Response, ApiError> {
    let body = body(req, &state).await?;
    let (session_id, resource_id) = (
        param(&params, "session_id")?,
        param(&params, "resource_id")?,
    );
    if let Scope::Document = scope {
        // One document: found in the catalog, its bytes read; the snapshot is not walked.
        let (session, chosen, catalog) = open_catalog::<A>(&state, session_id, resource_id).await?;
        let file = catalog.document(param(&params, "document_id")?).await?;
        let repo = repository_of(&state, chosen.point_id).await?;
        record_save(&state, &session, &file.name, 1, file.size);
        if body.as_zip != Some(true) {
            return Ok(file_response(&repo, &file));
        }
        let name = file.name.clone();
        return Ok(zip_response(&repo, vec![(Vec::new(), file)], &name));
    }
    let (session, chosen, snapshot) = open::<A>(&state, session_id, resource_id).await?;
    let (name, files) = match scope {
        Scope::Folder => {
            let folder = snapshot.require_folder(param(&params, "folder_id")?)?;
            let files = snapshot.files_within(Within::Folder(&folder.id)).await?;
            (folder.name, files)
        }
        Scope::Library => {
            let library = snapshot.require_library(param(&params, "library_id")?)?;
            let files = snapshot.files_within(Within::Drive(&library.id)).await?;
            (library.name.clone(), files)
        }
        // A single document was served above.
        Scope::Document | Scope::Documents | Scope::Folders | Scope::Whole => {
            let selection =
                selection::<A>(&snapshot, &chosen, scope, &params, &body, false).await?;
            (chosen.resource.display_name.clone(), selection.files)
        }
    };
    let bytes = files.iter().map(|(_, f)| f.size).sum();
    record_save(&state, &session, &name, files.len(), bytes);
    Ok(zip_response(&snapshot.repo, files, &name))
}

// ---- restores and copies ------------------------------------------------------------------

/// `RESTItemRestoreStatistics`; a library's restore answers `RESTListRestoreStatistics`, which
/// adds the list counts.
fn statistics(outcome: &Outcome, scope: Scope) -> Value {
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
    let mut stats = json!({
        "totalItemsCount": outcome.total,
        "restoredItemsCount": outcome.restored,
        "failedItemsCount": outcome.failed,
        "skippedItemsByErrorCount": 0,
        "skippedItemsByNoChangesCount": outcome.unchanged,
        "failedRestrictionsCount": 0,
        "restoreIssues": issues,
    });
    if let (Scope::Library, Some(fields)) = (scope, stats.as_object_mut()) {
        let failed = outcome.failed > 0 && outcome.restored == 0;
        fields.insert("restoredListsCount".into(), u8::from(!failed).into());
        fields.insert("failedListsCount".into(), u8::from(failed).into());
    }
    stats
}

/// What goes into one drive: its destination, the folders to make and the files.
struct Batch {
    to: Destination,
    folders: Vec<Vec<String>>,
    files: Vec<(Vec<String>, DriveFile)>,
}

/// Where the selection goes back to: each file and folder into its original drive, at its
/// path there.
fn original_batches<A: DriveArea>(
    chosen: &ChosenResource,
    selection: Selection,
) -> Result<Vec<Batch>, ApiError> {
    fn batch(batches: &mut BTreeMap<String, Batch>, drive: String) -> &mut Batch {
        batches.entry(drive.clone()).or_insert_with(|| Batch {
            to: Destination {
                drive,
                folder: Vec::new(),
            },
            folders: Vec::new(),
            files: Vec::new(),
        })
    }
    let mut batches: BTreeMap<String, Batch> = BTreeMap::new();
    for (drive, path) in selection.folders {
        let drive = A::original_drive(chosen, drive.as_deref())?;
        batch(&mut batches, drive).folders.push(path);
    }
    for (path, file) in selection.files {
        let drive = A::original_drive(chosen, file.drive.as_deref())?;
        batch(&mut batches, drive).files.push((path, file));
    }
    Ok(batches.into_values().collect())
}

/// Adds one drive's outcome to the action's.
fn merge(total: &mut Outcome, one: Outcome) {
    total.total += one.total;
    total.restored += one.restored;
    total.unchanged += one.unchanged;
    total.failed += one.failed;
    total.bytes += one.bytes;
    let room = ISSUES_LISTED.saturating_sub(total.issues.len());
    total.issues.extend(one.issues.into_iter().take(room));
}

/// Runs a restore of `batches` and records it (and each failed file) in the session's events.
#[allow(clippy::too_many_arguments)]
async fn run_restore<A: DriveArea>(
    state: &AppState,
    session: &RestoreSession,
    snapshot: &DriveSnapshot,
    what: &str,
    batches: Vec<Batch>,
    target_name: &str,
    action: DocumentAction,
    scope: Scope,
    credentials: Option<&RestoreCredentials>,
) -> Result<Json<Value>, ApiError> {
    let writer = state
        .restore
        .access
        .drive(
            session.organization_id,
            credentials,
            state.restore.drive_units(),
        )
        .await?;
    let restore = DriveRestore {
        writer: &*writer,
        action,
    };
    let mut outcome = Outcome::default();
    for batch in batches {
        let to = Destination {
            // A OneDrive is addressed by its user (or a drive id); a library by its drive id.
            drive: match A::KIND {
                RestoreKind::OneDrive => drive_of(&*writer, &batch.to.drive).await?,
                _ => batch.to.drive,
            },
            folder: batch.to.folder,
        };
        let (planned, files): (Vec<PlannedFile>, Vec<DriveFile>) = batch
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
        let one = restore
            .run(&to, batch.folders, planned, |i| {
                files
                    .get(i)
                    .map(|f| file_reader(repo, f))
                    .ok_or_else(|| CoreError::Internal(format!("no file {i} in the restore plan")))
            })
            .await;
        merge(&mut outcome, one);
    }
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
    let mut event = NewEvent::new(EventType::Restore, status, format!("Restored {what}"));
    event.message = format!(
        "Restored {what} to {target_name}: {} of {} document(s) restored, {} failed",
        outcome.restored, outcome.total, outcome.failed
    );
    event.item_name = Some(what.to_owned());
    event.item_size_bytes = i64::try_from(outcome.bytes).ok();
    event.target = Some(target_name.to_owned());
    state.restore.sessions.record(session.id, event)?;
    Ok(Json(statistics(&outcome, scope)))
}

/// Where a copy (`copyTo`, `restoreTo`) goes: one drive and folder, and its name for events.
pub(crate) struct CopyTarget {
    pub to: Destination,
    pub name: String,
}

/// How an area finds the target of a copy from the body.
pub(crate) type TargetOf =
    for<'a> fn(
        &'a AppState,
        &'a RestoreSession,
        &'a ChosenResource,
        &'a DriveSnapshot,
        &'a ActionBody,
    ) -> futures::future::BoxFuture<'a, Result<CopyTarget, ApiError>>;

/// Where an action puts things.
#[derive(Clone, Copy)]
pub(crate) enum Place {
    /// Back where they were.
    Original,
    /// Into the target the area reads from the body (files there are replaced).
    Copy(TargetOf),
}

async fn restore<A: DriveArea>(
    state: AppState,
    params: Params,
    scope: Scope,
    place: Place,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let body = body(req, &state).await?;
    let action = match place {
        Place::Original => document_action(&body)?,
        Place::Copy(_) => {
            version_options(&body)?;
            DocumentAction::Overwrite
        }
    };
    let credentials = credentials::<A>(&body)?;
    let (session, chosen, snapshot) = open::<A>(
        &state,
        param(&params, "session_id")?,
        param(&params, "resource_id")?,
    )
    .await?;
    let keep_paths = matches!(place, Place::Original);
    let selection = selection::<A>(&snapshot, &chosen, scope, &params, &body, keep_paths).await?;
    let what = selection.what.clone();
    let (batches, target_name) = match place {
        Place::Original => (
            original_batches::<A>(&chosen, selection)?,
            chosen.resource.display_name.clone(),
        ),
        Place::Copy(target_of) => {
            let target = target_of(&state, &session, &chosen, &snapshot, &body).await?;
            let batch = Batch {
                to: target.to,
                folders: selection.folders.into_iter().map(|(_, p)| p).collect(),
                files: selection.files,
            };
            (vec![batch], target.name)
        }
    };
    run_restore::<A>(
        &state,
        &session,
        &snapshot,
        &what,
        batches,
        &target_name,
        action,
        scope,
        credentials.as_ref(),
    )
    .await
}

// ---- the route table ----------------------------------------------------------------------

/// `POST` of a save of `scope`.
fn save_route<A: DriveArea>(scope: Scope) -> MethodRouter<AppState> {
    post(
        move |_auth: Authenticated,
              State(state): State<AppState>,
              Path(params): Path<Params>,
              req: Request| save::<A>(state, params, scope, req),
    )
}

/// `POST` of a restore or copy of `scope` into `place`.
fn restore_route<A: DriveArea>(scope: Scope, place: Place) -> MethodRouter<AppState> {
    post(
        move |_auth: Authenticated,
              State(state): State<AppState>,
              Path(params): Path<Params>,
              req: Request| restore::<A>(state, params, scope, place, req),
    )
}

/// Where an area serves what, in the canonical lower-case form (see `paths`): browsing,
/// saves and restores of documents and folders, plus each `extra` (path tail under the
/// resource, scope) as a save (`…/save`), a restore (`…/restore`) and, with a `copy`
/// (`copy.0` the verb: `copyto` or `restoreto`), a copy.
pub(crate) fn routes<A: DriveArea>(
    extra: &[(&str, Scope)],
    copy: Option<(&str, TargetOf)>,
) -> Router<AppState> {
    let at = |tail: &str| {
        format!(
            "/v6/restoresessions/{{session_id}}/organization/{}/{{resource_id}}{tail}",
            A::COLLECTION
        )
    };
    let mut router = Router::new()
        .route(&at("/folders"), get(folders::<A>))
        .route(&at("/folders/{folder_id}"), get(folder::<A>))
        .route(&at("/documents"), get(documents::<A>))
        .route(&at("/documents/{document_id}"), get(document::<A>));
    let actions = [
        ("/documents", Scope::Documents),
        ("/documents/{document_id}", Scope::Document),
        ("/folders", Scope::Folders),
        ("/folders/{folder_id}", Scope::Folder),
    ];
    for (tail, scope) in actions.iter().chain(extra) {
        router = router
            .route(&at(&format!("{tail}/save")), save_route::<A>(*scope))
            .route(
                &at(&format!("{tail}/restore")),
                restore_route::<A>(*scope, Place::Original),
            );
        if let Some((verb, target_of)) = copy {
            router = router.route(
                &at(&format!("{tail}/{verb}")),
                restore_route::<A>(*scope, Place::Copy(target_of)),
            );
        }
    }
    router
}
