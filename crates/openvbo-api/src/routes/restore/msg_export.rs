//! The `.msg` file of a stored message, built in memory or, for a big message, in a temporary
//! file, and sent from there as an answer's body or a zip entry.
//!
//! `cfb` writes the compound file through `Read + Write + Seek`, so it cannot stream: the
//! whole file exists before its first byte is sent. In memory that is a third copy of a big
//! message beside its MIME and the parts `mail-parser` decoded (see `openvbo-msg`), so past
//! [`MSG_IN_MEMORY_MAX`] it goes to an unnamed temporary file in the data dir's `tmp`
//! (`tempfile::tempfile_in`: on Linux an `O_TMPFILE` or a file unlinked at once), which the
//! system removes when the last handle closes — when the answer or zip entry is sent, fails, or
//! the client goes away — and which a crash cannot leave behind.

use std::io::{Cursor, Seek, SeekFrom};
use std::path::Path;
use std::pin::Pin;

use axum::body::Body;
use openvbo_core::CoreError;
use openvbo_msg::{write_msg, write_msg_to_vec, MsgOptions};
use tokio::io::AsyncRead;
use tokio_util::io::ReaderStream;

/// Messages whose MIME is larger than this get their `.msg` built in a temporary file. The
/// `.msg` is about the MIME's size (attachments lose base64's third, text bodies double as
/// UTF-16), so this bounds the compound file a save holds in memory. Mail is mostly far
/// smaller (tens of KB) and stays in memory, sparing the disk; 8 MiB keeps the memory of
/// concurrent saves modest while only messages with real attachments pay for a file.
pub(super) const MSG_IN_MEMORY_MAX: usize = 8 * 1024 * 1024;

/// Bytes read from a temporary `.msg` per chunk of the answer.
const READ_CHUNK: usize = 64 * 1024;

/// A built `.msg`.
#[derive(Debug)]
pub(super) enum MsgFile {
    Memory(Vec<u8>),
    /// An unnamed temporary file, positioned at its start.
    Temp {
        file: std::fs::File,
        len: u64,
    },
}

impl MsgFile {
    /// Converts `mime` into a `.msg`, in a temporary file in `temp_dir` when the message is
    /// bigger than [`MSG_IN_MEMORY_MAX`]. Blocking (CPU and file writes): call it on a
    /// blocking thread.
    pub(super) fn build(
        mime: &[u8],
        options: MsgOptions,
        temp_dir: &Path,
        name: &str,
    ) -> Result<Self, CoreError> {
        let failed = |e: &dyn std::fmt::Display| {
            CoreError::Internal(format!("converting '{name}' to MSG failed: {e}"))
        };
        if mime.len() <= MSG_IN_MEMORY_MAX {
            return write_msg_to_vec(mime, options)
                .map(MsgFile::Memory)
                .map_err(|e| failed(&e));
        }
        let file = tempfile::tempfile_in(temp_dir).map_err(|e| {
            CoreError::Internal(format!(
                "converting '{name}' to MSG failed: cannot create a temporary file in {}: {e}",
                temp_dir.display()
            ))
        })?;
        let mut file = write_msg(mime, file, options).map_err(|e| failed(&e))?;
        let len = file.seek(SeekFrom::End(0)).map_err(|e| failed(&e))?;
        file.seek(SeekFrom::Start(0)).map_err(|e| failed(&e))?;
        Ok(MsgFile::Temp { file, len })
    }

    pub(super) fn len(&self) -> u64 {
        match self {
            MsgFile::Memory(bytes) => u64::try_from(bytes.len()).unwrap_or(u64::MAX),
            MsgFile::Temp { len, .. } => *len,
        }
    }

    /// The bytes as a reader (a zip entry's source); dropping it closes the temporary file.
    pub(super) fn into_reader(self) -> Pin<Box<dyn AsyncRead + Send>> {
        match self {
            MsgFile::Memory(bytes) => Box::pin(Cursor::new(bytes)),
            MsgFile::Temp { file, .. } => Box::pin(tokio::fs::File::from_std(file)),
        }
    }

    /// The bytes as an answer's body, streamed from the temporary file.
    pub(super) fn into_body(self) -> Body {
        match self {
            MsgFile::Memory(bytes) => Body::from(bytes),
            temp @ MsgFile::Temp { .. } => {
                Body::from_stream(ReaderStream::with_capacity(temp.into_reader(), READ_CHUNK))
            }
        }
    }
}

/// The blocking conversion on a blocking thread.
pub(super) async fn build_msg(
    mime: Vec<u8>,
    options: MsgOptions,
    temp_dir: std::path::PathBuf,
    name: String,
) -> Result<MsgFile, CoreError> {
    tokio::task::spawn_blocking(move || MsgFile::build(&mime, options, &temp_dir, &name))
        .await
        .map_err(|e| CoreError::Internal(format!("the MSG conversion stopped: {e}")))?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;
    use tokio::io::AsyncReadExt;

    const OPTIONS: MsgOptions = MsgOptions {
        read: true,
        received_unix: None,
    };

    fn message(body_len: usize) -> Vec<u8> {
        let mut m = b"From: a@contoso.test\r\nTo: b@contoso.test\r\nSubject: s\r\n\r\n".to_vec();
        m.extend(std::iter::repeat_n(b'x', body_len));
        m
    }

    async fn read(msg: MsgFile) -> Vec<u8> {
        let mut out = Vec::new();
        msg.into_reader().read_to_end(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn small_messages_stay_in_memory_and_big_ones_go_to_an_unnamed_file() {
        let dir = tempfile::tempdir().unwrap();
        let small = MsgFile::build(&message(100), OPTIONS, dir.path(), "s").unwrap();
        assert!(matches!(small, MsgFile::Memory(_)), "{small:?}");
        let big_mime = message(MSG_IN_MEMORY_MAX + 1);
        let big = MsgFile::build(&big_mime, OPTIONS, dir.path(), "s").unwrap();
        assert!(matches!(big, MsgFile::Temp { .. }), "{big:?}");
        // Unnamed: nothing in the directory even while the file is open.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let len = big.len();
        let bytes = read(big).await;
        assert_eq!(u64::try_from(bytes.len()).unwrap(), len);
        // The in-memory conversion's bytes but for the storages' creation and modification
        // times, which cfb stamps with the current time (16 bytes per directory entry).
        let in_memory = write_msg_to_vec(&big_mime, OPTIONS).unwrap();
        assert_eq!(bytes.len(), in_memory.len());
        let differing = bytes.iter().zip(&in_memory).filter(|(a, b)| a != b).count();
        assert!(differing <= 4 * 16, "{differing} bytes differ");
        assert_eq!(
            bytes.get(..8),
            Some(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1][..])
        );
    }

    #[test]
    fn a_missing_temp_dir_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let err = MsgFile::build(&message(MSG_IN_MEMORY_MAX + 1), OPTIONS, &gone, "Big one")
            .unwrap_err()
            .to_string();
        assert!(err.contains("'Big one'"), "{err}");
        assert!(err.contains("cannot create a temporary file in"), "{err}");
    }
}
