//! Writer sessions: `sessions/<id>` says "a backup is running and may reference any blob it
//! has seen". Maintenance waits for every session that was alive when it marked packs for
//! deletion before it deletes them, and a live session of another server refuses a writer.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, RepoError, Result};
use crate::repo::{Repository, SESSIONS_PREFIX};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SessionInfo {
    pub holder: String,
    pub started_ms: i64,
    pub refreshed_ms: i64,
}

pub(crate) struct Session {
    pub(crate) name: String,
    pub(crate) info: SessionInfo,
}

impl Repository {
    /// Every session object with its contents (unreadable ones count as live, to be safe).
    pub(crate) async fn list_sessions(&self) -> Result<Vec<(String, Option<SessionInfo>)>> {
        let mut out = Vec::new();
        for o in self.inner.backend.list(SESSIONS_PREFIX).await? {
            match self.inner.backend.get(&o.name).await {
                Ok(b) => out.push((o.name, serde_json::from_slice(&b).ok())),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    pub(crate) fn session_live(&self, info: &Option<SessionInfo>) -> bool {
        let ttl = self.inner.opts.session_ttl.as_millis() as i64;
        match info {
            Some(i) => i.refreshed_ms + ttl > self.now_ms(),
            None => true,
        }
    }

    /// Refuses when another server's session is live; then registers ours.
    pub(crate) async fn start_session(&self) -> Result<Session> {
        let holder = &self.inner.opts.holder;
        for (name, info) in self.list_sessions().await? {
            if let Some(i) = &info {
                if &i.holder != holder && self.session_live(&info) {
                    return Err(RepoError::new(
                        ErrorKind::Locked,
                        format!(
                            "the repository is being written by another server ({:?}, session {}); \
                             only one server may write to a repository",
                            i.holder,
                            name.trim_start_matches(SESSIONS_PREFIX)
                        ),
                    ));
                }
            }
        }
        let now = self.now_ms();
        let s = Session {
            name: format!(
                "{SESSIONS_PREFIX}{}",
                hex::encode(rand::random::<[u8; 8]>())
            ),
            info: SessionInfo {
                holder: holder.clone(),
                started_ms: now,
                refreshed_ms: now,
            },
        };
        self.write_session(&s).await?;
        Ok(s)
    }

    pub(crate) async fn write_session(&self, s: &Session) -> Result<()> {
        let data = serde_json::to_vec(&s.info)
            .map_err(|e| RepoError::with_source(ErrorKind::Storage, "encoding session", e))?;
        self.put(&s.name, Bytes::from(data), false).await
    }

    pub(crate) async fn end_session(&self, s: &Session) -> Result<()> {
        self.inner.backend.delete(&s.name).await
    }
}
