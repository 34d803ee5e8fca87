//! Against a real S3-compatible server the test starts (`moto_server` from PyPI; CI installs
//! it, `OPENVBO_MOTO_SERVER` may name the binary): round trip, conditional create, request
//! counts; and through a fault-injecting proxy: 503 SlowDown and connection resets are
//! retried, a store that keeps failing is reported as unavailable within the budget.
// Its scenarios are helpers the #[test] functions share, so clippy.toml's in-test allowances
// do not reach them; a failed expectation there is a test failure all the same.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod moto_spawn;

use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use moto_spawn::spawn_moto;
use openvbo_repo::backend::RetryBudget;
use openvbo_repo::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Moto {
    child: Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_moto() -> Moto {
    start_moto_with(&[]).await
}

/// moto with extra arguments (`-c cert -k key`: HTTPS).
async fn start_moto_with(extra: &[&str]) -> Moto {
    let bin = std::env::var("OPENVBO_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
    let (child, port) = spawn_moto(&bin, extra);
    let moto = Moto { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "moto_server did not listen on {port} within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    moto
}

/// moto does not check signatures, so a plain PUT creates the bucket.
async fn create_bucket(port: u16, bucket: &str) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let req = format!("PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await.unwrap();
    assert!(
        resp.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&resp)
    );
}

fn location(port: u16, bucket: &str) -> S3Location {
    S3Location {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        region: "us-east-1".into(),
        bucket: bucket.into(),
        prefix: "Veeam/openvbo/repo1".into(),
        access_key_id: "test-access".into(),
        secret_access_key: "test-secret-never-shown".into(),
        virtual_hosted_style: false,
        allow_http: true,
        ..Default::default()
    }
}

fn budget() -> RetryBudget {
    RetryBudget {
        max_retries: 3,
        total: Duration::from_secs(10),
        first_backoff: Duration::from_millis(20),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repository_on_s3_round_trips_and_opens_by_password() {
    let moto = start_moto().await;
    create_bucket(moto.port, "backups").await;
    let backend: DynBackend =
        Arc::new(ObjectBackend::s3(&location(moto.port, "backups"), budget()).unwrap());
    assert!(!backend.describe().contains("test-secret"));
    let mut o = opts(clock());
    o.data_pack_size = 2 * 1024 * 1024;
    let repo = Repository::init(backend.clone(), &master(), Some("pw"), o.clone())
        .await
        .unwrap();
    let attachment = random_bytes(3, 1_500_000);
    let mut w = repo.writer(mailbox(1), None).await.unwrap();
    for i in 0..30 {
        w.put_item(
            item("inbox", &format!("m{i}")),
            vec![
                Part::bytes("mime", text(i, 10_000)),
                Part::bytes("att", attachment.clone()),
            ],
        )
        .await
        .unwrap();
    }
    let p = w.commit(b"delta", serde_json::Value::Null).await.unwrap();
    assert_eq!(p.item_count, 30);
    let puts = repo.counters().puts.load(Ordering::Relaxed);
    // ~1.8 MB of new data: a couple of data packs, a tree pack, a segment, a record, the
    // session twice, keys and config. Not one object per item.
    assert!(puts <= 12, "{puts} PUTs for 30 items");

    // Init again is refused (create-only config).
    let e = Repository::init(backend.clone(), &master(), None, o.clone())
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);

    // A new server with only the password.
    let fresh: DynBackend =
        Arc::new(ObjectBackend::s3(&location(moto.port, "backups"), budget()).unwrap());
    let again = Repository::open(fresh, Unlock::Password("pw"), o)
        .await
        .unwrap();
    let points = again.list_points(None).await.unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].delta_state_bytes(), b"delta");
    use futures::TryStreamExt;
    let entries: Vec<TreeEntry> = again.entries(&points[0]).try_collect().await.unwrap();
    let TreeEntry::Item(first) = &entries[0] else {
        panic!()
    };
    assert_eq!(read_all(&again, &first.parts[1]).await, attachment);
    let rep = again
        .check(CheckOptions {
            read_data_percent: Some(100.0),
        })
        .await
        .unwrap();
    assert!(rep.ok(), "{:?}", rep.errors);
    assert_eq!(rep.items, 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_is_a_clear_error() {
    let moto = start_moto().await;
    let backend: DynBackend =
        Arc::new(ObjectBackend::s3(&location(moto.port, "no-such-bucket"), budget()).unwrap());
    let e = Repository::init(backend, &master(), None, opts(clock()))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(e.kind(), ErrorKind::NotFound | ErrorKind::Storage),
        "{e}"
    );
    let chain = format!("{e} {:?}", std::error::Error::source(&e));
    assert!(
        chain.contains("NoSuchBucket") || chain.contains("no-such-bucket"),
        "{chain}"
    );
}

/// A proxy that answers the first `fail` connections with 503 SlowDown (odd ones) or a reset
/// (even ones), then forwards to `upstream`.
async fn flaky_proxy(upstream: u16, fail: usize) -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Arc::new(AtomicUsize::new(0));
    let s2 = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut c, _)) = l.accept().await else {
                return;
            };
            let n = s2.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if n < fail {
                    let mut buf = [0u8; 4096];
                    let _ = c.read(&mut buf).await;
                    if n.is_multiple_of(2) {
                        let body = "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>";
                        let resp = format!("HTTP/1.1 503 Slow Down\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
                        let _ = c.write_all(resp.as_bytes()).await;
                    }
                    // Odd: drop the connection mid-request (a reset).
                    return;
                }
                if let Ok(mut up) = TcpStream::connect(("127.0.0.1", upstream)).await {
                    let _ = tokio::io::copy_bidirectional(&mut c, &mut up).await;
                }
            });
        }
    });
    (port, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowdown_and_resets_are_retried_and_a_dead_store_is_reported_within_the_budget() {
    let moto = start_moto().await;
    create_bucket(moto.port, "flaky").await;
    let (port, seen) = flaky_proxy(moto.port, 3).await;
    let backend: DynBackend =
        Arc::new(ObjectBackend::s3(&location(port, "flaky"), budget()).unwrap());
    let repo = Repository::init(backend, &master(), None, opts(clock()))
        .await
        .unwrap();
    let mut w = repo.writer(drive(1), None).await.unwrap();
    w.put_item(
        item("root", "f"),
        vec![Part::bytes("content", random_bytes(1, 100_000))],
    )
    .await
    .unwrap();
    let p = w.commit(b"", serde_json::Value::Null).await.unwrap();
    assert!(
        seen.load(Ordering::SeqCst) > 3,
        "the failures were hit and retried"
    );
    assert_eq!(repo.list_points(None).await.unwrap()[0].id, p.id);

    // Every connection fails: bounded retries, then `Unavailable` with a clear message.
    let (dead, _) = flaky_proxy(moto.port, usize::MAX).await;
    let backend: DynBackend =
        Arc::new(ObjectBackend::s3(&location(dead, "flaky2"), budget()).unwrap());
    let t = Instant::now();
    let e = Repository::init(backend, &master(), None, opts(clock()))
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
    assert!(e.to_string().contains("kept failing after retries"), "{e}");
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "gave up within the budget: {:?}",
        t.elapsed()
    );
}

#[derive(clap::Parser)]
struct Cli {
    #[command(flatten)]
    args: openvbo_repo::cli::RepoArgs,
}

/// `openvbo repo` with the S3 options and the key alone, as after losing the server.
async fn s3_cli(port: u16, key: &std::path::Path, args: &[&str]) -> Result<String> {
    use clap::Parser;
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut full = vec![
        "openvbo-repo",
        "--s3-endpoint",
        &endpoint,
        "--s3-bucket",
        "drill",
        "--s3-prefix",
        "Veeam/openvbo/repo1",
        "--s3-access-key",
        "test-access",
        "--key-file",
        key.to_str().unwrap(),
    ];
    full.extend_from_slice(args);
    let mut cli = Cli::try_parse_from(full).unwrap();
    // The secret comes from the environment in real use; set it directly (no shared env).
    cli.args.s3_secret_key = Some("test-secret-never-shown".into());
    let mut out = Vec::new();
    openvbo_repo::cli::run_to(cli.args, &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_lists_extracts_and_checks_an_s3_repository_with_the_key_alone() {
    let moto = start_moto().await;
    create_bucket(moto.port, "drill").await;
    let backend: DynBackend =
        Arc::new(ObjectBackend::s3(&location(moto.port, "drill"), budget()).unwrap());
    let repo = Repository::init(backend, &master(), None, opts(clock()))
        .await
        .unwrap();
    let mut w = repo.writer(mailbox(1), None).await.unwrap();
    w.put_folder(FolderEntry {
        id: "inbox-id".into(),
        parent: None,
        name: "Inbox".into(),
        metadata: serde_json::Value::Null,
    })
    .await
    .unwrap();
    let mime = b"Subject: disaster recovery\r\n\r\nbody".to_vec();
    let attachment = random_bytes(9, 300_000);
    w.put_item(
        item("inbox-id", "AAMkDR"),
        vec![Part::bytes("mime", mime.clone())],
    )
    .await
    .unwrap();
    let mut file = item("inbox-id", "AAMkBig");
    file.metadata = serde_json::json!({"subject": "with a big part"});
    w.put_item(file, vec![Part::bytes("mime", attachment.clone())])
        .await
        .unwrap();
    let point = w.commit(b"", serde_json::Value::Null).await.unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("master.key");
    std::fs::write(&key, MASTER).unwrap();

    let out = s3_cli(moto.port, &key, &["--json", "ls"]).await.unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let points = v.as_array().unwrap();
    assert_eq!(points.len(), 1, "{out}");
    assert_eq!(points[0]["items"], 2);
    assert_eq!(points[0]["resource"], "user1@contoso.example");

    let to = tmp.path().join("out");
    s3_cli(
        moto.port,
        &key,
        &["extract", &point.id.0, "--to", to.to_str().unwrap()],
    )
    .await
    .unwrap();
    assert_eq!(std::fs::read(to.join("Inbox/AAMkDR.eml")).unwrap(), mime);
    assert_eq!(
        std::fs::read(to.join("Inbox/AAMkBig.eml")).unwrap(),
        attachment
    );

    let out = s3_cli(moto.port, &key, &["--json", "check", "--read-data"])
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["errors"].as_array().unwrap().len(), 0, "{out}");
    assert_eq!(v["items"], 2);

    // Another key: refused with a clear error.
    let wrong = tmp.path().join("wrong.key");
    std::fs::write(&wrong, [8u8; 32]).unwrap();
    let e = s3_cli(moto.port, &wrong, &["ls"]).await.err().unwrap();
    assert_eq!(e.kind(), ErrorKind::WrongKey, "{e}");
}

/// One message in, one restore point committed, the repository opened again from a second
/// backend on the same location and the message read back: what "this location works" means.
async fn round_trip(loc: &S3Location) {
    let backend: DynBackend = Arc::new(ObjectBackend::s3(loc, budget()).unwrap());
    let repo = Repository::init(backend, &master(), None, opts(clock()))
        .await
        .unwrap();
    let body = text(7, 20_000);
    let mut w = repo.writer(mailbox(1), None).await.unwrap();
    w.put_item(item("inbox", "m1"), vec![Part::bytes("mime", body.clone())])
        .await
        .unwrap();
    w.commit(b"delta", serde_json::Value::Null).await.unwrap();
    let again: DynBackend = Arc::new(ObjectBackend::s3(loc, budget()).unwrap());
    let opened = Repository::open(again, Unlock::Master(&master()), opts(clock()))
        .await
        .unwrap();
    let points = opened.list_points(None).await.unwrap();
    assert_eq!(points.len(), 1);
    use futures::TryStreamExt;
    let entries: Vec<TreeEntry> = opened.entries(&points[0]).try_collect().await.unwrap();
    let TreeEntry::Item(m) = &entries[0] else {
        panic!("{entries:?}")
    };
    assert_eq!(read_all(&opened, &m.parts[0]).await, body);
}

/// Virtual-host style: the bucket is in the host name (`vhost.s3.openvbo.test`). No DNS is
/// needed: every request goes through an HTTP proxy, and the proxy is moto itself (it takes
/// absolute-form request targets and reads the bucket from the Host header), so this runs on
/// any machine where `bucket.localhost` does not resolve. A path-style request would name
/// the host `s3.openvbo.test`, which moto reads as a bucket `s3` that does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virtual_host_style_requests_put_the_bucket_in_the_host_name() {
    let moto = start_moto().await;
    create_bucket(moto.port, "vhost").await;
    let mut loc = location(moto.port, "vhost");
    loc.endpoint = Some(format!("http://s3.openvbo.test:{}", moto.port));
    loc.virtual_hosted_style = true;
    loc.proxy_url = Some(format!("http://127.0.0.1:{}", moto.port));
    round_trip(&loc).await;

    // The same objects, seen path style: they are in bucket "vhost".
    let path_style: DynBackend =
        Arc::new(ObjectBackend::s3(&location(moto.port, "vhost"), budget()).unwrap());
    let listed = path_style.list("").await.unwrap();
    assert!(
        listed.iter().any(|o| o.name == "config"),
        "{:?}",
        listed.iter().map(|o| &o.name).collect::<Vec<_>>()
    );
    // And path style through the same proxy fails: the host names no bucket.
    let mut wrong = loc.clone();
    wrong.virtual_hosted_style = false;
    let backend: DynBackend = Arc::new(ObjectBackend::s3(&wrong, budget()).unwrap());
    assert!(
        Repository::open(backend, Unlock::Master(&master()), opts(clock()))
            .await
            .is_err()
    );
}

/// S3 over HTTPS with a certificate the system does not trust (self-signed, as a private
/// CA's would be): refused without it, working once it is given as a trusted certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_over_tls_trusts_a_given_certificate_and_only_then() {
    let dir = tempfile::tempdir().unwrap();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    let cert_pem = certified.cert.pem();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    let moto = start_moto_with(&["-c", cert.to_str().unwrap(), "-k", key.to_str().unwrap()]).await;

    let mut loc = location(moto.port, "secure");
    loc.endpoint = Some(format!("https://localhost:{}", moto.port));
    loc.allow_http = false;
    // Not trusted: the TLS handshake fails and nothing is written.
    let untrusted: DynBackend = Arc::new(ObjectBackend::s3(&loc, budget()).unwrap());
    let Err(e) = untrusted.list("").await else {
        panic!("an untrusted certificate is refused");
    };
    let chain = format!("{e} {:?}", std::error::Error::source(&e));
    assert!(!chain.contains("test-secret"), "{chain}");

    // The bucket, created over TLS too.
    assert!(
        put_bucket_over_tls(moto.port, "secure", cert_pem.as_bytes()).await,
        "bucket created over TLS"
    );
    loc.root_certificates_pem = Some(cert_pem.into_bytes());
    round_trip(&loc).await;

    // Bytes that hold no certificate are refused when the location is set up.
    let mut bad = loc.clone();
    bad.root_certificates_pem = Some(b"not a certificate".to_vec());
    assert!(ObjectBackend::s3(&bad, budget()).is_err());
}

/// Creates a bucket over HTTPS (moto takes an unsigned PUT), trusting `cert`.
async fn put_bucket_over_tls(port: u16, bucket: &str, cert_pem: &[u8]) -> bool {
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem).unwrap())
        .build()
        .unwrap();
    client
        .put(format!("https://localhost:{port}/{bucket}"))
        .send()
        .await
        .unwrap()
        .status()
        .is_success()
}
