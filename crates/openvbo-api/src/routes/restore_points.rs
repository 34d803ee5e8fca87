//! `/v6/RestorePoints`: one point per job run, filtered by organization,
//! job, repository and `backupTime` ("created after"); plain arrays, with
//! the mailboxes, OneDrives and sites each point holds.

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use openvbo_core::backup::{ResourceKind, RestorePoint, RestorePointFilter, RestorePointId};
use serde_json::{json, Value};

use super::jobs::wire_time;
use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::query::QueryParams;
use crate::state::AppState;

fn parse_point_id(raw: &str) -> Result<RestorePointId, ApiError> {
    raw.parse().map_err(|e: openvbo_core::ids::MalformedId| {
        ApiError::bad_request(format!("restorePointId: {e}"))
    })
}

fn point_body(p: &RestorePoint) -> Value {
    let mut body = json!({
        "id": p.id.to_string(),
        "repositoryId": p.repository_id,
        "backupTime": wire_time(p.backup_time),
        "jobId": p.job_id,
        "organizationId": p.organization_id,
        "isExchange": p.is_exchange,
        "isSharePoint": p.is_sharepoint,
        "isOneDrive": p.is_onedrive,
        "isTeams": p.is_teams,
        "isLongTermCopy": p.is_long_term_copy,
        "isRetrieved": p.is_retrieved,
        "_links": {
            "self": {"href": format!("/v6/restorepoints/{}", p.id)},
            "job": {"href": format!("/v6/jobs/{}", p.job_id)},
            "organization": {"href": format!("/v6/organizations/{}", p.organization_id)},
            "backupRepository": {"href": format!("/v6/backuprepositories/{}", p.repository_id)},
        },
    });
    if let (Value::Object(map), Some(r)) = (&mut body, &p.retrieval_id) {
        map.insert("retrievalId".into(), json!(r));
    }
    body
}

fn parse_when(raw: &str) -> Result<time::OffsetDateTime, ApiError> {
    use time::format_description::well_known::Rfc3339;
    let raw = raw.trim();
    time::OffsetDateTime::parse(raw, &Rfc3339)
        .or_else(|_| {
            time::PrimitiveDateTime::parse(
                &raw.replace('.', "-").replacen('-', ".", 0),
                time::macros::format_description!(
                    "[year]-[month]-[day] [hour]:[minute]:[second][optional [-[subsecond]]]"
                ),
            )
            .map(|t| t.assume_utc())
        })
        .map_err(|_| ApiError::bad_request(format!("backupTime: {raw:?} is not a date and time")))
}

pub(super) async fn list(
    _auth: Authenticated,
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<Value>>, ApiError> {
    let q = QueryParams::parse(query.as_deref())?;
    let filter = RestorePointFilter {
        organization_id: q.uuid("organizationId")?.map(Into::into),
        job_id: q.uuid("jobId")?.map(Into::into),
        repository_id: q.uuid("repositoryId")?.map(Into::into),
        created_after: match q.string("backupTime") {
            Some(raw) => Some(parse_when(&raw)?),
            None => None,
        },
    };
    let long_term = q.bool("isLongTermCopy")?;
    let retrieved = q.bool("isRetrieved")?;
    let points = state.jobs.restore_points(&filter).await?;
    Ok(Json(
        points
            .iter()
            .filter(|p| long_term.is_none_or(|v| p.is_long_term_copy == v))
            .filter(|p| retrieved.is_none_or(|v| p.is_retrieved == v))
            .map(point_body)
            .collect(),
    ))
}

pub(super) async fn get_one(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let p = state.jobs.restore_point(parse_point_id(&id)?).await?;
    Ok(Json(point_body(&p)))
}

async fn resources(
    state: &AppState,
    id: &str,
    kind: ResourceKind,
) -> Result<Vec<openvbo_core::backup::RestorePointResource>, ApiError> {
    let id = parse_point_id(id)?;
    Ok(state
        .jobs
        .restore_point_resources(id)
        .await?
        .into_iter()
        .filter(|r| r.kind == kind)
        .collect())
}

pub(super) async fn mailboxes(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let list = resources(&state, &id, ResourceKind::Mailbox).await?;
    Ok(Json(
        list.iter()
            .map(|r| json!({"id": r.resource_id, "displayName": r.display_name, "email": r.address, "isArchive": false, "_links": {}}))
            .collect(),
    ))
}

pub(super) async fn onedrives(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let list = resources(&state, &id, ResourceKind::OneDrive).await?;
    Ok(Json(
        list.iter().map(|r| json!({"id": r.resource_id, "name": r.display_name, "url": r.address, "_links": {}})).collect(),
    ))
}

pub(super) async fn webs(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let list = resources(&state, &id, ResourceKind::Site).await?;
    Ok(Json(
        list.iter().map(|r| json!({"siteId": r.resource_id, "name": r.display_name, "url": r.address, "_links": {}})).collect(),
    ))
}

/// `GET /v6/RestorePoints/{id}/teams`: Teams are not backed up yet, so no
/// point holds one. The schema documents a plain array of
/// `RESTRestorePointTeam`, so the honest answer is an empty one (for a
/// point that exists; 404 otherwise), which clients iterate without a
/// special case, rather than a 501 that would fail a whole listing.
pub(super) async fn teams(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let list = resources(&state, &id, ResourceKind::Team).await?;
    Ok(Json(
        list.iter()
            .map(|r| json!({"id": r.resource_id, "displayName": r.display_name, "_links": {}}))
            .collect(),
    ))
}
