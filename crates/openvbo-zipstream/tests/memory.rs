//! A 1 GiB archive streams through in flat memory (its own test binary, so no other test's
//! allocations move the peak).
// Test code: a failed expectation panics, and the fixtures index what they built.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::StreamExt;
use openvbo_zipstream::{zip_stream, Method, ZipSource};

/// Generates `left` bytes without holding them (slices of one small pattern, varied by offset).
struct Synthetic {
    left: u64,
    pattern: &'static [u8],
}

static PATTERN: std::sync::LazyLock<Vec<u8>> =
    std::sync::LazyLock::new(|| (0..70_001u32).map(|i| (i % 251) as u8).collect());

impl tokio::io::AsyncRead for Synthetic {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let offset = (self.left % 65_521) as usize;
        let n = (buf.remaining() as u64).min(self.left).min(4096) as usize;
        buf.put_slice(&self.pattern[offset..offset + n]);
        self.left -= n as u64;
        Poll::Ready(Ok(()))
    }
}

/// Peak resident set size of this process, from /proc (kB).
fn peak_rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_gib_folder_zip_leaves_memory_flat() {
    const FILE: u64 = 64 * 1024 * 1024;
    const FILES: u64 = 16; // 1 GiB in all
    let before = peak_rss_kb();
    let sources = futures::stream::iter(0..FILES).map(|n| {
        Ok(ZipSource {
            path: format!("Folder/file-{n}.bin"),
            modified_unix: None,
            reader: Box::pin(Synthetic {
                left: FILE,
                pattern: &PATTERN,
            }),
        })
    });
    let mut body = Box::pin(zip_stream(sources, Method::Stored));
    let mut total = 0u64;
    while let Some(chunk) = body.next().await {
        total += chunk.unwrap().len() as u64;
    }
    let grown_mb = (peak_rss_kb() - before) / 1024;
    assert!(
        total > FILE * FILES,
        "the archive holds all the data: {total}"
    );
    assert!(grown_mb < 64, "peak RSS grew by {grown_mb} MB");
}
