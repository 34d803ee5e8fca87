//! Damage and faults: corrupted, truncated and missing objects are detected and named, never
//! returned as data; a full disk, a read-only file system or an unavailable store fails the
//! backup with a message that says so, and the repository stays consistent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::*;
use futures::TryStreamExt;
use openvbo_repo::backend::{Fault, FaultyBackend};
use openvbo_repo::*;

async fn one_backup(repo: &Repository) -> (RestorePoint, ItemEntry) {
    let mut w = repo.writer(drive(1), None).await.unwrap();
    let e = w
        .put_item(
            item("root", "f"),
            vec![Part::bytes("content", random_bytes(5, 600_000))],
        )
        .await
        .unwrap();
    (w.commit(b"", serde_json::Value::Null).await.unwrap(), e)
}

fn data_pack(dir: &std::path::Path) -> std::path::PathBuf {
    let packs: Vec<_> = files(dir)
        .into_iter()
        .filter(|f| f.to_string_lossy().contains("/data/"))
        .collect();
    assert_eq!(packs.len(), 1);
    packs.into_iter().next().unwrap()
}

#[tokio::test]
async fn a_flipped_byte_is_named_by_check_read_data_and_never_returned() {
    let dir = tempfile::tempdir().unwrap();
    let repo = local_repo(dir.path()).await;
    let (_, e) = one_backup(&repo).await;
    assert!(repo
        .check(CheckOptions {
            read_data_percent: Some(100.0)
        })
        .await
        .unwrap()
        .ok());

    let pack = data_pack(dir.path());
    let mut bytes = std::fs::read(&pack).unwrap();
    bytes[1000] ^= 0x01;
    std::fs::write(&pack, &bytes).unwrap();

    let err = repo
        .write_part(&e.parts[0], &mut Vec::new())
        .await
        .err()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::Corrupted);
    let rep = repo
        .check(CheckOptions {
            read_data_percent: Some(100.0),
        })
        .await
        .unwrap();
    assert!(!rep.ok());
    let name = pack
        .strip_prefix(dir.path())
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert!(
        rep.errors
            .iter()
            .any(|p| p.object == name && p.problem.contains("does not match its name")),
        "{:?}",
        rep.errors
    );
    assert!(
        rep.errors
            .iter()
            .any(|p| p.object == name && p.problem.contains("failed authentication")),
        "{:?}",
        rep.errors
    );
}

#[tokio::test]
async fn truncated_and_missing_packs_and_damaged_records_are_named_by_check() {
    let dir = tempfile::tempdir().unwrap();
    let repo = local_repo(dir.path()).await;
    let (p, _) = one_backup(&repo).await;
    let pack = data_pack(dir.path());
    let name = pack
        .strip_prefix(dir.path())
        .unwrap()
        .to_string_lossy()
        .to_string();
    let len = std::fs::metadata(&pack).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&pack)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    // The pack also holds the backup's tree blob, so the record is named as well.
    let rec_name = format!("points/{}", p.id.0);
    let rep = repo.check(CheckOptions::default()).await.unwrap();
    assert_eq!(rep.errors.len(), 2, "{:?}", rep.errors);
    assert_eq!(rep.errors[0].object, name);
    assert!(rep.errors[0].problem.contains("truncated"));
    assert_eq!(rep.errors[1].object, rec_name);
    assert!(
        rep.errors[1]
            .problem
            .starts_with(&format!("tree: reading {name}")),
        "{:?}",
        rep.errors
    );

    std::fs::remove_file(&pack).unwrap();
    let rep = repo.check(CheckOptions::default()).await.unwrap();
    assert_eq!(rep.errors.len(), 2, "{:?}", rep.errors);
    assert_eq!(
        rep.errors[0],
        CheckProblem {
            object: name.clone(),
            problem: "pack is missing".into()
        }
    );
    assert_eq!(rep.errors[1].object, rec_name);
    assert!(
        rep.errors[1].problem.starts_with("tree: "),
        "{:?}",
        rep.errors
    );

    let record = dir.path().join("points").join(&p.id.0);
    let mut b = std::fs::read(&record).unwrap();
    let last = b.len() - 1;
    b[last] ^= 0xff;
    std::fs::write(&record, b).unwrap();
    let rep = repo.check(CheckOptions::default()).await.unwrap();
    assert!(
        rep.errors
            .iter()
            .any(|e| e.object == rec_name && e.problem.contains("authentication")),
        "{:?}",
        rep.errors
    );
    assert_eq!(
        repo.list_points(None).await.err().unwrap().kind(),
        ErrorKind::Corrupted
    );
}

async fn fault_case(fault: Fault, kind: ErrorKind, words: &str) {
    let dir = tempfile::tempdir().unwrap();
    let faulty = Arc::new(FaultyBackend::new(Arc::new(LocalBackend::new(dir.path()))));
    let backend: DynBackend = faulty.clone();
    let mut o = opts(clock());
    o.data_pack_size = 256 * 1024;
    let repo = Repository::init(backend, &master(), None, o).await.unwrap();
    let (good, good_item) = one_backup(&repo).await;

    let mut w = repo.writer(mailbox(1), None).await.unwrap();
    faulty.fail_after(2, fault);
    let mut failure = None;
    for i in 0..200 {
        let r = w
            .put_item(
                item("inbox", &format!("m{i}")),
                vec![Part::bytes("mime", random_bytes(i, 50_000))],
            )
            .await;
        if let Err(e) = r {
            failure = Some(e);
            break;
        }
    }
    let err = match failure {
        Some(e) => e,
        None => w.commit(b"", serde_json::Value::Null).await.err().unwrap(),
    };
    assert_eq!(err.kind(), kind);
    assert!(err.to_string().contains(words), "{err}");

    faulty.heal();
    // Consistent: the failed backup left no record, the earlier one reads back, check passes.
    let points = repo.list_points(None).await.unwrap();
    assert_eq!(
        points.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        vec![good.id.clone()]
    );
    assert_eq!(
        read_all(&repo, good_item.parts.first().unwrap()).await,
        random_bytes(5, 600_000)
    );
    let rep = repo
        .check(CheckOptions {
            read_data_percent: Some(100.0),
        })
        .await
        .unwrap();
    assert!(rep.ok(), "{:?}", rep.errors);
    let entries: Vec<TreeEntry> = repo.entries(&good).try_collect().await.unwrap();
    assert_eq!(entries.len(), 1);
}

#[tokio::test]
async fn a_full_disk_fails_the_backup_clearly_and_leaves_the_repository_consistent() {
    fault_case(Fault::DiskFull, ErrorKind::StorageFull, "no space left").await;
}

#[tokio::test]
async fn a_read_only_file_system_fails_the_backup_clearly() {
    fault_case(Fault::ReadOnly, ErrorKind::ReadOnly, "read-only").await;
}

#[tokio::test]
async fn an_unavailable_store_fails_the_backup_clearly() {
    fault_case(Fault::Unavailable, ErrorKind::Unavailable, "kept failing").await;
}
