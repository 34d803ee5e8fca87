//! `/v6/Jobs` and `/v6/Organizations/{id}/Jobs`: backup jobs, their
//! selected and excluded items, and the enable/disable/start/stop actions.
//! Lists are plain arrays; PUT, DELETE and the actions answer 204, as v6
//! documents them.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::Json;
use openvbo_core::backup::{Job, JobId, JobItem, JobItemList};
use openvbo_core::jobs::{JobInput, JobService};
use serde_json::{json, Value};

use super::organizations::parse_id as parse_organization_id;
use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::json::{from_value, LenientJson};
use crate::query::QueryParams;
use crate::state::AppState;

pub(crate) fn parse_job_id(raw: &str) -> Result<JobId, ApiError> {
    raw.parse()
        .map_err(|e: openvbo_core::ids::MalformedId| ApiError::bad_request(format!("jobId: {e}")))
}

pub(crate) fn wire_time(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `RESTJob`: absent times are left out, never null.
pub(crate) fn job_body(job: &Job) -> Value {
    let mut body = json!({
        "id": job.id,
        "name": job.name,
        "description": job.description,
        "backupType": job.backup_type.as_str(),
        "repositoryId": job.repository_id,
        "schedulePolicy": JobService::policy_of(job),
        "isEnabled": job.is_enabled,
        "lastStatus": job.last_status.as_str(),
        "_links": {
            "self": {"href": format!("/v6/jobs/{}", job.id)},
            "organization": {"href": format!("/v6/organizations/{}", job.organization_id)},
            "backupRepository": {"href": format!("/v6/backuprepositories/{}", job.repository_id)},
            "jobsessions": {"href": format!("/v6/jobs/{}/jobsessions", job.id)},
            "selectedItems": {"href": format!("/v6/jobs/{}/selecteditems", job.id)},
            "excludedItems": {"href": format!("/v6/jobs/{}/excludeditems", job.id)},
        },
    });
    if let Value::Object(map) = &mut body {
        if let Some(t) = job.last_run {
            map.insert("lastRun".into(), json!(wire_time(t)));
        }
        if let Some(t) = job.next_run {
            map.insert("nextRun".into(), json!(wire_time(t)));
        }
    }
    body
}

fn item_body(job: JobId, list: JobItemList, item: &JobItem) -> Value {
    let mut body: Value = serde_json::from_str(&item.body).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut body {
        map.insert("id".into(), json!(item.id.0));
        map.insert("type".into(), json!(item.item_type));
        let segment = match list {
            JobItemList::Selected => "selecteditems",
            JobItemList::Excluded => "excludeditems",
        };
        map.insert(
            "_links".into(),
            json!({"self": {"href": format!("/v6/jobs/{job}/{segment}/{}", item.id.0)}}),
        );
    }
    body
}

fn jobs(state: &AppState) -> &JobService {
    &state.jobs
}

pub(super) async fn add(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(organization): Path<String>,
    LenientJson(body): LenientJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let organization = parse_organization_id(&organization)?;
    let input: JobInput = from_value(&body)?;
    let job = jobs(&state).create(organization, input).await?;
    Ok(Json(job_body(&job)))
}

pub(super) async fn list_of_organization(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(organization): Path<String>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let organization = parse_organization_id(&organization)?;
    state.organizations.get(organization).await?;
    let list = jobs(&state).list(Some(organization)).await?;
    Ok(Json(list.iter().map(job_body).collect()))
}

pub(super) async fn list(
    _auth: Authenticated,
    State(state): State<AppState>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let list = jobs(&state).list(None).await?;
    Ok(Json(list.iter().map(job_body).collect()))
}

pub(super) async fn get_one(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let job = jobs(&state).get(parse_job_id(&id)?).await?;
    Ok(Json(job_body(&job)))
}

pub(super) async fn update(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    LenientJson(body): LenientJson<Value>,
) -> Result<StatusCode, ApiError> {
    let input: JobInput = from_value(&body)?;
    jobs(&state).update(parse_job_id(&id)?, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn remove(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    jobs(&state).delete(parse_job_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn enable(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    jobs(&state).set_enabled(parse_job_id(&id)?, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn disable(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    jobs(&state).set_enabled(parse_job_id(&id)?, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body (`RESTStartJobOptions {full}`) is optional here; a full run is
/// not forced (the engine decides what is new).
pub(super) async fn start(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    jobs(&state).start(parse_job_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn stop(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    jobs(&state).stop(parse_job_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_items(
    state: &AppState,
    id: &str,
    list: JobItemList,
) -> Result<Json<Vec<Value>>, ApiError> {
    let id = parse_job_id(id)?;
    let items = jobs(state).items(id, list).await?;
    Ok(Json(items.iter().map(|i| item_body(id, list, i)).collect()))
}

async fn add_items(
    state: &AppState,
    id: &str,
    list: JobItemList,
    body: Value,
) -> Result<StatusCode, ApiError> {
    let id = parse_job_id(id)?;
    let bodies = match body {
        Value::Array(a) => a,
        other @ Value::Object(_) => vec![other],
        _ => {
            return Err(ApiError::bad_request(
                "the body must be an array of job items",
            ))
        }
    };
    jobs(state).add_items(id, list, &bodies).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_items(
    state: &AppState,
    id: &str,
    list: JobItemList,
    query: Option<&str>,
) -> Result<StatusCode, ApiError> {
    let id = parse_job_id(id)?;
    let ids: Vec<String> = QueryParams::parse(query)?
        .string("ids")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() {
        return Err(ApiError::bad_request(
            "ids: name the items to remove (ids=a,b)",
        ));
    }
    jobs(state).remove_items(id, list, &ids).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_item(
    state: &AppState,
    id: &str,
    list: JobItemList,
    item: &str,
) -> Result<Json<Value>, ApiError> {
    let id = parse_job_id(id)?;
    let found = jobs(state)
        .item(id, list, &item.to_ascii_lowercase())
        .await?;
    Ok(Json(item_body(id, list, &found)))
}

async fn update_item(
    state: &AppState,
    id: &str,
    list: JobItemList,
    item: &str,
    body: Value,
) -> Result<StatusCode, ApiError> {
    let job = parse_job_id(id)?;
    let current = jobs(state)
        .item(job, list, &item.to_ascii_lowercase())
        .await?;
    let mut merged = body;
    if let Value::Object(map) = &mut merged {
        map.entry("type").or_insert(json!(current.item_type));
    }
    let new = openvbo_core::jobs::job_item("item", &merged)?;
    if new.id != current.id {
        return Err(ApiError::bad_request(
            "an item's object cannot be changed; remove it and add the other",
        ));
    }
    jobs(state)
        .remove_items(job, list, std::slice::from_ref(&current.id.0))
        .await?;
    jobs(state).add_items(job, list, &[merged]).await?;
    Ok(StatusCode::NO_CONTENT)
}

macro_rules! item_routes {
    ($list:ident, $get_list:ident, $add:ident, $remove:ident, $get:ident, $put:ident) => {
        pub(crate) async fn $get_list(
            _auth: Authenticated,
            State(state): State<AppState>,
            Path(id): Path<String>,
        ) -> Result<Json<Vec<Value>>, ApiError> {
            list_items(&state, &id, JobItemList::$list).await
        }

        pub(crate) async fn $add(
            _auth: Authenticated,
            State(state): State<AppState>,
            Path(id): Path<String>,
            LenientJson(body): LenientJson<Value>,
        ) -> Result<StatusCode, ApiError> {
            add_items(&state, &id, JobItemList::$list, body).await
        }

        pub(crate) async fn $remove(
            _auth: Authenticated,
            State(state): State<AppState>,
            Path(id): Path<String>,
            RawQuery(query): RawQuery,
        ) -> Result<StatusCode, ApiError> {
            remove_items(&state, &id, JobItemList::$list, query.as_deref()).await
        }

        pub(crate) async fn $get(
            _auth: Authenticated,
            State(state): State<AppState>,
            Path((id, item)): Path<(String, String)>,
        ) -> Result<Json<Value>, ApiError> {
            get_item(&state, &id, JobItemList::$list, &item).await
        }

        pub(crate) async fn $put(
            _auth: Authenticated,
            State(state): State<AppState>,
            Path((id, item)): Path<(String, String)>,
            LenientJson(body): LenientJson<Value>,
        ) -> Result<StatusCode, ApiError> {
            update_item(&state, &id, JobItemList::$list, &item, body).await
        }
    };
}

item_routes!(
    Selected,
    selected,
    add_selected,
    remove_selected,
    selected_one,
    update_selected
);
item_routes!(
    Excluded,
    excluded,
    add_excluded,
    remove_excluded,
    excluded_one,
    update_excluded
);
