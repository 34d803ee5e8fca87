//! Restore points: one per job run, with the resources (mailboxes, drives,
//! sites) backed up in it.

use time::OffsetDateTime;

use super::ids::{JobId, JobSessionId, RepositoryId, RestorePointId};
use crate::OrganizationId;

text_enum!(
    /// What kind of Microsoft 365 resource was backed up.
    ResourceKind { Mailbox, ArchiveMailbox, OneDrive, Site, Team }
);

/// `RESTRestorePoint`. The `is…` flags follow the resources added to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestorePoint {
    pub id: RestorePointId,
    pub repository_id: RepositoryId,
    pub job_id: JobId,
    pub job_session_id: Option<JobSessionId>,
    pub organization_id: OrganizationId,
    pub backup_time: OffsetDateTime,
    pub is_exchange: bool,
    pub is_sharepoint: bool,
    pub is_onedrive: bool,
    pub is_teams: bool,
    pub is_long_term_copy: bool,
    pub is_retrieved: bool,
    pub retrieval_id: Option<String>,
}

/// One resource backed up in a restore point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestorePointResource {
    pub restore_point_id: RestorePointId,
    pub kind: ResourceKind,
    /// Microsoft's id of the mailbox owner, drive or site.
    pub resource_id: String,
    pub display_name: String,
    /// Mailbox address, or the drive's or site's URL.
    pub address: String,
    pub item_count: i64,
    pub size_bytes: i64,
    /// Where the repository keeps this resource's snapshot record. Opaque.
    pub record: Vec<u8>,
}

/// Filters of `GET /v6/RestorePoints`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestorePointFilter {
    pub organization_id: Option<OrganizationId>,
    pub job_id: Option<JobId>,
    pub repository_id: Option<RepositoryId>,
    /// Only points with a backup time after this.
    pub created_after: Option<OffsetDateTime>,
}

/// A resource as protected in one repository: when first and last backed
/// up, for the repository data listings and the organization's flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtectedResource {
    pub organization_id: OrganizationId,
    pub kind: ResourceKind,
    pub resource_id: String,
    pub display_name: String,
    pub address: String,
    pub first_backup_time: OffsetDateTime,
    pub last_backup_time: OffsetDateTime,
}
