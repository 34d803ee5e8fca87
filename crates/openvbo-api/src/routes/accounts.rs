//! `/v6/Accounts`: object storage credentials. Add answers **201** (the one v6 add that
//! does); no response ever carries the secret.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use openvbo_core::backup::{AccountId, ObjectStorageAccount};
use openvbo_core::repositories::AccountInput;
use serde::Serialize;
use serde_json::{json, Value};

use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::json::LenientJson;
use crate::query::QueryParams;
use crate::state::AppState;

/// `RESTCredential`: there is no password field to fill.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountBody {
    account_type: &'static str,
    user_name: String,
    id: AccountId,
    description: String,
    #[serde(rename = "_links")]
    links: Value,
}

impl AccountBody {
    fn new(a: &ObjectStorageAccount) -> Self {
        Self {
            account_type: a.account_type.as_str(),
            user_name: a.user_name.clone(),
            id: a.id,
            description: a.description.clone(),
            links: json!({"self": {"href": format!("/v6/accounts/{}", a.id)}}),
        }
    }
}

pub(crate) fn parse_account_id(raw: &str) -> Result<AccountId, ApiError> {
    raw.parse().map_err(|e: openvbo_core::ids::MalformedId| {
        ApiError::bad_request(format!("accountId: {e}"))
    })
}

pub async fn list(
    _auth: Authenticated,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<AccountBody>>, ApiError> {
    let q = QueryParams::parse(query.as_deref())?;
    let accounts = state
        .repositories
        .accounts(q.get("name"), q.get("accountType"))
        .await?;
    Ok(Json(accounts.iter().map(AccountBody::new).collect()))
}

pub async fn get_one(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AccountBody>, ApiError> {
    let account = state.repositories.account(parse_account_id(&id)?).await?;
    Ok(Json(AccountBody::new(&account)))
}

pub async fn add(
    _auth: Authenticated,
    State(state): State<AppState>,
    LenientJson(input): LenientJson<AccountInput>,
) -> Result<(StatusCode, Json<AccountBody>), ApiError> {
    let account = state.repositories.add_account(input).await?;
    Ok((StatusCode::CREATED, Json(AccountBody::new(&account))))
}

pub async fn update(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    LenientJson(input): LenientJson<AccountInput>,
) -> Result<StatusCode, ApiError> {
    state
        .repositories
        .update_account(parse_account_id(&id)?, input)
        .await?;
    Ok(StatusCode::OK)
}

pub async fn remove(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .repositories
        .remove_account(parse_account_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
