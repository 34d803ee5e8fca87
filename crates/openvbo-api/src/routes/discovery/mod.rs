//! `/v6/Organizations/{id}/Users|Groups|Sites|Teams|LicensingInformation`:
//! an organization's objects, live from Microsoft 365, paged with `setId`.
//! One file per resource; what they share (links, pages, filters) is here.

use openvbo_core::discovery::{Location, LocationFilter, Page, PageRequest};
use openvbo_core::OrganizationId;
use serde::Serialize;

use crate::error::ApiError;
use crate::query::{shorten, QueryParams};

mod groups;
mod licensing;
mod onedrives;
mod sites;
mod teams;
mod users;

pub(super) use groups::{group, groups, members};
pub(super) use licensing::licensing;
pub(super) use onedrives::{onedrive, onedrives};
pub(super) use sites::{site, sites};
pub(super) use teams::{team, teams};
pub(super) use users::{user, users};

// Links are written the one way the API writes them (crate::hal); the pages
// below keep discovery's own v6 relations (self/next/previous/organization,
// with the setId).
pub(crate) use crate::hal::seg;
pub(crate) use crate::hal::Links;

pub(super) fn href(links: &mut Links, rel: &'static str, path: String) {
    links.push(rel, path);
}

pub(super) fn org_path(org: OrganizationId) -> String {
    format!("/v6/organizations/{org}")
}

/// `PageOfREST…`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageView<T> {
    offset: u32,
    limit: u32,
    set_id: String,
    results: Vec<T>,
    #[serde(rename = "_links")]
    links: Links,
    total_count: u32,
}

/// Builds a page with self/next/previous links that repeat the filters.
pub(super) fn page_view<I, T>(
    page: Page<I>,
    org: OrganizationId,
    base: String,
    filters: &[(&str, String)],
    view: impl Fn(I) -> T,
) -> PageView<T> {
    // Following a link keeps the set and the filters: setId right after the paging.
    let mut kept = Vec::with_capacity(filters.len() + 1);
    kept.push(("setId", page.set_id.hyphenated().to_string()));
    kept.extend(filters.iter().map(|(k, v)| (*k, v.clone())));
    let link = |offset: u32| crate::hal::page_href(&base, offset.into(), page.limit.into(), &kept);
    let mut links = Links::default();
    href(&mut links, "self", link(page.offset));
    if u64::from(page.offset) + u64::from(page.limit) < u64::from(page.total_count) {
        href(&mut links, "next", link(page.offset + page.limit));
    }
    if page.offset > 0 {
        href(
            &mut links,
            "previous",
            link(page.offset.saturating_sub(page.limit)),
        );
    }
    href(&mut links, "organization", org_path(org));
    PageView {
        offset: page.offset,
        limit: page.limit,
        set_id: page.set_id.hyphenated().to_string(),
        total_count: page.total_count,
        results: page.results.into_iter().map(view).collect(),
        links,
    }
}

pub(super) fn page_request(q: &QueryParams) -> Result<PageRequest, ApiError> {
    Ok(PageRequest::new(
        q.int("offset")?,
        q.int("limit")?,
        q.uuid("setId")?,
    )?)
}

pub(super) fn location_filter(q: &QueryParams) -> Result<LocationFilter, ApiError> {
    match q.get("locationFilter") {
        None => Ok(LocationFilter::Any),
        Some(v) => LocationFilter::parse(v).ok_or_else(|| {
            ApiError::bad_request(format!(
                "locationFilter must be one of {} (got '{}')",
                LocationFilter::NAMES.join(", "),
                shorten(v)
            ))
        }),
    }
}

/// The filters that were given, to carry into page links.
pub(super) fn given(q: &QueryParams, names: &[&'static str]) -> Vec<(&'static str, String)> {
    names
        .iter()
        .filter_map(|n| q.string(n).map(|v| (*n, v)))
        .collect()
}

pub(super) fn location_type(l: Location) -> &'static str {
    match l {
        Location::Cloud => "Cloud",
        Location::Hybrid => "Hybrid",
    }
}
