//! The mailbox unit of work against an in-memory tenant and a real
//! repository: full, incremental, a lost token, partial failure, stop and
//! resume. Downloads are counted at the source.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;

use common::*;
use openvbo_backup::{InProcessQueue, Worker};
use openvbo_core::backup::RepositoryId;
use openvbo_core::jobs::{NoEvents, UnitControl, UnitStatus, WorkQueue};
use openvbo_core::OrganizationId;

struct Setup {
    _dir: tempfile::TempDir,
    mail: FakeMail,
    repo: openvbo_repo::Repository,
    queue: InProcessQueue,
    unit: openvbo_core::jobs::UnitOfWork,
}

async fn setup(checkpoint_every: usize) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo(dir.path()).await;
    let mail = FakeMail::default();
    for f in ["inbox", "sent"] {
        mail.add_folder(f);
    }
    for i in 0..7 {
        mail.put("inbox", &format!("m{i}"), &format!("Hello {i}"));
    }
    for i in 0..4 {
        mail.put("sent", &format!("s{i}"), &format!("Re: {i}"));
    }
    let mut worker = Worker::new(
        Arc::new(Repos(repo.clone())),
        Arc::new(Sources(mail.clone())),
    );
    worker.checkpoint_every = checkpoint_every;
    let queue = InProcessQueue::new(Arc::new(worker), 2);
    let unit = unit(OrganizationId::new_random(), RepositoryId::new_random());
    Setup {
        _dir: dir,
        mail,
        repo,
        queue,
        unit,
    }
}

fn control() -> UnitControl {
    UnitControl::new(Arc::new(NoEvents))
}

#[tokio::test]
async fn first_run_is_full_then_only_changes_are_downloaded() {
    let s = setup(100).await;
    let r1 = s.queue.run(s.unit.clone(), control()).await;
    assert_eq!(r1.status, UnitStatus::Success, "{r1:?}");
    assert_eq!(r1.downloaded_items, 11);
    assert_eq!(r1.item_count, 11);
    assert_eq!(s.mail.downloads(), 11);
    let p1 = r1.point.clone().unwrap();
    let state1 = s.mail.state();
    assert_eq!(point_state(&s.repo, &p1).await, state1);

    // An add, an edit, a delete, a new folder with one message.
    s.mail.put("inbox", "m7", "New");
    s.mail.put("inbox", "m2", "Hello 2 (edited)");
    s.mail.remove("sent", "s1");
    s.mail.add_folder("projects");
    s.mail.put("projects", "p0", "Plan");
    let r2 = s.queue.run(s.unit.clone(), control()).await;
    assert_eq!(r2.status, UnitStatus::Success, "{r2:?}");
    assert_eq!(r2.downloaded_items, 3, "only m7, m2 and p0");
    assert_eq!(s.mail.downloads(), 14);
    assert_eq!(r2.item_count, 12);
    let p2 = r2.point.clone().unwrap();
    assert_ne!(p1, p2);
    assert_eq!(point_state(&s.repo, &p2).await, s.mail.state());
    // The first point still lists exactly what it held.
    assert_eq!(point_state(&s.repo, &p1).await, state1);

    // Nothing changed: nothing downloaded, same content.
    let r3 = s.queue.run(s.unit.clone(), control()).await;
    assert_eq!(r3.downloaded_items, 0);
    assert_eq!(s.mail.downloads(), 14);
    assert_eq!(
        point_state(&s.repo, r3.point.as_ref().unwrap()).await,
        s.mail.state()
    );
}

#[tokio::test]
async fn a_lost_token_reenumerates_the_folder_but_downloads_only_what_changed() {
    let s = setup(100).await;
    assert_eq!(
        s.queue.run(s.unit.clone(), control()).await.status,
        UnitStatus::Success
    );
    s.mail.put("inbox", "m3", "Edited while the token expired");
    s.mail.remove("inbox", "m5");
    s.mail.expire_tokens("inbox");
    let before = s.mail.downloads();
    let r = s.queue.run(s.unit.clone(), control()).await;
    assert_eq!(r.status, UnitStatus::Success, "{r:?}");
    assert_eq!(s.mail.downloads() - before, 1, "only m3 again");
    assert_eq!(
        point_state(&s.repo, r.point.as_ref().unwrap()).await,
        s.mail.state()
    );
    assert!(!point_state(&s.repo, r.point.as_ref().unwrap())
        .await
        .iter()
        .any(|e| e.1 == "m5"));
}

#[tokio::test]
async fn a_failing_item_is_reported_the_rest_is_kept_and_the_next_run_retries_it() {
    let s = setup(100).await;
    s.mail.fail("m4", true);
    let r1 = s.queue.run(s.unit.clone(), control()).await;
    assert_eq!(r1.status, UnitStatus::Warning, "{r1:?}");
    assert_eq!(r1.item_count, 10);
    assert_eq!(r1.failures.len(), 1);
    assert!(
        r1.failures[0].contains("Hello 4") && r1.failures[0].contains("ErrorItemCorrupt"),
        "{:?}",
        r1.failures
    );
    // Not transient: tried once, not retried.
    assert_eq!(s.mail.downloads(), 11);

    s.mail.fail("m4", false);
    let before = s.mail.downloads();
    let r2 = s.queue.run(s.unit.clone(), control()).await;
    assert_eq!(r2.status, UnitStatus::Success, "{r2:?}");
    assert_eq!(s.mail.downloads() - before, 1, "only the item that failed");
    assert_eq!(
        point_state(&s.repo, r2.point.as_ref().unwrap()).await,
        s.mail.state()
    );
}

#[tokio::test]
async fn a_stopped_run_is_resumed_without_downloading_again() {
    let s = setup(2).await;
    let stop = Arc::new(AtomicBool::new(false));
    let events = Arc::new(StopAfter {
        stored: AtomicU64::new(0),
        stop_after: 5,
        stop: stop.clone(),
    });
    let r1 = s
        .queue
        .run(s.unit.clone(), UnitControl::with_stop(stop, events))
        .await;
    assert_eq!(r1.status, UnitStatus::Stopped, "{r1:?}");
    assert_eq!(r1.point, None);
    assert_eq!(r1.downloaded_items, 5);
    assert!(s
        .repo
        .list_points(None)
        .await
        .unwrap()
        .iter()
        .all(|p| !p.complete));

    // Messages read ahead but not stored when the stop came (at most the
    // three behind the one being stored) are read again; the stored are not.
    let before = s.mail.downloads();
    assert!((5..=8).contains(&before), "{before}");
    let r2 = s.queue.run(s.unit.clone(), control()).await;
    assert_eq!(r2.status, UnitStatus::Success, "{r2:?}");
    assert_eq!(r2.downloaded_items, 6, "the 6 not stored before the stop");
    assert_eq!(
        s.mail.downloads() - before,
        6,
        "no stored message downloaded again"
    );
    assert_eq!(
        point_state(&s.repo, r2.point.as_ref().unwrap()).await,
        s.mail.state()
    );
}

#[tokio::test]
async fn read_state_and_sent_time_are_stored_and_a_read_flip_alone_is_backed_up_again() {
    let s = setup(100).await;
    s.mail.set_read("inbox", "m1", false);
    s.mail.set_read("sent", "s3", false);
    let r1 = s.queue.run(s.unit.clone(), control()).await;
    assert_eq!(r1.status, UnitStatus::Success, "{r1:?}");
    let p1 = r1.point.clone().unwrap();
    let state = point_read_state(&s.repo, &p1).await;
    assert_eq!(state.len(), 11);
    let sent = serde_json::json!(1_699_999_940);
    for (id, (read, at)) in &state {
        let unread = id == "m1" || id == "s3";
        assert_eq!(*read, serde_json::json!(!unread), "isRead of {id}");
        assert_eq!(*at, sent, "sent of {id}");
    }

    // Only the read state changes: m1 is read now, m4 unread. Their
    // content cannot have changed (neither is a draft, every content fact
    // is as stored), so the stored MIME is kept: no download.
    s.mail.set_read("inbox", "m1", true);
    s.mail.set_read("inbox", "m4", false);
    let downloads = s.mail.downloads();
    let r2 = s.queue.run(s.unit.clone(), control()).await;
    assert_eq!(r2.status, UnitStatus::Success, "{r2:?}");
    assert_eq!(
        r2.downloaded_items, 0,
        "m1 and m4 changed only their read state"
    );
    assert_eq!(s.mail.downloads(), downloads);
    let p2 = r2.point.clone().unwrap();
    for id in ["m1", "m4"] {
        assert_eq!(
            point_mime(&s.repo, &p2, id).await,
            s.mail.body("inbox", id),
            "{id}: the base's MIME under the new change key"
        );
    }
    let after = point_read_state(&s.repo, &p2).await;
    let unread: Vec<&str> = after
        .iter()
        .filter(|(_, (read, _))| *read == serde_json::json!(false))
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(unread, ["m4", "s3"]);
    assert_eq!(point_state(&s.repo, &p2).await, s.mail.state());
    // The first point keeps the state it recorded.
    assert_eq!(point_read_state(&s.repo, &p1).await, state);
}

#[tokio::test]
async fn a_folder_empty_since_the_last_run_costs_no_delta_until_a_message_arrives() {
    let s = setup(100).await;
    s.mail.add_folder("junk");
    let r1 = s.queue.run(s.unit.clone(), control()).await;
    assert_eq!(r1.status, UnitStatus::Success, "{r1:?}");
    assert_eq!(
        s.mail.delta_rounds(),
        3,
        "every folder once, the empty one too"
    );

    // Nothing changed: the empty folder is not asked, the others are.
    let r2 = s.queue.run(s.unit.clone(), control()).await;
    assert_eq!(r2.status, UnitStatus::Success, "{r2:?}");
    assert_eq!(s.mail.delta_rounds(), 5);

    // A message arrives: the listing counts it, its delta is asked from the
    // kept token and the message is backed up.
    s.mail.put("junk", "j1", "Win a prize");
    let r3 = s.queue.run(s.unit.clone(), control()).await;
    assert_eq!(r3.status, UnitStatus::Success, "{r3:?}");
    assert_eq!(s.mail.delta_rounds(), 8);
    assert_eq!(r3.downloaded_items, 1);
    let p3 = r3.point.clone().unwrap();
    assert_eq!(point_state(&s.repo, &p3).await, s.mail.state());

    // Emptied again: that round (asked, as the folder was not empty at the
    // last run) removes the message; the run after skips the folder again.
    s.mail.remove("junk", "j1");
    let r4 = s.queue.run(s.unit.clone(), control()).await;
    assert_eq!(s.mail.delta_rounds(), 11);
    assert_eq!(
        point_state(&s.repo, &r4.point.clone().unwrap()).await,
        s.mail.state()
    );
    let r5 = s.queue.run(s.unit.clone(), control()).await;
    assert_eq!(r5.status, UnitStatus::Success, "{r5:?}");
    assert_eq!(s.mail.delta_rounds(), 13);
    assert_eq!(
        point_state(&s.repo, &r5.point.clone().unwrap()).await,
        s.mail.state()
    );
}
