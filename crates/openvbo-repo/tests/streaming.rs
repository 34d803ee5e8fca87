//! Packs stream to storage as they fill: the memory a pack costs is a write buffer (or one
//! big chunk), not the pack size; and a pack that cannot be stored fails every backup that
//! may reference it instead of letting a record name missing data.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use common::*;
use openvbo_repo::backend::{Fault, FaultyBackend};
use openvbo_repo::*;

const PACK: usize = 32 * 1024 * 1024;
/// The largest chunk (4 MiB) plus its sealing overhead: one big chunk is handed to the file
/// as is, so this, not the 32 MiB pack, is the bound.
const BOUND: u64 = 4 * 1024 * 1024 + 64 * 1024;

async fn write_stream(repo: &Repository, len: usize) -> (RestorePoint, ItemEntry) {
    let mut w = repo.writer(drive(1), None).await.unwrap();
    let data = random_bytes(42, len);
    let e = w
        .put_item(
            item("root", "big.bin"),
            vec![Part::new("content", std::io::Cursor::new(data))],
        )
        .await
        .unwrap();
    // Many small items too: they gather in the write buffer, not in a pack-sized one.
    for i in 0..300u64 {
        w.put_item(
            item("inbox", &format!("m{i}")),
            vec![Part::bytes("mime", random_bytes(1000 + i, 30_000))],
        )
        .await
        .unwrap();
    }
    let p = w.commit(b"", serde_json::Value::Null).await.unwrap();
    (p, e)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_pack_is_streamed_so_memory_stays_far_below_the_pack_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(clock());
    o.data_pack_size = PACK;
    let repo = local_repo_with(dir.path(), o).await;
    let len = 80 * 1024 * 1024;
    let (_, e) = write_stream(&repo, len).await;

    let peak = repo.counters().pack_buffer_peak.load(Ordering::Relaxed);
    assert!(peak > 0 && peak <= BOUND, "peak {peak} > {BOUND}");
    // The bytes did go out in full packs: 80 MiB + 9 MB of messages is at least 2 full packs.
    let packs = repo.backend().list("data/").await.unwrap();
    assert!(packs.len() >= 3, "{packs:?}");
    assert!(
        packs.iter().any(|p| p.size > (PACK as u64) * 9 / 10),
        "{packs:?}"
    );
    // No temporary file is left once the commit returned.
    let tmp = std::fs::read_dir(dir.path().join("tmp")).unwrap().count();
    assert_eq!(tmp, 0);
    assert_eq!(
        read_all(&repo, e.parts.first().unwrap()).await,
        random_bytes(42, len)
    );
    let rep = repo
        .check(CheckOptions {
            read_data_percent: Some(100.0),
        })
        .await
        .unwrap();
    assert!(rep.ok(), "{:?}", rep.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counter_is_real_a_whole_object_backend_buffers_a_pack() {
    // Same stream through a backend without streaming (the fault wrapper PUTs whole
    // objects, as S3 does): the counter shows the pack held in memory, so the bound above
    // measures the streaming, not a counter that never moves.
    let dir = tempfile::tempdir().unwrap();
    let backend: DynBackend = Arc::new(FaultyBackend::new(Arc::new(LocalBackend::new(dir.path()))));
    let mut o = opts(clock());
    o.data_pack_size = PACK;
    let repo = Repository::init(backend, &master(), None, o).await.unwrap();
    write_stream(&repo, 48 * 1024 * 1024).await;
    let peak = repo.counters().pack_buffer_peak.load(Ordering::Relaxed);
    assert!(peak >= (PACK as u64) * 9 / 10, "peak {peak}");
}

#[tokio::test]
async fn a_lost_pack_fails_every_writer_that_may_reference_it() {
    let dir = tempfile::tempdir().unwrap();
    let faulty = Arc::new(FaultyBackend::new(Arc::new(LocalBackend::new(dir.path()))));
    let backend: DynBackend = faulty.clone();
    let mut o = opts(clock());
    o.data_pack_size = 256 * 1024;
    let repo = Repository::init(backend, &master(), None, o).await.unwrap();

    let mut a = repo.writer(mailbox(1), None).await.unwrap();
    let mut b = repo.writer(mailbox(2), None).await.unwrap();
    // B deduplicates against A's blob while it is only buffered in A's pack.
    let shared = random_bytes(7, 100_000);
    a.put_item(
        item("inbox", "a0"),
        vec![Part::bytes("mime", shared.clone())],
    )
    .await
    .unwrap();
    let eb = b
        .put_item(
            item("inbox", "b0"),
            vec![Part::bytes("mime", shared.clone())],
        )
        .await
        .unwrap();
    assert_eq!(b.stats().chunks_new, 0);
    // From now on every write fails: the pack holding the shared blob is lost.
    faulty.fail_after(0, Fault::Unavailable);
    let mut failed = false;
    for i in 1..20 {
        let r = a
            .put_item(
                item("inbox", &format!("a{i}")),
                vec![Part::bytes("mime", random_bytes(100 + i, 100_000))],
            )
            .await;
        if r.is_err() {
            failed = true;
            break;
        }
    }
    assert!(failed, "a full pack had to be written and fail");
    faulty.heal();
    // Storage works again, yet neither writer may commit: B's entry names a lost blob.
    let err = b.commit(b"", serde_json::Value::Null).await.err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert!(err.to_string().contains("could not be stored"), "{err}");
    assert!(a.commit(b"", serde_json::Value::Null).await.is_err());
    assert!(repo.list_points(None).await.unwrap().is_empty());
    // Failed commits still leave their (shared) session: nothing holds it any more.
    assert_eq!(
        std::fs::read_dir(dir.path().join("sessions"))
            .unwrap()
            .count(),
        0
    );

    // A new run stores the blob again (it is no longer "known") and commits.
    let mut c = repo.writer(mailbox(2), None).await.unwrap();
    let ec = c
        .put_item(
            item("inbox", "b0"),
            vec![Part::bytes("mime", shared.clone())],
        )
        .await
        .unwrap();
    assert_eq!(c.stats().chunks_new, 1);
    c.commit(b"", serde_json::Value::Null).await.unwrap();
    assert_eq!(ec.parts, eb.parts);
    assert_eq!(read_all(&repo, ec.parts.first().unwrap()).await, shared);
    let rep = repo
        .check(CheckOptions {
            read_data_percent: Some(100.0),
        })
        .await
        .unwrap();
    assert!(rep.ok(), "{:?}", rep.errors);
}
