//! Writer sessions: `sessions/<id>` says "a backup is running and may reference any blob it
//! has seen". Maintenance waits for every session that was alive when it marked packs for
//! deletion before it deletes them, and a live session of another server refuses a writer.
//!
//! Writers of one process that start close together share one session object (counted in
//! memory): a resource's backup then costs no session PUT of its own, which matters on
//! object storage where twenty small resources would otherwise write twenty. A writer joins
//! the current session only while it is younger than an eighth of the TTL, so a joiner gets
//! almost a whole TTL of life, and sessions turn over: maintenance waiting for one never
//! waits on writers that started long after its mark. A writer dropped without `commit` or
//! `abort` (a cancelled task) stays counted: its session's object then lingers until the TTL
//! makes it stale, as a crashed writer's does, and maintenance removes it.

use std::collections::HashMap;

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

/// A writer's handle on the session it belongs to.
pub(crate) struct Session {
    pub(crate) name: String,
}

/// This process's sessions: their contents as last written and how many writers hold each.
#[derive(Default)]
pub(crate) struct LocalSessions {
    current: Option<String>,
    live: HashMap<String, (SessionInfo, usize)>,
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

    /// Refuses when another server's session is live; then joins this process's current
    /// session if it is young enough, or registers a new one.
    pub(crate) async fn start_session(&self) -> Result<Session> {
        let mut local = self.inner.sessions.lock().await;
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
        let join_within = self.inner.opts.session_ttl.as_millis() as i64 / 8;
        let LocalSessions { current, live } = &mut *local;
        if let Some(name) = current.clone() {
            if let Some((info, holders)) = live.get_mut(&name) {
                if now - info.started_ms < join_within {
                    *holders += 1;
                    return Ok(Session { name });
                }
            }
        }
        let name = format!(
            "{SESSIONS_PREFIX}{}",
            hex::encode(rand::random::<[u8; 8]>())
        );
        let info = SessionInfo {
            holder: holder.clone(),
            started_ms: now,
            refreshed_ms: now,
        };
        self.write_session(&name, &info).await?;
        live.insert(name.clone(), (info, 1));
        *current = Some(name.clone());
        Ok(Session { name })
    }

    /// Marks the writer's session alive as of now (a checkpoint of a long backup).
    pub(crate) async fn refresh_session(&self, s: &Session) -> Result<()> {
        let mut local = self.inner.sessions.lock().await;
        let now = self.now_ms();
        let Some((info, _)) = local.live.get_mut(&s.name) else {
            return Err(RepoError::invalid("the writer's session has ended"));
        };
        info.refreshed_ms = now;
        let info = info.clone();
        self.write_session(&s.name, &info).await
    }

    async fn write_session(&self, name: &str, info: &SessionInfo) -> Result<()> {
        let data = serde_json::to_vec(info)
            .map_err(|e| RepoError::with_source(ErrorKind::Storage, "encoding session", e))?;
        self.put(name, Bytes::from(data), false).await
    }

    /// The writer is done; the last one of a session removes its object.
    pub(crate) async fn end_session(&self, s: Session) -> Result<()> {
        let mut local = self.inner.sessions.lock().await;
        let last = match local.live.get_mut(&s.name) {
            Some((_, holders)) if *holders > 1 => {
                *holders -= 1;
                false
            }
            _ => true,
        };
        if !last {
            return Ok(());
        }
        local.live.remove(&s.name);
        if local.current.as_deref() == Some(s.name.as_str()) {
            local.current = None;
        }
        self.inner.backend.delete(&s.name).await
    }
}
