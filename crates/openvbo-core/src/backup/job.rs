//! Backup jobs and what they select or exclude.

use time::OffsetDateTime;

use super::ids::{JobId, RepositoryId};
use crate::OrganizationId;

text_enum!(
    /// `RESTJob.backupType`.
    BackupType { EntireOrganization, SelectedItems }
);

text_enum!(
    /// `RESTJob.lastStatus` and `RESTJobSession.status`.
    JobStatus { Stopped, Running, Success, Failed, Warning, NotConfigured, Disconnected, Queued }
);

impl JobStatus {
    /// Whether a session in this status has ended.
    pub fn is_final(self) -> bool {
        !matches!(self, JobStatus::Running | JobStatus::Queued)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub id: JobId,
    pub organization_id: OrganizationId,
    pub repository_id: RepositoryId,
    pub name: String,
    pub description: String,
    pub backup_type: BackupType,
    /// The schedule policy as a JSON document (`RESTJobSchedulePolicy`,
    /// already validated and normalised by the job service).
    pub schedule_policy: String,
    pub is_enabled: bool,
    pub last_run: Option<OffsetDateTime>,
    pub next_run: Option<OffsetDateTime>,
    pub last_status: JobStatus,
    pub revision: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// The server-assigned id of a selected or excluded item: the object-type
/// GUID combined with the object's own id, as VB365 builds it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobItemId(pub String);

/// Which of a job's two lists an item is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobItemList {
    Selected,
    Excluded,
}

impl JobItemList {
    pub fn as_str(self) -> &'static str {
        match self {
            JobItemList::Selected => "selected",
            JobItemList::Excluded => "excluded",
        }
    }
}

/// One `RESTJobItemComposed`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobItem {
    pub id: JobItemId,
    /// `type`: User, Group, Site, Team, PartialOrganization, …
    pub item_type: String,
    /// The whole item as a JSON document, as the job service normalised it.
    pub body: String,
}
