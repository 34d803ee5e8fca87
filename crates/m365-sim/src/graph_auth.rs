//! Bearer-token checks in front of every Graph request.

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;

use crate::directory::{Directory, TenantEntry};
use crate::graph_errors::GraphError;
use crate::simulator::Inner;
use crate::tenant::User;
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

/// The tenant a grant was issued in. Grants name tenants and users by their
/// index in lists that never shrink (a removed user stays, marked), so a miss
/// means a token this directory cannot place: Graph's answer for one.
pub(crate) fn granted_tenant<'d>(
    directory: &'d Directory,
    grant: &AccessGrant,
) -> Result<&'d TenantEntry, GraphError> {
    directory.tenant(grant.tenant).ok_or_else(unplaced_token)
}

/// The user a grant was issued to, in the grant's tenant.
pub(crate) fn granted_user<'d>(
    entry: &'d TenantEntry,
    grant: &AccessGrant,
) -> Result<&'d User, GraphError> {
    entry.user(grant.user).ok_or_else(unplaced_token)
}

fn unplaced_token() -> GraphError {
    GraphError::invalid_token("Access token validation failure.")
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use axum::http::StatusCode;

    use super::*;

    #[test]
    fn a_grant_the_directory_cannot_place_is_an_invalid_token() {
        let directory = Directory::new(vec![crate::demo::demo_tenant()]).unwrap();
        let grant = |tenant, user| AccessGrant {
            tenant,
            user,
            expires_at: Instant::now(),
        };
        let entry = granted_tenant(&directory, &grant(0, 0)).unwrap();
        assert_eq!(
            granted_user(entry, &grant(0, 0)).unwrap().id,
            entry.tenant.users[0].id
        );
        for error in [
            granted_tenant(&directory, &grant(1, 0)).err().unwrap(),
            granted_user(entry, &grant(0, entry.tenant.users.len()))
                .err()
                .unwrap(),
        ] {
            assert_eq!(error.status, StatusCode::UNAUTHORIZED);
            assert_eq!(error.code, "InvalidAuthenticationToken");
            assert_eq!(error.message, "Access token validation failure.");
        }
    }
}
