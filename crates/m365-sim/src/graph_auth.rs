//! Bearer-token checks in front of every Graph request.

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;

use crate::graph_errors::GraphError;
use crate::simulator::Inner;
use crate::tokens::{AccessCheck, AccessGrant};

pub(crate) fn authenticate(sim: &Inner, headers: &HeaderMap) -> Result<AccessGrant, GraphError> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ').unwrap_or((v.trim(), ""));
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .unwrap_or_default();
    if token.is_empty() {
        return Err(GraphError::invalid_token("Access token is empty."));
    }
    match sim.tokens().check_access(token) {
        AccessCheck::Valid(grant) => Ok(grant),
        AccessCheck::Expired => Err(GraphError::invalid_token(
            "Access token has expired or is not yet valid.",
        )),
        // Graph parses tokens as JWTs; ours are opaque, so anything we did
        // not issue is either dot-less garbage or someone else's JWT.
        AccessCheck::Unknown if !token.contains('.') => Err(GraphError::invalid_token(
            "IDX14100: JWT is not well formed, there are no dots (.).",
        )),
        AccessCheck::Unknown => Err(GraphError::invalid_token(
            "Access token validation failure. Invalid audience.",
        )),
    }
}
