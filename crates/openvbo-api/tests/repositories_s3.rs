//! S3-compatible object storage end to end, against a real S3 server the test starts
//! (`moto_server`; CI installs it, `OPENVBO_MOTO_SERVER` may name the binary): an account,
//! an object storage repository verified on add (with clear refusals for a missing bucket,
//! a dead endpoint and refused credentials), bucket and folder browsing, and a backup
//! repository whose data is in the bucket and opens with the encryption password alone.
//! No secret in any response or log line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;
mod moto_common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use moto_common::Moto;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SECRET_KEY: &str = "moto-Secret-Key/Never+Shown";

/// The tests of this file run one at a time: each starts its own moto on a port picked
/// free, and two starting at once on a loaded machine can race for one.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const KEY_PASSWORD: &str = "Bucket-Encryption-Passw0rd";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A plain HTTP/1.1 exchange with moto (it does not check signatures): (status line, body).
async fn raw_http(port: u16, method: &str, target: &str) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let req = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await.unwrap();
    let text = String::from_utf8_lossy(&resp).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        head.lines().next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
}

async fn bucket_keys(port: u16, bucket: &str, prefix: &str) -> Vec<String> {
    let (status, body) = raw_http(
        port,
        "GET",
        &format!("/{bucket}?list-type=2&prefix={prefix}"),
    )
    .await;
    assert!(status.contains("200"), "{status} {body}");
    body.split("<Key>")
        .skip(1)
        .filter_map(|s| s.split("</Key>").next())
        .map(str::to_owned)
        .collect()
}

/// An S3 endpoint that refuses every request's credentials, as a real one does for a
/// wrong access key (moto accepts any).
async fn refusing_endpoint() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let _ = s.read(&mut buf).await;
                let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>";
                let resp = format!("HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    port
}

fn storage_body(endpoint: &str, account: &str, bucket: &str, name: &str) -> Value {
    json!({"name": name, "description": "Created with REST", "type": "AmazonS3Compatible", "accountId": account,
           "amazonBucketS3Compatible": {"servicePoint": endpoint, "customRegionId": "us-east-1", "name": bucket},
           "s3Folder": "RESTStorageFolder", "sizeLimitEnabled": true, "sizeLimitGB": 1024})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_repository_keeps_its_data_in_the_bucket_and_opens_by_password() {
    let _serial = SERIAL.lock().await;
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace,m365_sim=off,hyper=off,h2=off,rustls=off")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();
    let moto = Moto::start().await;
    let (status, _) = raw_http(moto.port, "PUT", "/backups").await;
    assert!(status.contains("200"), "{status}");
    let endpoint = format!("http://127.0.0.1:{}", moto.port);
    let (_dir, _sim, server) = start_with(vec![contoso()], |_| {}).await;
    let token = server.token().await;
    let mut responses = String::new();
    macro_rules! call {
        ($m:expr, $p:expr, $b:expr) => {{
            let (s, b) = server.call($m, AsRef::<str>::as_ref(&$p), &token, $b).await;
            responses.push_str(&b.to_string());
            (s, b)
        }};
    }

    let (status, account) = call!(
        Method::POST,
        "/v6/Accounts",
        Some(json!({
        "accountType": "amazonS3CompatibleAccount", "userName": "test-access", "password": SECRET_KEY, "description": "moto"}))
    );
    assert_eq!(status, StatusCode::CREATED, "{account}");
    let account_id = account["id"].as_str().unwrap().to_owned();

    // Verified on add: refusals that say what to fix.
    let (s, b) = call!(
        Method::POST,
        "/v6/objectstoragerepositories",
        Some(storage_body(&endpoint, &account_id, "no-such-bucket", "x"))
    );
    assert_error(
        s,
        &b,
        StatusCode::BAD_REQUEST,
        &["no bucket 'no-such-bucket'"],
    );
    // Port 1: nothing listens there and it is outside the ephemeral range. A port picked free
    // (bound, then released) was once answered in CI by something else by the time the server
    // connected, so the check got a different refusal.
    let dead = "http://127.0.0.1:1".to_owned();
    let (s, b) = call!(
        Method::POST,
        "/v6/objectstoragerepositories",
        Some(storage_body(&dead, &account_id, "backups", "x"))
    );
    assert_error(
        s,
        &b,
        StatusCode::BAD_REQUEST,
        &["cannot be reached", &dead],
    );
    let refusing = format!("http://127.0.0.1:{}", refusing_endpoint().await);
    let (s, b) = call!(
        Method::POST,
        "/v6/objectstoragerepositories",
        Some(storage_body(&refusing, &account_id, "backups", "x"))
    );
    assert_error(
        s,
        &b,
        StatusCode::BAD_REQUEST,
        &["refused the account's credentials", "access key"],
    );
    let mut azure = storage_body(&endpoint, &account_id, "backups", "x");
    azure["type"] = json!("AzureBlob");
    let (s, b) = call!(Method::POST, "/v6/objectstoragerepositories", Some(azure));
    assert_error(
        s,
        &b,
        StatusCode::BAD_REQUEST,
        &["not supported", "AmazonS3Compatible"],
    );
    let (_, none) = call!(Method::GET, "/v6/objectstoragerepositories", None);
    assert_eq!(none, json!([]));

    let (status, storage) = call!(
        Method::POST,
        "/v6/objectstoragerepositories",
        Some(storage_body(
            &endpoint,
            &account_id,
            "backups",
            "New S3 Compatible Storage"
        ))
    );
    assert_eq!(status, StatusCode::OK, "{storage}");
    let storage_id = storage["id"].as_str().unwrap().to_owned();
    assert_eq!(storage["type"], "AmazonS3Compatible");
    assert_eq!(storage["accountId"], account_id.as_str());
    assert_eq!(
        storage["amazonBucketS3Compatible"],
        json!({"servicePoint": endpoint, "customRegionId": "us-east-1", "name": "backups"})
    );
    assert_eq!(storage["s3Folder"], "RESTStorageFolder");
    assert_eq!(
        (
            storage["sizeLimitEnabled"].as_bool(),
            storage["sizeLimitGB"].as_i64()
        ),
        (Some(true), Some(1024))
    );
    assert_eq!(
        storage["_links"]["account"]["href"],
        format!("/v6/accounts/{account_id}")
    );
    let (s, b) = call!(
        Method::POST,
        "/v6/objectstoragerepositories",
        Some(storage_body(
            &endpoint,
            &account_id,
            "backups",
            "new s3 compatible storage"
        ))
    );
    assert_error(s, &b, StatusCode::CONFLICT, &["already exists"]);
    let (status, _) = call!(
        Method::PUT,
        format!("/v6/objectstoragerepositories/{storage_id}"),
        Some(json!({"name": "Renamed storage", "sizeLimitGB": 2048}))
    );
    assert_eq!(status, StatusCode::OK);
    let (s, b) = call!(
        Method::PUT,
        format!("/v6/objectstoragerepositories/{storage_id}"),
        Some(json!({"amazonBucketS3Compatible": {"name": "other"}}))
    );
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["bucket", "cannot change"]);
    let (_, one) = call!(
        Method::GET,
        format!("/v6/objectstoragerepositories/{storage_id}"),
        None
    );
    assert_eq!(
        (one["name"].as_str(), one["sizeLimitGB"].as_i64()),
        (Some("Renamed storage"), Some(2048))
    );

    // A backup repository extended with it, encrypted with a key's password.
    let (status, key) = call!(
        Method::POST,
        "/v6/EncryptionKeys",
        Some(json!({"password": KEY_PASSWORD, "description": "cust-X"}))
    );
    assert_eq!(status, StatusCode::OK);
    let key_id = key["id"].as_str().unwrap().to_owned();
    let cache_root = tempfile::tempdir().unwrap();
    let cache = cache_root.path().join("cust-X");
    let (status, repo) = call!(
        Method::POST,
        "/v6/BackupRepositories",
        Some(json!({
        "objectStorageId": storage_id, "objectStorageCachePath": cache.to_str().unwrap(),
        "objectStorageEncryptionEnabled": true, "encryptionKeyId": key_id,
        "name": "cust-X", "description": "Customer Repository", "retentionType": "SnapshotBased",
        "retentionPeriodType": "Daily", "dailyRetentionPeriod": 30, "retentionFrequencyType": "Monthly",
        "monthlyTime": "08:00:00", "monthlyDaynumber": "First", "monthlyDayofweek": "Sunday"}))
    );
    assert_eq!(status, StatusCode::OK, "{repo}");
    let repo_id = repo["id"].as_str().unwrap().to_owned();
    assert_eq!(repo["objectStorageId"], storage_id.as_str());
    assert_eq!(repo["objectStorageCachePath"], cache.to_str().unwrap());
    assert_eq!(repo["objectStorageEncryptionEnabled"], true);
    assert_eq!(repo["encryptionKeyId"], key_id.as_str());
    assert_eq!(repo["retentionFrequencyType"], "Monthly");
    assert_eq!(repo["monthlyDayofweek"], "Sunday");
    assert!(repo.get("capacityBytes").is_none(), "{repo}");
    assert_eq!(
        repo["_links"]["objectStorage"]["href"],
        format!("/v6/objectstoragerepositories/{storage_id}")
    );
    // The data is in the bucket folder; the local path holds no repository.
    let keys = bucket_keys(moto.port, "backups", "RESTStorageFolder/").await;
    for want in [
        "RESTStorageFolder/config",
        "RESTStorageFolder/keys/master",
        "RESTStorageFolder/keys/password",
    ] {
        assert!(keys.iter().any(|k| k == want), "{want} not in {keys:?}");
    }
    assert!(cache.is_dir());
    assert!(!cache.join("config").exists());
    // A second repository on the same object storage is refused.
    let (s, b) = call!(
        Method::POST,
        "/v6/BackupRepositories",
        Some(json!({
        "objectStorageId": storage_id, "objectStorageCachePath": cache_root.path().join("other").to_str().unwrap(),
        "name": "second", "retentionType": "SnapshotBased"}))
    );
    assert_error(s, &b, StatusCode::CONFLICT, &["already used", "cust-X"]);

    // A new machine with only the password (what `openvbo repo … --password` does).
    let loc = openvbo_repo::S3Location {
        endpoint: Some(endpoint.clone()),
        region: "us-east-1".into(),
        bucket: "backups".into(),
        prefix: "RESTStorageFolder".into(),
        access_key_id: "test-access".into(),
        secret_access_key: SECRET_KEY.into(),
        virtual_hosted_style: false,
        allow_http: true,
        ..Default::default()
    };
    let backend: openvbo_repo::DynBackend =
        Arc::new(openvbo_repo::ObjectBackend::s3(&loc, Default::default()).unwrap());
    let opened = openvbo_repo::Repository::open(
        backend.clone(),
        openvbo_repo::Unlock::Password(KEY_PASSWORD),
        Default::default(),
    )
    .await
    .unwrap();
    assert!(opened.list_points(None).await.unwrap().is_empty());
    let wrong = openvbo_repo::Repository::open(
        backend,
        openvbo_repo::Unlock::Password("not the password"),
        Default::default(),
    )
    .await;
    assert_eq!(
        wrong.err().unwrap().kind(),
        openvbo_repo::ErrorKind::WrongKey
    );

    // Browsing.
    let q = format!("accountId={account_id}&ServicePoint={endpoint}&CustomRegionId=us-east-1");
    let (status, buckets) = call!(
        Method::GET,
        format!("/v6/S3CompatibleResources/buckets?{q}&Name=backups"),
        None
    );
    assert_eq!(status, StatusCode::OK, "{buckets}");
    assert_eq!(buckets.as_array().unwrap().len(), 1);
    assert_eq!(buckets[0]["name"], "backups");
    assert_eq!(buckets[0]["servicePoint"], endpoint.as_str());
    let (status, b) = call!(
        Method::GET,
        format!("/v6/S3CompatibleResources/buckets/backups?{q}"),
        None
    );
    assert_eq!(
        (status, b["name"].as_str()),
        (StatusCode::OK, Some("backups"))
    );
    let (s, b) = call!(
        Method::GET,
        format!("/v6/S3CompatibleResources/buckets/nothing-here?{q}"),
        None
    );
    assert_error(
        s,
        &b,
        StatusCode::BAD_REQUEST,
        &["no bucket 'nothing-here'"],
    );
    let (s, b) = call!(
        Method::GET,
        "/v6/S3CompatibleResources/buckets?ServicePoint=x",
        None
    );
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["accountId is required"]);
    let (status, folder) = call!(
        Method::POST,
        format!("/v6/S3CompatibleResources/buckets/backups/folders?{q}"),
        Some(json!({"name": "NewFolder"}))
    );
    assert_eq!(status, StatusCode::OK, "{folder}");
    assert_eq!(
        folder,
        json!({"path": "backups/NewFolder", "name": "NewFolder"})
    );
    let (status, folders) = call!(
        Method::GET,
        format!("/v6/S3CompatibleResources/buckets/backups/folders?{q}"),
        None
    );
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = folders
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["NewFolder", "RESTStorageFolder"]);
    let (status, _) = call!(
        Method::GET,
        format!("/v6/S3CompatibleResources/buckets/backups/folders/NewFolder?{q}"),
        None
    );
    assert_eq!(status, StatusCode::OK);
    let (s, b) = call!(
        Method::GET,
        format!("/v6/S3CompatibleResources/buckets/backups/folders/Missing?{q}"),
        None
    );
    assert_error(s, &b, StatusCode::NOT_FOUND, &["no folder 'Missing'"]);
    let (s, b) = call!(
        Method::POST,
        format!("/v6/S3CompatibleResources/buckets/backups/folders?{q}"),
        Some(json!({"name": "../up"}))
    );
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["not a folder name"]);

    // What is in use cannot be removed; the data stays in the bucket.
    let (s, b) = call!(
        Method::DELETE,
        format!("/v6/objectstoragerepositories/{storage_id}"),
        None
    );
    assert_error(
        s,
        &b,
        StatusCode::CONFLICT,
        &["cannot be removed: the object storage is used by the backup repository"],
    );
    let (s, b) = call!(Method::DELETE, format!("/v6/EncryptionKeys/{key_id}"), None);
    assert_error(
        s,
        &b,
        StatusCode::CONFLICT,
        &["cannot be removed: the encryption key is used by the backup repository"],
    );
    let (s, b) = call!(Method::DELETE, format!("/v6/Accounts/{account_id}"), None);
    assert_error(
        s,
        &b,
        StatusCode::CONFLICT,
        &["cannot be removed: the account is used by the object storage repository"],
    );
    let (status, _) = call!(
        Method::DELETE,
        format!("/v6/BackupRepositories/{repo_id}"),
        None
    );
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call!(
        Method::DELETE,
        format!("/v6/objectstoragerepositories/{storage_id}"),
        None
    );
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call!(Method::DELETE, format!("/v6/EncryptionKeys/{key_id}"), None);
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call!(Method::DELETE, format!("/v6/Accounts/{account_id}"), None);
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(bucket_keys(moto.port, "backups", "RESTStorageFolder/")
        .await
        .iter()
        .any(|k| k.ends_with("/config")));
    server.stop().await;

    let logs = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    assert!(
        logs.contains("request"),
        "the capture saw no server log lines"
    );
    for secret in [SECRET_KEY, KEY_PASSWORD] {
        assert!(!responses.contains(secret), "a response holds {secret}");
        assert!(!logs.contains(secret), "a log line holds {secret}");
    }
}

/// Object storage over HTTPS with a certificate the system does not trust (self-signed, as a
/// private CA's would be): a server without `s3_ca_file` refuses to add the repository with a
/// message, a server given the certificate through `s3_ca_file` adds it and keeps its data in
/// the bucket; a file without a certificate stops the server at start-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_storage_over_tls_trusts_the_configured_certificate() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    let cert_pem = certified.cert.pem();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    let moto = Moto::start_with(&["-c", cert.to_str().unwrap(), "-k", key.to_str().unwrap()]).await;
    let https = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let created = https
        .put(format!("https://localhost:{}/secure", moto.port))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{}", created.status());
    let endpoint = format!("https://localhost:{}", moto.port);
    let account = json!({"accountType": "amazonS3CompatibleAccount", "userName": "test-access",
                         "password": SECRET_KEY, "description": "moto over TLS"});

    // Not trusted: refused with a message, nothing added.
    let (_dir1, _sim1, plain) = start_with(vec![contoso()], |_| {}).await;
    let token = plain.token().await;
    let (s, acc) = plain
        .call(Method::POST, "/v6/Accounts", &token, Some(account.clone()))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{acc}");
    let body = storage_body(&endpoint, acc["id"].as_str().unwrap(), "secure", "TLS");
    let (s, refused) = plain
        .call(
            Method::POST,
            "/v6/objectstoragerepositories",
            &token,
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains(&endpoint),
        "{refused}"
    );
    let (_, none) = plain
        .call(Method::GET, "/v6/objectstoragerepositories", &token, None)
        .await;
    assert_eq!(none, json!([]));

    // Trusted through s3_ca_file: added, and verified by listing the bucket over TLS.
    let ca = cert.clone();
    let (_dir2, _sim2, trusting) =
        start_with(vec![contoso()], move |c| c.s3_ca_file = Some(ca)).await;
    let token = trusting.token().await;
    let (_, acc) = trusting
        .call(Method::POST, "/v6/Accounts", &token, Some(account))
        .await;
    let body = storage_body(&endpoint, acc["id"].as_str().unwrap(), "secure", "TLS");
    let (s, storage) = trusting
        .call(
            Method::POST,
            "/v6/objectstoragerepositories",
            &token,
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{storage}");
    assert_eq!(storage["name"], "TLS");
    let (_, listed) = trusting
        .call(Method::GET, "/v6/objectstoragerepositories", &token, None)
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");

    // A file that holds no certificate stops the server with the reason.
    let bad = dir.path().join("not-a-cert.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    let data = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![contoso()]).await;
    let mut config = config(data.path(), &sim.url);
    config.s3_ca_file = Some(bad);
    let Err(e) = openvbo_server::prepare(config).await else {
        panic!("a server with an unusable s3_ca_file started");
    };
    assert!(e.to_string().contains("s3_ca_file"), "{e}");
}
