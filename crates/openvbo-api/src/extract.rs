//! What handlers take from a request besides the body, parsed once here so
//! that a handler names what it needs instead of parsing it by hand:
//!
//! - [`PathId<T>`]: a typed id from the route's `{…_id}` parameter, refused
//!   with `400 {"message": "<name>: …"}`;
//! - [`QueryParams`] itself: the query string with names matched as ASP.NET
//!   does (case-insensitively);
//! - [`Paging`]: `offset` and `limit` of the `PageOf…` listings.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use openvbo_core::backup::{
    AccountId, EncryptionKeyId, JobId, JobSessionId, ObjectStorageId, ProxyId, RepositoryId,
};
use openvbo_core::ids::MalformedId;
use openvbo_core::OrganizationId;

use crate::error::ApiError;
use crate::query::QueryParams;

/// An id that a route carries in its path.
pub(crate) trait RouteId: std::str::FromStr<Err = MalformedId> {
    /// The route's parameter (`/v6/backuprepositories/{repository_id}`).
    const PARAM: &'static str;
    /// How the message names it (v6's parameter name).
    const NAME: &'static str;
}

macro_rules! route_ids {
    ($($ty:ty => $param:literal, $name:literal;)*) => {
        $(impl RouteId for $ty {
            const PARAM: &'static str = $param;
            const NAME: &'static str = $name;
        })*
    };
}

route_ids! {
    OrganizationId => "organization_id", "organizationId";
    RepositoryId => "repository_id", "repositoryId";
    // The object storage routes share the `{repository_id}` parameter name.
    ObjectStorageId => "repository_id", "repositoryId";
    ProxyId => "proxy_id", "proxyId";
    AccountId => "account_id", "accountId";
    EncryptionKeyId => "key_id", "keyId";
    JobId => "job_id", "jobId";
    JobSessionId => "session_id", "jobSessionId";
}

/// The typed id in the route parameter `T::PARAM`.
pub(crate) struct PathId<T>(pub T);

impl<T: RouteId, S: Send + Sync> FromRequestParts<S> for PathId<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("{}: {}", T::NAME, e.body_text())))?;
        let raw = params
            .iter()
            .find(|(name, _)| *name == T::PARAM)
            .map(|(_, value)| value)
            // A route without the parameter is a programming error; answer
            // as for a missing id rather than panic.
            .ok_or_else(|| ApiError::bad_request(format!("{} is required", T::NAME)))?;
        parse::<T>(raw).map(PathId)
    }
}

/// `raw` as a `T`, refused with the message the path extractor gives.
pub(crate) fn parse<T: RouteId>(raw: &str) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|e: MalformedId| ApiError::bad_request(format!("{}: {e}", T::NAME)))
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        QueryParams::parse(parts.uri.query())
    }
}

/// `offset` (default 0) and `limit` (default 30, at most 10,000) of a v6 page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Paging {
    pub offset: u64,
    pub limit: u64,
}

impl Paging {
    pub(crate) const DEFAULT_LIMIT: u64 = 30;
    pub(crate) const MAX_LIMIT: u64 = 10_000;

    pub(crate) fn from_query(q: &QueryParams) -> Result<Self, ApiError> {
        let offset = q.int("offset")?.unwrap_or(0);
        let limit = q.int("limit")?.unwrap_or(Self::DEFAULT_LIMIT as i64);
        let offset = u64::try_from(offset)
            .map_err(|_| ApiError::bad_request("offset must not be negative"))?;
        let limit = u64::try_from(limit)
            .ok()
            .filter(|l| (1..=Self::MAX_LIMIT).contains(l))
            .ok_or_else(|| {
                ApiError::bad_request(format!("limit must be from 1 to {}", Self::MAX_LIMIT))
            })?;
        Ok(Self { offset, limit })
    }

    /// This page of `all`, and how many there are in all.
    pub(crate) fn slice<T>(self, all: Vec<T>) -> (Vec<T>, u64) {
        let total = all.len() as u64;
        let page = all
            .into_iter()
            .skip(usize::try_from(self.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(self.limit).unwrap_or(usize::MAX))
            .collect();
        (page, total)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::from_query(&QueryParams::parse(parts.uri.query())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(query: &str) -> Result<Paging, String> {
        Paging::from_query(&QueryParams::parse(Some(query)).unwrap()).map_err(|e| match e {
            ApiError::BadRequest(_, m) => m,
            other => format!("{other:?}"),
        })
    }

    #[test]
    fn paging_defaults_bounds_and_messages() {
        assert_eq!(
            paging(""),
            Ok(Paging {
                offset: 0,
                limit: 30
            })
        );
        assert_eq!(
            paging("OFFSET=7&Limit=10000"),
            Ok(Paging {
                offset: 7,
                limit: 10_000
            })
        );
        assert_eq!(
            paging("offset=-1").unwrap_err(),
            "offset must not be negative"
        );
        for bad in ["limit=0", "limit=10001", "limit=-5"] {
            assert_eq!(paging(bad).unwrap_err(), "limit must be from 1 to 10000");
        }
        assert_eq!(
            paging("limit=ten").unwrap_err(),
            "limit must be an integer (got 'ten')"
        );
        let p = paging("offset=2&limit=2").unwrap();
        assert_eq!(p.slice(vec![1, 2, 3, 4, 5]), (vec![3, 4], 5));
        let p = paging("offset=99").unwrap();
        assert_eq!(p.slice(vec![1, 2]), (vec![], 2));
    }

    #[test]
    fn ids_are_refused_with_their_v6_name() {
        let err = parse::<RepositoryId>("nope").err().unwrap();
        let ApiError::BadRequest(status, message) = err else {
            panic!("{err:?}");
        };
        assert_eq!(status, axum::http::StatusCode::BAD_REQUEST);
        assert!(message.starts_with("repositoryId: "), "{message}");
        assert!(parse::<ProxyId>("00000000-0000-4000-8000-000000000001").is_ok());
    }
}
