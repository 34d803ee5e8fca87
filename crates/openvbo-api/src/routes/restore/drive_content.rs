//! A backed-up file's bytes as a reader that owns what it needs (so it can feed a response
//! body, a zip entry or an upload), and downloads: one file's bytes, or a streamed zip.
//!
//! Chunks are read one at a time from the repository (decrypted and checked there); the
//! reader ends with an error if the chunks do not add up to the size the backup recorded,
//! so a damaged backup never passes for a whole file.

use std::io;

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::stream::{self, Stream, StreamExt};
use openvbo_repo::{PartEntry, Repository};
use openvbo_zipstream::{zip_stream, EntryReader, Method, ZipSource};
use tokio_util::io::StreamReader;

use super::drive_tree::DriveFile;

/// The bytes of `part`, chunk by chunk.
pub(crate) fn part_stream(
    repo: Repository,
    part: PartEntry,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
    let expected = part.size;
    stream::unfold(
        (repo, part.chunks, 0usize, 0u64, false),
        move |(repo, chunks, next, read, done)| async move {
            if done {
                return None;
            }
            let Some(chunk) = chunks.get(next) else {
                if read != expected {
                    let e = io::Error::other(format!(
                        "the backup holds {read} bytes of a file of {expected} bytes"
                    ));
                    return Some((Err(e), (repo, chunks, next, read, true)));
                }
                return None;
            };
            match repo.read_blob(chunk).await {
                Ok(bytes) => {
                    let read = read + bytes.len() as u64;
                    Some((Ok(bytes), (repo, chunks, next + 1, read, false)))
                }
                Err(e) => Some((
                    Err(io::Error::other(format!(
                        "reading the backed-up file failed: {e}"
                    ))),
                    (repo, chunks, next, read, true),
                )),
            }
        },
    )
}

/// The file's bytes as a reader; a file stored without content reads as empty.
pub(crate) fn file_reader(repo: &Repository, file: &DriveFile) -> EntryReader {
    match &file.content {
        Some(part) => Box::pin(StreamReader::new(part_stream(repo.clone(), part.clone()))),
        None => Box::pin(tokio::io::empty()),
    }
}

fn disposition(name: &str) -> HeaderValue {
    // A plain ASCII fallback plus the RFC 5987 form for any name.
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// One file's bytes, streamed, with its length and name.
pub(crate) fn file_response(repo: &Repository, file: &DriveFile) -> Response {
    let body = match &file.content {
        Some(part) => Body::from_stream(part_stream(repo.clone(), part.clone())),
        None => Body::empty(),
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let size = file.content.as_ref().map_or(0, |p| p.size);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    headers.insert(header::CONTENT_DISPOSITION, disposition(&file.name));
    response
}

/// A zip of `files` (each with its folder path inside the archive), streamed: each file is
/// read from the repository only when its turn comes.
pub(crate) fn zip_response(
    repo: &Repository,
    files: Vec<(Vec<String>, DriveFile)>,
    archive_name: &str,
) -> Response {
    let repo = repo.clone();
    let sources = stream::iter(files).map(move |(folders, file)| {
        let mut path = folders.join("/");
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(&file.name);
        Ok(ZipSource {
            path,
            modified_unix: Some(file.modified),
            reader: file_reader(&repo, &file),
        })
    });
    let body = Body::from_stream(zip_stream(sources, Method::Stored));
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        disposition(&format!("{archive_name}.zip")),
    );
    response
}
