//! The v6 shapes of the restore area.

use openvbo_core::restore::{ChosenResource, RestoreEvent, RestoreSession, SessionState};
use serde::Serialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::error::ApiError;
use crate::query::QueryParams;

pub(crate) fn wire_time(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn session_path(session: &RestoreSession) -> String {
    format!("/v6/restoresessions/{}", session.id)
}

/// `RESTRestoreSession`: `result` always present; `endTime` only once stopped (never null).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SessionView {
    id: String,
    name: String,
    organization: String,
    #[serde(rename = "type")]
    kind: &'static str,
    creation_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<String>,
    state: &'static str,
    result: &'static str,
    initiated_by: String,
    details: String,
    #[serde(rename = "_links")]
    links: Value,
}

impl SessionView {
    pub(super) fn new(s: &RestoreSession) -> Self {
        let base = session_path(s);
        let details = match s.point_in_time() {
            Some(t) => format!("{} resource(s) as of {}", s.resources.len(), wire_time(t)),
            None => "No backup at or before the requested time".to_owned(),
        };
        Self {
            id: s.id.to_string(),
            name: format!("{} {}", s.kind.as_wire(), s.organization_display_name()),
            organization: s.organization_name.clone(),
            kind: s.kind.as_wire(),
            creation_time: wire_time(s.creation_time),
            end_time: s
                .end_time
                .filter(|_| s.state == SessionState::Stopped)
                .map(wire_time),
            state: s.state.as_wire(),
            result: s.result.as_wire(),
            initiated_by: s.initiated_by.clone(),
            details,
            links: json!({
                "self": {"href": base},
                "organization": {"href": format!("{base}/organization")},
                "events": {"href": format!("{base}/events")},
            }),
        }
    }
}

/// `RESTRestoreSessionEvent`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct EventView {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    status: &'static str,
    title: String,
    message: String,
    start_time: String,
    end_time: String,
    duration: String,
    order: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_size_bytes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    #[serde(rename = "_links")]
    links: Value,
}

impl EventView {
    pub(super) fn new(session: &str, e: &RestoreEvent) -> Self {
        Self {
            id: e.id.to_string(),
            kind: e.event_type.as_wire(),
            status: e.status.as_wire(),
            title: e.title.clone(),
            message: e.message.clone(),
            start_time: wire_time(e.start_time),
            end_time: wire_time(e.end_time),
            duration: timespan(e.end_time - e.start_time),
            order: e.order,
            item_name: e.item_name.clone(),
            item_type: e.item_type.clone(),
            item_size_bytes: e.item_size_bytes,
            source: e.source.clone(),
            target: e.target.clone(),
            links: json!({
                "self": {"href": format!("{session}/events/{}", e.id)},
                "restoreSession": {"href": session},
            }),
        }
    }
}

/// A .NET TimeSpan string, `hh:mm:ss.fffffff`.
fn timespan(d: time::Duration) -> String {
    let d = d.max(time::Duration::ZERO);
    let total = d.whole_seconds();
    let ticks = d.subsec_nanoseconds() / 100;
    format!(
        "{:02}:{:02}:{:02}.{:07}",
        total / 3600,
        total % 3600 / 60,
        total % 60,
        ticks
    )
}

/// `offset`/`limit` of a page request: limit 30 by default, at most 10,000.
/// One page of a session's resources (its mailboxes or OneDrives), in the session's order, at
/// `…/organization/{collection}`.
pub(crate) fn resource_page(
    session: &RestoreSession,
    query: Option<&str>,
    collection: &str,
    view: impl Fn(&RestoreSession, &ChosenResource) -> Value,
) -> Result<PageView<Value>, ApiError> {
    let q = QueryParams::parse(query)?;
    let (offset, limit) = window(&q)?;
    let total = session.resources.len() as u64;
    let results: Vec<Value> = session
        .resources
        .iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|r| view(session, r))
        .collect();
    let more = offset + (results.len() as u64) < total;
    let base = format!("{}/organization/{collection}", session_path(session));
    Ok(PageView::new(
        &base,
        offset,
        limit,
        results,
        more,
        Some(total),
        &[],
    ))
}

/// `offset` and `limit`, as every v6 page takes them.
pub(crate) fn window(q: &QueryParams) -> Result<(u64, u64), ApiError> {
    crate::extract::Paging::from_query(q).map(|p| (p.offset, p.limit))
}

/// `PageOf…`: `{offset, limit, results, _links, totalCount?}` with first/prev/self/next links.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PageView<T> {
    offset: u64,
    limit: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_count: Option<u64>,
    results: Vec<T>,
    #[serde(rename = "_links")]
    links: crate::hal::Links,
}

impl<T> PageView<T> {
    /// `more`: whether results follow this page; `filters` repeat in the links.
    pub(super) fn new(
        base: &str,
        offset: u64,
        limit: u64,
        results: Vec<T>,
        more: bool,
        total: Option<u64>,
        filters: &[(&str, String)],
    ) -> Self {
        Self {
            offset,
            limit,
            total_count: total,
            results,
            links: crate::hal::page_links(base, offset, limit, more, filters),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_dotnet_timespans() {
        assert_eq!(
            timespan(time::Duration::milliseconds(44_692)),
            "00:00:44.6920000"
        );
        assert_eq!(timespan(time::Duration::seconds(3_725)), "01:02:05.0000000");
        assert_eq!(timespan(-time::Duration::SECOND), "00:00:00.0000000");
    }
}
