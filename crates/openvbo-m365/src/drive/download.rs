//! A file's bytes as a stream of chunks, in bounded memory.
//!
//! `/content` answers 302 to a short-lived pre-authenticated URL; the
//! bytes come from there, without our token. When the connection drops (or
//! stalls) mid-file, the download resumes with `Range: bytes={received}-`;
//! when the URL has expired (401/403), a fresh one is fetched from
//! `/content`. A server that ignores the range and sends the whole file
//! again has its first bytes skipped. At the end the size and, when known,
//! the quickXorHash are checked.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use quickxorhash::QuickXorHash;
use reqwest::header::{ACCEPT, CONTENT_RANGE, LOCATION, RANGE};
use reqwest::{Method, Response, StatusCode};
use url::Url;

use super::http::{failure, protocol, DriveApi};
use super::resource_units::Cost;
use super::types::{DriveId, FileFacts, ItemId};
use crate::error::{transport_error, ErrorKind, M365Error};
use crate::retry::Held;

/// Failed attempts in a row (without a byte of progress) before giving up.
const MAX_FRUITLESS_ATTEMPTS: u32 = 5;
/// One download may take this long in all (Corso: 48 h for large files).
const WHOLE_FILE_TIMEOUT: Duration = Duration::from_secs(48 * 3600);

pub struct FileDownload<'a> {
    api: DriveApi<'a>,
    drive: DriveId,
    item: ItemId,
    url: Url,
    /// The answer being read, with the lane's slots it holds until its
    /// body ends or it is dropped.
    response: Option<Held>,
    received: u64,
    /// Bytes still to drop from a response that ignored our range.
    skip: u64,
    total: Option<u64>,
    expected: FileFacts,
    hasher: QuickXorHash,
    hash: Option<String>,
    fruitless: u32,
    resumes: u32,
    refreshes: u32,
    done: bool,
}

impl std::fmt::Debug for FileDownload<'_> {
    // The URL is a credential; only say which item this is.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileDownload")
            .field("drive", &self.drive)
            .field("item", &self.item)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl<'a> DriveApi<'a> {
    /// A fresh pre-authenticated URL for the item's content.
    pub(crate) async fn content_url(
        &self,
        drive: &DriveId,
        item: &ItemId,
    ) -> Result<Url, M365Error> {
        let url = self.url(&["drives", &drive.0, "items", &item.0, "content"], &[])?;
        let response = self
            .graph_request(Method::GET, &url, Cost::One, |r| r)
            .await?;
        let status = response.response.status();
        if status == StatusCode::FOUND
            || status == StatusCode::SEE_OTHER
            || status == StatusCode::TEMPORARY_REDIRECT
        {
            let location = response
                .response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    protocol("Microsoft Graph redirected a download without a Location")
                })?;
            return Url::parse(location)
                .map_err(|_| protocol("Microsoft Graph redirected a download to a malformed URL"));
        }
        let body = self.error_body(response).await;
        Err(failure(
            status,
            &body,
            "Microsoft Graph",
            &format!("the content of item {item}"),
        ))
    }

    /// Starts reading a file; `expected` (from the delta item) is checked
    /// at the end.
    pub async fn download(
        &self,
        drive: &DriveId,
        item: &ItemId,
        expected: FileFacts,
    ) -> Result<FileDownload<'a>, M365Error> {
        let url = self.content_url(drive, item).await?;
        Ok(FileDownload {
            api: self.clone_api(),
            drive: drive.clone(),
            item: item.clone(),
            url,
            response: None,
            received: 0,
            skip: 0,
            total: expected.size,
            expected,
            hasher: QuickXorHash::new(),
            hash: None,
            fruitless: 0,
            resumes: 0,
            refreshes: 0,
            done: false,
        })
    }
}

/// `bytes {start}-{end}/{total}` → (start, total).
fn content_range(response: &Response) -> Option<(u64, Option<u64>)> {
    let raw = response.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    let rest = raw.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let start = range.split_once('-')?.0.trim().parse().ok()?;
    Some((start, total.trim().parse().ok()))
}

impl FileDownload<'_> {
    pub fn received(&self) -> u64 {
        self.received
    }

    /// How often the download resumed after a broken connection.
    pub fn resumes(&self) -> u32 {
        self.resumes
    }

    /// How often an expired URL was replaced.
    pub fn url_refreshes(&self) -> u32 {
        self.refreshes
    }

    /// The base64 quickXorHash of the bytes, once all were read.
    pub fn quick_xor_hash(&self) -> Option<&str> {
        self.hash.as_deref()
    }

    fn what(&self) -> String {
        format!("item {} of drive {}", self.item, self.drive)
    }

    /// A failed attempt; gives up after too many in a row.
    fn attempt_failed(&mut self, error: M365Error) -> Result<(), M365Error> {
        self.response = None;
        self.fruitless += 1;
        if self.fruitless >= MAX_FRUITLESS_ATTEMPTS {
            return Err(M365Error::new(
                error.kind.clone(),
                format!(
                    "downloading {} failed {} times in a row: {}",
                    self.what(),
                    self.fruitless,
                    error.message
                ),
            ));
        }
        tracing::info!(item = %self.item, received = self.received, error = %error, "download interrupted; resuming");
        Ok(())
    }

    async fn open(&mut self) -> Result<(), M365Error> {
        let from = self.received;
        let held = self
            .api
            .plain_request(Method::GET, &self.url, Cost::One, |r| {
                let r = r.header(ACCEPT, "*/*").timeout(WHOLE_FILE_TIMEOUT);
                if from > 0 {
                    r.header(RANGE, format!("bytes={from}-"))
                } else {
                    r
                }
            })
            .await?;
        let response = &held.response;
        match response.status() {
            StatusCode::OK => {
                self.skip = from;
                self.total = self.total.or(response.content_length());
            }
            StatusCode::PARTIAL_CONTENT => match content_range(response) {
                Some((start, total)) if start == from => {
                    self.total = self.total.or(total);
                }
                _ => {
                    return Err(protocol(format!(
                        "the download of {} resumed at the wrong offset",
                        self.what()
                    )))
                }
            },
            StatusCode::RANGE_NOT_SATISFIABLE if Some(from) == self.total => {
                self.response = None;
                return Ok(());
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                // The pre-authenticated URL expired: ask `/content` again,
                // after giving back this answer's slots (a download must
                // never hold one while waiting for another).
                drop(held);
                self.refreshes += 1;
                if self.refreshes > MAX_FRUITLESS_ATTEMPTS {
                    return Err(M365Error::new(
                        ErrorKind::Unauthorized,
                        format!("the download URLs of {} keep being refused", self.what()),
                    ));
                }
                let (drive, item) = (self.drive.clone(), self.item.clone());
                self.url = self.api.content_url(&drive, &item).await?;
                return Box::pin(self.open()).await;
            }
            status => {
                let body = self.api.error_body(held).await;
                return Err(failure(
                    status,
                    &body,
                    "SharePoint",
                    &format!("the download of {}", self.what()),
                ));
            }
        }
        self.response = Some(held);
        Ok(())
    }

    /// The next bytes of the file, `None` at the end (after the checks).
    pub async fn next_chunk(&mut self) -> Result<Option<Bytes>, M365Error> {
        let stall = self.api.session.http_parts().0.settings.request_timeout;
        loop {
            if self.done {
                return Ok(None);
            }
            if self.response.is_none() {
                if self.total == Some(self.received) && self.received > 0 {
                    return self.finish().map(|()| None);
                }
                if self.received > 0 || self.fruitless > 0 {
                    self.resumes += 1;
                }
                if let Err(e) = self.open().await {
                    // Throttling and server errors come back only once the
                    // lane has retried them as long as its budget allows;
                    // asking again at once would ignore Microsoft's
                    // `Retry-After`. A lost connection is worth a resume.
                    if matches!(e.kind, ErrorKind::Unreachable | ErrorKind::Timeout) {
                        self.attempt_failed(e)?;
                        continue;
                    }
                    return Err(e);
                }
                if self.response.is_none() {
                    continue;
                }
            }
            let Some(response) = self.response.as_mut() else {
                continue;
            };
            let next = tokio::time::timeout(stall, response.response.chunk()).await;
            match next {
                Ok(Ok(Some(mut chunk))) => {
                    if self.skip > 0 {
                        let drop = usize::try_from(self.skip.min(chunk.len() as u64))
                            .unwrap_or(chunk.len());
                        self.skip -= drop as u64;
                        chunk = chunk.slice(drop..);
                        if chunk.is_empty() {
                            continue;
                        }
                    }
                    self.received += chunk.len() as u64;
                    if self.total.is_some_and(|t| self.received > t) {
                        return Err(protocol(format!(
                            "{} is longer than its reported size",
                            self.what()
                        )));
                    }
                    self.fruitless = 0;
                    self.hasher.update(&chunk);
                    return Ok(Some(chunk));
                }
                Ok(Ok(None)) => {
                    self.response = None;
                    if self.total.is_none_or(|t| self.received >= t) {
                        return self.finish().map(|()| None);
                    }
                    // The body ended early without an error: resume.
                    self.attempt_failed(M365Error::new(
                        ErrorKind::Unreachable,
                        "the body ended early",
                    ))?;
                }
                Ok(Err(e)) => {
                    let host = self.url.host_str().unwrap_or_default().to_owned();
                    self.attempt_failed(transport_error(&e, &host, stall))?;
                }
                Err(_) => {
                    self.attempt_failed(M365Error::new(
                        ErrorKind::Timeout,
                        format!("no bytes for {} s", stall.as_secs()),
                    ))?;
                }
            }
        }
    }

    fn finish(&mut self) -> Result<(), M365Error> {
        self.done = true;
        let hash = STANDARD.encode(self.hasher.finalize());
        if let Some(size) = self.expected.size {
            if size != self.received {
                return Err(protocol(format!(
                    "{} has {} bytes, not the {size} Microsoft reported",
                    self.what(),
                    self.received
                )));
            }
        }
        if let Some(expected) = &self.expected.quick_xor_hash {
            if *expected != hash {
                return Err(protocol(format!(
                    "the bytes of {} do not match their quickXorHash",
                    self.what()
                )));
            }
        }
        self.hash = Some(hash);
        Ok(())
    }
}
