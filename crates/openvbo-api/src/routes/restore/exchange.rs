//! Browsing a `Vex` session: mailboxes, folders, items (from the catalog of each mailbox's
//! chosen restore point).

use axum::extract::{Path, RawQuery, State};
use axum::Json;
use openvbo_core::backup::{CatalogItem, ResourceKind};
use openvbo_core::restore::browse::{self, FolderFilter};
use openvbo_core::restore::{ChosenResource, RestoreKind, RestoreSession};
use serde_json::{json, Map, Value};

use super::sessions::session_id;
use super::views::{resource_page, session_path, window, wire_time, PageView};
use crate::authn::Authenticated;
use crate::error::ApiError;
use crate::query::QueryParams;
use crate::state::AppState;

pub(crate) fn exchange_session(state: &AppState, raw: &str) -> Result<RestoreSession, ApiError> {
    let session = state.restore.sessions.active(session_id(raw)?)?;
    if session.kind != RestoreKind::Exchange {
        return Err(ApiError::bad_request(format!(
            "restore session {} is of type {}; mailboxes are browsed in Vex sessions",
            session.id,
            session.kind.as_wire()
        )));
    }
    Ok(session)
}

/// `read` served from a complete catalog of the session's `mailbox`: indexed first, and
/// indexed again and read again when the read finds the catalog incomplete (dropped by a
/// clean-up or being indexed meanwhile), a few times; then 503 with Retry-After.
async fn complete_read<T, F, Fut>(
    state: &AppState,
    session: &RestoreSession,
    mailbox: &str,
    read: F,
) -> Result<T, ApiError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, openvbo_core::CoreError>>,
{
    for _ in 0..browse::READ_ATTEMPTS {
        super::exchange_actions::indexed(state, session, mailbox).await?;
        match read().await {
            Err(e) if browse::is_incomplete(&e) => continue,
            done => return Ok(done?),
        }
    }
    Err(browse::incomplete().into())
}

fn mailbox_path(session: &RestoreSession, mailbox_id: &str) -> String {
    format!(
        "{}/organization/mailboxes/{}",
        session_path(session),
        mailbox_id
    )
}

/// `RESTExchangeMailbox`.
fn mailbox_view(session: &RestoreSession, chosen: &ChosenResource) -> Value {
    let r = &chosen.resource;
    let base = mailbox_path(session, &r.resource_id);
    json!({
        "id": r.resource_id,
        "name": r.display_name,
        "email": r.address,
        "isArchive": r.kind == ResourceKind::ArchiveMailbox,
        "isPublic": false,
        "_links": {
            "self": {"href": base},
            "restoreSession": {"href": session_path(session)},
            "folders": {"href": format!("{base}/folders")},
            "items": {"href": format!("{base}/items")},
        },
    })
}

/// The v6 `category` of a mail folder, from its well-known display name (the catalog keeps the
/// name Exchange gave it; renamed well-known folders read as `None`).
fn category(name: &str) -> &'static str {
    match name.to_ascii_lowercase().as_str() {
        "inbox" => "Inbox",
        "outbox" => "Outbox",
        "sent items" => "Sent",
        "deleted items" => "Deleted",
        "drafts" => "Drafts",
        "junk email" => "Junk",
        "conflicts" => "Conflicts",
        "sync issues" => "SyncIssues",
        "local failures" => "LocalFailures",
        "server failures" => "ServerFailures",
        _ => "None",
    }
}

/// `RESTExchangeFolder`: `_links.parent` only where there is a parent (clients build the tree
/// from its absence).
fn folder_view(session: &RestoreSession, mailbox_id: &str, f: &CatalogItem) -> Value {
    let base = mailbox_path(session, mailbox_id);
    let mut links = Map::new();
    links.insert(
        "self".into(),
        json!({"href": format!("{base}/folders/{}", f.item_id)}),
    );
    if let Some(parent) = &f.parent_id {
        links.insert(
            "parent".into(),
            json!({"href": format!("{base}/folders/{parent}")}),
        );
    }
    links.insert(
        "children".into(),
        json!({"href": format!("{base}/folders?parentId={}", f.item_id)}),
    );
    links.insert(
        "items".into(),
        json!({"href": format!("{base}/items?folderId={}", f.item_id)}),
    );
    links.insert("mailbox".into(), json!({"href": base}));
    json!({
        "id": f.item_id,
        "name": f.name,
        "description": f.path,
        "type": "None",
        "category": category(&f.name),
        "_links": links,
    })
}

/// `RESTExchangeItemsComposed` for a message: only the fields the catalog knows, the others
/// left out (as the real server leaves out other kinds' fields).
fn item_view(session: &RestoreSession, mailbox_id: &str, i: &CatalogItem) -> Value {
    let base = mailbox_path(session, mailbox_id);
    let mut item = Map::new();
    item.insert("id".into(), json!(i.item_id));
    item.insert("itemClass".into(), json!("IPM.Note"));
    item.insert("subject".into(), json!(i.name));
    if let Some(sender) = &i.sender {
        item.insert("from".into(), json!(sender));
    }
    // The catalog's `created` is when Exchange received the message; its send time is not
    // in the catalog, so `sent` is left out rather than guessed.
    if let Some(received) = i.created {
        item.insert("received".into(), json!(wire_time(received)));
    }
    let mut links = Map::new();
    links.insert(
        "self".into(),
        json!({"href": format!("{base}/items/{}", i.item_id)}),
    );
    if let Some(parent) = &i.parent_id {
        links.insert(
            "parent".into(),
            json!({"href": format!("{base}/folders/{parent}")}),
        );
    }
    links.insert("mailbox".into(), json!({"href": base}));
    item.insert("_links".into(), Value::Object(links));
    Value::Object(item)
}

pub(super) async fn mailboxes(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(session): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<PageView<Value>>, ApiError> {
    let session = exchange_session(&state, &session)?;
    Ok(Json(resource_page(
        &session,
        query.as_deref(),
        "mailboxes",
        mailbox_view,
    )?))
}

pub(super) async fn mailbox(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, mailbox_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let session = exchange_session(&state, &session)?;
    let chosen = browse::resource(&session, &mailbox_id)?;
    Ok(Json(mailbox_view(&session, chosen)))
}

pub(super) async fn folders(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, mailbox_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<PageView<Value>>, ApiError> {
    let session = exchange_session(&state, &session)?;
    let q = QueryParams::parse(query.as_deref())?;
    let (offset, limit) = window(&q)?;
    let filter = FolderFilter::from_wire(q.get("parentId"));
    let page = complete_read(&state, &session, &mailbox_id, || {
        browse::folders(
            state.restore.store.as_ref(),
            &session,
            &mailbox_id,
            &filter,
            offset,
            limit,
        )
    })
    .await?;
    let mailbox_id = browse::resource(&session, &mailbox_id)?
        .resource
        .resource_id
        .clone();
    let results = page
        .items
        .iter()
        .map(|f| folder_view(&session, &mailbox_id, f))
        .collect();
    let filters: Vec<_> = q
        .string("parentId")
        .map(|p| ("parentId", p))
        .into_iter()
        .collect();
    let base = format!("{}/folders", mailbox_path(&session, &mailbox_id));
    Ok(Json(PageView::new(
        &base, offset, limit, results, page.more, None, &filters,
    )))
}

pub(super) async fn folder(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, mailbox_id, folder_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let session = exchange_session(&state, &session)?;
    let found = complete_read(&state, &session, &mailbox_id, || {
        browse::folder(
            state.restore.store.as_ref(),
            &session,
            &mailbox_id,
            &folder_id,
        )
    })
    .await?;
    Ok(Json(folder_view(&session, &found.resource_id, &found)))
}

pub(super) async fn items(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, mailbox_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Json<PageView<Value>>, ApiError> {
    let session = exchange_session(&state, &session)?;
    let q = QueryParams::parse(query.as_deref())?;
    let (offset, limit) = window(&q)?;
    // v6 filters by folderId; v7 clients send parentId.
    let folder = q.get("folderId").or_else(|| q.get("parentId"));
    let page = complete_read(&state, &session, &mailbox_id, || {
        browse::items(
            state.restore.store.as_ref(),
            &session,
            &mailbox_id,
            folder,
            offset,
            limit,
        )
    })
    .await?;
    let mailbox_id = browse::resource(&session, &mailbox_id)?
        .resource
        .resource_id
        .clone();
    let results = page
        .items
        .iter()
        .map(|i| item_view(&session, &mailbox_id, i))
        .collect();
    let filters: Vec<_> = folder
        .map(|f| ("folderId", f.to_owned()))
        .into_iter()
        .collect();
    let base = format!("{}/items", mailbox_path(&session, &mailbox_id));
    Ok(Json(PageView::new(
        &base, offset, limit, results, page.more, None, &filters,
    )))
}

pub(super) async fn item(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((session, mailbox_id, item_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let session = exchange_session(&state, &session)?;
    let found = complete_read(&state, &session, &mailbox_id, || {
        browse::entry(
            state.restore.store.as_ref(),
            &session,
            &mailbox_id,
            &item_id,
        )
    })
    .await?;
    if found.kind == openvbo_core::backup::CatalogItemKind::Folder {
        return Err(ApiError::NotFound(format!(
            "'{}' is a folder, not an item",
            crate::query::shorten(&item_id)
        )));
    }
    Ok(Json(item_view(&session, &found.resource_id, &found)))
}
