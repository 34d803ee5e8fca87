//! Zip archives of many items, streamed as they are written.
//!
//! A restore session's "save several items", "download a folder" and "download a library"
//! answer one zip. The archive is produced while the client reads it: each entry's bytes are
//! pulled from its source only when its turn comes, pass through a fixed-size pipe, and leave
//! as body chunks. Memory is bounded by the pipe ([`PIPE_BYTES`]), the compressor's window
//! and one central-directory record per entry (name plus ~50 bytes), never by the data.
//!
//! Entries use data descriptors (sizes and CRC after the data), so no source has to be read
//! twice or measured first; zip64 records are written when an entry or the archive passes
//! 4 GiB.

mod names;

use std::io;
use std::pin::Pin;

use async_zip::base::write::ZipFileWriter;
use async_zip::{Compression, ZipEntryBuilder};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::io::AsyncRead;
use tokio::sync::oneshot;
use tokio_util::compat::TokioAsyncReadCompatExt;
use tokio_util::io::ReaderStream;

pub use names::EntryNames;

/// Bytes buffered between the zip writer and the response body.
pub const PIPE_BYTES: usize = 256 * 1024;

/// A byte source for one entry, read once, front to back.
pub type EntryReader = Pin<Box<dyn AsyncRead + Send>>;

/// One entry of the archive: its path inside the zip (`/`-separated) and its bytes.
pub struct ZipSource {
    pub path: String,
    /// Seconds since the Unix epoch; zip stores local-less DOS time, so this is written as UTC.
    pub modified_unix: Option<i64>,
    pub reader: EntryReader,
}

/// Whether entries are deflated or stored. Documents are often already compressed (Office
/// files are zips themselves), so `Stored` is the fast default for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Stored,
    Deflate,
}

/// Why an archive stopped early. The body stream ends with this error instead of a clean end,
/// so an HTTP client sees a broken transfer, never a truncated zip that looks whole.
#[derive(Debug, thiserror::Error)]
pub enum ZipStreamError {
    #[error("reading the source of zip entry '{path}' failed")]
    Source { path: String, source: io::Error },
    #[error("writing the zip archive failed")]
    Zip(#[source] async_zip::error::ZipError),
    #[error("the zip source list failed")]
    List(#[source] io::Error),
}

/// Streams a zip of `sources` (each opened lazily by the stream) as body chunks.
///
/// The writer runs on its own task; dropping the returned stream (a client that went away)
/// stops it at its next write.
pub fn zip_stream<S>(
    sources: S,
    method: Method,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static
where
    S: Stream<Item = io::Result<ZipSource>> + Send + 'static,
{
    let (writer_half, reader_half) = tokio::io::duplex(PIPE_BYTES);
    let (done_tx, done_rx) = oneshot::channel();
    tokio::spawn(async move {
        let result = write_archive(sources, writer_half, method).await;
        // The receiver is gone when the client dropped the body: nothing left to tell.
        let _ = done_tx.send(result);
    });
    let body = ReaderStream::with_capacity(reader_half, 64 * 1024);
    // After the pipe's end, surface the writer's failure as the body's last item.
    let tail = futures::stream::once(async move {
        match done_rx.await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(Err(io::Error::other(e))),
            Err(_) => Some(Err(io::Error::other("the zip writer stopped unexpectedly"))),
        }
    })
    .filter_map(futures::future::ready);
    body.chain(tail)
}

async fn write_archive<S>(
    sources: S,
    out: tokio::io::DuplexStream,
    method: Method,
) -> Result<(), ZipStreamError>
where
    S: Stream<Item = io::Result<ZipSource>> + Send,
{
    let compression = match method {
        Method::Stored => Compression::Stored,
        Method::Deflate => Compression::Deflate,
    };
    let mut zip = ZipFileWriter::with_tokio(out);
    let mut names = EntryNames::default();
    let mut sources = std::pin::pin!(sources);
    while let Some(source) = sources.next().await {
        let source = source.map_err(ZipStreamError::List)?;
        let name = names.unique(&source.path);
        let mut builder =
            ZipEntryBuilder::new(name.clone().into(), compression).unix_permissions(0o644);
        if let Some(date) = source.modified_unix.and_then(dos_time) {
            builder = builder.last_modification_date(date);
        }
        let mut entry = zip
            .write_entry_stream(builder)
            .await
            .map_err(ZipStreamError::Zip)?;
        futures::io::copy(&mut source.reader.compat(), &mut entry)
            .await
            .map_err(|source| ZipStreamError::Source { path: name, source })?;
        entry.close().await.map_err(ZipStreamError::Zip)?;
    }
    let mut out = zip.close().await.map_err(ZipStreamError::Zip)?;
    tokio::io::AsyncWriteExt::shutdown(out.get_mut())
        .await
        .map_err(|e| ZipStreamError::Zip(e.into()))?;
    Ok(())
}

/// A DOS date-time (two-second resolution, years 1980–2107) from a Unix timestamp.
fn dos_time(unix: i64) -> Option<async_zip::ZipDateTime> {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    if !(1980..=2107).contains(&year) {
        return None;
    }
    Some(
        async_zip::ZipDateTimeBuilder::new()
            .year(i32::try_from(year).ok()?)
            .month(month)
            .day(day)
            .hour(u32::try_from(secs / 3600).ok()?)
            .minute(u32::try_from(secs % 3600 / 60).ok()?)
            .second(u32::try_from(secs % 60).ok()?)
            .build(),
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_match_known_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_515), (2026, 3, 3));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert!(dos_time(0).is_none(), "1970 is before the DOS epoch (1980)");
        assert!(dos_time(1_772_532_930).is_some());
    }
}
