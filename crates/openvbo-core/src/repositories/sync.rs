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

use std::collections::VecDeque;

use time::OffsetDateTime;
use uuid::Uuid;

use super::attach::ImportReport;
use super::service::RepositoryService;
use crate::backup::RepositoryId;
use crate::CoreError;

/// Sessions kept for `GET /v6/RepositorySynchronizeSessions`.
pub const MAX_SESSIONS: usize = 100;

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

impl RepositoryService {
    /// Synchronizes repository `id` now and returns the finished session (or, if one of
    /// `id` is running already, that one as it is). NotFound for an unknown repository; a
    /// repository that cannot be read gives a failed session (with the reason), as v6
    /// reports it.
    pub async fn synchronize_repository(&self, id: RepositoryId) -> Result<SyncSession, CoreError> {
        match self.begin_session(id).await? {
            (session, true) => Ok(self.run_session(session).await),
            (running, false) => Ok(running),
        }
    }

    /// Starts synchronizing repository `id` in the background and returns its session at
    /// once, running. A synchronization of `id` already running is returned instead of a
    /// second one (two imports of one repository at once would read it twice for nothing).
    pub async fn start_synchronization(&self, id: RepositoryId) -> Result<SyncSession, CoreError> {
        let (session, fresh) = self.begin_session(id).await?;
        if fresh {
            let service = self.clone();
            let background = session.clone();
            tokio::spawn(async move {
                service.run_session(background).await;
            });
        }
        Ok(session)
    }

    /// The new running session of `id` (listed from now on) and true, or the one already
    /// running and false.
    async fn begin_session(&self, id: RepositoryId) -> Result<(SyncSession, bool), CoreError> {
        self.repository_record(id).await?;
        let mut kept = self
            .sync_sessions
            .lock()
            .map_err(|_| CoreError::Internal("the synchronization sessions are unusable".into()))?;
        if let Some(running) = kept.iter().find(|s| s.repository_id == id && s.running) {
            return Ok((running.clone(), false));
        }
        let session = SyncSession {
            id: Uuid::new_v4(),
            repository_id: id,
            started: self.clock.now(),
            running: true,
            report: None,
            error: None,
        };
        if kept.len() >= MAX_SESSIONS {
            // The oldest finished one goes; running ones stay until they end.
            if let Some(at) = kept.iter().position(|s| !s.running) {
                kept.remove(at);
            }
        }
        kept.push_back(session.clone());
        Ok((session, true))
    }

    /// Imports, then records the outcome on the session and returns it. A repository
    /// removed meanwhile ends as a failed session saying so.
    async fn run_session(&self, mut session: SyncSession) -> SyncSession {
        let done = self.synchronize(session.repository_id).await;
        self.remember_tried_import(session.repository_id).await;
        session.running = false;
        match done {
            Ok(report) => session.report = Some(report),
            Err(e) => {
                tracing::warn!(repository = %session.repository_id, error = %e, "repository synchronization failed");
                session.error = Some(e.to_string());
            }
        }
        if let Ok(mut kept) = self.sync_sessions.lock() {
            if let Some(slot) = kept.iter_mut().find(|s| s.id == session.id) {
                *slot = session.clone();
            }
        }
        session
    }

    /// The synchronizations since start (the last [`MAX_SESSIONS`]), oldest first.
    pub fn sync_sessions(&self) -> Vec<SyncSession> {
        match self.sync_sessions.lock() {
            Ok(kept) => kept.iter().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    pub fn sync_session(&self, id: Uuid) -> Result<SyncSession, CoreError> {
        self.sync_sessions()
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| {
                CoreError::NotFound(format!(
                    "there is no repository synchronization session with id {id}"
                ))
            })
    }
}

pub(super) type Sessions = std::sync::Mutex<VecDeque<SyncSession>>;
