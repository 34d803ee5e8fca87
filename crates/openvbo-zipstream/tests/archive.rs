//! Archives read back by an independent reader (Python's zipfile) and a failing source.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::io;
use std::process::Command;

use futures::StreamExt;
use openvbo_zipstream::{zip_stream, Method, ZipSource};

fn source(path: &str, data: Vec<u8>) -> io::Result<ZipSource> {
    Ok(ZipSource {
        path: path.into(),
        modified_unix: Some(1_772_532_930),
        reader: Box::pin(io::Cursor::new(data)),
    })
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 9) as u8)
        .collect()
}

async fn collect(method: Method, sources: Vec<io::Result<ZipSource>>) -> io::Result<Vec<u8>> {
    let mut body = Box::pin(zip_stream(futures::stream::iter(sources), method));
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

/// Python's zipfile lists the entries (name, size, sha256 of the extracted bytes) after its CRC test.
fn python_listing(zip: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zip");
    std::fs::write(&path, zip).unwrap();
    let script = "import hashlib,sys,zipfile\n\
                  z=zipfile.ZipFile(sys.argv[1])\n\
                  assert z.testzip() is None\n\
                  for i in z.infolist(): print(i.filename, i.file_size, hashlib.sha256(z.read(i)).hexdigest(), i.date_time)\n";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn sha256_hex(data: &[u8]) -> String {
    let out = Command::new("python3")
        .args([
            "-c",
            "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(data)?;
            child.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn entries_read_back_with_their_names_sizes_and_bytes() {
    for method in [Method::Stored, Method::Deflate] {
        let a = pattern(10, 1);
        let b = pattern(300_000, 2);
        let zip = collect(
            method,
            vec![
                source("Reports/q1.csv", a.clone()),
                source("/Reports/../big.bin", b.clone()),
                source("empty.txt", vec![]),
                source("reports/Q1.csv", a.clone()),
            ],
        )
        .await
        .unwrap();
        let listing = python_listing(&zip);
        let expected = format!(
            "Reports/q1.csv 10 {ha} (2026, 3, 3, 10, 15, 30)\n\
             Reports/big.bin 300000 {hb} (2026, 3, 3, 10, 15, 30)\n\
             empty.txt 0 {he} (2026, 3, 3, 10, 15, 30)\n\
             reports/Q1 (2).csv 10 {ha} (2026, 3, 3, 10, 15, 30)\n",
            ha = sha256_hex(&a),
            hb = sha256_hex(&b),
            he = sha256_hex(&[]),
        );
        assert_eq!(listing, expected, "{method:?}");
    }
}

/// A reader that yields some bytes and then fails, like a repository read hitting corruption.
struct Failing(usize);

impl tokio::io::AsyncRead for Failing {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        if self.0 == 0 {
            return std::task::Poll::Ready(Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "chunk 7 is corrupt",
            )));
        }
        let n = self.0.min(buf.remaining()).min(1000);
        buf.put_slice(&vec![b'x'; n]);
        self.0 -= n;
        std::task::Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn a_failing_source_ends_the_body_with_an_error_naming_the_entry() {
    let sources = vec![
        source("ok.txt", b"fine".to_vec()),
        Ok(ZipSource {
            path: "broken.bin".into(),
            modified_unix: None,
            reader: Box::pin(Failing(5000)),
        }),
        source("never.txt", b"unreached".to_vec()),
    ];
    let err = collect(Method::Stored, sources).await.unwrap_err();
    let inner = err.get_ref().unwrap().to_string();
    assert_eq!(inner, "reading the source of zip entry 'broken.bin' failed");
}

#[tokio::test]
async fn a_failing_listing_ends_the_body_with_an_error() {
    let sources = vec![
        source("ok.txt", b"fine".to_vec()),
        Err(io::Error::other("catalog unavailable")),
    ];
    let err = collect(Method::Stored, sources).await.unwrap_err();
    assert_eq!(
        err.get_ref().unwrap().to_string(),
        "the zip source list failed"
    );
}
