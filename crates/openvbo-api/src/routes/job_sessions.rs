//! `/v6/JobSessions`, `/v6/Jobs/{id}/JobSessions` and the log items of a
//! session: pages (`PageOf…`), newest session first, log items by `usn`.
//! A running session has no `endTime` key at all (clients parse it
//! whenever it is present).

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use openvbo_core::backup::{
    JobSession, JobSessionId, JobSessionQuery, JobType, LogItem, LogItemId,
};
use openvbo_core::CoreError;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::jobs::{parse_job_id, wire_time};
use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::query::QueryParams;
use crate::state::AppState;

fn parse_session_id(raw: &str) -> Result<JobSessionId, ApiError> {
    raw.parse().map_err(|e: openvbo_core::ids::MalformedId| {
        ApiError::bad_request(format!("jobSessionId: {e}"))
    })
}

pub(crate) fn paging(q: &QueryParams) -> Result<(u64, u64), ApiError> {
    crate::extract::Paging::from_query(q).map(|p| (p.offset, p.limit))
}

/// `PageOf…` with its `first`/`prev`/`self`/`next` links.
pub(crate) fn page(base: &str, offset: u64, limit: u64, total: u64, results: Vec<Value>) -> Value {
    let more = offset.saturating_add(limit) < total;
    let links = crate::hal::page_links(base, offset, limit, more, &[]);
    json!({"offset": offset, "limit": limit, "totalCount": total, "results": results, "_links": links})
}

pub(crate) fn session_body(s: &JobSession) -> Value {
    let st = &s.statistics;
    let mut body = json!({
        "id": s.id,
        "creationTime": wire_time(s.creation_time),
        "retryCount": s.retry_count,
        "progress": s.progress,
        "status": s.status.as_str(),
        "statistics": {
            "processingRateBytesPS": st.processing_rate_bytes_ps,
            "processingRateItemsPS": st.processing_rate_items_ps,
            "readRateBytesPS": st.read_rate_bytes_ps,
            "writeRateBytesPS": st.write_rate_bytes_ps,
            "transferredDataBytes": st.transferred_data_bytes,
            "processedObjects": st.processed_objects,
            "bottleneck": st.bottleneck.as_str(),
        },
        "_links": {
            "self": {"href": format!("/v6/jobsessions/{}", s.id)},
            "log": {"href": format!("/v6/jobsessions/{}/logitems", s.id)},
            "job": {"href": format!("/v6/jobs/{}", s.job_id)},
        },
    });
    if let Value::Object(map) = &mut body {
        if let Some(t) = s.end_time {
            map.insert("endTime".into(), json!(wire_time(t)));
        }
        if let Some(d) = &s.details {
            map.insert("details".into(), json!(d));
        }
    }
    body
}

fn log_body(l: &LogItem) -> Value {
    let mut body = json!({
        "id": l.id,
        "usn": l.usn,
        "title": l.title,
        "creationTime": wire_time(l.creation_time),
        "_links": {
            "self": {"href": format!("/v6/jobsessions/{}/logitems/{}", l.session_id, l.id)},
            "jobsessions": {"href": format!("/v6/jobsessions/{}", l.session_id)},
        },
    });
    if let (Value::Object(map), Some(t)) = (&mut body, l.end_time) {
        map.insert("endTime".into(), json!(wire_time(t)));
    }
    body
}

pub(crate) fn parse_time(name: &str, raw: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(raw.trim(), &Rfc3339)
        .or_else(|_| {
            time::PrimitiveDateTime::parse(
                raw.trim(),
                time::macros::format_description!("[year]-[month]-[day][optional [T]][optional [ ]][hour]:[minute]:[second][optional [.[subsecond]]]"),
            )
            .map(|t| t.assume_utc())
        })
        .map_err(|_| ApiError::bad_request(format!("{name}: {raw:?} is not a date and time")))
}

async fn sessions(
    state: &AppState,
    job: Option<&str>,
    query: Option<&str>,
    base: String,
) -> Result<Json<Value>, ApiError> {
    let q = QueryParams::parse(query)?;
    let (offset, limit) = paging(&q)?;
    let job_id = match job {
        Some(raw) => {
            let id = parse_job_id(raw)?;
            state.jobs.get(id).await?;
            Some(id)
        }
        None => None,
    };
    let job_type = match q.string("jobType") {
        None => None,
        Some(t) => Some(JobType::parse(&t).ok_or_else(|| {
            ApiError::bad_request(format!("jobType {t:?} is not Backup or Copy"))
        })?),
    };
    let end_time_lower_bound = match q.string("endTimeLowerBound") {
        Some(raw) => Some(parse_time("endTimeLowerBound", &raw)?),
        None => None,
    };
    let query = JobSessionQuery {
        job_id,
        job_type,
        end_time_lower_bound,
        offset,
        limit,
    };
    let found = state.jobs.sessions(&query).await?;
    let results = found.items.iter().map(session_body).collect();
    Ok(Json(page(&base, offset, limit, found.total, results)))
}

pub(super) async fn list(
    _auth: Authenticated,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    sessions(&state, None, query.as_deref(), "/v6/jobsessions".into()).await
}

pub(super) async fn list_of_job(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(job): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let base = format!("/v6/jobs/{}/jobsessions", job.trim());
    sessions(&state, Some(&job), query.as_deref(), base).await
}

pub(super) async fn get_one(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_session_id(&id)?;
    let s = state.jobs.session(id).await?;
    Ok(Json(session_body(&s)))
}

pub(super) async fn log_items(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let id = parse_session_id(&id)?;
    let q = QueryParams::parse(query.as_deref())?;
    let (offset, limit) = paging(&q)?;
    state.jobs.session(id).await?;
    let found = state.jobs.log_items(id, offset, limit).await?;
    let results = found.items.iter().map(log_body).collect();
    Ok(Json(page(
        &format!("/v6/jobsessions/{id}/logitems"),
        offset,
        limit,
        found.total,
        results,
    )))
}

pub(super) async fn log_item(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((id, item)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_session_id(&id)?;
    let item: LogItemId = item.parse().map_err(|e: openvbo_core::ids::MalformedId| {
        ApiError::bad_request(format!("logItemId: {e}"))
    })?;
    let found = state
        .jobs
        .log_item(id, item)
        .await?
        .ok_or_else(|| CoreError::NotFound(format!("The session has no log item {item}.")))?;
    Ok(Json(log_body(&found)))
}
