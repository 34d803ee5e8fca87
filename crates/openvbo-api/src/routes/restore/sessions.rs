//! Explore, and the session's own operations.

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use openvbo_core::backup::JobId;
use openvbo_core::restore::{
    ExploreOptions, RestoreEventId, RestoreKind, RestoreSessionId, SessionPageQuery,
};
use openvbo_core::OrganizationId;
use serde::Deserialize;
use serde_json::{json, Value};

use super::views::{session_path, window, EventView, PageView, SessionView};
use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::query::QueryParams;
use crate::state::AppState;

/// `RESTExploreOptions`, every field optional (keys in any case, through `LenientJson`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ExploreBody {
    date_time: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    show_deleted: Option<bool>,
    show_all_versions: Option<bool>,
}

/// The body is required by the schema, but an empty one means "latest, Exchange".
async fn explore_options(req: Request, state: &AppState) -> Result<ExploreOptions, ApiError> {
    let bytes = crate::json::read_body(req, state).await?;
    let body: ExploreBody = if bytes.iter().all(u8::is_ascii_whitespace) {
        ExploreBody::default()
    } else {
        crate::json::from_value(&crate::json::parse_value(&bytes)?)?
    };
    let options = ExploreOptions::from_wire(
        body.kind.as_deref(),
        body.date_time.as_deref(),
        body.show_deleted,
        body.show_all_versions,
    )?;
    if options.kind == RestoreKind::Teams {
        return Err(ApiError::NotImplemented(
            "Organization_ExploreAction with type Vet (Teams restore) is not implemented yet"
                .into(),
        ));
    }
    Ok(options)
}

pub(crate) fn parse<T: std::str::FromStr<Err = openvbo_core::ids::MalformedId>>(
    name: &str,
    raw: &str,
) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|e: openvbo_core::ids::MalformedId| ApiError::bad_request(format!("{name}: {e}")))
}

pub(crate) fn session_id(raw: &str) -> Result<RestoreSessionId, ApiError> {
    parse("restoreSessionId", raw)
}

pub(super) async fn explore_organization(
    Authenticated(grant): Authenticated,
    State(state): State<AppState>,
    Path(organization_id): Path<String>,
    req: Request,
) -> Result<Json<SessionView>, ApiError> {
    let organization_id: OrganizationId = parse("organizationId", &organization_id)?;
    let options = explore_options(req, &state).await?;
    let organization = state.organizations.get(organization_id).await?;
    let session = state
        .restore
        .sessions
        .explore(
            organization.id,
            &organization.name,
            None,
            options,
            &grant.user_name,
        )
        .await?;
    Ok(Json(SessionView::new(&session)))
}

pub(super) async fn explore_job(
    Authenticated(grant): Authenticated,
    State(state): State<AppState>,
    Path(job_id): Path<String>,
    req: Request,
) -> Result<Json<SessionView>, ApiError> {
    let job_id: JobId = parse("jobId", &job_id)?;
    let options = explore_options(req, &state).await?;
    let job = state
        .restore
        .store
        .get_job(job_id)
        .await
        .map_err(openvbo_core::CoreError::from)?
        .ok_or_else(|| ApiError::NotFound(format!("there is no job {job_id}")))?;
    let organization = state.organizations.get(job.organization_id).await?;
    let session = state
        .restore
        .sessions
        .explore(
            organization.id,
            &organization.name,
            Some(job_id),
            options,
            &grant.user_name,
        )
        .await?;
    Ok(Json(SessionView::new(&session)))
}

/// Lenient times for the filters: the same formats explore accepts.
fn time_filter(q: &QueryParams, name: &str) -> Result<Option<time::OffsetDateTime>, ApiError> {
    q.get(name)
        .map(|raw| {
            openvbo_core::restore::parse_lenient_time(raw).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{name} is not a date and time (got '{}')",
                    crate::query::shorten(raw)
                ))
            })
        })
        .transpose()
}

pub(super) async fn list(
    _auth: Authenticated,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<PageView<SessionView>>, ApiError> {
    let q = QueryParams::parse(query.as_deref())?;
    let (offset, limit) = window(&q)?;
    let query = SessionPageQuery {
        start_from: time_filter(&q, "startTimeFrom")?,
        start_to: time_filter(&q, "startTimeTo")?,
        offset,
        limit,
    };
    let (sessions, total) = state.restore.sessions.list(&query);
    let mut filters = Vec::new();
    for name in ["startTimeFrom", "startTimeTo"] {
        if let Some(v) = q.string(name) {
            filters.push((name, v));
        }
    }
    let more = offset + (sessions.len() as u64) < total;
    let results = sessions.iter().map(SessionView::new).collect();
    Ok(Json(PageView::new(
        "/v6/restoresessions",
        offset,
        limit,
        results,
        more,
        Some(total),
        &filters,
    )))
}

pub(super) async fn get_one(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(session_id): Path<String>,
) -> Result<Json<SessionView>, ApiError> {
    let session = state.restore.sessions.get(self::session_id(&session_id)?)?;
    Ok(Json(SessionView::new(&session)))
}

/// 200 with no body; stopping a stopped session is harmless.
pub(super) async fn stop(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(session_id): Path<String>,
) -> Result<Response, ApiError> {
    state
        .restore
        .sessions
        .stop(self::session_id(&session_id)?)?;
    Ok(StatusCode::OK.into_response())
}

pub(super) async fn events(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(session_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<PageView<EventView>>, ApiError> {
    let id = self::session_id(&session_id)?;
    let q = QueryParams::parse(query.as_deref())?;
    let (offset, limit) = window(&q)?;
    let (events, total) = state.restore.sessions.events(id, offset, limit)?;
    let base = format!("/v6/restoresessions/{id}");
    let more = offset + (events.len() as u64) < total;
    let results = events.iter().map(|e| EventView::new(&base, e)).collect();
    Ok(Json(PageView::new(
        &format!("{base}/events"),
        offset,
        limit,
        results,
        more,
        Some(total),
        &[],
    )))
}

pub(super) async fn event(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session_id, event_id)): Path<(String, String)>,
) -> Result<Json<EventView>, ApiError> {
    let id = self::session_id(&session_id)?;
    let event_id: RestoreEventId = parse("eventId", &event_id)?;
    let event = state.restore.sessions.event(id, event_id)?;
    Ok(Json(EventView::new(
        &format!("/v6/restoresessions/{id}"),
        &event,
    )))
}

/// `BackupOrganization_GetByRestoreSessionId`: the name carries the point in time.
pub(super) async fn organization(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(session_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let session = state
        .restore
        .sessions
        .active(self::session_id(&session_id)?)?;
    let base = session_path(&session);
    let mut links = serde_json::Map::new();
    links.insert(
        "self".into(),
        json!({"href": format!("{base}/organization")}),
    );
    links.insert("restoreSession".into(), json!({"href": base}));
    if session.kind == RestoreKind::Exchange {
        links.insert(
            "mailboxes".into(),
            json!({"href": format!("{base}/organization/mailboxes")}),
        );
    }
    Ok(Json(json!({
        "id": session.organization_id.to_string(),
        "name": session.organization_display_name(),
        "type": "Office365",
        "_links": links,
    })))
}
