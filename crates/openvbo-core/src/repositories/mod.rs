//! Backup repositories, object storage, accounts and encryption keys: the rules of the v6
//! resources that manage them ([`RepositoryService`]), and the port to the engine that
//! stores the data ([`engine`]).

mod accounts;
mod attach;
mod backup_repositories;
mod cleanup;
mod encryption_keys;
pub mod engine;
mod object_storage;
mod proxies;
pub mod retention;
mod service;
mod sync;

pub use accounts::AccountInput;
pub use attach::ImportReport;
pub use backup_repositories::{RepositoryInput, RepositoryView};
pub use cleanup::{next_cleanup, retention_rule, CleanupScheduler};
pub use encryption_keys::EncryptionKeyInput;
pub use engine::{
    EngineCleanup, EngineError, EngineErrorKind, EngineHandle, EngineLocation, EngineResizedPoint,
    EngineRestorePoint, EngineRetention, EngineUnlock, RepositoryEngine, RepositoryEngines,
    S3Account, S3Bucket, Space,
};
pub use object_storage::{BucketInput, BucketQuery, ObjectStorageInput};
pub use proxies::{PROXY_PORT, PROXY_THREADS};
pub use retention::{format_time, RetentionInput};
pub use service::{RepositoryOptions, RepositoryService};
pub use sync::{ImportGate, ImportStep, StopSignal, SyncSession, MAX_SESSIONS};
