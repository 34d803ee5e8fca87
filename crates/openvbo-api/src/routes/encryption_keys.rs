//! `/v6/EncryptionKeys`: add (200), list (`description`), read, remove. The password is
//! taken, never given back.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use openvbo_core::backup::{EncryptionKey, EncryptionKeyId};
use openvbo_core::repositories::EncryptionKeyInput;
use serde::Serialize;

use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::hal::Links;
use crate::json::LenientJson;
use crate::query::QueryParams;
use crate::state::AppState;

/// `RESTEncryptionKey`.
#[derive(Serialize)]
pub(super) struct KeyBody {
    id: EncryptionKeyId,
    description: String,
    #[serde(rename = "_links")]
    links: Links,
}

impl KeyBody {
    fn new(k: &EncryptionKey) -> Self {
        Self {
            id: k.id,
            description: k.description.clone(),
            links: Links::new().with("self", format!("/v6/encryptionkeys/{}", k.id)),
        }
    }
}

pub(super) async fn list(
    _auth: Authenticated,
    State(state): State<AppState>,
    q: QueryParams,
) -> Result<Json<Vec<KeyBody>>, ApiError> {
    let keys = state
        .repositories
        .encryption_keys(q.get("description"))
        .await?;
    Ok(Json(keys.iter().map(KeyBody::new).collect()))
}

pub(super) async fn get_one(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(id): PathId<EncryptionKeyId>,
) -> Result<Json<KeyBody>, ApiError> {
    let key = state.repositories.encryption_key(id).await?;
    Ok(Json(KeyBody::new(&key)))
}

pub(super) async fn add(
    _auth: Authenticated,
    State(state): State<AppState>,
    LenientJson(input): LenientJson<EncryptionKeyInput>,
) -> Result<Json<KeyBody>, ApiError> {
    let key = state.repositories.add_encryption_key(input).await?;
    Ok(Json(KeyBody::new(&key)))
}

pub(super) async fn remove(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(id): PathId<EncryptionKeyId>,
) -> Result<StatusCode, ApiError> {
    state.repositories.remove_encryption_key(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
