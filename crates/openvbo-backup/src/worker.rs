//! Running a unit of work: open the repository, find where the resource's
//! last backup ended (a complete restore point, or the checkpoint of an
//! interrupted run to resume), back the resource up, commit.
//!
//! [`InProcessQueue`] is the default [`WorkQueue`]: units run in this
//! process, at most `concurrency` at a time across every job, so one big
//! job queues behind the limit instead of starving the others.

use std::sync::Arc;

use async_trait::async_trait;
use openvbo_core::backup::{RepositoryId, ResourceKind};
use openvbo_core::jobs::{UnitControl, UnitOfWork, UnitReport, UnitStatus, WorkQueue};
use openvbo_core::OrganizationId;
use openvbo_repo::{Repository, ResourceRef, RestorePoint, RestorePointId};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::drive::{back_up_drive, forget_other_drives, DriveEnd, DriveTarget, ROOT};
use crate::error::{chain, SourceError, UnitError};
use crate::mailbox::{back_up_mailbox, MailboxEnd};
use crate::run::Run;
use crate::site::{back_up_site, SiteEnd};
use crate::source::{DriveInfo, DriveSource, MailSource};
use crate::state::{decode, encode, DriveState, OneDriveState, SiteState};

/// Opens the repository engine of a repository id (the composition root
/// adapts the core repository port to this).
#[async_trait]
pub trait RepositoryOpener: Send + Sync {
    async fn open(&self, id: RepositoryId) -> Result<Repository, UnitError>;
}

/// Microsoft 365 content of an organization.
#[async_trait]
pub trait SourceProvider: Send + Sync {
    async fn mail(&self, organization: OrganizationId) -> Result<Arc<dyn MailSource>, SourceError>;
    async fn drives(
        &self,
        organization: OrganizationId,
    ) -> Result<Arc<dyn DriveSource>, SourceError>;
}

/// Backs up units; cheap to share.
pub struct Worker {
    repositories: Arc<dyn RepositoryOpener>,
    sources: Arc<dyn SourceProvider>,
    /// Items before the first checkpoint: what a crash can cost, in
    /// downloads. Later checkpoints come further apart (up to 1,000 items
    /// or 256 MiB), as each flushes the open pack.
    pub checkpoint_every: usize,
}

impl Worker {
    pub fn new(repositories: Arc<dyn RepositoryOpener>, sources: Arc<dyn SourceProvider>) -> Self {
        Worker {
            repositories,
            sources,
            checkpoint_every: 100,
        }
    }

    /// Backs up one resource. Never panics, never fails as a call.
    pub async fn back_up(&self, unit: &UnitOfWork, control: &UnitControl) -> UnitReport {
        match self.try_back_up(unit, control).await {
            Ok(report) => report,
            Err(e) => UnitReport::failed(chain(&e)),
        }
    }

    async fn try_back_up(
        &self,
        unit: &UnitOfWork,
        control: &UnitControl,
    ) -> Result<UnitReport, UnitError> {
        let kind = match unit.resource.kind {
            ResourceKind::Mailbox => openvbo_repo::ResourceKind::Mailbox,
            ResourceKind::OneDrive => openvbo_repo::ResourceKind::OneDrive,
            ResourceKind::Site => openvbo_repo::ResourceKind::Site,
            other => {
                return Err(UnitError::Setup(format!(
                    "backing up a {other} is not supported yet"
                )))
            }
        };
        let repo = self.repositories.open(unit.repository_id).await?;
        let resource = ResourceRef {
            organization: unit.organization_id.to_string(),
            resource: unit.resource.id.clone(),
            kind,
        };
        // An interrupted run left a checkpoint: continue it, so nothing it
        // stored is downloaded again.
        let (writer, base, start) = match repo.pending_checkpoint(&resource).await? {
            Some(cp) => {
                let base = match &cp.base {
                    Some(id) => Some(repo.read_point(id).await?),
                    None => None,
                };
                let start = cp.delta_state_bytes();
                (repo.resume(&cp).await?, base, start)
            }
            None => {
                let base = self
                    .base(&repo, &resource, unit.previous.as_deref())
                    .await?;
                let start = base
                    .as_ref()
                    .map(RestorePoint::delta_state_bytes)
                    .unwrap_or_default();
                (
                    repo.writer(resource.clone(), base.as_ref()).await?,
                    base,
                    start,
                )
            }
        };
        let mut run = Run::new(repo.clone(), writer, base, control, self.checkpoint_every);
        let name = &unit.resource.display_name;
        let outcome = match kind {
            openvbo_repo::ResourceKind::Mailbox => {
                match self.sources.mail(unit.organization_id).await {
                    Ok(source) => {
                        back_up_mailbox(&mut run, &source, &unit.resource.id, decode(&start))
                            .await
                            .map(|end| match end {
                                MailboxEnd::Done(state) => Some((encode(&state), json!({}))),
                                MailboxEnd::Stopped => None,
                            })
                    }
                    Err(e) => Err(e.into()),
                }
            }
            openvbo_repo::ResourceKind::OneDrive => {
                self.one_drive(&mut run, unit, decode(&start)).await
            }
            openvbo_repo::ResourceKind::Site => self.site(&mut run, unit, decode(&start)).await,
            openvbo_repo::ResourceKind::Team => Err(UnitError::Setup(
                "backing up a team is not supported yet".into(),
            )),
        };
        let (state, stopped, drive_extra) = match outcome {
            Ok(Some((state, extra))) => (state, false, extra),
            Ok(None) => (Vec::new(), true, json!({})),
            Err(e) => {
                let e = match e {
                    UnitError::Setup(why) => UnitError::Setup(format!("{name}: {why}")),
                    other => other,
                };
                return Err(self.give_up(run, &start, e).await);
            }
        };
        let Run {
            writer,
            failures,
            downloaded_items,
            downloaded_bytes,
            ..
        } = run;
        if stopped {
            // The checkpoint is already written; the session ends, the next
            // run resumes from it.
            let transferred = writer.stats().bytes_stored;
            writer.abort().await?;
            return Ok(UnitReport {
                status: UnitStatus::Stopped,
                point: None,
                item_count: 0,
                size_bytes: 0,
                downloaded_items,
                downloaded_bytes,
                transferred_bytes: transferred,
                failures,
                error: None,
            });
        }
        let mut extra = json!({
            "displayName": unit.resource.display_name,
            "address": unit.resource.address,
            "kind": unit.resource.kind.as_str(),
            "downloadedItems": downloaded_items,
        });
        // Which drive a OneDrive was, which libraries a site had.
        if let (Some(all), serde_json::Value::Object(more)) = (extra.as_object_mut(), drive_extra) {
            all.extend(more);
        }
        // The job run and tenant, so that a server attaching this repository
        // rebuilds its restore points (`attachUsedRepository`).
        if let Some(all) = extra.as_object_mut() {
            let o = &unit.origin;
            if let Some(j) = o.job_id {
                all.insert("jobId".into(), json!(j.to_string()));
            }
            if let Some(s) = o.job_session_id {
                all.insert("jobSessionId".into(), json!(s.to_string()));
            }
            if let Some(t) = o.backup_time {
                let ms = t.unix_timestamp_nanos() / 1_000_000;
                all.insert("backupTimeMs".into(), json!(i64::try_from(ms).unwrap_or(0)));
            }
            if let Some(t) = &o.tenant_id {
                all.insert("tenantId".into(), json!(t));
            }
        }
        let point = writer.commit(&state, extra).await?;
        Ok(UnitReport {
            status: if failures.is_empty() {
                UnitStatus::Success
            } else {
                UnitStatus::Warning
            },
            point: Some(point.id.0.clone()),
            item_count: point.item_count,
            size_bytes: point.item_bytes,
            downloaded_items,
            downloaded_bytes,
            transferred_bytes: point.stats.bytes_stored,
            failures,
            error: None,
        })
    }

    /// A user's OneDrive: the drive the last restore point recorded, else
    /// found through the user. Looking it up on every run would cost a
    /// request per OneDrive per run; a drive Graph no longer knows (the
    /// OneDrive was provisioned again, with a new id) is looked up then, and
    /// a new drive is read in full.
    async fn one_drive(
        &self,
        run: &mut Run<'_>,
        unit: &UnitOfWork,
        start: OneDriveState,
    ) -> Result<Option<(Vec<u8>, serde_json::Value)>, UnitError> {
        let source = self.sources.drives(unit.organization_id).await?;
        let recorded = run
            .base
            .as_ref()
            .and_then(|b| recorded_drive(&b.extra))
            .filter(|d| !start.drive_id.is_empty() && d.id == start.drive_id);
        let mut looked_up = recorded.is_none();
        let mut drive = match recorded {
            Some(d) => d,
            None => find_user_drive(&source, unit).await?,
        };
        loop {
            let begin = if start.drive_id == drive.id {
                start.clone()
            } else {
                OneDriveState {
                    drive_id: drive.id.clone(),
                    drive: DriveState::default(),
                }
            };
            let checkpoint_state = encode(&begin);
            let target = DriveTarget {
                drive: &drive.id,
                root_folder: ROOT,
            };
            let base_drive = run.base.as_ref().and_then(|b| recorded_drive(&b.extra));
            if base_drive.is_some_and(|d| d.id != drive.id) {
                forget_other_drives(run, &drive.id).await?;
            }
            match back_up_drive(run, &source, &target, begin.drive, &checkpoint_state).await? {
                DriveEnd::Done(state) => {
                    let state = OneDriveState {
                        drive_id: drive.id.clone(),
                        drive: state,
                    };
                    let extra = json!({ "driveId": drive.id, "driveName": drive.name, "driveUrl": drive.url });
                    return Ok(Some((encode(&state), extra)));
                }
                DriveEnd::Stopped => return Ok(None),
                DriveEnd::Missing(e) if looked_up => return Err(e.into()),
                DriveEnd::Missing(_) => {
                    looked_up = true;
                    drive = find_user_drive(&source, unit).await?;
                }
            }
        }
    }

    /// A site: its document libraries.
    async fn site(
        &self,
        run: &mut Run<'_>,
        unit: &UnitOfWork,
        start: SiteState,
    ) -> Result<Option<(Vec<u8>, serde_json::Value)>, UnitError> {
        let source = self.sources.drives(unit.organization_id).await?;
        match back_up_site(run, &source, &unit.resource.id, start).await? {
            SiteEnd::Done(state, libraries) => {
                let libraries: Vec<_> = libraries
                    .iter()
                    .map(|l| json!({ "driveId": l.id, "name": l.name, "url": l.url }))
                    .collect();
                Ok(Some((encode(&state), json!({ "libraries": libraries }))))
            }
            SiteEnd::Stopped => Ok(None),
        }
    }

    async fn base(
        &self,
        repo: &Repository,
        resource: &ResourceRef,
        previous: Option<&str>,
    ) -> Result<Option<RestorePoint>, UnitError> {
        match previous {
            Some(id) => Ok(Some(
                repo.read_point(&RestorePointId(id.to_string())).await?,
            )),
            None => Ok(repo.latest_point(resource).await?),
        }
    }

    /// A resource that failed as a whole: keep what it stored as a
    /// checkpoint (the next run resumes it), then report the cause.
    async fn give_up(&self, mut run: Run<'_>, start: &[u8], cause: UnitError) -> UnitError {
        if run.downloaded_items > 0 {
            if let Err(e) = run.checkpoint(start).await {
                tracing::warn!(error = %chain(&e), "could not checkpoint a failed backup");
            }
        }
        if let Err(e) = run.writer.abort().await {
            tracing::warn!(error = %chain(&e), "could not end a failed backup's writer session");
        }
        cause
    }
}

/// The drive a restore point's `extra` names (written by `one_drive`).
fn recorded_drive(extra: &serde_json::Value) -> Option<DriveInfo> {
    Some(DriveInfo {
        id: extra.get("driveId")?.as_str()?.to_string(),
        name: extra.get("driveName")?.as_str()?.to_string(),
        url: extra.get("driveUrl")?.as_str()?.to_string(),
    })
}

async fn find_user_drive(
    source: &Arc<dyn DriveSource>,
    unit: &UnitOfWork,
) -> Result<DriveInfo, UnitError> {
    source
        .user_drive(&unit.resource.id)
        .await?
        .ok_or_else(|| UnitError::Setup("the user has no OneDrive".into()))
}

/// Units in this process, `concurrency` at a time across all jobs.
pub struct InProcessQueue {
    worker: Arc<Worker>,
    /// First come, first served (tokio's semaphore is fair): a job that
    /// starts while another fills every slot gets each other freed slot.
    permits: Arc<Semaphore>,
    concurrency: usize,
}

impl InProcessQueue {
    pub fn new(worker: Arc<Worker>, concurrency: usize) -> Self {
        InProcessQueue {
            worker,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            concurrency: concurrency.max(1),
        }
    }

    /// Sized to the machine: two units per core (most of a unit's time is
    /// waiting for Microsoft), at least four.
    pub fn default_concurrency() -> usize {
        std::thread::available_parallelism()
            .map(|n| n.get() * 2)
            .unwrap_or(4)
            .max(4)
    }
}

#[async_trait]
impl WorkQueue for InProcessQueue {
    async fn run(&self, unit: UnitOfWork, control: UnitControl) -> UnitReport {
        let Ok(_permit) = self.permits.clone().acquire_owned().await else {
            return UnitReport::failed("the backup worker pool is shut down");
        };
        if control.stop_requested() {
            return UnitReport {
                status: UnitStatus::Stopped,
                ..UnitReport::failed("stopped")
            };
        }
        self.worker.back_up(&unit, &control).await
    }

    fn slots(&self) -> usize {
        self.concurrency
    }
}

#[cfg(test)]
#[path = "worker_drive_tests.rs"]
mod drive_tests;
