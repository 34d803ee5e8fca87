//! Restores with the credentials of the request, over HTTPS against the simulator: the
//! account is signed in to the organization's tenant before anything is written and the
//! restore writes as that account; a wrong password is a 400 naming the account (never the
//! password) that writes nothing; other kinds of credential answer 501. Without credentials
//! the organization's stored account is used — shown here failing once Microsoft no longer
//! takes the stored password, while the request's account still restores.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;
mod jobs_common;

use common::*;
use jobs_common::{manual_job, organization_and_repository, run, NANCY};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const RESTORER: &str = "restorer@contoso.onmicrosoft.com";
const RESTORER_PASSWORD: &str = "Restorer-0wn-Passw0rd!";
const WRONG_PASSWORD: &str = "Not-Restorers-Passw0rd?";
const CHANGED_ADMIN_PASSWORD: &str = "Admin-Changed-Passw0rd!";

fn tenant_with_mail() -> m365_sim::Tenant {
    tenant(
        1,
        "contoso",
        &[
            ("admin", &["Global Administrator"], json!({})),
            (
                "nancy",
                &[],
                json!({"displayName": "Nancy Davolio", "mailFolders": [
                    {"displayName": "Inbox", "wellKnownName": "inbox", "messages": [
                        {"subject": "Contract", "from": "legal@contoso.com",
                         "to": ["nancy@contoso.onmicrosoft.com"], "isRead": true,
                         "body": "the signed contract"},
                        {"subject": "Lunch", "from": "andrew@contoso.com", "body": "noon?"}
                    ]}
                ], "driveItems": [
                    {"path": "Contracts/signed.txt", "content": "signed by both parties"},
                    {"path": "notes.txt", "content": "call legal"}
                ]}),
            ),
            (
                "restorer",
                &["Exchange Administrator", "SharePoint Administrator"],
                json!({"password": RESTORER_PASSWORD}),
            ),
        ],
    )
}

/// The bytes of the file at `path` in Nancy's OneDrive, None if there is none.
async fn nancy_file(graph: &Graph, path: &str) -> Option<Vec<u8>> {
    graph.read(&graph.drive_of(NANCY).await, path).await
}

/// The messages called `subject` in Nancy's Inbox.
async fn named(graph: &Graph, subject: &str) -> Vec<Value> {
    let inbox = graph.folder_id(NANCY, "/Inbox").await.unwrap();
    graph
        .messages(NANCY, &inbox)
        .await
        .into_iter()
        .filter(|m| m["subject"] == subject)
        .collect()
}

/// Organization, repository and one finished backup of Nancy's mailbox and OneDrive.
async fn backed_up(server: &Server, repo: &tempfile::TempDir) -> (String, String) {
    let token = server.token().await;
    let (org_id, repo_id) = organization_and_repository(server, &token, repo.path()).await;
    let items =
        vec![json!({"type": "User", "user": {"id": NANCY}, "mailbox": true, "oneDrive": true})];
    let job = manual_job(server, &token, &org_id, &repo_id, "Nancy", items).await;
    let session = run(server, &token, &job, 1).await;
    assert_eq!(session["status"], "Success", "{session}");
    (org_id, token)
}

fn no_password_in(body: &Value) {
    let text = body.to_string();
    for secret in [
        RESTORER_PASSWORD,
        WRONG_PASSWORD,
        CHANGED_ADMIN_PASSWORD,
        M365_PASSWORD,
    ] {
        assert!(!text.contains(secret), "a password in {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_signs_in_with_the_account_of_its_body() {
    let dir = tempfile::tempdir().unwrap();
    let repo = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![tenant_with_mail()]).await;
    let server = Server::start(config(dir.path(), &sim.url)).await;
    let (org_id, _) = backed_up(&server, &repo).await;
    let graph = Graph::new(&sim).await;
    let before = named(&graph, "Contract").await;
    assert_eq!(before.len(), 1);
    let response = graph
        .request(
            Method::DELETE,
            &format!(
                "users/{NANCY}/messages/{}",
                before[0]["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = graph
        .request(
            Method::DELETE,
            &format!("users/{NANCY}/drive/root:/Contracts/signed.txt"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(nancy_file(&graph, "Contracts/signed.txt").await, None);

    // Microsoft no longer takes the stored password; a restarted server has no session
    // signed in with it any more.
    server.stop().await;
    sim.sim
        .set_password(
            "contoso.onmicrosoft.com",
            "admin@contoso.onmicrosoft.com",
            CHANGED_ADMIN_PASSWORD,
        )
        .unwrap();
    let server = Server::start(config(dir.path(), &sim.url)).await;
    let token = server.token().await;
    let (status, session) = server
        .call(
            Method::POST,
            &format!("/v6/Organizations/{org_id}/explore"),
            &token,
            Some(json!({"type": "Vex"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let mailbox = format!(
        "/v6/RestoreSessions/{}/organization/mailboxes/{NANCY}",
        session["id"].as_str().unwrap()
    );
    let (status, items) = server
        .call(Method::GET, &format!("{mailbox}/items"), &token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{items}");
    let contract = items["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["subject"] == "Contract")
        .unwrap_or_else(|| panic!("no Contract in {items}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let restore = format!("{mailbox}/items/{contract}/restore");

    // Without credentials: the stored account, which Microsoft refuses now.
    let (status, body) = server
        .call(Method::POST, &restore, &token, Some(json!({})))
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("admin@contoso.onmicrosoft.com"),
        "{body}"
    );
    no_password_in(&body);

    // A wrong password: refused before anything is written, the account named.
    let (status, body) = server
        .call(
            Method::POST,
            &restore,
            &token,
            Some(json!({"userName": RESTORER, "userPassword": WRONG_PASSWORD})),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        &[RESTORER, "incorrect", "nothing was restored"],
    );
    no_password_in(&body);
    assert!(named(&graph, "Contract").await.is_empty());

    // Half a credential, or a kind not signed in with yet.
    let (status, body) = server
        .call(
            Method::POST,
            &restore,
            &token,
            Some(json!({"userName": RESTORER})),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        &["userName", "password"],
    );
    let (status, body) = server
        .call(
            Method::POST,
            &restore,
            &token,
            Some(json!({"userCode": "ABCD-EFGH"})),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_IMPLEMENTED, &["userCode"]);
    let (status, body) = server
        .call(
            Method::POST,
            &restore,
            &token,
            Some(json!({"userName": RESTORER, "userPassword": {"value": RESTORER_PASSWORD}})),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        &["userPassword", "string"],
    );
    no_password_in(&body);
    assert!(named(&graph, "Contract").await.is_empty());

    // The right password: the restore writes as the restorer.
    let (status, stats) = server
        .call(
            Method::POST,
            &restore,
            &token,
            Some(json!({"userName": RESTORER, "userPassword": RESTORER_PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(
        (
            &stats["createdItemsCount"],
            &stats["failedItemsCount"],
            &stats["skippedItemsCount"]
        ),
        (&json!(1), &json!(0), &json!(0)),
        "{stats}"
    );
    no_password_in(&stats);
    let back = named(&graph, "Contract").await;
    assert_eq!(back.len(), 1, "{back:?}");
    assert_eq!(back[0]["isDraft"], false);
    assert_eq!(back[0]["isRead"], true);
    assert_eq!(back[0]["receivedDateTime"], before[0]["receivedDateTime"]);
    // Bulk bodies name the same fields office365UserName / office365UserPassword: a second
    // restore through them is skipped as already there.
    let (status, stats) = server
        .call(
            Method::POST,
            &restore,
            &token,
            Some(
                json!({"office365UserName": RESTORER, "office365UserPassword": RESTORER_PASSWORD}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["skippedItemsCount"], 1, "{stats}");
    assert_eq!(named(&graph, "Contract").await.len(), 1);

    // The session's events say who restored, and hold no password.
    let (_, events) = server
        .call(
            Method::GET,
            &format!(
                "/v6/RestoreSessions/{}/Events?limit=100",
                session["id"].as_str().unwrap()
            ),
            &token,
            None,
        )
        .await;
    no_password_in(&events);
    assert!(
        events["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["message"]
                .as_str()
                .is_some_and(|m| m.contains(&format!("as {RESTORER}")) && m.contains("1 created"))),
        "{events}"
    );

    // OneDrive: the same rules.
    let (status, session) = server
        .call(
            Method::POST,
            &format!("/v6/Organizations/{org_id}/explore"),
            &token,
            Some(json!({"type": "Veod"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let onedrive = format!(
        "/v6/RestoreSessions/{}/organization/onedrives/{NANCY}",
        session["id"].as_str().unwrap()
    );
    let (status, folders) = server
        .call(
            Method::GET,
            &format!("{onedrive}/folders?parentId=root"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{folders}");
    let contracts = folders["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Contracts")
        .unwrap_or_else(|| panic!("no Contracts in {folders}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let restore = format!("{onedrive}/folders/{contracts}/restore");
    let (status, body) = server
        .call(Method::POST, &restore, &token, Some(json!({})))
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    no_password_in(&body);
    let (status, body) = server
        .call(
            Method::POST,
            &restore,
            &token,
            Some(json!({"userName": RESTORER, "userPassword": WRONG_PASSWORD})),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        &[RESTORER, "incorrect", "nothing was restored"],
    );
    no_password_in(&body);
    assert_eq!(nancy_file(&graph, "Contracts/signed.txt").await, None);
    let (status, body) = server
        .call(
            Method::POST,
            &restore,
            &token,
            Some(json!({"applicationId": "00000000-0000-0000-0000-000000000001"})),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_IMPLEMENTED, &["application"]);
    let (status, stats) = server
        .call(
            Method::POST,
            &restore,
            &token,
            Some(json!({"userName": RESTORER, "userPassword": RESTORER_PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(
        (&stats["restoredItemsCount"], &stats["failedItemsCount"]),
        (&json!(1), &json!(0)),
        "{stats}"
    );
    no_password_in(&stats);
    assert_eq!(
        nancy_file(&graph, "Contracts/signed.txt").await.as_deref(),
        Some(&b"signed by both parties"[..])
    );
    server.stop().await;
}
