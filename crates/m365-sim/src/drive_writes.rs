//! Changing a drive: simple upload (`PUT …:/{name}:/content`, `PUT
//! items/{id}/content`), creating folders and empty files (`POST
//! …/children`), rename and move (`PATCH`), and `DELETE`. Names conflict
//! case-insensitively; `@microsoft.graph.conflictBehavior` (URL or body)
//! picks fail (409 `nameAlreadyExists`), replace or rename.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use quickxorhash::QuickXorHash;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::drive_content::{Content, SpoolFile, IN_MEMORY_MAX};
use crate::drive_routes::{item_not_found, locate, write_error, DriveRequest, ItemRef};
use crate::drive_store::{relock, Conflict, Drive, ItemIx, ItemKind};
use crate::graph_errors::GraphError;
use crate::paging::ODATA_JSON;
use crate::stats::bump;

/// The largest simple upload (Microsoft's current limit).
const SIMPLE_UPLOAD_MAX: u64 = 250 * 1024 * 1024;
const JSON_BODY_MAX: usize = 1024 * 1024;

fn bad_request(message: impl Into<String>) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, "invalidRequest", message)
}

/// Bytes received so far, in memory or spilled to a spool file.
pub(crate) struct Receiver {
    memory: Vec<u8>,
    file: Option<(tokio::fs::File, Arc<SpoolFile>)>,
    pub len: u64,
    hasher: QuickXorHash,
    /// Bytes kept in memory before spilling to the spool.
    in_memory_max: u64,
}

impl Receiver {
    pub(crate) fn new() -> Self {
        Receiver {
            memory: Vec::new(),
            file: None,
            len: 0,
            hasher: QuickXorHash::new(),
            in_memory_max: IN_MEMORY_MAX,
        }
    }

    /// Straight to the spool: upload sessions may be left open, and an
    /// abandoned one must not hold memory.
    pub(crate) fn spooled() -> Self {
        Receiver {
            in_memory_max: 0,
            ..Receiver::new()
        }
    }

    pub(crate) async fn push(
        &mut self,
        req_spool: &crate::drive_content::Spool,
        piece: &[u8],
    ) -> Result<(), GraphError> {
        self.hasher.update(piece);
        self.len += piece.len() as u64;
        if self.file.is_none()
            && self.memory.len() as u64 + piece.len() as u64 <= self.in_memory_max
        {
            self.memory.extend_from_slice(piece);
            return Ok(());
        }
        if self.file.is_none() {
            let path = req_spool.new_path().map_err(storage_error)?;
            let file = tokio::fs::File::create(&path)
                .await
                .map_err(storage_error)?;
            let spool = Arc::new(SpoolFile { path });
            self.file = Some((file, spool));
            let memory = std::mem::take(&mut self.memory);
            if let Some((file, _)) = self.file.as_mut() {
                file.write_all(&memory).await.map_err(storage_error)?;
            }
        }
        if let Some((file, _)) = self.file.as_mut() {
            file.write_all(piece).await.map_err(storage_error)?;
        }
        Ok(())
    }

    /// The content and its base64 quickXorHash.
    pub(crate) async fn finish(mut self) -> Result<(Content, String), GraphError> {
        let hash = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            self.hasher.finalize(),
        );
        match self.file {
            None => Ok((Content::Bytes(Bytes::from(self.memory)), hash)),
            Some((mut file, spool)) => {
                file.flush().await.map_err(storage_error)?;
                Ok((
                    Content::Spooled {
                        file: spool,
                        size: self.len,
                    },
                    hash,
                ))
            }
        }
    }
}

fn storage_error(e: std::io::Error) -> GraphError {
    tracing::warn!(error = %e, "simulator spool failed");
    GraphError::new(
        StatusCode::INSUFFICIENT_STORAGE,
        "quotaLimitReached",
        "The simulator could not store the upload.",
    )
}

/// Streams a request body into a [`Receiver`], refusing more than `max` bytes.
pub(crate) async fn receive(
    sim: &crate::simulator::Inner,
    body: Body,
    max: u64,
    into: &mut Receiver,
) -> Result<(), GraphError> {
    let mut stream = body.into_data_stream();
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|_| bad_request("The request body could not be read."))?;
        if into.len + piece.len() as u64 > max {
            return Err(GraphError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "requestEntityTooLarge",
                format!("The request body is larger than {max} bytes; use an upload session."),
            ));
        }
        into.push(&sim.drives.spool, &piece).await?;
    }
    Ok(())
}

pub(crate) fn conflict_of(
    req: &DriveRequest<'_>,
    body: Option<&Value>,
    default: Conflict,
) -> Result<Conflict, GraphError> {
    let raw = req
        .query
        .get("@microsoft.graph.conflictBehavior")
        .map(str::to_owned)
        .or_else(|| {
            body.and_then(|b| {
                b.get("@microsoft.graph.conflictBehavior").or_else(|| {
                    b.get("item")
                        .and_then(|i| i.get("@microsoft.graph.conflictBehavior"))
                })
            })
            .and_then(Value::as_str)
            .map(str::to_owned)
        });
    match raw {
        None => Ok(default),
        Some(raw) => Conflict::parse(&raw).ok_or_else(|| {
            bad_request(format!(
                "'{raw}' is not a conflict behavior; use fail, replace or rename."
            ))
        }),
    }
}

/// For `…/{parent}:/a/b/name:` targets: the parent folder (created along
/// the way, as Graph does) and the new item's name.
pub(crate) fn parent_and_name(
    drive: &mut Drive,
    item: &ItemRef,
    now: time::OffsetDateTime,
) -> Result<(ItemIx, Option<String>), GraphError> {
    let base = match &item.id {
        None => ItemIx::ROOT,
        Some(id) => drive.lookup(id).ok_or_else(item_not_found)?,
    };
    let Some(path) = &item.path else {
        return Ok((base, None));
    };
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let name = segments.pop().map(str::to_owned);
    let mut at = base;
    for folder in segments {
        at = match drive.child_named(at, folder) {
            Some(existing) => existing,
            None => {
                drive
                    .create_folder(at, folder, Conflict::Fail, now)
                    .map_err(write_error)?
                    .0
            }
        };
    }
    Ok((at, name))
}

pub(crate) fn item_response(
    sim: &crate::simulator::Inner,
    base: &str,
    drive: &Drive,
    ix: ItemIx,
    status: StatusCode,
) -> Response {
    let render = crate::drive_json::Render {
        base,
        in_delta: false,
        download_urls: false,
        signer: &sim.drives.urls,
        site_path: &drive.site_path,
        web_url: &drive.web_url,
    };
    let mut object = crate::drive_json::item(drive, ix, &render);
    object.insert(
        "@odata.context".into(),
        json!(format!(
            "{base}/v1.0/$metadata#drives('{}')/items/$entity",
            drive.id
        )),
    );
    (
        status,
        [(axum::http::header::CONTENT_TYPE, ODATA_JSON)],
        Value::Object(object).to_string(),
    )
        .into_response()
}

pub(crate) async fn put_content(
    req: &DriveRequest<'_>,
    item: &ItemRef,
    request: Request,
) -> Result<Response, GraphError> {
    let conflict = conflict_of(req, None, Conflict::Replace)?;
    // Check the target before reading the body, so a doomed upload is
    // refused without storing anything.
    {
        let drive = relock(req.drive.lock());
        if item.path.is_none() {
            locate(&drive, item)?;
        }
    }
    let mut receiver = Receiver::new();
    receive(
        req.sim,
        request.into_body(),
        SIMPLE_UPLOAD_MAX,
        &mut receiver,
    )
    .await?;
    let (content, hash) = receiver.finish().await?;
    let now = req.sim.drives.urls.now();
    let mut drive = relock(req.drive.lock());
    let (ix, created) = if item.path.is_some() {
        let (parent, name) = parent_and_name(&mut drive, item, now)?;
        let name = name.ok_or_else(|| bad_request("The upload names no file."))?;
        drive
            .put_file(parent, &name, conflict, content, Some(hash), now)
            .map_err(write_error)?
    } else {
        let ix = locate(&drive, item)?;
        if drive.item(ix).is_folder() {
            return Err(bad_request("A folder has no content to replace."));
        }
        drive.replace_content(ix, content, Some(hash), now);
        (ix, false)
    };
    bump(&req.sim.counters.content.writes);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(item_response(req.sim, &req.info.base, &drive, ix, status))
}

pub(crate) async fn json_body(request: Request) -> Result<Value, GraphError> {
    let bytes = axum::body::to_bytes(request.into_body(), JSON_BODY_MAX)
        .await
        .map_err(|_| bad_request("The request body could not be read."))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| bad_request(format!("The request body is not valid JSON: {e}")))
}

/// `POST …/children` with `{"name", "folder": {}}` (or `"file": {}` for an
/// empty file, Corso's first step of an upload).
pub(crate) async fn create_child(
    req: &DriveRequest<'_>,
    item: &ItemRef,
    request: Request,
) -> Result<Response, GraphError> {
    let body = json_body(request).await?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| bad_request("The item needs a name."))?;
    let folder = body.get("folder").is_some();
    if !folder && body.get("file").is_none() {
        return Err(bad_request("The item must have a folder or a file facet."));
    }
    let conflict = conflict_of(req, Some(&body), Conflict::Fail)?;
    let now = req.sim.drives.urls.now();
    let mut drive = relock(req.drive.lock());
    let parent = locate(&drive, item)?;
    let (ix, created) = if folder {
        drive.create_folder(parent, name, conflict, now)
    } else {
        drive.put_file(
            parent,
            name,
            conflict,
            Content::Bytes(Bytes::new()),
            None,
            now,
        )
    }
    .map_err(write_error)?;
    if let ItemKind::File { hash, .. } = &mut drive.item_mut(ix).kind {
        hash.get_or_insert_with(|| crate::drive_content::hash_of(b""));
    }
    if created {
        bump(&req.sim.counters.content.writes);
    }
    Ok(item_response(
        req.sim,
        &req.info.base,
        &drive,
        ix,
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
    ))
}

/// `PATCH items/{id}` with `name` and/or `parentReference.id`.
pub(crate) async fn patch(
    req: &DriveRequest<'_>,
    item: &ItemRef,
    request: Request,
) -> Result<Response, GraphError> {
    let body = json_body(request).await?;
    let name = body.get("name").and_then(Value::as_str);
    let parent_id = body
        .get("parentReference")
        .and_then(|p| p.get("id"))
        .and_then(Value::as_str);
    let now = req.sim.drives.urls.now();
    let mut drive = relock(req.drive.lock());
    let ix = locate(&drive, item)?;
    let parent = match parent_id {
        None => None,
        Some(id) if id.eq_ignore_ascii_case("root") => Some(ItemIx::ROOT),
        Some(id) => Some(drive.lookup(id).ok_or_else(item_not_found)?),
    };
    if name.is_some() || parent.is_some() {
        drive
            .rename_move(ix, name, parent, now)
            .map_err(write_error)?;
        bump(&req.sim.counters.content.writes);
    }
    Ok(item_response(
        req.sim,
        &req.info.base,
        &drive,
        ix,
        StatusCode::OK,
    ))
}

pub(crate) fn delete(req: &DriveRequest<'_>, item: &ItemRef) -> Result<Response, GraphError> {
    let now = req.sim.drives.urls.now();
    let mut drive = relock(req.drive.lock());
    let ix = locate(&drive, item)?;
    drive.delete(ix, now).map_err(write_error)?;
    bump(&req.sim.counters.content.writes);
    Ok(StatusCode::NO_CONTENT.into_response())
}
