//! `attachUsedRepository: true`: the restore points of a repository made by another server
//! (or by this one before its database was lost) are rebuilt in the store from the
//! repository's own records.
//!
//! Each record names the resource and, since the job run is recorded beside the data
//! (`jobId`, `jobSessionId`, `backupTimeMs`, `tenantId` in its sealed `extra`), the run it
//! belongs to: the records of one job session become one restore point again, with the
//! session's backup time. The organization is found by its Microsoft tenant id (this
//! server's organization ids are its own); records written before the tenant was recorded
//! are matched by organization id, which only holds on the server that wrote them. A job
//! that does not exist here keeps its id on the points, which stay listed under the
//! repository. Records of a tenant that is not added here are skipped and counted: the
//! organization must be added before the repository is attached.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;
use time::OffsetDateTime;

use super::engine::{EngineHandle, EngineRestorePoint};
use super::service::{engine_error, RepositoryService};
use crate::backup::{
    JobId, JobSessionId, RepositoryId, ResourceKind, RestorePoint, RestorePointFilter,
    RestorePointId, RestorePointResource,
};
use crate::{CoreError, OrganizationId};

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Restore points created in the store.
    pub points: usize,
    /// Resources (mailboxes, OneDrives, libraries) in them.
    pub resources: usize,
    /// Records already in the store (an import is idempotent).
    pub already_known: usize,
    /// Records of organizations this server does not have.
    pub skipped: usize,
    /// The tenant ids of those organizations (empty for records that do not name one).
    pub unknown_tenants: Vec<String>,
}

/// What one engine record tells about the run it came from.
struct Origin {
    organization: OrganizationId,
    job: Option<JobId>,
    session: Option<JobSessionId>,
    backup_time: OffsetDateTime,
    resource: RestorePointResource,
}

fn engine_kind(kind: &str) -> Option<ResourceKind> {
    match kind {
        "mailbox" => Some(ResourceKind::Mailbox),
        "onedrive" => Some(ResourceKind::OneDrive),
        "site" => Some(ResourceKind::Site),
        "team" => Some(ResourceKind::Team),
        _ => None,
    }
}

fn text<'a>(extra: &'a Value, key: &str) -> Option<&'a str> {
    extra
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

impl RepositoryService {
    /// Creates in the store the restore points of repository `id` that its engine records
    /// and the store does not know yet.
    pub(super) async fn import_restore_points(
        &self,
        id: RepositoryId,
        engine: &EngineHandle,
    ) -> Result<ImportReport, CoreError> {
        let records = engine
            .restore_points()
            .await
            .map_err(|e| engine_error("reading the restore points of the repository", e))?;
        let mut report = ImportReport::default();
        let mut known: HashSet<Vec<u8>> = HashSet::new();
        let filter = RestorePointFilter {
            repository_id: Some(id),
            ..RestorePointFilter::default()
        };
        for p in self.store.list_restore_points(&filter).await? {
            for r in self.store.list_restore_point_resources(p.id).await? {
                known.insert(r.record);
            }
        }
        let organizations = self.store.list_organizations().await?;
        let by_tenant: HashMap<String, OrganizationId> = organizations
            .iter()
            .map(|o| (o.tenant_id.to_ascii_lowercase(), o.id))
            .collect();
        let local: HashSet<OrganizationId> = organizations.iter().map(|o| o.id).collect();
        let mut unknown: HashSet<String> = HashSet::new();

        // (organization, job, session or the record itself) → the records of one point.
        type Key = (OrganizationId, Option<JobId>, String);
        let mut groups: BTreeMap<Key, Vec<Origin>> = BTreeMap::new();
        for record in records {
            if known.contains(record.id.as_bytes()) {
                report.already_known += 1;
                continue;
            }
            match origin(&record, &by_tenant, &local) {
                Ok(o) => {
                    let run = match o.session {
                        Some(s) => s.to_string(),
                        None => record.id.clone(),
                    };
                    groups
                        .entry((o.organization, o.job, run))
                        .or_default()
                        .push(o);
                }
                Err(tenant) => {
                    report.skipped += 1;
                    unknown.insert(tenant);
                }
            }
        }
        let mut points: Vec<(OffsetDateTime, Vec<Origin>)> = groups
            .into_values()
            .map(|g| {
                let t = g
                    .iter()
                    .map(|o| o.backup_time)
                    .min()
                    .unwrap_or(OffsetDateTime::UNIX_EPOCH);
                (t, g)
            })
            .collect();
        points.sort_by_key(|(t, _)| *t);
        for (backup_time, group) in points {
            let Some(first) = group.first() else { continue };
            let point = RestorePoint {
                id: RestorePointId::new_random(),
                repository_id: id,
                // Records from before the job was recorded belong to no job we can name.
                job_id: first.job.unwrap_or_else(|| JobId::from(uuid::Uuid::nil())),
                job_session_id: first.session,
                organization_id: first.organization,
                backup_time,
                is_exchange: false,
                is_sharepoint: false,
                is_onedrive: false,
                is_teams: false,
                is_long_term_copy: false,
                is_retrieved: false,
                retrieval_id: None,
            };
            self.store.insert_restore_point(&point).await?;
            report.points += 1;
            for o in group {
                let resource = RestorePointResource {
                    restore_point_id: point.id,
                    ..o.resource
                };
                match self.store.add_restore_point_resource(&resource).await {
                    Ok(_) => report.resources += 1,
                    // Two records of one resource in one run (a checkpoint committed twice
                    // cannot happen; a hand-copied repository might): the first is kept.
                    Err(e) if e.kind() == crate::store::StoreErrorKind::Conflict => {
                        tracing::warn!(resource = %resource.resource_id, "a resource appears twice in one run; kept the first");
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let mut unknown: Vec<String> = unknown.into_iter().collect();
        unknown.sort();
        report.unknown_tenants = unknown;
        Ok(report)
    }
}

/// The organization, run and resource of a record; Err(tenant id) when the organization is
/// not on this server.
fn origin(
    record: &EngineRestorePoint,
    by_tenant: &HashMap<String, OrganizationId>,
    local: &HashSet<OrganizationId>,
) -> Result<Origin, String> {
    let extra: Value = serde_json::from_str(&record.extra).unwrap_or(Value::Null);
    let tenant = text(&extra, "tenantId").map(str::to_ascii_lowercase);
    let organization = match &tenant {
        Some(t) => by_tenant.get(t).copied(),
        None => record
            .organization
            .parse::<OrganizationId>()
            .ok()
            .filter(|o| local.contains(o)),
    }
    .ok_or_else(|| tenant.clone().unwrap_or_default())?;
    let kind = text(&extra, "kind")
        .and_then(ResourceKind::parse)
        .or_else(|| engine_kind(&record.resource_kind))
        .ok_or_else(|| tenant.clone().unwrap_or_default())?;
    let backup_time = extra
        .get("backupTimeMs")
        .and_then(Value::as_i64)
        .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok())
        .unwrap_or(record.created);
    let resource = RestorePointResource {
        // Replaced by the point's id once it exists.
        restore_point_id: RestorePointId::from(uuid::Uuid::nil()),
        kind,
        resource_id: record.resource_id.clone(),
        display_name: text(&extra, "displayName")
            .unwrap_or(&record.resource_id)
            .to_string(),
        address: text(&extra, "address").unwrap_or("").to_string(),
        item_count: i64::try_from(record.item_count).unwrap_or(i64::MAX),
        size_bytes: i64::try_from(record.item_bytes).unwrap_or(i64::MAX),
        record: record.id.as_bytes().to_vec(),
    };
    Ok(Origin {
        organization,
        job: text(&extra, "jobId").and_then(|s| s.parse().ok()),
        session: text(&extra, "jobSessionId").and_then(|s| s.parse().ok()),
        backup_time,
        resource,
    })
}

impl RepositoryService {
    pub(super) async fn remember_pending_import(&self, id: RepositoryId) {
        let count = match self.store.list_organizations().await {
            Ok(o) => o.len(),
            Err(_) => 0,
        };
        if let Ok(mut pending) = self.pending_imports.lock() {
            pending.insert(id, count);
        }
    }

    /// Imports again the attached repositories that held backups of organizations not
    /// added then, once the number of organizations has changed. Cheap when nothing waits.
    pub async fn retry_pending_imports(&self) {
        let waiting: Vec<(RepositoryId, usize)> = match self.pending_imports.lock() {
            Ok(p) if !p.is_empty() => p.iter().map(|(k, v)| (*k, *v)).collect(),
            _ => return,
        };
        let Ok(organizations) = self.store.list_organizations().await else {
            return;
        };
        for (id, seen) in waiting {
            if organizations.len() == seen {
                continue;
            }
            let done = match self.engine(id).await {
                Ok(engine) => self.import_restore_points(id, &engine).await,
                Err(e) => Err(e),
            };
            let still_waiting = match done {
                Ok(r) => {
                    tracing::info!(repository = %id, points = r.points, resources = r.resources, skipped = r.skipped, "attached repository: restore points of added organizations imported");
                    r.skipped > 0
                }
                // Removed meanwhile, or unreachable: given up (a new attach starts over).
                Err(e) => {
                    tracing::warn!(repository = %id, error = %e, "attached repository: import not retried");
                    false
                }
            };
            if let Ok(mut pending) = self.pending_imports.lock() {
                if still_waiting {
                    pending.insert(id, organizations.len());
                } else {
                    pending.remove(&id);
                }
            }
        }
    }
}
