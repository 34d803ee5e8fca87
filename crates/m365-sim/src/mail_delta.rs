//! `mailFolders/{id}/messages/delta` and `mailFolders/delta`.
//!
//! Tokens are opaque base64url JSON carrying the folder, the change
//! sequence the round started after (`since`, none for a full round), the
//! bound fixed when the round started (`upto`), the last entry emitted,
//! the `$select` of the first request and the folder's expiry epoch. A
//! page lists entries in change order; the last page's deltaLink starts the
//! next round from `upto`. Tokens from before an expiry answer 410
//! `SyncStateNotFound`.

use axum::http::header::HeaderName;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::graph_errors::GraphError;
use crate::graph_mail::{max_page_size, parse_select, render_message, MailRequest};
use crate::mail_json::{self, Select};
use crate::mail_store::{FolderIx, Mailbox, ROOT};
use crate::paging::odata_json;
use crate::stats::bump;

/// Exchange's page size without `Prefer: odata.maxpagesize`.
const DEFAULT_PAGE: usize = 10;
const MAX_PAGE: usize = 1000;
const TOKEN_PREFIX: &str = "m365sim-delta:";

#[derive(Serialize, Deserialize)]
struct Token {
    /// `m` message delta, `f` folder delta.
    k: char,
    /// Folder id (message delta).
    f: String,
    s: Option<u64>,
    u: u64,
    /// Last entry emitted: (seq, ordinal).
    a: Option<(u64, u32)>,
    sel: Option<String>,
    e: u32,
}

fn encode(token: &Token) -> String {
    let text = serde_json::to_string(token).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(format!("{TOKEN_PREFIX}{text}"))
}

fn decode(raw: &str) -> Option<Token> {
    let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    serde_json::from_str(text.strip_prefix(TOKEN_PREFIX)?).ok()
}

fn sync_state_not_found(epoch: u32) -> GraphError {
    GraphError::new(
        StatusCode::GONE,
        "SyncStateNotFound",
        format!(
            "The sync state generation is not found; generation={epoch};[highest={}].",
            epoch + 1
        ),
    )
}

fn bad_token() -> GraphError {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "ErrorInvalidSyncStateData",
        "The sync state data is corrupt or otherwise invalid.",
    )
}

/// The token the request carries (`$skiptoken` or `$deltatoken`), if any.
fn request_token(req: &MailRequest<'_>, kind: char) -> Result<Option<Token>, GraphError> {
    let raw = req
        .query
        .get("$skiptoken")
        .or_else(|| req.query.get("$deltatoken"));
    match raw {
        None => Ok(None),
        Some(raw) => match decode(raw) {
            Some(token) if token.k == kind => Ok(Some(token)),
            _ => Err(bad_token()),
        },
    }
}

fn page_size(req: &MailRequest<'_>) -> usize {
    max_page_size(&req.headers)
        .unwrap_or(DEFAULT_PAGE)
        .clamp(1, MAX_PAGE)
}

enum Entry {
    Message(crate::mail_store::Message),
    Removed(String),
}

pub(crate) fn message_delta(
    req: &MailRequest<'_>,
    mailbox: &Mailbox,
    folder: FolderIx,
) -> Result<Response, GraphError> {
    bump(&req.sim.counters.content.delta_requests);
    let folder_id = mailbox.folder(folder).id.clone();
    let epoch = mailbox.folder(folder).epoch;
    let token = match request_token(req, 'm')? {
        Some(token) => {
            if token.f != folder_id {
                return Err(bad_token());
            }
            if token.e != epoch {
                return Err(sync_state_not_found(token.e));
            }
            token
        }
        None => Token {
            k: 'm',
            f: folder_id.clone(),
            s: None,
            u: mailbox.seq,
            a: None,
            sel: req.query.get("$select").map(str::to_owned),
            e: epoch,
        },
    };
    // A deltaLink starts a new round: since = the old bound, new bound now.
    let token = if req.query.get("$deltatoken").is_some() {
        Token {
            s: Some(token.u),
            u: mailbox.seq,
            a: None,
            ..token
        }
    } else {
        token
    };
    let select: Select = mail_json::select(token.sel.as_deref()).map_err(|_| bad_token())?;
    if token.s.is_none() && req.query.get("$skiptoken").is_none() {
        // First request of a full round: validate its own $select.
        parse_select(req)?;
    }
    let lower = token.s.unwrap_or(0);
    let mut entries: Vec<((u64, u32), Entry)> = Vec::new();
    for message in mailbox.folder_messages(folder) {
        let in_round = match token.s {
            None => message.seq <= token.u,
            Some(since) => message.seq > since && message.seq <= token.u,
        };
        if in_round {
            entries.push(((message.seq, message.ordinal), Entry::Message(message)));
        }
    }
    if token.s.is_some() {
        for tomb in mailbox.tombstones.iter().filter(|t| t.folder == folder) {
            if tomb.seq > lower && tomb.seq <= token.u {
                entries.push(((tomb.seq, 0), Entry::Removed(tomb.id.clone())));
            }
        }
    }
    entries.retain(|(key, _)| token.a.is_none_or(|after| *key > after));
    entries.sort_by_key(|(key, _)| *key);
    let size = page_size(req);
    let more = entries.len() > size;
    entries.truncate(size);
    let last = entries.last().map(|(key, _)| *key);
    let values: Vec<Value> = entries
        .into_iter()
        .map(|(_, entry)| match entry {
            Entry::Message(message) => {
                let mut value = render_message(req, mailbox, &message, &select);
                if let Value::Object(map) = &mut value {
                    map.insert("@odata.type".into(), json!("#microsoft.graph.message"));
                }
                value
            }
            Entry::Removed(id) => json!({
                "@odata.type": "#microsoft.graph.message",
                "id": id,
                "@removed": {"reason": "deleted"},
            }),
        })
        .collect();
    let link_base = req.link(&format!("mailFolders('{folder_id}')/messages/delta"));
    let (name, link) = if more {
        let next = Token {
            a: last.or(token.a),
            ..token
        };
        (
            "@odata.nextLink",
            format!("{link_base}?$skiptoken={}", encode(&next)),
        )
    } else {
        let done = Token { a: None, ..token };
        (
            "@odata.deltaLink",
            format!("{link_base}?$deltatoken={}", encode(&done)),
        )
    };
    let body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#Collection(message)", req.info.base),
        name: link,
        "value": values,
    });
    let mut response = odata_json(body);
    response.headers_mut().insert(
        HeaderName::from_static("preference-applied"),
        HeaderValue::from_str(&format!("odata.maxpagesize={size}"))
            .unwrap_or(HeaderValue::from_static("odata.maxpagesize=10")),
    );
    Ok(response)
}

/// Every folder below the root, flat; deleted ones as `@removed`.
pub(crate) fn folder_delta(
    req: &MailRequest<'_>,
    mailbox: &Mailbox,
) -> Result<Response, GraphError> {
    bump(&req.sim.counters.content.delta_requests);
    let epoch = mailbox.folder(ROOT).epoch;
    let token = match request_token(req, 'f')? {
        Some(token) if token.e != epoch => return Err(sync_state_not_found(token.e)),
        Some(token) if req.query.get("$deltatoken").is_some() => Token {
            s: Some(token.u),
            u: mailbox.seq,
            a: None,
            ..token
        },
        Some(token) => token,
        None => Token {
            k: 'f',
            f: String::new(),
            s: None,
            u: mailbox.seq,
            a: None,
            sel: None,
            e: epoch,
        },
    };
    let mut entries: Vec<(u64, u32, Value)> = Vec::new();
    for (ix, folder) in mailbox.folders.iter().enumerate().skip(1) {
        let in_round = match token.s {
            None => !folder.deleted && folder.seq <= token.u,
            Some(since) => folder.seq > since && folder.seq <= token.u,
        };
        if !in_round {
            continue;
        }
        let value = if folder.deleted {
            json!({"id": folder.id, "@removed": {"reason": "deleted"}})
        } else {
            crate::mail_json::folder(mailbox, ix)
        };
        let ordinal = u32::try_from(ix).unwrap_or(u32::MAX);
        entries.push((folder.seq, ordinal, value));
    }
    entries.retain(|(seq, ordinal, _)| token.a.is_none_or(|after| (*seq, *ordinal) > after));
    entries.sort_by_key(|(seq, ordinal, _)| (*seq, *ordinal));
    let size = page_size(req);
    let more = entries.len() > size;
    entries.truncate(size);
    let last = entries.last().map(|(seq, ordinal, _)| (*seq, *ordinal));
    let values: Vec<Value> = entries.into_iter().map(|(_, _, v)| v).collect();
    let link_base = req.link("mailFolders/delta");
    let (name, link) = if more {
        let next = Token {
            a: last.or(token.a),
            ..token
        };
        (
            "@odata.nextLink",
            format!("{link_base}?$skiptoken={}", encode(&next)),
        )
    } else {
        let done = Token { a: None, ..token };
        (
            "@odata.deltaLink",
            format!("{link_base}?$deltatoken={}", encode(&done)),
        )
    };
    Ok(odata_json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#Collection(mailFolder)", req.info.base),
        name: link,
        "value": values,
    })))
}
