//! Per-folder message delta: pages of changes since a stored token, with a
//! fresh full enumeration when Microsoft says the token is gone.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, M365Error};
use crate::graph::GraphSession;
use crate::mail::http::Payload;

/// What the engine needs to decide whether a message changed and to
/// restore it as it was: no body (the MIME is fetched separately).
/// `from` is who the message says wrote it (the catalog's sender, v6's
/// `RESTExchangeItemsComposed.from`); `sender` differs only when someone
/// sent on another's behalf, which restore reads from the MIME anyway.
const SELECT: &str = "id,changeKey,lastModifiedDateTime,isRead,isDraft,receivedDateTime,sentDateTime,parentFolderId,hasAttachments,internetMessageId,importance,subject,from";

/// The deltaLink of a finished round, opaque: store it with the restore
/// point and pass it back next time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageDeltaToken(pub String);

/// A message as delta reports it (the properties in `SELECT`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSummary {
    pub id: String,
    #[serde(default)]
    pub change_key: Option<String>,
    #[serde(default)]
    pub last_modified_date_time: Option<String>,
    #[serde(default)]
    pub is_read: bool,
    #[serde(default)]
    pub is_draft: bool,
    #[serde(default)]
    pub received_date_time: Option<String>,
    #[serde(default)]
    pub sent_date_time: Option<String>,
    #[serde(default)]
    pub parent_folder_id: Option<String>,
    #[serde(default)]
    pub has_attachments: bool,
    #[serde(default)]
    pub internet_message_id: Option<String>,
    #[serde(default)]
    pub importance: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    /// Null for a draft nobody addressed yet.
    #[serde(default)]
    pub from: Option<Recipient>,
}

fn part(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Graph's `recipient`: `{"emailAddress": {"name", "address"}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    #[serde(default)]
    pub email_address: EmailAddress,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct EmailAddress {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

impl Recipient {
    /// `Name <address>` as a mail client shows it; the one part there is
    /// when the other is missing or empty; `None` when both are.
    pub fn display(&self) -> Option<String> {
        match (
            part(&self.email_address.name),
            part(&self.email_address.address),
        ) {
            (Some(name), Some(address)) if name.eq_ignore_ascii_case(address) => {
                Some(address.to_owned())
            }
            (Some(name), Some(address)) => Some(format!("{name} <{address}>")),
            (Some(one), None) | (None, Some(one)) => Some(one.to_owned()),
            (None, None) => None,
        }
    }
}

// Changes are consumed one page at a time; boxing each summary would add an allocation per
// message for no memory saving, so the size gap with `Removed` is accepted.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageChange {
    /// Created or changed (possibly listed twice in one round: keep the last).
    Upsert(MessageSummary),
    /// Deleted, or moved out of the folder (a move is a removal here and an
    /// add, with a new id, in the destination).
    Removed { id: String },
}

/// Whether a page continues an incremental round or belongs to a full one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Enumeration {
    Incremental,
    Full,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeltaPage {
    pub enumeration: Enumeration,
    pub changes: Vec<MessageChange>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeltaOutcome {
    /// Where the next round starts.
    pub token: MessageDeltaToken,
    /// Microsoft had dropped the token given: the round was a full
    /// enumeration, and anything not seen in it is gone.
    pub reset: bool,
}

#[derive(Deserialize)]
struct RawPage {
    value: Vec<serde_json::Value>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink", default)]
    delta_link: Option<String>,
}

type PageSink<'a> = &'a mut (dyn FnMut(DeltaPage) -> Result<(), M365Error> + Send);

impl GraphSession {
    /// Streams the folder's changes since `since` (every message when
    /// `None`) to `on_page`, one page at a time; see the module docs.
    pub async fn message_delta(
        &self,
        mailbox: &str,
        folder_id: &str,
        since: Option<&MessageDeltaToken>,
        on_page: PageSink<'_>,
    ) -> Result<DeltaOutcome, M365Error> {
        let fresh = self.graph_url(
            &[
                "users",
                mailbox,
                "mailFolders",
                folder_id,
                "messages",
                "delta",
            ],
            &[("$select", SELECT)],
        )?;
        let mut enumeration = match since {
            Some(_) => Enumeration::Incremental,
            None => Enumeration::Full,
        };
        let mut reset = false;
        let mut url = match since {
            Some(token) => self.same_origin(&token.0)?,
            None => fresh.clone(),
        };
        let lane = self.mail_lane(mailbox);
        // 500 by default (Corso's maximum; Exchange's own default is 10).
        let prefer = format!(
            "odata.maxpagesize={}",
            self.client().settings.mail_delta_page_size.clamp(1, 1000)
        );
        loop {
            let page: RawPage = match self
                .mail_json(&lane, Method::GET, &url, &Payload::None, Some(&prefer))
                .await
            {
                Ok(page) => page,
                Err(e) if e.kind == ErrorKind::Gone && !reset => {
                    // Corso's rule: drop the token and enumerate again.
                    tracing::info!(folder_id, error = %e, "delta token gone; enumerating the folder afresh");
                    reset = true;
                    enumeration = Enumeration::Full;
                    url = fresh.clone();
                    continue;
                }
                Err(e) => return Err(e),
            };
            let changes = page
                .value
                .into_iter()
                .map(change)
                .collect::<Result<_, _>>()?;
            on_page(DeltaPage {
                enumeration,
                changes,
            })?;
            match (page.next_link, page.delta_link) {
                (Some(next), _) => url = self.same_origin(&next)?,
                (None, Some(delta)) => {
                    // Refuse now rather than on the next backup.
                    self.same_origin(&delta)?;
                    return Ok(DeltaOutcome {
                        token: MessageDeltaToken(delta),
                        reset,
                    });
                }
                (None, None) => {
                    return Err(M365Error::new(
                        ErrorKind::Protocol,
                        "Microsoft Graph ended a delta page with neither nextLink nor deltaLink",
                    ))
                }
            }
        }
    }
}

fn change(value: serde_json::Value) -> Result<MessageChange, M365Error> {
    if value.get("@removed").is_some() {
        let id = value
            .get("id")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        return Ok(MessageChange::Removed { id });
    }
    serde_json::from_value(value)
        .map(MessageChange::Upsert)
        .map_err(|e| {
            M365Error::new(
                ErrorKind::Protocol,
                format!("Microsoft Graph sent a delta item that is not a message: {e}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipient(name: Option<&str>, address: Option<&str>) -> Recipient {
        Recipient {
            email_address: EmailAddress {
                name: name.map(str::to_owned),
                address: address.map(str::to_owned),
            },
        }
    }

    #[test]
    fn a_sender_reads_as_a_mail_client_shows_it() {
        let both = recipient(Some("Nancy Davolio"), Some("nancy@contoso.com"));
        assert_eq!(
            both.display().as_deref(),
            Some("Nancy Davolio <nancy@contoso.com>")
        );
        let same = recipient(Some("nancy@contoso.com"), Some("nancy@contoso.com"));
        assert_eq!(same.display().as_deref(), Some("nancy@contoso.com"));
        let name = recipient(Some("Nancy"), Some(" "));
        assert_eq!(name.display().as_deref(), Some("Nancy"));
        assert_eq!(recipient(None, None).display(), None);
    }

    #[test]
    fn a_delta_item_with_a_null_from_still_parses() {
        let value = serde_json::json!({"id": "a", "from": null, "subject": "s"});
        match change(value).unwrap() {
            MessageChange::Upsert(m) => assert_eq!(m.from, None),
            other => panic!("{other:?}"),
        }
    }
}
