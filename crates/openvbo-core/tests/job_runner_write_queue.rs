//! A job of more resources than run at once, over the real SQLite store (whose writes go through
//! one connection): the session must not wait on itself for that connection.
//!
//! Regression: a backup of 5 or more mailboxes ended `Failed` after 30 s with "configuration
//! store unavailable: cannot start a write transaction". The runner awaited its writes for a
//! finished unit between polls of the stream of running units, while one of those units — just
//! started, writing its "Processing …" log item — had been handed the store's one write
//! connection and was never polled again to give it back. Four resources fitted in the first
//! batch, so nothing started while a result was being recorded and it worked.
//!
//! The queue here is shaped like the default one: 4 slots, and units that take longer than the
//! runner's log writes (the first four wait for each other, as real backups outlast a log write),
//! so that the fifth and sixth start while the first results are being recorded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use openvbo_core::backup::*;
use openvbo_core::clock::{ManualClock, SharedClock};
use openvbo_core::jobs::*;
use openvbo_core::store::{JobSessionStore, JobStore, RestorePointStore};
use openvbo_core::CoreError;
use openvbo_store::SqliteStore;
use openvbo_store_conformance::seed;
use time::macros::datetime;
use tokio::sync::{watch, Semaphore};

const SLOTS: usize = 4;
const RESOURCES: usize = 6;

/// Every resource is a mailbox.
struct Mailboxes(usize);

#[async_trait]
impl SelectionResolver for Mailboxes {
    async fn resolve(
        &self,
        _job: &Job,
        _selected: &[JobItem],
        _excluded: &[JobItem],
    ) -> Result<Resolved, CoreError> {
        Ok(Resolved {
            resources: (0..self.0)
                .map(|i| ResourceTarget {
                    kind: ResourceKind::Mailbox,
                    id: format!("user-{i}"),
                    display_name: format!("User {i}"),
                    address: format!("user{i}@contoso.example"),
                })
                .collect(),
            warnings: Vec::new(),
        })
    }
}

/// `SLOTS` units at a time, like the in-process queue. The first `SLOTS` units finish only once
/// all of them hold a slot (and so have written their log items); later ones finish at once.
struct SlotQueue {
    slots: Semaphore,
    arrived: AtomicUsize,
    running: AtomicUsize,
    most_at_once: AtomicUsize,
    all_started: watch::Sender<bool>,
}

impl SlotQueue {
    fn new() -> Self {
        SlotQueue {
            slots: Semaphore::new(SLOTS),
            arrived: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            most_at_once: AtomicUsize::new(0),
            all_started: watch::channel(false).0,
        }
    }
}

#[async_trait]
impl WorkQueue for SlotQueue {
    async fn run(&self, unit: UnitOfWork, control: UnitControl) -> UnitReport {
        let Ok(_slot) = self.slots.acquire().await else {
            return UnitReport::failed("closed");
        };
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_at_once.fetch_max(now, Ordering::SeqCst);
        if self.arrived.fetch_add(1, Ordering::SeqCst) + 1 == SLOTS {
            self.all_started.send_replace(true);
        }
        let mut started = self.all_started.subscribe();
        let _ = started.wait_for(|all| *all).await;
        control.events.item_stored(100);
        self.running.fetch_sub(1, Ordering::SeqCst);
        UnitReport {
            status: UnitStatus::Success,
            point: Some(format!("point-{}", unit.resource.id)),
            item_count: 1,
            size_bytes: 100,
            downloaded_items: 1,
            downloaded_bytes: 100,
            transferred_bytes: 100,
            failures: Vec::new(),
            error: None,
        }
    }
}

async fn job_in(store: &SqliteStore, repo_dir: &std::path::Path) -> Job {
    let now = datetime!(2026-06-01 10:00 UTC);
    let org = seed::contoso(store, now).await;
    let repository = seed::local_repository(store, repo_dir, now).await;
    let schedule =
        parse_policy(&serde_json::from_value(serde_json::json!({ "type": "ManualOnly" })).unwrap())
            .unwrap();
    seed::mail_job(
        store,
        org.id,
        repository.id,
        policy_json(&schedule).to_string(),
        None,
        now,
    )
    .await
}

#[tokio::test]
async fn more_resources_than_slots_back_up_without_waiting_for_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("config.db"))
            .await
            .unwrap(),
    );
    let job = job_in(&store, &dir.path().join("repo")).await;
    let queue = Arc::new(SlotQueue::new());
    let clock: SharedClock = ManualClock::starting_at(datetime!(2026-06-01 10:00 UTC));
    let runner = JobRunner::new(
        store.clone(),
        queue.clone(),
        Arc::new(Mailboxes(RESOURCES)),
        clock.clone(),
    );
    assert_eq!(
        runner.per_session, SLOTS,
        "the runner starts as many units of a session at once as the queue has slots"
    );

    let session = runner.start(job.id, 0).await.unwrap();
    runner.wait(job.id).await;

    let log = store.list_log_items(session.id, 0, 1000).await.unwrap();
    let titles: Vec<&str> = log.items.iter().map(|l| l.title.as_str()).collect();
    let s = store.get_job_session(session.id).await.unwrap().unwrap();
    assert_eq!(s.status, JobStatus::Success, "log: {titles:#?}");
    assert_eq!(s.end_time, Some(clock.now()));
    assert_eq!(s.progress, RESOURCES as i64);
    assert_eq!(s.statistics.processed_objects, RESOURCES as i64);
    assert_eq!(s.statistics.transferred_data_bytes, 100 * RESOURCES as i64);
    assert_eq!(queue.arrived.load(Ordering::SeqCst), RESOURCES);
    assert_eq!(queue.most_at_once.load(Ordering::SeqCst), SLOTS);

    let processed: Vec<&str> = titles
        .iter()
        .copied()
        .filter(|t| t.starts_with("[Success] Processing mailbox: User "))
        .collect();
    assert_eq!(processed.len(), RESOURCES, "log: {titles:#?}");
    assert_eq!(
        titles.last().copied(),
        Some("[Success] Job finished: 6 of 6 objects processed, 0 failed")
    );

    // One restore point of the session, holding every mailbox.
    let points = store
        .list_restore_points(&RestorePointFilter {
            job_id: Some(job.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].job_session_id, Some(session.id));
    let mut resources: Vec<String> = store
        .list_restore_point_resources(points[0].id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.resource_id)
        .collect();
    resources.sort();
    let expected: Vec<String> = (0..RESOURCES).map(|i| format!("user-{i}")).collect();
    assert_eq!(resources, expected);
    let job = store.get_job(job.id).await.unwrap().unwrap();
    assert_eq!(job.last_status, JobStatus::Success);
}
