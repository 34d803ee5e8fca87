//! Outlook's attachment upload sessions (protocol doc §8.3), for
//! attachments of 3 MB and more: `POST …/messages/{id}/attachments/
//! createUploadSession` answers an `uploadUrl` on the Outlook REST host
//! (here this server, `/api/v2.0/…?authtoken=…`); chunks are PUT to it in
//! order with `Content-Range` and **no** `Authorization` header. Each
//! chunk but the last answers 200 with the next expected offset; the last
//! answers 201 with a `Location` naming the new attachment.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::{to_bytes, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_RANGE, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::graph_errors::{GraphCtx, GraphError};
use crate::graph_json::json_at;
use crate::graph_mail::{item_not_found, MailRequest};
use crate::ids::random_token;
use crate::mail_store::{attachment_id, structured_content, Attachment, Mailbox};
use crate::mime_render::AttachmentBytes;
use crate::paging::ODATA_JSON;
use crate::simulator::Inner;
use crate::stats::bump;

/// Outlook's largest attachment.
const MAX_SIZE: u64 = 150 * 1024 * 1024;

struct Session {
    tenant: usize,
    user: usize,
    message_id: String,
    user_id: String,
    name: String,
    content_type: String,
    size: u64,
    received: Vec<u8>,
}

#[derive(Default)]
pub(crate) struct UploadSessions {
    sessions: Mutex<HashMap<String, Session>>,
}

fn bad(message: &str) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, "ErrorInvalidRequest", message)
}

/// `POST …/attachments/createUploadSession`.
pub(crate) fn create(
    req: &MailRequest<'_>,
    mailbox: &Mailbox,
    message_id: &str,
) -> Result<Response, GraphError> {
    mailbox.message(message_id).ok_or_else(item_not_found)?;
    let body: serde_json::Value = serde_json::from_slice(&req.body)
        .map_err(|_| bad("The request body is not valid JSON."))?;
    let item = json_at(&body, &["AttachmentItem"]);
    let name = item["name"]
        .as_str()
        .ok_or_else(|| bad("AttachmentItem.name is required."))?;
    let size = item["size"]
        .as_u64()
        .filter(|s| (1..=MAX_SIZE).contains(s))
        .ok_or_else(|| bad("AttachmentItem.size must be between 1 and 150 MB."))?;
    let token = random_token();
    let url = format!(
        "{}/api/v2.0/Users('{}')/Messages('{message_id}')/AttachmentSessions('{}')?authtoken={token}",
        req.info.base,
        mailbox.user_id,
        &token[..16]
    );
    req.sim.mail_uploads.lock().insert(
        token,
        Session {
            tenant: req.tenant,
            user: req.user,
            message_id: message_id.to_owned(),
            user_id: mailbox.user_id.clone(),
            name: name.to_owned(),
            content_type: item["contentType"]
                .as_str()
                .unwrap_or("application/octet-stream")
                .to_owned(),
            size,
            received: Vec::new(),
        },
    );
    let value = json!({
        "uploadUrl": url,
        "expirationDateTime": "2099-01-01T00:00:00Z",
        "nextExpectedRanges": ["0-"],
    });
    Ok((
        StatusCode::CREATED,
        [(CONTENT_TYPE, ODATA_JSON)],
        value.to_string(),
    )
        .into_response())
}

impl UploadSessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `bytes {start}-{end}/{total}`.
fn content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    Some((start.parse().ok()?, end.parse().ok()?, total.parse().ok()?))
}

/// `PUT {uploadUrl}`: one chunk.
pub(crate) async fn endpoint(State(sim): State<Arc<Inner>>, request: Request) -> Response {
    let ctx = GraphCtx::from_headers(request.headers());
    match put(&sim, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(&ctx),
    }
}

async fn put(sim: &Inner, request: Request) -> Result<Response, GraphError> {
    let token = request
        .uri()
        .query()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "authtoken")
                .map(|(_, v)| v.into_owned())
        })
        .ok_or_else(|| GraphError::invalid_token("The upload URL has no authtoken."))?;
    if request.headers().contains_key(AUTHORIZATION) {
        return Err(GraphError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "The upload URL carries its own token; do not send an Authorization header.",
        ));
    }
    let range = request
        .headers()
        .get(CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(content_range)
        .ok_or_else(|| bad("Content-Range must be 'bytes start-end/total'."))?;
    let body: Bytes = to_bytes(request.into_body(), 64 * 1024 * 1024)
        .await
        .map_err(|_| bad("The chunk is too large."))?;
    let (start, end, total) = range;
    let done = {
        let mut sessions = sim.mail_uploads.lock();
        let session = sessions.get_mut(&token).ok_or_else(|| {
            GraphError::new(
                StatusCode::NOT_FOUND,
                "ErrorItemNotFound",
                "The upload session is gone.",
            )
        })?;
        if total != session.size || end < start || end - start + 1 != body.len() as u64 {
            return Err(bad(
                "Content-Range does not match the chunk or the attachment size.",
            ));
        }
        if start != session.received.len() as u64 {
            return Err(GraphError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "ErrorInvalidRange",
                format!("Expected the range starting at {}.", session.received.len()),
            ));
        }
        session.received.extend_from_slice(&body);
        if (session.received.len() as u64) < session.size {
            let value = json!({
                "ExpirationDateTime": "2099-01-01T00:00:00Z",
                "nextExpectedRanges": [session.received.len().to_string()],
            });
            return Ok((
                StatusCode::OK,
                [(CONTENT_TYPE, ODATA_JSON)],
                value.to_string(),
            )
                .into_response());
        }
        sessions.remove(&token)
    };
    let Some(session) = done else {
        return Err(item_not_found());
    };
    let location =
        crate::graph_mail::with_mailbox(sim, session.tenant, session.user, |mailbox, _| {
            let mut added = None;
            mailbox
                .update(&session.message_id, |m| {
                    if let Some(content) = &m.content {
                        let mut fields = content.clone_fields();
                        let id = attachment_id(&m.id, fields.attachments.len());
                        fields.attachments.push(Attachment {
                            id: id.clone(),
                            name: session.name.clone(),
                            content_type: session.content_type.clone(),
                            bytes: AttachmentBytes::Inline(Arc::from(session.received.clone())),
                        });
                        m.content = Some(Arc::new(structured_content(fields)));
                        added = Some(id);
                    }
                })
                .ok_or_else(item_not_found)?;
            Ok(added)
        })?;
    bump(&sim.counters.content.writes);
    let aid = location.unwrap_or_default();
    let mut response = StatusCode::CREATED.into_response();
    let url = format!(
        "https://outlook.office.com/api/v2.0/Users('{}')/Messages('{}')/Attachments('{aid}')",
        session.user_id, session.message_id
    );
    if let Ok(value) = HeaderValue::from_str(&url) {
        response.headers_mut().insert(LOCATION, value);
    }
    Ok(response)
}
