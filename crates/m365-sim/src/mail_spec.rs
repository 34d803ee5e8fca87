//! The mail part of the tenant file: `users[].mailFolders`, each folder
//! with `messages` and `childFolders`. A message is raw `mime` (kept byte
//! for byte) or structured fields rendered once into MIME (see
//! `mime_render`). All fields are optional so existing files keep working.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MailFolderSpec {
    pub display_name: String,
    /// `inbox`, `drafts`, `sentitems`, `deleteditems`, `junkemail`,
    /// `outbox`, `archive`: this entry *is* that folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub well_known_name: Option<String>,
    #[serde(default)]
    pub is_hidden: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<MessageSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub child_folders: Vec<MailFolderSpec>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageSpec {
    /// RFC 5322 text, served byte for byte by `$value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<String>,
    /// RFC 3339; defaults to 2026-01-01T00:00:00Z.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_date_time: Option<String>,
    #[serde(default)]
    pub is_read: bool,
    /// `low`, `normal` (default) or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importance: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_html: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentSpec>,
}

/// Inline bytes (`contentBase64`), or `size` bytes generated from `seed`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttachmentSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// The largest generated attachment: Outlook's own limit is 150 MB.
pub(crate) const MAX_ATTACHMENT: u64 = 150 * 1024 * 1024;

impl MessageSpec {
    fn is_structured(&self) -> bool {
        self.subject.is_some()
            || self.from.is_some()
            || !self.to.is_empty()
            || self.body.is_some()
            || self.body_html.is_some()
    }
}

/// Problems in one user's `mailFolders`, each naming folder and message.
pub(crate) fn mail_problems(user: &str, folders: &[MailFolderSpec], problems: &mut Vec<String>) {
    let mut well_known_seen = Vec::new();
    walk(user, "", folders, &mut well_known_seen, problems);
}

fn walk(
    user: &str,
    parent: &str,
    folders: &[MailFolderSpec],
    well_known_seen: &mut Vec<String>,
    problems: &mut Vec<String>,
) {
    let mut names: Vec<String> = Vec::new();
    for folder in folders {
        let path = format!("{parent}/{}", folder.display_name);
        let here = format!("user '{user}', mail folder '{path}'");
        if folder.display_name.trim().is_empty() {
            problems.push(format!(
                "user '{user}': a mail folder under '{parent}/' has no displayName"
            ));
        }
        let lower = folder.display_name.to_lowercase();
        if names.contains(&lower) {
            problems.push(format!("{here} is listed twice"));
        }
        names.push(lower);
        if let Some(name) = &folder.well_known_name {
            let name = name.to_ascii_lowercase();
            if !crate::mail_store::WELL_KNOWN
                .iter()
                .any(|(w, _)| *w == name)
            {
                problems.push(format!("{here}: unknown wellKnownName '{name}'"));
            } else if !parent.is_empty() {
                problems.push(format!("{here}: well-known folders are top-level folders"));
            } else if well_known_seen.contains(&name) {
                problems.push(format!("{here}: wellKnownName '{name}' is used twice"));
            }
            well_known_seen.push(name);
        }
        for (n, message) in folder.messages.iter().enumerate() {
            let at = format!("{here}, message {}", n + 1);
            match (&message.mime, message.is_structured()) {
                (Some(_), true) => problems.push(format!(
                    "{at}: give either mime or structured fields (subject, from, to, body), not both"
                )),
                (None, false) => problems.push(format!(
                    "{at}: neither mime nor structured fields (subject, from, to, body)"
                )),
                (Some(mime), false) if !mime.contains("\r\n\r\n") && !mime.contains("\n\n") => {
                    problems.push(format!("{at}: mime has no blank line between headers and body"))
                }
                _ => {}
            }
            if let Some(date) = &message.received_date_time {
                if crate::mime_render::parse_rfc3339(date).is_none() {
                    problems.push(format!("{at}: receivedDateTime '{date}' is not RFC 3339"));
                }
            }
            for attachment in &message.attachments {
                let name = &attachment.name;
                match (&attachment.content_base64, attachment.size, attachment.seed) {
                    (Some(b64), None, None) => {
                        if STANDARD.decode(b64.trim()).is_err() {
                            problems.push(format!(
                                "{at}, attachment '{name}': contentBase64 is not valid base64"
                            ));
                        }
                    }
                    (None, Some(size), Some(_)) if size <= MAX_ATTACHMENT => {}
                    (None, Some(_), Some(_)) => problems.push(format!(
                        "{at}, attachment '{name}': size is over {MAX_ATTACHMENT} bytes"
                    )),
                    _ => problems.push(format!(
                        "{at}, attachment '{name}': give contentBase64, or size and seed"
                    )),
                }
            }
        }
        walk(
            user,
            &path,
            &folder.child_folders,
            well_known_seen,
            problems,
        );
    }
}
