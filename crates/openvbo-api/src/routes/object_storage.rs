//! `/v6/objectstoragerepositories` (S3-compatible only; the request and the response are
//! both `RESTObjectStorageRepositoryComposed`) and the `/v6/S3CompatibleResources`
//! bucket and folder browsing.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use openvbo_core::backup::{AccountId, ObjectStorageId, ObjectStorageRepository};
use openvbo_core::repositories::{BucketQuery, ObjectStorageInput};
use serde::{Deserialize, Serialize};

use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::extract::{parse, PathId};
use crate::hal::{seg, Links};
use crate::json::LenientJson;
use crate::query::QueryParams;
use crate::state::AppState;

/// `RESTAmazonBucketS3Compatible`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BucketBody {
    service_point: String,
    custom_region_id: String,
    name: String,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    links: Option<Links>,
}

/// `RESTObjectStorageRepositoryComposed`, S3-compatible.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ObjectStorageBody {
    id: ObjectStorageId,
    name: String,
    description: String,
    #[serde(rename = "type")]
    kind: &'static str,
    account_id: AccountId,
    amazon_bucket_s3_compatible: BucketBody,
    s3_folder: String,
    size_limit_enabled: bool,
    #[serde(rename = "sizeLimitGB", skip_serializing_if = "Option::is_none")]
    size_limit_gb: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    free_space_bytes: Option<i64>,
    #[serde(rename = "_links")]
    links: Links,
}

impl ObjectStorageBody {
    fn new(s: &ObjectStorageRepository) -> Self {
        Self {
            id: s.id,
            name: s.name.clone(),
            description: s.description.clone(),
            kind: s.storage_type.as_str(),
            account_id: s.account_id,
            amazon_bucket_s3_compatible: BucketBody {
                service_point: s.service_point.clone(),
                custom_region_id: s.custom_region_id.clone().unwrap_or_default(),
                name: s.bucket.clone(),
                links: None,
            },
            s3_folder: s.folder.clone(),
            size_limit_enabled: s.size_limit_enabled,
            size_limit_gb: s.size_limit_gb,
            // The limit is what is free to new jobs; what is used is not measured yet.
            free_space_bytes: s
                .size_limit_gb
                .filter(|_| s.size_limit_enabled)
                .map(|g| g.saturating_mul(1 << 30)),
            links: Links::new()
                .with("self", format!("/v6/objectstoragerepositories/{}", s.id))
                .with("account", format!("/v6/accounts/{}", s.account_id)),
        }
    }
}

pub(super) async fn list(
    _auth: Authenticated,
    State(state): State<AppState>,
    q: QueryParams,
) -> Result<Json<Vec<ObjectStorageBody>>, ApiError> {
    // S3-compatible storage is never an archive tier.
    if q.bool("longTerm")? == Some(true) {
        return Ok(Json(Vec::new()));
    }
    let all = state.repositories.object_storages().await?;
    Ok(Json(all.iter().map(ObjectStorageBody::new).collect()))
}

pub(super) async fn get_one(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(id): PathId<ObjectStorageId>,
) -> Result<Json<ObjectStorageBody>, ApiError> {
    let s = state.repositories.object_storage(id).await?;
    Ok(Json(ObjectStorageBody::new(&s)))
}

pub(super) async fn add(
    _auth: Authenticated,
    State(state): State<AppState>,
    LenientJson(input): LenientJson<ObjectStorageInput>,
) -> Result<Json<ObjectStorageBody>, ApiError> {
    let s = state.repositories.add_object_storage(input).await?;
    Ok(Json(ObjectStorageBody::new(&s)))
}

pub(super) async fn update(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(id): PathId<ObjectStorageId>,
    LenientJson(input): LenientJson<ObjectStorageInput>,
) -> Result<StatusCode, ApiError> {
    state.repositories.update_object_storage(id, input).await?;
    Ok(StatusCode::OK)
}

pub(super) async fn remove(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(id): PathId<ObjectStorageId>,
) -> Result<StatusCode, ApiError> {
    state.repositories.remove_object_storage(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- /v6/S3CompatibleResources ----

/// `accountId`, `ServicePoint` and `CustomRegionId` are required by the schema.
fn bucket_query(q: &QueryParams) -> Result<BucketQuery, ApiError> {
    let account = q
        .get("accountId")
        .ok_or_else(|| ApiError::bad_request("accountId is required"))?;
    let service_point = q
        .string("ServicePoint")
        .ok_or_else(|| ApiError::bad_request("ServicePoint is required"))?;
    Ok(BucketQuery {
        account_id: parse::<AccountId>(account)?,
        service_point,
        custom_region_id: q.string("CustomRegionId"),
    })
}

fn bucket_body(q: &BucketQuery, name: String) -> BucketBody {
    BucketBody {
        service_point: q.service_point.trim_end_matches('/').to_string(),
        custom_region_id: q.custom_region_id.clone().unwrap_or_default(),
        links: Some(Links::new().with(
            "folders",
            format!("/v6/s3compatibleresources/buckets/{}/folders", seg(&name)),
        )),
        name,
    }
}

/// `RESTAmazonFolderToReceiveS3Compatible`.
#[derive(Serialize)]
pub(super) struct FolderBody {
    path: String,
    name: String,
}

fn folder_body(bucket: &str, name: String) -> FolderBody {
    FolderBody {
        path: format!("{bucket}/{name}"),
        name,
    }
}

pub(super) async fn buckets(
    _auth: Authenticated,
    State(state): State<AppState>,
    q: QueryParams,
) -> Result<Json<Vec<BucketBody>>, ApiError> {
    let bq = bucket_query(&q)?;
    let names = state.repositories.buckets(&bq, q.get("Name")).await?;
    Ok(Json(
        names.into_iter().map(|n| bucket_body(&bq, n)).collect(),
    ))
}

pub(super) async fn bucket(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(name): Path<String>,
    q: QueryParams,
) -> Result<Json<BucketBody>, ApiError> {
    let bq = bucket_query(&q)?;
    let name = state.repositories.bucket(&bq, &name).await?;
    Ok(Json(bucket_body(&bq, name)))
}

pub(super) async fn folders(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(bucket): Path<String>,
    q: QueryParams,
) -> Result<Json<Vec<FolderBody>>, ApiError> {
    let bq = bucket_query(&q)?;
    let names = state
        .repositories
        .folders(&bq, &bucket, q.get("Name"))
        .await?;
    Ok(Json(
        names.into_iter().map(|n| folder_body(&bucket, n)).collect(),
    ))
}

pub(super) async fn folder(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((bucket, name)): Path<(String, String)>,
    q: QueryParams,
) -> Result<Json<FolderBody>, ApiError> {
    let bq = bucket_query(&q)?;
    let found = state
        .repositories
        .folders(&bq, &bucket, Some(&name))
        .await?;
    let name = found.into_iter().next().ok_or_else(|| {
        ApiError::NotFound(format!(
            "there is no folder '{}' at the top of bucket '{}'",
            crate::query::shorten(&name),
            crate::query::shorten(&bucket)
        ))
    })?;
    Ok(Json(folder_body(&bucket, name)))
}

/// `RESTAmazonFolderToSend`.
#[derive(Deserialize)]
pub(super) struct FolderInput {
    name: Option<String>,
}

pub(super) async fn add_folder(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(bucket): Path<String>,
    q: QueryParams,
    LenientJson(input): LenientJson<FolderInput>,
) -> Result<Json<FolderBody>, ApiError> {
    let bq = bucket_query(&q)?;
    let name = state
        .repositories
        .add_folder(&bq, &bucket, input.name.as_deref())
        .await?;
    Ok(Json(folder_body(&bucket, name)))
}
