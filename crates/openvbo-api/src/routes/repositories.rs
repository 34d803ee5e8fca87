//! `/v6/BackupRepositories`: add, list (`proxyId`), read (with `capacityBytes` and
//! `freeSpaceBytes` measured on the file system), change, remove.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use openvbo_core::backup::{
    BackupRepository, EncryptionKeyId, ObjectStorageId, ProxyId, RepositoryId,
};
use openvbo_core::repositories::{format_time, RepositoryInput, RepositoryView, RetentionInput};
use serde::Serialize;
use serde_json::Value;

use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::hal::Links;
use crate::json::{from_value, LenientJson};
use crate::query::QueryParams;
use crate::state::AppState;

/// `RESTBackupRepository`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RepositoryBody {
    id: RepositoryId,
    name: String,
    description: String,
    path: String,
    proxy_id: ProxyId,
    retention_type: &'static str,
    retention_period_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    daily_retention_period: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    monthly_retention_period: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    yearly_retention_period: Option<&'static str>,
    retention_frequency_type: &'static str,
    daily_time: String,
    daily_type: &'static str,
    monthly_time: String,
    monthly_daynumber: &'static str,
    monthly_dayofweek: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_storage_id: Option<ObjectStorageId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    object_storage_cache_path: Option<String>,
    object_storage_encryption_enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption_key_id: Option<EncryptionKeyId>,
    is_out_of_sync: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    capacity_bytes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    free_space_bytes: Option<i64>,
    is_long_term: bool,
    #[serde(rename = "_links")]
    links: Links,
}

impl RepositoryBody {
    fn new(view: &RepositoryView) -> Self {
        let r: &BackupRepository = &view.repository;
        let t = &r.retention;
        let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let mut links = Links::new()
            .with("self", format!("/v6/backuprepositories/{}", r.id))
            .with("proxy", format!("/v6/proxies/{}", r.proxy_id));
        if let Some(os) = r.object_storage_id {
            links.push(
                "objectStorage",
                format!("/v6/objectstoragerepositories/{os}"),
            );
        }
        Self {
            id: r.id,
            name: r.name.clone(),
            description: r.description.clone(),
            path: r.path.clone(),
            proxy_id: r.proxy_id,
            retention_type: t.retention_type.as_str(),
            retention_period_type: t.period_type.as_str(),
            daily_retention_period: t.daily_period,
            monthly_retention_period: t.monthly_period,
            yearly_retention_period: t.yearly_period.map(|y| y.as_str()),
            retention_frequency_type: t.frequency_type.as_str(),
            daily_time: format_time(t.daily_time),
            daily_type: t.daily_type.as_str(),
            monthly_time: format_time(t.monthly_time),
            monthly_daynumber: t.monthly_day_number.as_str(),
            monthly_dayofweek: t.monthly_day_of_week.as_str(),
            object_storage_id: r.object_storage_id,
            object_storage_cache_path: r.object_storage_cache_path.clone(),
            object_storage_encryption_enabled: r.object_storage_encryption_enabled,
            encryption_key_id: r.encryption_key_id,
            is_out_of_sync: r.is_out_of_sync,
            capacity_bytes: view.space.map(|s| clamp(s.capacity_bytes)),
            free_space_bytes: view.space.map(|s| clamp(s.free_bytes)),
            is_long_term: r.is_long_term,
            links,
        }
    }
}

/// The body read twice: the repository fields, and its retention fields.
fn inputs(body: &Value) -> Result<(RepositoryInput, RetentionInput), ApiError> {
    Ok((from_value(body)?, from_value(body)?))
}

pub(super) async fn list(
    _auth: Authenticated,
    State(state): State<AppState>,
    q: QueryParams,
) -> Result<Json<Vec<RepositoryBody>>, ApiError> {
    let proxy = q.uuid("proxyId")?.map(ProxyId::from);
    // No archive tiers here: every repository is a backup target.
    if q.bool("longTerm")? == Some(true) {
        return Ok(Json(Vec::new()));
    }
    let views = state.repositories.repositories(proxy).await?;
    Ok(Json(views.iter().map(RepositoryBody::new).collect()))
}

pub(super) async fn get_one(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(id): PathId<RepositoryId>,
) -> Result<Json<RepositoryBody>, ApiError> {
    let view = state.repositories.repository(id).await?;
    Ok(Json(RepositoryBody::new(&view)))
}

pub(super) async fn add(
    _auth: Authenticated,
    State(state): State<AppState>,
    LenientJson(body): LenientJson<Value>,
) -> Result<Json<RepositoryBody>, ApiError> {
    let (input, retention) = inputs(&body)?;
    let view = state.repositories.add_repository(input, retention).await?;
    Ok(Json(RepositoryBody::new(&view)))
}

pub(super) async fn update(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(id): PathId<RepositoryId>,
    LenientJson(body): LenientJson<Value>,
) -> Result<StatusCode, ApiError> {
    let (input, retention) = inputs(&body)?;
    state
        .repositories
        .update_repository(id, input, retention)
        .await?;
    Ok(StatusCode::OK)
}

pub(super) async fn remove(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(id): PathId<RepositoryId>,
) -> Result<StatusCode, ApiError> {
    state.repositories.remove_repository(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
