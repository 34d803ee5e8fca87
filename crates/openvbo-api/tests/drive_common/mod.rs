//! What the drive restore tests share besides `common`'s Graph client: binary downloads,
//! zips checked and unpacked by an independent reader (Python's zipfile), and small page
//! readers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    dead_code,
    unreachable_pub
)]

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

/// A POST whose answer is binary: status, Content-Disposition, bytes.
pub async fn download(
    server: &Server,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, String, Vec<u8>) {
    let mut request = server
        .client
        .post(server.url(path))
        .bearer_auth(token)
        .header("Accept", "application/octet-stream");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let disposition = response
        .headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        disposition,
        response.bytes().await.unwrap().to_vec(),
    )
}

/// Python's zipfile checks the archive's CRCs and lists each entry; returns (name, bytes) of
/// every entry, sorted by name.
pub fn unzip(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zip");
    std::fs::write(&path, zip).unwrap();
    let out = dir.path().join("out");
    let script = "import sys,zipfile\n\
                  z=zipfile.ZipFile(sys.argv[1])\n\
                  assert z.testzip() is None\n\
                  z.extractall(sys.argv[2])\n\
                  print('\\n'.join(i.filename for i in z.infolist()))\n";
    let run = std::process::Command::new("python3")
        .args(["-c", script, path.to_str().unwrap(), out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut entries: Vec<(String, Vec<u8>)> = String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|name| (name.to_owned(), std::fs::read(out.join(name)).unwrap()))
        .collect();
    entries.sort();
    entries
}

/// The `name`s of a page's results, in order.
pub fn names(page: &Value) -> Vec<&str> {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect()
}

/// The id of the result named `name`.
pub fn id_named<'v>(page: &'v Value, name: &str) -> &'v str {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no {name} in {page}"))["id"]
        .as_str()
        .unwrap()
}

/// SHA-256 of `bytes` in hex, computed by an independent implementation (Python's hashlib).
pub fn sha256(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys,hashlib; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}
