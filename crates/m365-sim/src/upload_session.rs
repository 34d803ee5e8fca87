//! Resumable uploads (`createUploadSession`) with Microsoft's rules:
//! fragments strictly in order, each under 60 MiB and a multiple of
//! 320 KiB except the last, the same total on every `Content-Range`, no
//! `Authorization` header on the upload URL (401). Answers: 202 with
//! `nextExpectedRanges` while bytes are missing, 201 (200 when replacing)
//! with the driveItem at the end, 416 for bytes already received, 409
//! `nameAlreadyExists` at commit under `fail`. `GET` reports progress,
//! `DELETE` cancels (204). Bytes are spooled, never held whole.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_RANGE};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{json, Value};

use crate::drive_routes::{item_not_found, write_error, DriveRequest, ItemRef};
use crate::drive_store::{relock, Conflict, Drive, ItemIx};
use crate::drive_writes::{conflict_of, item_response, json_body, parent_and_name, Receiver};
use crate::graph_errors::{GraphCtx, GraphError};
use crate::ids::random_token;
use crate::simulator::Inner;
use crate::stats::bump;
use crate::wire_time::rfc3339;

pub(crate) const FRAGMENT_MULTIPLE: u64 = 320 * 1024;
pub(crate) const FRAGMENT_MAX: u64 = 60 * 1024 * 1024;
const SESSION_LIFETIME_SECS: i64 = 24 * 3600;

struct Session {
    drive: Arc<Mutex<Drive>>,
    /// New file: parent and name. Existing file: its index.
    parent: ItemIx,
    name: String,
    existing: Option<ItemIx>,
    conflict: Conflict,
    secret: String,
    total: Option<u64>,
    receiver: Option<Receiver>,
    expires: time::OffsetDateTime,
    /// Where this session's item links point.
    base: String,
}

#[derive(Default)]
pub(crate) struct Sessions {
    /// Upload URL guid → (expiry, session).
    map: Mutex<HashMap<String, (time::OffsetDateTime, SharedSession)>>,
}

type SharedSession = Arc<tokio::sync::Mutex<Session>>;

impl Sessions {
    /// Registers a session, forgetting expired ones (and their spool files).
    fn insert(
        &self,
        guid: String,
        expires: time::OffsetDateTime,
        session: Session,
        now: time::OffsetDateTime,
    ) {
        let mut map = relock(self.map.lock());
        map.retain(|_, (expiry, _)| *expiry > now);
        map.insert(guid, (expires, Arc::new(tokio::sync::Mutex::new(session))));
    }

    fn get(&self, guid: &str) -> Option<SharedSession> {
        relock(self.map.lock()).get(guid).map(|(_, s)| s.clone())
    }

    fn remove(&self, guid: &str) {
        relock(self.map.lock()).remove(guid);
    }
}

fn bad_range(message: impl Into<String>) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, "invalidRange", message)
}

pub(crate) async fn create(
    req: &DriveRequest<'_>,
    item: &ItemRef,
    request: Request,
) -> Result<Response, GraphError> {
    let body = json_body(request).await?;
    let conflict = conflict_of(req, Some(&body), Conflict::Replace)?;
    let total = body
        .get("item")
        .and_then(|i| i.get("fileSize"))
        .and_then(Value::as_u64);
    let now = req.sim.drives.urls.now();
    let (parent, name, existing) = {
        let mut drive = relock(req.drive.lock());
        if item.path.is_some() {
            let (parent, name) = parent_and_name(&mut drive, item, now)?;
            let name = name.ok_or_else(|| {
                GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "invalidRequest",
                    "The upload names no file.",
                )
            })?;
            if !crate::drive_spec::is_valid_name(&name) {
                return Err(write_error(crate::drive_store::WriteError::InvalidName(
                    name,
                )));
            }
            if conflict == Conflict::Fail && drive.child_named(parent, &name).is_some() {
                return Err(write_error(
                    crate::drive_store::WriteError::NameAlreadyExists(name),
                ));
            }
            (parent, name, None)
        } else {
            let ix = crate::drive_routes::locate(&drive, item)?;
            if drive.item(ix).is_folder() {
                return Err(GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "invalidRequest",
                    "A folder has no content.",
                ));
            }
            (
                drive.item(ix).parent.unwrap_or(ItemIx::ROOT),
                drive.item(ix).name.clone(),
                Some(ix),
            )
        }
    };
    let guid = uuid::Uuid::new_v4().to_string();
    let secret = random_token();
    let expires = now + time::Duration::seconds(SESSION_LIFETIME_SECS);
    let session = Session {
        drive: req.drive.clone(),
        parent,
        name,
        existing,
        conflict,
        secret: secret.clone(),
        total,
        receiver: Some(Receiver::spooled()),
        expires,
        base: req.info.base.clone(),
    };
    req.sim
        .drives
        .sessions
        .insert(guid.clone(), expires, session, now);
    let url = format!(
        "{}/_api/v2.0/uploadSession?guid={guid}&tempauth={secret}",
        req.info.base
    );
    Ok(crate::paging::odata_json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#microsoft.graph.uploadSession", req.info.base),
        "uploadUrl": url,
        "expirationDateTime": rfc3339(expires),
        "nextExpectedRanges": ["0-"],
    })))
}

/// `bytes {start}-{end}/{total}`.
fn parse_content_range(raw: &str) -> Option<(u64, u64, u64)> {
    let rest = raw.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    let (start, end, total) = (
        start.trim().parse().ok()?,
        end.trim().parse().ok()?,
        total.trim().parse().ok()?,
    );
    (start <= end && end < total).then_some((start, end, total))
}

fn progress(session: &Session) -> Value {
    let next = session.receiver.as_ref().map_or(0, |r| r.len);
    json!({"expirationDateTime": rfc3339(session.expires), "nextExpectedRanges": [format!("{next}-")]})
}

/// The upload URL: `PUT` a fragment, `GET` progress, `DELETE` to cancel.
pub(crate) async fn endpoint(State(sim): State<Arc<Inner>>, request: Request) -> Response {
    let ctx = GraphCtx::from_headers(request.headers());
    match serve(&sim, request).await {
        Ok(mut response) => {
            ctx.stamp(&mut response);
            response
        }
        Err(error) => error.into_response(&ctx),
    }
}

async fn serve(sim: &Inner, request: Request) -> Result<Response, GraphError> {
    if request.headers().contains_key(AUTHORIZATION) {
        return Err(GraphError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "The upload URL is pre-authenticated; requests to it must not carry an Authorization header.",
        ));
    }
    let query = crate::graph_query::Query::parse(request.uri().query());
    let guid = query.get("guid").unwrap_or_default().to_owned();
    let secret = query.get("tempauth").unwrap_or_default().to_owned();
    let session = sim.drives.sessions.get(&guid);
    let not_found = || {
        GraphError::new(
            StatusCode::NOT_FOUND,
            "itemNotFound",
            "The upload session was not found.",
        )
    };
    let Some(session) = session else {
        return Err(not_found());
    };
    let mut s = session.lock().await;
    if s.secret != secret || sim.drives.urls.now() >= s.expires {
        return Err(not_found());
    }
    match *request.method() {
        Method::GET => Ok(json_response(StatusCode::OK, progress(&s))),
        Method::DELETE => {
            drop(s);
            sim.drives.sessions.remove(&guid);
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Method::PUT => {
            let done = put_fragment(sim, &mut s, request).await?;
            match done {
                None => Ok(json_response(StatusCode::ACCEPTED, progress(&s))),
                Some(response) => {
                    drop(s);
                    sim.drives.sessions.remove(&guid);
                    Ok(response)
                }
            }
        }
        _ => Err(GraphError::method_not_allowed()),
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Stores one fragment; `Some` is the final answer once all bytes are in.
async fn put_fragment(
    sim: &Inner,
    s: &mut Session,
    request: Request,
) -> Result<Option<Response>, GraphError> {
    let raw = request
        .headers()
        .get(CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            bad_range("A fragment needs a Content-Range header: bytes {start}-{end}/{total}.")
        })?;
    let (start, end, total) = parse_content_range(raw).ok_or_else(|| {
        bad_range(format!(
            "Content-Range '{raw}' is not bytes {{start}}-{{end}}/{{total}}."
        ))
    })?;
    if let Some(known) = s.total {
        if known != total {
            return Err(bad_range(format!(
                "The total size {total} differs from the session's {known}."
            )));
        }
    }
    let next = s.receiver.as_ref().map_or(0, |r| r.len);
    if start < next {
        return Err(GraphError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "fragmentOverlap",
            format!(
                "The fragment starts at {start}, but bytes up to {next} were already received."
            ),
        ));
    }
    if start > next {
        return Err(bad_range(format!(
            "Fragments must be sent in order: expected {next}, got {start}."
        )));
    }
    let len = end - start + 1;
    if len >= FRAGMENT_MAX {
        return Err(GraphError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "requestEntityTooLarge",
            format!("A fragment must be smaller than 60 MiB; this one is {len} bytes."),
        ));
    }
    let last = end + 1 == total;
    if !last && len.checked_rem(FRAGMENT_MULTIPLE) != Some(0) {
        return Err(bad_range(format!("A fragment other than the last must be a multiple of 320 KiB (327,680 bytes); this one is {len} bytes.")));
    }
    // The whole fragment is read before any of it is kept, so a short or
    // broken body leaves the session exactly as it was.
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    let mut stream = request.into_body().into_data_stream();
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|_| bad_range("The fragment's body could not be read."))?;
        if (bytes.len() + piece.len()) as u64 > len {
            return Err(bad_range(format!(
                "The fragment is longer than its Content-Range ({len} bytes)."
            )));
        }
        bytes.extend_from_slice(&piece);
    }
    if bytes.len() as u64 != len {
        return Err(bad_range(format!(
            "The fragment has {} bytes but its Content-Range says {len}.",
            bytes.len()
        )));
    }
    s.total = Some(total);
    let receiver = s.receiver.as_mut().ok_or_else(item_not_found)?;
    receiver.push(&sim.drives.spool, &bytes).await?;
    if !last {
        return Ok(None);
    }
    let receiver = s.receiver.take().ok_or_else(item_not_found)?;
    let (content, hash) = receiver.finish().await?;
    let now = sim.drives.urls.now();
    let drive_arc = s.drive.clone();
    let mut drive = relock(drive_arc.lock());
    let (ix, created) = match s.existing {
        Some(ix) if !drive.item(ix).deleted => {
            drive.replace_content(ix, content, Some(hash), now);
            (ix, false)
        }
        Some(_) => return Err(item_not_found()),
        None => drive
            .put_file(s.parent, &s.name, s.conflict, content, Some(hash), now)
            .map_err(write_error)?,
    };
    bump(&sim.counters.content.writes);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(Some(item_response(sim, &s.base, &drive, ix, status)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_parse() {
        assert_eq!(parse_content_range("bytes 0-25/128"), Some((0, 25, 128)));
        assert_eq!(
            parse_content_range("bytes 26-127/128"),
            Some((26, 127, 128))
        );
        assert_eq!(parse_content_range("bytes 5-4/128"), None);
        assert_eq!(parse_content_range("bytes 0-128/128"), None);
        assert_eq!(parse_content_range("bytes */128"), None);
    }
}
