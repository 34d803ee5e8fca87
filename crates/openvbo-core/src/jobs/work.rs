//! The unit of work: one self-contained backup of one resource (a mailbox, a
//! OneDrive, a document library) into one repository, and the small queue
//! interface that runs it.
//!
//! The job logic only ever hands units to a [`WorkQueue`] and reads back a
//! [`UnitReport`]; the default queue runs them in this process with bounded
//! global concurrency (`openvbo-backup`), and a later one can publish them to
//! workers on other machines (NATS JetStream) without the job logic changing.
//! Everything a unit needs is in it (ids, not handles), so it serializes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;

use crate::backup::{RepositoryId, ResourceKind};
use crate::OrganizationId;

/// The resource a unit backs up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceTarget {
    pub kind: ResourceKind,
    /// Microsoft's id: the user's id for a mailbox or OneDrive, the drive id
    /// of a document library.
    pub id: String,
    pub display_name: String,
    /// Mailbox address, or the drive's or site's URL.
    pub address: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitOfWork {
    pub organization_id: OrganizationId,
    pub repository_id: RepositoryId,
    pub resource: ResourceTarget,
    /// The engine's id of the previous restore point of this resource, for
    /// the incremental; None: whatever the repository holds last.
    pub previous: Option<String>,
    /// Which job run this unit belongs to, recorded in the repository's own
    /// (encrypted) restore-point record so that another server attaching
    /// the repository can rebuild its restore points.
    pub origin: UnitOrigin,
}

/// The job run a unit belongs to, as the repository records it beside the
/// data. Every field is optional: units run outside a job (tests, tools)
/// leave them out, and a repository importing such a record falls back to
/// what it can tell from the record alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnitOrigin {
    pub job_id: Option<crate::backup::JobId>,
    pub job_session_id: Option<crate::backup::JobSessionId>,
    /// The session's start: the backup time of the restore point it makes.
    pub backup_time: Option<time::OffsetDateTime>,
    /// The organization's Microsoft Entra tenant id, which (unlike this
    /// server's organization id) is the same on every server.
    pub tenant_id: Option<String>,
}

/// How a unit ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnitStatus {
    /// Everything was backed up.
    Success,
    /// A restore point was written, but some items failed (listed).
    Warning,
    /// Nothing was committed (what was stored stays as a checkpoint).
    Failed,
    /// Asked to stop: stored items are kept as a checkpoint the next run resumes.
    Stopped,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitReport {
    pub status: UnitStatus,
    /// The new restore point (engine id), when one was committed.
    pub point: Option<String>,
    /// Items and item bytes the new point holds (carried over included).
    pub item_count: u64,
    pub size_bytes: u64,
    /// What this run read from Microsoft 365.
    pub downloaded_items: u64,
    pub downloaded_bytes: u64,
    /// Bytes new to the repository.
    pub transferred_bytes: u64,
    /// One line per item or folder that failed, for the session log.
    pub failures: Vec<String>,
    /// Why the unit failed, when it did.
    pub error: Option<String>,
}

impl UnitReport {
    pub fn failed(error: impl Into<String>) -> Self {
        UnitReport {
            status: UnitStatus::Failed,
            point: None,
            item_count: 0,
            size_bytes: 0,
            downloaded_items: 0,
            downloaded_bytes: 0,
            transferred_bytes: 0,
            failures: Vec::new(),
            error: Some(error.into()),
        }
    }
}

/// Live progress from a running unit (session statistics).
pub trait UnitEvents: Send + Sync {
    /// One item read from Microsoft 365 and stored.
    fn item_stored(&self, bytes: u64);
}

/// Ignores progress.
pub struct NoEvents;

impl UnitEvents for NoEvents {
    fn item_stored(&self, _bytes: u64) {}
}

/// What the job side can do to a running unit: ask it to stop, hear its progress.
#[derive(Clone)]
pub struct UnitControl {
    stop: Arc<AtomicBool>,
    pub events: Arc<dyn UnitEvents>,
}

impl UnitControl {
    pub fn new(events: Arc<dyn UnitEvents>) -> Self {
        UnitControl {
            stop: Arc::new(AtomicBool::new(false)),
            events,
        }
    }

    /// A control sharing `stop` (one flag for all units of a session).
    pub fn with_stop(stop: Arc<AtomicBool>, events: Arc<dyn UnitEvents>) -> Self {
        UnitControl { stop, events }
    }

    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// Runs units of work somewhere. Implementations bound their own concurrency.
#[async_trait]
pub trait WorkQueue: Send + Sync + 'static {
    /// Runs `unit` to its end (waiting for a worker first) and reports.
    /// Never fails as a call: a failure is a report with status Failed.
    async fn run(&self, unit: UnitOfWork, control: UnitControl) -> UnitReport;

    /// Units it runs at once across every job (its workers' slots). A
    /// session hands it that many at a time: more would only wait.
    fn slots(&self) -> usize {
        4
    }
}
