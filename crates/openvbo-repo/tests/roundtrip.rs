//! Writing and reading back: items and folders, incrementals with carry-over and deletions,
//! checkpoints and resume, opening by password, wrong keys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::*;
use futures::TryStreamExt;
use openvbo_repo::*;

async fn items_of(repo: &Repository, p: &RestorePoint) -> Vec<ItemEntry> {
    let entries: Vec<TreeEntry> = repo.entries(p).try_collect().await.unwrap();
    let mut items: Vec<ItemEntry> = entries
        .into_iter()
        .filter_map(|e| match e {
            TreeEntry::Item(i) => Some(i),
            TreeEntry::Folder(_) => None,
        })
        .collect();
    items.sort_by(|a, b| a.id.cmp(&b.id));
    items
}

#[tokio::test]
async fn items_round_trip_and_incrementals_carry_over() {
    let dir = tempfile::tempdir().unwrap();
    let (repo, fake) = local_repo_clock(dir.path()).await;
    let mb = mailbox(1);

    let mut w = repo.writer(mb.clone(), None).await.unwrap();
    w.put_folder(FolderEntry {
        id: "inbox".into(),
        parent: None,
        name: "Inbox".into(),
        metadata: serde_json::Value::Null,
    })
    .await
    .unwrap();
    let big = random_bytes(1, 3 * 1024 * 1024 + 17);
    for i in 0..20 {
        let body = text(i, 5_000 + i as usize * 10);
        w.put_item(
            item("inbox", &format!("m{i:02}")),
            vec![Part::bytes("mime", body)],
        )
        .await
        .unwrap();
    }
    w.put_item(
        item("inbox", "big"),
        vec![
            Part::bytes("mime", text(99, 1000)),
            Part::bytes("attachment", big.clone()),
        ],
    )
    .await
    .unwrap();
    let p1 = w.commit(b"delta-1", serde_json::Value::Null).await.unwrap();
    assert_eq!(p1.item_count, 21);
    assert!(p1.complete);

    let items = items_of(&repo, &p1).await;
    assert_eq!(items.len(), 21);
    let bigitem = items.iter().find(|i| i.id == "big").unwrap();
    assert!(
        bigitem.parts[1].chunks.len() >= 2,
        "3 MiB attachment is chunked"
    );
    assert_eq!(read_all(&repo, &bigitem.parts[1]).await, big);
    let m05 = items.iter().find(|i| i.id == "m05").unwrap();
    assert_eq!(read_all(&repo, &m05.parts[0]).await, text(5, 5_050));

    fake.advance_ms(86_400_000);
    // Incremental: one changed, one deleted, one new; the rest carried over untouched.
    let mut w = repo.writer(mb.clone(), Some(&p1)).await.unwrap();
    let mut changed = item("inbox", "m03");
    changed.change_key = "ck2".into();
    w.put_item(changed, vec![Part::bytes("mime", b"changed body".to_vec())])
        .await
        .unwrap();
    w.delete("m07");
    w.put_item(
        item("inbox", "m99"),
        vec![Part::bytes("mime", b"new".to_vec())],
    )
    .await
    .unwrap();
    let p2 = w.commit(b"delta-2", serde_json::Value::Null).await.unwrap();
    assert_eq!(p2.stats.items_carried_over, 19);
    assert_eq!(p2.item_count, 21);
    assert_eq!(p2.delta_state_bytes(), b"delta-2");
    let items2 = items_of(&repo, &p2).await;
    assert_eq!(items2.len(), 21);
    assert!(items2.iter().all(|i| i.id != "m07"));
    let m03 = items2.iter().find(|i| i.id == "m03").unwrap();
    assert_eq!(read_all(&repo, &m03.parts[0]).await, b"changed body");
    // The first point is untouched.
    assert_eq!(items_of(&repo, &p1).await.len(), 21);

    fake.advance_ms(86_400_000);
    // An incremental with no change writes no new tree blob: same tree as the base.
    let w = repo.writer(mb.clone(), Some(&p2)).await.unwrap();
    let p3 = w.commit(b"delta-3", serde_json::Value::Null).await.unwrap();
    assert_eq!(p3.tree, p2.tree);
    assert_eq!(p3.item_count, 21);

    let points = repo.list_points(Some(&mb)).await.unwrap();
    assert_eq!(points.len(), 3);
    assert_eq!(repo.latest_point(&mb).await.unwrap().unwrap().id, p3.id);

    // Reopen from disk with the master key: everything readable.
    let backend: DynBackend = Arc::new(LocalBackend::new(dir.path()));
    let again = Repository::open(backend, Unlock::Master(&master()), opts(clock()))
        .await
        .unwrap();
    let items = items_of(&again, &p3).await;
    assert_eq!(
        read_all(
            &again,
            &items.iter().find(|i| i.id == "big").unwrap().parts[1]
        )
        .await,
        big
    );
    assert!(again
        .check(CheckOptions {
            read_data_percent: Some(100.0)
        })
        .await
        .unwrap()
        .ok());
}

#[tokio::test]
async fn checkpoint_then_resume_keeps_what_was_stored() {
    let dir = tempfile::tempdir().unwrap();
    let repo = local_repo(dir.path()).await;
    let mb = mailbox(2);
    let mut w = repo.writer(mb.clone(), None).await.unwrap();
    for i in 0..10 {
        w.put_item(
            item("inbox", &format!("a{i}")),
            vec![Part::bytes("mime", text(i, 2000))],
        )
        .await
        .unwrap();
    }
    w.checkpoint(b"page-1").await.unwrap();
    for i in 10..15 {
        w.put_item(
            item("inbox", &format!("a{i}")),
            vec![Part::bytes("mime", text(i, 2000))],
        )
        .await
        .unwrap();
    }
    let cp = w.checkpoint(b"page-2").await.unwrap();
    drop(w); // the process "dies"

    // One checkpoint record remains (the older one was replaced), and it is not "latest".
    let points = repo.list_points(Some(&mb)).await.unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].id, cp);
    assert!(repo.latest_point(&mb).await.unwrap().is_none());
    let cp = repo.pending_checkpoint(&mb).await.unwrap().unwrap();
    assert_eq!(cp.delta_state_bytes(), b"page-2");

    let mut w = repo.resume(&cp).await.unwrap();
    assert!(w.already_stored("a3", "ck1"));
    assert!(w.already_stored("a14", "ck1"));
    assert!(!w.already_stored("a15", "ck1"));
    for i in 15..20 {
        w.put_item(
            item("inbox", &format!("a{i}")),
            vec![Part::bytes("mime", text(i, 2000))],
        )
        .await
        .unwrap();
    }
    let p = w.commit(b"done", serde_json::Value::Null).await.unwrap();
    assert_eq!(p.item_count, 20);
    assert_eq!(items_of(&repo, &p).await.len(), 20);
    let points = repo.list_points(Some(&mb)).await.unwrap();
    assert_eq!(
        points.len(),
        1,
        "the checkpoint record is gone after the commit"
    );
    assert!(points[0].complete);
}

#[tokio::test]
async fn password_opens_on_a_new_machine_and_wrong_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let backend: DynBackend = Arc::new(LocalBackend::new(dir.path()));
    let repo = Repository::init(
        backend.clone(),
        &master(),
        Some("correct horse"),
        opts(clock()),
    )
    .await
    .unwrap();
    let mut w = repo.writer(mailbox(1), None).await.unwrap();
    w.put_item(
        item("inbox", "x"),
        vec![Part::bytes("mime", b"hello".to_vec())],
    )
    .await
    .unwrap();
    w.commit(b"", serde_json::Value::Null).await.unwrap();

    let by_pw = Repository::open(
        backend.clone(),
        Unlock::Password("correct horse"),
        opts(clock()),
    )
    .await
    .unwrap();
    assert_eq!(by_pw.list_points(None).await.unwrap().len(), 1);

    let e = Repository::open(backend.clone(), Unlock::Password("wrong"), opts(clock()))
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::WrongKey);
    let other = WrappingKey::from_bytes([9u8; 32]);
    let e = Repository::open(backend.clone(), Unlock::Master(&other), opts(clock()))
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::WrongKey);

    // A new server re-wraps under its own master key.
    by_pw
        .set_master(Unlock::Password("correct horse"), &other)
        .await
        .unwrap();
    assert!(
        Repository::open(backend.clone(), Unlock::Master(&other), opts(clock()))
            .await
            .is_ok()
    );

    let e = Repository::init(backend, &master(), None, opts(clock()))
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
}

/// A small incremental costs three objects: one pack (its data and its tree blobs together),
/// one index segment and the record. Its session costs nothing while another writer of the
/// run shares it. And it all reads back, the tree blob from the data pack included.
#[tokio::test]
async fn a_small_incremental_writes_one_pack_one_segment_and_its_record() {
    use std::sync::atomic::Ordering::Relaxed;
    let dir = tempfile::tempdir().unwrap();
    let repo = local_repo(dir.path()).await;
    let mut w = repo.writer(mailbox(1), None).await.unwrap();
    for n in 0..50 {
        let mime = Part::bytes("mime", text(n, 4000));
        w.put_item(item("inbox", &format!("m{n}")), vec![mime])
            .await
            .unwrap();
    }
    let base = w.commit(b"", serde_json::Value::Null).await.unwrap();

    let other = repo.writer(mailbox(2), None).await.unwrap();
    let puts = repo.counters().puts.load(Relaxed);
    let mut w = repo.writer(mailbox(1), Some(&base)).await.unwrap();
    let mime = Part::bytes("mime", text(99, 4000));
    w.put_item(item("inbox", "new"), vec![mime]).await.unwrap();
    let point = w.commit(b"", serde_json::Value::Null).await.unwrap();
    assert_eq!(repo.counters().puts.load(Relaxed) - puts, 3);
    other.abort().await.unwrap();

    let items = items_of(&repo, &point).await;
    assert_eq!(items.len(), 51);
    let new = items.iter().find(|i| i.id == "new").unwrap();
    assert_eq!(read_all(&repo, &new.parts[0]).await, text(99, 4000));
    assert!(
        !dir.path().join("meta").exists() || files(&dir.path().join("meta")).is_empty(),
        "no tree pack of its own"
    );
    let reopened = Repository::open(
        Arc::new(LocalBackend::new(dir.path())),
        Unlock::Master(&master()),
        opts(clock()),
    )
    .await
    .unwrap();
    let report = reopened
        .check(CheckOptions {
            read_data_percent: Some(100.0),
        })
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
}
