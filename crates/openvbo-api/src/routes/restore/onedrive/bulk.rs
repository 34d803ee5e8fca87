//! `OneDrive_RestoreOneDrivesAction` (`POST …/organization/onedrives/restore`, body
//! `RESTBulkRestoreConfig`): whole OneDrives of a `Veod` session, each back into its user's
//! current OneDrive at the paths it had, as the single-OneDrive restore (`…/{id}/restore`)
//! does — with one sign-in for all of them.
//!
//! Every listed OneDrive is resolved before anything is written: an unknown one is a 404 (or,
//! with `skipUnresolved`, a `Warning` detail). A OneDrive that fails (its backup unreadable,
//! Microsoft unavailable while finding its drive) is reported in its detail and the others go
//! on; a failed document is counted in its OneDrive's detail and recorded as an event.
//!
//! The answer is `RESTSharePointBulkRestoreStatistics` (`status`, `error`, one
//! `RESTExtendedCommonStatistic` per OneDrive). Its `details` carry, beside the schema's
//! `failedRestrictionsCount` and `restoreIssues`, the counts of the single restore's
//! `RESTItemRestoreStatistics` (`totalItemsCount`, `restoredItemsCount`, …), and the answer
//! adds their sums across OneDrives: an openvbo extension, since the v6 shape counts nothing.

use axum::extract::{Path, Request, State};
use axum::Json;
use openvbo_core::restore::browse;
use openvbo_core::restore::credentials::{CredentialFields, RestoreCredentials};
use openvbo_core::restore::drive::{
    drive_of, Destination, DocumentAction, DriveRestore, Outcome, PlannedFile,
};
use openvbo_core::restore::writers::DriveWriter;
use openvbo_core::restore::{ChosenResource, EventStatus, EventType, NewEvent, RestoreSession};
use openvbo_core::CoreError;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::super::drive_area::{area_session, TargetRef};
use super::super::drive_content::file_reader;
use super::super::drive_tree::{DriveFile, DriveSnapshot, Within};
use super::OneDrives;
use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::state::AppState;

/// `RESTBulkRestoreConfig`; `userName`/`userPassword` (the single restores' names) are taken
/// for `officeUsername`/`officeUserpassword`. Unknown fields are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct BulkBody {
    document_action: Option<String>,
    skip_unresolved: Option<bool>,
    one_drives: Option<Vec<TargetRef>>,
    #[serde(alias = "userName")]
    office_username: Option<String>,
    #[serde(alias = "userPassword")]
    office_userpassword: Option<Value>,
    user_code: Option<String>,
    application_id: Option<String>,
    application_certificate: Option<String>,
}

/// The OneDrives the body lists, by id (a client that sends only a name or URL is taken at
/// its word: sessions resolve OneDrives by id, so those are reported unresolved).
fn listed(body: &BulkBody) -> Result<Vec<String>, ApiError> {
    let list = body
        .one_drives
        .as_deref()
        .filter(|l| !l.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("oneDrives must list at least one OneDrive (each with its id)")
        })?;
    let mut ids: Vec<String> = Vec::with_capacity(list.len());
    for (i, r) in list.iter().enumerate() {
        let id = [&r.id, &r.url, &r.name]
            .into_iter()
            .flatten()
            .map(|s| s.trim())
            .find(|s| !s.is_empty())
            .ok_or_else(|| ApiError::bad_request(format!("oneDrives[{i}].id is required")))?;
        // A OneDrive listed twice is restored once.
        if !ids.iter().any(|known| known.eq_ignore_ascii_case(id)) {
            ids.push(id.to_owned());
        }
    }
    Ok(ids)
}

/// The account the body names, signed in before anything is written; `None`: the
/// organization's stored SharePoint account. A device code or an application: 501.
fn credentials(body: &BulkBody) -> Result<Option<RestoreCredentials>, ApiError> {
    let other = [
        ("userCode", &body.user_code),
        ("applicationId", &body.application_id),
        ("applicationCertificate", &body.application_certificate),
    ]
    .into_iter()
    .find(|(_, v)| v.as_deref().is_some_and(|s| !s.trim().is_empty()));
    if let Some((name, _)) = other {
        return Err(ApiError::NotImplemented(format!(
            "restoring OneDrives with {name} (a device code or an application) is not implemented yet; send officeUsername and officeUserpassword, or neither to restore with the organization's stored account"
        )));
    }
    let password = match &body.office_userpassword {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(("officeUserpassword", p.as_str())),
        // Never echo the value: it may be a password.
        Some(_) => return Err(ApiError::bad_request("officeUserpassword must be a string")),
    };
    Ok(RestoreCredentials::from_fields(CredentialFields {
        user_name: body
            .office_username
            .as_deref()
            .map(|u| ("officeUsername", u)),
        password,
        other: None,
    })?)
}

fn status_of(outcome: &Outcome) -> EventStatus {
    match (outcome.failed, outcome.restored + outcome.unchanged) {
        (0, _) => EventStatus::Success,
        (_, 0) => EventStatus::Failed,
        _ => EventStatus::Warning,
    }
}

fn status_wire(status: EventStatus) -> &'static str {
    match status {
        EventStatus::Success => "Success",
        EventStatus::Warning => "Warning",
        _ => "Failed",
    }
}

/// The action's status from its OneDrives': `Failed` only when none was restored, `Success`
/// only when all were.
fn overall(statuses: &[EventStatus]) -> EventStatus {
    if statuses.iter().all(|s| *s == EventStatus::Success) {
        EventStatus::Success
    } else if statuses.iter().all(|s| *s == EventStatus::Failed) {
        EventStatus::Failed
    } else {
        EventStatus::Warning
    }
}

/// What an error says, for a OneDrive's detail.
fn message_of(e: ApiError) -> String {
    match e {
        ApiError::Core(e) => e.to_string(),
        ApiError::BadRequest(_, m)
        | ApiError::NotFound(m)
        | ApiError::MethodNotAllowed(m)
        | ApiError::NotImplemented(m) => m,
    }
}

/// The counts of one OneDrive (or of all), as `RESTItemRestoreStatistics` names them.
fn counts(outcome: &Outcome) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("totalItemsCount".into(), outcome.total.into());
    m.insert("restoredItemsCount".into(), outcome.restored.into());
    m.insert("failedItemsCount".into(), outcome.failed.into());
    m.insert("skippedItemsByErrorCount".into(), 0.into());
    m.insert(
        "skippedItemsByNoChangesCount".into(),
        outcome.unchanged.into(),
    );
    m
}

/// `RESTSharePointCommonRestoreStatistics` of one OneDrive, with its counts.
fn details(outcome: &Outcome) -> Value {
    let issues: Vec<Value> = outcome
        .issues
        .iter()
        .map(|i| json!({"path": i.path, "title": i.title, "type": "Item", "warnings": [], "error": i.error}))
        .collect();
    let mut m = counts(outcome);
    m.insert("failedRestrictionsCount".into(), 0.into());
    m.insert("restoreIssues".into(), issues.into());
    Value::Object(m)
}

fn onedrive_ref(chosen: &ChosenResource) -> Value {
    let r = &chosen.resource;
    json!({"id": r.resource_id, "name": r.display_name, "url": r.address})
}

/// Restores one whole OneDrive into its user's current OneDrive: every folder (empty ones
/// too) and every file at the path it had.
async fn restore_one(
    state: &AppState,
    writer: &dyn DriveWriter,
    chosen: &ChosenResource,
    action: DocumentAction,
) -> Result<Outcome, ApiError> {
    let snapshot = DriveSnapshot::open(state, chosen).await?;
    let folders = snapshot
        .folders_within(Within::All)
        .into_iter()
        .map(|(_, path)| path)
        .collect();
    let (planned, files): (Vec<PlannedFile>, Vec<DriveFile>) = snapshot
        .files_within(Within::All)
        .await?
        .into_iter()
        .map(|(folder, f)| {
            let size = f.content.as_ref().map_or(0, |p| p.size);
            let name = f.name.clone();
            (PlannedFile { folder, name, size }, f)
        })
        .unzip();
    // Re-provisioned OneDrives get new ids: the user's current one is looked up.
    let to = Destination {
        drive: drive_of(writer, &chosen.resource.resource_id).await?,
        folder: Vec::new(),
    };
    let repo = &snapshot.repo;
    let files = &files;
    let restore = DriveRestore { writer, action };
    Ok(restore
        .run(&to, folders, planned, |i| {
            files
                .get(i)
                .map(|f| file_reader(repo, f))
                .ok_or_else(|| CoreError::Internal(format!("no file {i} in the restore plan")))
        })
        .await)
}

/// Records one OneDrive's restore (and each of its failed documents) in the session's events.
fn record(
    state: &AppState,
    session: &RestoreSession,
    chosen: &ChosenResource,
    result: &Result<Outcome, String>,
) -> Result<(), ApiError> {
    let name = &chosen.resource.display_name;
    let what = format!("OneDrive {name}");
    let mut event = match result {
        Ok(outcome) => {
            for issue in &outcome.issues {
                let mut failed = NewEvent::new(
                    EventType::Restore,
                    EventStatus::Failed,
                    format!("Failed to restore {}", issue.title),
                );
                failed.message = format!("Failed to restore {}: {}", issue.path, issue.error);
                failed.item_name = Some(issue.title.clone());
                failed.item_type = Some("Document".into());
                failed.target = Some(name.clone());
                state.restore.sessions.record(session.id, failed)?;
            }
            let mut event = NewEvent::new(
                EventType::Restore,
                status_of(outcome),
                format!("Restored {what}"),
            );
            event.message = format!(
                "Restored {what} to {name}: {} of {} document(s) restored, {} unchanged, {} failed",
                outcome.restored, outcome.total, outcome.unchanged, outcome.failed
            );
            event.item_size_bytes = i64::try_from(outcome.bytes).ok();
            event
        }
        Err(why) => {
            let mut event = NewEvent::new(
                EventType::Restore,
                EventStatus::Failed,
                format!("Failed to restore {what}"),
            );
            event.message = format!("Failed to restore {what}: {why}");
            event
        }
    };
    event.item_name = Some(what);
    event.item_type = Some("OneDrive".into());
    event.target = Some(name.clone());
    state.restore.sessions.record(session.id, event)?;
    Ok(())
}

/// `POST …/organization/onedrives/restore`.
pub(in crate::routes::restore) async fn restore_onedrives(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(session): Path<String>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let bytes = crate::json::read_body(req, &state).await?;
    let body: BulkBody = crate::json::from_value(&crate::json::parse_value(&bytes)?)?;
    let wanted = listed(&body)?;
    let action = DocumentAction::from_wire(body.document_action.as_deref())?;
    let credentials = credentials(&body)?;
    let skip_unresolved = body.skip_unresolved.unwrap_or(false);
    let session = area_session::<OneDrives>(&state, &session)?;

    let mut resolved: Vec<ChosenResource> = Vec::with_capacity(wanted.len());
    let mut out_details = Vec::with_capacity(wanted.len());
    let mut statuses = Vec::with_capacity(wanted.len());
    for id in &wanted {
        match browse::resource(&session, id) {
            Ok(chosen) => resolved.push(chosen.clone()),
            Err(e) if skip_unresolved => {
                // Skipped as asked: a warning rather than a failure.
                statuses.push(EventStatus::Warning);
                out_details.push(
                    json!({"oneDrive": {"id": id}, "status": "Warning", "error": e.to_string()}),
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    let writer = state
        .restore
        .access
        .drive(
            session.organization_id,
            credentials.as_ref(),
            state.restore.drive_units(),
        )
        .await?;

    let mut total = Outcome::default();
    for chosen in &resolved {
        let result = restore_one(&state, &*writer, chosen, action)
            .await
            .map_err(message_of);
        record(&state, &session, chosen, &result)?;
        let detail = match result {
            Ok(outcome) => {
                let status = status_of(&outcome);
                statuses.push(status);
                let mut detail = json!({
                    "oneDrive": onedrive_ref(chosen),
                    "status": status_wire(status),
                    "details": details(&outcome),
                });
                if let (EventStatus::Failed, Some(first), Some(fields)) =
                    (status, outcome.issues.first(), detail.as_object_mut())
                {
                    fields.insert("error".into(), json!(first.error));
                }
                add(&mut total, &outcome);
                detail
            }
            Err(why) => {
                statuses.push(EventStatus::Failed);
                json!({"oneDrive": onedrive_ref(chosen), "status": "Failed", "error": why})
            }
        };
        out_details.push(detail);
    }

    let mut out = counts(&total);
    out.insert("status".into(), status_wire(overall(&statuses)).into());
    out.insert("details".into(), out_details.into());
    if statuses.contains(&EventStatus::Failed) {
        out.insert(
            "error".into(),
            "some OneDrives could not be restored; see details".into(),
        );
    }
    Ok(Json(Value::Object(out)))
}

/// Adds one OneDrive's counts to the sums (its issues stay in its own detail).
fn add(total: &mut Outcome, one: &Outcome) {
    total.total += one.total;
    total.restored += one.restored;
    total.unchanged += one.unchanged;
    total.failed += one.failed;
    total.bytes += one.bytes;
}
