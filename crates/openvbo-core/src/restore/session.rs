//! A restore session and its events (`RESTRestoreSession`, `RESTRestoreSessionEvent`).

use std::sync::Arc;

use time::OffsetDateTime;

use super::ids::{RestoreEventId, RestoreSessionId};
use super::options::{ExploreOptions, RestoreKind};
use super::resolve::ChosenResource;
use crate::backup::JobId;
use crate::OrganizationId;

/// v6 knows only these two states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    Working,
    Stopped,
}

impl SessionState {
    pub fn as_wire(self) -> &'static str {
        match self {
            SessionState::Working => "Working",
            SessionState::Stopped => "Stopped",
        }
    }
}

/// Always present, also while working; a failed action lowers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SessionResult {
    Success,
    Warning,
    Failed,
}

impl SessionResult {
    pub fn as_wire(self) -> &'static str {
        match self {
            SessionResult::Success => "Success",
            SessionResult::Warning => "Warning",
            SessionResult::Failed => "Failed",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Session start and end.
    None,
    Save,
    Export,
    Send,
    Restore,
    View,
}

impl EventType {
    pub fn as_wire(self) -> &'static str {
        match self {
            EventType::None => "None",
            EventType::Save => "Save",
            EventType::Export => "Export",
            EventType::Send => "Send",
            EventType::Restore => "Restore",
            EventType::View => "View",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventStatus {
    Running,
    Success,
    Warning,
    Failed,
    Cancelled,
    Skipped,
}

impl EventStatus {
    pub fn as_wire(self) -> &'static str {
        match self {
            EventStatus::Running => "Running",
            EventStatus::Success => "Success",
            EventStatus::Warning => "Warning",
            EventStatus::Failed => "Failed",
            EventStatus::Cancelled => "Cancelled",
            EventStatus::Skipped => "Skipped",
        }
    }

    /// What this outcome does to the session's result.
    fn lowers_to(self) -> SessionResult {
        match self {
            EventStatus::Failed => SessionResult::Failed,
            EventStatus::Warning => SessionResult::Warning,
            _ => SessionResult::Success,
        }
    }
}

/// What an action reports; the service stamps id, order and times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    pub event_type: EventType,
    pub status: EventStatus,
    pub title: String,
    pub message: String,
    pub item_name: Option<String>,
    pub item_type: Option<String>,
    pub item_size_bytes: Option<i64>,
    pub source: Option<String>,
    pub target: Option<String>,
    /// When the action began (the event ends when it is recorded).
    pub started: Option<OffsetDateTime>,
}

impl NewEvent {
    pub fn new(event_type: EventType, status: EventStatus, title: impl Into<String>) -> Self {
        let title = title.into();
        Self {
            event_type,
            status,
            message: title.clone(),
            title,
            item_name: None,
            item_type: None,
            item_size_bytes: None,
            source: None,
            target: None,
            started: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreEvent {
    pub id: RestoreEventId,
    /// 1, 2, … in the order things happened.
    pub order: u64,
    pub event_type: EventType,
    pub status: EventStatus,
    pub title: String,
    pub message: String,
    pub start_time: OffsetDateTime,
    pub end_time: OffsetDateTime,
    pub item_name: Option<String>,
    pub item_type: Option<String>,
    pub item_size_bytes: Option<i64>,
    pub source: Option<String>,
    pub target: Option<String>,
}

/// One session: what it shows and what happened in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreSession {
    pub id: RestoreSessionId,
    pub kind: RestoreKind,
    pub organization_id: OrganizationId,
    /// The organization's name as of creation (for `organization` and the session name).
    pub organization_name: String,
    /// Set when explored through a job: only that job's points are shown.
    pub job_id: Option<JobId>,
    pub options: ExploreOptions,
    pub creation_time: OffsetDateTime,
    pub end_time: Option<OffsetDateTime>,
    pub state: SessionState,
    pub result: SessionResult,
    pub initiated_by: String,
    /// The restore point shown for each resource; empty before the first backup.
    pub resources: Arc<[ChosenResource]>,
    pub events: Vec<RestoreEvent>,
}

impl RestoreSession {
    /// The newest backup time among the chosen points: the "point in time" shown.
    pub fn point_in_time(&self) -> Option<OffsetDateTime> {
        self.resources.iter().map(|r| r.backup_time).max()
    }

    /// `BackupOrganization.name`: `"contoso.onmicrosoft.com (2026-03-03 10:15:30)"`.
    pub fn organization_display_name(&self) -> String {
        match self.point_in_time() {
            Some(t) => format!(
                "{} ({:04}-{:02}-{:02} {:02}:{:02}:{:02})",
                self.organization_name,
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            None => self.organization_name.clone(),
        }
    }

    pub(crate) fn push_event(&mut self, event: NewEvent, now: OffsetDateTime) -> RestoreEvent {
        self.result = self.result.max(event.status.lowers_to());
        let recorded = RestoreEvent {
            id: RestoreEventId::new_random(),
            order: self.events.len() as u64 + 1,
            event_type: event.event_type,
            status: event.status,
            title: event.title,
            message: event.message,
            start_time: event.started.unwrap_or(now),
            end_time: now,
            item_name: event.item_name,
            item_type: event.item_type,
            item_size_bytes: event.item_size_bytes,
            source: event.source,
            target: event.target,
        };
        self.events.push(recorded.clone());
        recorded
    }
}
