//! The live restore sessions.
//!
//! Sessions live in memory: they are views over restore points (which are durable), and a
//! restarted server has no client still holding one open. Working sessions stop after an idle
//! time measured on the injected clock; at most [`KEPT_STOPPED`] stopped sessions are kept for
//! listing, oldest dropped first, so memory stays bounded however many sessions clients open.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::ids::{RestoreEventId, RestoreSessionId};
use super::options::{ExploreOptions, RestoreKind};
use super::resolve::choose;
use super::session::{
    EventStatus, EventType, NewEvent, RestoreEvent, RestoreSession, SessionResult, SessionState,
};
use crate::backup::JobId;
use crate::clock::SharedClock;
use crate::store::Store;
use crate::{CoreError, OrganizationId};

/// Stopped sessions kept for `GET /v6/RestoreSessions`.
pub const KEPT_STOPPED: usize = 1000;

/// Filters and window of `GET /v6/RestoreSessions` (on the session's creation time).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionPageQuery {
    pub start_from: Option<OffsetDateTime>,
    pub start_to: Option<OffsetDateTime>,
    pub offset: u64,
    pub limit: u64,
}

struct Entry {
    session: RestoreSession,
    last_used: Instant,
}

pub struct RestoreSessions {
    /// The whole store: explore reads restore points and which repositories are added.
    store: Arc<dyn Store>,
    clock: SharedClock,
    idle: Duration,
    /// In creation order.
    entries: Mutex<Vec<Entry>>,
}

impl RestoreSessions {
    /// `idle`: how long a working session may go unused before it stops.
    pub fn new(store: Arc<dyn Store>, clock: SharedClock, idle: Duration) -> Self {
        Self {
            store,
            clock,
            idle,
            entries: Mutex::new(Vec::new()),
        }
    }

    /// The time on the sessions' clock (events are stamped with it).
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops the sessions idle for too long and drops the oldest stopped ones past the bound.
    fn sweep(&self, entries: &mut Vec<Entry>) {
        let now_instant = self.clock.instant();
        let now = self.clock.now();
        for entry in entries.iter_mut() {
            if entry.session.state == SessionState::Working
                && now_instant.saturating_duration_since(entry.last_used) >= self.idle
            {
                let minutes = self.idle.as_secs() / 60;
                stop_session(
                    &mut entry.session,
                    now,
                    &format!("Restore session expired after {minutes} min without use"),
                );
            }
        }
        let stopped = entries
            .iter()
            .filter(|e| e.session.state == SessionState::Stopped)
            .count();
        let mut excess = stopped.saturating_sub(KEPT_STOPPED);
        entries.retain(|e| {
            if excess > 0 && e.session.state == SessionState::Stopped {
                excess -= 1;
                false
            } else {
                true
            }
        });
    }

    /// `…/explore`: a new working session showing the organization (or the job's part of it)
    /// as of `options.up_to`. Before the first backup the session is empty, not an error.
    pub async fn explore(
        &self,
        organization_id: OrganizationId,
        organization_name: &str,
        job_id: Option<JobId>,
        options: ExploreOptions,
        initiated_by: &str,
    ) -> Result<RestoreSession, CoreError> {
        if options.kind == RestoreKind::Teams {
            return Err(CoreError::NotSupported(
                "restore sessions of type Vet (Teams) are not implemented yet".into(),
            ));
        }
        let resources = choose(self.store.as_ref(), organization_id, job_id, &options).await?;
        let now = self.clock.now();
        let mut session = RestoreSession {
            id: RestoreSessionId::new_random(),
            kind: options.kind,
            organization_id,
            organization_name: organization_name.to_owned(),
            job_id,
            options,
            creation_time: now,
            end_time: None,
            state: SessionState::Working,
            result: SessionResult::Success,
            initiated_by: initiated_by.to_owned(),
            resources: resources.into(),
            events: Vec::new(),
        };
        let mut start = NewEvent::new(
            EventType::None,
            EventStatus::Success,
            "Restore session started",
        );
        start.message = format!(
            "Restore session started for {} ({} resource(s) at {})",
            session.organization_name,
            session.resources.len(),
            session
                .point_in_time()
                .map_or_else(|| "no backup yet".to_owned(), |t| t.to_string())
        );
        session.push_event(start, now);
        let mut entries = self.lock();
        self.sweep(&mut entries);
        entries.push(Entry {
            session: session.clone(),
            last_used: self.clock.instant(),
        });
        Ok(session)
    }

    /// A page of sessions, oldest first, and the number matching the filters.
    pub fn list(&self, query: &SessionPageQuery) -> (Vec<RestoreSession>, u64) {
        let mut entries = self.lock();
        self.sweep(&mut entries);
        let matching: Vec<&Entry> = entries
            .iter()
            .filter(|e| {
                query
                    .start_from
                    .is_none_or(|from| e.session.creation_time >= from)
            })
            .filter(|e| {
                query
                    .start_to
                    .is_none_or(|to| e.session.creation_time <= to)
            })
            .collect();
        let total = matching.len() as u64;
        let page = matching
            .into_iter()
            .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(query.limit).unwrap_or(usize::MAX))
            .map(|e| e.session.clone())
            .collect();
        (page, total)
    }

    /// A session in any state.
    pub fn get(&self, id: RestoreSessionId) -> Result<RestoreSession, CoreError> {
        let mut entries = self.lock();
        self.sweep(&mut entries);
        find(&entries, id).map(|e| e.session.clone())
    }

    /// `…/Stop`: harmless on a stopped session.
    pub fn stop(&self, id: RestoreSessionId) -> Result<RestoreSession, CoreError> {
        let mut entries = self.lock();
        self.sweep(&mut entries);
        let now = self.clock.now();
        let entry = find_mut(&mut entries, id)?;
        if entry.session.state == SessionState::Working {
            stop_session(&mut entry.session, now, "Restore session stopped");
        }
        Ok(entry.session.clone())
    }

    /// A working session for an action (browse, save, restore), marked as used now; a stopped
    /// or expired one is an error that says so.
    pub fn active(&self, id: RestoreSessionId) -> Result<RestoreSession, CoreError> {
        let mut entries = self.lock();
        self.sweep(&mut entries);
        let now = self.clock.instant();
        let entry = find_mut(&mut entries, id)?;
        if entry.session.state == SessionState::Stopped {
            return Err(CoreError::Conflict(format!(
                "restore session {id} is stopped (it was stopped or expired); explore again to open a new one"
            )));
        }
        entry.last_used = now;
        let mut view = entry.session.clone();
        // Actions need what the session shows, not its history.
        view.events.clear();
        Ok(view)
    }

    /// Records what an action did; its status lowers the session's result.
    pub fn record(&self, id: RestoreSessionId, event: NewEvent) -> Result<RestoreEvent, CoreError> {
        let mut entries = self.lock();
        let now = self.clock.now();
        let entry = find_mut(&mut entries, id)?;
        Ok(entry.session.push_event(event, now))
    }

    /// A page of a session's events in order, and their number.
    pub fn events(
        &self,
        id: RestoreSessionId,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<RestoreEvent>, u64), CoreError> {
        let mut entries = self.lock();
        self.sweep(&mut entries);
        let entry = find(&entries, id)?;
        let events = &entry.session.events;
        let page = events
            .iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .cloned()
            .collect();
        Ok((page, events.len() as u64))
    }

    pub fn event(
        &self,
        id: RestoreSessionId,
        event_id: RestoreEventId,
    ) -> Result<RestoreEvent, CoreError> {
        let entries = self.lock();
        let entry = find(&entries, id)?;
        entry
            .session
            .events
            .iter()
            .find(|e| e.id == event_id)
            .cloned()
            .ok_or_else(|| {
                CoreError::NotFound(format!("restore session {id} has no event {event_id}"))
            })
    }
}

fn find(entries: &[Entry], id: RestoreSessionId) -> Result<&Entry, CoreError> {
    entries
        .iter()
        .find(|e| e.session.id == id)
        .ok_or_else(|| not_found(id))
}

fn find_mut(entries: &mut [Entry], id: RestoreSessionId) -> Result<&mut Entry, CoreError> {
    entries
        .iter_mut()
        .find(|e| e.session.id == id)
        .ok_or_else(|| not_found(id))
}

fn not_found(id: RestoreSessionId) -> CoreError {
    CoreError::NotFound(format!("there is no restore session {id}"))
}

fn stop_session(session: &mut RestoreSession, now: OffsetDateTime, title: &str) {
    session.state = SessionState::Stopped;
    session.end_time = Some(now);
    session.push_event(
        NewEvent::new(EventType::None, EventStatus::Success, title),
        now,
    );
}
