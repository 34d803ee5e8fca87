//! Incremental backups over HTTPS against the simulator: after adds, edits,
//! moves, deletes, a new folder and a renamed file (written through the
//! simulator's Graph), the next run downloads only what changed (the
//! simulator's counters) and every restore point, explored at its time,
//! shows exactly the state it was taken of; a delta state Microsoft has
//! forgotten (410) costs an enumeration, not downloads; and a partial
//! failure (one file, one mailbox) ends `Warning` with the rest backed up.
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
use jobs_common::*;
use reqwest::Method;
use serde_json::{json, Value};

fn tenant_with_mail_and_files() -> m365_sim::Tenant {
    tenant(
        1,
        "contoso",
        &[
            ("admin", &["Global Administrator"], json!({})),
            (
                "nancy",
                &[],
                json!({"displayName": "Nancy Davolio",
                "mailFolders": [
                    {"displayName": "Inbox", "wellKnownName": "inbox", "messages": (0..3)
                        .map(|n| json!({"subject": format!("Quarterly report {n}"), "from": "boss@contoso.com", "body": format!("body {n}")}))
                        .collect::<Vec<_>>(),
                     "childFolders": [{"displayName": "Projects", "messages": [{"subject": "Plan", "from": "x@contoso.com", "body": "p"}]}]}
                ],
                "driveItems": [
                    {"path": "readme.txt", "content": "top level"},
                    {"path": "notes.txt", "content": "some notes"},
                    {"path": "Documents/plan.txt", "content": "the original plan"},
                    {"path": "Documents/Q3/report.txt", "content": "Q3 was good"}
                ]}),
            ),
        ],
    )
}

fn strings(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

async fn nancy_job(server: &Server, token: &str, org: &str, repo: &str, extra: &[Value]) -> String {
    let mut items =
        vec![json!({"type": "User", "user": {"id": NANCY}, "mailbox": true, "oneDrive": true})];
    items.extend_from_slice(extra);
    let (status, job) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/Organizations/{org}/Jobs"),
        Some(json!({
            "name": "Nancy", "backupType": "SelectedItems", "repositoryId": repo,
            "selectedItems": items, "schedulePolicy": {"type": "ManualOnly"}
        })),
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{job}");
    job["id"].as_str().unwrap().to_owned()
}

/// Mail and files of Nancy as the restore point taken at `at` shows them.
async fn point_state(
    server: &Server,
    token: &str,
    org: &str,
    at: &str,
) -> (Vec<String>, Vec<String>) {
    let vex = explore_at(server, token, org, "Vex", at).await;
    let veod = explore_at(server, token, org, "Veod", at).await;
    let mail = mailbox_state(server, token, &vex, NANCY).await;
    let files = onedrive_state(server, token, &veod, NANCY).await;
    for s in [vex, veod] {
        let (status, body) = call(
            server,
            token,
            Method::POST,
            &format!("/v6/RestoreSessions/{s}/stop"),
            None,
        )
        .await;
        assert!(status.is_success(), "stop {s}: {status} {body}");
    }
    (mail, files)
}

/// `subject from sender` of every message of Nancy's newest point, as
/// `GET …/items` lists them (recorded from the delta's `from`, no extra
/// request per message).
async fn senders(server: &Server, token: &str, org: &str) -> Vec<String> {
    let now = "2100-01-01T00:00:00Z";
    let session = explore_at(server, token, org, "Vex", now).await;
    let mbx = format!("/v6/RestoreSessions/{session}/organization/mailboxes/{NANCY}");
    let folders = get_ok(server, token, &format!("{mbx}/folders?limit=1000")).await;
    let mut out = Vec::new();
    for f in folders["results"].as_array().unwrap() {
        let id = f["id"].as_str().unwrap();
        let items = get_ok(
            server,
            token,
            &format!("{mbx}/items?folderId={id}&limit=1000"),
        )
        .await;
        for i in items["results"].as_array().unwrap() {
            out.push(format!(
                "{} from {}",
                i["subject"].as_str().unwrap(),
                i["from"].as_str().unwrap_or("(none)")
            ));
        }
    }
    let (status, body) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/RestoreSessions/{session}/stop"),
        None,
    )
    .await;
    assert!(status.is_success(), "stop {session}: {status} {body}");
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_run_downloads_only_the_changes_and_each_point_shows_its_own_state() {
    let (_dir, sim, server) = start_with(vec![tenant_with_mail_and_files()], |_| {}).await;
    let token = server.token().await;
    let repo_dir = tempfile::tempdir().unwrap();
    let (org, repo) = organization_and_repository(&server, &token, repo_dir.path()).await;
    let job = nancy_job(&server, &token, &org, &repo, &[]).await;

    let before = sim.sim.stats().content;
    let first = run(&server, &token, &job, 1).await;
    assert_eq!(first["status"], "Success", "{first}");
    let after_first = sim.sim.stats().content;
    assert_eq!(after_first.message_downloads - before.message_downloads, 4);
    assert_eq!(after_first.file_downloads - before.file_downloads, 4);
    assert_eq!(
        senders(&server, &token, &org).await,
        strings(&[
            "Plan from x@contoso.com",
            "Quarterly report 0 from boss@contoso.com",
            "Quarterly report 1 from boss@contoso.com",
            "Quarterly report 2 from boss@contoso.com",
        ]),
        "the item listing shows who sent each message (v6 `from`)"
    );
    let mail_1 = strings(&[
        "/Inbox: Quarterly report 0",
        "/Inbox: Quarterly report 1",
        "/Inbox: Quarterly report 2",
        "/Inbox/Projects: Plan",
    ]);
    let files_1 = strings(&[
        "/Documents/",
        "/Documents/Q3/",
        "/Documents/Q3/report.txt",
        "/Documents/plan.txt",
        "/notes.txt",
        "/readme.txt",
    ]);

    // Changes in Microsoft 365 between the runs.
    let graph = Graph::new(&sim.url).await;
    graph.add_message(NANCY, "inbox", "Added").await;
    let q0 = graph.message_id(NANCY, "inbox", "Quarterly report 0").await;
    graph
        .send(
            Method::PATCH,
            &format!("/users/{NANCY}/messages/{q0}"),
            Some(json!({"isRead": true})),
        )
        .await;
    let projects = graph.child_folder_id(NANCY, "inbox", "Projects").await;
    let q1 = graph.message_id(NANCY, "inbox", "Quarterly report 1").await;
    graph
        .send(
            Method::POST,
            &format!("/users/{NANCY}/messages/{q1}/move"),
            Some(json!({"destinationId": projects})),
        )
        .await;
    let q2 = graph.message_id(NANCY, "inbox", "Quarterly report 2").await;
    graph
        .send(
            Method::DELETE,
            &format!("/users/{NANCY}/messages/{q2}"),
            None,
        )
        .await;
    let receipts = graph
        .send(
            Method::POST,
            &format!("/users/{NANCY}/mailFolders"),
            Some(json!({"displayName": "Receipts"})),
        )
        .await;
    graph
        .add_message(NANCY, receipts["id"].as_str().unwrap(), "Receipt 1")
        .await;
    let drive = graph.drive_of(NANCY).await;
    graph
        .write_file(&drive, "Documents/new.txt", "brand new")
        .await;
    graph
        .write_file(&drive, "Documents/plan.txt", "the plan, edited")
        .await;
    graph
        .move_item(&drive, "Documents/Q3/report.txt", Some(""), "report.txt")
        .await;
    graph.delete_item(&drive, "readme.txt").await;
    graph
        .write_file(&drive, "Fresh/inside.txt", "in a new folder")
        .await;
    graph
        .move_item(&drive, "notes.txt", None, "notes-renamed.txt")
        .await;

    let second = run(&server, &token, &job, 2).await;
    assert_eq!(second["status"], "Success", "{second}");
    let after_second = sim.sim.stats().content;
    // Added, the moved one (a new id at Microsoft) and the one in the new
    // folder; nothing unchanged, and not the one only marked read (a
    // received message's content cannot change: its stored MIME is kept).
    assert_eq!(
        after_second.message_downloads - after_first.message_downloads,
        3
    );
    // new.txt, the edited plan.txt and inside.txt; a move or a rename keeps
    // the bytes, which the repository already holds.
    assert_eq!(after_second.file_downloads - after_first.file_downloads, 3);
    let mail_2 = strings(&[
        "/Inbox: Added",
        "/Inbox: Quarterly report 0",
        "/Inbox/Projects: Plan",
        "/Inbox/Projects: Quarterly report 1",
        "/Receipts: Receipt 1",
    ]);
    let files_2 = strings(&[
        "/Documents/",
        "/Documents/Q3/",
        "/Documents/new.txt",
        "/Documents/plan.txt",
        "/Fresh/",
        "/Fresh/inside.txt",
        "/notes-renamed.txt",
        "/report.txt",
    ]);

    let points = points_of(&server, &token, &job).await;
    assert_eq!(points.len(), 2, "{points:?}");
    let at = |i: usize| points[i]["backupTime"].as_str().unwrap().to_owned();
    assert_eq!(
        point_state(&server, &token, &org, &at(0)).await,
        (mail_1.clone(), files_1.clone()),
        "the first point keeps what was deleted, moved or renamed since"
    );
    assert_eq!(
        point_state(&server, &token, &org, &at(1)).await,
        (mail_2.clone(), files_2.clone())
    );

    // Microsoft forgets the inbox's and the drive's delta state (410): the
    // next run enumerates them again but downloads only what is new.
    sim.sim
        .expire_mail_delta("contoso.onmicrosoft.com", NANCY, Some("inbox"))
        .unwrap();
    assert!(sim.sim.expire_drive_delta(&drive));
    graph.add_message(NANCY, "inbox", "After expiry").await;
    let third = run(&server, &token, &job, 3).await;
    assert_eq!(third["status"], "Success", "{third}");
    let after_third = sim.sim.stats().content;
    assert_eq!(
        after_third.message_downloads - after_second.message_downloads,
        1,
        "only the new message"
    );
    assert_eq!(after_third.file_downloads - after_second.file_downloads, 0);
    assert!(after_third.delta_requests > after_second.delta_requests);
    let mut mail_3 = mail_2.clone();
    mail_3.push("/Inbox: After expiry".into());
    mail_3.sort();
    let points = points_of(&server, &token, &job).await;
    assert_eq!(points.len(), 3);
    assert_eq!(
        point_state(
            &server,
            &token,
            &org,
            points[2]["backupTime"].as_str().unwrap()
        )
        .await,
        (mail_3, files_2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_file_and_a_failing_mailbox_make_a_warning_and_the_rest_is_backed_up() {
    let mut tenant = tenant_with_mail_and_files();
    tenant.users.push(
        serde_json::from_value(json!({
            "id": "00000000-0000-4000-8000-000001000009",
            "userPrincipalName": "ghost@contoso.onmicrosoft.com",
            "displayName": "Ghost Mailbox",
            "password": M365_PASSWORD,
            "mailboxType": "none"
        }))
        .unwrap(),
    );
    let (_dir, sim, server) = start_with(vec![tenant], |_| {}).await;
    let token = server.token().await;
    let repo_dir = tempfile::tempdir().unwrap();
    let (org, repo) = organization_and_repository(&server, &token, repo_dir.path()).await;
    let job = nancy_job(
        &server,
        &token,
        &org,
        &repo,
        &[json!({"type": "User", "user": {"id": "00000000-0000-4000-8000-000001000009"}, "mailbox": true})],
    )
    .await;
    let graph = Graph::new(&sim.url).await;
    let drive = graph.drive_of(NANCY).await;
    let first = run(&server, &token, &job, 1).await;
    let log = log_titles(&server, &token, first["id"].as_str().unwrap()).await;
    assert!(
        log.iter()
            .any(|t| t.starts_with("[Failed] Processing mailbox: Ghost Mailbox")),
        "{log:?}"
    );
    assert_eq!(first["status"], "Warning", "{first} {log:?}");

    // One edited file whose downloads keep breaking: it fails after the
    // connector's retries, the rest of the drive and the mailbox are kept.
    graph
        .write_file(&drive, "Documents/plan.txt", "the plan, edited")
        .await;
    graph.add_message(NANCY, "inbox", "Added").await;
    sim.sim.reset_downloads_after(0, 1000);
    let before = sim.sim.stats().content;
    let second = run(&server, &token, &job, 2).await;
    assert_eq!(second["status"], "Warning", "{second}");
    let log = log_titles(&server, &token, second["id"].as_str().unwrap()).await;
    assert!(
        log.iter().any(
            |t| t.starts_with("[Warning] Processing OneDrive: Nancy Davolio")
                && t.contains("1 items failed")
        ),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|t| t.starts_with("[Warning] ") && t.contains("plan.txt")),
        "the failed file is named: {log:?}"
    );
    assert!(
        log.iter()
            .any(|t| t.starts_with("[Success] Processing mailbox: Nancy Davolio (1 items")),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|t| t.starts_with("[Failed] Processing mailbox: Ghost Mailbox")),
        "{log:?}"
    );
    let after = sim.sim.stats().content;
    assert_eq!(after.message_downloads - before.message_downloads, 1);
    let points = points_of(&server, &token, &job).await;
    assert_eq!(points.len(), 2);
    let (status, mailboxes) = call(
        &server,
        &token,
        Method::GET,
        &format!(
            "/v6/RestorePoints/{}/mailboxes",
            points[1]["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let ids: Vec<&str> = mailboxes
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [NANCY], "the failed mailbox is in no point");
    let (mail, files) = point_state(
        &server,
        &token,
        &org,
        points[1]["backupTime"].as_str().unwrap(),
    )
    .await;
    assert!(mail.contains(&"/Inbox: Added".to_owned()), "{mail:?}");
    assert!(
        files.contains(&"/Documents/plan.txt".to_owned()),
        "the old version is kept: {files:?}"
    );

    // The next run retries the failed file.
    sim.sim.reset_downloads_after(0, 0);
    let before = sim.sim.stats().content;
    let third = run(&server, &token, &job, 3).await;
    let log = log_titles(&server, &token, third["id"].as_str().unwrap()).await;
    assert!(
        log.iter()
            .any(|t| t.starts_with("[Success] Processing OneDrive: Nancy Davolio")),
        "{log:?}"
    );
    let after = sim.sim.stats().content;
    assert_eq!(
        after.file_downloads - before.file_downloads,
        1,
        "plan.txt again"
    );
    assert_eq!(after.message_downloads - before.message_downloads, 0);
}
