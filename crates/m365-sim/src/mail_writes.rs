//! The mail writes restore (and tests that change a tenant) use: folders
//! created, renamed and deleted; messages created from JSON (non-draft with
//! `singleValueExtendedProperties`, see the protocol doc §8.2) or from
//! base64 MIME (always a draft, as at Microsoft), patched, moved (a new id)
//! and deleted; small attachments added. Each counts in `content.writes`.

use std::sync::Arc;

use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::graph_errors::GraphError;
use crate::graph_json::json_at;
use crate::graph_mail::{folder, item_not_found, MailRequest};
use crate::mail_json;
use crate::mail_store::{
    attachment_id, content_from_mime, structured_content, Attachment, FolderIx, Mailbox,
    StructuredFields,
};
use crate::mime_render::{self, AttachmentBytes, Mime};
use crate::paging::ODATA_JSON;
use crate::stats::bump;

/// PidTagMessageFlags value that makes a created message a sent/received
/// (non-draft) item: MSGFLAG_UNSENT cleared, MSGFLAG_READ… per Corso.
const NON_DRAFT_FLAGS: &str = "4";

fn created(status: StatusCode, value: Value) -> Response {
    (status, [(CONTENT_TYPE, ODATA_JSON)], value.to_string()).into_response()
}

fn bad_body(message: impl Into<String>) -> GraphError {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "UnableToDeserializePostBody",
        message,
    )
}

fn json_body(req: &MailRequest<'_>) -> Result<Value, GraphError> {
    serde_json::from_slice(&req.body)
        .map_err(|e| bad_body(format!("The request body is not valid JSON: {e}")))
}

/// The message as a write answers with it (not a download).
fn echo(mailbox: &Mailbox, message: &crate::mail_store::Message) -> Value {
    let content = mailbox.content(message);
    mail_json::message(mailbox, message, Some(&content), &None)
}

fn count_write(req: &MailRequest<'_>) {
    bump(&req.sim.counters.content.writes);
}

pub(crate) fn create_folder(
    req: &MailRequest<'_>,
    mailbox: &mut Mailbox,
    parent: FolderIx,
) -> Result<Response, GraphError> {
    let body = json_body(req)?;
    let name = json_at(&body, &["displayName"])
        .as_str()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            GraphError::new(
                StatusCode::BAD_REQUEST,
                "ErrorInvalidParameter",
                "displayName is required.",
            )
        })?;
    if mailbox
        .children(parent)
        .any(|c| mailbox.folder(c).display_name.eq_ignore_ascii_case(name))
    {
        return Err(GraphError::new(
            StatusCode::CONFLICT,
            "ErrorFolderExists",
            "A folder with the specified name already exists.",
        ));
    }
    let hidden = json_at(&body, &["isHidden"]).as_bool().unwrap_or(false);
    let ix = mailbox.add_folder(parent, name, None, hidden);
    count_write(req);
    Ok(created(StatusCode::CREATED, mail_json::folder(mailbox, ix)))
}

pub(crate) fn update_folder(
    req: &MailRequest<'_>,
    mailbox: &mut Mailbox,
    folder: FolderIx,
) -> Result<Response, GraphError> {
    let body = json_body(req)?;
    if let Some(name) = json_at(&body, &["displayName"])
        .as_str()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        mailbox.rename_folder(folder, name);
    }
    count_write(req);
    Ok(created(StatusCode::OK, mail_json::folder(mailbox, folder)))
}

pub(crate) fn delete_folder(
    req: &MailRequest<'_>,
    mailbox: &mut Mailbox,
    folder: FolderIx,
) -> Result<Response, GraphError> {
    if mailbox.folder(folder).well_known.is_some() {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorDeleteDistinguishedFolder",
            "Distinguished folders cannot be deleted.",
        ));
    }
    mailbox.delete_folder(folder);
    count_write(req);
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn is_text_plain(req: &MailRequest<'_>) -> bool {
    req.headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("text/plain"))
}

fn addresses(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|r| {
                    json_at(r, &["emailAddress", "address"])
                        .as_str()
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `singleValueExtendedProperties` as (id lower-cased, value).
fn extended(body: &Value) -> Vec<(String, String)> {
    json_at(body, &["singleValueExtendedProperties"])
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|p| {
                    Some((
                        p["id"]
                            .as_str()?
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                            .to_ascii_lowercase(),
                        p["value"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn time_property(
    props: &[(String, String)],
    id: &str,
) -> Result<Option<OffsetDateTime>, GraphError> {
    match props.iter().find(|(k, _)| k == id) {
        None => Ok(None),
        Some((_, v)) => mime_render::parse_rfc3339(v).map(Some).ok_or_else(|| {
            bad_body(format!(
                "The value '{v}' of extended property '{id}' is not a date and time."
            ))
        }),
    }
}

pub(crate) fn create_message(
    req: &MailRequest<'_>,
    mailbox: &mut Mailbox,
    folder: FolderIx,
) -> Result<Response, GraphError> {
    let key = format!("created#{}", mailbox.seq + 1);
    let (content, is_read, is_draft) = if is_text_plain(req) {
        let text = std::str::from_utf8(&req.body).unwrap_or_default();
        let compact: String = text.split_whitespace().collect();
        let mime = STANDARD.decode(compact.as_bytes()).map_err(|_| {
            GraphError::new(
                StatusCode::BAD_REQUEST,
                "ErrorMimeContentInvalidBase64String",
                "Invalid base64 string for MIME content.",
            )
        })?;
        let mime = String::from_utf8_lossy(&mime).into_owned();
        // Microsoft stores an imported MIME message as a draft.
        (
            content_from_mime(Mime::raw(&mime), &mailbox.user_id, &key),
            false,
            true,
        )
    } else {
        let body = json_body(req)?;
        let props = extended(&body);
        let non_draft = props
            .iter()
            .any(|(k, v)| k == "integer 0x0e07" && v.trim() == NON_DRAFT_FLAGS);
        let now = mailbox.now();
        let sent = time_property(&props, "systemtime 0x0039")?.unwrap_or(now);
        let received = time_property(&props, "systemtime 0x0e06")?.unwrap_or(now);
        let (text, html) = match (
            json_at(&body, &["body", "contentType"]).as_str(),
            json_at(&body, &["body", "content"]).as_str(),
        ) {
            (Some(t), Some(c)) if t.eq_ignore_ascii_case("html") => {
                (String::new(), Some(c.to_owned()))
            }
            (_, Some(c)) => (c.to_owned(), None),
            _ => (String::new(), None),
        };
        let internet_message_id = json_at(&body, &["internetMessageId"])
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("<{}@openvbo.invalid>", &mailbox.user_id));
        let content = structured_content(StructuredFields {
            subject: json_at(&body, &["subject"])
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            from: json_at(&body, &["from", "emailAddress", "address"])
                .as_str()
                .map(str::to_owned),
            to: addresses(json_at(&body, &["toRecipients"])),
            cc: addresses(json_at(&body, &["ccRecipients"])),
            sent,
            received,
            internet_message_id,
            importance: json_at(&body, &["importance"])
                .as_str()
                .unwrap_or("normal")
                .to_ascii_lowercase(),
            body_text: text,
            body_html: html,
            attachments: Vec::new(),
        });
        (
            content,
            json_at(&body, &["isRead"]).as_bool().unwrap_or(false),
            !non_draft,
        )
    };
    let message = mailbox.insert(folder, content, is_read, is_draft);
    count_write(req);
    let value = echo(mailbox, &message);
    Ok(created(StatusCode::CREATED, value))
}

pub(crate) fn update_message(
    req: &MailRequest<'_>,
    mailbox: &mut Mailbox,
    id: &str,
) -> Result<Response, GraphError> {
    let body = json_body(req)?;
    let is_read = json_at(&body, &["isRead"]).as_bool();
    let importance = json_at(&body, &["importance"])
        .as_str()
        .map(str::to_ascii_lowercase);
    let message = mailbox
        .update(id, |m| {
            if let Some(read) = is_read {
                m.is_read = read;
            }
            if let (Some(importance), Some(content)) = (&importance, &m.content) {
                let mut fields = (**content).clone_fields();
                fields.importance = importance.clone();
                m.content = Some(Arc::new(structured_content(fields)));
            }
        })
        .ok_or_else(item_not_found)?;
    count_write(req);
    Ok(created(StatusCode::OK, echo(mailbox, &message)))
}

pub(crate) fn delete_message(
    req: &MailRequest<'_>,
    mailbox: &mut Mailbox,
    id: &str,
) -> Result<Response, GraphError> {
    mailbox.delete_message(id).ok_or_else(item_not_found)?;
    count_write(req);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) fn move_message(
    req: &MailRequest<'_>,
    mailbox: &mut Mailbox,
    id: &str,
) -> Result<Response, GraphError> {
    let body = json_body(req)?;
    let destination = json_at(&body, &["destinationId"])
        .as_str()
        .ok_or_else(|| bad_body("destinationId is required."))?;
    let to = folder(mailbox, destination)?;
    let message = mailbox.move_message(id, to).ok_or_else(item_not_found)?;
    count_write(req);
    Ok(created(StatusCode::CREATED, echo(mailbox, &message)))
}

/// `POST …/attachments` with a fileAttachment (under 3 MB at Microsoft).
pub(crate) fn add_attachment(
    req: &MailRequest<'_>,
    mailbox: &mut Mailbox,
    id: &str,
) -> Result<Response, GraphError> {
    let body = json_body(req)?;
    let name = json_at(&body, &["name"])
        .as_str()
        .ok_or_else(|| bad_body("name is required."))?
        .to_owned();
    let bytes = json_at(&body, &["contentBytes"])
        .as_str()
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .ok_or_else(|| bad_body("contentBytes must be base64."))?;
    let content_type = json_at(&body, &["contentType"])
        .as_str()
        .unwrap_or("application/octet-stream")
        .to_owned();
    let mut added: Option<Value> = None;
    mailbox
        .update(id, |m| {
            if let Some(content) = &m.content {
                let mut fields = content.clone_fields();
                let attachment = Attachment {
                    id: attachment_id(&m.id, fields.attachments.len()),
                    name,
                    content_type,
                    bytes: AttachmentBytes::Inline(Arc::from(bytes)),
                };
                added = Some(mail_json::attachment(&attachment, false));
                fields.attachments.push(attachment);
                m.content = Some(Arc::new(structured_content(fields)));
            }
        })
        .ok_or_else(item_not_found)?;
    count_write(req);
    Ok(created(StatusCode::CREATED, added.unwrap_or(json!({}))))
}
