//! Retention (table-driven, fake clock), garbage collection with two-phase deletion, repack,
//! and concurrent writers running while maintenance runs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::*;
use futures::TryStreamExt;
use openvbo_repo::clock::{Clock, FakeClock};
use openvbo_repo::*;

const DAY: i64 = 86_400_000;

/// One resource backed up on each listed day (days since the clock's start).
async fn history(
    repo: &Repository,
    clock: &FakeClock,
    start: i64,
    r: &ResourceRef,
    days: &[i64],
) -> Vec<RestorePoint> {
    let mut out: Vec<RestorePoint> = Vec::new();
    for d in days {
        clock.set(start + d * DAY);
        let mut w = repo.writer(r.clone(), out.last()).await.unwrap();
        let mut it = item("inbox", &format!("day{d}"));
        it.modified = (start + d * DAY) / 1000;
        w.put_item(it, vec![Part::bytes("mime", text(*d as u64, 3000))])
            .await
            .unwrap();
        out.push(w.commit(b"", serde_json::Value::Null).await.unwrap());
    }
    out
}

#[tokio::test]
async fn snapshot_based_retention_keeps_exactly_the_window_and_the_newest() {
    // (backup days, "today", keep days, expected kept days)
    let table: &[(&[i64], i64, i64, &[i64])] = &[
        (&[0, 1, 2, 3, 4], 4, 2, &[2, 3, 4]),
        (&[0, 1, 2, 3, 4], 10, 2, &[4]), // all outside: the newest stays
        (&[0, 10, 20], 25, 10, &[20]),
        (&[0, 10, 20], 25, 15, &[10, 20]),
        (&[5], 100, 1, &[5]),
        (&[0, 1, 2], 2, 365, &[0, 1, 2]),
    ];
    for (days, today, keep, expected) in table {
        let dir = tempfile::tempdir().unwrap();
        let (repo, clock) = local_repo_clock(dir.path()).await;
        let start = clock.now_ms();
        history(&repo, &clock, start, &mailbox(1), days).await;
        // A second resource with an old point only: kept as its newest.
        clock.set(start - 1000 * DAY);
        let mut w = repo.writer(mailbox(2), None).await.unwrap();
        w.put_item(
            item("inbox", "old"),
            vec![Part::bytes("mime", b"old".to_vec())],
        )
        .await
        .unwrap();
        w.commit(b"", serde_json::Value::Null).await.unwrap();

        clock.set(start + today * DAY);
        let rep = repo
            .forget(&RetentionRule::SnapshotBased {
                keep_ms: keep * DAY,
            })
            .await
            .unwrap();
        let kept: Vec<i64> = repo
            .list_points(Some(&mailbox(1)))
            .await
            .unwrap()
            .iter()
            .map(|p| (p.time_ms - start) / DAY)
            .collect();
        assert_eq!(&kept, expected, "days {days:?}, today {today}, keep {keep}");
        assert_eq!(rep.removed.len(), days.len() - expected.len());
        assert_eq!(repo.list_points(Some(&mailbox(2))).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn item_level_retention_drops_items_modified_outside_the_window() {
    // (item modification days, today, keep days, expected remaining item days)
    let table: &[(&[i64], i64, i64, &[i64])] = &[
        (&[0, 1, 2, 3], 3, 1, &[2, 3]),
        (&[0, 5, 9], 10, 3, &[9]),
        (&[0, 5, 9], 10, 30, &[0, 5, 9]),
    ];
    for (days, today, keep, expected) in table {
        let dir = tempfile::tempdir().unwrap();
        let (repo, clock) = local_repo_clock(dir.path()).await;
        let start = clock.now_ms();
        let points = history(&repo, &clock, start, &mailbox(1), days).await;
        clock.set(start + today * DAY);
        repo.forget(&RetentionRule::ItemLevel {
            keep_ms: keep * DAY,
        })
        .await
        .unwrap();
        let newest = repo.read_point(&points.last().unwrap().id).await.unwrap();
        let entries: Vec<TreeEntry> = repo.entries(&newest).try_collect().await.unwrap();
        let mut got: Vec<i64> = entries
            .iter()
            .filter_map(|e| match e {
                TreeEntry::Item(i) => Some((i.modified * 1000 - start) / DAY),
                _ => None,
            })
            .collect();
        got.sort();
        assert_eq!(&got, expected, "days {days:?}, today {today}, keep {keep}");
        assert_eq!(newest.item_count, expected.len() as u64);
    }
}

#[tokio::test]
async fn prune_deletes_unreferenced_data_only_after_the_delay_and_repacks() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut o = opts(c.clone());
    o.data_pack_size = 1024 * 1024;
    let repo = local_repo_with(dir.path(), o).await;
    let start = c.now_ms();
    // Two resources; forget the first one's only-old points later.
    let mut w = repo.writer(drive(1), None).await.unwrap();
    let keep = w
        .put_item(
            item("root", "keep"),
            vec![Part::bytes("content", random_bytes(1, 700_000))],
        )
        .await
        .unwrap();
    w.put_item(
        item("root", "gone"),
        vec![Part::bytes("content", random_bytes(2, 700_000))],
    )
    .await
    .unwrap();
    let p1 = w.commit(b"", serde_json::Value::Null).await.unwrap();
    c.set(start + 10 * DAY);
    let mut w = repo.writer(drive(1), Some(&p1)).await.unwrap();
    w.delete("gone");
    w.commit(b"", serde_json::Value::Null).await.unwrap();
    let before = bytes_under(dir.path(), "/data/");

    let f = repo
        .forget(&RetentionRule::SnapshotBased { keep_ms: DAY })
        .await
        .unwrap();
    assert_eq!(f.removed, vec![p1.id.clone()]);
    let r1 = repo.prune().await.unwrap();
    assert!(r1.packs_marked >= 1, "{r1:?}");
    assert_eq!(r1.packs_deleted, 0, "nothing deleted before the delay");
    assert!(bytes_under(dir.path(), "/data/") >= before);
    assert!(repo
        .check(CheckOptions {
            read_data_percent: Some(100.0)
        })
        .await
        .unwrap()
        .ok());

    c.set(start + 10 * DAY + 2 * 3_600_000);
    let r2 = repo.prune().await.unwrap();
    assert!(r2.packs_deleted >= 1, "{r2:?}");
    let after = bytes_under(dir.path(), "/data/");
    assert!(
        after < before - 600_000,
        "the deleted item's 700 kB are gone: {before} -> {after}"
    );
    assert!(after > 700_000, "the kept item's data stays: {after}");
    assert_eq!(
        read_all(&repo, &keep.parts[0]).await,
        random_bytes(1, 700_000)
    );
    let rep = repo
        .check(CheckOptions {
            read_data_percent: Some(100.0),
        })
        .await
        .unwrap();
    assert!(rep.ok(), "{:?}", rep.errors);
    assert!(
        rep.unreferenced_packs.is_empty(),
        "{:?}",
        rep.unreferenced_packs
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_and_maintenance_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let c = clock();
    let mut o = opts(c.clone());
    o.data_pack_size = 512 * 1024;
    o.delete_delay = std::time::Duration::from_millis(0);
    let repo = local_repo_with(dir.path(), o).await;
    // Garbage that maintenance will collect while the writers run, sharing content with them.
    let mut w = repo.writer(mailbox(99), None).await.unwrap();
    for i in 0..20 {
        w.put_item(
            item("inbox", &format!("g{i}")),
            vec![Part::bytes("mime", text(i, 30_000))],
        )
        .await
        .unwrap();
    }
    w.checkpoint(b"").await.unwrap();
    w.abort().await.unwrap();
    let cp = repo
        .pending_checkpoint(&mailbox(99))
        .await
        .unwrap()
        .unwrap();

    let mut tasks = Vec::new();
    for m in 0..4usize {
        let repo = repo.clone();
        tasks.push(tokio::spawn(async move {
            let mut w = repo.writer(mailbox(m), None).await.unwrap();
            for i in 0..40u64 {
                // Half the bodies equal the garbage's: dedup against packs being marked.
                let body = if i.is_multiple_of(2) {
                    text(i % 20, 30_000)
                } else {
                    text(1000 + m as u64 * 100 + i, 30_000)
                };
                w.put_item(
                    item("inbox", &format!("m{i}")),
                    vec![Part::bytes("mime", body)],
                )
                .await
                .unwrap();
                tokio::task::yield_now().await;
            }
            w.commit(b"", serde_json::Value::Null).await.unwrap()
        }));
    }
    // Maintenance runs repeatedly while they write: drop the garbage, prune, prune again.
    let mut pruned = 0;
    let mut deleted = 0;
    for round in 0..6 {
        if round == 1 {
            repo.backend()
                .delete(&format!("points/{}", cp.id.0))
                .await
                .unwrap();
        }
        match repo.prune().await {
            Ok(r) => {
                pruned += 1;
                deleted += r.packs_deleted;
            }
            Err(e) => assert_eq!(e.kind(), ErrorKind::Locked),
        }
        tokio::task::yield_now().await;
    }
    let mut points = Vec::new();
    for t in tasks {
        points.push(t.await.unwrap());
    }
    // After the writers end, phase two can run; then everything must still be there.
    for _ in 0..2 {
        let r = repo.prune().await.unwrap();
        deleted += r.packs_deleted;
    }
    assert!(pruned >= 1);
    assert!(deleted >= 1, "garbage was collected");
    let rep = repo
        .check(CheckOptions {
            read_data_percent: Some(100.0),
        })
        .await
        .unwrap();
    assert!(rep.ok(), "{:?}", rep.errors);
    for (m, p) in points.iter().enumerate() {
        let entries: Vec<TreeEntry> = repo.entries(p).try_collect().await.unwrap();
        assert_eq!(entries.len(), 40);
        for e in entries {
            let TreeEntry::Item(i) = e else { panic!() };
            let n: u64 = i.id[1..].parse().unwrap();
            let want = if n.is_multiple_of(2) {
                text(n % 20, 30_000)
            } else {
                text(1000 + m as u64 * 100 + n, 30_000)
            };
            assert_eq!(
                read_all(&repo, &i.parts[0]).await,
                want,
                "mailbox {m} item {n}"
            );
        }
    }
}

#[tokio::test]
async fn a_second_server_is_refused_while_the_first_writes() {
    let dir = tempfile::tempdir().unwrap();
    let repo = local_repo(dir.path()).await;
    let w = repo.writer(mailbox(1), None).await.unwrap();
    let backend: DynBackend = Arc::new(LocalBackend::new(dir.path()));
    let mut o = opts(clock());
    o.holder = "server-b".into();
    let other = Repository::open(backend, Unlock::Master(&master()), o)
        .await
        .unwrap();
    let e = other.writer(mailbox(2), None).await.err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Locked);
    assert!(e.to_string().contains("another server"), "{e}");
    w.commit(b"", serde_json::Value::Null).await.unwrap();
    assert!(
        other.writer(mailbox(2), None).await.is_ok(),
        "free once the first is done"
    );
}

#[tokio::test]
async fn prune_removes_the_temporary_files_a_crash_left_and_only_those() {
    let dir = tempfile::tempdir().unwrap();
    let repo = local_repo(dir.path()).await;
    let mut w = repo.writer(drive(1), None).await.unwrap();
    let e = w
        .put_item(
            item("root", "kept"),
            vec![Part::bytes("content", random_bytes(3, 300_000))],
        )
        .await
        .unwrap();
    w.commit(b"", serde_json::Value::Null).await.unwrap();

    // What a SIGKILL mid-pack leaves: a temporary file no write will finish. One untouched for
    // longer than STALE_TEMPORARY goes; a recent one (a write of a live process) stays.
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let old = tmp.join("0123456789abcdef01234567.tmp");
    let fresh = tmp.join("76543210fedcba9876543210.tmp");
    std::fs::write(&old, random_bytes(4, 64 * 1024)).unwrap();
    std::fs::write(&fresh, random_bytes(5, 64 * 1024)).unwrap();
    let long_ago =
        std::time::SystemTime::now() - STALE_TEMPORARY - std::time::Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();

    let r = repo.prune().await.unwrap();
    assert_eq!(r.temporaries_removed, 1, "{r:?}");
    assert!(!old.exists());
    assert_eq!(std::fs::read(&fresh).unwrap(), random_bytes(5, 64 * 1024));
    // Nothing the repository holds was touched.
    assert_eq!(
        read_all(&repo, e.parts.first().unwrap()).await,
        random_bytes(3, 300_000)
    );
    let rep = repo
        .check(CheckOptions {
            read_data_percent: Some(100.0),
        })
        .await
        .unwrap();
    assert!(rep.ok(), "{:?}", rep.errors);
    assert_eq!(repo.prune().await.unwrap().temporaries_removed, 0);
}

/// Writers of one process that start together share one session object (a resource's backup
/// costs no session PUT of its own); the last of them to end removes it; a writer starting once
/// the session is older than an eighth of the TTL gets a new one, so a prune waiting on an old
/// session is never held up by writers that started long after its mark.
#[tokio::test]
async fn writers_starting_together_share_one_session_and_sessions_turn_over() {
    use std::sync::atomic::Ordering::Relaxed;
    let dir = tempfile::tempdir().unwrap();
    let (repo, clock) = local_repo_clock(dir.path()).await;
    let sessions = || {
        std::fs::read_dir(dir.path().join("sessions"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let ttl = RepoOptions::default().session_ttl.as_millis() as i64;
    let puts = repo.counters().puts.load(Relaxed);
    let mut a = repo.writer(mailbox(1), None).await.unwrap();
    let b = repo.writer(mailbox(2), None).await.unwrap();
    assert_eq!(sessions(), 1);
    assert_eq!(
        repo.counters().puts.load(Relaxed) - puts,
        1,
        "one session PUT for both"
    );

    clock.advance_ms(ttl / 8);
    let c = repo.writer(mailbox(3), None).await.unwrap();
    assert_eq!(sessions(), 2, "an old session is not joined");

    // A checkpoint refreshes the shared session; the session survives its first writer.
    a.put_item(item("inbox", "m1"), vec![Part::bytes("mime", text(1, 500))])
        .await
        .unwrap();
    a.checkpoint(b"cursor").await.unwrap();
    a.commit(b"", serde_json::Value::Null).await.unwrap();
    assert_eq!(sessions(), 2, "b still holds the first session");
    b.commit(b"", serde_json::Value::Null).await.unwrap();
    assert_eq!(sessions(), 1);
    c.abort().await.unwrap();
    assert_eq!(sessions(), 0);

    // Once every writer has ended, the next one registers a session of its own again.
    let d = repo.writer(mailbox(4), None).await.unwrap();
    assert_eq!(sessions(), 1);
    d.commit(b"", serde_json::Value::Null).await.unwrap();
    assert_eq!(sessions(), 0);
}
