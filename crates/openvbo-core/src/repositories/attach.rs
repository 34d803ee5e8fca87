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
//! repository. Records of a tenant that is not added here are skipped and counted, and the
//! repository is marked out of sync (`isOutOfSync`, in the store, so a restart remembers):
//! they are imported once the organization is added (the clean-up pass looks) or on
//! `POST /v6/BackupRepositories/{id}/Sync`.
//!
//! Attaching is idempotent: records already in the store are not imported again, and the
//! restore points a removed repository left in the store come back under it with their
//! ids.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;
use time::OffsetDateTime;

use super::engine::{EngineHandle, EngineRestorePoint};
use super::service::{engine_error, RepositoryService};
use super::sync::{ImportStep, StopSignal};
use crate::backup::{
    BackupRepository, JobId, JobSessionId, RepositoryId, ResourceKind, RestorePoint,
    RestorePointFilter, RestorePointId, RestorePointResource,
};
use crate::{CoreError, OrganizationId};

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Restore points created in the store.
    pub points: usize,
    /// Restore points of this repository left in the store when it was removed, back
    /// under it with their ids.
    pub adopted: usize,
    /// Resources (mailboxes, OneDrives, libraries) in them.
    pub resources: usize,
    /// Records already in the store (an import is idempotent).
    pub already_known: usize,
    /// Records of a job session of this server still running (it registers them).
    pub in_progress: usize,
    /// Records of organizations this server does not have.
    pub skipped: usize,
    /// The tenant ids of those organizations: their records are imported once the
    /// organization is added.
    pub unknown_tenants: Vec<String>,
    /// Skipped records no organization added here can own: written before the tenant was
    /// recorded by another server (its organization ids are its own), or of a resource
    /// kind this version does not know.
    pub unplaceable: usize,
    /// `StopSynchronize` ended the import before every point was created.
    pub stopped: bool,
    /// Restore points not created because of the stop: the next Sync imports them.
    pub left: usize,
}

impl ImportReport {
    /// Whether records wait for an organization to be added (the repository is out of
    /// sync until then).
    pub fn waiting(&self) -> bool {
        !self.unknown_tenants.is_empty()
    }
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
        self.import_restore_points_until(id, engine, &StopSignal::never())
            .await
    }

    /// [`Self::import_restore_points`], stopped by `stop` between restore points: each
    /// point is created whole (with its resources) or not at all, so what a stopped import
    /// leaves is a prefix of what a full one creates, and the next import adds the rest
    /// (records already in the store are skipped).
    pub(super) async fn import_restore_points_until(
        &self,
        id: RepositoryId,
        engine: &EngineHandle,
        stop: &StopSignal,
    ) -> Result<ImportReport, CoreError> {
        let mut report = ImportReport::default();
        // Reading every record is the long part on object storage; it only reads, so a stop
        // may drop it half-way.
        let records = tokio::select! {
            read = engine.restore_points() => {
                read.map_err(|e| engine_error("reading the restore points of the repository", e))?
            }
            () = stop.requested() => {
                report.stopped = true;
                return Ok(report);
            }
        };
        let in_engine: HashSet<&[u8]> = records.iter().map(|r| r.id.as_bytes()).collect();
        let mut known: HashSet<Vec<u8>> = HashSet::new();
        // The store keeps the restore points of a removed repository (the backups stay).
        // Those whose records are in this repository are this repository's own, removed
        // earlier and attached again: they come back under it with their ids (and catalog)
        // instead of being imported a second time. Record ids are keyed by the
        // repository's own key, so another repository's points never match.
        let live: HashSet<RepositoryId> = self
            .store
            .list_repositories(None)
            .await?
            .iter()
            .map(|r| r.id)
            .collect();
        let mut adopt: Vec<RestorePointId> = Vec::new();
        for p in self
            .store
            .list_restore_points(&RestorePointFilter::default())
            .await?
        {
            let mine = p.repository_id == id;
            if !mine && live.contains(&p.repository_id) {
                continue;
            }
            let resources = self.store.list_restore_point_resources(p.id).await?;
            if !mine {
                if !resources
                    .iter()
                    .any(|r| in_engine.contains(r.record.as_slice()))
                {
                    continue;
                }
                adopt.push(p.id);
            }
            known.extend(resources.into_iter().map(|r| r.record));
        }
        if !adopt.is_empty() {
            let moved = self.store.move_restore_points(&adopt, id).await?;
            report.adopted = usize::try_from(moved).unwrap_or(usize::MAX);
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
                Err(waiting) => {
                    report.skipped += 1;
                    match waiting {
                        Some(tenant) => {
                            unknown.insert(tenant);
                        }
                        None => report.unplaceable += 1,
                    }
                }
            }
        }
        // A run of this server still going registers its records itself as it commits them;
        // importing them now as well would list them twice.
        let mut running: Vec<Key> = Vec::new();
        for key in groups.keys() {
            let Some(session) = groups
                .get(key)
                .and_then(|g| g.first())
                .and_then(|o| o.session)
            else {
                continue;
            };
            if let Some(s) = self.store.get_job_session(session).await? {
                if s.end_time.is_none() {
                    running.push(key.clone());
                }
            }
        }
        for key in running {
            if let Some(g) = groups.remove(&key) {
                report.in_progress += g.len();
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
        let total = points.len();
        let gate = self.import_gate();
        for (done, (backup_time, group)) in points.into_iter().enumerate() {
            if let Some(gate) = &gate {
                gate(ImportStep {
                    repository_id: id,
                    done,
                    total,
                    stop: stop.clone(),
                })
                .await;
            }
            if stop.is_requested() {
                report.stopped = true;
                report.left = total.saturating_sub(done);
                break;
            }
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
            match self.add_resources(&point, group).await {
                Ok(added) => {
                    report.points += 1;
                    report.resources += added;
                }
                Err(e) => {
                    // Not half a point: one listed with some of its resources would hold
                    // their records as known, and the next import would never add the
                    // others. Gone, the whole point is imported again next time.
                    if let Err(undo) = self.store.delete_restore_point(point.id).await {
                        tracing::warn!(restore_point = %point.id, error = %undo, "could not remove a partly imported restore point");
                    }
                    return Err(e);
                }
            }
        }
        let mut unknown: Vec<String> = unknown.into_iter().collect();
        unknown.sort();
        report.unknown_tenants = unknown;
        Ok(report)
    }
}

impl RepositoryService {
    /// The resources of a restore point being imported; how many were added.
    async fn add_resources(
        &self,
        point: &RestorePoint,
        group: Vec<Origin>,
    ) -> Result<usize, CoreError> {
        let mut added = 0;
        for o in group {
            let resource = RestorePointResource {
                restore_point_id: point.id,
                ..o.resource
            };
            match self.store.add_restore_point_resource(&resource).await {
                Ok(_) => added += 1,
                // Two records of one resource in one run (a checkpoint committed twice
                // cannot happen; a hand-copied repository might): the first is kept.
                Err(e) if e.kind() == crate::store::StoreErrorKind::Conflict => {
                    tracing::warn!(resource = %resource.resource_id, "a resource appears twice in one run; kept the first");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(added)
    }
}

/// The organization, run and resource of a record; Err(tenant id) when the organization is
/// not on this server.
fn origin(
    record: &EngineRestorePoint,
    by_tenant: &HashMap<String, OrganizationId>,
    local: &HashSet<OrganizationId>,
) -> Result<Origin, Option<String>> {
    let extra: Value = serde_json::from_str(&record.extra).unwrap_or(Value::Null);
    let kind = text(&extra, "kind")
        .and_then(ResourceKind::parse)
        .or_else(|| engine_kind(&record.resource_kind))
        .ok_or(None)?;
    let tenant = text(&extra, "tenantId").map(str::to_ascii_lowercase);
    let organization = match tenant {
        Some(t) => by_tenant.get(&t).copied().ok_or(Some(t))?,
        None => record
            .organization
            .parse::<OrganizationId>()
            .ok()
            .filter(|o| local.contains(o))
            .ok_or(None)?,
    };
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
    /// Records on the repository whether the store lacks some of its restore points
    /// (`isOutOfSync`), so a restart remembers what to import once the organization is
    /// added. Retried on a concurrent change of the repository (a `PUT` in between).
    pub(super) async fn set_out_of_sync(
        &self,
        id: RepositoryId,
        out_of_sync: bool,
    ) -> Result<(), CoreError> {
        for _ in 0..3 {
            let current = self.repository_record(id).await?;
            if current.is_out_of_sync == out_of_sync {
                return Ok(());
            }
            let next = BackupRepository {
                is_out_of_sync: out_of_sync,
                revision: current.revision + 1,
                updated_at: self.clock.now(),
                ..current.clone()
            };
            if self
                .store
                .update_repository(&next, current.revision)
                .await?
            {
                return Ok(());
            }
        }
        Err(CoreError::Conflict(
            "the repository kept changing while its synchronization state was recorded; retry"
                .into(),
        ))
    }

    /// Imports what the store lacks of repository `id` (until `stop`) and records the
    /// outcome on it: out of sync while records of organizations not added here remain,
    /// the import was stopped before its end, or the repository could not be read.
    pub(super) async fn synchronize(
        &self,
        id: RepositoryId,
        stop: &StopSignal,
    ) -> Result<ImportReport, CoreError> {
        let done = match self.engine(id).await {
            Ok(engine) => self.import_restore_points_until(id, &engine, stop).await,
            Err(e) => Err(e),
        };
        let out_of_sync = !matches!(&done, Ok(r) if !r.waiting() && !r.stopped);
        if let Err(e) = self.set_out_of_sync(id, out_of_sync).await {
            tracing::warn!(repository = %id, error = %e, "could not record the repository's synchronization state");
        }
        done
    }

    /// Notes the tenants of this server as tried for repository `id`, so the next clean-up
    /// pass does not read the whole repository again for nothing.
    pub(super) async fn remember_tried_import(&self, id: RepositoryId) {
        let Ok(organizations) = self.store.list_organizations().await else {
            return;
        };
        let tenants = tenant_list(&organizations);
        if let Ok(mut tried) = self.pending_imports.lock() {
            tried.insert(id, tenants);
        }
    }

    /// Imports again the repositories marked out of sync (an attach that found backups of
    /// organizations not added then), once the organizations here have changed since the
    /// last try; after a restart, once at the first pass. Cheap when nothing waits: one
    /// listing of the repositories, which the clean-up pass reads anyway.
    pub async fn retry_pending_imports(&self) {
        let Ok(repositories) = self.store.list_repositories(None).await else {
            return;
        };
        let waiting: Vec<RepositoryId> = repositories
            .iter()
            .filter(|r| r.is_out_of_sync)
            .map(|r| r.id)
            .collect();
        if let Ok(mut tried) = self.pending_imports.lock() {
            tried.retain(|id, _| waiting.contains(id));
        }
        if waiting.is_empty() {
            return;
        }
        let Ok(organizations) = self.store.list_organizations().await else {
            return;
        };
        let tenants = tenant_list(&organizations);
        for id in waiting {
            let seen = match self.pending_imports.lock() {
                Ok(tried) => tried.get(&id) == Some(&tenants),
                Err(_) => false,
            };
            if seen {
                continue;
            }
            match self.synchronize(id, &StopSignal::never()).await {
                Ok(r) => {
                    tracing::info!(repository = %id, points = r.points, resources = r.resources, skipped = r.skipped, "attached repository: restore points of added organizations imported");
                }
                // Unreachable now: tried again after the next change, restart or Sync.
                Err(e) => {
                    tracing::warn!(repository = %id, error = %e, "attached repository: import failed");
                }
            }
            if let Ok(mut tried) = self.pending_imports.lock() {
                tried.insert(id, tenants.clone());
            }
        }
    }
}

/// The tenant ids of these organizations, lower-cased and sorted: what an import depends on.
fn tenant_list(organizations: &[crate::organization::Organization]) -> Vec<String> {
    let mut tenants: Vec<String> = organizations
        .iter()
        .map(|o| o.tenant_id.to_ascii_lowercase())
        .collect();
    tenants.sort();
    tenants
}
