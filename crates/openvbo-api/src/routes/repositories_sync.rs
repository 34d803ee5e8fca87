//! `POST /v6/BackupRepositories/{id}/Sync` and `/v6/RepositorySynchronizeSessions`: import
//! now what an attached repository holds and the store lacks. The POST answers at once with
//! the session `Synchronizing` (reading a bucket's records can take long); the import runs
//! in the background and the session then shows `None` (done) or `Failed` with the reason
//! in `error`.
//!
//! `StopSynchronize` stops the import before its next restore point and answers 200 once it
//! has stopped. v6's states have no `Stopped`: a stopped session shows `None` (it is not
//! synchronizing and nothing failed) with `progressPercent` below 100, the share of the
//! restore points it imported; the repository stays `isOutOfSync` until a Sync imports the
//! rest.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use openvbo_core::backup::RepositoryId;
use openvbo_core::repositories::SyncSession;
use serde::Serialize;
use uuid::Uuid;

use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::hal::Links;
use crate::state::AppState;

/// `RESTRepositorySynchronizeSession`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SyncSessionBody {
    id: Uuid,
    repository_id: RepositoryId,
    state: &'static str,
    progress_percent: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(rename = "_links")]
    links: Links,
}

impl SyncSessionBody {
    fn new(s: &SyncSession) -> Self {
        Self {
            id: s.id,
            repository_id: s.repository_id,
            state: if s.running {
                "Synchronizing"
            } else if s.error.is_some() {
                "Failed"
            } else {
                "None"
            },
            progress_percent: s.progress_percent(),
            error: s.error.clone(),
            links: Links::new()
                .with(
                    "self",
                    format!("/v6/repositorysynchronizesessions/{}", s.id),
                )
                .with(
                    "repository",
                    format!("/v6/backuprepositories/{}", s.repository_id),
                ),
        }
    }
}

fn session_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| {
        ApiError::bad_request(format!(
            "sessionId: '{}' is not a GUID",
            raw.chars().take(64).collect::<String>()
        ))
    })
}

pub(super) async fn start(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(id): PathId<RepositoryId>,
) -> Result<Json<SyncSessionBody>, ApiError> {
    let session = state.repositories.start_synchronization(id).await?;
    Ok(Json(SyncSessionBody::new(&session)))
}

pub(super) async fn list(
    _auth: Authenticated,
    State(state): State<AppState>,
) -> Json<Vec<SyncSessionBody>> {
    Json(
        state
            .repositories
            .sync_sessions()
            .iter()
            .map(SyncSessionBody::new)
            .collect(),
    )
}

pub(super) async fn get_one(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<SyncSessionBody>, ApiError> {
    let session = state.repositories.sync_session(session_id(&raw)?)?;
    Ok(Json(SyncSessionBody::new(&session)))
}

/// 200 without a body, as v6 answers, once the import has stopped (an ended session is
/// left as it is: stopping twice is harmless); 404 for an unknown session.
pub(super) async fn stop(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .repositories
        .stop_synchronization(session_id(&raw)?)
        .await?;
    Ok(StatusCode::OK)
}
