//! One run of a job: a session with a log. The job's selection is resolved
//! into resources (warnings for what openvbo cannot back up yet), each
//! resource is handed to the [`WorkQueue`] as a unit of work, and the
//! session, its statistics, its log and the restore point follow the units
//! as they finish.
//!
//! A failing resource never stops the others; the session ends `Warning`
//! when some items or resources failed, `Failed` when nothing could be
//! backed up, `Stopped` when asked to stop (what finished is kept).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::StreamExt;
use time::OffsetDateTime;
use tokio::task::JoinHandle;

use super::policy::stored_schedule;
use super::work::{
    ResourceTarget, UnitControl, UnitEvents, UnitOfWork, UnitOrigin, UnitReport, UnitStatus,
    WorkQueue,
};
use crate::backup::{
    Job, JobId, JobItem, JobItemList, JobSession, JobSessionId, JobStatus, JobType, LogItemId,
    NewLogItem, ResourceKind, RestorePoint, RestorePointId, RestorePointResource,
    SessionStatistics,
};
use crate::clock::SharedClock;
use crate::error::CoreError;
use crate::store::Store;

/// The title of the log item a session gets when the server stopped under it.
pub const INTERRUPTED: &str =
    "[Failed] Job session was interrupted: the server stopped while it was running";

/// Failures listed one per log item; the rest are counted.
const LISTED_FAILURES: usize = 20;

/// A job's selection as resources to back up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    pub resources: Vec<ResourceTarget>,
    /// What was selected but cannot be backed up yet (archive mailboxes,
    /// group conversations, Teams posts…): one log warning each.
    pub warnings: Vec<String>,
}

/// Turns a job's lists into resources (the port onto discovery).
#[async_trait]
pub trait SelectionResolver: Send + Sync + 'static {
    async fn resolve(
        &self,
        job: &Job,
        selected: &[JobItem],
        excluded: &[JobItem],
    ) -> Result<Resolved, CoreError>;
}

/// Why a session is asked to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    User,
    WindowClosed,
}

struct Running {
    session: JobSessionId,
    stop: Arc<AtomicBool>,
    reason: Arc<Mutex<Option<StopReason>>>,
    handle: Option<JoinHandle<()>>,
}

/// Starts, stops and runs sessions. One per process.
pub struct JobRunner {
    store: Arc<dyn Store>,
    queue: Arc<dyn WorkQueue>,
    resolver: Arc<dyn SelectionResolver>,
    clock: SharedClock,
    running: Mutex<HashMap<JobId, Running>>,
    /// Units of one session handed to the queue at once: every slot the
    /// queue has (`WorkQueue::slots`), so that one job alone uses the whole
    /// machine; a fixed number would leave the slots of a machine with more
    /// cores idle. Each mailbox has its own budget at Microsoft (4 requests
    /// in flight), so a unit more is a mailbox more at full speed. On the
    /// benchmark's 2-core machine the in-process queue has 4 slots, as the
    /// fixed 4 before, so its numbers cannot tell the two apart. Another
    /// job is not starved: no unit of a session waits at the queue beyond
    /// those holding a slot, and the queue hands freed slots out first come,
    /// first served, so a job that starts later gets the next slot that
    /// frees (test `a_job_that_fills_every_slot_does_not_starve_a_job_started_after_it`).
    pub per_session: usize,
}

/// Live counters of a session, fed by its units.
#[derive(Default)]
struct Live {
    items: AtomicU64,
    bytes: AtomicU64,
}

impl UnitEvents for Live {
    fn item_stored(&self, bytes: u64) {
        self.items.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }
}

fn kind_label(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Mailbox => "mailbox",
        ResourceKind::ArchiveMailbox => "archive mailbox",
        ResourceKind::OneDrive => "OneDrive",
        ResourceKind::Site => "site",
        ResourceKind::Team => "team",
    }
}

/// `1.2 MB`, as a log line shows sizes.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS.get(u).unwrap_or(&"TB"))
    }
}

impl JobRunner {
    pub fn new(
        store: Arc<dyn Store>,
        queue: Arc<dyn WorkQueue>,
        resolver: Arc<dyn SelectionResolver>,
        clock: SharedClock,
    ) -> Arc<Self> {
        Arc::new(JobRunner {
            store,
            resolver,
            clock,
            running: Mutex::new(HashMap::new()),
            per_session: queue.slots().max(1),
            queue,
        })
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The session of `job` running in this process, if any.
    pub fn running_session(&self, job: JobId) -> Option<JobSessionId> {
        self.running.lock().ok()?.get(&job).map(|r| r.session)
    }

    /// At start-up, before anything runs: sessions a crash left Running end
    /// `Failed` with a log item saying they were interrupted.
    pub async fn recover(&self) -> Result<Vec<JobSessionId>, CoreError> {
        let now = self.clock.now();
        let failed = self
            .store
            .fail_unfinished_sessions(now, INTERRUPTED)
            .await?;
        for id in &failed {
            if let Some(s) = self.store.get_job_session(*id).await? {
                if let Some(job) = self.store.get_job(s.job_id).await? {
                    let next = next_run(&job, now);
                    self.store
                        .record_job_run(job.id, Some(s.creation_time), JobStatus::Failed, next)
                        .await?;
                }
            }
        }
        Ok(failed)
    }

    /// Starts a session of `job` now; refuses a disabled job or one already
    /// running. Returns the session as stored (Running).
    pub async fn start(
        self: &Arc<Self>,
        job_id: JobId,
        retry_count: i32,
    ) -> Result<JobSession, CoreError> {
        let job = self
            .store
            .get_job(job_id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("There is no job {job_id}.")))?;
        if !job.is_enabled {
            return Err(CoreError::Conflict(format!(
                "The job \"{}\" is disabled; enable it before starting it.",
                job.name
            )));
        }
        let now = self.clock.now();
        let session = JobSession {
            id: JobSessionId::new_random(),
            job_id,
            job_type: JobType::Backup,
            creation_time: now,
            end_time: None,
            status: JobStatus::Running,
            progress: 0,
            retry_count,
            details: None,
            statistics: SessionStatistics::default(),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let reason = Arc::new(Mutex::new(None));
        {
            let mut running = self.running.lock().map_err(|_| poisoned())?;
            if running.contains_key(&job_id) {
                return Err(already_running(&job));
            }
            running.insert(
                job_id,
                Running {
                    session: session.id,
                    stop: stop.clone(),
                    reason: reason.clone(),
                    handle: None,
                },
            );
        }
        // The store decides atomically too (another server, a crash left one).
        if let Err(e) = self.store.insert_job_session(&session).await {
            self.forget(job_id);
            return Err(match e.kind() {
                crate::store::StoreErrorKind::Conflict => already_running(&job),
                _ => e.into(),
            });
        }
        if let Err(e) = self
            .store
            .record_job_run(job_id, Some(now), JobStatus::Running, job.next_run)
            .await
        {
            tracing::warn!(error = %e, "could not record the job's run");
        }
        let me = self.clone();
        let run_session = session.clone();
        let handle = tokio::spawn(async move {
            me.run(job, run_session, stop, reason).await;
            me.forget(job_id);
        });
        if let Ok(mut running) = self.running.lock() {
            if let Some(r) = running.get_mut(&job_id) {
                r.handle = Some(handle);
            }
        }
        Ok(session)
    }

    /// Asks the running session of `job` to stop; false if none runs here.
    pub fn stop(&self, job: JobId, why: StopReason) -> bool {
        let Ok(running) = self.running.lock() else {
            return false;
        };
        match running.get(&job) {
            Some(r) => {
                if let Ok(mut reason) = r.reason.lock() {
                    reason.get_or_insert(why);
                }
                r.stop.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Waits until the session of `job` running here (if any) has ended.
    pub async fn wait(&self, job: JobId) {
        let handle = self
            .running
            .lock()
            .ok()
            .and_then(|mut r| r.get_mut(&job).and_then(|r| r.handle.take()));
        if let Some(h) = handle {
            let _ = h.await;
        }
    }

    fn forget(&self, job: JobId) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(&job);
        }
    }

    async fn log(&self, session: JobSessionId, title: String, ended: bool) -> Option<LogItemId> {
        let now = self.clock.now();
        let item = NewLogItem {
            id: LogItemId::new_random(),
            title,
            creation_time: now,
            end_time: ended.then_some(now),
        };
        match self.store.append_log_item(session, &item).await {
            Ok(Some(li)) => Some(li.id),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "could not append to a session's log");
                None
            }
        }
    }

    async fn run(
        &self,
        job: Job,
        mut session: JobSession,
        stop: Arc<AtomicBool>,
        reason: Arc<Mutex<Option<StopReason>>>,
    ) {
        let started = self.clock.now();
        self.log(
            session.id,
            format!("[Success] Job started at {}", wire_time(started)),
            true,
        )
        .await;
        let outcome = self.run_units(&job, &mut session, &stop).await;
        let now = self.clock.now();
        let stopped = stop.load(Ordering::SeqCst);
        let status = match outcome {
            Err(e) => {
                self.log(session.id, format!("[Failed] {e}"), true).await;
                JobStatus::Failed
            }
            Ok(_) if stopped => {
                let why = reason
                    .lock()
                    .ok()
                    .and_then(|r| *r)
                    .unwrap_or(StopReason::User);
                let text = match why {
                    StopReason::User => {
                        "[Warning] Job was stopped by the user; what finished is kept"
                    }
                    StopReason::WindowClosed => {
                        "[Warning] The backup window closed; the job continues in the next window"
                    }
                };
                self.log(session.id, text.to_string(), true).await;
                JobStatus::Stopped
            }
            Ok(tally) => {
                let status = if tally.total > 0 && tally.failed == tally.total {
                    JobStatus::Failed
                } else if tally.failed > 0 || tally.warnings > 0 {
                    JobStatus::Warning
                } else {
                    JobStatus::Success
                };
                let prefix = match status {
                    JobStatus::Success => "[Success]",
                    JobStatus::Warning => "[Warning]",
                    _ => "[Failed]",
                };
                self.log(
                    session.id,
                    format!(
                        "{prefix} Job finished: {} of {} objects processed, {} failed",
                        tally.total - tally.failed,
                        tally.total,
                        tally.failed
                    ),
                    true,
                )
                .await;
                status
            }
        };
        session.status = status;
        session.end_time = Some(now);
        let next = if reason.lock().ok().and_then(|r| *r) == Some(StopReason::WindowClosed) {
            let schedule = stored_schedule(&job.schedule_policy);
            schedule
                .backup_window
                .as_ref()
                .map(|w| w.next_open(now))
                .or_else(|| next_run(&job, now))
        } else {
            self.store
                .get_job(job.id)
                .await
                .ok()
                .flatten()
                .and_then(|j| next_run(&j, now))
        };
        // The job's result first, the session's end last: a client that
        // sees the session ended (the usual poll) then finds the job's
        // lastStatus and nextRun already current.
        if let Err(e) = self
            .store
            .record_job_run(job.id, Some(session.creation_time), status, next)
            .await
        {
            tracing::warn!(error = %e, "could not record the job's run");
        }
        if let Err(e) = self.store.update_job_session(&session).await {
            tracing::warn!(error = %e, "could not end a session");
        }
    }

    async fn run_units(
        &self,
        job: &Job,
        session: &mut JobSession,
        stop: &Arc<AtomicBool>,
    ) -> Result<Tally, CoreError> {
        let selected = self
            .store
            .list_job_items(job.id, JobItemList::Selected)
            .await?;
        let excluded = self
            .store
            .list_job_items(job.id, JobItemList::Excluded)
            .await?;
        let resolved = self.resolver.resolve(job, &selected, &excluded).await?;
        for w in &resolved.warnings {
            self.log(session.id, format!("[Warning] {w}"), true).await;
        }
        let live = Arc::new(Live::default());
        let mut tally = Tally {
            total: resolved.resources.len() as u64,
            warnings: resolved.warnings.len() as u64,
            ..Tally::default()
        };
        let mut point: Option<RestorePoint> = None;
        let sid = session.id;
        // Recorded beside the data, so that the repository alone tells a new
        // server which job run and tenant each restore point belongs to.
        let origin = UnitOrigin {
            job_id: Some(job.id),
            job_session_id: Some(session.id),
            backup_time: Some(session.creation_time),
            tenant_id: self
                .store
                .get_organization(job.organization_id)
                .await
                .ok()
                .flatten()
                .map(|o| o.tenant_id),
        };
        let unit_live = live.clone();
        // Only the recording side writes to the store: the units tell it when
        // they start (it writes their "Processing …" log item) and when they
        // end (it records the result). A unit that wrote itself could be
        // handed the store's one write connection and then not be polled
        // while the recording side waited for that connection (a deadlock
        // that failed sessions of more resources than run at once after
        // 30 s). The channel is unbounded so that the units never wait on the
        // recording side; the units themselves are bounded by `per_session`.
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
        let started_tx = done_tx.clone();
        let units = resolved
            .resources
            .into_iter()
            .enumerate()
            .map(move |(index, resource)| {
                let unit = UnitOfWork {
                    organization_id: job.organization_id,
                    repository_id: job.repository_id,
                    resource,
                    previous: None,
                    origin: origin.clone(),
                };
                let control = UnitControl::with_stop(stop.clone(), unit_live.clone());
                let started_tx = started_tx.clone();
                async move {
                    let label = format!(
                        "Processing {}: {}",
                        kind_label(unit.resource.kind),
                        unit.resource.display_name
                    );
                    // A closed channel means the recording side failed; the unit
                    // still runs to its end so that the queue's slot is released.
                    let _ = started_tx.send(UnitProgress::Started { index, label });
                    let report = self.queue.run(unit.clone(), control).await;
                    UnitProgress::Finished {
                        index,
                        unit,
                        report: Box::new(report),
                    }
                }
            });
        let produce = async move {
            let mut results =
                futures::stream::iter(units).buffer_unordered(self.per_session.max(1));
            while let Some(finished) = results.next().await {
                if done_tx.send(finished).is_err() {
                    break;
                }
            }
            Ok::<(), CoreError>(())
        };
        let record = async {
            let mut labels: HashMap<usize, (String, Option<LogItemId>)> = HashMap::new();
            while let Some(progress) = done_rx.recv().await {
                match progress {
                    UnitProgress::Started { index, label } => {
                        let log_id = self.log(sid, label.clone(), false).await;
                        labels.insert(index, (label, log_id));
                    }
                    UnitProgress::Finished {
                        index,
                        unit,
                        report,
                    } => {
                        let (label, log_id) = labels.remove(&index).unwrap_or_else(|| {
                            (
                                format!(
                                    "Processing {}: {}",
                                    kind_label(unit.resource.kind),
                                    unit.resource.display_name
                                ),
                                None,
                            )
                        });
                        self.record_unit(
                            job, session, &live, &mut tally, &mut point, unit, label, log_id,
                            *report,
                        )
                        .await?;
                    }
                }
            }
            Ok::<Tally, CoreError>(tally)
        };
        // A failed recording ends the session at once (the units still
        // running are dropped, as a stop would leave them: checkpointed).
        let ((), tally) = tokio::try_join!(produce, record)?;
        Ok(tally)
    }

    /// Records one finished unit: the restore point (created with the
    /// first resource), the resource, the log and the statistics.
    #[allow(clippy::too_many_arguments)]
    async fn record_unit(
        &self,
        job: &Job,
        session: &mut JobSession,
        live: &Live,
        tally: &mut Tally,
        point: &mut Option<RestorePoint>,
        unit: UnitOfWork,
        label: String,
        log_id: Option<LogItemId>,
        report: UnitReport,
    ) -> Result<(), CoreError> {
        {
            session.progress += 1;
            if report.point.is_some() {
                if point.is_none() {
                    let p = RestorePoint {
                        id: RestorePointId::new_random(),
                        repository_id: job.repository_id,
                        job_id: job.id,
                        job_session_id: Some(session.id),
                        organization_id: job.organization_id,
                        backup_time: session.creation_time,
                        is_exchange: false,
                        is_sharepoint: false,
                        is_onedrive: false,
                        is_teams: false,
                        is_long_term_copy: false,
                        is_retrieved: false,
                        retrieval_id: None,
                    };
                    self.store.insert_restore_point(&p).await?;
                    *point = Some(p);
                }
                if let (Some(p), Some(engine_point)) = (&*point, &report.point) {
                    self.store
                        .add_restore_point_resource(&RestorePointResource {
                            restore_point_id: p.id,
                            kind: unit.resource.kind,
                            resource_id: unit.resource.id.clone(),
                            display_name: unit.resource.display_name.clone(),
                            address: unit.resource.address.clone(),
                            item_count: i64::try_from(report.item_count).unwrap_or(i64::MAX),
                            size_bytes: i64::try_from(report.size_bytes).unwrap_or(i64::MAX),
                            record: engine_point.as_bytes().to_vec(),
                        })
                        .await?;
                }
            }
            self.finish_unit(session, &label, log_id, &report, tally)
                .await;
            let elapsed = (self.clock.now() - session.creation_time)
                .whole_seconds()
                .max(1);
            let s = &mut session.statistics;
            let read = i64::try_from(live.bytes.load(Ordering::Relaxed)).unwrap_or(i64::MAX);
            s.processed_objects = session.progress;
            s.transferred_data_bytes += i64::try_from(report.transferred_bytes).unwrap_or(0);
            s.read_rate_bytes_ps = read / elapsed;
            s.write_rate_bytes_ps = s.transferred_data_bytes / elapsed;
            s.processing_rate_bytes_ps = read / elapsed;
            s.processing_rate_items_ps =
                i64::try_from(live.items.load(Ordering::Relaxed)).unwrap_or(0) / elapsed;
            s.bottleneck = crate::backup::Bottleneck::Source;
            if let Err(e) = self.store.update_job_session(session).await {
                tracing::warn!(error = %e, "could not update a session's progress");
            }
        }
        Ok(())
    }

    async fn finish_unit(
        &self,
        session: &JobSession,
        label: &str,
        log_id: Option<LogItemId>,
        report: &UnitReport,
        tally: &mut Tally,
    ) {
        let summary = format!(
            "{} items, {} read",
            report.downloaded_items,
            human_bytes(report.downloaded_bytes)
        );
        let title = match report.status {
            UnitStatus::Success => format!("[Success] {label} ({summary})"),
            UnitStatus::Warning => {
                tally.warnings += 1;
                format!(
                    "[Warning] {label} ({summary}; {} items failed)",
                    report.failures.len()
                )
            }
            UnitStatus::Stopped => format!("[Warning] {label}: stopped ({summary} kept)"),
            UnitStatus::Failed => {
                tally.failed += 1;
                format!(
                    "[Failed] {label}: {}",
                    report.error.as_deref().unwrap_or("the backup failed")
                )
            }
        };
        let now = self.clock.now();
        match log_id {
            Some(id) => {
                if let Err(e) = self
                    .store
                    .update_log_item(session.id, id, &title, Some(now))
                    .await
                {
                    tracing::warn!(error = %e, "could not update a log item");
                }
            }
            None => {
                self.log(session.id, title, true).await;
            }
        }
        for f in report.failures.iter().take(LISTED_FAILURES) {
            self.log(session.id, format!("[Warning] {f}"), true).await;
        }
        if report.failures.len() > LISTED_FAILURES {
            self.log(
                session.id,
                format!(
                    "[Warning] … and {} more items failed",
                    report.failures.len() - LISTED_FAILURES
                ),
                true,
            )
            .await;
        }
    }
}

#[derive(Default)]
struct Tally {
    total: u64,
    failed: u64,
    warnings: u64,
}

/// When the job runs next by its schedule (None when disabled or manual).
pub fn next_run(job: &Job, after: OffsetDateTime) -> Option<OffsetDateTime> {
    if !job.is_enabled {
        return None;
    }
    stored_schedule(&job.schedule_policy).next_run(after)
}

fn wire_time(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn already_running(job: &Job) -> CoreError {
    CoreError::Conflict(format!("The job \"{}\" is already running.", job.name))
}

fn poisoned() -> CoreError {
    CoreError::Internal("the job runner's state is unusable".into())
}

/// What a running unit tells the side of a session that records it.
enum UnitProgress {
    Started {
        index: usize,
        label: String,
    },
    Finished {
        index: usize,
        unit: UnitOfWork,
        report: Box<UnitReport>,
    },
}
