//! Exchange restore over HTTPS against the simulator, from a real backup made through the
//! jobs routes: explore, browse, save (MSG, EML, zip), restore to the original mailbox (a
//! deleted message, twice; a deleted folder), restore to another mailbox, and the errors.
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
use jobs_common::{mailbox_job, organization_and_repository, run, ANDREW, NANCY};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn tenant_with_mail() -> m365_sim::Tenant {
    let inbox: Vec<Value> = (0..2)
        .map(|n| {
            json!({"subject": format!("Quarterly report {n}"), "from": "boss@contoso.com",
                        "to": ["nancy@contoso.onmicrosoft.com"], "isRead": n == 0,
                        "body": format!("body {n} ").repeat(40)})
        })
        .collect();
    tenant(
        1,
        "contoso",
        &[
            ("admin", &["Global Administrator"], json!({})),
            (
                "nancy",
                &[],
                json!({"displayName": "Nancy Davolio", "mailFolders": [
                    {"displayName": "Inbox", "wellKnownName": "inbox", "messages": inbox,
                     "childFolders": [{"displayName": "Projects", "messages": [
                         {"subject": "Plan", "from": "x@contoso.com", "body": "the plan"}]}]}
                ]}),
            ),
            (
                "andrew",
                &[],
                json!({"displayName": "Andrew Fuller", "mailFolders": [
                    {"displayName": "Inbox", "wellKnownName": "inbox", "messages": []}]}),
            ),
        ],
    )
}

/// Organization, repository, a job for Nancy's mailbox, one finished backup.
async fn backed_up() -> (
    (tempfile::TempDir, tempfile::TempDir),
    Sim,
    Server,
    String,
    String,
) {
    let (dir, sim, server) = start_with(vec![tenant_with_mail()], |_| {}).await;
    let token = server.token().await;
    // Outside the data dir, which the server refuses to share.
    let repo_dir = tempfile::tempdir().unwrap();
    let (org_id, repo_id) = organization_and_repository(&server, &token, repo_dir.path()).await;
    let job = mailbox_job(&server, &token, &org_id, &repo_id, &[NANCY]).await;
    let session = run(&server, &token, &job, 1).await;
    assert_eq!(session["status"], "Success", "{session}");
    ((dir, repo_dir), sim, server, token, org_id)
}

async fn raw(
    server: &Server,
    token: &str,
    path: &str,
    accept: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = server
        .client
        .post(server.url(path))
        .bearer_auth(token)
        .header("Content-Type", "application/json");
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    request
        .body(body.map(|b| b.to_string()).unwrap_or_default())
        .send()
        .await
        .unwrap()
}

fn utf16(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browse_save_and_restore_a_mailbox_from_a_real_backup() {
    let (_dir, sim, server, token, org_id) = backed_up().await;
    let graph = Graph::new(&sim).await;
    let inbox_live = graph.folder_id(NANCY, "/Inbox").await.unwrap();
    let originals = graph.messages(NANCY, &inbox_live).await;
    let original = originals
        .iter()
        .find(|m| m["subject"] == "Quarterly report 0")
        .unwrap()
        .clone();
    let original_mime = graph.mime(NANCY, original["id"].as_str().unwrap()).await;

    // Explore and browse.
    let (status, session) = server
        .call(
            Method::POST,
            &format!("/v6/Organizations/{org_id}/explore"),
            &token,
            Some(json!({"type": "vex"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["state"], "Working");
    assert_eq!(session["result"], "Success");
    let sid = session["id"].as_str().unwrap().to_owned();
    let base = format!("/v6/RestoreSessions/{sid}/organization/mailboxes");
    let (status, mailboxes) = server.call(Method::GET, &base, &token, None).await;
    assert_eq!(status, StatusCode::OK, "{mailboxes}");
    assert_eq!(
        mailboxes["results"].as_array().unwrap().len(),
        1,
        "{mailboxes}"
    );
    assert_eq!(mailboxes["results"][0]["id"], NANCY);
    let mbx = format!("{base}/{NANCY}");
    let (status, top) = server
        .call(
            Method::GET,
            &format!("{mbx}/folders?parentId=null"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{top}");
    let inbox = top["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Inbox")
        .unwrap_or_else(|| panic!("no Inbox in {top}"))
        .clone();
    assert_eq!(inbox["category"], "Inbox");
    assert_eq!(inbox["type"], "None");
    assert!(inbox["_links"].get("parent").is_none(), "{inbox}");
    let inbox_id = inbox["id"].as_str().unwrap().to_owned();
    let (_, children) = server
        .call(
            Method::GET,
            &format!("{mbx}/folders?parentId={inbox_id}"),
            &token,
            None,
        )
        .await;
    let projects = children["results"][0].clone();
    assert_eq!(projects["name"], "Projects", "{children}");
    assert!(projects["_links"]["parent"]["href"]
        .as_str()
        .unwrap()
        .ends_with(&inbox_id));
    let (status, items) = server
        .call(
            Method::GET,
            &format!("{mbx}/items?folderId={inbox_id}&limit=1"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{items}");
    assert_eq!(items["results"].as_array().unwrap().len(), 1);
    assert!(items["_links"].get("next").is_some(), "{items}");
    let (_, items) = server
        .call(
            Method::GET,
            &format!("{mbx}/items?folderId={inbox_id}"),
            &token,
            None,
        )
        .await;
    let listed = items["results"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{items}");
    let item = listed
        .iter()
        .find(|i| i["subject"] == "Quarterly report 0")
        .unwrap()
        .clone();
    assert_eq!(item["itemClass"], "IPM.Note");
    let item_id = item["id"].as_str().unwrap().to_owned();
    let other_id = listed
        .iter()
        .find(|i| i["subject"] == "Quarterly report 1")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Save: the original MIME byte for byte, an MSG, a zip of MSGs.
    let eml = raw(
        &server,
        &token,
        &format!("{mbx}/items/{item_id}/save"),
        Some("message/rfc822"),
        None,
    )
    .await;
    assert_eq!(eml.status(), StatusCode::OK);
    assert!(eml.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename=\"Quarterly report 0.eml\""));
    assert_eq!(eml.bytes().await.unwrap().to_vec(), original_mime);
    let msg = raw(
        &server,
        &token,
        &format!("{mbx}/items/{item_id}/save"),
        Some("application/octet-stream"),
        None,
    )
    .await;
    assert_eq!(msg.status(), StatusCode::OK);
    assert!(msg.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename=\"Quarterly report 0.msg\""));
    let msg = msg.bytes().await.unwrap();
    assert_eq!(&msg[..8], &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    assert!(contains(&msg, &utf16("Quarterly report 0")));
    assert!(contains(&msg, &utf16("boss@contoso.com")));
    let zip = raw(
        &server,
        &token,
        &format!("{mbx}/items/Save"),
        None,
        Some(json!({"items": [{"id": item_id}, {"Id": other_id}]})),
    )
    .await;
    assert_eq!(zip.status(), StatusCode::OK);
    let zip = zip.bytes().await.unwrap();
    assert_eq!(&zip[..4], b"PK\x03\x04");
    assert!(contains(&zip, b"Inbox/Quarterly report 0.msg"));
    assert!(contains(&zip, b"Inbox/Quarterly report 1.msg"));

    // Both messages (one read, one unread) are deleted in Outlook, then
    // restored where they were, once, each in the read state it had.
    assert_eq!(original["isRead"], true);
    let unread_original = originals
        .iter()
        .find(|m| m["subject"] == "Quarterly report 1")
        .unwrap()
        .clone();
    assert_eq!(unread_original["isRead"], false);
    for gone in [&original, &unread_original] {
        let deleted = graph
            .request(
                Method::DELETE,
                &format!("users/{NANCY}/messages/{}", gone["id"].as_str().unwrap()),
            )
            .await;
        assert!(deleted.status().is_success());
    }
    assert!(graph.messages(NANCY, &inbox_live).await.is_empty());
    let (status, stats) = server
        .call(
            Method::POST,
            &format!("{mbx}/items/restore"),
            &token,
            Some(json!({"items": [{"id": item_id}, {"id": other_id}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["createdItemsCount"], 2, "{stats}");
    assert_eq!(stats["failedItemsCount"], 0, "{stats}");
    let now = graph.messages(NANCY, &inbox_live).await;
    let unread_back: Vec<&Value> = now
        .iter()
        .filter(|m| m["subject"] == "Quarterly report 1")
        .collect();
    assert_eq!(unread_back.len(), 1, "{now:?}");
    assert_eq!(unread_back[0]["isRead"], false, "{now:?}");
    assert_eq!(
        unread_back[0]["sentDateTime"],
        unread_original["sentDateTime"]
    );
    let restored: Vec<&Value> = now
        .iter()
        .filter(|m| m["subject"] == "Quarterly report 0")
        .collect();
    assert_eq!(restored.len(), 1, "{now:?}");
    let restored = restored[0];
    assert_eq!(restored["isDraft"], false);
    assert_eq!(restored["isRead"], true);
    assert_eq!(restored["internetMessageId"], original["internetMessageId"]);
    assert_eq!(restored["from"], original["from"]);
    assert_eq!(restored["receivedDateTime"], original["receivedDateTime"]);
    assert_eq!(restored["sentDateTime"], original["sentDateTime"]);
    let (status, again) = server
        .call(
            Method::POST,
            &format!("{mbx}/items/{item_id}/restore"),
            &token,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["createdItemsCount"], 0, "{again}");
    assert_eq!(again["skippedItemsCount"], 1, "{again}");
    assert_eq!(graph.messages(NANCY, &inbox_live).await.len(), 2);

    // A deleted folder comes back with its message.
    let projects_live = graph.folder_id(NANCY, "/Inbox/Projects").await.unwrap();
    let gone = graph
        .request(
            Method::DELETE,
            &format!("users/{NANCY}/mailFolders/{projects_live}"),
        )
        .await;
    assert!(gone.status().is_success());
    assert!(graph.folder_id(NANCY, "/Inbox/Projects").await.is_none());
    let (status, stats) = server
        .call(
            Method::POST,
            &format!("{mbx}/folders/{}/restore", projects["id"].as_str().unwrap()),
            &token,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["createdItemsCount"], 1, "{stats}");
    assert_eq!(stats["failedFoldersCount"], 0, "{stats}");
    let back = graph.folder_id(NANCY, "/Inbox/Projects").await.unwrap();
    let plan = graph.messages(NANCY, &back).await;
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0]["subject"], "Plan");
    assert_eq!(plan[0]["isDraft"], false);

    // To another mailbox, into a folder created for it.
    let (status, stats) = server
        .call(
            Method::POST,
            &format!("{mbx}/items/restoreTo"),
            &token,
            Some(
                json!({"mailbox": "andrew@contoso.onmicrosoft.com", "folder": "Restored",
                        "markRestoredAsUnread": "true", "items": [{"id": other_id}]}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert_eq!(stats["createdItemsCount"], 1, "{stats}");
    let target = graph
        .folder_id(ANDREW, "/Restored/Inbox")
        .await
        .expect("the target folder was created");
    let copied = graph.messages(ANDREW, &target).await;
    assert_eq!(copied.len(), 1);
    assert_eq!(copied[0]["subject"], "Quarterly report 1");
    assert_eq!(copied[0]["isRead"], false);
    assert_eq!(copied[0]["isDraft"], false);

    // Errors say what is wrong.
    let (status, body) = server
        .call(
            Method::POST,
            &format!("{mbx}/items/AAMkNoSuchItem=/restore"),
            &token,
            Some(json!({})),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, &["AAMkNoSuchItem"]);
    let (status, body) = server
        .call(
            Method::POST,
            &format!("{mbx}/items/restore"),
            &token,
            Some(json!({"items": []})),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, &["items"]);
    let (status, body) = server
        .call(
            Method::POST,
            &format!("{mbx}/items/restoreTo"),
            &token,
            Some(json!({"items": [{"id": item_id}]})),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, &["mailbox"]);
    let (status, body) = server
        .call(
            Method::POST,
            &format!("{mbx}/items/restore"),
            &token,
            Some(
                json!({"userName": "admin@contoso.onmicrosoft.com", "userPassword": "x",
                        "items": [{"id": item_id}]}),
            ),
        )
        .await;
    // Credentials in the body are signed in with first (restore_credentials.rs): a wrong
    // password is refused before anything is written, the password never echoed.
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        &[
            "admin@contoso.onmicrosoft.com",
            "incorrect",
            "nothing was restored",
        ],
    );
    assert!(!body.to_string().contains("\"x\""), "{body}");
    assert!(!body.to_string().contains("\"x\""));

    // Events: start, saves, restores with their counts.
    let (_, events) = server
        .call(
            Method::GET,
            &format!("/v6/RestoreSessions/{sid}/Events?limit=100"),
            &token,
            None,
        )
        .await;
    let events = events["results"].as_array().unwrap().clone();
    assert_eq!(events[0]["title"], "Restore session started");
    assert_eq!(
        events.iter().filter(|e| e["type"] == "Save").count(),
        3,
        "{events:?}"
    );
    let restores: Vec<&Value> = events.iter().filter(|e| e["type"] == "Restore").collect();
    assert_eq!(restores.len(), 4, "{events:?}");
    assert!(restores[1]["message"]
        .as_str()
        .unwrap()
        .contains("1 skipped"));

    // A stopped session refuses actions, clearly.
    let (status, _) = server
        .call(
            Method::POST,
            &format!("/v6/RestoreSessions/{sid}/Stop"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server
        .call(
            Method::POST,
            &format!("{mbx}/items/{item_id}/restore"),
            &token,
            Some(json!({})),
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, &["stopped"]);
    let stopped = raw(
        &server,
        &token,
        &format!("{mbx}/items/{item_id}/save"),
        None,
        None,
    )
    .await;
    assert_eq!(stopped.status(), StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_show_each_point_in_time_and_stop_once() {
    let (_dirs, _sim, server, token, org_id) = backed_up().await;
    // Before the first backup: an empty session, not an error (minute precision, as C2 sends).
    let (status, early) = server
        .call(
            Method::POST,
            &format!("/v6/Organizations/{org_id}/explore"),
            &token,
            Some(json!({"Datetime": "2001.01.01 10:49", "type": "Vex"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{early}");
    let early_id = early["id"].as_str().unwrap().to_owned();
    let (_, mailboxes) = server
        .call(
            Method::GET,
            &format!("/v6/RestoreSessions/{early_id}/organization/mailboxes"),
            &token,
            None,
        )
        .await;
    assert_eq!(
        mailboxes["results"].as_array().unwrap().len(),
        0,
        "{mailboxes}"
    );
    // Now: the backup's mailbox, and the organization named with its point in time.
    let (_, latest) = server
        .call(
            Method::POST,
            &format!("/v6/Organizations/{org_id}/explore"),
            &token,
            Some(json!({})),
        )
        .await;
    let sid = latest["id"].as_str().unwrap().to_owned();
    let (_, org) = server
        .call(
            Method::GET,
            &format!("/v6/RestoreSessions/{sid}/organization"),
            &token,
            None,
        )
        .await;
    assert!(
        org["name"]
            .as_str()
            .unwrap()
            .starts_with("contoso.onmicrosoft.com ("),
        "{org}"
    );
    let (_, mailboxes) = server
        .call(
            Method::GET,
            &format!("/v6/RestoreSessions/{sid}/organization/mailboxes"),
            &token,
            None,
        )
        .await;
    assert_eq!(
        mailboxes["results"][0]["email"],
        "nancy@contoso.onmicrosoft.com"
    );
    let (_, page) = server
        .call(Method::GET, "/v6/RestoreSessions?limit=1", &token, None)
        .await;
    assert_eq!(page["totalCount"], 2, "{page}");
    assert_eq!(page["results"].as_array().unwrap().len(), 1);
    for _ in 0..2 {
        let (status, _) = server
            .call(
                Method::POST,
                &format!("/v6/RestoreSessions/{sid}/stop"),
                &token,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, stopped) = server
        .call(
            Method::GET,
            &format!("/v6/RestoreSessions/{sid}"),
            &token,
            None,
        )
        .await;
    assert_eq!(stopped["state"], "Stopped");
    assert_eq!(stopped["result"], "Success");
    assert!(stopped["endTime"].is_string(), "{stopped}");
    let (_, events) = server
        .call(
            Method::GET,
            &format!("/v6/RestoreSessions/{sid}/events"),
            &token,
            None,
        )
        .await;
    let titles: Vec<&str> = events["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["Restore session started", "Restore session stopped"]
    );
    let (status, body) = server
        .call(
            Method::GET,
            &format!("/v6/RestoreSessions/{sid}/organization/mailboxes"),
            &token,
            None,
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT, &["stopped"]);
    let (status, body) = server
        .call(
            Method::GET,
            &format!("/v6/RestoreSessions/{}", uuid::Uuid::new_v4()),
            &token,
            None,
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        &["no restore session"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_restore_puts_whole_mailboxes_back() {
    let (_dirs, sim, server, token, org_id) = backed_up().await;
    let graph = Graph::new(&sim).await;
    let inbox = graph.folder_id(NANCY, "/Inbox").await.unwrap();
    let before = graph.messages(NANCY, &inbox).await;
    let lost = before
        .iter()
        .find(|m| m["subject"] == "Quarterly report 1")
        .unwrap()
        .clone();
    let response = graph
        .request(
            Method::DELETE,
            &format!("users/{NANCY}/messages/{}", lost["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (_, session) = server
        .call(
            Method::POST,
            &format!("/v6/Organizations/{org_id}/explore"),
            &token,
            Some(json!({"type": "Vex"})),
        )
        .await;
    let bulk = format!(
        "/v6/RestoreSessions/{}/organization/mailboxes/restore",
        session["id"].as_str().unwrap()
    );
    // An unknown mailbox: nothing is written unless the body says to skip it.
    let body = json!({"mailboxes": [{"id": NANCY}, {"id": "nobody"}]});
    let (status, answer) = server.call(Method::POST, &bulk, &token, Some(body)).await;
    assert_error(status, &answer, StatusCode::NOT_FOUND, &["nobody"]);
    assert_eq!(graph.messages(NANCY, &inbox).await.len(), before.len() - 1);
    let (status, answer) = server
        .call(Method::POST, &bulk, &token, Some(json!({"mailboxes": []})))
        .await;
    assert_error(status, &answer, StatusCode::BAD_REQUEST, &["mailboxes"]);

    let body = json!({"mailboxes": [{"id": NANCY, "name": "Nancy Davolio"}, {"id": "nobody"}],
                      "skipUnresolved": true});
    let (status, answer) = server
        .call(Method::POST, &bulk, &token, Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "Warning", "{answer}");
    let details = answer["details"].as_array().unwrap();
    assert_eq!(details.len(), 2, "{answer}");
    let skipped = details
        .iter()
        .find(|d| d["mailbox"]["id"] == "nobody")
        .unwrap();
    assert_eq!(skipped["status"], "Warning", "{answer}");
    let nancy = details
        .iter()
        .find(|d| d["mailbox"]["id"] == NANCY)
        .unwrap();
    assert_eq!(nancy["status"], "Success", "{answer}");
    assert_eq!(nancy["mailbox"]["name"], "Nancy Davolio", "{answer}");
    // The deleted message created; the two still there skipped.
    assert_eq!(
        (
            &nancy["details"]["createdItemsCount"],
            &nancy["details"]["skippedItemsCount"],
            &nancy["details"]["failedItemsCount"]
        ),
        (&json!(1), &json!(2), &json!(0)),
        "{answer}"
    );
    let after = graph.messages(NANCY, &inbox).await;
    assert_eq!(after.len(), before.len(), "{after:?}");
    let back = after
        .iter()
        .find(|m| m["subject"] == "Quarterly report 1")
        .unwrap();
    assert_eq!(back["isDraft"], false);
    assert_eq!(back["isRead"], lost["isRead"]);
    assert_eq!(back["receivedDateTime"], lost["receivedDateTime"]);
    // Again: nothing new.
    let (status, answer) = server.call(Method::POST, &bulk, &token, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let nancy = &answer["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["mailbox"]["id"] == NANCY)
        .unwrap()["details"];
    assert_eq!(nancy["createdItemsCount"], 0, "{answer}");
    assert_eq!(nancy["skippedItemsCount"], 3, "{answer}");
    assert_eq!(graph.messages(NANCY, &inbox).await.len(), before.len());
}
