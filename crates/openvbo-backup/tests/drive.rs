//! OneDrives and document libraries through the real connector against the
//! simulator over HTTP, into a real repository: full, incremental after
//! adds, edits, renames, moves and deletes (downloads counted by the
//! simulator), a lost delta token, a file that fails, a large file, and a
//! stopped run resumed. Every restore point is read back whole.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod drive_sim;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::RwLock;

use drive_sim::*;
use openvbo_backup::Worker;
use openvbo_core::jobs::{UnitControl, UnitEvents, UnitReport, UnitStatus};
use openvbo_repo::Repository;

fn worker(h: &Harness, checkpoint_every: usize) -> Worker {
    let mut w = Worker::new(Arc::new(Repos(h.repo.clone())), h.sources.clone());
    w.checkpoint_every = checkpoint_every;
    w
}

fn tree(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(p, c)| ((*p).to_owned(), (*c).to_owned()))
        .collect()
}

fn clip() -> String {
    "<300000 bytes>".into()
}

async fn ok(report: UnitReport) -> String {
    assert_eq!(report.status, UnitStatus::Success, "{report:?}");
    report.point.unwrap()
}

/// VmHWM is per process and the tests of this binary run in parallel, so the memory test
/// runs alone (write lock) while the others share (read lock) the binary.
static MEMORY_TEST: RwLock<()> = RwLock::const_new(());

#[tokio::test]
async fn a_onedrive_is_backed_up_whole_then_only_what_changed() {
    let _shared = MEMORY_TEST.read().await;
    let h = start(None).await;
    let w = worker(&h, 100);
    let before = h.content();
    let first = w.back_up(&h.onedrive(), &control()).await;
    assert_eq!(first.downloaded_items, 4, "{first:?}");
    assert_eq!(first.item_count, 4);
    assert_eq!(h.content().file_downloads - before.file_downloads, 4);
    let p1 = ok(first).await;
    let mut want = tree(&[
        ("Documents/", ""),
        ("Documents/Q3/", ""),
        ("Documents/Q3/plan.txt", "hello world"),
        ("Documents/notes.txt", "notes"),
        ("Empty folder/", ""),
        ("Videos/", ""),
        ("top.txt", "at the root"),
    ]);
    want.insert("Videos/clip.bin".into(), clip());
    assert_eq!(h.tree(&p1).await, want);
    let point = h
        .repo
        .read_point(&openvbo_repo::RestorePointId(p1.clone()))
        .await
        .unwrap();
    let drive = h.drive_id(None).await;
    assert_eq!(
        point.extra["driveId"],
        drive.as_str(),
        "the point names its drive"
    );

    // Nothing changed: nothing downloaded, the same content.
    let before = h.content();
    let same = w.back_up(&h.onedrive(), &control()).await;
    assert_eq!(same.downloaded_items, 0);
    assert_eq!(h.content().file_downloads, before.file_downloads);
    let p_same = ok(same).await;
    assert_eq!(h.tree(&p_same).await, want);

    // Someone adds, edits, renames, moves and deletes.
    h.put(&drive, "Documents/new.txt", "brand new").await;
    h.put(&drive, "Documents/Q3/plan.txt", "hello again").await;
    let q3 = h.item_id(&drive, "Documents/Q3").await;
    h.patch(&drive, &q3, serde_json::json!({"name": "Q4"}))
        .await;
    let docs = h.item_id(&drive, "Documents").await;
    let top = h.item_id(&drive, "top.txt").await;
    h.patch(
        &drive,
        &top,
        serde_json::json!({"parentReference": {"id": docs}}),
    )
    .await;
    let notes = h.item_id(&drive, "Documents/notes.txt").await;
    h.delete(&drive, &notes).await;
    let videos = h.item_id(&drive, "Videos").await;
    h.delete(&drive, &videos).await;

    let before = h.content();
    let inc = w.back_up(&h.onedrive(), &control()).await;
    // The new file and the edited one. The moved one is not read again:
    // Business OneDrive's delta has no cTag and the eTag that stands in
    // changes with a move, but its quickXorHash and size match what the
    // base holds. The renamed folder's file and everything else are not
    // listed at all.
    assert_eq!(inc.downloaded_items, 2, "{inc:?}");
    assert_eq!(h.content().file_downloads - before.file_downloads, 2);
    let p2 = ok(inc).await;
    let want2 = tree(&[
        ("Documents/", ""),
        ("Documents/Q4/", ""),
        ("Documents/Q4/plan.txt", "hello again"),
        ("Documents/new.txt", "brand new"),
        ("Documents/top.txt", "at the root"),
        ("Empty folder/", ""),
    ]);
    assert_eq!(h.tree(&p2).await, want2);

    // A file renamed, another moved and renamed at once: their bytes come
    // from the repository, Microsoft is asked for none.
    let new = h.item_id(&drive, "Documents/new.txt").await;
    h.patch(&drive, &new, serde_json::json!({"name": "renamed.txt"}))
        .await;
    let plan = h.item_id(&drive, "Documents/Q4/plan.txt").await;
    let (_, root) = h
        .graph(
            reqwest::Method::GET,
            &format!("/drives/{drive}/root"),
            None,
            None,
        )
        .await;
    let root = root["id"].as_str().unwrap();
    h.patch(
        &drive,
        &plan,
        serde_json::json!({"name": "plan-final.txt", "parentReference": {"id": root}}),
    )
    .await;
    let before = h.content();
    let moved = w.back_up(&h.onedrive(), &control()).await;
    assert_eq!(moved.downloaded_items, 0, "{moved:?}");
    assert_eq!(h.content().file_downloads, before.file_downloads);
    assert_eq!(h.content().file_bytes, before.file_bytes);
    let p3 = ok(moved).await;
    assert_eq!(
        h.tree(&p3).await,
        tree(&[
            ("Documents/", ""),
            ("Documents/Q4/", ""),
            ("Documents/renamed.txt", "brand new"),
            ("Documents/top.txt", "at the root"),
            ("Empty folder/", ""),
            ("plan-final.txt", "hello again"),
        ])
    );
    assert_eq!(
        h.tree(&p2).await,
        want2,
        "the point before keeps the old names"
    );
    // The earlier points still show the drive as it was.
    assert_eq!(h.tree(&p1).await, want);
}

#[tokio::test]
async fn a_site_keeps_each_library_under_its_own_folder() {
    let _shared = MEMORY_TEST.read().await;
    let h = start(None).await;
    let w = worker(&h, 100);
    let first = w.back_up(&h.site(), &control()).await;
    assert_eq!(first.downloaded_items, 3, "{first:?}");
    let p1 = ok(first).await;
    let want = tree(&[
        ("Archive/", ""),
        ("Archive/2019/", ""),
        ("Archive/2019/old.txt", "old"),
        ("Documents/", ""),
        ("Documents/Policies/", ""),
        ("Documents/Policies/handbook.txt", "Be kind."),
        ("Documents/welcome.txt", "Welcome to HR"),
    ]);
    assert_eq!(h.tree(&p1).await, want);
    // Each library's folder is its drive id, named like the library.
    let archive = h.drive_id(Some("Archive")).await;
    let entries = h.point(&p1).await;
    assert!(entries.contains(&Entry::Folder {
        id: archive.clone(),
        parent: None,
        name: "Archive".into()
    }));
    let point = h
        .repo
        .read_point(&openvbo_repo::RestorePointId(p1.clone()))
        .await
        .unwrap();
    let libraries = point.extra["libraries"].as_array().unwrap();
    assert_eq!(libraries.len(), 2);
    assert!(libraries.iter().any(|l| l["driveId"] == archive.as_str()));

    // A change in one library: only that file is read.
    h.put(&archive, "2020.txt", "newer").await;
    let before = h.content();
    let inc = w.back_up(&h.site(), &control()).await;
    assert_eq!(inc.downloaded_items, 1, "{inc:?}");
    assert_eq!(h.content().file_downloads - before.file_downloads, 1);
    let p2 = ok(inc).await;
    let mut want2 = want.clone();
    want2.insert("Archive/2020.txt".into(), "newer".into());
    assert_eq!(h.tree(&p2).await, want2);
}

#[tokio::test]
async fn a_lost_token_reads_the_drive_again_but_downloads_only_what_is_new() {
    let _shared = MEMORY_TEST.read().await;
    let h = start(None).await;
    let w = worker(&h, 100);
    let p1 = ok(w.back_up(&h.onedrive(), &control()).await).await;
    let drive = h.drive_id(None).await;
    h.put(&drive, "fresh.txt", "fresh").await;
    let notes = h.item_id(&drive, "Documents/notes.txt").await;
    h.delete(&drive, &notes).await;
    assert!(h.sim.expire_drive_delta(&drive));
    let before = h.content();
    let inc = w.back_up(&h.onedrive(), &control()).await;
    assert_eq!(inc.downloaded_items, 1, "{inc:?}");
    assert_eq!(h.content().file_downloads - before.file_downloads, 1);
    let p2 = ok(inc).await;
    let mut want = h.tree(&p1).await;
    want.remove("Documents/notes.txt");
    want.insert("fresh.txt".into(), "fresh".into());
    assert_eq!(h.tree(&p2).await, want, "what the listing lacks is gone");
}

#[tokio::test]
async fn a_file_that_keeps_failing_is_a_warning_and_is_retried_next_time() {
    let _shared = MEMORY_TEST.read().await;
    let h = start(None).await;
    let w = worker(&h, 100);
    let p1 = ok(w.back_up(&h.onedrive(), &control()).await).await;
    let drive = h.drive_id(None).await;
    h.put(&drive, "Documents/Q3/plan.txt", "edited").await;
    h.put(&drive, "Documents/notes.txt", "edited too").await;
    // The next downloads break before their first byte, as many times as
    // the connector tries one file before it gives up, for each of the two
    // (they download at once, so the breaks land on both).
    h.sim.reset_downloads_after(0, 10);
    let warned = w.back_up(&h.onedrive(), &control()).await;
    assert_eq!(warned.status, UnitStatus::Warning, "{warned:?}");
    assert_eq!(warned.failures.len(), 2, "{:?}", warned.failures);
    assert_eq!(warned.downloaded_items, 0);
    let p2 = warned.point.clone().unwrap();
    let t1 = h.tree(&p1).await;
    let t2 = h.tree(&p2).await;
    assert_eq!(t2, t1, "the old versions stay");

    // Next run: the failed files are read again, and only they.
    let before = h.content();
    let again = w.back_up(&h.onedrive(), &control()).await;
    assert_eq!(again.downloaded_items, 2, "{again:?}");
    assert_eq!(h.content().file_downloads - before.file_downloads, 2);
    let p3 = ok(again).await;
    let t3 = h.tree(&p3).await;
    assert_eq!(t3["Documents/Q3/plan.txt"], "edited");
    assert_eq!(t3["Documents/notes.txt"], "edited too");
}

/// Counts stored items; raises the stop flag after `stop_after`.
struct StopAfter {
    stored: AtomicU64,
    stop_after: u64,
    stop: Arc<AtomicBool>,
}

impl UnitEvents for StopAfter {
    fn item_stored(&self, _bytes: u64) {
        if self.stored.fetch_add(1, Ordering::SeqCst) + 1 >= self.stop_after {
            self.stop.store(true, Ordering::SeqCst);
        }
    }
}

#[tokio::test]
async fn a_stopped_run_resumes_without_reading_stored_files_again() {
    let _shared = MEMORY_TEST.read().await;
    let h = start(None).await;
    let w = worker(&h, 1);
    let stop = Arc::new(AtomicBool::new(false));
    let events = Arc::new(StopAfter {
        stored: AtomicU64::new(0),
        stop_after: 2,
        stop: stop.clone(),
    });
    let before = h.content();
    let stopped = w
        .back_up(&h.onedrive(), &UnitControl::with_stop(stop, events))
        .await;
    assert_eq!(stopped.status, UnitStatus::Stopped, "{stopped:?}");
    assert_eq!(stopped.downloaded_items, 2);
    // Files read ahead but not stored when the stop came are read again;
    // the two stored are not.
    let in_flight = h.content().file_downloads - before.file_downloads;
    assert!((2..=4).contains(&in_flight), "{in_flight}");
    let before = h.content();
    let resumed = w.back_up(&h.onedrive(), &control()).await;
    assert_eq!(resumed.downloaded_items, 2, "{resumed:?}");
    assert_eq!(
        h.content().file_downloads - before.file_downloads,
        2,
        "what was stored is not read again"
    );
    let p = ok(resumed).await;
    let t = h.tree(&p).await;
    assert_eq!(t.len(), 8, "{t:?}");
    assert_eq!(t["Documents/Q3/plan.txt"], "hello world");
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_large_file_streams_through_in_bounded_memory() {
    let _alone = MEMORY_TEST.write().await;
    const SIZE: u64 = 96 * 1024 * 1024;
    let h = start(Some(SIZE)).await;
    let w = worker(&h, 100);
    let rss_before = peak_rss_kib();
    let report = w.back_up(&h.onedrive(), &control()).await;
    assert_eq!(report.downloaded_items, 5, "{report:?}");
    assert!(report.downloaded_bytes > SIZE);
    let p = ok(report).await;
    let growth = peak_rss_kib().saturating_sub(rss_before);
    // Well below the file: a few chunks and small packs in flight, and
    // the allocator's arenas (measured: about 55 MiB for 64 MiB and for
    // 128 MiB files alike: flat, not growing with the file).
    assert!(
        growth < SIZE / 1024 * 3 / 4,
        "peak RSS grew by {growth} KiB"
    );
    let repo: &Repository = &h.repo;
    let point = repo
        .read_point(&openvbo_repo::RestorePointId(p))
        .await
        .unwrap();
    let mut entries = repo.entries(&point);
    let mut found = false;
    while let Some(e) = futures::StreamExt::next(&mut entries).await {
        if let openvbo_repo::TreeEntry::Item(i) = e.unwrap() {
            if i.size == SIZE {
                found = true;
                assert!(i.parts[0].chunks.len() > 10, "stored in many chunks");
            }
        }
    }
    assert!(found, "the large file is in the point");
}
