//! Writing a message back as Microsoft would have stored it originally: a
//! JSON create with the non-draft flag and the original times as
//! `singleValueExtendedProperties` (a MIME import is always a draft), then
//! the attachments one by one.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use mail_parser::{MessageParser, MimeHeaders};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{ErrorKind, M365Error};
use crate::graph::GraphSession;
use crate::mail::http::Payload;

/// From this size on an attachment goes through an upload session
/// (protocol doc §8.3).
pub(crate) const MAX_SIMPLE_ATTACHMENT: usize = 3 * 1024 * 1024;
/// Outlook's largest attachment.
pub(crate) const MAX_ATTACHMENT: usize = 150 * 1024 * 1024;
/// Upload-session chunks: under 4 MB, as Microsoft advises (Corso: 4 MiB).
const CHUNK: usize = 4 * 1024 * 1024 - 64 * 1024;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreAttachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A message to restore. `sent` and `received` are RFC 3339.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreMessage {
    pub subject: String,
    pub body: String,
    pub body_is_html: bool,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub internet_message_id: Option<String>,
    pub importance: Option<String>,
    pub is_read: bool,
    pub sent: Option<String>,
    pub received: Option<String>,
    pub attachments: Vec<RestoreAttachment>,
}

fn addresses(list: Option<&mail_parser::Address<'_>>) -> Vec<String> {
    list.map(|a| {
        a.iter()
            .filter_map(|addr| addr.address().map(str::to_owned))
            .collect()
    })
    .unwrap_or_default()
}

impl RestoreMessage {
    /// From stored MIME plus the JSON facts MIME does not carry (read
    /// state, the times Exchange recorded). Dates default to the MIME
    /// `Date:` header.
    pub fn from_mime(
        mime: &[u8],
        is_read: bool,
        sent: Option<&str>,
        received: Option<&str>,
    ) -> Result<Self, M365Error> {
        let message = MessageParser::default().parse(mime).ok_or_else(|| {
            M365Error::new(
                ErrorKind::Protocol,
                "the stored MIME cannot be parsed as a message",
            )
        })?;
        let date = message.date().map(|d| d.to_rfc3339());
        let (body, body_is_html) = match message.body_html(0) {
            Some(html) if message.html_body_count() > 0 && message.text_body_count() == 0 => {
                (html.into_owned(), true)
            }
            _ => match message.body_text(0) {
                Some(text) => (
                    text.trim_end_matches(['\r', '\n']).replace("\r\n", "\n"),
                    false,
                ),
                None => (String::new(), false),
            },
        };
        let attachments = message
            .attachments()
            .map(|part| RestoreAttachment {
                name: part.attachment_name().unwrap_or("attachment").to_owned(),
                content_type: part
                    .content_type()
                    .map(|c| match c.subtype() {
                        Some(sub) => format!("{}/{sub}", c.ctype()),
                        None => c.ctype().to_owned(),
                    })
                    .unwrap_or_else(|| "application/octet-stream".to_owned()),
                bytes: part.contents().to_vec(),
            })
            .collect();
        Ok(RestoreMessage {
            subject: message.subject().unwrap_or_default().to_owned(),
            body,
            body_is_html,
            from: addresses(message.from()).into_iter().next(),
            to: addresses(message.to()),
            cc: addresses(message.cc()),
            internet_message_id: message.message_id().map(|id| format!("<{id}>")),
            importance: None,
            is_read,
            sent: sent.map(str::to_owned).or_else(|| date.clone()),
            received: received.map(str::to_owned).or(date),
            attachments,
        })
    }

    fn json(&self) -> Value {
        let recipients = |list: &[String]| -> Value {
            Value::Array(
                list.iter()
                    .map(|a| json!({"emailAddress": {"address": a}}))
                    .collect(),
            )
        };
        // PidTagMessageFlags = 4 (read/sent, not unsent) makes it a
        // non-draft; PidTagClientSubmitTime and PidTagMessageDeliveryTime
        // carry the original times (Corso's mail_restore.go).
        let mut properties = vec![json!({"id": "Integer 0x0E07", "value": "4"})];
        if let Some(sent) = &self.sent {
            properties.push(json!({"id": "SystemTime 0x0039", "value": sent}));
        }
        if let Some(received) = &self.received {
            properties.push(json!({"id": "SystemTime 0x0E06", "value": received}));
        }
        let mut body = json!({
            "subject": self.subject,
            "body": {"contentType": if self.body_is_html { "html" } else { "text" }, "content": self.body},
            "toRecipients": recipients(&self.to),
            "ccRecipients": recipients(&self.cc),
            "isRead": self.is_read,
            "singleValueExtendedProperties": properties,
        });
        if let Value::Object(map) = &mut body {
            if let Some(from) = &self.from {
                map.insert("from".into(), json!({"emailAddress": {"address": from}}));
            }
            if let Some(id) = &self.internet_message_id {
                map.insert("internetMessageId".into(), json!(id));
            }
            if let Some(importance) = &self.importance {
                map.insert("importance".into(), json!(importance));
            }
        }
        body
    }
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

impl GraphSession {
    /// Creates the message in `folder_id` as a non-draft, then adds its
    /// attachments; returns the new message id. Attachments too large for
    /// one request are refused before anything is written.
    pub async fn restore_message(
        &self,
        mailbox: &str,
        folder_id: &str,
        message: &RestoreMessage,
    ) -> Result<String, M365Error> {
        if let Some(big) = message
            .attachments
            .iter()
            .find(|a| a.bytes.len() > MAX_ATTACHMENT)
        {
            return Err(M365Error::new(
                ErrorKind::TooLarge,
                format!(
                    "attachment '{}' ({} bytes) is larger than Outlook's 150 MB",
                    big.name,
                    big.bytes.len()
                ),
            ));
        }
        let lane = self.mail_lane(mailbox);
        let url = self.graph_url(
            &["users", mailbox, "mailFolders", folder_id, "messages"],
            &[],
        )?;
        let created: Created = self
            .mail_json(
                &lane,
                Method::POST,
                &url,
                &Payload::Json(message.json()),
                None,
            )
            .await?;
        let attachments = self.graph_url(
            &["users", mailbox, "messages", &created.id, "attachments"],
            &[],
        )?;
        for attachment in &message.attachments {
            if attachment.bytes.len() >= MAX_SIMPLE_ATTACHMENT {
                self.upload_attachment(mailbox, &created.id, attachment)
                    .await?;
                continue;
            }
            let body = Payload::Json(json!({
                "@odata.type": "#microsoft.graph.fileAttachment",
                "name": attachment.name,
                "contentType": attachment.content_type,
                "contentBytes": STANDARD.encode(&attachment.bytes),
            }));
            let _: Value = self
                .mail_json(&lane, Method::POST, &attachments, &body, None)
                .await?;
        }
        Ok(created.id)
    }

    /// An attachment of 3 MB or more: an upload session, then chunks PUT in
    /// order to its URL, which carries its own token (ours is never sent
    /// there).
    async fn upload_attachment(
        &self,
        mailbox: &str,
        message_id: &str,
        attachment: &RestoreAttachment,
    ) -> Result<(), M365Error> {
        let lane = self.mail_lane(mailbox);
        let url = self.graph_url(
            &[
                "users",
                mailbox,
                "messages",
                message_id,
                "attachments",
                "createUploadSession",
            ],
            &[],
        )?;
        let total = attachment.bytes.len();
        let body = Payload::Json(json!({"AttachmentItem": {
            "attachmentType": "file",
            "name": attachment.name,
            "size": total,
            "contentType": attachment.content_type,
        }}));
        let session: UploadSession = self
            .mail_json(&lane, Method::POST, &url, &body, None)
            .await?;
        let upload = url::Url::parse(&session.upload_url).map_err(|_| {
            M365Error::new(ErrorKind::Protocol, "Microsoft sent a malformed uploadUrl")
        })?;
        let host = crate::signin::host_of(&upload);
        let mut start = 0;
        while start < total {
            let end = (start + CHUNK).min(total);
            let chunk =
                bytes::Bytes::copy_from_slice(attachment.bytes.get(start..end).unwrap_or_default());
            let held = self
                .client()
                .send_in(&lane, &host, || {
                    self.client()
                        .http
                        .put(upload.clone())
                        .header("Content-Type", "application/octet-stream")
                        .header(
                            "Content-Range",
                            format!("bytes {start}-{}/{total}", end - 1),
                        )
                        .timeout(self.client().settings.content_timeout)
                        .body(chunk.clone())
                })
                .await?;
            let status = held.response.status();
            let answer = self.read_body(held, &host).await?;
            let last = end == total;
            match status.as_u16() {
                200 | 201 if !last || status.as_u16() == 201 => {}
                code => {
                    return Err(crate::mail::http::classify(
                        code,
                        &answer,
                        &host,
                        "an attachment upload session",
                    ))
                }
            }
            start = end;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UploadSession {
    upload_url: String,
}
