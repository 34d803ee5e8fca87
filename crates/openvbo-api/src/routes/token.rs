//! `POST /v6/Token`: the password and refresh-token grants.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use openvbo_core::auth::TokenGrant;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use crate::error::ApiError;
use crate::json::{form_to_value, from_value, is_json, parse_value, read_body};
use crate::query::shorten;
use crate::state::AppState;

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<SecretString>,
    refresh_token: Option<SecretString>,
}

/// `OAuthTokenResponse`.
#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    refresh_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    #[serde(rename = "userName")]
    user_name: &'a str,
    #[serde(rename = ".issued")]
    issued: String,
    #[serde(rename = ".expires")]
    expires: String,
}

fn oauth_error(error: &str, message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": error, "error_description": message, "message": message })),
    )
        .into_response()
}

pub(super) async fn issue(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Result<Response, ApiError> {
    let json_body = is_json(req.headers().get(header::CONTENT_TYPE));
    let bytes = read_body(req, &state).await?;
    let value = if json_body {
        parse_value(&bytes)?
    } else {
        // The schema's first content type, and what OAuth clients send.
        form_to_value(&bytes)?
    };
    let request: TokenRequest = from_value(&value)?;

    let grant = match request.grant_type.as_deref().map(str::trim) {
        Some(g) if g.eq_ignore_ascii_case("password") => {
            let (Some(user), Some(password)) = (request.username, request.password) else {
                return Ok(oauth_error(
                    "invalid_request",
                    "grant_type=password requires username and password",
                ));
            };
            state.auth.login(&user, password, peer.ip()).await?
        }
        Some(g) if g.eq_ignore_ascii_case("refresh_token") => {
            let Some(token) = request
                .refresh_token
                .filter(|t| !t.expose_secret().is_empty())
            else {
                return Ok(oauth_error(
                    "invalid_request",
                    "grant_type=refresh_token requires refresh_token",
                ));
            };
            state.auth.refresh(&token).await?
        }
        Some(other) => {
            return Ok(oauth_error(
                "unsupported_grant_type",
                &format!(
                    "grant_type '{}' is not supported; use password or refresh_token",
                    shorten(other)
                ),
            ))
        }
        None => return Ok(oauth_error("invalid_request", "grant_type is required")),
    };
    token_response(&grant)
}

fn token_response(grant: &TokenGrant) -> Result<Response, ApiError> {
    let format = |t: time::OffsetDateTime| {
        t.format(&Rfc3339)
            .map_err(|e| ApiError::Core(openvbo_core::CoreError::Internal(e.to_string())))
    };
    let body = TokenResponse {
        access_token: grant.access_token.expose_secret(),
        refresh_token: grant.refresh_token.expose_secret(),
        token_type: "bearer",
        expires_in: grant.expires_in,
        user_name: &grant.user_name,
        issued: format(grant.issued)?,
        expires: format(grant.expires)?,
    };
    let mut response = Json(body).into_response();
    // Tokens must not sit in caches.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
        .headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}
