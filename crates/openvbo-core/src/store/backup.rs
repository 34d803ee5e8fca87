//! The stores of the backup records ([`crate::backup`]): one trait per
//! aggregate, each method one transaction.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StoreError;
use crate::backup::{
    AccountId, BackupRepository, CatalogItem, CatalogPage, CatalogQuery, CatalogScope,
    EncryptionKey, EncryptionKeyId, Job, JobId, JobItem, JobItemId, JobItemList, JobSession,
    JobSessionId, JobSessionQuery, JobStatus, LogItem, LogItemId, NewLogItem, ObjectStorageAccount,
    ObjectStorageId, ObjectStorageRepository, Page, ProtectedResource, Proxy, ProxyId,
    RepositoryId, ResourceKind, RestorePoint, RestorePointFilter, RestorePointId,
    RestorePointResource,
};
use crate::OrganizationId;

/// A licence an administrator revoked (`DELETE /v6/LicensedUsers/{id}`):
/// the user stops counting as licensed until a backup of theirs newer than
/// `revoked_at`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenceRevocation {
    pub organization_id: OrganizationId,
    /// Microsoft's id of the user.
    pub user_id: String,
    pub revoked_at: OffsetDateTime,
}

/// The outcome of removing something that others may still use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Removal {
    Removed,
    NotFound,
    /// Nothing was removed; says what still uses it (for the user).
    InUse(String),
}

#[async_trait]
pub trait ProxyStore: Send + Sync {
    /// The built-in `Local` proxy: the stored one, or `candidate` stored
    /// first if there is none yet. Its id never changes afterwards.
    async fn local_proxy(&self, candidate: &Proxy) -> Result<Proxy, StoreError>;
    async fn list_proxies(&self) -> Result<Vec<Proxy>, StoreError>;
    async fn get_proxy(&self, id: ProxyId) -> Result<Option<Proxy>, StoreError>;
}

#[async_trait]
pub trait RepositoryStore: Send + Sync {
    /// Conflict if another repository has the same path, or the same name
    /// (case-insensitive).
    async fn insert_repository(&self, repo: &BackupRepository) -> Result<(), StoreError>;
    /// In creation order; only those of `proxy` if given.
    async fn list_repositories(
        &self,
        proxy: Option<ProxyId>,
    ) -> Result<Vec<BackupRepository>, StoreError>;
    async fn get_repository(
        &self,
        id: RepositoryId,
    ) -> Result<Option<BackupRepository>, StoreError>;
    /// Writes `repo` (revision already incremented) if the stored revision
    /// is still `expected_revision`; false otherwise. `path`, `proxy_id`,
    /// `created_at` and the key material are not changed by an update.
    async fn update_repository(
        &self,
        repo: &BackupRepository,
        expected_revision: i64,
    ) -> Result<bool, StoreError>;
    /// Refused while a job targets it.
    async fn delete_repository(&self, id: RepositoryId) -> Result<Removal, StoreError>;
}

#[async_trait]
pub trait ObjectStorageStore: Send + Sync {
    async fn insert_account(&self, account: &ObjectStorageAccount) -> Result<(), StoreError>;
    async fn list_accounts(&self) -> Result<Vec<ObjectStorageAccount>, StoreError>;
    async fn get_account(&self, id: AccountId) -> Result<Option<ObjectStorageAccount>, StoreError>;
    /// Same revision rule as [`RepositoryStore::update_repository`].
    async fn update_account(
        &self,
        account: &ObjectStorageAccount,
        expected_revision: i64,
    ) -> Result<bool, StoreError>;
    /// Refused while an object storage repository uses it.
    async fn delete_account(&self, id: AccountId) -> Result<Removal, StoreError>;

    /// Conflict if the same bucket folder at the same service point is
    /// already a repository, or the name is taken.
    async fn insert_object_storage(&self, repo: &ObjectStorageRepository)
        -> Result<(), StoreError>;
    async fn list_object_storages(&self) -> Result<Vec<ObjectStorageRepository>, StoreError>;
    async fn get_object_storage(
        &self,
        id: ObjectStorageId,
    ) -> Result<Option<ObjectStorageRepository>, StoreError>;
    async fn update_object_storage(
        &self,
        repo: &ObjectStorageRepository,
        expected_revision: i64,
    ) -> Result<bool, StoreError>;
    /// Refused while a backup repository is extended with it.
    async fn delete_object_storage(&self, id: ObjectStorageId) -> Result<Removal, StoreError>;
}

#[async_trait]
pub trait EncryptionKeyStore: Send + Sync {
    async fn insert_encryption_key(&self, key: &EncryptionKey) -> Result<(), StoreError>;
    async fn list_encryption_keys(&self) -> Result<Vec<EncryptionKey>, StoreError>;
    async fn get_encryption_key(
        &self,
        id: EncryptionKeyId,
    ) -> Result<Option<EncryptionKey>, StoreError>;
    /// Description, password hash and key material (a password change).
    async fn update_encryption_key(
        &self,
        key: &EncryptionKey,
        expected_revision: i64,
    ) -> Result<bool, StoreError>;
    /// Refused while a repository uses it.
    async fn delete_encryption_key(&self, id: EncryptionKeyId) -> Result<Removal, StoreError>;
}

#[async_trait]
pub trait JobStore: Send + Sync {
    /// Stores the job with its lists. Conflict for a second
    /// `EntireOrganization` job of one organization on one repository, or a
    /// duplicate item id within a list. The organization and the
    /// repository must exist (Conflict otherwise: they were just removed).
    async fn insert_job(
        &self,
        job: &Job,
        selected: &[JobItem],
        excluded: &[JobItem],
    ) -> Result<(), StoreError>;
    /// In creation order; only those of `organization` if given.
    async fn list_jobs(&self, organization: Option<OrganizationId>)
        -> Result<Vec<Job>, StoreError>;
    async fn get_job(&self, id: JobId) -> Result<Option<Job>, StoreError>;
    /// The job's own fields (not its lists) under the revision rule.
    async fn update_job(&self, job: &Job, expected_revision: i64) -> Result<bool, StoreError>;
    /// Records a run's effect without the revision rule, so that the
    /// scheduler never races an administrator's edit.
    async fn record_job_run(
        &self,
        id: JobId,
        last_run: Option<OffsetDateTime>,
        last_status: JobStatus,
        next_run: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError>;
    /// The job and its lists; its sessions and restore points stay.
    async fn delete_job(&self, id: JobId) -> Result<bool, StoreError>;

    async fn list_job_items(
        &self,
        job: JobId,
        list: JobItemList,
    ) -> Result<Vec<JobItem>, StoreError>;
    async fn get_job_item(
        &self,
        job: JobId,
        list: JobItemList,
        item: &JobItemId,
    ) -> Result<Option<JobItem>, StoreError>;
    /// All or nothing: Conflict if any id is already on that list. False if
    /// there is no such job.
    async fn add_job_items(
        &self,
        job: JobId,
        list: JobItemList,
        items: &[JobItem],
    ) -> Result<bool, StoreError>;
    /// Replaces the item of the same id; false if there is none.
    async fn update_job_item(
        &self,
        job: JobId,
        list: JobItemList,
        item: &JobItem,
    ) -> Result<bool, StoreError>;
    /// Returns how many of `items` were on the list and are now gone.
    async fn remove_job_items(
        &self,
        job: JobId,
        list: JobItemList,
        items: &[JobItemId],
    ) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait JobSessionStore: Send + Sync {
    /// Conflict if the job already has a session that has not ended: one
    /// run of a job at a time, decided atomically.
    async fn insert_job_session(&self, session: &JobSession) -> Result<(), StoreError>;
    /// Status, progress, statistics, details, retry count and end time.
    /// False if there is no such session or it has already ended.
    async fn update_job_session(&self, session: &JobSession) -> Result<bool, StoreError>;
    async fn get_job_session(&self, id: JobSessionId) -> Result<Option<JobSession>, StoreError>;
    /// Newest first (by creation time).
    async fn list_job_sessions(
        &self,
        query: &JobSessionQuery,
    ) -> Result<Page<JobSession>, StoreError>;
    /// After a crash: every session that had not ended gets `Failed`, ends
    /// at `now`, and has `log_title` appended to its log. Returns them.
    async fn fail_unfinished_sessions(
        &self,
        now: OffsetDateTime,
        log_title: &str,
    ) -> Result<Vec<JobSessionId>, StoreError>;

    /// Appends to the session's log; the item gets the next `usn`. None if
    /// there is no such session.
    async fn append_log_item(
        &self,
        session: JobSessionId,
        item: &NewLogItem,
    ) -> Result<Option<LogItem>, StoreError>;
    /// Rewrites a log item's title and end time (an item that spans the
    /// processing of one object). False if there is none.
    async fn update_log_item(
        &self,
        session: JobSessionId,
        id: LogItemId,
        title: &str,
        end_time: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError>;
    /// In `usn` order.
    async fn list_log_items(
        &self,
        session: JobSessionId,
        offset: u64,
        limit: u64,
    ) -> Result<Page<LogItem>, StoreError>;
    async fn get_log_item(
        &self,
        session: JobSessionId,
        id: LogItemId,
    ) -> Result<Option<LogItem>, StoreError>;
}

#[async_trait]
pub trait RestorePointStore: Send + Sync {
    async fn insert_restore_point(&self, point: &RestorePoint) -> Result<(), StoreError>;
    /// Adds one backed-up resource and raises the point's `is…` flag for its
    /// kind. Conflict if the resource is already in the point; false if
    /// there is no such point.
    async fn add_restore_point_resource(
        &self,
        resource: &RestorePointResource,
    ) -> Result<bool, StoreError>;
    /// Oldest first.
    async fn list_restore_points(
        &self,
        filter: &RestorePointFilter,
    ) -> Result<Vec<RestorePoint>, StoreError>;
    async fn get_restore_point(
        &self,
        id: RestorePointId,
    ) -> Result<Option<RestorePoint>, StoreError>;
    async fn list_restore_point_resources(
        &self,
        id: RestorePointId,
    ) -> Result<Vec<RestorePointResource>, StoreError>;
    /// The newest point of `job` holding `resource_id` as a resource of
    /// `kind`, for the next incremental. The kind matters: a user's mailbox
    /// and OneDrive share the user's id.
    async fn latest_resource_backup(
        &self,
        job: JobId,
        kind: ResourceKind,
        resource_id: &str,
    ) -> Result<Option<RestorePointResource>, StoreError>;
    /// Every resource with a restore point in `repository`, with its first
    /// and last backup time; of one organization if given.
    async fn protected_resources(
        &self,
        repository: RepositoryId,
        organization: Option<OrganizationId>,
    ) -> Result<Vec<ProtectedResource>, StoreError>;
    /// The point, its resources and its catalog (retention).
    async fn delete_restore_point(&self, id: RestorePointId) -> Result<bool, StoreError>;
    /// Moves these points (with their resources and catalog) under repository `to`, all or
    /// nothing: a repository removed and attached again gets its restore points back with
    /// their ids instead of copies. Returns how many points moved.
    async fn move_restore_points(
        &self,
        points: &[RestorePointId],
        to: RepositoryId,
    ) -> Result<u64, StoreError>;
    /// New item count and size of one resource of a point, after item-level
    /// retention dropped items from it; false if the point does not hold it.
    /// The resource's catalog goes too (it lists what the snapshot held before):
    /// the next session that shows the resource indexes the snapshot again.
    async fn set_restore_point_resource_size(
        &self,
        point: RestorePointId,
        kind: ResourceKind,
        resource_id: &str,
        item_count: i64,
        size_bytes: i64,
    ) -> Result<bool, StoreError>;

    /// A batch of catalog entries, all or nothing (callers keep batches to
    /// a few thousand). Conflict on an item already catalogued for the same
    /// resource of the point; the point must hold the resource.
    async fn insert_catalog_items(&self, items: &[CatalogItem]) -> Result<(), StoreError>;
    /// One page, ordered by item id.
    async fn list_catalog_items(&self, query: &CatalogQuery) -> Result<CatalogPage, StoreError>;
    async fn get_catalog_item(
        &self,
        scope: &CatalogScope,
        item_id: &str,
    ) -> Result<Option<CatalogItem>, StoreError>;
    /// Whether the resource's catalog was completed ([`Self::complete_catalog`])
    /// and not dropped since: entries without it are an interrupted indexing.
    async fn catalog_complete(&self, scope: &CatalogScope) -> Result<bool, StoreError>;
    /// Drops the resource's entries and its completion.
    async fn clear_catalog(&self, scope: &CatalogScope) -> Result<(), StoreError>;
    /// Marks the resource's catalog complete, after its last batch. An entry
    /// whose parent is not a catalogued container (a folder or library) is
    /// at the top level: its parent becomes None (the mailbox or drive root
    /// is never backed up itself). Conflict if the point does not hold the
    /// resource.
    async fn complete_catalog(&self, scope: &CatalogScope) -> Result<(), StoreError>;

    /// Records a revoked licence; a later revocation of the same user
    /// replaces the earlier one. The organization must exist.
    async fn revoke_licence(&self, revocation: &LicenceRevocation) -> Result<(), StoreError>;
    /// The revoked licences, of one organization if given.
    async fn licence_revocations(
        &self,
        organization: Option<OrganizationId>,
    ) -> Result<Vec<LicenceRevocation>, StoreError>;
}
