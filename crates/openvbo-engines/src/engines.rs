//! [`RepoEngines`]: create, open (one shared handle per location), measure and probe.

use std::any::Any;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use openvbo_core::repositories::{
    EngineCleanup, EngineError, EngineErrorKind, EngineHandle, EngineLocation, EngineResizedPoint,
    EngineRestorePoint, EngineRetention, EngineUnlock, RepositoryEngine, RepositoryEngines,
    S3Account, S3Bucket, Space,
};
use openvbo_repo::{RepoOptions, Repository, ResourceKind, RetentionRule, Unlock, WrappingKey};
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

use crate::browse;
use crate::errors::from_repo;
use crate::location::backend;

/// The adapter. Cheap to share (`Arc`); holds the master key that wraps every repository
/// key of this installation.
pub struct RepoEngines {
    master: WrappingKey,
    holder: String,
    open: Mutex<HashMap<String, EngineHandle>>,
    /// Certificates (PEM) trusted for object storage besides the system's roots.
    trusted: Option<Vec<u8>>,
}

impl RepoEngines {
    /// `master`: the installation's 32-byte master key; `holder`: this server's id, so a
    /// second server writing to the same repository is refused by the engine.
    pub fn new(master: [u8; 32], holder: impl Into<String>) -> Self {
        Self {
            master: WrappingKey::from_bytes(master),
            holder: holder.into(),
            open: Mutex::new(HashMap::new()),
            trusted: None,
        }
    }

    /// Trusts these certificates (PEM, one or more) for S3-compatible services besides the
    /// system's roots: a service whose certificate comes from a private CA, or is
    /// self-signed. Refused now if the bytes hold no certificate, rather than at the first
    /// request.
    pub fn with_trusted_certificates(mut self, pem: Vec<u8>) -> Result<Self, EngineError> {
        match object_store::Certificate::from_pem_bundle(&pem) {
            Ok(certs) if !certs.is_empty() => {
                self.trusted = Some(pem);
                Ok(self)
            }
            _ => Err(EngineError::new(
                EngineErrorKind::InvalidInput,
                "the trusted certificates for object storage hold no PEM certificate",
            )),
        }
    }

    fn roots(&self) -> Option<&[u8]> {
        self.trusted.as_deref()
    }

    fn options(&self) -> RepoOptions {
        RepoOptions {
            holder: self.holder.clone(),
            ..RepoOptions::default()
        }
    }

    fn cached(&self, key: &str) -> Option<EngineHandle> {
        self.open.lock().ok()?.get(key).cloned()
    }

    fn remember(&self, key: String, repo: Repository) -> EngineHandle {
        let handle: EngineHandle = Arc::new(Engine(repo));
        if let Ok(mut open) = self.open.lock() {
            // Two opens racing: keep the first, so everyone shares one handle.
            return open.entry(key).or_insert(handle).clone();
        }
        handle
    }
}

/// Makes the directory (and its parents); refuses a path that exists but is no directory.
async fn ensure_dir(path: &Path, what: &str) -> Result<(), EngineError> {
    let p = path.to_path_buf();
    let what = what.to_string();
    let result = tokio::task::spawn_blocking(move || {
        if p.exists() && !p.is_dir() {
            return Err(EngineError::new(
                EngineErrorKind::Unusable,
                format!("the {what} {} exists and is not a directory", p.display()),
            ));
        }
        // A directory that holds other things is not taken over: a typo must not scatter a
        // repository through /usr. (An existing repository is refused by the engine.)
        if p.is_dir() && !p.join("config").exists() {
            let mut entries = std::fs::read_dir(&p).map_err(|e| {
                EngineError::with_source(
                    EngineErrorKind::Unusable,
                    format!("the {what} {} cannot be read: {}", p.display(), reason(&e)),
                    e,
                )
            })?;
            if entries.next().is_some() {
                return Err(EngineError::new(
                    EngineErrorKind::Unusable,
                    format!(
                        "the {what} {} is not empty; give a new or empty directory",
                        p.display()
                    ),
                ));
            }
        }
        std::fs::create_dir_all(&p).map_err(|e| {
            let kind = match e.kind() {
                std::io::ErrorKind::StorageFull => EngineErrorKind::StorageFull,
                _ => EngineErrorKind::Unusable,
            };
            EngineError::with_source(
                kind,
                format!(
                    "the {what} {} cannot be created: {}",
                    p.display(),
                    reason(&e)
                ),
                e,
            )
        })
    })
    .await;
    match result {
        Ok(r) => r,
        Err(e) => Err(EngineError::with_source(
            EngineErrorKind::Other,
            "creating a directory",
            e,
        )),
    }
}

fn reason(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied",
        std::io::ErrorKind::ReadOnlyFilesystem => "the file system is read-only",
        std::io::ErrorKind::StorageFull => "no space left on the device",
        std::io::ErrorKind::NotADirectory => "a part of the path is a file",
        _ => "the file system refused",
    }
}

#[async_trait]
impl RepositoryEngines for RepoEngines {
    async fn create(
        &self,
        at: &EngineLocation,
        password: Option<&SecretString>,
    ) -> Result<EngineHandle, EngineError> {
        match at {
            EngineLocation::Local { path } => ensure_dir(path, "path").await?,
            EngineLocation::ObjectStorage { cache_path, .. } => {
                ensure_dir(cache_path, "cache path").await?
            }
        }
        let repo = Repository::init(
            backend(at, self.roots())?,
            &self.master,
            password.map(|p| p.expose_secret()),
            self.options(),
        )
        .await
        .map_err(from_repo)?;
        Ok(self.remember(at.key(), repo))
    }

    async fn open(
        &self,
        at: &EngineLocation,
        unlock: EngineUnlock<'_>,
    ) -> Result<EngineHandle, EngineError> {
        let key = at.key();
        if let Some(h) = self.cached(&key) {
            return Ok(h);
        }
        let unlock = match unlock {
            EngineUnlock::Master => Unlock::Master(&self.master),
            EngineUnlock::Password(p) => Unlock::Password(p.expose_secret()),
        };
        let repo = Repository::open(backend(at, self.roots())?, unlock, self.options())
            .await
            .map_err(from_repo)?;
        // Opened by password (a repository made by another server): wrap its key by our
        // master key too, so this server opens it by itself from now on.
        if matches!(unlock, Unlock::Password(_)) {
            if let Err(e) = repo.set_master(unlock, &self.master).await {
                tracing::warn!(error = %e, "could not add this server's key to an attached repository");
            }
        }
        Ok(self.remember(key, repo))
    }

    async fn space(&self, at: &EngineLocation) -> Result<Option<Space>, EngineError> {
        match at {
            EngineLocation::ObjectStorage { .. } => Ok(None),
            EngineLocation::Local { .. } => {
                let c = backend(at, self.roots())?
                    .capacity()
                    .await
                    .map_err(from_repo)?;
                Ok(c.map(|c| Space {
                    capacity_bytes: c.capacity_bytes,
                    free_bytes: c.free_bytes,
                }))
            }
        }
    }

    async fn probe(&self, bucket: &S3Bucket) -> Result<(), EngineError> {
        browse::probe(bucket, self.roots()).await
    }

    async fn list_buckets(&self, account: &S3Account) -> Result<Vec<String>, EngineError> {
        browse::list_buckets(account).await
    }

    async fn list_folders(&self, bucket: &S3Bucket) -> Result<Vec<String>, EngineError> {
        browse::list_folders(bucket, self.roots()).await
    }

    async fn create_folder(&self, bucket: &S3Bucket, name: &str) -> Result<(), EngineError> {
        browse::create_folder(bucket, name, self.roots()).await
    }

    fn forget(&self, at: &EngineLocation) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(&at.key());
        }
    }
}

/// One open repository.
struct Engine(Repository);

fn kind_name(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Mailbox => "mailbox",
        ResourceKind::OneDrive => "onedrive",
        ResourceKind::Site => "site",
        ResourceKind::Team => "team",
    }
}

#[async_trait]
impl RepositoryEngine for Engine {
    fn engine_id(&self) -> &str {
        self.0.id()
    }

    async fn restore_points(&self) -> Result<Vec<EngineRestorePoint>, EngineError> {
        let mut points = self.0.list_points(None).await.map_err(from_repo)?;
        points.retain(|p| p.complete);
        points.sort_by_key(|p| p.time_ms);
        Ok(points
            .into_iter()
            .map(|p| EngineRestorePoint {
                id: p.id.0,
                organization: p.resource.organization,
                resource_id: p.resource.resource,
                resource_kind: kind_name(p.resource.kind).to_string(),
                created: OffsetDateTime::from_unix_timestamp_nanos(
                    i128::from(p.time_ms) * 1_000_000,
                )
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                item_count: p.item_count,
                item_bytes: p.item_bytes,
                extra: p.extra.to_string(),
            })
            .collect())
    }

    async fn clean_up(&self, rule: EngineRetention) -> Result<EngineCleanup, EngineError> {
        // The engine keeps what is newer than `now - keep_ms` by its own clock; taking
        // `keep_ms` from that same clock makes the cut-off exactly the caller's.
        let keep_ms = |before: OffsetDateTime| {
            let before_ms =
                i64::try_from(before.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MIN);
            self.0.now_ms().saturating_sub(before_ms).max(0)
        };
        let rule = match rule {
            EngineRetention::KeepForever => RetentionRule::KeepForever,
            EngineRetention::PointsBefore(t) => RetentionRule::SnapshotBased {
                keep_ms: keep_ms(t),
            },
            EngineRetention::ItemsModifiedBefore(t) => RetentionRule::ItemLevel {
                keep_ms: keep_ms(t),
            },
        };
        let forgot = self.0.forget(&rule).await.map_err(from_repo)?;
        // What each rewritten point holds now, so the store's per-resource counts follow.
        let mut resized_points = Vec::with_capacity(forgot.rewritten.len());
        for id in &forgot.rewritten {
            let p = self.0.read_point(id).await.map_err(from_repo)?;
            resized_points.push(EngineResizedPoint {
                id: id.0.clone(),
                item_count: p.item_count,
                item_bytes: p.item_bytes,
            });
        }
        let pruned = self.0.prune().await.map_err(from_repo)?;
        Ok(EngineCleanup {
            removed_points: forgot.removed.into_iter().map(|p| p.0).collect(),
            items_removed: forgot.items_removed,
            resized_points,
            bytes_deleted: pruned.bytes_deleted,
        })
    }

    fn as_any(&self) -> &dyn Any {
        &self.0
    }
}
