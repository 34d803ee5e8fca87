//! `.msg` files read back by an independent reader, `extract-msg` (PyPI). CI installs it in a
//! venv (`.ci/run`) and sets `OPENVBO_EXTRACT_MSG_PYTHON` to that venv's python.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::path::Path;
use std::process::Command;

use base64::Engine;
use openvbo_msg::{write_msg, write_msg_to_vec, MsgOptions};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn python() -> String {
    std::env::var("OPENVBO_EXTRACT_MSG_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Runs tests/read_msg.py on the files and returns one JSON description per file.
fn read_back(paths: &[&Path]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/read_msg.py");
    let out = Command::new(python())
        .arg(script)
        .args(paths)
        .output()
        .expect("run python (set OPENVBO_EXTRACT_MSG_PYTHON to a python with extract-msg)");
    assert!(
        out.status.success(),
        "extract-msg could not read the file (pip install extract-msg, or set OPENVBO_EXTRACT_MSG_PYTHON; CI does this in .ci/run): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Deterministic, incompressible-looking bytes.
fn bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn base64_lines(data: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    encoded
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n")
}

fn sha256(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn rich_message(attachments: &[(&str, &[u8])]) -> Vec<u8> {
    let mut m = String::from(
        "From: \"Alice Example\" <alice@contoso.test>\r\n\
         To: Bob <bob@contoso.test>, carol@contoso.test\r\n\
         Cc: \"Dan D.\" <dan@contoso.test>\r\n\
         Subject: =?UTF-8?Q?Quarterly_r=C3=A9sum=C3=A9?=\r\n\
         Date: Tue, 03 Mar 2026 10:15:30 +0000\r\n\
         Message-ID: <abc123@contoso.test>\r\n\
         X-Openvbo-Trace: kept\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
         --outer\r\n\
         Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n\
         --inner\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Hello Bob, the numbers are attached. Grüße.\r\n\
         --inner\r\n\
         Content-Type: text/html; charset=utf-8\r\n\r\n\
         <html><body><p>Hello <b>Bob</b>, the numbers are attached. Grüße.</p></body></html>\r\n\
         --inner--\r\n",
    );
    for (name, data) in attachments {
        m.push_str(&format!(
            "--outer\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\n\
             Content-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            base64_lines(data)
        ));
    }
    m.push_str("--outer--\r\n");
    m.into_bytes()
}

#[test]
fn extract_msg_reads_subject_sender_recipients_bodies_and_attachments() {
    let csv = b"a,b,c\n1,2,3\n".to_vec();
    let big = bytes(3 * 1024 * 1024 + 17, 7); // past the 4 KiB mini-stream cutoff, many sectors
    let mime = rich_message(&[("numbers.csv", &csv), ("scan é.pdf", &big)]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.msg");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .unwrap();
    write_msg(
        &mime,
        file,
        MsgOptions {
            read: true,
            received_unix: None,
        },
    )
    .unwrap();

    let found = &read_back(&[&path])[0];
    assert_eq!(found["subject"], "Quarterly résumé");
    let sender = found["sender"].as_str().unwrap();
    assert!(
        sender.contains("alice@contoso.test") && sender.contains("Alice Example"),
        "{sender}"
    );
    assert_eq!(
        found["headerFrom"],
        "\"Alice Example\" <alice@contoso.test>"
    );
    assert_eq!(found["messageId"], "<abc123@contoso.test>");
    assert!(
        found["date"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-03T10:15:30"),
        "{}",
        found["date"]
    );
    let recipients: Vec<(String, String, i64)> = found["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["email"].as_str().unwrap().to_owned(),
                r["type"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        recipients,
        vec![
            ("Bob".into(), "bob@contoso.test".into(), 1),
            ("carol@contoso.test".into(), "carol@contoso.test".into(), 1),
            ("Dan D.".into(), "dan@contoso.test".into(), 2),
        ]
    );
    assert_eq!(
        found["body"].as_str().unwrap().trim_end(),
        "Hello Bob, the numbers are attached. Grüße."
    );
    assert_eq!(
        found["html"].as_str().unwrap().trim_end(),
        "<html><body><p>Hello <b>Bob</b>, the numbers are attached. Grüße.</p></body></html>"
    );
    let attachments = found["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 2);
    assert_eq!(attachments[0]["name"], "numbers.csv");
    assert_eq!(attachments[0]["size"], csv.len());
    assert_eq!(attachments[0]["sha256"], sha256(&csv));
    assert_eq!(attachments[1]["name"], "scan é.pdf");
    assert_eq!(attachments[1]["size"], big.len());
    assert_eq!(attachments[1]["sha256"], sha256(&big));
}

#[test]
fn a_plain_text_message_without_attachments_reads_back() {
    let mime = b"From: bob@contoso.test\r\nTo: alice@contoso.test\r\nSubject: short\r\n\
                 Date: Wed, 04 Mar 2026 08:00:00 +0100\r\n\r\nJust text.\r\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.msg");
    std::fs::write(
        &path,
        write_msg_to_vec(mime, MsgOptions::default()).unwrap(),
    )
    .unwrap();
    let found = &read_back(&[&path])[0];
    assert_eq!(found["subject"], "short");
    assert_eq!(found["body"].as_str().unwrap().trim_end(), "Just text.");
    assert_eq!(found["html"], Value::Null);
    assert_eq!(found["attachments"].as_array().unwrap().len(), 0);
    assert_eq!(found["recipients"][0]["email"], "alice@contoso.test");
    assert!(
        found["date"]
            .as_str()
            .unwrap()
            .starts_with("2026-03-04T07:00:00"),
        "{}",
        found["date"]
    );
}

#[test]
fn bytes_that_are_not_mime_are_a_clear_error() {
    let err = write_msg_to_vec(b"", MsgOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the stored message is not a readable MIME message"
    );
}
