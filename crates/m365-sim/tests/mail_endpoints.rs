//! Mail endpoints over real HTTP: folders, messages, MIME/JSON agreement,
//! attachments, per-folder delta across pages and writes, expiry.
// The helpers outside #[test] functions index JSON too: a slip is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::{start_with, Running};
use m365_sim::{demo_tenant, SimOptions, Tenant};
use reqwest::StatusCode;
use serde_json::{json, Value};

const USER: &str = "adele.vance@contoso-demo.com";
const RAW_MIME: &str = "From: Lynne <lynner@contoso.com>\r\nTo: adelev@contoso.com\r\nSubject: Raw hello\r\nMessage-ID: <raw-1@contoso.com>\r\nDate: Tue, 01 Sep 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nX-Custom: kept\r\nContent-Type: text/plain\r\n\r\nraw body line\r\n";

pub fn mail_tenant(extra_inbox: usize) -> Tenant {
    let mut value = serde_json::to_value(demo_tenant()).unwrap();
    let users = value["users"].as_array_mut().unwrap();
    let adele = users
        .iter_mut()
        .find(|u| {
            u["userPrincipalName"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(USER)
        })
        .unwrap();
    let mut inbox_messages = vec![
        json!({"subject": "Q3 plan", "from": "andrew@contoso.com", "to": [USER], "cc": ["lee@contoso.com"],
               "receivedDateTime": "2026-10-01T09:30:00Z", "isRead": false, "importance": "high",
               "body": "plain text", "bodyHtml": "<p>rich</p>",
               "attachments": [
                   {"name": "plan.txt", "contentType": "text/plain", "contentBase64": STANDARD.encode("the plan")},
                   {"name": "video.bin", "size": 100_000, "seed": 7}]}),
        json!({"mime": RAW_MIME}),
    ];
    for n in 0..extra_inbox {
        inbox_messages.push(json!({"subject": format!("bulk {n}"), "from": "x@contoso.com", "to": [USER], "body": format!("body {n}")}));
    }
    adele["mailFolders"] = json!([
        {"displayName": "Inbox", "wellKnownName": "inbox", "messages": inbox_messages,
         "childFolders": [{"displayName": "Projects", "messages": [{"subject": "in projects", "from": "x@contoso.com", "body": "p"}]}]},
        {"displayName": "Secret", "isHidden": true}
    ]);
    serde_json::from_value(value).unwrap()
}

pub async fn start_mail(extra: usize) -> (Running, String) {
    let sim = start_with(vec![mail_tenant(extra)], SimOptions::default()).await;
    let token = sim.admin_token().await;
    (sim, token)
}

async fn send(
    sim: &Running,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> common::Reply {
    let url = if path.starts_with("http") {
        path.to_owned()
    } else {
        format!("{}{path}", sim.base)
    };
    let mut request = sim.client.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    common::Reply {
        status,
        headers,
        body: if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        },
    }
}

fn ids(values: &[Value]) -> Vec<String> {
    values
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Follows a delta round to its deltaLink; returns (items, pages, deltaLink).
async fn delta_round(
    sim: &Running,
    token: &str,
    start: &str,
    page: usize,
) -> (Vec<Value>, usize, String) {
    let mut url = if start.starts_with("http") {
        start.to_owned()
    } else {
        format!("{}{start}", sim.base)
    };
    let mut items = Vec::new();
    let mut pages = 0;
    loop {
        let response = sim
            .client
            .get(&url)
            .bearer_auth(token)
            .header("Prefer", format!("odata.maxpagesize={page}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        pages += 1;
        items.extend(body["value"].as_array().unwrap().iter().cloned());
        if let Some(next) = body["@odata.nextLink"].as_str() {
            assert!(
                next.contains("mailFolders('") && next.contains("$skiptoken="),
                "{next}"
            );
            url = next.to_owned();
        } else {
            let delta = body["@odata.deltaLink"]
                .as_str()
                .expect("nextLink or deltaLink")
                .to_owned();
            assert!(delta.contains("$deltatoken="), "{delta}");
            return (items, pages, delta);
        }
    }
}

#[tokio::test]
async fn folders_are_the_well_known_ones_plus_the_listed_tree() {
    let (sim, token) = start_mail(0).await;
    let path = format!("/v1.0/users/{USER}/mailFolders");
    let top = sim.get(&token, &path).await;
    assert_eq!(top.status, StatusCode::OK, "{}", top.body);
    let names: Vec<&str> = top.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Inbox",
            "Drafts",
            "Sent Items",
            "Deleted Items",
            "Junk Email",
            "Outbox",
            "Archive"
        ]
    );
    let hidden = sim
        .get(&token, &format!("{path}?includeHiddenFolders=true"))
        .await;
    assert_eq!(hidden.body["value"].as_array().unwrap().len(), 8);
    assert_eq!(hidden.body["value"][7]["displayName"], "Secret");
    assert_eq!(hidden.body["value"][7]["isHidden"], true);
    let inbox = sim.get(&token, &format!("{path}/inbox")).await;
    assert_eq!(inbox.body["id"], top.body["value"][0]["id"]);
    assert_eq!(inbox.body["totalItemCount"], 2);
    assert_eq!(inbox.body["unreadItemCount"], 2);
    assert_eq!(inbox.body["childFolderCount"], 1);
    let children = sim.get(&token, &format!("{path}/inbox/childFolders")).await;
    assert_eq!(children.body["value"][0]["displayName"], "Projects");
    assert_eq!(
        children.body["value"][0]["parentFolderId"],
        inbox.body["id"]
    );
    assert_eq!(children.body["value"][0]["totalItemCount"], 1);
    // Ids are stable across restarts of the same tenant file.
    let (again, token2) = start_mail(0).await;
    let inbox2 = again.get(&token2, &format!("{path}/inbox")).await;
    assert_eq!(inbox2.body["id"], inbox.body["id"]);
    let unknown = sim.get(&token, &format!("{path}/AAMkNope")).await;
    common::assert_graph_error(&unknown, StatusCode::NOT_FOUND, "ErrorItemNotFound");
}

#[tokio::test]
async fn mime_and_json_agree_and_raw_mime_is_kept_byte_for_byte() {
    let (sim, token) = start_mail(0).await;
    let list = sim
        .get(
            &token,
            &format!("/v1.0/users/{USER}/mailFolders/inbox/messages"),
        )
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let messages = list.body["value"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    let structured = &messages[0];
    assert_eq!(structured["subject"], "Q3 plan");
    assert_eq!(
        structured["from"]["emailAddress"]["address"],
        "andrew@contoso.com"
    );
    assert_eq!(
        structured["toRecipients"][0]["emailAddress"]["address"],
        USER
    );
    assert_eq!(
        structured["ccRecipients"][0]["emailAddress"]["address"],
        "lee@contoso.com"
    );
    assert_eq!(structured["receivedDateTime"], "2026-10-01T09:30:00Z");
    assert_eq!(structured["hasAttachments"], true);
    assert_eq!(structured["importance"], "high");
    assert_eq!(structured["isDraft"], false);
    assert_eq!(structured["body"]["contentType"], "html");
    assert_eq!(structured["body"]["content"], "<p>rich</p>");
    assert_eq!(structured["bodyPreview"], "plain text");
    let id = structured["id"].as_str().unwrap();
    sim.sim.reset_stats();
    let mime_url = format!("{}/v1.0/users/{USER}/messages/{id}/$value", sim.base);
    let mime = sim
        .client
        .get(&mime_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(mime.status(), StatusCode::OK);
    let text = mime.text().await.unwrap();
    let header = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("Subject"), "Q3 plan");
    assert_eq!(header("From"), "andrew@contoso.com");
    assert_eq!(header("To"), USER);
    assert_eq!(header("Cc"), "lee@contoso.com");
    assert_eq!(header("Date"), "Thu, 01 Oct 2026 09:30:00 +0000");
    assert_eq!(
        header("Message-ID"),
        structured["internetMessageId"].as_str().unwrap()
    );
    assert!(
        text.contains("multipart/alternative")
            && text.contains("<p>rich</p>")
            && text.contains("plain text")
    );
    assert!(text.contains(&STANDARD.encode("the plan")));
    let again = sim
        .client
        .get(&mime_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(again, text, "rendered once, deterministically");

    let raw_id = messages[1]["id"].as_str().unwrap();
    let raw = sim
        .client
        .get(format!(
            "{}/v1.0/users/{USER}/mailFolders/inbox/messages/{raw_id}/$value",
            sim.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&raw[..], RAW_MIME.as_bytes());
    assert_eq!(messages[1]["subject"], "Raw hello");
    assert_eq!(messages[1]["internetMessageId"], "<raw-1@contoso.com>");
    assert_eq!(messages[1]["receivedDateTime"], "2026-09-01T10:00:00Z");
    assert_eq!(messages[1]["body"]["content"], "raw body line");

    let attachments = sim
        .get(
            &token,
            &format!("/v1.0/users/{USER}/messages/{id}/attachments"),
        )
        .await;
    let list = attachments.body["value"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        STANDARD
            .decode(list[0]["contentBytes"].as_str().unwrap())
            .unwrap(),
        b"the plan"
    );
    let video = STANDARD
        .decode(list[1]["contentBytes"].as_str().unwrap())
        .unwrap();
    assert_eq!(video.len(), 100_000);
    assert_eq!(list[1]["size"], 100_000);
    let raw_one = sim
        .client
        .get(format!(
            "{}/v1.0/users/{USER}/messages/{id}/attachments/{}/$value",
            sim.base,
            list[0]["id"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(raw_one.headers()["content-type"], "text/plain");
    assert_eq!(&raw_one.bytes().await.unwrap()[..], b"the plan");
    let one = sim
        .get(
            &token,
            &format!(
                "/v1.0/users/{USER}/messages/{id}/attachments/{}",
                list[1]["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(
        STANDARD
            .decode(one.body["contentBytes"].as_str().unwrap())
            .unwrap(),
        video,
        "same bytes every time"
    );
    // The MIME carries the same generated bytes.
    let start = text.find("filename=\"video.bin\"").unwrap();
    let b64: String = text[start..]
        .split("\r\n\r\n")
        .nth(1)
        .unwrap()
        .split("--")
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(STANDARD.decode(b64).unwrap(), video);
    let stats = sim.sim.stats();
    assert_eq!(
        stats.content.message_downloads, 3,
        "two MIME reads of one message, one of another"
    );
    assert_eq!(stats.content.attachment_downloads, 4);
}

#[tokio::test]
async fn delta_across_pages_sees_exactly_the_changes_from_each_token() {
    let (sim, token) = start_mail(23).await;
    let inbox =
        format!("/v1.0/users/{USER}/mailFolders/inbox/messages/delta?$select=subject,isRead");
    let (first, pages, token0) = delta_round(&sim, &token, &inbox, 10).await;
    assert_eq!((first.len(), pages), (25, 3));
    let mut unique = ids(&first);
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 25);
    assert!(
        first
            .iter()
            .all(|m| m.get("subject").is_some() && m.get("body").is_none()),
        "$select kept in the tokens"
    );
    let (nothing, _, token0b) = delta_round(&sim, &token, &token0, 10).await;
    assert!(nothing.is_empty());

    let projects = format!("/v1.0/users/{USER}/mailFolders/inbox/childFolders");
    let projects_id = sim.get(&token, &projects).await.body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (in_projects, _, projects_token) = delta_round(
        &sim,
        &token,
        &format!("/v1.0/users/{USER}/mailFolders/{projects_id}/messages/delta"),
        10,
    )
    .await;
    assert_eq!(in_projects.len(), 1);

    use reqwest::Method;
    let base = format!("/v1.0/users/{USER}");
    let created = send(
        &sim,
        &token,
        Method::POST,
        &format!("{base}/mailFolders/inbox/messages"),
        Some(json!({"subject": "new one", "body": {"contentType": "text", "content": "n"}})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let (read_id, deleted_id, moved_id) = (&unique[0], &unique[1], &unique[2]);
    let patched = send(
        &sim,
        &token,
        Method::PATCH,
        &format!("{base}/messages/{read_id}"),
        Some(json!({"isRead": true})),
    )
    .await;
    assert_eq!(patched.body["isRead"], true);
    assert_ne!(patched.body["changeKey"], Value::Null);
    assert_eq!(
        send(
            &sim,
            &token,
            Method::DELETE,
            &format!("{base}/messages/{deleted_id}"),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let moved = send(
        &sim,
        &token,
        Method::POST,
        &format!("{base}/messages/{moved_id}/move"),
        Some(json!({"destinationId": projects_id})),
    )
    .await;
    assert_eq!(moved.status, StatusCode::CREATED);
    assert_ne!(
        moved.body["id"].as_str().unwrap(),
        moved_id,
        "a moved message gets a new id"
    );
    assert_eq!(moved.body["parentFolderId"], projects_id.as_str());

    let (changes, _, token1) = delta_round(&sim, &token, &token0b, 2).await;
    let removed: Vec<&str> = changes
        .iter()
        .filter(|c| c.get("@removed").is_some())
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let changed: Vec<&str> = changes
        .iter()
        .filter(|c| c.get("@removed").is_none())
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(removed, [deleted_id.as_str(), moved_id.as_str()]);
    assert_eq!(
        changed,
        [created.body["id"].as_str().unwrap(), read_id.as_str()]
    );
    assert_eq!(changes[1]["isRead"], true);
    // The token from before (the same point) sees the same changes.
    let (same, _, _) = delta_round(&sim, &token, &token0, 10).await;
    assert_eq!(ids(&same), ids(&changes));
    let (into_projects, _, _) = delta_round(&sim, &token, &projects_token, 10).await;
    assert_eq!(ids(&into_projects), [moved.body["id"].as_str().unwrap()]);
    let (after, _, _) = delta_round(&sim, &token, &token1, 10).await;
    assert!(after.is_empty(), "{after:?}");
    assert!(sim.sim.stats().content.delta_requests >= 10);
}

#[tokio::test]
async fn folder_deletes_reach_folder_delta_and_end_message_delta() {
    let (sim, token) = start_mail(0).await;
    use reqwest::Method;
    let base = format!("/v1.0/users/{USER}");
    let made = send(
        &sim,
        &token,
        Method::POST,
        &format!("{base}/mailFolders/inbox/childFolders"),
        Some(json!({"displayName": "Temp"})),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let dup = send(
        &sim,
        &token,
        Method::POST,
        &format!("{base}/mailFolders/inbox/childFolders"),
        Some(json!({"displayName": "temp"})),
    )
    .await;
    common::assert_graph_error(&dup, StatusCode::CONFLICT, "ErrorFolderExists");
    let temp = made.body["id"].as_str().unwrap().to_owned();
    let (all, _, folder_token) =
        delta_round(&sim, &token, &format!("{base}/mailFolders/delta"), 100).await;
    assert_eq!(all.len(), 10, "7 well-known + Projects + Secret + Temp");
    let (_, _, message_token) = delta_round(
        &sim,
        &token,
        &format!("{base}/mailFolders/{temp}/messages/delta"),
        10,
    )
    .await;
    assert_eq!(
        send(
            &sim,
            &token,
            Method::DELETE,
            &format!("{base}/mailFolders/{temp}"),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let (changes, _, _) = delta_round(&sim, &token, &folder_token, 100).await;
    assert_eq!(
        changes,
        vec![json!({"id": temp, "@removed": {"reason": "deleted"}})]
    );
    let gone = sim.get_url(Some(&token), &message_token).await;
    common::assert_graph_error(&gone, StatusCode::NOT_FOUND, "ErrorSyncFolderNotFound");
    let inbox = send(
        &sim,
        &token,
        Method::DELETE,
        &format!("{base}/mailFolders/inbox"),
        None,
    )
    .await;
    common::assert_graph_error(
        &inbox,
        StatusCode::BAD_REQUEST,
        "ErrorDeleteDistinguishedFolder",
    );
}

#[tokio::test]
async fn expired_delta_state_answers_410_sync_state_not_found() {
    let (sim, token) = start_mail(0).await;
    let (_, _, delta) = delta_round(
        &sim,
        &token,
        &format!("/v1.0/users/{USER}/mailFolders/inbox/messages/delta"),
        10,
    )
    .await;
    let knob = sim
        .client
        .post(format!("{}/_sim/mail/expire-delta", sim.base))
        .json(&json!({"tenant": "contoso-demo.onmicrosoft.com", "user": USER, "folder": "inbox"}))
        .send()
        .await
        .unwrap();
    assert_eq!(knob.status(), StatusCode::OK);
    let gone = sim.get_url(Some(&token), &delta).await;
    common::assert_graph_error(&gone, StatusCode::GONE, "SyncStateNotFound");
    assert!(gone.body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("The sync state generation is not found"));
    // The same knob from Rust, for the whole mailbox.
    let (_, _, delta) = delta_round(
        &sim,
        &token,
        &format!("/v1.0/users/{USER}/mailFolders/inbox/messages/delta"),
        10,
    )
    .await;
    let expired = sim
        .sim
        .expire_mail_delta("contoso-demo.onmicrosoft.com", USER, None)
        .unwrap();
    assert_eq!(expired, 10, "root, 7 well-known, Projects, Secret");
    let gone = sim.get_url(Some(&token), &delta).await;
    common::assert_graph_error(&gone, StatusCode::GONE, "SyncStateNotFound");
    // A fresh round works again.
    let (fresh, _, _) = delta_round(
        &sim,
        &token,
        &format!("/v1.0/users/{USER}/mailFolders/inbox/messages/delta"),
        10,
    )
    .await;
    assert_eq!(fresh.len(), 2);
}

#[tokio::test]
async fn mime_creates_drafts_and_json_with_extended_properties_does_not() {
    let (sim, token) = start_mail(0).await;
    sim.sim.reset_stats();
    let url = format!("{}/v1.0/users/{USER}/mailFolders/inbox/messages", sim.base);
    let mime = sim
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("Content-Type", "text/plain")
        .body(STANDARD.encode(RAW_MIME))
        .send()
        .await
        .unwrap();
    assert_eq!(mime.status(), StatusCode::CREATED);
    let mime: Value = mime.json().await.unwrap();
    assert_eq!(mime["isDraft"], true);
    assert_eq!(mime["subject"], "Raw hello");
    let bad = sim
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("Content-Type", "text/plain")
        .body("%%%")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["error"]["code"], "ErrorMimeContentInvalidBase64String");
    let restored = send(
        &sim,
        &token,
        reqwest::Method::POST,
        &url,
        Some(json!({
        "subject": "Restored", "isRead": true,
        "body": {"contentType": "text", "content": "hello"},
        "from": {"emailAddress": {"address": "andrew@contoso.com"}},
        "toRecipients": [{"emailAddress": {"address": USER}}],
        "singleValueExtendedProperties": [
            {"id": "Integer 0x0E07", "value": "4"},
            {"id": "SystemTime 0x0039", "value": "2025-05-01T08:00:00Z"},
            {"id": "SystemTime 0x0E06", "value": "2025-05-01T08:01:00Z"}]})),
    )
    .await;
    assert_eq!(restored.status, StatusCode::CREATED, "{}", restored.body);
    assert_eq!(restored.body["isDraft"], false);
    assert_eq!(restored.body["isRead"], true);
    assert_eq!(restored.body["sentDateTime"], "2025-05-01T08:00:00Z");
    assert_eq!(restored.body["receivedDateTime"], "2025-05-01T08:01:00Z");
    assert_eq!(sim.sim.stats().content.writes, 2);
}

#[tokio::test]
async fn invalid_mail_content_is_refused_naming_user_folder_and_message() {
    let mut value = serde_json::to_value(demo_tenant()).unwrap();
    value["users"][1]["mailFolders"] = json!([{"displayName": "Inbox", "wellKnownName": "inbox", "messages": [
        {"subject": "ok", "body": "x", "attachments": [{"name": "a.bin", "contentBase64": "!!!"}]},
        {"isRead": true}]}]);
    let tenant: Tenant = serde_json::from_value(value.clone()).unwrap();
    let upn = value["users"][1]["userPrincipalName"]
        .as_str()
        .unwrap()
        .to_owned();
    let error = m365_sim::Simulator::new(vec![tenant], SimOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains(&format!("user '{upn}', mail folder '/Inbox', message 1, attachment 'a.bin': contentBase64 is not valid base64")), "{error}");
    assert!(
        error.contains("message 2: neither mime nor structured fields"),
        "{error}"
    );
    value["users"][1]["mailboxType"] = json!("none");
    value["users"][1]["mailFolders"] = json!([{"displayName": "Inbox"}]);
    let tenant: Tenant = serde_json::from_value(value).unwrap();
    let error = m365_sim::Simulator::new(vec![tenant], SimOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains(&format!(
            "user '{upn}': mailFolders are listed but the user has no mailbox"
        )),
        "{error}"
    );
}

#[tokio::test]
async fn listing_pages_selects_and_the_other_addressing_forms() {
    let (sim, token) = start_mail(12).await;
    // $top/$skip paging with the query kept in the nextLink.
    let (items, pages) = sim
        .get_all(
            &token,
            &format!("/v1.0/users/{USER}/mailFolders/inbox/messages?$top=5&$select=subject"),
        )
        .await;
    assert_eq!((items.len(), pages), (14, 3));
    assert!(items
        .iter()
        .all(|m| m.get("subject").is_some() && m.get("body").is_none() && m.get("id").is_some()));
    let bad = sim
        .get(
            &token,
            &format!("/v1.0/users/{USER}/messages/x?$select=nope"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // OData key syntax and /me address the same objects.
    let inbox = sim
        .get(&token, &format!("/v1.0/users/{USER}/mailFolders/inbox"))
        .await;
    let id = inbox.body["id"].as_str().unwrap();
    let keyed = sim
        .get(&token, &format!("/v1.0/users/{USER}/mailFolders('{id}')"))
        .await;
    assert_eq!(keyed.body["displayName"], "Inbox");
    let mine = sim.get(&token, "/v1.0/me/mailFolders/inbox").await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert_ne!(mine.body["id"], inbox.body["id"], "the admin's own mailbox");
    // One message through the folder path; JSON without the non-draft
    // flag, posted to /messages, is a draft in Drafts.
    let first = items[0]["id"].as_str().unwrap();
    let through_folder = sim
        .get(
            &token,
            &format!("/v1.0/users/{USER}/mailFolders/inbox/messages/{first}"),
        )
        .await;
    assert_eq!(through_folder.body["id"], first);
    let draft = send(
        &sim,
        &token,
        reqwest::Method::POST,
        &format!("/v1.0/users/{USER}/messages"),
        Some(json!({"subject": "draft", "body": {"content": "d"}})),
    )
    .await;
    assert_eq!(draft.body["isDraft"], true);
    let drafts = sim
        .get(&token, &format!("/v1.0/users/{USER}/mailFolders/drafts"))
        .await;
    assert_eq!(draft.body["parentFolderId"], drafts.body["id"]);
    // A rename shows in folder delta as a change.
    let (_, _, folder_token) = delta_round(
        &sim,
        &token,
        &format!("/v1.0/users/{USER}/mailFolders/delta"),
        50,
    )
    .await;
    let children = sim
        .get(
            &token,
            &format!("/v1.0/users/{USER}/mailFolders/inbox/childFolders"),
        )
        .await;
    let projects = children.body["value"][0]["id"].as_str().unwrap();
    let renamed = send(
        &sim,
        &token,
        reqwest::Method::PATCH,
        &format!("/v1.0/users/{USER}/mailFolders/{projects}"),
        Some(json!({"displayName": "Projects 2026"})),
    )
    .await;
    assert_eq!(renamed.body["displayName"], "Projects 2026");
    let (changes, _, _) = delta_round(&sim, &token, &folder_token, 50).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["id"], projects);
    assert_eq!(changes[0]["displayName"], "Projects 2026");
}
