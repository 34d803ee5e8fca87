//! `/teams` and `/teams/{id}`: the Teams view of Microsoft 365 groups that
//! have a team (`isTeam` in the tenant file).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use crate::directory::TenantEntry;
use crate::graph::GraphRequest;
use crate::graph_auth::granted_tenant;
use crate::graph_directory::respond;
use crate::graph_errors::GraphError;
use crate::graph_json::CREATED;
use crate::graph_query::Selection;
use crate::ids::derived_guid;
use crate::paging::odata_json;
use crate::tenant::Group;

/// `GET /teams` only returns these, whatever the team has.
const LIST_PROPERTIES: [&str; 3] = ["id", "displayName", "description"];

pub(crate) fn teams(req: &GraphRequest<'_>) -> Result<Response, GraphError> {
    req.query.reject_unsimulated(false)?;
    let selection = req.query.loose_select();
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    let groups = &entry.tenant.groups;
    respond(
        req,
        format!(
            "https://{}/v1.0/$metadata#teams",
            entry.tenant.region.graph_host()
        ),
        groups.len(),
        |i| groups.get(i).filter(|g| g.is_team),
        |group| {
            let mut team = wire_team(entry, group);
            team.retain(|key, _| match &selection {
                Selection::Default => LIST_PROPERTIES.contains(&key.as_str()),
                Selection::Fields(fields) => fields.iter().any(|f| f.eq_ignore_ascii_case(key)),
            });
            Value::Object(team)
        },
        || groups.iter().filter(|g| g.is_team).count(),
    )
}

pub(crate) fn team(req: &GraphRequest<'_>, id: &str) -> Result<Response, GraphError> {
    req.query.reject_unsimulated(false)?;
    let selection = req.query.loose_select();
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    let group = entry.find_group(id).filter(|g| g.is_team).ok_or_else(|| {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("No team found with Group Id {id}"),
        )
    })?;
    let mut team = wire_team(entry, group);
    if let Selection::Fields(fields) = &selection {
        team.retain(|key, _| fields.iter().any(|f| f.eq_ignore_ascii_case(key)));
    }
    team.insert(
        "@odata.context".into(),
        json!(format!(
            "https://{}/v1.0/$metadata#teams/$entity",
            entry.tenant.region.graph_host()
        )),
    );
    Ok(odata_json(Value::Object(team)))
}

fn wire_team(entry: &TenantEntry, group: &Group) -> Map<String, Value> {
    let thread = derived_guid(&["team-thread", &group.id]).replace('-', "");
    let visibility = group
        .visibility
        .as_deref()
        .unwrap_or("Public")
        .to_ascii_lowercase();
    let team = json!({
        "id": group.id,
        "createdDateTime": CREATED,
        "displayName": group.display_name,
        "description": group.description,
        "internalId": format!("19:{thread}@thread.tacv2"),
        "classification": null,
        "specialization": "none",
        "visibility": visibility,
        "webUrl": format!(
            "https://teams.microsoft.com/l/team/19%3a{thread}%40thread.tacv2/conversations?groupId={}&tenantId={}",
            group.id, entry.tenant.id
        ),
        "isArchived": false,
        "tenantId": entry.tenant.id,
        "isMembershipLimitedToOwners": false,
    });
    match team {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
