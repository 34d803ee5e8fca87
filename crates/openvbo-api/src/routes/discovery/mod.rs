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

/// `_links`: relation → `{"href": …}`. A few strings per item rather than
/// a map of maps: a page of 100 users is serialized on every request.
#[derive(Default)]
pub(crate) struct Links(Vec<(&'static str, String)>);

impl Serialize for Links {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        #[derive(Serialize)]
        struct Href<'a> {
            href: &'a str,
        }
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (rel, href) in &self.0 {
            map.serialize_entry(rel, &Href { href })?;
        }
        map.end()
    }
}

pub(super) fn href(links: &mut Links, rel: &'static str, path: String) {
    links.0.push((rel, path));
}

pub(super) fn org_path(org: OrganizationId) -> String {
    format!("/v6/organizations/{org}")
}

/// A path segment as it must appear in a link (site ids hold commas, user
/// ids may be UPNs).
pub(super) fn seg(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
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
    let link = |offset: u32| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("offset", &offset.to_string());
        query.append_pair("limit", &page.limit.to_string());
        query.append_pair("setId", &page.set_id.hyphenated().to_string());
        for (k, v) in filters {
            query.append_pair(k, v);
        }
        format!("{base}?{}", query.finish())
    };
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
