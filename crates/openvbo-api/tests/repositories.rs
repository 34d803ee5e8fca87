//! `/v6/Proxies`, `/v6/BackupRepositories` on local directories, `/v6/EncryptionKeys` and
//! `/v6/Accounts`, over HTTPS against a real server with a real data dir: shapes, defaults,
//! every refusal, and that the repository engine really is on disk.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn started() -> (tempfile::TempDir, Sim, Server, String) {
    let (dir, sim, server) = start_with(vec![contoso()], |_| {}).await;
    let token = server.token().await;
    (dir, sim, server, token)
}

fn repo_body(name: &str, path: &std::path::Path) -> Value {
    json!({"name": name, "description": "local repo", "path": path.to_str().unwrap(),
           "retentionType": "SnapshotBased", "retentionPeriodType": "Monthly", "monthlyRetentionPeriod": 3,
           "retentionFrequencyType": "Daily", "dailyTime": "12:00:00", "dailyType": "Everyday"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_proxy_is_built_in_with_a_stable_id() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![contoso()]).await;
    let server = Server::start(config(dir.path(), &sim.url)).await;
    let token = server.token().await;
    let (status, list) = server.call(Method::GET, "/v6/Proxies", &token, None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "{list:?}");
    let p = &list[0];
    assert_eq!(p["type"], "Local");
    assert_eq!(p["port"], 9193);
    assert_eq!(p["threadsNumber"], 64);
    assert_eq!(p["status"], "Online");
    assert_eq!(p["enableNetworkThrottling"], false);
    assert!(!p["hostName"].as_str().unwrap().is_empty());
    let id = p["id"].as_str().unwrap().to_owned();
    assert_eq!(p["_links"]["self"]["href"], format!("/v6/proxies/{id}"));

    let (status, short) = server
        .call(Method::GET, "/v6/proxies?extendedView=false", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(short[0].get("threadsNumber").is_none(), "{short}");
    assert_eq!(short[0]["id"], id.as_str());
    let (status, one) = server
        .call(Method::GET, &format!("/v6/Proxies/{id}"), &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, *p);

    let (s, b) = server
        .call(
            Method::GET,
            &format!("/v6/Proxies/{}", uuid::Uuid::new_v4()),
            &token,
            None,
        )
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, &["no proxy"]);
    let (s, b) = server
        .call(Method::GET, "/v6/Proxies/not-a-uuid", &token, None)
        .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["proxyId"]);
    // Adding a proxy is not built: the operation is named.
    let (s, b) = server
        .call(
            Method::POST,
            "/v6/Proxies",
            &token,
            Some(json!({"hostName": "x"})),
        )
        .await;
    assert_error(s, &b, StatusCode::NOT_IMPLEMENTED, &["Proxy_Add"]);

    // Same data dir, new process: same proxy.
    server.stop().await;
    let server = Server::start(config(dir.path(), &sim.url)).await;
    let token = server.token().await;
    let (_, again) = server.call(Method::GET, "/v6/Proxies", &token, None).await;
    assert_eq!(again.as_array().unwrap().len(), 1);
    assert_eq!(again[0]["id"], id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_repository_is_created_measured_changed_and_removed() {
    let (_dir, _sim, server, token) = started().await;
    let target = tempfile::tempdir().unwrap();
    let path = target.path().join("missing/parents/repo1");
    let (status, repo) = server
        .call(
            Method::POST,
            "/v6/BackupRepositories",
            &token,
            Some(repo_body("Daily Reports", &path)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{repo}");
    let (_, proxies) = server.call(Method::GET, "/v6/Proxies", &token, None).await;
    let proxy = proxies[0]["id"].as_str().unwrap().to_owned();
    let id = repo["id"].as_str().unwrap().to_owned();
    assert_eq!(repo["name"], "Daily Reports");
    assert_eq!(repo["description"], "local repo");
    assert_eq!(repo["path"], path.to_str().unwrap());
    assert_eq!(repo["proxyId"], proxy.as_str());
    assert_eq!(repo["retentionType"], "SnapshotBased");
    assert_eq!(repo["retentionPeriodType"], "Monthly");
    assert_eq!(repo["monthlyRetentionPeriod"], 3);
    assert!(
        repo.get("dailyRetentionPeriod").is_none() && repo.get("yearlyRetentionPeriod").is_none(),
        "{repo}"
    );
    assert_eq!(repo["retentionFrequencyType"], "Daily");
    assert_eq!(repo["dailyTime"], "12:00:00");
    assert_eq!(repo["dailyType"], "Everyday");
    assert_eq!(repo["monthlyTime"], "18:00:00");
    assert_eq!(repo["monthlyDaynumber"], "First");
    assert_eq!(repo["monthlyDayofweek"], "Monday");
    assert_eq!(repo["isOutOfSync"], false);
    assert_eq!(repo["isLongTerm"], false);
    assert_eq!(repo["objectStorageEncryptionEnabled"], false);
    assert!(repo.get("objectStorageId").is_none());
    let capacity = repo["capacityBytes"].as_i64().unwrap();
    let free = repo["freeSpaceBytes"].as_i64().unwrap();
    assert!(
        capacity > 0 && free > 0 && free <= capacity,
        "{capacity} {free}"
    );
    assert_eq!(
        repo["_links"]["self"]["href"],
        format!("/v6/backuprepositories/{id}")
    );
    assert_eq!(
        repo["_links"]["proxy"]["href"],
        format!("/v6/proxies/{proxy}")
    );
    // The path was created and holds an engine repository (its plaintext config and keys).
    assert!(path.join("config").is_file());
    let config = std::fs::read_to_string(path.join("config")).unwrap();
    assert!(config.contains("openvbo-repository"), "{config}");
    assert!(path.join("keys").read_dir().unwrap().count() >= 1);

    let (status, list) = server
        .call(Method::GET, "/v6/BackupRepositories", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    let (_, mine) = server
        .call(
            Method::GET,
            &format!("/v6/backuprepositories?proxyId={proxy}"),
            &token,
            None,
        )
        .await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let (_, none) = server
        .call(
            Method::GET,
            &format!("/v6/backuprepositories?proxyId={}", uuid::Uuid::new_v4()),
            &token,
            None,
        )
        .await;
    assert_eq!(none, json!([]));
    let (_, long_term) = server
        .call(
            Method::GET,
            "/v6/backuprepositories?longTerm=true",
            &token,
            None,
        )
        .await;
    assert_eq!(long_term, json!([]));
    let (status, one) = server
        .call(
            Method::GET,
            &format!("/v6/BackupRepositories/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["name"], "Daily Reports");
    assert!(one["capacityBytes"].as_i64().unwrap() > 0);

    // PUT: name, description and retention change; 200 with no body.
    let change = json!({"name": "Renamed", "description": "changed", "retentionType": "snapshotbased",
                        "retentionPeriodType": "Daily", "dailyRetentionPeriod": 30, "dailyType": "Weekends"});
    let (status, body) = server
        .call(
            Method::PUT,
            &format!("/v6/BackupRepositories/{id}"),
            &token,
            Some(change),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, Value::Null);
    let (_, one) = server
        .call(
            Method::GET,
            &format!("/v6/BackupRepositories/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(
        (one["name"].as_str(), one["description"].as_str()),
        (Some("Renamed"), Some("changed"))
    );
    assert_eq!(one["retentionPeriodType"], "Daily");
    assert_eq!(one["dailyRetentionPeriod"], 30);
    assert!(one.get("monthlyRetentionPeriod").is_none());
    assert_eq!(one["dailyType"], "Weekends");
    assert_eq!(one["dailyTime"], "12:00:00");

    // path and retentionType cannot change.
    let other = target.path().join("elsewhere");
    let (s, b) = server
        .call(
            Method::PUT,
            &format!("/v6/BackupRepositories/{id}"),
            &token,
            Some(json!({"retentionType": "SnapshotBased", "path": other.to_str().unwrap()})),
        )
        .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["path", "cannot change"]);
    let (s, b) = server
        .call(
            Method::PUT,
            &format!("/v6/BackupRepositories/{id}"),
            &token,
            Some(json!({"retentionType": "ItemLevel"})),
        )
        .await;
    assert_error(
        s,
        &b,
        StatusCode::BAD_REQUEST,
        &["retention type", "cannot change"],
    );
    let (_, one) = server
        .call(
            Method::GET,
            &format!("/v6/BackupRepositories/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(one["retentionType"], "SnapshotBased");
    assert_eq!(one["name"], "Renamed");

    // DELETE: 204, gone from the API, the data stays.
    let (status, body) = server
        .call(
            Method::DELETE,
            &format!("/v6/BackupRepositories/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (s, b) = server
        .call(
            Method::GET,
            &format!("/v6/BackupRepositories/{id}"),
            &token,
            None,
        )
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, &["no backup repository"]);
    let (s, b) = server
        .call(
            Method::DELETE,
            &format!("/v6/BackupRepositories/{id}"),
            &token,
            None,
        )
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, &["no backup repository"]);
    assert!(path.join("config").is_file());

    // The same path again: refused (it is a repository), unless attached.
    let (s, b) = server
        .call(
            Method::POST,
            "/v6/BackupRepositories",
            &token,
            Some(repo_body("Again", &path)),
        )
        .await;
    assert_error(
        s,
        &b,
        StatusCode::BAD_REQUEST,
        &["already a repository", "attachUsedRepository"],
    );
    let mut attach = repo_body("Again", &path);
    attach["attachUsedRepository"] = json!(true);
    let (status, again) = server
        .call(Method::POST, "/v6/BackupRepositories", &token, Some(attach))
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_ne!(again["id"], id.as_str());
    assert_eq!(again["path"], path.to_str().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repository_adds_are_refused_with_a_message_that_says_why() {
    let (dir, _sim, server, token) = started().await;
    let target = tempfile::tempdir().unwrap();
    let add = |body: Value| {
        let server = &server;
        let token = token.clone();
        async move {
            server
                .call(Method::POST, "/v6/BackupRepositories", &token, Some(body))
                .await
        }
    };
    let path = |name: &str| target.path().join(name).to_str().unwrap().to_owned();

    let (s, b) = add(json!({"name": "a", "path": path("a")})).await;
    assert_error(
        s,
        &b,
        StatusCode::BAD_REQUEST,
        &["retentionType is required"],
    );
    let (s, b) = add(json!({"name": "a", "retentionType": "SnapshotBased"})).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["path is required"]);
    let (s, b) = add(json!({"path": path("a"), "retentionType": "SnapshotBased"})).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["name is required"]);
    let (s, b) =
        add(json!({"name": "a", "path": "relative/dir", "retentionType": "SnapshotBased"})).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["absolute"]);
    let (s, b) = add(json!({"name": "a", "path": dir.path().join("repo").to_str().unwrap(), "retentionType": "SnapshotBased"})).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["data directory"]);
    let file = target.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let (s, b) =
        add(json!({"name": "a", "path": file.to_str().unwrap(), "retentionType": "SnapshotBased"}))
            .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["not a directory"]);
    let (s, b) = add(json!({"name": "a", "path": path("a"), "retentionType": "Forever"})).await;
    assert_error(
        s,
        &b,
        StatusCode::BAD_REQUEST,
        &["retentionType", "ItemLevel, SnapshotBased"],
    );
    let (s, b) = add(json!({"name": "a", "path": path("a"), "retentionType": "ItemLevel", "retentionPeriodType": "Daily"})).await;
    assert_error(
        s,
        &b,
        StatusCode::BAD_REQUEST,
        &["dailyRetentionPeriod is required"],
    );
    let (s, b) = add(
        json!({"name": "a", "path": path("a"), "retentionType": "ItemLevel", "dailyTime": "25:00"}),
    )
    .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["dailyTime"]);
    let (s, b) = add(json!({"name": "a", "path": path("a"), "retentionType": "ItemLevel", "proxyId": uuid::Uuid::new_v4()})).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["no proxy"]);
    let (s, b) = add(json!({"name": "a", "path": path("a"), "retentionType": "ItemLevel", "objectStorageEncryptionEnabled": true})).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["object storage"]);
    let (s, b) = add(json!({"name": "a", "path": path("a"), "retentionType": "ItemLevel", "objectStorageId": uuid::Uuid::new_v4(), "objectStorageCachePath": path("c")})).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["no object storage"]);
    // None of these left a directory behind.
    assert!(!target.path().join("a").exists());

    // Keys and enum values in any case, as ASP.NET reads them; yearly default Years3.
    let (status, first) =
        add(json!({"Name": "First", "PATH": path("first"), "retentiontype": "itemlevel"})).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["retentionType"], "ItemLevel");
    assert_eq!(first["retentionPeriodType"], "Yearly");
    assert_eq!(first["yearlyRetentionPeriod"], "Years3");
    assert_eq!(first["dailyTime"], "00:00:00");
    let (s, b) =
        add(json!({"name": "FIRST", "path": path("second"), "retentionType": "ItemLevel"})).await;
    assert_error(
        s,
        &b,
        StatusCode::CONFLICT,
        &["named 'First' already exists"],
    );
    let (s, b) =
        add(json!({"name": "Inner", "path": path("first/inner"), "retentionType": "ItemLevel"}))
            .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["inside", "First"]);
    let (s, b) = add(json!({"name": "Same", "path": format!("{}/./", path("first")), "retentionType": "ItemLevel"})).await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["First"]);
    let (_, list) = server
        .call(Method::GET, "/v6/BackupRepositories", &token, None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_keys_never_give_their_password_back() {
    let (dir, _sim, server, token) = started().await;
    let password = "Encryption-Key-Passw0rd";
    let (status, key) = server
        .call(
            Method::POST,
            "/v6/EncryptionKeys",
            &token,
            Some(json!({"password": password, "description": "Customer A"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{key}");
    let id = key["id"].as_str().unwrap().to_owned();
    assert_eq!(
        key,
        json!({"id": id, "description": "Customer A", "_links": {"self": {"href": format!("/v6/encryptionkeys/{id}")}}})
    );
    let (status, _) = server
        .call(
            Method::POST,
            "/v6/EncryptionKeys",
            &token,
            Some(json!({"Password": "Another-Passw0rd", "Description": "customer b"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (_, all) = server
        .call(Method::GET, "/v6/EncryptionKeys", &token, None)
        .await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (_, some) = server
        .call(
            Method::GET,
            "/v6/EncryptionKeys?description=CUSTOMER%20A",
            &token,
            None,
        )
        .await;
    assert_eq!(some.as_array().unwrap().len(), 1);
    assert_eq!(some[0]["id"], id.as_str());
    let (status, one) = server
        .call(
            Method::GET,
            &format!("/v6/EncryptionKeys/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, key);

    let (s, b) = server
        .call(
            Method::POST,
            "/v6/EncryptionKeys",
            &token,
            Some(json!({"description": "x"})),
        )
        .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["password is required"]);
    let (s, b) = server
        .call(
            Method::POST,
            "/v6/EncryptionKeys",
            &token,
            Some(json!({"password": "short"})),
        )
        .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["8 to 1024"]);
    let (s, b) = server
        .call(
            Method::PUT,
            &format!("/v6/EncryptionKeys/{id}"),
            &token,
            Some(json!({"description": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED, "{b}");

    let (status, _) = server
        .call(
            Method::DELETE,
            &format!("/v6/EncryptionKeys/{id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (s, b) = server
        .call(
            Method::GET,
            &format!("/v6/EncryptionKeys/{id}"),
            &token,
            None,
        )
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, &["no encryption key"]);
    server.stop().await;
    for f in files_under(dir.path()) {
        let bytes = std::fs::read(&f).unwrap();
        for secret in [password, "Another-Passw0rd"] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} in {}",
                f.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_answer_201_and_keep_their_secret_sealed() {
    let (dir, _sim, server, token) = started().await;
    let secret = "S3-Secret-Key-Never-Shown/abc+xyz";
    let (status, account) = server.call(Method::POST, "/v6/Accounts", &token,
        Some(json!({"accountType": "amazonS3CompatibleAccount", "userName": "AKIAEXAMPLE", "password": secret, "description": "minio"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{account}");
    let id = account["id"].as_str().unwrap().to_owned();
    assert_eq!(
        account,
        json!({"accountType": "amazonS3CompatibleAccount", "userName": "AKIAEXAMPLE", "id": id,
                               "description": "minio", "_links": {"self": {"href": format!("/v6/accounts/{id}")}}})
    );
    let (_, all) = server.call(Method::GET, "/v6/Accounts", &token, None).await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    let (_, by_name) = server
        .call(Method::GET, "/v6/Accounts?name=akiaexample", &token, None)
        .await;
    assert_eq!(by_name.as_array().unwrap().len(), 1);
    let (_, by_type) = server
        .call(
            Method::GET,
            "/v6/Accounts?accountType=azureBlobAccount",
            &token,
            None,
        )
        .await;
    assert_eq!(by_type, json!([]));
    let (s, b) = server
        .call(
            Method::POST,
            "/v6/Accounts",
            &token,
            Some(json!({"accountType": "azureBlobAccount", "userName": "x", "password": "y"})),
        )
        .await;
    assert_error(
        s,
        &b,
        StatusCode::BAD_REQUEST,
        &["not supported", "amazonS3CompatibleAccount"],
    );
    let (s, b) = server
        .call(
            Method::POST,
            "/v6/Accounts",
            &token,
            Some(json!({"accountType": "amazonS3CompatibleAccount", "userName": "x"})),
        )
        .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, &["password is required"]);

    let (status, body) = server
        .call(
            Method::PUT,
            &format!("/v6/Accounts/{id}"),
            &token,
            Some(json!({"description": "renamed", "newPassword": "Rotated-S3-Secret"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, one) = server
        .call(Method::GET, &format!("/v6/Accounts/{id}"), &token, None)
        .await;
    assert_eq!(one["description"], "renamed");
    assert_eq!(one["userName"], "AKIAEXAMPLE");
    let (status, _) = server
        .call(Method::DELETE, &format!("/v6/Accounts/{id}"), &token, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (s, b) = server
        .call(Method::GET, &format!("/v6/Accounts/{id}"), &token, None)
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, &["no account"]);
    server.stop().await;
    for f in files_under(dir.path()) {
        let bytes = std::fs::read(&f).unwrap();
        for s in [secret, "Rotated-S3-Secret"] {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "{s} in {}",
                f.display()
            );
        }
    }
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repository_a_job_uses_cannot_be_removed_until_the_job_is_gone() {
    let (_dir, _sim, server, token) = started().await;
    let target = tempfile::tempdir().unwrap();
    let (status, org) = server
        .add(
            &token,
            seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let org_id = org["id"].as_str().unwrap().to_owned();
    let path = target.path().join("used");
    let (status, repo) = server
        .call(
            Method::POST,
            "/v6/BackupRepositories",
            &token,
            Some(repo_body("Used", &path)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{repo}");
    let repo_id = repo["id"].as_str().unwrap().to_owned();
    let (status, job) = server
        .call(
            Method::POST,
            &format!("/v6/Organizations/{org_id}/Jobs"),
            &token,
            Some(
                json!({"name": "Everything", "backupType": "EntireOrganization",
                        "repositoryId": repo_id, "schedulePolicy": {"type": "ManualOnly"}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    let job_id = job["id"].as_str().unwrap().to_owned();

    let (status, body) = server
        .call(
            Method::DELETE,
            &format!("/v6/BackupRepositories/{repo_id}"),
            &token,
            None,
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::CONFLICT,
        &["repository 'Used' cannot be removed: the backup repository is used by the job(s) 'Everything'"],
    );
    let (status, still) = server
        .call(
            Method::GET,
            &format!("/v6/BackupRepositories/{repo_id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{still}");

    let (status, body) = server
        .call(Method::DELETE, &format!("/v6/Jobs/{job_id}"), &token, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = server
        .call(
            Method::DELETE,
            &format!("/v6/BackupRepositories/{repo_id}"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // The data stays where it was, as in VB365.
    assert!(path.join("config").is_file());
}
