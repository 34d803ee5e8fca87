//! Writing files and folders back (restore).
//!
//! Files up to [`SIMPLE_UPLOAD_MAX`] go in one `PUT …:/{name}:/content`;
//! larger ones through an upload session in [`UPLOAD_CHUNK`] fragments
//! (16 × 320 KiB = 5 MiB: a multiple of 320 KiB and well under 60 MiB, as
//! Microsoft requires), sent in order with the same total, never with our
//! token. One fragment is in memory at a time. A fragment the service
//! already has (416 after a lost answer) is skipped after asking the
//! session where it stands. The conflict behaviour is Microsoft's:
//! `Fail` gives `ErrorKind::Conflict`.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt};
use url::Url;

use super::http::{failure, protocol, DriveApi};
use super::resource_units::Cost;
use super::types::{ConflictBehavior, DriveId, DriveItem, DriveItemKind, ItemId};
use crate::error::{ErrorKind, M365Error};

/// Larger files go through an upload session (Microsoft advises sessions
/// above a few MiB; the simple PUT was once limited to 4 MB).
pub const SIMPLE_UPLOAD_MAX: u64 = 4 * 1024 * 1024;
/// 16 × 320 KiB = 5 MiB, as Corso sends them: within Microsoft's advised
/// 5–10 MiB, and half the memory in flight of 10 MiB fragments.
pub const UPLOAD_CHUNK: usize = 16 * 320 * 1024;
const FRAGMENT_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Session {
    upload_url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Progress {
    #[serde(default)]
    next_expected_ranges: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WrittenItem {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    e_tag: Option<String>,
    #[serde(default)]
    c_tag: Option<String>,
    #[serde(default)]
    last_modified_date_time: Option<String>,
    #[serde(default)]
    created_date_time: Option<String>,
    #[serde(default)]
    file: Option<serde_json::Value>,
    #[serde(default)]
    folder: Option<serde_json::Value>,
    #[serde(default)]
    parent_reference: Option<WrittenParent>,
}

#[derive(Deserialize)]
struct WrittenParent {
    #[serde(default)]
    id: Option<String>,
    /// `/drives/{id}/root:/Folder/Sub` outside delta.
    #[serde(default)]
    path: Option<String>,
}

impl WrittenItem {
    fn into_item(self) -> DriveItem {
        let parent_path = self
            .parent_reference
            .as_ref()
            .and_then(|p| p.path.as_deref())
            .and_then(|p| {
                p.split_once("root:")
                    .map(|(_, rest)| rest.trim_matches('/').to_owned())
            });
        let path = parent_path.map(|p| {
            if p.is_empty() {
                self.name.clone()
            } else {
                format!("{p}/{}", self.name)
            }
        });
        let kind = match (&self.folder, &self.file) {
            (Some(folder), _) => DriveItemKind::Folder {
                child_count: folder["childCount"].as_u64().unwrap_or(0),
            },
            (None, file) => DriveItemKind::File {
                quick_xor_hash: file
                    .as_ref()
                    .and_then(|f| f.get("hashes")?.get("quickXorHash")?.as_str())
                    .map(str::to_owned),
                mime_type: file
                    .as_ref()
                    .and_then(|f| f["mimeType"].as_str())
                    .map(str::to_owned),
            },
        };
        DriveItem {
            id: ItemId(self.id),
            name: self.name,
            parent_id: self.parent_reference.and_then(|p| p.id).map(ItemId),
            path,
            kind,
            size: self.size,
            e_tag: self.e_tag,
            c_tag: self.c_tag,
            last_modified: self.last_modified_date_time,
            created: self.created_date_time,
        }
    }
}

/// Reads until `buf` is full or the source ends; the number of bytes read.
async fn fill(source: &mut (impl AsyncRead + Unpin), buf: &mut [u8]) -> Result<usize, M365Error> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        let n = source.read(rest).await.map_err(|e| {
            M365Error::new(
                ErrorKind::Protocol,
                format!("reading the file to upload failed: {e}"),
            )
        })?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

fn short_source(size: u64, got: u64) -> M365Error {
    M365Error::new(
        ErrorKind::Protocol,
        format!("the file to upload ended after {got} of its {size} bytes"),
    )
}

/// The base64 quickXorHash of everything `source` yields (what Microsoft reports as
/// `file.hashes.quickXorHash`) and its length, read one fragment at a time: restore compares
/// a backed-up file with the one in the drive without holding either.
pub async fn quick_xor_hash(
    mut source: impl AsyncRead + Unpin,
) -> Result<(String, u64), M365Error> {
    use base64::Engine;
    let mut hasher = quickxorhash::QuickXorHash::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = fill(&mut source, &mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
        total += n as u64;
    }
    Ok((
        base64::engine::general_purpose::STANDARD.encode(hasher.finalize()),
        total,
    ))
}

impl DriveApi<'_> {
    /// Every item directly under `parent`, page by page (a listing: two resource units a
    /// page of up to 999, the most Graph gives), for restore to tell new, changed and unchanged files apart with
    /// one read per folder instead of one per file.
    pub async fn children(
        &self,
        drive: &DriveId,
        parent: &ItemId,
    ) -> Result<Vec<DriveItem>, M365Error> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            value: Vec<WrittenItem>,
            #[serde(rename = "@odata.nextLink", default)]
            next_link: Option<String>,
        }
        let mut url = self.url(
            &["drives", &drive.0, "items", &parent.0, "children"],
            &[("$top", "999")],
        )?;
        let mut items = Vec::new();
        loop {
            let response = self
                .graph_request(Method::GET, &url, Cost::Two, |r| r)
                .await?;
            let page: Page = self
                .json(response, &format!("listing folder {}", parent.0))
                .await?;
            items.extend(page.value.into_iter().map(WrittenItem::into_item));
            match page.next_link {
                Some(next) => url = self.graph_link(&next)?,
                None => return Ok(items),
            }
        }
    }

    /// Creates a folder under `parent` (`Replace` returns an existing one).
    pub async fn create_folder(
        &self,
        drive: &DriveId,
        parent: &ItemId,
        name: &str,
        conflict: ConflictBehavior,
    ) -> Result<DriveItem, M365Error> {
        let url = self.url(&["drives", &drive.0, "items", &parent.0, "children"], &[])?;
        let body = json!({"name": name, "folder": {}, "@microsoft.graph.conflictBehavior": conflict.as_str()});
        let response = self
            .graph_request(Method::POST, &url, Cost::Two, |r| r.json(&body))
            .await?;
        let item: WrittenItem = self
            .json(response, &format!("creating folder '{name}'"))
            .await?;
        Ok(item.into_item())
    }

    /// Uploads exactly `size` bytes from `source` as `name` under `parent`.
    pub async fn upload(
        &self,
        drive: &DriveId,
        parent: &ItemId,
        name: &str,
        size: u64,
        conflict: ConflictBehavior,
        mut source: impl AsyncRead + Unpin,
    ) -> Result<DriveItem, M365Error> {
        let target = format!("{}:", parent.0);
        let file = format!("{name}:");
        if size <= SIMPLE_UPLOAD_MAX {
            let mut bytes = vec![0u8; usize::try_from(size).unwrap_or(0)];
            let got = fill(&mut source, &mut bytes).await?;
            if got as u64 != size {
                return Err(short_source(size, got as u64));
            }
            let bytes = Bytes::from(bytes);
            let url = self.url(
                &["drives", &drive.0, "items", &target, &file, "content"],
                &[("@microsoft.graph.conflictBehavior", conflict.as_str())],
            )?;
            let response = self
                .graph_request(Method::PUT, &url, Cost::Two, |r| {
                    r.header(CONTENT_TYPE, "application/octet-stream")
                        .body(bytes.clone())
                })
                .await?;
            let item: WrittenItem = self.json(response, &format!("uploading '{name}'")).await?;
            return Ok(item.into_item());
        }
        let url = self.url(
            &[
                "drives",
                &drive.0,
                "items",
                &target,
                &file,
                "createUploadSession",
            ],
            &[],
        )?;
        let body = json!({"item": {"@microsoft.graph.conflictBehavior": conflict.as_str()}});
        let response = self
            .graph_request(Method::POST, &url, Cost::Two, |r| r.json(&body))
            .await?;
        let session: Session = self
            .json(response, &format!("starting the upload of '{name}'"))
            .await?;
        let upload_url = Url::parse(&session.upload_url)
            .map_err(|_| protocol("Microsoft Graph sent a malformed uploadUrl"))?;
        let result = self
            .send_fragments(&upload_url, name, size, &mut source)
            .await;
        if result.is_err() {
            // Best effort: do not leave a half-written session behind.
            let _ = self
                .plain_request(Method::DELETE, &upload_url, Cost::One, |r| r)
                .await;
        }
        result
    }

    async fn send_fragments(
        &self,
        url: &Url,
        name: &str,
        size: u64,
        source: &mut (impl AsyncRead + Unpin),
    ) -> Result<DriveItem, M365Error> {
        let mut offset = 0u64;
        loop {
            let want =
                usize::try_from((size - offset).min(UPLOAD_CHUNK as u64)).unwrap_or(UPLOAD_CHUNK);
            // A fresh buffer per fragment, handed to the request without a
            // copy: one fragment in memory at a time.
            let mut buf = vec![0u8; want];
            let got = fill(source, &mut buf).await?;
            if got != want {
                return Err(short_source(size, offset + got as u64));
            }
            let fragment = Bytes::from(buf);
            let end = offset + got as u64 - 1;
            let range = format!("bytes {offset}-{end}/{size}");
            let response = self
                .plain_request(Method::PUT, url, Cost::Two, |r| {
                    r.header(CONTENT_RANGE, range.clone())
                        .header(CONTENT_LENGTH, fragment.len())
                        .timeout(FRAGMENT_TIMEOUT)
                        .body(fragment.clone())
                })
                .await?;
            let status = response.response.status();
            match status {
                StatusCode::ACCEPTED => {}
                StatusCode::OK | StatusCode::CREATED if end + 1 == size => {
                    let item: WrittenItem = self
                        .json(response, &format!("finishing the upload of '{name}'"))
                        .await?;
                    return Ok(item.into_item());
                }
                StatusCode::RANGE_NOT_SATISFIABLE => {
                    // An earlier attempt of this fragment may have landed
                    // with its answer lost: ask where the session stands.
                    let progress = self
                        .plain_request(Method::GET, url, Cost::One, |r| r)
                        .await?;
                    let progress: Progress = self
                        .json(progress, "asking an upload session's progress")
                        .await?;
                    let next = progress
                        .next_expected_ranges
                        .first()
                        .and_then(|r| r.split('-').next())
                        .and_then(|n| n.parse::<u64>().ok());
                    if next != Some(end + 1) {
                        return Err(protocol(format!(
                            "the upload session of '{name}' expects bytes at {next:?}, not at {}",
                            end + 1
                        )));
                    }
                }
                _ => {
                    let body = self.error_body(response).await;
                    return Err(failure(
                        status,
                        &body,
                        "SharePoint",
                        &format!("a fragment of '{name}'"),
                    ));
                }
            }
            offset = end + 1;
            if offset >= size {
                return Err(protocol(format!(
                    "the upload session of '{name}' took every byte but never finished"
                )));
            }
        }
    }
}
