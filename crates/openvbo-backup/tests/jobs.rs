//! Job runs over the real engine and the real SQLite store: sessions, log
//! items, restore points, partial failure, the scheduler on a fake clock,
//! and crash recovery.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use common::*;
use futures::stream::BoxStream;
use openvbo_backup::{
    ByteStream, DeltaEvent, DriveSource, InProcessQueue, MailSource, MessageChange, SourceError,
    SourceFolder, SourceProvider, Worker,
};
use openvbo_core::backup::*;
use openvbo_core::clock::{Clock, ManualClock, SharedClock};
use openvbo_core::jobs::*;
use openvbo_core::store::{JobSessionStore, JobStore, RestorePointStore};
use openvbo_core::{CoreError, OrganizationId};
use openvbo_store::SqliteStore;
use openvbo_store_conformance::seed;
use time::macros::datetime;
use tokio::sync::{watch, Semaphore};

struct FixedResolver {
    resources: Vec<(&'static str, &'static str)>,
    warnings: Vec<String>,
}

#[async_trait]
impl SelectionResolver for FixedResolver {
    async fn resolve(
        &self,
        _j: &Job,
        _s: &[JobItem],
        _e: &[JobItem],
    ) -> Result<Resolved, CoreError> {
        Ok(Resolved {
            resources: self
                .resources
                .iter()
                .map(|(id, name)| ResourceTarget {
                    kind: ResourceKind::Mailbox,
                    id: (*id).into(),
                    display_name: (*name).into(),
                    address: format!("{id}@contoso.example"),
                })
                .collect(),
            warnings: self.warnings.clone(),
        })
    }
}

struct World {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    mail: FakeMail,
    clock: Arc<ManualClock>,
    runner: Arc<JobRunner>,
    job: Job,
}

async fn world(resolver: FixedResolver, policy: serde_json::Value) -> World {
    world_with(
        Arc::new(resolver),
        policy,
        |mail| Arc::new(Sources(mail)),
        3,
    )
    .await
}

/// A world whose mail goes through `sources` and whose queue runs `slots`
/// units at once.
async fn world_with(
    resolver: Arc<dyn SelectionResolver>,
    policy: serde_json::Value,
    sources: impl FnOnce(FakeMail) -> Arc<dyn SourceProvider>,
    slots: usize,
) -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("config.db"))
            .await
            .unwrap(),
    );
    let clock = ManualClock::starting_at(datetime!(2026-06-01 10:00 UTC));
    let now = clock.now();
    let org = seed::contoso(&*store, now).await;
    let repo_record = seed::local_repository(&*store, &dir.path().join("repo"), now).await;
    let schedule = parse_policy(&serde_json::from_value(policy).unwrap()).unwrap();
    let job = seed::mail_job(
        &*store,
        org.id,
        repo_record.id,
        policy_json(&schedule).to_string(),
        schedule.next_run(now),
        now,
    )
    .await;

    let engine = repo(&dir.path().join("repo")).await;
    let mail = FakeMail::default();
    mail.add_folder("inbox");
    for i in 0..5 {
        mail.put("inbox", &format!("m{i}"), &format!("Hello {i}"));
    }
    let worker = Worker::new(Arc::new(Repos(engine)), sources(mail.clone()));
    let queue = Arc::new(InProcessQueue::new(Arc::new(worker), slots));
    let shared: SharedClock = clock.clone();
    let runner = JobRunner::new(store.clone(), queue, resolver, shared);
    // A session hands the queue as many units as it has slots.
    assert_eq!(runner.per_session, slots);
    World {
        _dir: dir,
        store,
        mail,
        clock,
        runner,
        job,
    }
}

fn manual() -> serde_json::Value {
    serde_json::json!({ "type": "ManualOnly" })
}

async fn titles(store: &SqliteStore, session: JobSessionId) -> Vec<String> {
    let page = store.list_log_items(session, 0, 1000).await.unwrap();
    let usns: Vec<i64> = page.items.iter().map(|l| l.usn).collect();
    assert!(usns.windows(2).all(|w| w[0] < w[1]), "usn rises: {usns:?}");
    page.items.into_iter().map(|l| l.title).collect()
}

#[tokio::test]
async fn a_run_leaves_a_session_a_log_and_a_restore_point() {
    let w = world(
        FixedResolver {
            resources: vec![("user-nancy", "Nancy Davolio")],
            warnings: vec![],
        },
        manual(),
    )
    .await;
    let session = w.runner.start(w.job.id, 0).await.unwrap();
    assert_eq!(session.status, JobStatus::Running);
    assert_eq!(session.end_time, None);
    // A second start while it runs is refused.
    assert!(matches!(
        w.runner.start(w.job.id, 0).await,
        Err(CoreError::Conflict(_))
    ));
    w.runner.wait(w.job.id).await;

    let s = w.store.get_job_session(session.id).await.unwrap().unwrap();
    assert_eq!(s.status, JobStatus::Success);
    assert!(s.end_time.is_some());
    assert_eq!(s.progress, 1);
    assert_eq!(s.statistics.processed_objects, 1);
    assert!(s.statistics.transferred_data_bytes > 0);
    let t = titles(&w.store, session.id).await;
    assert!(
        t[0].starts_with("[Success] Job started at 2026-06-01T10:00:00"),
        "{t:?}"
    );
    assert!(
        t.iter()
            .any(|l| l.starts_with("[Success] Processing mailbox: Nancy Davolio (5 items")),
        "{t:?}"
    );
    assert_eq!(
        t.last().unwrap(),
        "[Success] Job finished: 1 of 1 objects processed, 0 failed"
    );

    let points = w
        .store
        .list_restore_points(&RestorePointFilter {
            job_id: Some(w.job.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(points.len(), 1);
    assert!(points[0].is_exchange);
    assert_eq!(points[0].job_session_id, Some(session.id));
    let res = w
        .store
        .list_restore_point_resources(points[0].id)
        .await
        .unwrap();
    assert_eq!(res.len(), 1);
    assert_eq!(res[0].item_count, 5);
    assert_eq!(res[0].display_name, "Nancy Davolio");
    let job = w.store.get_job(w.job.id).await.unwrap().unwrap();
    assert_eq!(job.last_status, JobStatus::Success);
    assert_eq!(job.next_run, None, "manual only");

    // The next run downloads nothing new.
    let before = w.mail.downloads();
    w.runner.start(w.job.id, 0).await.unwrap();
    w.runner.wait(w.job.id).await;
    assert_eq!(w.mail.downloads(), before);
}

#[tokio::test]
async fn a_failing_mailbox_and_an_unsupported_selection_make_a_warning_not_a_failure() {
    let w = world(
        FixedResolver {
            resources: vec![
                ("user-nancy", "Nancy Davolio"),
                ("user-broken", "Andrew Fuller"),
            ],
            warnings: vec![
                "Archive mailbox of Nancy Davolio: archive mailboxes are not backed up yet".into(),
            ],
        },
        manual(),
    )
    .await;
    w.mail.fail("m2", true);
    let session = w.runner.start(w.job.id, 0).await.unwrap();
    w.runner.wait(w.job.id).await;
    let s = w.store.get_job_session(session.id).await.unwrap().unwrap();
    assert_eq!(s.status, JobStatus::Warning);
    assert_eq!(s.progress, 2);
    let t = titles(&w.store, session.id).await;
    assert!(
        t.contains(
            &"[Warning] Archive mailbox of Nancy Davolio: archive mailboxes are not backed up yet"
                .to_string()
        ),
        "{t:?}"
    );
    assert!(
        t.iter().any(
            |l| l.starts_with("[Warning] Processing mailbox: Nancy Davolio (4 items")
                && l.contains("1 items failed")
        ),
        "{t:?}"
    );
    assert!(
        t.iter().any(
            |l| l.starts_with("[Failed] Processing mailbox: Andrew Fuller: ")
                && l.contains("ErrorAccessDenied")
        ),
        "{t:?}"
    );
    assert!(
        t.iter()
            .any(|l| l.starts_with("[Warning] Message \"Hello 2\" in /inbox")),
        "{t:?}"
    );
    let points = w
        .store
        .list_restore_points(&RestorePointFilter::default())
        .await
        .unwrap();
    let res = w
        .store
        .list_restore_point_resources(points[0].id)
        .await
        .unwrap();
    assert_eq!(
        res.iter()
            .map(|r| r.resource_id.as_str())
            .collect::<Vec<_>>(),
        ["user-nancy"]
    );
    assert_eq!(res[0].item_count, 4);
}

#[tokio::test]
async fn the_scheduler_starts_due_jobs_and_retries_failed_runs() {
    let policy = serde_json::json!({
        "type": "Periodically", "periodicallyEvery": "Minutes30",
        "retryEnabled": true, "retryNumber": 1, "retryWaitInterval": 10
    });
    let w = world(
        FixedResolver {
            resources: vec![("user-broken", "Andrew Fuller")],
            warnings: vec![],
        },
        policy,
    )
    .await;
    let scheduler = Scheduler::new(w.runner.clone());
    let first = w.job.next_run.unwrap();
    assert_eq!(first, datetime!(2026-06-01 10:30 UTC));
    assert!(scheduler
        .run_once(w.clock.now())
        .await
        .unwrap()
        .started
        .is_empty());

    w.clock.advance(std::time::Duration::from_secs(31 * 60));
    let pass = scheduler.run_once(w.clock.now()).await.unwrap();
    assert_eq!(pass.started, vec![w.job.id]);
    w.runner.wait(w.job.id).await;
    let job = w.store.get_job(w.job.id).await.unwrap().unwrap();
    assert_eq!(job.last_status, JobStatus::Failed);
    assert_eq!(job.next_run, Some(datetime!(2026-06-01 11:00 UTC)));

    // The retry waits its 10 minutes.
    w.clock.advance(std::time::Duration::from_secs(5 * 60));
    assert_eq!(
        scheduler.run_once(w.clock.now()).await.unwrap(),
        Default::default()
    );
    w.clock.advance(std::time::Duration::from_secs(6 * 60));
    let pass = scheduler.run_once(w.clock.now()).await.unwrap();
    assert_eq!(pass.retried, vec![w.job.id]);
    w.runner.wait(w.job.id).await;
    let sessions = w
        .store
        .list_job_sessions(&JobSessionQuery {
            job_id: Some(w.job.id),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(sessions.total, 2);
    assert_eq!(sessions.items[0].retry_count, 1, "newest first");
    // Retries are used up: nothing more until the next trigger.
    w.clock.advance(std::time::Duration::from_secs(11 * 60));
    assert!(scheduler
        .run_once(w.clock.now())
        .await
        .unwrap()
        .retried
        .is_empty());
}

#[tokio::test]
async fn after_a_crash_an_unfinished_session_is_failed_with_a_log_item_saying_so() {
    let w = world(
        FixedResolver {
            resources: vec![],
            warnings: vec![],
        },
        manual(),
    )
    .await;
    let orphan = JobSession {
        id: JobSessionId::new_random(),
        job_id: w.job.id,
        job_type: JobType::Backup,
        creation_time: w.clock.now(),
        end_time: None,
        status: JobStatus::Running,
        progress: 0,
        retry_count: 0,
        details: None,
        statistics: SessionStatistics::default(),
    };
    w.store.insert_job_session(&orphan).await.unwrap();
    let failed = w.runner.recover().await.unwrap();
    assert_eq!(failed, vec![orphan.id]);
    let s = w.store.get_job_session(orphan.id).await.unwrap().unwrap();
    assert_eq!(s.status, JobStatus::Failed);
    assert!(s.end_time.is_some());
    assert_eq!(
        titles(&w.store, orphan.id).await,
        vec![INTERRUPTED.to_string()]
    );
    assert_eq!(
        w.store
            .get_job(w.job.id)
            .await
            .unwrap()
            .unwrap()
            .last_status,
        JobStatus::Failed
    );
}

#[tokio::test]
async fn a_disabled_job_does_not_start() {
    let w = world(
        FixedResolver {
            resources: vec![],
            warnings: vec![],
        },
        manual(),
    )
    .await;
    let mut job = w.job.clone();
    job.is_enabled = false;
    job.revision += 1;
    assert!(w.store.update_job(&job, 1).await.unwrap());
    let err = w.runner.start(w.job.id, 0).await.unwrap_err();
    assert!(err.to_string().contains("disabled"), "{err}");
}

/// Mail whose mailboxes named `held…` wait at `gate` before their folders
/// are listed; `entered` is the order in which mailboxes started.
#[derive(Clone)]
struct Gated {
    mail: FakeMail,
    gate: Arc<Semaphore>,
    entered: Arc<watch::Sender<Vec<String>>>,
}

#[async_trait]
impl MailSource for Gated {
    async fn folders(&self, mailbox: &str) -> Result<Vec<SourceFolder>, SourceError> {
        self.entered.send_modify(|v| v.push(mailbox.to_string()));
        if mailbox.starts_with("held") {
            self.gate.acquire().await.unwrap().forget();
        }
        self.mail.folders(mailbox).await
    }

    async fn message_delta(
        &self,
        mailbox: &str,
        folder: &str,
        since: Option<&str>,
    ) -> Result<BoxStream<'static, Result<DeltaEvent<MessageChange>, SourceError>>, SourceError>
    {
        self.mail.message_delta(mailbox, folder, since).await
    }

    async fn message_mime(&self, mailbox: &str, id: &str) -> Result<ByteStream, SourceError> {
        self.mail.message_mime(mailbox, id).await
    }
}

struct GatedSources(Gated);

#[async_trait]
impl SourceProvider for GatedSources {
    async fn mail(&self, _o: OrganizationId) -> Result<Arc<dyn MailSource>, SourceError> {
        Ok(Arc::new(self.0.clone()))
    }
    async fn drives(&self, o: OrganizationId) -> Result<Arc<dyn DriveSource>, SourceError> {
        Sources(self.0.mail.clone()).drives(o).await
    }
}

/// Six held mailboxes for the job named "Mail", one quick one for any other.
struct ByJob;

#[async_trait]
impl SelectionResolver for ByJob {
    async fn resolve(
        &self,
        job: &Job,
        _s: &[JobItem],
        _e: &[JobItem],
    ) -> Result<Resolved, CoreError> {
        let ids: Vec<String> = if job.name == "Mail" {
            (1..=6).map(|i| format!("held-{i}")).collect()
        } else {
            vec!["quick".into()]
        };
        Ok(Resolved {
            resources: ids
                .into_iter()
                .map(|id| ResourceTarget {
                    kind: ResourceKind::Mailbox,
                    display_name: id.clone(),
                    address: id.clone(),
                    id,
                })
                .collect(),
            warnings: vec![],
        })
    }
}

#[tokio::test]
async fn a_job_that_fills_every_slot_does_not_starve_a_job_started_after_it() {
    let gate = Arc::new(Semaphore::new(0));
    let (entered, mut seen) = watch::channel(Vec::<String>::new());
    let entered = Arc::new(entered);
    let (g, e) = (gate.clone(), entered.clone());
    let w = world_with(
        Arc::new(ByJob),
        manual(),
        move |mail| {
            Arc::new(GatedSources(Gated {
                mail,
                gate: g,
                entered: e,
            }))
        },
        2,
    )
    .await;
    let mut second = w.job.clone();
    second.id = JobId::new_random();
    second.name = "Second".into();
    second.backup_type = BackupType::SelectedItems;
    w.store.insert_job(&second, &[], &[]).await.unwrap();

    // The six-mailbox job takes both slots and holds them.
    let big = w.runner.start(w.job.id, 0).await.unwrap();
    seen.wait_for(|v| v.len() == 2).await.unwrap();
    // The second job's one unit is at the queue once its "Processing" log
    // item is written (the runner logs a unit as it hands it over).
    let small = w.runner.start(second.id, 0).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !titles(&w.store, small.id)
        .await
        .iter()
        .any(|t| t.contains("Processing mailbox: quick"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the second job never reached the queue"
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }

    // The first slot that frees goes to the waiting job, not to the big
    // job's third mailbox.
    gate.add_permits(1);
    seen.wait_for(|v| v.len() == 3).await.unwrap();
    let started = seen.borrow().clone();
    let mut first_two = started[..2].to_vec();
    first_two.sort();
    assert_eq!(first_two, vec!["held-1", "held-2"], "{started:?}");
    assert_eq!(started[2], "quick", "order in which mailboxes started");
    w.runner.wait(second.id).await;
    let s = w.store.get_job_session(small.id).await.unwrap().unwrap();
    assert_eq!(s.status, JobStatus::Success);
    assert_eq!(s.statistics.processed_objects, 1);
    // The big job is still held: one of its mailboxes was let through.
    assert_eq!(
        w.store
            .get_job_session(big.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        JobStatus::Running
    );

    gate.add_permits(5);
    w.runner.wait(w.job.id).await;
    let s = w.store.get_job_session(big.id).await.unwrap().unwrap();
    assert_eq!(s.status, JobStatus::Success);
    assert_eq!(s.statistics.processed_objects, 6);
    let mut all = seen.borrow().clone();
    all.sort();
    assert_eq!(
        all,
        vec!["held-1", "held-2", "held-3", "held-4", "held-5", "held-6", "quick"]
    );
}
