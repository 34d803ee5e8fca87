//! HAL `_links`, the one way this API writes them: `{"rel": {"href": "…"}}`
//! in the order the relations were added, hrefs in the canonical lower-case
//! path form, ids in a path as [`seg`] encodes them, and the `PageOf…`
//! relations (`first`, `self`, `prev`, `next`) built by [`page_links`].

use serde::Serialize;

/// `_links`: relation → `{"href": …}`. A few strings per item rather than a
/// map of maps: a page of 100 items is serialized on every request.
#[derive(Debug, Default, Clone)]
pub(crate) struct Links(Vec<(&'static str, String)>);

impl Links {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds `rel` → `href` (builder form).
    #[must_use]
    pub(crate) fn with(mut self, rel: &'static str, href: impl Into<String>) -> Self {
        self.push(rel, href);
        self
    }

    pub(crate) fn push(&mut self, rel: &'static str, href: impl Into<String>) {
        self.0.push((rel, href.into()));
    }
}

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

/// A path segment as it must appear in a link (site ids hold commas, user
/// ids may be UPNs).
pub(crate) fn seg(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// `base?offset=…&limit=…` and the `filters` given, so that following a link
/// keeps the listing the client asked for.
pub(crate) fn page_href(base: &str, offset: u64, limit: u64, filters: &[(&str, String)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("offset", &offset.to_string());
    query.append_pair("limit", &limit.to_string());
    for (k, v) in filters {
        query.append_pair(k, v);
    }
    format!("{base}?{}", query.finish())
}

/// The links of a `PageOf…`: `first`, `self`, `prev` (past the first page)
/// and `next` (when `more` results follow).
pub(crate) fn page_links(
    base: &str,
    offset: u64,
    limit: u64,
    more: bool,
    filters: &[(&str, String)],
) -> Links {
    let mut links = Links::new()
        .with("first", page_href(base, 0, limit, filters))
        .with("self", page_href(base, offset, limit, filters));
    if offset > 0 {
        links.push(
            "prev",
            page_href(base, offset.saturating_sub(limit), limit, filters),
        );
    }
    if more {
        links.push(
            "next",
            page_href(base, offset.saturating_add(limit), limit, filters),
        );
    }
    links
}

/// `PageOf…` over a listing held whole: `{offset, limit, totalCount, results, _links}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageOf<T> {
    offset: u64,
    limit: u64,
    total_count: u64,
    results: Vec<T>,
    #[serde(rename = "_links")]
    links: Links,
}

impl<T> PageOf<T> {
    /// The page `paging` asks for out of `all`, linked from `base`.
    pub(crate) fn of_all(base: &str, paging: crate::extract::Paging, all: Vec<T>) -> Self {
        let (results, total) = paging.slice(all);
        let more = paging.offset.saturating_add(paging.limit) < total;
        Self {
            offset: paging.offset,
            limit: paging.limit,
            total_count: total,
            results,
            links: page_links(base, paging.offset, paging.limit, more, &[]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_their_order_and_encode_what_they_carry() {
        let links = Links::new()
            .with("self", format!("/v6/sites/{}", seg("contoso.com,1 2,+")))
            .with("organization", "/v6/organizations/x");
        assert_eq!(
            serde_json::to_string(&links).unwrap(),
            r#"{"self":{"href":"/v6/sites/contoso.com%2C1%202%2C%2B"},"organization":{"href":"/v6/organizations/x"}}"#
        );
        assert_eq!(serde_json::to_string(&Links::new()).unwrap(), "{}");
    }

    #[test]
    fn page_links_name_first_self_prev_and_next() {
        let links = page_links("/v6/jobs", 20, 10, true, &[("name", "a b".into())]);
        assert_eq!(
            serde_json::to_value(&links).unwrap(),
            serde_json::json!({
                "first": {"href": "/v6/jobs?offset=0&limit=10&name=a+b"},
                "self": {"href": "/v6/jobs?offset=20&limit=10&name=a+b"},
                "prev": {"href": "/v6/jobs?offset=10&limit=10&name=a+b"},
                "next": {"href": "/v6/jobs?offset=30&limit=10&name=a+b"},
            })
        );
        let first = serde_json::to_value(page_links("/v6/jobs", 0, 30, false, &[])).unwrap();
        assert_eq!(
            first,
            serde_json::json!({
                "first": {"href": "/v6/jobs?offset=0&limit=30"},
                "self": {"href": "/v6/jobs?offset=0&limit=30"},
            })
        );
    }
}
