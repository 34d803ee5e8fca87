//! Server-driven paging: `$top` pages, an opaque `$skiptoken`, and an
//! absolute `@odata.nextLink` clients follow verbatim.

use axum::http::header::{CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::graph_errors::GraphError;
use crate::graph_query::Query;

pub(crate) const ODATA_JSON: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

const SKIPTOKEN_PREFIX: &str = "m365sim-page:";

/// Where the request was addressed, so links point back at the same server.
pub(crate) struct RequestInfo {
    pub base: String,
    pub path: String,
}

impl RequestInfo {
    pub(crate) fn new(uri: &Uri, headers: &HeaderMap) -> Self {
        let host = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| uri.authority().map(|a| a.to_string()))
            .unwrap_or_else(|| "localhost".to_owned());
        // Behind a TLS-terminating proxy the links must stay https.
        let scheme = match headers
            .get("x-forwarded-proto")
            .and_then(|h| h.to_str().ok())
        {
            Some(p) if p.eq_ignore_ascii_case("https") => "https",
            _ => "http",
        };
        RequestInfo {
            base: format!("{scheme}://{host}"),
            path: uri.path().to_owned(),
        }
    }
}

/// One page of a collection and where the next one starts.
pub(crate) struct Page {
    pub values: Vec<Value>,
    /// Position of the first item of the next page.
    pub next: Option<usize>,
    pub first_page: bool,
}

/// Builds the page the request asked for from a collection addressed by
/// position `0..len`. `item` yields the object at a position, or `None`
/// where the position holds nothing (filtered out, deleted). The skiptoken
/// carries the position to resume at, so a page only looks at its own
/// items (plus the gaps before the next one) and renders only those.
pub(crate) fn page_of<T>(
    query: &Query,
    len: usize,
    item: impl Fn(usize) -> Option<T>,
    render: impl Fn(&T) -> Value,
) -> Result<Page, GraphError> {
    let top = query.top()?;
    let skiptoken = query.get("$skiptoken");
    let start = match skiptoken {
        None => 0,
        Some(token) => decode_skiptoken(token).ok_or_else(|| {
            GraphError::new(
                StatusCode::BAD_REQUEST,
                "Directory_ExpiredPageToken",
                "The specified page token value has expired and can no longer be included in your request.",
            )
        })?,
    };
    let mut values = Vec::with_capacity(top.min(len.saturating_sub(start)));
    let mut next = None;
    for position in start..len {
        let Some(object) = item(position) else {
            continue;
        };
        if values.len() == top {
            next = Some(position);
            break;
        }
        values.push(render(&object));
    }
    Ok(Page {
        values,
        next,
        first_page: skiptoken.is_none(),
    })
}

fn encode_skiptoken(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{SKIPTOKEN_PREFIX}{offset}"))
}

fn decode_skiptoken(token: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(SKIPTOKEN_PREFIX)?.parse().ok()
}

/// Keeps OData punctuation readable in links, as Graph does, and encodes
/// everything else.
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        let c = char::from(byte);
        if c.is_ascii_alphanumeric() || "-._~$,'():/*@!".contains(c) {
            out.push(c);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn next_link(info: &RequestInfo, query: &Query, offset: usize) -> String {
    let mut parts: Vec<String> = query
        .pairs_without("$skiptoken")
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect();
    parts.push(format!("$skiptoken={}", encode_skiptoken(offset)));
    format!("{}{}?{}", info.base, info.path, parts.join("&"))
}

/// The collection envelope; `count` is only shown on the first page.
pub(crate) fn collection(
    info: &RequestInfo,
    query: &Query,
    context: &str,
    page: Page,
    count: Option<usize>,
) -> Response {
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(context));
    if let Some(count) = count.filter(|_| page.first_page) {
        body.insert("@odata.count".into(), json!(count));
    }
    if let Some(next) = page.next {
        body.insert(
            "@odata.nextLink".into(),
            json!(next_link(info, query, next)),
        );
    }
    body.insert("value".into(), Value::Array(page.values));
    odata_json(Value::Object(body))
}

pub(crate) fn odata_json(body: Value) -> Response {
    (
        StatusCode::OK,
        [(CONTENT_TYPE, ODATA_JSON)],
        body.to_string(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skiptoken_round_trip() {
        assert_eq!(decode_skiptoken(&encode_skiptoken(42)), Some(42));
        assert_eq!(decode_skiptoken("garbage"), None);
    }

    #[test]
    fn pages_skip_gaps_and_point_at_the_next_item() {
        let items = [1, 2, 3, 4, 5, 6, 7];
        let odd = |i: usize| items.get(i).filter(|n| *n % 2 == 1);
        let render = |n: &&i32| json!(n);
        let q = Query::parse(Some("$top=2"));
        let page = page_of(&q, items.len(), odd, render).ok();
        let page = page.map(|p| (p.values, p.next, p.first_page));
        assert_eq!(page, Some((vec![json!(1), json!(3)], Some(4), true)));
        let q = Query::parse(Some(&format!("$top=2&$skiptoken={}", encode_skiptoken(4))));
        let page = page_of(&q, items.len(), odd, render).ok();
        let page = page.map(|p| (p.values, p.next, p.first_page));
        assert_eq!(page, Some((vec![json!(5), json!(7)], None, false)));
    }

    #[test]
    fn link_keeps_other_options() {
        let info = RequestInfo {
            base: "http://127.0.0.1:9".into(),
            path: "/v1.0/users".into(),
        };
        let q = Query::parse(Some("$top=2&$select=id,displayName&$skiptoken=old"));
        let link = next_link(&info, &q, 2);
        assert!(link.starts_with(
            "http://127.0.0.1:9/v1.0/users?$top=2&$select=id,displayName&$skiptoken="
        ));
    }
}
