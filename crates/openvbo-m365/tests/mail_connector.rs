//! The mail connector against the simulator over real HTTP: folder tree,
//! per-folder delta (full, incremental after writes, 410 fallback), MIME
//! streams, restore as non-draft, folder creation and error kinds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod mail_support;

use m365_sim::SimOptions;
use mail_support::{start, Harness, ADELE, RAW_MIME, TENANT};
use openvbo_m365::mail::{
    DeltaOutcome, Enumeration, MessageChange, MessageDeltaToken, RestoreMessage,
};
use openvbo_m365::{ConnectorSettings, ErrorKind};
use reqwest::Method;
use serde_json::json;

fn small_pages() -> ConnectorSettings {
    ConnectorSettings {
        mail_delta_page_size: 4,
        ..ConnectorSettings::default()
    }
}

/// One delta round: every change in order, the pages' kinds, the outcome.
async fn round(
    h: &Harness,
    folder: &str,
    since: Option<&MessageDeltaToken>,
) -> (Vec<MessageChange>, Vec<Enumeration>, DeltaOutcome) {
    let mut changes = Vec::new();
    let mut kinds = Vec::new();
    let outcome = h
        .session
        .message_delta(ADELE, folder, since, &mut |page| {
            kinds.push(page.enumeration);
            changes.extend(page.changes);
            Ok(())
        })
        .await
        .unwrap();
    (changes, kinds, outcome)
}

fn upserted(changes: &[MessageChange]) -> Vec<String> {
    changes
        .iter()
        .filter_map(|c| match c {
            MessageChange::Upsert(m) => Some(m.id.clone()),
            MessageChange::Removed { .. } => None,
        })
        .collect()
}

fn removed(changes: &[MessageChange]) -> Vec<String> {
    changes
        .iter()
        .filter_map(|c| match c {
            MessageChange::Removed { id } => Some(id.clone()),
            MessageChange::Upsert(_) => None,
        })
        .collect()
}

#[tokio::test]
async fn the_folder_tree_is_read_at_every_level_with_paths_and_hidden_folders() {
    let h = start(0, SimOptions::default(), ConnectorSettings::default()).await;
    let folders = h.session.mail_folders(ADELE).await.unwrap();
    let paths: Vec<&str> = folders.iter().map(|f| f.path.as_str()).collect();
    for expected in [
        "/Inbox",
        "/Drafts",
        "/Sent Items",
        "/Deleted Items",
        "/Junk Email",
        "/Outbox",
        "/Archive",
        "/Secret",
        "/Inbox/Projects",
        "/Inbox/Projects/Deep",
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} missing from {paths:?}"
        );
    }
    assert_eq!(folders.len(), 10);
    let inbox = folders.iter().find(|f| f.path == "/Inbox").unwrap();
    let projects = folders
        .iter()
        .find(|f| f.path == "/Inbox/Projects")
        .unwrap();
    assert_eq!(
        projects.parent_folder_id.as_deref(),
        Some(inbox.id.as_str())
    );
    assert_eq!(inbox.total_item_count, 2);
    assert!(
        folders
            .iter()
            .find(|f| f.path == "/Secret")
            .unwrap()
            .is_hidden
    );
    let none = h.session.mail_folders("nobody@contoso-demo.com").await;
    assert_eq!(none.unwrap_err().kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn a_full_enumeration_then_incrementals_see_exactly_the_changes() {
    let h = start(9, SimOptions::default(), small_pages()).await;
    let (all, kinds, first) = round(&h, "inbox", None).await;
    assert_eq!(upserted(&all).len(), 11);
    assert_eq!(kinds, vec![Enumeration::Full; 3], "11 items in pages of 4");
    assert!(!first.reset);
    let (none, _, unchanged) = round(&h, "inbox", Some(&first.token)).await;
    assert!(none.is_empty(), "{none:?}");

    // A series of writes, as another client would make them.
    let ids = upserted(&all);
    let folders = h.session.mail_folders(ADELE).await.unwrap();
    let projects = folders
        .iter()
        .find(|f| f.path == "/Inbox/Projects")
        .unwrap()
        .id
        .clone();
    let (status, made) = h
        .graph(
            Method::POST,
            &format!("users/{ADELE}/mailFolders/inbox/messages"),
            Some(json!({"subject": "fresh", "body": {"content": "x"}})),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = h
        .graph(
            Method::PATCH,
            &format!("users/{ADELE}/messages/{}", ids[3]),
            Some(json!({"isRead": true})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = h
        .graph(
            Method::DELETE,
            &format!("users/{ADELE}/messages/{}", ids[4]),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, moved) = h
        .graph(
            Method::POST,
            &format!("users/{ADELE}/messages/{}/move", ids[5]),
            Some(json!({"destinationId": projects})),
        )
        .await;
    assert_eq!(status, 201);

    let (changes, kinds, second) = round(&h, "inbox", Some(&unchanged.token)).await;
    assert!(kinds.iter().all(|k| *k == Enumeration::Incremental));
    assert_eq!(
        upserted(&changes),
        [made["id"].as_str().unwrap().to_owned(), ids[3].clone()]
    );
    assert_eq!(removed(&changes), [ids[4].clone(), ids[5].clone()]);
    let read = changes.iter().find_map(|c| match c {
        MessageChange::Upsert(m) if m.id == ids[3] => Some(m.is_read),
        _ => None,
    });
    assert_eq!(read, Some(true));
    let (projects_all, _, _) = round(&h, &projects, None).await;
    assert!(upserted(&projects_all).contains(&moved["id"].as_str().unwrap().to_owned()));
    let (after, _, _) = round(&h, "inbox", Some(&second.token)).await;
    assert!(after.is_empty(), "{after:?}");
    // The token serializes as the deltaLink itself, for the restore point.
    let stored = serde_json::to_string(&second.token).unwrap();
    assert_eq!(
        serde_json::from_str::<MessageDeltaToken>(&stored).unwrap(),
        second.token
    );
}

#[tokio::test]
async fn a_gone_token_falls_back_to_a_full_enumeration_and_says_so() {
    let h = start(5, SimOptions::default(), small_pages()).await;
    let (_, _, first) = round(&h, "inbox", None).await;
    let expired = h
        .http
        .post(format!("{}/_sim/mail/expire-delta", h.base))
        .json(&json!({"tenant": TENANT, "user": ADELE, "folder": "inbox"}))
        .send()
        .await
        .unwrap();
    assert_eq!(expired.status(), 200);
    let (changes, kinds, outcome) = round(&h, "inbox", Some(&first.token)).await;
    assert!(outcome.reset, "the caller is told");
    assert_eq!(kinds, vec![Enumeration::Full; 2]);
    assert_eq!(upserted(&changes).len(), 7, "every message, afresh");
    let (again, _, later) = round(&h, "inbox", Some(&outcome.token)).await;
    assert!(again.is_empty() && !later.reset);
}

#[tokio::test]
async fn mime_streams_the_stored_bytes_and_restore_writes_a_non_draft() {
    let h = start(0, SimOptions::default(), ConnectorSettings::default()).await;
    let (all, _, _) = round(&h, "inbox", None).await;
    let summaries: Vec<_> = all
        .iter()
        .filter_map(|c| match c {
            MessageChange::Upsert(m) => Some(m.clone()),
            MessageChange::Removed { .. } => None,
        })
        .collect();
    let raw = summaries
        .iter()
        .find(|m| m.subject.as_deref() == Some("Raw hello"))
        .unwrap();
    let mut stream = h.session.message_mime(ADELE, &raw.id).await.unwrap();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next_chunk().await.unwrap() {
        bytes.extend_from_slice(&chunk);
    }
    assert_eq!(bytes, RAW_MIME.as_bytes());

    let planned = summaries
        .iter()
        .find(|m| m.subject.as_deref() == Some("Q3 plan"))
        .unwrap();
    assert!(planned.has_attachments);
    // The delta carries the sender, so the catalog needs no second request.
    let from = planned.from.as_ref().expect("delta selects from");
    assert_eq!(
        from.email_address.address.as_deref(),
        Some("andrew@contoso.com")
    );
    assert_eq!(from.display().as_deref(), Some("andrew@contoso.com"));
    let mut stream = h.session.message_mime(ADELE, &planned.id).await.unwrap();
    let mut mime = Vec::new();
    while let Some(chunk) = stream.next_chunk().await.unwrap() {
        mime.extend_from_slice(&chunk);
    }
    let restore = RestoreMessage::from_mime(
        &mime,
        true,
        planned.sent_date_time.as_deref(),
        planned.received_date_time.as_deref(),
    )
    .unwrap();
    assert_eq!(restore.subject, "Q3 plan");
    assert_eq!(restore.attachments.len(), 1);
    assert_eq!(restore.attachments[0].bytes, b"the plan");
    let folder = h
        .session
        .create_mail_folder(ADELE, None, "Restored")
        .await
        .unwrap();
    let again = h
        .session
        .create_mail_folder(ADELE, None, "Restored")
        .await
        .unwrap();
    assert_eq!(folder.id, again.id, "an existing folder is reused");
    let id = h
        .session
        .restore_message(ADELE, &folder.id, &restore)
        .await
        .unwrap();
    let (status, back) = h
        .graph(Method::GET, &format!("users/{ADELE}/messages/{id}"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(back["isDraft"], false);
    assert_eq!(back["isRead"], true);
    assert_eq!(back["receivedDateTime"], "2026-10-01T09:30:00Z");
    assert_eq!(back["sentDateTime"], "2026-10-01T09:30:00Z");
    assert_eq!(back["subject"], "Q3 plan");
    assert_eq!(back["parentFolderId"], folder.id.as_str());
    assert_eq!(back["body"]["content"], "the plan, attached");
    assert_eq!(
        back["internetMessageId"],
        planned.internet_message_id.clone().unwrap().as_str()
    );
    let (_, attachments) = h
        .graph(
            Method::GET,
            &format!("users/{ADELE}/messages/{id}/attachments"),
            None,
        )
        .await;
    assert_eq!(attachments["value"][0]["name"], "plan.txt");
    assert_eq!(attachments["value"][0]["contentBytes"], "dGhlIHBsYW4=");
    let stats = h.sim.stats();
    assert_eq!(
        stats.content.message_downloads, 3,
        "two MIME reads and the check's GET"
    );
    assert_eq!(stats.content.writes, 3, "folder, message, attachment");
}

#[tokio::test]
async fn errors_say_what_is_wrong_and_whether_retrying_helps() {
    let h = start(0, SimOptions::default(), ConnectorSettings::default()).await;
    let missing = h.session.message_mime(ADELE, "AAMkNope").await.unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);
    assert!(!missing.is_transient());
    assert!(
        missing.message.contains("ErrorItemNotFound"),
        "{}",
        missing.message
    );
    let no_folder = h
        .session
        .message_delta(ADELE, "AAMkNope", None, &mut |_| Ok(()))
        .await
        .unwrap_err();
    assert_eq!(no_folder.kind, ErrorKind::NotFound);
    let big = RestoreMessage {
        subject: "big".into(),
        attachments: vec![openvbo_m365::mail::RestoreAttachment {
            name: "big.bin".into(),
            content_type: "application/octet-stream".into(),
            // Over Outlook's 150 MB (attachments of 3 MB or more go through an upload
            // session; past 150 MB Microsoft refuses them, so the connector does first).
            bytes: vec![0; 150 * 1024 * 1024 + 1],
        }],
        ..RestoreMessage::default()
    };
    let refused = h
        .session
        .restore_message(ADELE, "inbox", &big)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::TooLarge);
    assert_eq!(
        h.sim.stats().content.writes,
        0,
        "refused before anything was written"
    );
}
