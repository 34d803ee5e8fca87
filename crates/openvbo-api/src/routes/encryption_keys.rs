//! `/v6/EncryptionKeys`: add (200), list (`description`), read, remove. The password is
//! taken, never given back.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use openvbo_core::backup::{EncryptionKey, EncryptionKeyId};
use openvbo_core::repositories::EncryptionKeyInput;
use serde::Serialize;
use serde_json::{json, Value};

use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::json::LenientJson;
use crate::query::QueryParams;
use crate::state::AppState;

/// `RESTEncryptionKey`.
#[derive(Serialize)]
pub struct KeyBody {
    id: EncryptionKeyId,
    description: String,
    #[serde(rename = "_links")]
    links: Value,
}

impl KeyBody {
    fn new(k: &EncryptionKey) -> Self {
        Self {
            id: k.id,
            description: k.description.clone(),
            links: json!({"self": {"href": format!("/v6/encryptionkeys/{}", k.id)}}),
        }
    }
}

fn parse_key_id(raw: &str) -> Result<EncryptionKeyId, ApiError> {
    raw.parse()
        .map_err(|e: openvbo_core::ids::MalformedId| ApiError::bad_request(format!("keyId: {e}")))
}

pub async fn list(
    _auth: Authenticated,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<KeyBody>>, ApiError> {
    let q = QueryParams::parse(query.as_deref())?;
    let keys = state
        .repositories
        .encryption_keys(q.get("description"))
        .await?;
    Ok(Json(keys.iter().map(KeyBody::new).collect()))
}

pub async fn get_one(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<KeyBody>, ApiError> {
    let key = state
        .repositories
        .encryption_key(parse_key_id(&id)?)
        .await?;
    Ok(Json(KeyBody::new(&key)))
}

pub async fn add(
    _auth: Authenticated,
    State(state): State<AppState>,
    LenientJson(input): LenientJson<EncryptionKeyInput>,
) -> Result<Json<KeyBody>, ApiError> {
    let key = state.repositories.add_encryption_key(input).await?;
    Ok(Json(KeyBody::new(&key)))
}

pub async fn remove(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .repositories
        .remove_encryption_key(parse_key_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
