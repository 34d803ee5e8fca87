//! `/users/{id}/mailboxSettings` and `/me/mailboxSettings`: where Graph
//! v1.0 tells user, shared, room and equipment mailboxes apart
//! (`userPurpose`).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use crate::directory::TenantEntry;
use crate::graph::GraphRequest;
use crate::graph_auth::{granted_tenant, granted_user};
use crate::graph_errors::GraphError;
use crate::graph_query::Selection;
use crate::ids::{b64url, derived_guid};
use crate::paging::odata_json;
use crate::tenant::{User, UserType};

pub(crate) fn user_settings(req: &GraphRequest<'_>, key: &str) -> Result<Response, GraphError> {
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    let user = entry
        .find_user(key)
        .ok_or_else(|| GraphError::directory_object_not_found(key))?;
    settings(req, entry, user)
}

pub(crate) fn my_settings(req: &GraphRequest<'_>) -> Result<Response, GraphError> {
    let directory = req.sim.directory();
    let entry = granted_tenant(&directory, &req.grant)?;
    settings(req, entry, granted_user(entry, &req.grant)?)
}

fn settings(
    req: &GraphRequest<'_>,
    entry: &TenantEntry,
    user: &User,
) -> Result<Response, GraphError> {
    req.query.reject_unsimulated(false)?;
    // Guests' mailboxes live in their home organization, not this one.
    let purpose = user
        .mailbox_type
        .user_purpose()
        .filter(|_| user.user_type == UserType::Member)
        .ok_or_else(|| {
            GraphError::new(
                StatusCode::NOT_FOUND,
                "MailboxNotEnabledForRESTAPI",
                "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
            )
        })?;
    let zone = json!({"dateTime": "2024-03-01T08:00:00.0000000", "timeZone": "UTC"});
    let mut settings = json!({
        "archiveFolder": format!("AAMkA{}", b64url(derived_guid(&["archive", &user.id]).as_bytes())),
        "timeZone": "UTC",
        "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
        "dateFormat": "M/d/yyyy",
        "timeFormat": "h:mm tt",
        "userPurpose": purpose,
        "automaticRepliesSetting": {
            "status": "disabled",
            "externalAudience": "all",
            "internalReplyMessage": "",
            "externalReplyMessage": "",
            "scheduledStartDateTime": zone,
            "scheduledEndDateTime": zone,
        },
        "language": {"locale": "en-US", "displayName": "English (United States)"},
        "workingHours": {
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "startTime": "08:00:00.0000000",
            "endTime": "17:00:00.0000000",
            "timeZone": {"name": "UTC"},
        },
    });
    if let (Value::Object(map), Selection::Fields(fields)) =
        (&mut settings, req.query.loose_select())
    {
        map.retain(|key, _| fields.iter().any(|f| f.eq_ignore_ascii_case(key)));
    }
    if let Value::Object(map) = &mut settings {
        map.insert(
            "@odata.context".into(),
            json!(format!(
                "https://{}/v1.0/$metadata#users('{}')/mailboxSettings",
                entry.tenant.region.graph_host(),
                user.id
            )),
        );
    }
    Ok(odata_json(settings))
}
