//! What backups are made of, as the configuration store keeps it: proxies,
//! backup repositories, object storage and its accounts, encryption keys,
//! jobs, job sessions and their log, restore points and the catalog of what
//! each one holds.
//!
//! Plain records with typed ids. Rules (defaults, what may change, who may
//! delete what) belong to the services that use them; the store keeps only
//! the rules it can enforce atomically (uniqueness, "in use").

#[macro_use]
mod text_enum;
mod catalog;
mod encryption_key;
mod ids;
mod job;
mod object_storage;
mod proxy;
mod repository;
mod restore_point;
mod session;

pub use catalog::{
    CatalogCursor, CatalogItem, CatalogItemKind, CatalogOrder, CatalogPage, CatalogQuery,
    CatalogScope,
};
pub use encryption_key::EncryptionKey;
pub use ids::{
    AccountId, EncryptionKeyId, JobId, JobSessionId, LogItemId, ObjectStorageId, ProxyId,
    RepositoryId, RestorePointId,
};
pub use job::{BackupType, Job, JobItem, JobItemId, JobItemList, JobStatus};
pub use object_storage::{
    AccountType, ObjectStorageAccount, ObjectStorageRepository, ObjectStorageType,
};
pub use proxy::{InternetProxy, InternetProxyType, Proxy, ProxyType, ThrottlingUnit};
pub use repository::{
    BackupRepository, DailyType, DayOfWeek, MonthlyDayNumber, Retention, RetentionFrequencyType,
    RetentionPeriodType, RetentionType, YearlyRetentionPeriod,
};
pub use restore_point::{
    ProtectedResource, ResourceKind, RestorePoint, RestorePointFilter, RestorePointResource,
};
pub use session::{
    Bottleneck, JobSession, JobSessionQuery, JobType, LogItem, NewLogItem, Page, SessionStatistics,
};
