//! Authentication, on by default: one route layer checks the bearer token of
//! every request before routing, except for the few operations listed in
//! [`PUBLIC`]. Nothing else — not a 501 for an operation not built yet, not a
//! 405, not a 404 for an unknown path — answers an anonymous client.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use openvbo_core::store::AccessGrant;

use crate::error::{message_body, ApiError};
use crate::state::AppState;

/// Every operation an anonymous client may call: (method, canonical path).
/// Adding an entry here is the only way to make an operation public.
pub(crate) const PUBLIC: &[(&str, &str)] = &[
    // Signing in.
    ("POST", "/v6/token"),
    // The OpenAPI document: anonymous, as Veeam's Swagger documents are. It
    // carries the API's version only, not openvbo's.
    ("GET", "/swagger/docs/v6"),
];

/// Whether `method path` (the canonical path, see `paths`) is public.
pub(crate) fn is_public(method: &Method, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    PUBLIC
        .iter()
        .any(|(m, p)| *m == method.as_str() && p.eq_ignore_ascii_case(path))
}

/// Whether `path` is under another API version than v6 (`/v7/…`, `/v8/…`). Those answer
/// 404 to anyone: clients find the version a server speaks by probing `/{version}/
/// ServiceInstance` without a token and take a 401 as "served" (the generated `veeam-365`
/// client does), and that v6 is the one served is no secret.
fn other_api_version(path: &str) -> bool {
    let first = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    let digits = first.strip_prefix(['v', 'V']).unwrap_or_default();
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && digits != "6"
}

/// A request made with a valid access token.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated(#[allow(dead_code)] pub(crate) AccessGrant);

pub(crate) struct Unauthorized(Response);

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

/// Checks the bearer token in `parts`.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Authenticated, Unauthorized> {
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
        Err(openvbo_core::CoreError::Unauthenticated(message)) => Err(challenge(&message, true)),
        Err(other) => Err(Unauthorized(ApiError::from(other).into_response())),
    }
}

/// The route layer: anything not in [`PUBLIC`] needs a valid token; the
/// grant rides along in the request's extensions for the handlers.
pub(crate) async fn require_token(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if is_public(req.method(), req.uri().path()) || other_api_version(req.uri().path()) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    match authenticate(&parts, &state).await {
        Ok(grant) => {
            parts.extensions.insert(grant);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(refusal) => refusal.into_response(),
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Unauthorized;

    /// The grant the layer found; checked again if a route was somehow
    /// mounted outside the layer, so a handler that asks for it is never
    /// reached anonymously.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(grant) = parts.extensions.get::<Authenticated>() {
            return Ok(grant.clone());
        }
        authenticate(parts, state).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_api_versions_are_told_apart_from_v6() {
        for path in [
            "/v7/ServiceInstance",
            "/v8/ServiceInstance",
            "/V7/Organizations",
            "/v10",
        ] {
            assert!(other_api_version(path), "{path}");
        }
        for path in [
            "/v6/ServiceInstance",
            "/v6",
            "/",
            "/v/x",
            "/vx/y",
            "/swagger/docs/v7",
        ] {
            assert!(!other_api_version(path), "{path}");
        }
    }

    #[test]
    fn only_the_listed_operations_are_public() {
        assert!(is_public(&Method::POST, "/v6/token"));
        assert!(is_public(&Method::POST, "/v6/Token/"));
        assert!(is_public(&Method::GET, "/swagger/docs/v6"));
        assert!(!is_public(&Method::GET, "/v6/token"));
        assert!(!is_public(&Method::GET, "/v6/organizations"));
        assert!(!is_public(&Method::GET, "/v6/serviceinstance"));
        assert!(!is_public(&Method::POST, "/v6/token/x"));
        assert!(!is_public(&Method::GET, "/"));
    }
}
