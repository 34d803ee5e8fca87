//! The bearer-token extractor every protected handler takes.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use openvbo_core::store::AccessGrant;

use crate::error::{message_body, ApiError};
use crate::state::AppState;

/// A request made with a valid access token.
#[derive(Debug, Clone)]
pub struct Authenticated(#[allow(dead_code)] pub AccessGrant);

pub struct Unauthorized(Response);

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        self.0
    }
}

fn challenge(message: &str, invalid_token: bool) -> Unauthorized {
    let mut response = message_body(StatusCode::UNAUTHORIZED, message);
    let value = if invalid_token {
        HeaderValue::from_static("Bearer error=\"invalid_token\"")
    } else {
        HeaderValue::from_static("Bearer")
    };
    response.headers_mut().insert(WWW_AUTHENTICATE, value);
    Unauthorized(response)
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Unauthorized;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Err(challenge(
                "authentication required: send Authorization: Bearer <access_token> (from POST /v6/Token)",
                false,
            ));
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty() && t.len() <= 512);
        let Some(token) = token else {
            return Err(challenge(
                "the Authorization header must be: Bearer <access_token>",
                true,
            ));
        };
        match state.auth.authenticate(token).await {
            Ok(grant) => Ok(Authenticated(grant)),
            Err(openvbo_core::CoreError::Unauthenticated(message)) => {
                Err(challenge(&message, true))
            }
            Err(other) => Err(Unauthorized(ApiError::from(other).into_response())),
        }
    }
}
