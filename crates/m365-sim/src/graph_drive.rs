//! `/users/{id}/drive` and `/me/drive`: a user's OneDrive, or Graph's
//! "User's mysite not found." for a user who has none.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::directory::TenantEntry;
use crate::graph::GraphRequest;
use crate::graph_auth::granted_tenant;
use crate::graph_errors::GraphError;
use crate::graph_json::CREATED;
use crate::graph_query::Selection;
use crate::paging::odata_json;
use crate::sharepoint::drive_id;
use crate::tenant::User;

/// OneDrive's default quota: 1 TiB.
const QUOTA_TOTAL: u64 = 1 << 40;
/// Simulated usage stays below 5 GiB.
const USED_SPREAD: u128 = 5 << 30;

pub(crate) fn user_drive(req: &GraphRequest<'_>, key: &str) -> Result<Response, GraphError> {
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    let index = entry
        .find_user_index(key)
        .ok_or_else(|| GraphError::directory_object_not_found(key))?;
    drive(req, entry, index)
}

pub(crate) fn my_drive(req: &GraphRequest<'_>) -> Result<Response, GraphError> {
    let directory = req.sim.directory();
    drive(req, granted_tenant(&directory, &req.grant)?, req.grant.user)
}

fn drive(
    req: &GraphRequest<'_>,
    entry: &TenantEntry,
    index: usize,
) -> Result<Response, GraphError> {
    req.query.reject_unsimulated(false)?;
    let selection = req.query.loose_select();
    let user = entry.one_drive_owner(index).ok_or_else(|| {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            "User's mysite not found.",
        )
    })?;
    let mut object = wire_drive(entry, user);
    if let Selection::Fields(fields) = &selection {
        object.retain(|key, _| fields.iter().any(|f| f.eq_ignore_ascii_case(key)));
    }
    object.insert(
        "@odata.context".into(),
        json!(format!(
            "https://{}/v1.0/$metadata#drives/$entity",
            entry.tenant.region.graph_host()
        )),
    );
    Ok(odata_json(Value::Object(object)))
}

fn wire_drive(entry: &TenantEntry, user: &User) -> Map<String, Value> {
    // Deterministic per user, so repeated runs report the same usage.
    let used = Uuid::try_parse(&user.id)
        .ok()
        .and_then(|id| u64::try_from(id.as_u128() % USED_SPREAD).ok())
        .unwrap_or(0);
    let identity = json!({
        "email": user.effective_mail(),
        "id": user.id,
        "displayName": user.display_name,
    });
    let object = json!({
        "createdDateTime": CREATED,
        "description": "",
        "id": drive_id(&user.id),
        "lastModifiedDateTime": CREATED,
        "name": "OneDrive",
        "webUrl": format!("{}/Documents", entry.sharepoint.personal_url(user)),
        "driveType": "business",
        "createdBy": {"user": {"displayName": "System Account"}},
        "lastModifiedBy": {"user": identity},
        "owner": {"user": identity},
        "quota": {
            "deleted": 0,
            "remaining": QUOTA_TOTAL - used,
            "state": "normal",
            "total": QUOTA_TOTAL,
            "used": used,
        },
    });
    match object {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
