//! `/v6/Accounts`: object storage credentials. Add answers **201** (the one v6 add that
//! does); no response ever carries the secret.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use openvbo_core::backup::{AccountId, ObjectStorageAccount};
use openvbo_core::repositories::AccountInput;
use serde::Serialize;

use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::extract::PathId;
use crate::hal::Links;
use crate::json::LenientJson;
use crate::query::QueryParams;
use crate::state::AppState;

/// `RESTCredential`: there is no password field to fill.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AccountBody {
    account_type: &'static str,
    user_name: String,
    id: AccountId,
    description: String,
    #[serde(rename = "_links")]
    links: Links,
}

impl AccountBody {
    fn new(a: &ObjectStorageAccount) -> Self {
        Self {
            account_type: a.account_type.as_str(),
            user_name: a.user_name.clone(),
            id: a.id,
            description: a.description.clone(),
            links: Links::new().with("self", format!("/v6/accounts/{}", a.id)),
        }
    }
}

pub(super) async fn list(
    _auth: Authenticated,
    State(state): State<AppState>,
    q: QueryParams,
) -> Result<Json<Vec<AccountBody>>, ApiError> {
    let accounts = state
        .repositories
        .accounts(q.get("name"), q.get("accountType"))
        .await?;
    Ok(Json(accounts.iter().map(AccountBody::new).collect()))
}

pub(super) async fn get_one(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(id): PathId<AccountId>,
) -> Result<Json<AccountBody>, ApiError> {
    let account = state.repositories.account(id).await?;
    Ok(Json(AccountBody::new(&account)))
}

pub(super) async fn add(
    _auth: Authenticated,
    State(state): State<AppState>,
    LenientJson(input): LenientJson<AccountInput>,
) -> Result<(StatusCode, Json<AccountBody>), ApiError> {
    let account = state.repositories.add_account(input).await?;
    Ok((StatusCode::CREATED, Json(AccountBody::new(&account))))
}

pub(super) async fn update(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(id): PathId<AccountId>,
    LenientJson(input): LenientJson<AccountInput>,
) -> Result<StatusCode, ApiError> {
    state.repositories.update_account(id, input).await?;
    Ok(StatusCode::OK)
}

pub(super) async fn remove(
    _auth: Authenticated,
    State(state): State<AppState>,
    PathId(id): PathId<AccountId>,
) -> Result<StatusCode, ApiError> {
    state.repositories.remove_account(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
