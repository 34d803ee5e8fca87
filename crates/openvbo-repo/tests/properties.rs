//! The storage properties, measured in stored bytes: dedup across mailboxes and restore
//! points, content-defined chunking under a shifted insert, compression of text, raw storage
//! of incompressible data, and no plaintext marker anywhere in the repository.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use openvbo_repo::*;

const MIB: u64 = 1024 * 1024;

#[tokio::test]
async fn an_attachment_sent_to_50_mailboxes_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let repo = local_repo(dir.path()).await;
    let attachment = random_bytes(42, 300 * 1024); // incompressible, > 64 KiB: split out
    for m in 0..50 {
        let mut w = repo.writer(mailbox(m), None).await.unwrap();
        let body = format!("Message to user{m}: see attachment").into_bytes();
        w.put_item(
            item("inbox", &format!("msg-{m}")),
            vec![
                Part::bytes("mime", body),
                Part::bytes("attachment/report.pdf", attachment.clone()),
            ],
        )
        .await
        .unwrap();
        w.commit(b"", serde_json::Value::Null).await.unwrap();
    }
    let data = bytes_under(dir.path(), "/data/");
    // One copy (300 KiB + per-blob overhead) plus 50 tiny bodies; 50 copies would be 15 MB.
    assert!(data > 300 * 1024, "the attachment is stored: {data}");
    assert!(
        data < 300 * 1024 + 50 * 1024,
        "stored once, not 50 times: {data} bytes"
    );
    let st = repo.stats().await.unwrap();
    assert_eq!(st.restore_points, 50);
    assert!(st.dedup_ratio > 40.0, "dedup ratio {}", st.dedup_ratio);
}

#[tokio::test]
async fn an_unchanged_file_across_30_restore_points_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, clock) = local_repo_clock(dir.path()).await;
    let file = random_bytes(7, 2 * MIB as usize);
    let d = drive(1);
    let mut base: Option<RestorePoint> = None;
    for day in 0..30 {
        let mut w = repo.writer(d.clone(), base.as_ref()).await.unwrap();
        // A full backup each day (worst case: the engine re-sends the file), same bytes.
        w.put_item(
            item("root", "report.bin"),
            vec![Part::bytes("content", file.clone())],
        )
        .await
        .unwrap();
        base = Some(
            w.commit(format!("day{day}").as_bytes(), serde_json::Value::Null)
                .await
                .unwrap(),
        );
        clock.advance_ms(86_400_000);
    }
    let data = bytes_under(dir.path(), "/data/");
    assert!(
        (2 * MIB..2 * MIB + 64 * 1024).contains(&data),
        "one copy of 2 MiB: {data}"
    );
    assert_eq!(repo.list_points(Some(&d)).await.unwrap().len(), 30);
}

#[tokio::test]
async fn one_byte_inserted_at_the_front_adds_about_one_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let repo = local_repo(dir.path()).await;
    let original = random_bytes(11, 20 * MIB as usize);
    let mut shifted = vec![0x5a];
    shifted.extend_from_slice(&original);

    let mut w = repo.writer(drive(1), None).await.unwrap();
    let e1 = w
        .put_item(
            item("root", "big.iso"),
            vec![Part::bytes("content", original)],
        )
        .await
        .unwrap();
    w.commit(b"", serde_json::Value::Null).await.unwrap();
    let before = bytes_under(dir.path(), "/data/");

    let mut w = repo.writer(drive(2), None).await.unwrap();
    let e2 = w
        .put_item(
            item("root", "big.iso"),
            vec![Part::bytes("content", shifted.clone())],
        )
        .await
        .unwrap();
    let stats = w.stats().clone();
    w.commit(b"", serde_json::Value::Null).await.unwrap();
    let added = bytes_under(dir.path(), "/data/") - before;

    let n = e1.parts[0].chunks.len();
    assert!(n >= 10, "20 MiB is split into many chunks: {n}");
    assert!(
        stats.chunks_new <= 2,
        "only the first chunk(s) change: {} new",
        stats.chunks_new
    );
    assert!(
        added <= 5 * MIB,
        "a shifted 20 MiB file adds at most a chunk or so: {added}"
    );
    let shared = e2.parts[0]
        .chunks
        .iter()
        .filter(|c| e1.parts[0].chunks.contains(c))
        .count();
    assert!(
        shared + 2 >= e2.parts[0].chunks.len(),
        "{shared} of {} chunks shared",
        e2.parts[0].chunks.len()
    );
    assert_eq!(read_all(&repo, &e2.parts[0]).await, shifted);
}

#[tokio::test]
async fn text_is_compressed_and_random_data_is_stored_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let repo = local_repo(dir.path()).await;
    let mut w = repo.writer(mailbox(1), None).await.unwrap();
    for i in 0..200 {
        w.put_item(
            item("inbox", &format!("t{i}")),
            vec![Part::bytes("mime", text(i, 20_000))],
        )
        .await
        .unwrap();
    }
    let st = w.stats().clone();
    w.commit(b"", serde_json::Value::Null).await.unwrap();
    assert_eq!(st.bytes_new, 200 * 20_000);
    let ratio = st.bytes_new as f64 / st.bytes_stored as f64;
    assert!(ratio > 2.0, "word text compresses at least 2x: {ratio:.2}");

    let mut w = repo.writer(drive(1), None).await.unwrap();
    w.put_item(
        item("root", "noise"),
        vec![Part::bytes("content", random_bytes(3, 8 * MIB as usize))],
    )
    .await
    .unwrap();
    let st = w.stats().clone();
    w.commit(b"", serde_json::Value::Null).await.unwrap();
    // Stored raw: plaintext + 41 bytes per blob (nonce, tag, flag), never larger.
    let overhead = st.bytes_stored - st.bytes_new;
    assert_eq!(
        overhead,
        st.chunks_new * 41,
        "only the seal overhead: {overhead}"
    );
}

#[tokio::test]
async fn no_plaintext_marker_is_findable_in_any_repository_file() {
    let dir = tempfile::tempdir().unwrap();
    let repo = local_repo(dir.path()).await;
    let markers: [&[u8]; 6] = [
        b"QuarterlySecretSubject",
        b"alice.marker@contoso.example",
        b"FolderNameMarker",
        b"file-name-marker.docx",
        b"CONTENT-MARKER-0123456789",
        b"org-contoso",
    ];
    let r = ResourceRef {
        organization: "org-contoso".into(),
        resource: "alice.marker@contoso.example".into(),
        kind: ResourceKind::Mailbox,
    };
    let mut w = repo.writer(r, None).await.unwrap();
    w.put_folder(FolderEntry {
        id: "f1".into(),
        parent: None,
        name: "FolderNameMarker".into(),
        metadata: serde_json::json!({"path": "FolderNameMarker"}),
    })
    .await
    .unwrap();
    let mut it = item("f1", "m1");
    it.metadata = serde_json::json!({"subject": "QuarterlySecretSubject", "from": "alice.marker@contoso.example", "attachment": "file-name-marker.docx"});
    let mut body = b"Subject: QuarterlySecretSubject\r\n\r\n".to_vec();
    body.extend(std::iter::repeat_n(b"CONTENT-MARKER-0123456789 ".as_slice(), 2000).flatten());
    w.put_item(it, vec![Part::bytes("mime", body)])
        .await
        .unwrap();
    w.commit(
        b"https://graph.microsoft.com/delta?token=alice.marker@contoso.example",
        serde_json::Value::Null,
    )
    .await
    .unwrap();

    let files = files(dir.path());
    assert!(
        files.len() >= 5,
        "config, key, packs, index, record: {}",
        files.len()
    );
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let name = f.to_string_lossy().to_string();
        for m in markers {
            let found = bytes.windows(m.len()).any(|w| w == m)
                || name.as_bytes().windows(m.len()).any(|w| w == m);
            assert!(!found, "{:?} found in {name}", String::from_utf8_lossy(m));
        }
    }
}
