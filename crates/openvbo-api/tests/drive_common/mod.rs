//! What the drive restore tests share: Microsoft Graph of the simulator as a tenant
//! administrator (to change drives "behind the backup's back" and to read what a restore
//! wrote), binary downloads, zips checked and unpacked by an independent reader (Python's
//! zipfile), and small page readers.
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

/// Microsoft Graph of the simulator, signed in as contoso's administrator.
pub struct Graph {
    base: String,
    http: reqwest::Client,
    token: String,
}

fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|s| {
            url::form_urlencoded::byte_serialize(s.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl Graph {
    pub async fn new(sim: &Sim) -> Graph {
        let base = sim.url.as_str().trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let r: Value = http
            .post(format!("{base}/contoso.onmicrosoft.com/oauth2/v2.0/token"))
            .form(&[
                ("client_id", "d3590ed6-52b3-4102-aeff-aad2292ab01c"),
                ("grant_type", "password"),
                ("username", "admin@contoso.onmicrosoft.com"),
                ("password", M365_PASSWORD),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Graph {
            base,
            http,
            token: r["access_token"].as_str().unwrap().to_owned(),
        }
    }

    async fn get_json(&self, url: &str) -> Value {
        let r = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "GET {url}: {}", r.status());
        r.json().await.unwrap()
    }

    /// A user's OneDrive id.
    pub async fn drive_of(&self, user: &str) -> String {
        let r = self
            .get_json(&format!("{}/v1.0/users/{user}/drive", self.base))
            .await;
        r["id"].as_str().unwrap().to_owned()
    }

    /// A site's document libraries: (name, drive id).
    pub async fn site_drives(&self, site: &str) -> Vec<(String, String)> {
        let r = self
            .get_json(&format!("{}/v1.0/sites/{site}/drives", self.base))
            .await;
        r["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["name"].as_str().unwrap().to_owned(),
                    d["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// The drive item at `path` as Graph gives it (eTag, file hashes…).
    pub async fn item(&self, drive: &str, path: &str) -> Value {
        self.get_json(&format!(
            "{}/v1.0/drives/{drive}/root:/{}",
            self.base,
            encode_path(path)
        ))
        .await
    }

    /// A file's bytes, or None if there is no file at `path`.
    pub async fn read(&self, drive: &str, path: &str) -> Option<Vec<u8>> {
        let r = self
            .http
            .get(format!(
                "{}/v1.0/drives/{drive}/root:/{}:/content",
                self.base,
                encode_path(path)
            ))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::NOT_FOUND {
            return None;
        }
        // Content is behind a pre-authenticated URL that takes no bearer token.
        let r = if r.status().is_redirection() {
            let to = r.headers()["location"].to_str().unwrap().to_owned();
            self.http.get(to).send().await.unwrap()
        } else {
            r
        };
        assert!(r.status().is_success(), "reading {path}: {}", r.status());
        Some(r.bytes().await.unwrap().to_vec())
    }

    pub async fn write(&self, drive: &str, path: &str, bytes: &[u8]) {
        let r = self
            .http
            .put(format!(
                "{}/v1.0/drives/{drive}/root:/{}:/content",
                self.base,
                encode_path(path)
            ))
            .bearer_auth(&self.token)
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "writing {path}: {}", r.status());
    }

    pub async fn delete(&self, drive: &str, path: &str) {
        let r = self
            .http
            .delete(format!(
                "{}/v1.0/drives/{drive}/root:/{}",
                self.base,
                encode_path(path)
            ))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT, "deleting {path}");
    }

    /// Names of the children of the folder at `path` ("" for the root), every page, sorted.
    pub async fn children(&self, drive: &str, path: &str) -> Vec<String> {
        let mut url = if path.is_empty() {
            format!("{}/v1.0/drives/{drive}/root/children", self.base)
        } else {
            format!(
                "{}/v1.0/drives/{drive}/root:/{}:/children",
                self.base,
                encode_path(path)
            )
        };
        let mut names = Vec::new();
        loop {
            let r = self.get_json(&url).await;
            for child in r["value"].as_array().unwrap() {
                names.push(child["name"].as_str().unwrap().to_owned());
            }
            match r["@odata.nextLink"].as_str() {
                Some(next) => url = next.to_owned(),
                None => break,
            }
        }
        names.sort();
        names
    }
}

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
