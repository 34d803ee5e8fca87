//! The port to the repository engine: what the domain needs from the thing that
//! stores backup data, without naming it. The adapter on `openvbo-repo` lives in
//! `crates/openvbo-engines` and is assembled by the composition root.
//!
//! ```text
//! #[async_trait]
//! pub trait RepositoryEngines: Send + Sync + 'static {
//!     // a new repository at `at` (directories created), its random key wrapped by the
//!     // master key and, with `password`, by that password too; AlreadyExists if one is there
//!     async fn create(&self, at: &EngineLocation, password: Option<&SecretString>)
//!         -> Result<EngineHandle, EngineError>;
//!     // an existing repository (attach, or the engine of repository X for a backup);
//!     // one shared handle per location per process
//!     async fn open(&self, at: &EngineLocation, unlock: EngineUnlock<'_>)
//!         -> Result<EngineHandle, EngineError>;
//!     // capacityBytes / freeSpaceBytes of a local path (None on object storage)
//!     async fn space(&self, at: &EngineLocation) -> Result<Option<Space>, EngineError>;
//!     // credentials and bucket work (list + write + delete a probe object in the folder)
//!     async fn probe(&self, bucket: &S3Bucket) -> Result<(), EngineError>;
//!     async fn list_buckets(&self, account: &S3Account) -> Result<Vec<String>, EngineError>;
//!     async fn list_folders(&self, bucket: &S3Bucket) -> Result<Vec<String>, EngineError>;
//!     async fn create_folder(&self, bucket: &S3Bucket, name: &str) -> Result<(), EngineError>;
//!     // drops the cached handle (the repository was removed; its data stays)
//!     fn forget(&self, at: &EngineLocation);
//! }
//!
//! pub trait RepositoryEngine: Send + Sync {            // one open repository
//!     fn engine_id(&self) -> &str;
//!     async fn restore_points(&self) -> Result<Vec<EngineRestorePoint>, EngineError>;
//!     // retention (points or items older than a cut-off), then garbage collection
//!     async fn clean_up(&self, rule: EngineRetention) -> Result<EngineCleanup, EngineError>;
//!     fn as_any(&self) -> &dyn Any;  // the adapter's handle: openvbo_repo::Repository
//! }
//! ```
//!
//! Code that writes backups and can name `openvbo_repo` gets the concrete handle with
//! `handle.as_any().downcast_ref::<openvbo_repo::Repository>()`; code that cannot asks for
//! more methods on [`RepositoryEngine`] (additions only).

use std::any::Any;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;
use time::OffsetDateTime;

/// An S3-compatible service and the credentials to use it.
#[derive(Clone)]
pub struct S3Account {
    /// `amazonBucketS3Compatible.servicePoint`: `https://s3.example.com:9000`.
    pub service_point: String,
    /// `customRegionId`; `us-east-1` when none was given.
    pub region: String,
    pub access_key: String,
    /// Opened from its sealed form just for the call; never formatted.
    pub secret_key: SecretString,
}

impl fmt::Debug for S3Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Account")
            .field("service_point", &self.service_point)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

/// A folder of a bucket (`folder` "" is the bucket root).
#[derive(Clone, Debug)]
pub struct S3Bucket {
    pub account: S3Account,
    pub bucket: String,
    pub folder: String,
}

/// Where a repository's data lives.
#[derive(Clone, Debug)]
pub enum EngineLocation {
    /// A directory holding the whole repository.
    Local { path: PathBuf },
    /// Data in a bucket folder; `cache_path` holds only local cache.
    ObjectStorage {
        bucket: S3Bucket,
        cache_path: PathBuf,
    },
}

impl EngineLocation {
    /// A stable key for caching handles and for messages (no credentials).
    pub fn key(&self) -> String {
        match self {
            EngineLocation::Local { path } => format!("file:{}", path.display()),
            EngineLocation::ObjectStorage { bucket, .. } => format!(
                "s3:{}/{}/{}",
                bucket.account.service_point.trim_end_matches('/'),
                bucket.bucket,
                bucket.folder.trim_matches('/')
            ),
        }
    }
}

/// How to open an existing repository.
#[derive(Clone, Copy)]
pub enum EngineUnlock<'a> {
    /// With the server's master key (the adapter holds it).
    Master,
    /// With the password of an encryption key (a repository made elsewhere).
    Password(&'a SecretString),
}

/// Space on a local file system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Space {
    pub capacity_bytes: u64,
    pub free_bytes: u64,
}

/// A restore point as the repository itself records it (for rebuilding the catalog).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineRestorePoint {
    pub id: String,
    /// The organization id the backup was made for (as the writer recorded it).
    pub organization: String,
    pub resource_id: String,
    /// `mailbox`, `onedrive`, `site`, … as the engine names resource kinds.
    pub resource_kind: String,
    pub created: OffsetDateTime,
    pub item_count: u64,
    pub item_bytes: u64,
    /// Whatever the writer stored beside the record (job id, names…).
    pub extra: String,
}

/// What a retention clean-up removes. Cut-offs are absolute times, so the engine compares
/// them with the times it recorded whatever its own clock says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineRetention {
    /// Nothing expires (`yearlyRetentionPeriod: Keep`); garbage collection still runs.
    KeepForever,
    /// `SnapshotBased`: restore points taken before this go, except each resource's newest.
    PointsBefore(OffsetDateTime),
    /// `ItemLevel`: items last modified before this go from every restore point.
    ItemsModifiedBefore(OffsetDateTime),
}

/// What a clean-up did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineCleanup {
    /// Engine ids ([`EngineRestorePoint::id`]) of the restore points removed.
    pub removed_points: Vec<String>,
    /// Items dropped from points that stay (item-level retention).
    pub items_removed: u64,
    /// The points item-level retention rewrote, with what each holds now.
    pub resized_points: Vec<EngineResizedPoint>,
    /// Bytes of stored objects deleted by garbage collection (deletion is two-phase: what a
    /// clean-up marks is deleted by a later one).
    pub bytes_deleted: u64,
}

/// A restore point that kept its id but lost items (item-level retention).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineResizedPoint {
    pub id: String,
    pub item_count: u64,
    pub item_bytes: u64,
}

/// One open repository, shared by everything that uses it in this process.
#[async_trait]
pub trait RepositoryEngine: Send + Sync {
    /// The engine's own id of the repository (stable across servers).
    fn engine_id(&self) -> &str;
    /// Every restore point recorded in the repository, oldest first.
    async fn restore_points(&self) -> Result<Vec<EngineRestorePoint>, EngineError>;
    /// Applies retention, then collects garbage (unreferenced data, half-empty packs).
    async fn clean_up(&self, rule: EngineRetention) -> Result<EngineCleanup, EngineError>;
    /// The adapter's concrete handle, for code that can name it.
    fn as_any(&self) -> &dyn Any;
}

pub type EngineHandle = Arc<dyn RepositoryEngine>;

/// The engine as the domain sees it.
#[async_trait]
pub trait RepositoryEngines: Send + Sync + 'static {
    async fn create(
        &self,
        at: &EngineLocation,
        password: Option<&SecretString>,
    ) -> Result<EngineHandle, EngineError>;
    async fn open(
        &self,
        at: &EngineLocation,
        unlock: EngineUnlock<'_>,
    ) -> Result<EngineHandle, EngineError>;
    async fn space(&self, at: &EngineLocation) -> Result<Option<Space>, EngineError>;
    async fn probe(&self, bucket: &S3Bucket) -> Result<(), EngineError>;
    async fn list_buckets(&self, account: &S3Account) -> Result<Vec<String>, EngineError>;
    async fn list_folders(&self, bucket: &S3Bucket) -> Result<Vec<String>, EngineError>;
    async fn create_folder(&self, bucket: &S3Bucket, name: &str) -> Result<(), EngineError>;
    fn forget(&self, at: &EngineLocation);
}

/// What went wrong, by what the administrator can do about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineErrorKind {
    /// There is no repository (or bucket, or folder) there.
    NotFound,
    /// A repository is already there.
    AlreadyExists,
    /// The storage refused the credentials (wrong access key or secret).
    AccessDenied,
    /// The key or password does not open the repository.
    WrongKey,
    /// The endpoint did not answer, or kept failing.
    Unreachable,
    /// The disk or bucket is full.
    StorageFull,
    /// Read-only file system, or a path that cannot be a directory.
    Unusable,
    /// The repository's bytes are damaged.
    Corrupted,
    /// Bad settings (an endpoint that is not a URL, …).
    InvalidInput,
    Other,
}

/// An engine failure: a kind to branch on, a message for a person (never a secret), and
/// the cause kept as `source`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct EngineError {
    pub kind: EngineErrorKind,
    pub message: String,
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl EngineError {
    pub fn new(kind: EngineErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub fn with_source(
        kind: EngineErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            kind,
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}
