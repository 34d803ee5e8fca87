//! `POST /v6/BackupRepositories/{id}/Sync` and `/v6/RepositorySynchronizeSessions`: the
//! restore points of the repository's records that the store lacks (those of
//! organizations added since the attach, or all of them after an attach that could not
//! read the repository) are imported at once instead of at the next clean-up pass.
//!
//! A synchronization reads every record of the repository (as the attach does), which on
//! object storage takes as long as the bucket makes it: [`RepositoryService::start_synchronization`]
//! answers at once with a running session and imports in the background; the session shows
//! the outcome when done. The last [`MAX_SESSIONS`] are kept in memory for the session
//! listing. They are not kept across a restart: what matters, whether the repository is
//! still out of sync, is on the repository itself.
//!
//! `StopSynchronize` ([`RepositoryService::stop_synchronization`]) stops an import between
//! restore points: each point is created whole or not at all, the ones created stay, and
//! the repository stays out of sync so that the next Sync imports the rest (VB365: "the
//! synchronization process will start from the moment where it has been stopped").

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use time::OffsetDateTime;
use tokio::sync::watch;
use uuid::Uuid;

use super::attach::ImportReport;
use super::service::RepositoryService;
use crate::backup::RepositoryId;
use crate::CoreError;

/// Sessions kept for `GET /v6/RepositorySynchronizeSessions`.
pub const MAX_SESSIONS: usize = 100;

/// How long `StopSynchronize` waits for the import to reach its next restore point. An
/// import checks between points (a few store writes each), so this is only reached when
/// the store itself hangs; the session then ends on its own once it can.
const STOP_WAIT: Duration = Duration::from_secs(30);

/// One synchronization (`RESTRepositorySynchronizeSession`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncSession {
    pub id: Uuid,
    pub repository_id: RepositoryId,
    pub started: OffsetDateTime,
    /// Still importing (`state` `Synchronizing`); `report`/`error` say how it ended.
    pub running: bool,
    /// What was imported; None while running or when the repository could not be read.
    pub report: Option<ImportReport>,
    /// Why it failed, for the administrator (no secret: engine messages never hold one).
    pub error: Option<String>,
}

impl SyncSession {
    /// Whether `StopSynchronize` ended it before everything was imported.
    pub fn stopped(&self) -> bool {
        self.report.as_ref().is_some_and(|r| r.stopped)
    }

    /// `progressPercent`: 0 while running, 100 once ended, except a stopped session, which
    /// shows the share of the restore points to import that it imported.
    pub fn progress_percent(&self) -> i32 {
        if self.running {
            return 0;
        }
        match &self.report {
            Some(r) if r.stopped => {
                let total = r.points.saturating_add(r.left);
                r.points
                    .saturating_mul(100)
                    .checked_div(total)
                    .map_or(0, |p| i32::try_from(p).unwrap_or(100))
            }
            _ => 100,
        }
    }
}

/// Tells an import to stop before its next restore point.
#[derive(Clone, Debug)]
pub struct StopSignal {
    asked: watch::Receiver<bool>,
    /// Keeps the channel open for a signal nobody raises (an attach, the clean-up pass):
    /// [`StopSignal::requested`] then never resolves.
    _never: Option<Arc<watch::Sender<bool>>>,
}

impl StopSignal {
    /// A signal that is never raised.
    pub fn never() -> Self {
        let (tx, asked) = watch::channel(false);
        Self {
            asked,
            _never: Some(Arc::new(tx)),
        }
    }

    /// Whether the stop was asked.
    pub fn is_requested(&self) -> bool {
        *self.asked.borrow()
    }

    /// Resolves once the stop is asked.
    pub async fn requested(&self) {
        let mut asked = self.asked.clone();
        // An error means the asking side is gone: nobody can ask any more.
        if asked.wait_for(|a| *a).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Where an import is: about to create restore point `done` (0-based) of `total`.
#[derive(Clone, Debug)]
pub struct ImportStep {
    pub repository_id: RepositoryId,
    pub done: usize,
    pub total: usize,
    pub stop: StopSignal,
}

/// A hook awaited before each restore point an import creates: lets a test hold an import
/// at a known point (no sleeping); production installs none.
pub type ImportGate = Arc<dyn Fn(ImportStep) -> BoxFuture<'static, ()> + Send + Sync>;

/// How a running session is stopped and its end awaited.
struct Control {
    stop: watch::Sender<bool>,
    ended: watch::Receiver<bool>,
}

/// The kept sessions, how to stop the running ones, and the test gate.
#[derive(Default)]
pub(super) struct SyncState {
    kept: VecDeque<SyncSession>,
    running: HashMap<Uuid, Control>,
    gate: Option<ImportGate>,
}

impl RepositoryService {
    /// Synchronizes repository `id` now and returns the finished session (or, if one of
    /// `id` is running already, that one as it is). NotFound for an unknown repository; a
    /// repository that cannot be read gives a failed session (with the reason), as v6
    /// reports it.
    pub async fn synchronize_repository(&self, id: RepositoryId) -> Result<SyncSession, CoreError> {
        match self.begin_session(id).await? {
            Begun::Fresh(session, stop, ended) => Ok(self.run_session(session, stop, ended).await),
            Begun::Running(running) => Ok(running),
        }
    }

    /// Starts synchronizing repository `id` in the background and returns its session at
    /// once, running. A synchronization of `id` already running is returned instead of a
    /// second one (two imports of one repository at once would read it twice for nothing).
    pub async fn start_synchronization(&self, id: RepositoryId) -> Result<SyncSession, CoreError> {
        match self.begin_session(id).await? {
            Begun::Fresh(session, stop, ended) => {
                let service = self.clone();
                let background = session.clone();
                tokio::spawn(async move {
                    service.run_session(background, stop, ended).await;
                });
                Ok(session)
            }
            Begun::Running(running) => Ok(running),
        }
    }

    /// `StopSynchronize`: asks the import of session `id` to stop before its next restore
    /// point and waits (bounded) for it to end; the session as it is then. An ended session
    /// is left as it is (stopping twice is harmless). NotFound for an unknown session.
    pub async fn stop_synchronization(&self, id: Uuid) -> Result<SyncSession, CoreError> {
        let ended = {
            let state = self.sync_state()?;
            if !state.kept.iter().any(|s| s.id == id) {
                return Err(not_found(id));
            }
            state.running.get(&id).map(|c| {
                c.stop.send_replace(true);
                c.ended.clone()
            })
        };
        if let Some(ended) = ended {
            wait_ended(ended).await;
        }
        self.sync_session(id)
    }

    /// Waits (bounded) until session `id` is no longer running, and returns it.
    pub async fn wait_synchronization(&self, id: Uuid) -> Result<SyncSession, CoreError> {
        let ended = self.sync_state()?.running.get(&id).map(|c| c.ended.clone());
        if let Some(ended) = ended {
            wait_ended(ended).await;
        }
        self.sync_session(id)
    }

    /// Installs the hook every import awaits before each restore point it creates (see
    /// [`ImportGate`]); for tests, which hold an import at a known point with it.
    #[doc(hidden)]
    pub fn set_import_gate(&self, gate: Option<ImportGate>) {
        if let Ok(mut state) = self.sync_sessions.lock() {
            state.gate = gate;
        }
    }

    pub(super) fn import_gate(&self) -> Option<ImportGate> {
        self.sync_sessions.lock().ok().and_then(|s| s.gate.clone())
    }

    fn sync_state(&self) -> Result<std::sync::MutexGuard<'_, SyncState>, CoreError> {
        self.sync_sessions
            .lock()
            .map_err(|_| CoreError::Internal("the synchronization sessions are unusable".into()))
    }

    /// The new running session of `id` (listed from now on), or the one already running.
    async fn begin_session(&self, id: RepositoryId) -> Result<Begun, CoreError> {
        self.repository_record(id).await?;
        let mut state = self.sync_state()?;
        if let Some(running) = state
            .kept
            .iter()
            .find(|s| s.repository_id == id && s.running)
        {
            return Ok(Begun::Running(running.clone()));
        }
        let session = SyncSession {
            id: Uuid::new_v4(),
            repository_id: id,
            started: self.clock.now(),
            running: true,
            report: None,
            error: None,
        };
        if state.kept.len() >= MAX_SESSIONS {
            // The oldest finished one goes; running ones stay until they end.
            if let Some(at) = state.kept.iter().position(|s| !s.running) {
                state.kept.remove(at);
            }
        }
        state.kept.push_back(session.clone());
        let (stop_tx, asked) = watch::channel(false);
        let (ended_tx, ended) = watch::channel(false);
        state.running.insert(
            session.id,
            Control {
                stop: stop_tx,
                ended,
            },
        );
        let stop = StopSignal {
            asked,
            _never: None,
        };
        Ok(Begun::Fresh(session, stop, ended_tx))
    }

    /// Imports, then records the outcome on the session and returns it. A repository
    /// removed meanwhile ends as a failed session saying so.
    async fn run_session(
        &self,
        mut session: SyncSession,
        stop: StopSignal,
        ended: watch::Sender<bool>,
    ) -> SyncSession {
        let done = self.synchronize(session.repository_id, &stop).await;
        self.remember_tried_import(session.repository_id).await;
        session.running = false;
        match done {
            Ok(report) => {
                if report.stopped {
                    tracing::info!(repository = %session.repository_id, imported = report.points, left = report.left, "repository synchronization stopped");
                }
                session.report = Some(report);
            }
            Err(e) => {
                tracing::warn!(repository = %session.repository_id, error = %e, "repository synchronization failed");
                session.error = Some(e.to_string());
            }
        }
        if let Ok(mut state) = self.sync_sessions.lock() {
            if let Some(slot) = state.kept.iter_mut().find(|s| s.id == session.id) {
                *slot = session.clone();
            }
            state.running.remove(&session.id);
        }
        // After the session shows its end, so that a waiter reads the final state.
        ended.send_replace(true);
        session
    }

    /// The synchronizations since start (the last [`MAX_SESSIONS`]), oldest first.
    pub fn sync_sessions(&self) -> Vec<SyncSession> {
        match self.sync_sessions.lock() {
            Ok(state) => state.kept.iter().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    pub fn sync_session(&self, id: Uuid) -> Result<SyncSession, CoreError> {
        self.sync_sessions()
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| not_found(id))
    }
}

enum Begun {
    Fresh(SyncSession, StopSignal, watch::Sender<bool>),
    Running(SyncSession),
}

fn not_found(id: Uuid) -> CoreError {
    CoreError::NotFound(format!(
        "there is no repository synchronization session with id {id}"
    ))
}

async fn wait_ended(mut ended: watch::Receiver<bool>) {
    // Err: the session's task is gone without saying so (it panicked); nothing to wait for.
    let _ = tokio::time::timeout(STOP_WAIT, ended.wait_for(|e| *e)).await;
}

pub(super) type Sessions = std::sync::Mutex<SyncState>;
