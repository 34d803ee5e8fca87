//! `POST /v6/BackupRepositories/{id}/Sync` and `/v6/RepositorySynchronizeSessions`: the
//! restore points of the repository's records that the store lacks (those of
//! organizations added since the attach, or all of them after an attach that could not
//! read the repository) are imported at once instead of at the next clean-up pass.
//!
//! A synchronization runs within the request (it reads the repository's records, as the
//! attach does), so a session is finished when it is returned; the last
//! [`MAX_SESSIONS`] are kept in memory for the session listing. They are not kept across
//! a restart: what matters, whether the repository is still out of sync, is on the
//! repository itself.

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
    /// What was imported; None when the repository could not be read.
    pub report: Option<ImportReport>,
    /// Why it failed, for the administrator (no secret: engine messages never hold one).
    pub error: Option<String>,
}

impl RepositoryService {
    /// Synchronizes repository `id` now. NotFound for an unknown repository; a repository
    /// that cannot be read gives a failed session (with the reason), as v6 reports it.
    pub async fn synchronize_repository(&self, id: RepositoryId) -> Result<SyncSession, CoreError> {
        self.repository_record(id).await?;
        let started = self.clock.now();
        let done = self.synchronize(id).await;
        self.remember_tried_import(id).await;
        let session = match done {
            Ok(report) => SyncSession {
                id: Uuid::new_v4(),
                repository_id: id,
                started,
                report: Some(report),
                error: None,
            },
            // Removed meanwhile: as if it had not been there.
            Err(CoreError::NotFound(m)) => return Err(CoreError::NotFound(m)),
            Err(e) => SyncSession {
                id: Uuid::new_v4(),
                repository_id: id,
                started,
                report: None,
                error: Some(e.to_string()),
            },
        };
        if let Ok(mut kept) = self.sync_sessions.lock() {
            if kept.len() >= MAX_SESSIONS {
                kept.pop_front();
            }
            kept.push_back(session.clone());
        }
        Ok(session)
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
