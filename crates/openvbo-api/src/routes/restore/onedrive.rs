//! A `Veod` session: OneDrives, their folders and documents as the session's restore point
//! holds them (read from the repository), downloads (a document's bytes, or a streamed zip),
//! restores to the original place and copies to another OneDrive or folder. What is shared
//! with document libraries (listings, saves, restores) is in `drive_area.rs`; here are the
//! OneDrive itself and where a copy goes; `onedrive/bulk.rs` restores several OneDrives at
//! once.
//!
//! Path ids: `oneDriveId` is the session's OneDrive id (Microsoft's user id), `folderId` and
//! `documentId` are Microsoft's item ids as backed up.

mod bulk;

use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::future::BoxFuture;
use openvbo_core::restore::browse;
use openvbo_core::restore::drive::{destination_folder, Destination};
use openvbo_core::restore::{ChosenResource, RestoreKind, RestoreSession};
use serde_json::{json, Value};

use super::drive_area::{
    area_session, resource_path, routes as drive_routes, ActionBody, CopyTarget, DriveArea, Scope,
};
use super::drive_tree::DriveSnapshot;
use super::views::{resource_page, session_path, PageView};
use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::state::AppState;

pub(crate) struct OneDrives;

impl DriveArea for OneDrives {
    const KIND: RestoreKind = RestoreKind::OneDrive;
    const COLLECTION: &'static str = "onedrives";
    const LINK: &'static str = "onedrive";
    const NOUN: &'static str = "OneDrive";
    const FOLDER_TYPE: Option<&'static str> = None;

    /// A OneDrive goes back to its user's current drive (re-provisioned drives get new ids).
    fn original_drive(chosen: &ChosenResource, _drive: Option<&str>) -> Result<String, ApiError> {
        Ok(chosen.resource.resource_id.clone())
    }
}

/// The `Veod` routes, in the canonical lower-case form (see `paths`).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v6/restoresessions/{session_id}/organization/onedrives",
            get(onedrives),
        )
        .route(
            "/v6/restoresessions/{session_id}/organization/onedrives/restore",
            post(bulk::restore_onedrives),
        )
        .route(
            "/v6/restoresessions/{session_id}/organization/onedrives/{resource_id}",
            get(onedrive),
        )
        .merge(drive_routes::<OneDrives>(
            &[("", Scope::Whole)],
            Some(("copyto", copy_target)),
        ))
}

/// `RESTOneDrive`.
fn onedrive_view(session: &RestoreSession, chosen: &ChosenResource) -> Value {
    let r = &chosen.resource;
    let base = resource_path::<OneDrives>(session, &r.resource_id);
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

pub(crate) async fn onedrives(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(session): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<PageView<Value>>, ApiError> {
    let session = area_session::<OneDrives>(&state, &session)?;
    Ok(Json(resource_page(
        &session,
        query.as_deref(),
        "onedrives",
        onedrive_view,
    )?))
}

pub(crate) async fn onedrive(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, onedrive)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let session = area_session::<OneDrives>(&state, &session)?;
    let chosen = browse::resource(&session, &onedrive)?;
    Ok(Json(onedrive_view(&session, chosen)))
}

/// `copyTo`: into the OneDrive `onedrive` names (a OneDrive of the session by its backed-up
/// id, a user's id or name, or a drive id) under `folder`.
fn copy_target<'a>(
    _state: &'a AppState,
    session: &'a RestoreSession,
    _chosen: &'a ChosenResource,
    _snapshot: &'a DriveSnapshot,
    body: &'a ActionBody,
) -> BoxFuture<'a, Result<CopyTarget, ApiError>> {
    Box::pin(async move {
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
        let (drive, name) = match browse::resource(session, &target_id) {
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
        Ok(CopyTarget {
            to: Destination { drive, folder },
            name,
        })
    })
}
