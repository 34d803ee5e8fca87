//! Graph's JSON for mail folders, messages and attachments, with `$select`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::mail_store::{Content, Folder, FolderIx, Mailbox, Message};
use crate::wire_time::rfc3339;

pub(crate) const MESSAGE_PROPERTIES: [&str; 26] = [
    "id",
    "createdDateTime",
    "lastModifiedDateTime",
    "changeKey",
    "categories",
    "receivedDateTime",
    "sentDateTime",
    "hasAttachments",
    "internetMessageId",
    "subject",
    "bodyPreview",
    "importance",
    "parentFolderId",
    "conversationId",
    "isDeliveryReceiptRequested",
    "isReadReceiptRequested",
    "isRead",
    "isDraft",
    "inferenceClassification",
    "body",
    "sender",
    "from",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "flag",
];

/// Properties that need the message's content (subject, body, …) rather
/// than just its bookkeeping; a selection without them never generates it.
const CONTENT_PROPERTIES: [&str; 13] = [
    "subject",
    "bodyPreview",
    "body",
    "sender",
    "from",
    "toRecipients",
    "ccRecipients",
    "internetMessageId",
    "receivedDateTime",
    "sentDateTime",
    "hasAttachments",
    "importance",
    "conversationId",
];

/// `None`: every property. Names are canonical (see `select`).
pub(crate) type Select = Option<Vec<String>>;

/// Canonical names for a `$select` value, or the unknown name.
pub(crate) fn select(raw: Option<&str>) -> Result<Select, String> {
    let Some(raw) = raw else { return Ok(None) };
    let mut fields = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let canonical = MESSAGE_PROPERTIES
            .iter()
            .find(|p| p.eq_ignore_ascii_case(name))
            .ok_or_else(|| name.to_owned())?;
        if !fields.iter().any(|f: &String| f == canonical) {
            fields.push((*canonical).to_owned());
        }
    }
    Ok(if fields.is_empty() {
        None
    } else {
        Some(fields)
    })
}

pub(crate) fn wants(select: &Select, property: &str) -> bool {
    select
        .as_ref()
        .is_none_or(|fields| fields.iter().any(|f| f == property))
}

pub(crate) fn needs_content(select: &Select) -> bool {
    CONTENT_PROPERTIES.iter().any(|p| wants(select, p))
}

fn address(address: &str) -> Value {
    json!({"emailAddress": {"name": address, "address": address}})
}

fn preview(content: &Content) -> String {
    let text = if content.body_text.is_empty() {
        content.body_html.as_deref().unwrap_or_default()
    } else {
        &content.body_text
    };
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(255)
        .collect()
}

/// The message as Graph shows it. `content` is `None` only when `select`
/// asks for no content property.
pub(crate) fn message(
    mailbox: &Mailbox,
    message: &Message,
    content: Option<&Content>,
    select: &Select,
) -> Value {
    let mut object = Map::new();
    let change_key = message.change_key();
    object.insert("@odata.etag".into(), json!(format!("W/\"{change_key}\"")));
    let folder_id = mailbox.folder(message.folder).id.clone();
    object.insert("id".into(), json!(message.id));
    let mut put = |name: &str, value: Value| {
        if wants(select, name) {
            object.insert(name.to_owned(), value);
        }
    };
    put("createdDateTime", json!(rfc3339(message.created)));
    put("lastModifiedDateTime", json!(rfc3339(message.modified)));
    put("changeKey", json!(change_key));
    put("categories", json!([]));
    put("parentFolderId", json!(folder_id));
    put("isRead", json!(message.is_read));
    put("isDraft", json!(message.is_draft));
    put("isDeliveryReceiptRequested", json!(false));
    put("isReadReceiptRequested", json!(false));
    put("inferenceClassification", json!("focused"));
    put("bccRecipients", json!([]));
    put("flag", json!({"flagStatus": "notFlagged"}));
    if let Some(c) = content {
        put("receivedDateTime", json!(rfc3339(c.received)));
        put("sentDateTime", json!(rfc3339(c.sent)));
        put(
            "hasAttachments",
            json!(!c.attachments.is_empty() || c.mime_has_attachments),
        );
        put("internetMessageId", json!(c.internet_message_id));
        put("subject", json!(c.subject));
        put("bodyPreview", json!(preview(c)));
        put("importance", json!(c.importance));
        put(
            "conversationId",
            json!(format!(
                "AAQkAGI{}",
                &message.id.get(7..31).unwrap_or_default()
            )),
        );
        let body = match &c.body_html {
            Some(html) => json!({"contentType": "html", "content": html}),
            None => json!({"contentType": "text", "content": c.body_text}),
        };
        put("body", body);
        let from = c.from.as_deref().map_or(Value::Null, address);
        put("sender", from.clone());
        put("from", from);
        put(
            "toRecipients",
            Value::Array(c.to.iter().map(|a| address(a)).collect()),
        );
        put(
            "ccRecipients",
            Value::Array(c.cc.iter().map(|a| address(a)).collect()),
        );
    }
    Value::Object(object)
}

pub(crate) fn folder(mailbox: &Mailbox, ix: FolderIx) -> Value {
    let folder: &Folder = mailbox.folder(ix);
    let (unread, total) = mailbox.unread_and_total(ix);
    json!({
        "id": folder.id,
        "displayName": folder.display_name,
        "parentFolderId": folder.parent.map(|p| mailbox.folder(p).id.clone()),
        "childFolderCount": mailbox.children(ix).count(),
        "unreadItemCount": unread,
        "totalItemCount": total,
        "sizeInBytes": 0,
        "isHidden": folder.hidden,
    })
}

pub(crate) fn attachment(attachment: &crate::mail_store::Attachment, with_bytes: bool) -> Value {
    let mut object = json!({
        "@odata.type": "#microsoft.graph.fileAttachment",
        "id": attachment.id,
        "name": attachment.name,
        "contentType": attachment.content_type,
        "size": attachment.bytes.size(),
        "isInline": false,
        "lastModifiedDateTime": "2026-01-01T00:00:00Z",
    });
    if with_bytes {
        if let Value::Object(map) = &mut object {
            map.insert(
                "contentBytes".into(),
                json!(STANDARD.encode(attachment.bytes.bytes())),
            );
        }
    }
    object
}
