//! Disaster recovery from object storage with the encryption password alone, over HTTPS:
//! server A backs up to an encrypted S3 repository; server B — a fresh data dir and a
//! different master key, so A's key cannot open anything — attaches the same bucket folder
//! with a new encryption key holding the same password, and sees A's restore points with
//! the same data, down to a message's bytes (also after B restarts, when only B's master
//! key is at hand). A wrong password, or no encryption key at all, is refused with a clear
//! message and changes nothing: no repository row, not one object of the bucket.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;
mod jobs_common;
mod moto_common;

use std::collections::BTreeMap;

use common::*;
use jobs_common::*;
use moto_common::Moto;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};

const SECRET_KEY: &str = "moto-Secret-Key/Never+Shown";
const PASSWORD: &str = "Disaster-Recovery-Passw0rd";
const BUCKET: &str = "backups";
const FOLDER: &str = "Customer-X";
/// Two different master keys (32 bytes of 1, and of 2, base64).
const MASTER_A: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const MASTER_B: &str = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

async fn server_in(dir: &std::path::Path, sim: &Sim, master: &str) -> Server {
    let mut cfg = config(dir, &sim.url);
    cfg.master_key = Some(SecretString::from(master));
    Server::start(cfg).await
}

/// An account for moto and the object storage repository on the bucket folder: its id.
async fn object_storage(server: &Server, token: &str, endpoint: &str) -> String {
    let (status, account) = call(
        server,
        token,
        Method::POST,
        "/v6/Accounts",
        Some(
            json!({"accountType": "amazonS3CompatibleAccount", "userName": "test-access",
                    "password": SECRET_KEY, "description": "moto"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    let (status, storage) = call(
        server,
        token,
        Method::POST,
        "/v6/objectstoragerepositories",
        Some(json!({"name": "S3", "type": "AmazonS3Compatible", "accountId": account["id"],
                    "amazonBucketS3Compatible": {"servicePoint": endpoint, "customRegionId": "us-east-1", "name": BUCKET},
                    "s3Folder": FOLDER})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{storage}");
    storage["id"].as_str().unwrap().to_owned()
}

async fn encryption_key(server: &Server, token: &str, password: &str) -> String {
    let (status, key) = call(
        server,
        token,
        Method::POST,
        "/v6/EncryptionKeys",
        Some(json!({"password": password, "description": "cust-X"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{key}");
    key["id"].as_str().unwrap().to_owned()
}

fn repository_body(
    storage: &str,
    cache: &std::path::Path,
    key: Option<&str>,
    attach: bool,
) -> Value {
    let mut body = json!({
        "name": "cust-X", "objectStorageId": storage, "objectStorageCachePath": cache.to_str().unwrap(),
        "retentionType": "SnapshotBased", "retentionPeriodType": "Yearly", "yearlyRetentionPeriod": "Year1",
    });
    if let Some(k) = key {
        body["objectStorageEncryptionEnabled"] = json!(true);
        body["encryptionKeyId"] = json!(k);
    }
    if attach {
        body["attachUsedRepository"] = json!(true);
    }
    body
}

/// The repository's restore points as a client sees them, oldest first: backup time, job,
/// kind and the mailboxes each holds.
async fn points(server: &Server, token: &str, repo: &str) -> Vec<Value> {
    let listed = get_ok(
        server,
        token,
        &format!("/v6/RestorePoints?repositoryId={repo}"),
    )
    .await;
    let mut out = Vec::new();
    for p in listed.as_array().unwrap() {
        let id = p["id"].as_str().unwrap();
        let mailboxes = get_ok(server, token, &format!("/v6/RestorePoints/{id}/mailboxes")).await;
        let mut ids: Vec<String> = mailboxes
            .get("results")
            .unwrap_or(&mailboxes)
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        out.push(json!({"backupTime": p["backupTime"], "jobId": p["jobId"],
                        "isExchange": p["isExchange"], "mailboxes": ids}));
    }
    out
}

/// Nancy's "Quarterly report 1" as EML, from the organization's latest backup.
async fn nancy_report_eml(server: &Server, token: &str, org: &str) -> Vec<u8> {
    let bytes = inbox_message_eml(server, token, org, NANCY, "Quarterly report 1").await;
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("Quarterly report 1"), "an EML of the message");
    assert!(text.contains("body 1 body 1"), "with its body");
    bytes
}

async fn repositories(server: &Server, token: &str) -> Value {
    get_ok(server, token, "/v6/BackupRepositories").await
}

/// What server B must still show after refusing to attach, and the bucket folder's objects as
/// server A left them: every refused `POST /v6/BackupRepositories` is checked against these.
struct Refusals<'a> {
    server: &'a Server,
    token: &'a str,
    moto: &'a Moto,
    prefix: &'a str,
    written: &'a BTreeMap<String, Vec<u8>>,
}

impl Refusals<'_> {
    /// POSTs `body` as a repository and expects `status` with a message holding every one of
    /// `fragments`, and nothing written: no repository row, no restore point imported, and
    /// every object of the bucket folder byte for byte as it was.
    async fn refused(&self, body: Value, status: StatusCode, fragments: &[&str]) {
        let (got, answer) = call(
            self.server,
            self.token,
            Method::POST,
            "/v6/BackupRepositories",
            Some(body),
        )
        .await;
        assert_error(got, &answer, status, fragments);
        assert_eq!(
            repositories(self.server, self.token).await,
            json!([]),
            "no repository row after {answer}"
        );
        assert_eq!(
            get_ok(self.server, self.token, "/v6/RestorePoints").await,
            json!([]),
            "nothing imported"
        );
        assert_eq!(
            &self.moto.objects(BUCKET, self.prefix).await,
            self.written,
            "a refused POST changes no object of the repository"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_server_opens_the_object_storage_repository_with_the_password_alone() {
    let moto = Moto::start().await;
    moto.create_bucket(BUCKET).await;
    let endpoint = moto.endpoint();
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![tenant_with_mail()]).await;

    // Server A: an encrypted object storage repository, one backup of two mailboxes.
    let a = server_in(&dir.path().join("a"), &sim, MASTER_A).await;
    let token = a.token().await;
    let storage = object_storage(&a, &token, &endpoint).await;
    let key = encryption_key(&a, &token, PASSWORD).await;
    let (status, repo) = call(
        &a,
        &token,
        Method::POST,
        "/v6/BackupRepositories",
        Some(repository_body(
            &storage,
            &dir.path().join("cache-a"),
            Some(&key),
            false,
        )),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{repo}");
    let repo_a = repo["id"].as_str().unwrap().to_owned();
    let (status, org) = a
        .add(
            &token,
            seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let org_a = org["id"].as_str().unwrap().to_owned();
    let job = mailbox_job(&a, &token, &org_a, &repo_a, &[NANCY, ANDREW]).await;
    let session = run(&a, &token, &job, 1).await;
    assert_eq!(session["status"], "Success", "{session}");
    let before = points(&a, &token, &repo_a).await;
    assert_eq!(before.len(), 1, "{before:?}");
    let mut both = vec![NANCY, ANDREW];
    both.sort_unstable();
    assert_eq!(before[0]["mailboxes"], json!(both), "{before:?}");
    assert_eq!(before[0]["jobId"], job.as_str());
    let eml_a = nancy_report_eml(&a, &token, &org_a).await;
    a.stop().await;
    let prefix = format!("{FOLDER}/");
    let written = moto.objects(BUCKET, &prefix).await;
    assert!(
        written
            .keys()
            .any(|k| k == &format!("{FOLDER}/keys/password")),
        "the key is wrapped by the password: {:?}",
        written.keys()
    );
    // The data is encrypted: neither the subject nor the body is in any object.
    for (k, bytes) in &written {
        for marker in [&b"Quarterly report"[..], b"body 1 body 1", b"nancy@contoso"] {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker),
                "{k} holds {}",
                String::from_utf8_lossy(marker)
            );
        }
    }

    // Server B: nothing of A's but the bucket and the password.
    let b_dir = dir.path().join("b");
    let b = server_in(&b_dir, &sim, MASTER_B).await;
    let token = b.token().await;
    let (status, org) = b
        .add(
            &token,
            seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let org_b = org["id"].as_str().unwrap().to_owned();
    let storage_b = object_storage(&b, &token, &endpoint).await;
    let cache_b = dir.path().join("cache-b");
    let untouched = moto.objects(BUCKET, &prefix).await;
    assert_eq!(
        untouched, written,
        "adding the object storage leaves its objects as they are"
    );

    // Refusals: no encryption key, an unknown one, B's master key alone, a wrong password.
    let refusals = Refusals {
        server: &b,
        token: &token,
        moto: &moto,
        prefix: &prefix,
        written: &written,
    };
    refusals
        .refused(
            {
                let mut body = repository_body(&storage_b, &cache_b, None, true);
                body["objectStorageEncryptionEnabled"] = json!(true);
                body
            },
            StatusCode::BAD_REQUEST,
            &["encryptionKeyId is required"],
        )
        .await;
    let unknown = "00000000-0000-4000-8000-00000000beef";
    refusals
        .refused(
            repository_body(&storage_b, &cache_b, Some(unknown), true),
            StatusCode::BAD_REQUEST,
            &["no encryption key with id", unknown],
        )
        .await;
    refusals
        .refused(
            repository_body(&storage_b, &cache_b, None, true),
            StatusCode::BAD_REQUEST,
            &[
                &format!("bucket '{BUCKET}' folder '{FOLDER}'"),
                "another master key",
                "POST /v6/EncryptionKeys",
                "encryptionKeyId",
            ],
        )
        .await;
    let wrong = encryption_key(&b, &token, "Not-The-Passw0rd").await;
    refusals
        .refused(
            repository_body(&storage_b, &cache_b, Some(&wrong), true),
            StatusCode::BAD_REQUEST,
            &[
                &format!("bucket '{BUCKET}' folder '{FOLDER}'"),
                "password does not open",
            ],
        )
        .await;
    // A create (no attachUsedRepository) over it is refused too, and says how to attach.
    let right = encryption_key(&b, &token, PASSWORD).await;
    refusals
        .refused(
            repository_body(&storage_b, &cache_b, Some(&right), false),
            StatusCode::BAD_REQUEST,
            &["attachUsedRepository"],
        )
        .await;

    // The password opens it: A's restore points, the same message byte for byte.
    let (status, attached) = call(
        &b,
        &token,
        Method::POST,
        "/v6/BackupRepositories",
        Some(repository_body(&storage_b, &cache_b, Some(&right), true)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{attached}");
    assert_eq!(attached["isOutOfSync"], false, "{attached}");
    assert_eq!(attached["encryptionKeyId"], right.as_str());
    let repo_b = attached["id"].as_str().unwrap().to_owned();
    assert_eq!(points(&b, &token, &repo_b).await, before);
    let mine = get_ok(
        &b,
        &token,
        &format!("/v6/RestorePoints?organizationId={org_b}"),
    )
    .await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(nancy_report_eml(&b, &token, &org_b).await, eml_a);
    b.stop().await;

    // Restarted, B opens the repository with its own master key (the attach wrapped the
    // repository key by it) and still reads the message.
    let b = server_in(&b_dir, &sim, MASTER_B).await;
    let token = b.token().await;
    assert_eq!(points(&b, &token, &repo_b).await, before);
    assert_eq!(nancy_report_eml(&b, &token, &org_b).await, eml_a);
    b.stop().await;
}
