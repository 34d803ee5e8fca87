//! Where a file's bytes live: in memory (tenant-file text, small uploads),
//! generated on demand (`size` + `seed`), or spooled to a temporary file
//! (large uploads), so the simulator's memory stays small whatever is
//! uploaded to it. Readers get a byte stream of any range.

use std::io::SeekFrom;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures::Stream;
use quickxorhash::QuickXorHash;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::synthetic_files::fill;

/// Bytes are produced and sent in pieces of this size.
pub(crate) const PIECE: usize = 64 * 1024;
/// Uploads above this size go to a spool file instead of memory.
pub(crate) const IN_MEMORY_MAX: u64 = 4 * 1024 * 1024;
/// Hashes of generated content above this size are computed when a listing
/// first shows the file (`drive_hashes`), not when the drive is opened:
/// hashing every generated file up front would cost seconds per synthetic
/// OneDrive that may never be listed.
pub(crate) const EAGER_HASH_MAX: u64 = 64 * 1024;

/// A spool file, removed when the last content referring to it goes.
#[derive(Debug)]
pub(crate) struct SpoolFile {
    pub path: PathBuf,
}

impl Drop for SpoolFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Content {
    Bytes(Bytes),
    Generated { size: u64, seed: u64 },
    Spooled { file: Arc<SpoolFile>, size: u64 },
}

impl Content {
    pub(crate) fn size(&self) -> u64 {
        match self {
            Content::Bytes(b) => b.len() as u64,
            Content::Generated { size, .. } | Content::Spooled { size, .. } => *size,
        }
    }

    /// The base64 quickXorHash, when it is cheap to compute here.
    pub(crate) fn eager_hash(&self) -> Option<String> {
        match self {
            Content::Bytes(b) => Some(hash_of(b)),
            Content::Generated { size, seed } if *size <= EAGER_HASH_MAX => {
                Some(generated_hash(*seed, *size))
            }
            _ => None,
        }
    }

    /// The bytes `start..end` as a stream of pieces.
    pub(crate) fn stream(
        self,
        start: u64,
        end: u64,
    ) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
        struct State {
            content: Content,
            pos: u64,
            end: u64,
            file: Option<tokio::fs::File>,
        }
        let state = State {
            content: self,
            pos: start,
            end,
            file: None,
        };
        futures::stream::unfold(state, |mut state| async move {
            if state.pos >= state.end {
                return None;
            }
            let n = usize::try_from((state.end - state.pos).min(PIECE as u64)).unwrap_or(PIECE);
            let piece = match &state.content {
                Content::Bytes(b) => {
                    let from = usize::try_from(state.pos).unwrap_or(usize::MAX);
                    Ok(b.slice(from.min(b.len())..(from + n).min(b.len())))
                }
                Content::Generated { seed, .. } => {
                    let mut buf = vec![0u8; n];
                    fill(*seed, state.pos, &mut buf);
                    Ok(Bytes::from(buf))
                }
                Content::Spooled { file, .. } => {
                    read_spooled(&mut state.file, file, state.pos, n).await
                }
            };
            match piece {
                Ok(piece) if !piece.is_empty() => {
                    state.pos += piece.len() as u64;
                    Some((Ok(piece), state))
                }
                Ok(_) => {
                    state.pos = state.end;
                    Some((
                        Err(std::io::Error::other("spool file shorter than recorded")),
                        state,
                    ))
                }
                Err(e) => {
                    state.pos = state.end;
                    Some((Err(e), state))
                }
            }
        })
    }
}

async fn read_spooled(
    open: &mut Option<tokio::fs::File>,
    spool: &SpoolFile,
    pos: u64,
    n: usize,
) -> std::io::Result<Bytes> {
    if open.is_none() {
        let mut file = tokio::fs::File::open(&spool.path).await?;
        file.seek(SeekFrom::Start(pos)).await?;
        *open = Some(file);
    }
    let Some(file) = open.as_mut() else {
        return Err(std::io::Error::other("spool file not open"));
    };
    let mut buf = vec![0u8; n];
    let mut filled = 0;
    while filled < n {
        let Some(unfilled) = buf.get_mut(filled..) else {
            break;
        };
        let read = file.read(unfilled).await?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    buf.truncate(filled);
    Ok(Bytes::from(buf))
}

/// The base64 quickXorHash of generated content, produced and hashed one
/// piece at a time (memory: one piece, whatever the size).
pub(crate) fn generated_hash(seed: u64, size: u64) -> String {
    let mut hasher = QuickXorHash::new();
    let mut buf = vec![0u8; PIECE];
    let mut offset = 0u64;
    while offset < size {
        let n = usize::try_from((size - offset).min(PIECE as u64)).unwrap_or(PIECE);
        let piece = buf.get_mut(..n).unwrap_or_default();
        fill(seed, offset, piece);
        hasher.update(piece);
        offset += n as u64;
    }
    STANDARD.encode(hasher.finalize())
}

pub(crate) fn hash_of(bytes: &[u8]) -> String {
    let mut hasher = QuickXorHash::new();
    hasher.update(bytes);
    STANDARD.encode(hasher.finalize())
}

/// The spool directory, created on first use and removed with the simulator.
pub(crate) struct Spool {
    dir: std::sync::Mutex<Option<tempfile::TempDir>>,
    next: AtomicU64,
}

impl Spool {
    pub(crate) fn new() -> Self {
        Spool {
            dir: std::sync::Mutex::new(None),
            next: AtomicU64::new(0),
        }
    }

    /// A fresh path in the spool directory (the file is not created).
    pub(crate) fn new_path(&self) -> std::io::Result<PathBuf> {
        let mut dir = self
            .dir
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if dir.is_none() {
            *dir = Some(
                tempfile::Builder::new()
                    .prefix("m365-sim-spool-")
                    .tempdir()?,
            );
        }
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        match dir.as_ref() {
            Some(d) => Ok(d.path().join(format!("{n:08}.bin"))),
            None => Err(std::io::Error::other("no spool directory")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[test]
    fn microsofts_published_example_hash() {
        // The value the reference implementations publish for "hello world".
        assert_eq!(hash_of(b"hello world"), "aCgDG9jwBhDc4Q1yawMZAAAAAAA=");
        assert_eq!(hash_of(b""), "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    }

    #[tokio::test]
    async fn ranges_of_generated_content_agree() {
        let content = Content::Generated {
            size: 200_000,
            seed: 3,
        };
        let whole: Vec<u8> = content
            .clone()
            .stream(0, 200_000)
            .map(|p| p.map(|b| b.to_vec()).unwrap_or_default())
            .concat()
            .await;
        assert_eq!(whole.len(), 200_000);
        let part: Vec<u8> = content
            .clone()
            .stream(70_001, 140_003)
            .map(|p| p.map(|b| b.to_vec()).unwrap_or_default())
            .concat()
            .await;
        assert_eq!(part, whole[70_001..140_003]);
        assert_eq!(content.eager_hash(), None, "too big to hash up front");
        let small = Content::Generated {
            size: 50_000,
            seed: 3,
        };
        assert_eq!(small.eager_hash(), Some(hash_of(&whole[..50_000])));
    }
}
