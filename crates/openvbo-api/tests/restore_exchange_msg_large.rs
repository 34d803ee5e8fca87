//! A message too big to convert in memory (a 20 MiB attachment) saved as `.msg` over HTTPS,
//! alone and in a zip: the server builds it in an unnamed temporary file in the data dir's
//! `tmp`, open while the answer streams and closed once it is sent or the client goes away;
//! `extract-msg` (an independent reader, see openvbo-msg's tests) reads it back and its
//! attachment has the simulator's bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;
mod jobs_common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use futures::StreamExt;
use jobs_common::{get_ok, mailbox_job, organization_and_repository, run, NANCY};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Past the server's 8 MiB in-memory limit even after base64 decoding, and larger than what
/// loopback socket buffers and HTTP/2 windows hold, so the server is still sending (the file
/// still open) when the test stops reading.
const ATTACHMENT: u64 = 20 * 1024 * 1024 + 3;

fn python() -> String {
    std::env::var("OPENVBO_EXTRACT_MSG_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn run_python(args: &[&std::ffi::OsStr]) -> Vec<u8> {
    let out = Command::new(python()).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "python failed (set OPENVBO_EXTRACT_MSG_PYTHON to a python with extract-msg; CI does this in .ci/run): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// openvbo-msg's reader script: one JSON description per `.msg`.
fn read_msgs(paths: &[PathBuf]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../openvbo-msg/tests/read_msg.py");
    let mut args = vec![script.as_os_str()];
    args.extend(paths.iter().map(|p| p.as_os_str()));
    serde_json::from_slice(&run_python(&args)).unwrap()
}

/// Name, size and SHA-256 of each attachment of a MIME file, by Python's own `email` parser:
/// what the simulator holds, read without the server's or extract-msg's code.
fn mime_attachments(path: &Path) -> Value {
    const SCRIPT: &str = "import email, email.policy, hashlib, json, sys\n\
        m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n\
        print(json.dumps([{'name': a.get_filename(), 'size': len(a.get_content()),\n\
            'sha256': hashlib.sha256(a.get_content()).hexdigest()} for a in m.iter_attachments()]))";
    serde_json::from_slice(&run_python(&[
        std::ffi::OsStr::new("-c"),
        std::ffi::OsStr::new(SCRIPT),
        path.as_os_str(),
    ]))
    .unwrap()
}

/// Extracts every entry of a zip into `into`, by Python's `zipfile`; returns their names.
fn unzip(zip: &Path, into: &Path) -> Vec<String> {
    const SCRIPT: &str = "import json, sys, zipfile\n\
        z = zipfile.ZipFile(sys.argv[1])\n\
        z.extractall(sys.argv[2])\n\
        print(json.dumps(sorted(z.namelist())))";
    serde_json::from_slice(&run_python(&[
        std::ffi::OsStr::new("-c"),
        std::ffi::OsStr::new(SCRIPT),
        zip.as_os_str(),
        into.as_os_str(),
    ]))
    .unwrap()
}

/// Files this process has open in `dir`: the server runs in the test's process, and an
/// unnamed temporary file shows as a `/proc/self/fd` link into its directory.
fn open_in(dir: &Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.starts_with(dir))
        .count()
}

/// Waits (bounded) until the server has closed every temporary file: it does so when the
/// answer's body is dropped, just after the client has seen the last byte or gone away.
async fn all_closed(dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while open_in(dir) != 0 {
        assert!(
            Instant::now() < deadline,
            "{} temporary file(s) still open in {}",
            open_in(dir),
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        std::fs::read_dir(dir).unwrap().count(),
        0,
        "nothing is left in {}",
        dir.display()
    );
}

fn tenant_with_a_big_message() -> m365_sim::Tenant {
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
                        {"subject": "Scans", "from": "boss@contoso.com",
                         "to": ["nancy@contoso.onmicrosoft.com"], "body": "the scans",
                         "attachments": [{"name": "scan.bin", "size": ATTACHMENT, "seed": 5}]},
                        {"subject": "Small", "from": "boss@contoso.com",
                         "to": ["nancy@contoso.onmicrosoft.com"], "body": "small one"}
                    ]}
                ]}),
            ),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_message_is_saved_as_msg_through_a_temporary_file() {
    let (_dir, sim, server) = start_with(vec![tenant_with_a_big_message()], |_| {}).await;
    let temp = server.data_dir.join("tmp").canonicalize().unwrap();
    let token = server.token().await;
    let repo_dir = tempfile::tempdir().unwrap();
    let (org_id, repo_id) = organization_and_repository(&server, &token, repo_dir.path()).await;
    let job = mailbox_job(&server, &token, &org_id, &repo_id, &[NANCY]).await;
    let session = run(&server, &token, &job, 1).await;
    assert_eq!(session["status"], "Success", "{session}");

    let work = tempfile::tempdir().unwrap();
    let graph = Graph::new(&sim).await;
    let inbox_live = graph.folder_id(NANCY, "/Inbox").await.unwrap();
    let live_id = graph.message_id(NANCY, &inbox_live, "Scans").await;
    let eml = work.path().join("live.eml");
    std::fs::write(&eml, graph.mime(NANCY, &live_id).await).unwrap();
    let expected = mime_attachments(&eml);
    assert_eq!(expected.as_array().unwrap().len(), 1, "{expected}");
    assert_eq!(expected[0]["name"], "scan.bin");
    assert_eq!(expected[0]["size"], ATTACHMENT);

    let (status, session) = server
        .call(
            Method::POST,
            &format!("/v6/Organizations/{org_id}/explore"),
            &token,
            Some(json!({"type": "vex"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let sid = session["id"].as_str().unwrap();
    let mbx = format!("/v6/RestoreSessions/{sid}/organization/mailboxes/{NANCY}");
    let top = get_ok(&server, &token, &format!("{mbx}/folders?parentId=null")).await;
    let inbox = top["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Inbox")
        .unwrap_or_else(|| panic!("no Inbox in {top}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let items = get_ok(&server, &token, &format!("{mbx}/items?folderId={inbox}")).await;
    let id_of = |subject: &str| {
        items["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["subject"] == subject)
            .unwrap_or_else(|| panic!("no {subject} in {items}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (big, small) = (id_of("Scans"), id_of("Small"));
    let save = |path: String, body: &'static str| {
        server
            .client
            .post(server.url(&path))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };

    // One .msg: streamed from the temporary file, which is open while it streams.
    assert_eq!(open_in(&temp), 0);
    let response = save(format!("{mbx}/items/{big}/save"), "").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename=\"Scans.msg\""));
    let length: u64 = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(length > ATTACHMENT, "{length}");
    let mut body = response.bytes_stream();
    let mut msg = body.next().await.unwrap().unwrap().to_vec();
    assert_eq!(
        open_in(&temp),
        1,
        "the .msg streams from a file in {}",
        temp.display()
    );
    assert_eq!(
        std::fs::read_dir(&temp).unwrap().count(),
        0,
        "it has no name"
    );
    while let Some(chunk) = body.next().await {
        msg.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(u64::try_from(msg.len()).unwrap(), length);
    all_closed(&temp).await;
    let msg_path = work.path().join("Scans.msg");
    std::fs::write(&msg_path, &msg).unwrap();
    let read = read_msgs(std::slice::from_ref(&msg_path));
    assert_eq!(read[0]["subject"], "Scans", "{}", read[0]);
    assert_eq!(read[0]["attachments"], expected, "{}", read[0]);

    // A client that goes away mid-answer: the file is closed all the same.
    let response = save(format!("{mbx}/items/{big}/save"), "").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(!first.is_empty());
    assert_eq!(open_in(&temp), 1);
    drop(body);
    all_closed(&temp).await;

    // A zip of the big and a small message: the big one from a temporary file, both readable.
    let response = server
        .client
        .post(server.url(&format!("{mbx}/items/Save")))
        .bearer_auth(&token)
        .json(&json!({"items": [{"id": big}, {"id": small}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let zip = response.bytes().await.unwrap();
    all_closed(&temp).await;
    let zip_path = work.path().join("Nancy.zip");
    std::fs::write(&zip_path, &zip).unwrap();
    let out = work.path().join("zip");
    assert_eq!(
        unzip(&zip_path, &out),
        ["Inbox/Scans.msg", "Inbox/Small.msg"]
    );
    let read = read_msgs(&[out.join("Inbox/Scans.msg"), out.join("Inbox/Small.msg")]);
    assert_eq!(read[0]["subject"], "Scans");
    assert_eq!(read[0]["attachments"], expected, "{}", read[0]);
    assert_eq!(read[1]["subject"], "Small");
    assert_eq!(read[1]["attachments"], json!([]), "{}", read[1]);
    // The one saved alone but for the storages' timestamps (cfb stamps the current time).
    let zipped = std::fs::read(out.join("Inbox/Scans.msg")).unwrap();
    assert_eq!(zipped.len(), msg.len());
    let differing = zipped.iter().zip(&msg).filter(|(a, b)| a != b).count();
    assert!(
        differing <= 64,
        "{differing} bytes differ from the .msg saved alone"
    );
}
