//! A real S3-compatible server (`moto_server`) started by the test, on a free port, and
//! plain unsigned HTTP to look inside its buckets (moto does not check signatures).
//! `OPENVBO_MOTO_SERVER` names the binary (.ci/run installs it in a venv).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    dead_code,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::collections::BTreeMap;
use std::process::Child;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

#[path = "../../../openvbo-repo/tests/moto_spawn/mod.rs"]
mod moto_spawn;
use moto_spawn::spawn_moto;

/// Any signature: moto does not check it, but reads an unsigned request as anonymous and
/// refuses it private objects.
const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=test-access/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00";

pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    pub async fn start() -> Moto {
        Moto::start_with(&[]).await
    }

    /// moto with extra arguments (e.g. `-c cert.pem -k key.pem` to serve HTTPS).
    pub async fn start_with(extra: &[&str]) -> Moto {
        let bin = std::env::var("OPENVBO_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let (child, port) = spawn_moto(&bin, extra);
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {port} within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        moto
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub async fn create_bucket(&self, bucket: &str) {
        let r = reqwest::Client::new()
            .put(format!("{}/{bucket}", self.endpoint()))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }

    /// Every object under `prefix` with its bytes, by key (pages of 1000 followed).
    pub async fn objects(&self, bucket: &str, prefix: &str) -> BTreeMap<String, Vec<u8>> {
        let client = reqwest::Client::new();
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut url = format!("{}/{bucket}?list-type=2&prefix={prefix}", self.endpoint());
            if let Some(t) = &token {
                url.push_str(&format!("&continuation-token={}", urlencode(t)));
            }
            let r = client
                .get(url)
                .header("Authorization", AUTHORIZATION)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.status());
            let body = r.text().await.unwrap();
            keys.extend(
                body.split("<Key>")
                    .skip(1)
                    .filter_map(|s| s.split("</Key>").next())
                    .map(str::to_owned),
            );
            token = body
                .split("<NextContinuationToken>")
                .nth(1)
                .and_then(|s| s.split("</NextContinuationToken>").next())
                .map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        let mut out = BTreeMap::new();
        for key in keys {
            let r = client
                .get(format!("{}/{bucket}/{key}", self.endpoint()))
                .header("Authorization", AUTHORIZATION)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{key}: {}", r.status());
            out.insert(key, r.bytes().await.unwrap().to_vec());
        }
        out
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
