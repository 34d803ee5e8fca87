//! Saving and restoring from a `Vex` session: `…/items/{id}/save` (MSG, or the original MIME
//! with `Accept: message/rfc822`), `…/items/Save` (a streamed zip of MSG files), and the
//! restores of items, folders and mailboxes to the original mailbox or another one.
//!
//! Credentials: a body naming an account (`userName`/`userPassword`) is signed in to the
//! organization's tenant first and the restore writes as that account (a wrong password is a
//! 400 naming the account, before anything is written); a device code or an application is
//! refused with 501; without any the organization's stored account is used (an openvbo
//! extension: v6 has no "stored account" switch). See `openvbo_core::restore::credentials`.

use std::io;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use openvbo_core::backup::{
    CatalogItem, CatalogItemKind, CatalogQuery, CatalogScope, RepositoryId,
};
use openvbo_core::restore::content::{read_all, RestoreContent};
use openvbo_core::restore::credentials::{CredentialFields, RestoreCredentials};
use openvbo_core::restore::mail::{
    MailRestoreOptions, MailRestorer, MailTarget, Outcome, RestoreStats, MAX_MESSAGE_BYTES,
};
use openvbo_core::restore::writers::MailWriter;
use openvbo_core::restore::{
    browse, ChosenResource, EventStatus, EventType, NewEvent, RestoreSession,
};
use openvbo_core::CoreError;
use serde_json::{json, Map, Value};

use super::exchange::exchange_session;
use super::msg_export::{build_msg, MsgFile};
use super::repo_content::RepoContent;
use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::state::AppState;

/// What a restore is about, resolved against the session.
struct Scope {
    session: RestoreSession,
    chosen: ChosenResource,
    repository: RepositoryId,
}

/// Makes sure the catalog of the session's `mailbox` is there before it is read.
pub(crate) async fn indexed(
    state: &AppState,
    session: &RestoreSession,
    mailbox: &str,
) -> Result<ChosenResource, ApiError> {
    let chosen = browse::resource(session, mailbox)?.clone();
    let content = RepoContent::new(state.repositories.clone());
    state
        .restore
        .indexer
        .ensure(state.restore.store.as_ref(), &content, &chosen)
        .await?;
    Ok(chosen)
}

async fn scope(state: &AppState, session: &str, mailbox: &str) -> Result<Scope, ApiError> {
    let session = exchange_session(state, session)?;
    let chosen = indexed(state, &session, mailbox).await?;
    let point = state
        .restore
        .store
        .get_restore_point(chosen.point_id)
        .await
        .map_err(CoreError::from)?
        .ok_or_else(|| ApiError::NotFound(format!("restore point {} is gone", chosen.point_id)))?;
    Ok(Scope {
        session,
        chosen,
        repository: point.repository_id,
    })
}

/// Catalog lookups go through the session (so unknown ids answer 404 naming them).
async fn message(state: &AppState, scope: &Scope, item_id: &str) -> Result<CatalogItem, ApiError> {
    let found = browse::entry(
        state.restore.store.as_ref(),
        &scope.session,
        &scope.chosen.resource.resource_id,
        item_id,
    )
    .await?;
    if found.kind == CatalogItemKind::Folder {
        return Err(ApiError::NotFound(format!(
            "'{}' is a folder, not an item",
            crate::query::shorten(item_id)
        )));
    }
    Ok(found)
}

/// A file name from a subject: no path separators or characters Windows refuses.
fn file_name(subject: &str, extension: &str) -> String {
    let cleaned: String = subject
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .take(120)
        .collect();
    let cleaned = cleaned.trim().trim_matches('.');
    let base = if cleaned.is_empty() {
        "message"
    } else {
        cleaned
    };
    format!("{base}.{extension}")
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266: ASCII fallback plus UTF-8).
fn disposition(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .filter(|c| *c != '"')
        .collect();
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

fn wants_eml(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("message/rfc822"))
        })
}

async fn mime_of(
    content: &dyn RestoreContent,
    repository: RepositoryId,
    item: &CatalogItem,
) -> Result<Vec<u8>, CoreError> {
    let stream = content.open(repository, &item.content_ref).await?;
    read_all(stream, MAX_MESSAGE_BYTES).await
}

/// The `.msg` of `item` (in a temporary file when it is big: see `msg_export`).
async fn msg_of(
    state: &AppState,
    content: &dyn RestoreContent,
    item: &CatalogItem,
    mime: Vec<u8>,
) -> Result<MsgFile, CoreError> {
    let facts = content.message_facts(&item.content_ref);
    let options = openvbo_msg::MsgOptions {
        read: facts.is_read.unwrap_or(true),
        received_unix: facts.received_unix,
    };
    build_msg(
        mime,
        options,
        state.restore.temp_dir.clone(),
        item.name.clone(),
    )
    .await
}

fn record(state: &AppState, scope: &Scope, event: NewEvent) {
    if let Err(e) = state.restore.sessions.record(scope.session.id, event) {
        tracing::warn!(error = %e, "could not record a restore session event");
    }
}

fn save_event(item: &CatalogItem, status: EventStatus, message: String) -> NewEvent {
    let mut event = NewEvent::new(EventType::Save, status, format!("Save {}", item.name));
    event.message = message;
    event.item_name = Some(item.name.clone());
    event.item_type = Some("Message".into());
    event.item_size_bytes = Some(item.size_bytes);
    event.source = Some(item.path.clone());
    event
}

/// `ExchangeItem_SaveItemAction`: the message as MSG; the original MIME, byte for byte, when
/// the client asks for `message/rfc822` (an openvbo extension).
pub(super) async fn save_item(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, mailbox, item_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let scope = scope(&state, &session, &mailbox).await?;
    let item = message(&state, &scope, &item_id).await?;
    let content = RepoContent::new(state.repositories.clone());
    let eml = wants_eml(&headers);
    let result = async {
        let mime = mime_of(&content, scope.repository, &item).await?;
        if eml {
            Ok::<_, CoreError>(MsgFile::Memory(mime))
        } else {
            msg_of(&state, &content, &item, mime).await
        }
    }
    .await;
    let file = match result {
        Ok(file) => file,
        Err(e) => {
            record(
                &state,
                &scope,
                save_event(
                    &item,
                    EventStatus::Failed,
                    format!("Saving {} failed: {e}", item.name),
                ),
            );
            return Err(e.into());
        }
    };
    let (extension, content_type) = if eml {
        ("eml", "message/rfc822")
    } else {
        ("msg", "application/octet-stream")
    };
    record(
        &state,
        &scope,
        save_event(
            &item,
            EventStatus::Success,
            format!(
                "Item {} was saved successfully (type: Message; source: {})",
                item.name, item.path
            ),
        ),
    );
    let name = file_name(&item.name, extension);
    // Stated, since a body streamed from a temporary file would otherwise go without it.
    let length = HeaderValue::from(file.len());
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition(&name)),
            (header::CONTENT_LENGTH, length),
        ],
        file.into_body(),
    )
        .into_response())
}

/// The body of an action: `{}` when empty (every field of these bodies is optional).
async fn body_value(req: Request, state: &AppState) -> Result<Value, ApiError> {
    let bytes = crate::json::read_body(req, state).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let value = crate::json::parse_value(&bytes)?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    Ok(value)
}

/// A property of a body, its name matched in any case.
fn field<'v>(body: &'v Value, name: &str) -> Option<&'v Value> {
    body.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

/// Booleans as clients send them: `true` or `"true"` (C2 sends strings).
fn flag(body: &Value, name: &str, default: bool) -> Result<bool, ApiError> {
    match field(body, name) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(ApiError::bad_request(format!(
            "{name} must be true or false (got {})",
            crate::query::shorten(&other.to_string())
        ))),
    }
}

fn text<'v>(body: &'v Value, name: &str) -> Result<Option<&'v str>, ApiError> {
    match field(body, name) {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim())),
        Some(_) => Err(ApiError::bad_request(format!("{name} must be a string"))),
    }
}

/// `items: [{id}]`: only `id` is read (clients send whole items or just the id).
fn item_ids(body: &Value) -> Result<Vec<String>, ApiError> {
    let Some(items) = field(body, "items") else {
        return Err(ApiError::bad_request(
            "items is required: the items to act on",
        ));
    };
    let items = items
        .as_array()
        .ok_or_else(|| ApiError::bad_request("items must be an array of {\"id\": …}"))?;
    if items.is_empty() {
        return Err(ApiError::bad_request(
            "items is empty; name at least one item",
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match field(item, "id") {
            Some(Value::String(id)) if !id.trim().is_empty() => Ok(id.trim().to_owned()),
            _ => Err(ApiError::bad_request(format!("items[{i}].id is required"))),
        })
        .collect()
}

/// The account a body names for the restore (`userName`/`userPassword`; bulk bodies:
/// `office365UserName`/`office365UserPassword`), checked before anything is written; `None`
/// restores with the organization's stored account. Other kinds of credential answer 501.
fn credentials(body: &Value) -> Result<Option<RestoreCredentials>, ApiError> {
    let given = |name: &'static str| -> Result<Option<(&'static str, &str)>, ApiError> {
        match field(body, name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some((name, s.as_str()))),
            // Never echo the value: it may be a password.
            Some(_) => Err(ApiError::bad_request(format!("{name} must be a string"))),
        }
    };
    let either =
        |a, b| -> Result<Option<(&'static str, &str)>, ApiError> { Ok(given(a)?.or(given(b)?)) };
    let other = ["userCode", "applicationId", "applicationCertificate"]
        .into_iter()
        .find(|name| field(body, name).is_some_and(|v| v.as_str().is_none_or(|s| !s.is_empty())));
    if let Some(name) = other {
        return Err(ApiError::NotImplemented(format!(
            "restoring with {name} (a device code or an application) is not implemented yet; \
             send userName and userPassword, or neither to restore with the organization's stored account"
        )));
    }
    Ok(RestoreCredentials::from_fields(CredentialFields {
        user_name: either("userName", "office365UserName")?,
        password: either("userPassword", "office365UserPassword")?,
        other: None,
    })?)
}

/// `ExchangeItem_SaveItems`: a zip of MSG files, streamed (one message at a time, a big one
/// from a temporary file).
pub(super) async fn save_items(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, mailbox)): Path<(String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    let body = body_value(req, &state).await?;
    let ids = item_ids(&body)?;
    let scope = scope(&state, &session, &mailbox).await?;
    // Every id is checked before the answer starts: afterwards only a broken body can say so.
    let mut items = Vec::with_capacity(ids.len());
    for id in &ids {
        items.push(message(&state, &scope, id).await?);
    }
    let mut event = NewEvent::new(
        EventType::Save,
        EventStatus::Success,
        format!("Save {} item(s)", items.len()),
    );
    event.message = format!(
        "{} item(s) of {} were saved as a zip of MSG files",
        items.len(),
        scope.chosen.resource.display_name
    );
    event.item_type = Some("Message".into());
    event.item_size_bytes = Some(items.iter().map(|i| i.size_bytes).sum());
    record(&state, &scope, event);
    let repository = scope.repository;
    let zip_state = state.clone();
    let sources = futures::stream::iter(items).then(move |item| {
        let state = zip_state.clone();
        async move {
            let content = RepoContent::new(state.repositories.clone());
            let mime = mime_of(&content, repository, &item)
                .await
                .map_err(io::Error::other)?;
            let msg = msg_of(&state, &content, &item, mime)
                .await
                .map_err(io::Error::other)?;
            let folder = item.path.trim_matches('/');
            let name = file_name(&item.name, "msg");
            Ok(openvbo_zipstream::ZipSource {
                path: if folder.is_empty() {
                    name
                } else {
                    format!("{folder}/{name}")
                },
                modified_unix: item.modified.map(|t| t.unix_timestamp()),
                reader: msg.into_reader(),
            })
        }
    });
    let stream = openvbo_zipstream::zip_stream(sources, openvbo_zipstream::Method::Deflate);
    let name = format!(
        "{}.zip",
        file_name(&scope.chosen.resource.display_name, "msg").trim_end_matches(".msg")
    );
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            ),
            (header::CONTENT_DISPOSITION, disposition(&name)),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Every folder and message of the resource at or below `root_path` ("" for all of it).
async fn subtree(
    state: &AppState,
    chosen: &ChosenResource,
    root_path: Option<&str>,
) -> Result<(Vec<CatalogItem>, Vec<CatalogItem>), ApiError> {
    let mut folders = Vec::new();
    let mut messages = Vec::new();
    let mut after = None;
    let below = |path: &str| match root_path {
        None => true,
        Some(root) => {
            let (p, r) = (path.to_lowercase(), root.to_lowercase());
            p == r || p.starts_with(&format!("{}/", r.trim_end_matches('/')))
        }
    };
    loop {
        let page = state
            .restore
            .store
            .list_catalog_items(&CatalogQuery {
                after,
                ..CatalogQuery::new(CatalogScope::of(&chosen.resource), None, 1000)
            })
            .await
            .map_err(CoreError::from)?;
        for item in page.items {
            if !below(&item.path) {
                continue;
            }
            if item.kind == CatalogItemKind::Folder {
                folders.push(item);
            } else if item.kind == CatalogItemKind::Message {
                messages.push(item);
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    // Parents before children, so folders are re-created top-down.
    folders.sort_by_key(|f| f.path.matches('/').count());
    Ok((folders, messages))
}

/// What a restore does, from its body.
struct Plan {
    target: MailTarget,
    options: MailRestoreOptions,
    /// Whose sign-in writes; `None`: the organization's stored Exchange account.
    credentials: Option<RestoreCredentials>,
}

fn plan(body: &Value, chosen: &ChosenResource, to_other: bool) -> Result<Plan, ApiError> {
    let credentials = credentials(body)?;
    let options = MailRestoreOptions {
        changed_items: flag(body, "changedItems", true)?,
        deleted_items: flag(body, "deletedItems", true)?,
        mark_unread: flag(body, "markRestoredAsUnread", false)?,
    };
    let original = chosen.resource.resource_id.clone();
    let target = if to_other {
        let mailbox = text(body, "mailbox")?.ok_or_else(|| {
            ApiError::bad_request("mailbox is required: the address of the mailbox to restore to")
        })?;
        let same = mailbox.eq_ignore_ascii_case(&chosen.resource.address)
            || mailbox.eq_ignore_ascii_case(&original);
        MailTarget {
            mailbox: if same { original } else { mailbox.to_owned() },
            folder: text(body, "folder")?.map(str::to_owned),
            original: same,
        }
    } else {
        MailTarget {
            mailbox: original,
            folder: None,
            original: true,
        }
    };
    Ok(Plan {
        target,
        options,
        credentials,
    })
}

fn statistics(stats: &RestoreStats, folders: bool) -> Value {
    let mut out = Map::new();
    if folders {
        out.insert("failedFoldersCount".into(), json!(stats.failed_folders));
    }
    out.insert("createdItemsCount".into(), json!(stats.created));
    out.insert("mergedItemsCount".into(), json!(stats.merged));
    out.insert("failedItemsCount".into(), json!(stats.failed));
    out.insert("skippedItemsCount".into(), json!(stats.skipped));
    out.insert("exceptions".into(), json!(stats.exceptions));
    out.insert("warnings".into(), json!(stats.warnings));
    Value::Object(out)
}

async fn run_restore(
    state: &AppState,
    scope: &Scope,
    plan: Plan,
    folders: &[CatalogItem],
    messages: &[CatalogItem],
    what: &str,
    folder_stats: bool,
) -> Result<Json<Value>, ApiError> {
    let writer = state
        .restore
        .access
        .mail(scope.session.organization_id, plan.credentials.as_ref())
        .await?;
    let stats = restore_with(state, scope, &*writer, plan, folders, messages, what).await?;
    Ok(Json(statistics(&stats, folder_stats)))
}

/// Restores `folders` and `messages` of `scope` as `plan` says, through `writer`, and records
/// what happened (each failed message, then the whole) in the session's events.
async fn restore_with(
    state: &AppState,
    scope: &Scope,
    writer: &dyn MailWriter,
    plan: Plan,
    folders: &[CatalogItem],
    messages: &[CatalogItem],
    what: &str,
) -> Result<RestoreStats, CoreError> {
    let started = state.restore.sessions.now();
    let restored_by = plan
        .credentials
        .as_ref()
        .map(|c| format!(" as {}", c.account));
    let content = RepoContent::new(state.repositories.clone());
    let target_name = match &plan.target.folder {
        Some(folder) => format!("{} (folder {folder})", plan.target.mailbox),
        None if plan.target.original => scope.chosen.resource.address.clone(),
        None => plan.target.mailbox.clone(),
    };
    let mut restorer = MailRestorer::new(
        writer,
        &content,
        scope.repository,
        plan.target,
        plan.options,
    )
    .await?;
    for folder in folders {
        restorer.restore_folder(folder).await;
    }
    let facts = |item: &CatalogItem| content.message_facts(&item.content_ref);
    let failed = |item: &CatalogItem, outcome: &Outcome| {
        if let Outcome::Failed(why) = outcome {
            let mut event = NewEvent::new(
                EventType::Restore,
                EventStatus::Failed,
                format!("Restore {}", item.name),
            );
            event.message = format!("Item {} was not restored: {why}", item.name);
            event.item_name = Some(item.name.clone());
            event.item_type = Some("Message".into());
            event.item_size_bytes = Some(item.size_bytes);
            event.source = Some(item.path.clone());
            event.target = Some(target_name.clone());
            record(state, scope, event);
        }
    };
    restorer.restore_items(messages, facts, failed).await;
    let stats = restorer.stats;
    let mut event = NewEvent::new(
        EventType::Restore,
        outcome_status(&stats),
        format!("Restore {what}"),
    );
    event.message = format!(
        "Restore of {what} to {target_name}{}: {} created, {} merged, {} skipped, {} failed",
        restored_by.unwrap_or_default(),
        stats.created,
        stats.merged,
        stats.skipped,
        stats.failed
    );
    event.item_name = Some(what.to_owned());
    event.source = Some(scope.chosen.resource.address.clone());
    event.target = Some(target_name);
    event.started = Some(started);
    record(state, scope, event);
    Ok(stats)
}

/// Success when nothing failed, Failed when nothing else happened, else Warning.
fn outcome_status(stats: &RestoreStats) -> EventStatus {
    let done = stats.created + stats.merged + stats.skipped;
    match (stats.failed + stats.failed_folders, done) {
        (0, _) => EventStatus::Success,
        (_, 0) => EventStatus::Failed,
        _ => EventStatus::Warning,
    }
}

/// `mailboxes: [{id}]` of a bulk body (an address is taken too: clients send whole
/// `RESTExchangeMailbox` objects or just part of one).
fn mailbox_refs(body: &Value) -> Result<Vec<String>, ApiError> {
    let list = field(body, "mailboxes")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("mailboxes must list at least one mailbox (each with its id)")
        })?;
    list.iter()
        .enumerate()
        .map(|(i, m)| {
            ["id", "email"]
                .into_iter()
                .find_map(|k| field(m, k).and_then(Value::as_str))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| ApiError::bad_request(format!("mailboxes[{i}].id is required")))
        })
        .collect()
}

/// What an error says, for a detail of a bulk answer.
fn message_of(e: ApiError) -> String {
    match e {
        ApiError::Core(e) => e.to_string(),
        ApiError::BadRequest(_, m)
        | ApiError::NotFound(m)
        | ApiError::MethodNotAllowed(m)
        | ApiError::NotImplemented(m) => m,
    }
}

fn status_wire(status: EventStatus) -> &'static str {
    match status {
        EventStatus::Success => "Success",
        EventStatus::Warning => "Warning",
        _ => "Failed",
    }
}

/// `ExchangeMailbox_RestoreMailboxesAction`: whole mailboxes of the session, each into
/// itself, with one sign-in. Every mailbox is resolved before anything is written (an unknown
/// one is a 404, or with `skipUnresolved` a skipped detail, Warning); a mailbox that fails is
/// reported in its detail and the others go on. Answers `RESTBulkRestoreStatistics`.
pub(super) async fn restore_mailboxes(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(session): Path<String>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let body = body_value(req, &state).await?;
    let refs = mailbox_refs(&body)?;
    let skip_unresolved = flag(&body, "skipUnresolved", false)?;
    let credentials = credentials(&body)?;
    let options = MailRestoreOptions {
        changed_items: flag(&body, "changedItems", true)?,
        deleted_items: flag(&body, "deletedItems", true)?,
        mark_unread: flag(&body, "markRestoredAsUnread", false)?,
    };
    let live = exchange_session(&state, &session)?;
    let mut resolved = Vec::with_capacity(refs.len());
    let mut unresolved = Vec::new();
    for r in &refs {
        match browse::resource(&live, r) {
            Ok(chosen) => resolved.push(chosen.resource.resource_id.clone()),
            Err(e) if skip_unresolved => unresolved.push((r.clone(), e.to_string())),
            Err(e) => return Err(e.into()),
        }
    }
    let writer = state
        .restore
        .access
        .mail(live.organization_id, credentials.as_ref())
        .await?;
    let mut details = Vec::with_capacity(refs.len());
    let mut worst = EventStatus::Success;
    let mut lower = |status: EventStatus| {
        worst = match (worst, status) {
            (EventStatus::Failed, _) | (_, EventStatus::Failed) => EventStatus::Failed,
            (EventStatus::Warning, _) | (_, EventStatus::Warning) => EventStatus::Warning,
            _ => EventStatus::Success,
        };
    };
    // Skipped as asked, so a warning rather than a failure.
    for (r, why) in unresolved {
        lower(EventStatus::Warning);
        details.push(json!({"mailbox": {"id": r}, "status": "Warning", "error": why}));
    }
    for mailbox in resolved {
        let attempt = async {
            let scope = scope(&state, &session, &mailbox).await?;
            let (folders, messages) = subtree(&state, &scope.chosen, None).await?;
            let plan = Plan {
                target: MailTarget {
                    mailbox: scope.chosen.resource.resource_id.clone(),
                    folder: None,
                    original: true,
                },
                options,
                credentials: None,
            };
            let what = format!("mailbox {}", scope.chosen.resource.display_name);
            let stats = restore_with(&state, &scope, &*writer, plan, &folders, &messages, &what)
                .await
                .map_err(ApiError::from)?;
            Ok::<_, ApiError>((scope, stats))
        };
        match attempt.await {
            Ok((scope, stats)) => {
                let status = outcome_status(&stats);
                lower(status);
                let r = &scope.chosen.resource;
                let mut detail = json!({
                    "mailbox": {"id": r.resource_id, "name": r.display_name, "email": r.address,
                                "isArchive": false, "isPublic": false},
                    "status": status_wire(status),
                    "details": {
                        "createdItemsCount": stats.created,
                        "mergedItemsCount": stats.merged,
                        "failedItemsCount": stats.failed,
                        "skippedItemsCount": stats.skipped,
                        "warnings": stats.warnings,
                    },
                });
                if let (EventStatus::Failed, Some(first)) = (status, stats.exceptions.first()) {
                    if let Some(fields) = detail.as_object_mut() {
                        fields.insert("error".into(), json!(first));
                    }
                }
                details.push(detail);
            }
            Err(e) => {
                lower(EventStatus::Failed);
                details.push(json!({"mailbox": {"id": mailbox}, "status": "Failed",
                                    "error": message_of(e)}));
            }
        }
    }
    let mut out = json!({"status": status_wire(worst), "details": details});
    if worst == EventStatus::Failed {
        if let Some(fields) = out.as_object_mut() {
            fields.insert(
                "error".into(),
                json!("some mailboxes could not be restored; see details"),
            );
        }
    }
    Ok(Json(out))
}

/// `TO_OTHER`: `…/restoreTo` (another mailbox or folder) rather than `…/restore`.
pub(super) async fn restore_items<const TO_OTHER: bool>(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, mailbox)): Path<(String, String)>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let to_other = TO_OTHER;
    let body = body_value(req, &state).await?;
    let ids = item_ids(&body)?;
    let scope = scope(&state, &session, &mailbox).await?;
    let plan = plan(&body, &scope.chosen, to_other)?;
    let mut items = Vec::with_capacity(ids.len());
    for id in &ids {
        items.push(message(&state, &scope, id).await?);
    }
    let what = format!("{} item(s)", items.len());
    run_restore(&state, &scope, plan, &[], &items, &what, false).await
}

pub(super) async fn restore_item<const TO_OTHER: bool>(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, mailbox, item_id)): Path<(String, String, String)>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let to_other = TO_OTHER;
    let body = body_value(req, &state).await?;
    let scope = scope(&state, &session, &mailbox).await?;
    let plan = plan(&body, &scope.chosen, to_other)?;
    let item = message(&state, &scope, &item_id).await?;
    let what = format!("item {}", item.name);
    run_restore(&state, &scope, plan, &[], &[item], &what, false).await
}

pub(super) async fn restore_folder<const TO_OTHER: bool>(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, mailbox, folder_id)): Path<(String, String, String)>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let to_other = TO_OTHER;
    let body = body_value(req, &state).await?;
    let scope = scope(&state, &session, &mailbox).await?;
    let plan = plan(&body, &scope.chosen, to_other)?;
    let folder = browse::folder(
        state.restore.store.as_ref(),
        &scope.session,
        &scope.chosen.resource.resource_id,
        &folder_id,
    )
    .await?;
    let (folders, messages) = subtree(&state, &scope.chosen, Some(&folder.path)).await?;
    let what = format!("folder {}", folder.path);
    run_restore(&state, &scope, plan, &folders, &messages, &what, true).await
}

pub(super) async fn restore_mailbox<const TO_OTHER: bool>(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, mailbox)): Path<(String, String)>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let to_other = TO_OTHER;
    let body = body_value(req, &state).await?;
    let scope = scope(&state, &session, &mailbox).await?;
    let plan = plan(&body, &scope.chosen, to_other)?;
    let (folders, messages) = subtree(&state, &scope.chosen, None).await?;
    let what = format!("mailbox {}", scope.chosen.resource.display_name);
    run_restore(&state, &scope, plan, &folders, &messages, &what, true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_drop_separators_and_keep_text() {
        assert_eq!(file_name("Re: plan/2026?", "msg"), "Re_ plan_2026_.msg");
        assert_eq!(file_name("  ", "eml"), "message.eml");
        assert_eq!(file_name("Résumé", "msg"), "Résumé.msg");
    }

    #[test]
    fn dispositions_carry_an_ascii_and_a_utf8_name() {
        let value = disposition("Résumé \"x\".msg");
        let text = value.to_str().unwrap_or_default();
        assert!(
            text.starts_with("attachment; filename=\"R_sum_ x.msg\""),
            "{text}"
        );
        assert!(
            text.contains("filename*=UTF-8''R%C3%A9sum%C3%A9%20%22x%22.msg"),
            "{text}"
        );
    }

    #[test]
    fn flags_accept_booleans_and_strings() {
        let body = json!({"ChangedItems": "false", "deletedItems": true});
        assert!(!flag(&body, "changedItems", true).unwrap_or(true));
        assert!(flag(&body, "deletedItems", false).unwrap_or(false));
        assert!(flag(&body, "markRestoredAsUnread", true).unwrap_or(false));
        assert!(flag(&json!({"deletedItems": 3}), "deletedItems", true).is_err());
    }
}
