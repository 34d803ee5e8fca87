//! Graph's mail endpoints under `/users/{id}` and `/me`: `mailFolders`
//! (tree, `childFolders`, `delta`), `messages` (list, one, `$value`,
//! `attachments`, `delta` per folder) and the writes restore uses (see
//! `mail_writes`). Well-known names (`inbox`, …) work as folder ids, and
//! OData key syntax (`mailFolders('id')`) as in Graph's own links.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::graph_auth::{authenticate, granted_tenant};
use crate::graph_errors::{GraphCtx, GraphError};
use crate::graph_query::Query;
use crate::mail_json::{self, Select};
use crate::mail_store::{FolderIx, MailStores, Mailbox, ROOT};
use crate::paging::{odata_json, RequestInfo};
use crate::simulator::Inner;
use crate::stats::bump;
use crate::synthetic_mail::SyntheticMailbox;
use crate::user::{MailboxType, UserType};

/// Bodies above this are refused (Graph's own request limit is 4 MB of
/// JSON; base64 MIME can be larger, up to 150 MB messages).
const MAX_BODY: usize = 200 * 1024 * 1024;
const DEFAULT_LIST_PAGE: usize = 10;

/// Everything a mail handler needs.
pub(crate) struct MailRequest<'a> {
    pub sim: &'a Inner,
    pub method: Method,
    pub query: Query,
    pub info: RequestInfo,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// `users/{user id}` as links should spell it.
    pub owner: String,
    pub tenant: usize,
    pub user: usize,
}

impl MailRequest<'_> {
    pub(crate) fn link(&self, tail: &str) -> String {
        format!("{}/v1.0/{}/{tail}", self.info.base, self.owner)
    }
}

/// Splits `mailFolders('AAMk…')` into `mailFolders` and the key.
fn expand(segment: &str) -> Vec<String> {
    match segment.split_once("('") {
        Some((name, rest)) if rest.ends_with("')") => {
            vec![name.to_owned(), rest[..rest.len() - 2].to_owned()]
        }
        _ => vec![segment.to_owned()],
    }
}

fn segments(path: &str) -> Vec<String> {
    path.strip_prefix("/v1.0")
        .unwrap_or(path)
        .split('/')
        .filter(|s| !s.is_empty())
        .map(crate::graph::percent_decode)
        .flat_map(|s| expand(&s))
        .collect()
}

fn is_mail_path(segments: &[String]) -> bool {
    let area = |i: usize| segments.get(i).map(|s| s.to_ascii_lowercase());
    let is_area = |a: Option<String>| matches!(a.as_deref(), Some("mailfolders" | "messages"));
    match segments.first().map(|s| s.to_ascii_lowercase()).as_deref() {
        Some("me") => is_area(area(1)),
        Some("users") => is_area(area(2)),
        _ => false,
    }
}

/// Answers mail requests; hands every other request back.
pub(crate) async fn handle(sim: &Arc<Inner>, request: Request) -> Result<Response, Request> {
    let segments = segments(request.uri().path());
    if !is_mail_path(&segments) {
        return Err(request);
    }
    let ctx = GraphCtx::from_headers(request.headers());
    let (parts, body) = request.into_parts();
    let body = match to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(_) => {
            return Ok(GraphError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                "The request body is too large.",
            )
            .into_response(&ctx))
        }
    };
    let result = serve(sim, &parts, body, &segments);
    Ok(match result {
        Ok(mut response) => {
            ctx.stamp(&mut response);
            response
        }
        Err(error) => error.into_response(&ctx),
    })
}

pub(crate) fn item_not_found() -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "ErrorItemNotFound",
        "The specified object was not found in the store.",
    )
}

fn mailbox_not_enabled() -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "MailboxNotEnabledForRESTAPI",
        "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
    )
}

fn serve(
    sim: &Inner,
    parts: &axum::http::request::Parts,
    body: Bytes,
    segments: &[String],
) -> Result<Response, GraphError> {
    let grant = authenticate(sim, &parts.headers)?;
    let (user, rest) = {
        let directory = sim.directory();
        let entry = granted_tenant(&directory, &grant)?;
        let (user, rest) = match segments {
            [me, rest @ ..] if me.eq_ignore_ascii_case("me") => (grant.user, rest),
            [_, key, rest @ ..] => {
                let index = entry
                    .find_user_index(key)
                    .filter(|&i| entry.is_live(i))
                    .ok_or_else(|| GraphError::directory_object_not_found(key))?;
                (index, rest)
            }
            _ => {
                return Err(GraphError::segment_not_found(
                    segments.last().map_or("", String::as_str),
                ))
            }
        };
        (user, rest.to_vec())
    };
    let mut request = MailRequest {
        sim,
        method: parts.method.clone(),
        query: Query::parse(parts.uri.query()),
        info: RequestInfo::new(&parts.uri, &parts.headers),
        headers: parts.headers.clone(),
        body,
        owner: String::new(),
        tenant: grant.tenant,
        user,
    };
    with_mailbox(sim, grant.tenant, user, |mailbox, owner| {
        request.owner = format!("users/{owner}");
        route(&request, mailbox, &rest)
    })
}

/// Runs `f` on the user's mailbox, building it on first use.
pub(crate) fn with_mailbox<T>(
    sim: &Inner,
    tenant: usize,
    user: usize,
    f: impl FnOnce(&mut Mailbox, &str) -> Result<T, GraphError>,
) -> Result<T, GraphError> {
    let directory = sim.directory();
    let entry = directory.tenant(tenant).ok_or_else(item_not_found)?;
    let person = entry.user(user).ok_or_else(item_not_found)?;
    if person.mailbox_type == MailboxType::NoMailbox || person.user_type == UserType::Guest {
        return Err(mailbox_not_enabled());
    }
    let stores: &MailStores = &sim.mail;
    let mut boxes = stores.lock();
    let mailbox = boxes.entry((tenant, user)).or_insert_with(|| {
        let synthetic = (stores.synthetic_messages > 0
            && person.mail_folders.is_empty()
            && crate::synthetic::is_synthetic_domain(&entry.tenant.initial_domain))
        .then(|| {
            SyntheticMailbox::new(
                stores.content_seed,
                &person.id,
                person.effective_mail(),
                stores.synthetic_messages,
            )
        });
        Mailbox::build(person, synthetic)
    });
    f(mailbox, &person.id)
}

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

fn route(
    req: &MailRequest<'_>,
    mailbox: &mut Mailbox,
    rest: &[String],
) -> Result<Response, GraphError> {
    let names: Vec<String> = rest.iter().map(|s| lower(s)).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let m = &req.method;
    let get = *m == Method::GET || *m == Method::HEAD;
    use crate::mail_delta as delta;
    use crate::mail_writes as writes;
    match names.as_slice() {
        ["mailfolders"] if get => list_folders(req, mailbox, ROOT),
        ["mailfolders"] if *m == Method::POST => writes::create_folder(req, mailbox, ROOT),
        ["mailfolders", "delta" | "delta()"] if get => delta::folder_delta(req, mailbox),
        ["mailfolders", _] => {
            let folder = folder(mailbox, segment(rest, 1))?;
            match *m {
                Method::GET | Method::HEAD => Ok(odata_json(mail_json::folder(mailbox, folder))),
                Method::PATCH => writes::update_folder(req, mailbox, folder),
                Method::DELETE => writes::delete_folder(req, mailbox, folder),
                _ => Err(GraphError::method_not_allowed()),
            }
        }
        ["mailfolders", _, "childfolders"] => {
            let folder = folder(mailbox, segment(rest, 1))?;
            match *m {
                Method::GET | Method::HEAD => list_folders(req, mailbox, folder),
                Method::POST => writes::create_folder(req, mailbox, folder),
                _ => Err(GraphError::method_not_allowed()),
            }
        }
        ["mailfolders", _, "messages"] => {
            let folder = folder_or_sync_error(mailbox, segment(rest, 1), false)?;
            match *m {
                Method::GET | Method::HEAD => list_messages(req, mailbox, folder),
                Method::POST => writes::create_message(req, mailbox, folder),
                _ => Err(GraphError::method_not_allowed()),
            }
        }
        ["mailfolders", _, "messages", "delta" | "delta()"] if get => {
            let folder = folder_or_sync_error(mailbox, segment(rest, 1), true)?;
            delta::message_delta(req, mailbox, folder)
        }
        ["mailfolders", _, "messages", _, ..] => {
            folder(mailbox, segment(rest, 1))?;
            message_route(req, mailbox, tail(rest, 3), tail(&names, 4))
        }
        ["messages"] if *m == Method::POST => {
            let drafts = mailbox.find_folder("drafts").unwrap_or(ROOT);
            writes::create_message(req, mailbox, drafts)
        }
        ["messages", _, ..] => message_route(req, mailbox, tail(rest, 1), tail(&names, 2)),
        _ => Err(GraphError::segment_not_found(
            rest.last().map_or("", String::as_str),
        )),
    }
}

fn message_route(
    req: &MailRequest<'_>,
    mailbox: &mut Mailbox,
    rest: &[String],
    names: &[&str],
) -> Result<Response, GraphError> {
    let id = segment(rest, 0);
    let m = &req.method;
    let get = *m == Method::GET || *m == Method::HEAD;
    use crate::mail_writes as writes;
    match names {
        [] => match *m {
            Method::GET | Method::HEAD => get_message(req, mailbox, id),
            Method::PATCH => writes::update_message(req, mailbox, id),
            Method::DELETE => writes::delete_message(req, mailbox, id),
            _ => Err(GraphError::method_not_allowed()),
        },
        ["$value"] if get => mime(req, mailbox, id),
        ["move"] if *m == Method::POST => writes::move_message(req, mailbox, id),
        ["attachments"] if get => attachments(req, mailbox, id, None),
        ["attachments"] if *m == Method::POST => writes::add_attachment(req, mailbox, id),
        ["attachments", "createuploadsession"] if *m == Method::POST => {
            crate::mail_upload::create(req, mailbox, id)
        }
        ["attachments", _] if get => attachments(req, mailbox, id, Some(segment(rest, 2))),
        ["attachments", _, "$value"] if get => raw_attachment(req, mailbox, id, segment(rest, 2)),
        _ => Err(GraphError::segment_not_found(
            rest.last().map_or("", String::as_str),
        )),
    }
}

/// Segment `i` of a path whose route pattern has already matched it.
fn segment(rest: &[String], i: usize) -> &str {
    rest.get(i).map_or("", String::as_str)
}

/// The segments after the first `i`.
fn tail<T>(rest: &[T], i: usize) -> &[T] {
    rest.get(i..).unwrap_or_default()
}

pub(crate) fn folder(mailbox: &Mailbox, key: &str) -> Result<FolderIx, GraphError> {
    mailbox.find_folder(key).ok_or_else(item_not_found)
}

/// A folder deleted since a sync started answers `ErrorSyncFolderNotFound`.
fn folder_or_sync_error(mailbox: &Mailbox, key: &str, sync: bool) -> Result<FolderIx, GraphError> {
    match mailbox.find_folder(key) {
        Some(ix) => Ok(ix),
        None if sync && mailbox.find_deleted_folder(key) => Err(GraphError::new(
            StatusCode::NOT_FOUND,
            "ErrorSyncFolderNotFound",
            "The folder was deleted; its synchronization state is gone.",
        )),
        None => Err(item_not_found()),
    }
}

fn include_hidden(query: &Query) -> bool {
    query
        .get("includeHiddenFolders")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn list_folders(
    req: &MailRequest<'_>,
    mailbox: &Mailbox,
    parent: FolderIx,
) -> Result<Response, GraphError> {
    let hidden = include_hidden(&req.query);
    let all: Vec<FolderIx> = mailbox
        .children(parent)
        .filter(|&c| hidden || mailbox.folders.get(c).is_some_and(|f| !f.hidden))
        .collect();
    let context = format!("{}/v1.0/$metadata#{}/mailFolders", req.info.base, req.owner);
    let (skip, top) = skip_top(req, 100)?;
    let values = all
        .iter()
        .skip(skip)
        .take(top)
        .map(|&c| mail_json::folder(mailbox, c))
        .collect();
    Ok(skip_page(req, all.len(), skip, top, values, &context))
}

fn skip_top(req: &MailRequest<'_>, default_top: usize) -> Result<(usize, usize), GraphError> {
    let number = |name: &str, default: usize| -> Result<usize, GraphError> {
        match req.query.get(name) {
            None => Ok(default),
            Some(v) => v.trim().parse::<usize>().map_err(|_| {
                GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "ErrorInvalidUrlQuery",
                    format!("The value '{v}' of the query option '{name}' is invalid."),
                )
            }),
        }
    };
    Ok((
        number("$skip", 0)?,
        number("$top", default_top)?.clamp(1, 1000),
    ))
}

/// `$top`/`$skip` paging, as Outlook pages mail collections: the nextLink
/// repeats the query with the next `$skip`.
fn skip_page(
    req: &MailRequest<'_>,
    total: usize,
    skip: usize,
    top: usize,
    values: Vec<Value>,
    context: &str,
) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("@odata.context".into(), json!(context));
    if skip + top < total {
        let mut pairs: Vec<String> = req
            .query
            .pairs_without("$skip")
            .map(|(k, v)| {
                let v: String = url::form_urlencoded::byte_serialize(v.as_bytes()).collect();
                format!("{k}={v}")
            })
            .collect();
        pairs.push(format!("$skip={}", skip + top));
        body.insert(
            "@odata.nextLink".into(),
            json!(format!(
                "{}{}?{}",
                req.info.base,
                req.info.path,
                pairs.join("&")
            )),
        );
    }
    body.insert("value".into(), Value::Array(values));
    odata_json(Value::Object(body))
}

pub(crate) fn parse_select(req: &MailRequest<'_>) -> Result<Select, GraphError> {
    mail_json::select(req.query.get("$select")).map_err(|name| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "RequestBroker--ParseUri",
            format!("Could not find a property named '{name}' on type 'microsoft.graph.message'."),
        )
    })
}

/// Renders a message, generating its content only when the selection
/// needs it, and counts a body read as a download.
pub(crate) fn render_message(
    req: &MailRequest<'_>,
    mailbox: &Mailbox,
    message: &crate::mail_store::Message,
    select: &Select,
) -> Value {
    let content = mail_json::needs_content(select).then(|| mailbox.content(message));
    if mail_json::wants(select, "body") {
        bump(&req.sim.counters.content.message_downloads);
    }
    mail_json::message(mailbox, message, content.as_deref(), select)
}

fn list_messages(
    req: &MailRequest<'_>,
    mailbox: &Mailbox,
    folder: FolderIx,
) -> Result<Response, GraphError> {
    let select = parse_select(req)?;
    let messages = mailbox.folder_messages(folder);
    let (skip, top) = skip_top(req, DEFAULT_LIST_PAGE)?;
    // Only the page is rendered (and its content generated).
    let values = messages
        .iter()
        .skip(skip)
        .take(top)
        .map(|m| render_message(req, mailbox, m, &select))
        .collect();
    let context = format!("{}/v1.0/$metadata#{}/messages", req.info.base, req.owner);
    Ok(skip_page(req, messages.len(), skip, top, values, &context))
}

fn get_message(req: &MailRequest<'_>, mailbox: &Mailbox, id: &str) -> Result<Response, GraphError> {
    let select = parse_select(req)?;
    let message = mailbox.message(id).ok_or_else(item_not_found)?;
    let mut value = render_message(req, mailbox, &message, &select);
    if let Value::Object(map) = &mut value {
        map.insert(
            "@odata.context".into(),
            json!(format!(
                "{}/v1.0/$metadata#{}/messages/$entity",
                req.info.base, req.owner
            )),
        );
    }
    Ok(odata_json(value))
}

fn mime(req: &MailRequest<'_>, mailbox: &Mailbox, id: &str) -> Result<Response, GraphError> {
    let message = mailbox.message(id).ok_or_else(item_not_found)?;
    let content = mailbox.content(&message);
    bump(&req.sim.counters.content.message_downloads);
    let length = content.mime.len();
    let chunks = content
        .mime
        .chunks()
        .map(|c| Ok::<_, Infallible>(Bytes::from(c)));
    let mut response = Body::from_stream(futures::stream::iter(chunks)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/plain"),
    );
    headers.insert(axum::http::header::CONTENT_LENGTH, length.into());
    Ok(response)
}

fn attachments(
    req: &MailRequest<'_>,
    mailbox: &Mailbox,
    id: &str,
    one: Option<&str>,
) -> Result<Response, GraphError> {
    let message = mailbox.message(id).ok_or_else(item_not_found)?;
    let content = mailbox.content(&message);
    let counter = &req.sim.counters.content.attachment_downloads;
    match one {
        Some(aid) => {
            let attachment = content
                .attachments
                .iter()
                .find(|a| a.id == aid)
                .ok_or_else(item_not_found)?;
            bump(counter);
            Ok(odata_json(mail_json::attachment(attachment, true)))
        }
        None => {
            let values: Vec<Value> = content
                .attachments
                .iter()
                .map(|a| {
                    bump(counter);
                    mail_json::attachment(a, true)
                })
                .collect();
            Ok(odata_json(json!({
                "@odata.context": format!("{}/v1.0/$metadata#{}/messages('{}')/attachments", req.info.base, req.owner, id),
                "value": values,
            })))
        }
    }
}

/// `…/attachments/{id}/$value`: the attachment's bytes, streamed.
fn raw_attachment(
    req: &MailRequest<'_>,
    mailbox: &Mailbox,
    id: &str,
    attachment_id: &str,
) -> Result<Response, GraphError> {
    let message = mailbox.message(id).ok_or_else(item_not_found)?;
    let content = mailbox.content(&message);
    let attachment = content
        .attachments
        .iter()
        .find(|a| a.id == attachment_id)
        .ok_or_else(item_not_found)?;
    bump(&req.sim.counters.content.attachment_downloads);
    let mut response = Body::from(attachment.bytes.bytes()).into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&attachment.content_type) {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    Ok(response)
}

/// `Prefer: odata.maxpagesize=N` (other preferences may share the header).
pub(crate) fn max_page_size(headers: &HeaderMap) -> Option<usize> {
    headers.get_all("prefer").iter().find_map(|v| {
        v.to_str().ok()?.split(',').find_map(|p| {
            let (name, value) = p.split_once('=')?;
            name.trim()
                .eq_ignore_ascii_case("odata.maxpagesize")
                .then(|| value.trim().trim_matches('"').parse::<usize>().ok())
                .flatten()
        })
    })
}

/// For `_sim` control: expire delta state of one folder or a whole mailbox.
pub(crate) fn expire(
    sim: &Inner,
    tenant_key: &str,
    user_key: &str,
    folder: Option<&str>,
) -> Result<usize, String> {
    let (tenant, user) = {
        let directory = sim.directory();
        let t = directory
            .resolve(tenant_key)
            .ok_or_else(|| format!("no tenant '{tenant_key}'"))?;
        let u = directory
            .tenant(t)
            .and_then(|entry| entry.find_user_index(user_key))
            .ok_or_else(|| format!("no user '{user_key}' in '{tenant_key}'"))?;
        (t, u)
    };
    with_mailbox(sim, tenant, user, |mailbox, _| {
        let targets: Vec<FolderIx> = match folder {
            Some(key) => vec![mailbox.find_folder(key).ok_or_else(item_not_found)?],
            None => (0..mailbox.folders.len()).collect(),
        };
        for &ix in &targets {
            if let Some(folder) = mailbox.folders.get_mut(ix) {
                folder.epoch += 1;
            }
        }
        Ok(targets.len())
    })
    .map_err(|e| e.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_paths_are_recognised() {
        let s = segments("/v1.0/users/adele.vance@contoso-demo.com/mailFolders");
        assert!(is_mail_path(&s), "{s:?}");
        let s = segments("/v1.0/me/mailFolders('AAMk')/messages/delta");
        assert_eq!(s, ["me", "mailFolders", "AAMk", "messages", "delta"]);
        assert!(!is_mail_path(&segments("/v1.0/users/x/drive")));
    }
}
