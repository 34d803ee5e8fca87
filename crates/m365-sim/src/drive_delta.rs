//! `GET …/root/delta`: the drive's changes, as on OneDrive for Business.
//!
//! - no token: every item that exists, root first, parents before children;
//! - `token=latest`: no items, just a deltaLink for "from now on";
//! - a deltaLink's token: the changes since, with `deleted` entries;
//! - a token from before the expiry knob: 410 `resyncRequired` with a
//!   `Location` to start over from.
//!
//! A round's item list is fixed when its first page is asked for, so
//! writes during a round never shift its pages; they show in the next round.
//! Items carry no `parentReference.path`.

use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::drive_routes::{locate, DriveRequest, ItemRef};
use std::sync::Arc;

use crate::drive_store::{relock, ItemIx, Round};
use crate::graph_errors::GraphError;
use crate::graph_query::Selection;
use crate::paging::odata_json;
use crate::stats::bump;

/// Page size without `$top`.
const DEFAULT_PAGE: usize = 200;
const MAX_PAGE: usize = 999;

#[derive(Debug, PartialEq, Eq)]
enum Token {
    /// A deltaLink: changes after `seq`.
    Since { epoch: u32, seq: u64 },
    /// A nextLink: round `round` from position `at`.
    Page { epoch: u32, round: u64, at: usize },
}

fn encode(token: &Token) -> String {
    let text = match token {
        Token::Since { epoch, seq } => format!("d.{epoch}.{seq}"),
        Token::Page { epoch, round, at } => format!("p.{epoch}.{round}.{at}"),
    };
    URL_SAFE_NO_PAD.encode(text)
}

fn decode(raw: &str) -> Option<Token> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw.trim()).ok()?).ok()?;
    let parts: Vec<&str> = text.split('.').collect();
    match parts.as_slice() {
        ["d", epoch, seq] => Some(Token::Since {
            epoch: epoch.parse().ok()?,
            seq: seq.parse().ok()?,
        }),
        ["p", epoch, round, at] => Some(Token::Page {
            epoch: epoch.parse().ok()?,
            round: round.parse().ok()?,
            at: at.parse().ok()?,
        }),
        _ => None,
    }
}

fn resync(req: &DriveRequest<'_>, drive_id: &str) -> GraphError {
    GraphError::new(
        StatusCode::GONE,
        "resyncRequired",
        "Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd. Upload any local changes that the server doesn't know about.",
    )
    .with_header(LOCATION, format!("{}/v1.0/drives/{drive_id}/root/delta", req.info.base))
}

fn page_size(req: &DriveRequest<'_>) -> Result<usize, GraphError> {
    match req.query.get("$top") {
        None => Ok(DEFAULT_PAGE),
        Some(raw) => match raw.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            _ => Err(GraphError::new(
                StatusCode::BAD_REQUEST,
                "invalidRequest",
                format!("Invalid page size specified: '{raw}'."),
            )),
        },
    }
}

/// A link back to this drive's delta with `token`, keeping `$select` and
/// `$top` (Graph keeps the first request's options in its links).
fn link(req: &DriveRequest<'_>, drive_id: &str, token: &str) -> String {
    let mut url = format!(
        "{}/v1.0/drives/{drive_id}/root/delta?token={token}",
        req.info.base
    );
    for name in ["$select", "$top"] {
        if let Some(value) = req.query.get(name) {
            let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            url.push_str(&format!("&{name}={encoded}"));
        }
    }
    url
}

/// Where a delta request starts, decided under the drive's lock.
enum Start {
    /// A page of round `round_id` from `at`; tokens carry `epoch`.
    Page {
        round_id: u64,
        round: Arc<Round>,
        at: usize,
        epoch: u32,
    },
    /// Answered already (`token=latest`).
    Answer(Response),
}

fn start(
    req: &DriveRequest<'_>,
    item: &ItemRef,
    inline: Option<&str>,
) -> Result<Start, GraphError> {
    let mut drive = relock(req.drive.lock());
    if locate(&drive, item)? != ItemIx::ROOT {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "invalidRequest",
            "Delta is only supported on the root of a drive.",
        ));
    }
    let drive_id = drive.id.clone();
    let raw = inline.or_else(|| req.query.get("token"));
    let (round_id, round, at) = match raw {
        Some(latest) if latest.eq_ignore_ascii_case("latest") => {
            let token = encode(&Token::Since {
                epoch: drive.epoch,
                seq: drive.seq,
            });
            return Ok(Start::Answer(odata_json(json!({
                "@odata.context": format!("{}/v1.0/$metadata#Collection(driveItem)", req.info.base),
                "@odata.deltaLink": link(req, &drive_id, &token),
                "value": [],
            }))));
        }
        None => {
            let (id, round) = drive.start_round(0);
            (id, round, 0)
        }
        Some(raw) => match decode(raw) {
            Some(Token::Since { epoch, seq }) if epoch == drive.epoch && seq <= drive.seq => {
                let (id, round) = drive.start_round(seq);
                (id, round, 0)
            }
            Some(Token::Page { epoch, round, at }) if epoch == drive.epoch => {
                match drive.round(round) {
                    Some(r) => (round, r, at),
                    None => return Err(resync(req, &drive_id)),
                }
            }
            Some(_) => return Err(resync(req, &drive_id)),
            None => {
                return Err(GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "invalidRequest",
                    "The delta token is not valid for this drive.",
                ))
            }
        },
    };
    Ok(Start::Page {
        round_id,
        round,
        at,
        epoch: drive.epoch,
    })
}

pub(crate) async fn delta(
    req: &DriveRequest<'_>,
    item: &ItemRef,
    inline: Option<&str>,
) -> Result<Response, GraphError> {
    bump(&req.sim.counters.content.delta_requests);
    let top = page_size(req)?;
    let (round_id, round, at, epoch) = match start(req, item, inline)? {
        Start::Page {
            round_id,
            round,
            at,
            epoch,
        } => (round_id, round, at, epoch),
        Start::Answer(response) => return Ok(response),
    };
    let end = (at + top).min(round.items.len());
    let page = round.items.get(at.min(end)..end).unwrap_or_default();
    // The page's generated files get their hashes before it is rendered
    // (outside the lock: see drive_hashes).
    crate::drive_hashes::ensure(&req.drive, |_| page.to_vec()).await;
    let drive = relock(req.drive.lock());
    let drive_id = drive.id.clone();
    let fields = match req.query.loose_select() {
        Selection::Fields(fields) => Some(fields),
        Selection::Default => None,
    };
    // ODB includes download URLs in delta unless `$select` leaves them out.
    let urls = fields.as_ref().is_none_or(|f| {
        f.iter()
            .any(|f| f.eq_ignore_ascii_case("content.downloadUrl"))
    });
    let render = req.render(&drive, true, urls);
    let values: Vec<Value> = page
        .iter()
        .map(|&ix| {
            let mut object: Map<String, Value> = crate::drive_json::item(&drive, ix, &render);
            if let Some(fields) = &fields {
                crate::drive_json::select(&mut object, fields);
                if drive.item(ix).deleted {
                    object.insert("deleted".into(), json!({"state": "deleted"}));
                }
            }
            Value::Object(object)
        })
        .collect();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1.0/$metadata#Collection(driveItem)",
            req.info.base
        )),
    );
    if end < round.items.len() {
        let token = encode(&Token::Page {
            epoch,
            round: round_id,
            at: end,
        });
        body.insert(
            "@odata.nextLink".into(),
            json!(link(req, &drive_id, &token)),
        );
    } else {
        let token = encode(&Token::Since {
            epoch,
            seq: round.upto,
        });
        body.insert(
            "@odata.deltaLink".into(),
            json!(link(req, &drive_id, &token)),
        );
    }
    body.insert("value".into(), Value::Array(values));
    Ok(odata_json(Value::Object(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        for token in [
            Token::Since { epoch: 2, seq: 99 },
            Token::Page {
                epoch: 1,
                round: 7,
                at: 400,
            },
        ] {
            assert_eq!(decode(&encode(&token)), Some(token));
        }
        assert_eq!(decode("not-a-token"), None);
    }
}
