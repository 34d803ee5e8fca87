//! [`RepositoryService`]: the v6 rules for proxies, backup repositories, object storage,
//! accounts and encryption keys, over the store and the engine port. Its methods are
//! spread over files by resource (`proxies.rs`, `backup_repositories.rs`, …).
//!
//! For the backup engine: [`RepositoryService::engine`] opens (once per process) the
//! engine of repository X.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use secrecy::SecretString;
use tokio::sync::OnceCell;

use super::engine::{
    EngineError, EngineErrorKind, EngineHandle, EngineLocation, EngineUnlock, RepositoryEngines,
    S3Account, S3Bucket,
};
use crate::backup::{
    BackupRepository, EncryptionKeyId, ObjectStorageAccount, ObjectStorageRepository, Proxy,
    RepositoryId,
};
use crate::clock::SharedClock;
use crate::crypto::Sealer;
use crate::store::Store;
use crate::CoreError;

/// What the service needs to know about where it runs.
#[derive(Clone, Debug)]
pub struct RepositoryOptions {
    /// The host name the built-in `Local` proxy shows.
    pub host_name: String,
    /// Directories no repository may be in or contain (the data dir: VB365 refuses its
    /// installation folder).
    pub protected_paths: Vec<PathBuf>,
}

#[derive(Clone)]
pub struct RepositoryService {
    pub(super) store: Arc<dyn Store>,
    pub(super) sealer: Arc<Sealer>,
    pub(super) engines: Arc<dyn RepositoryEngines>,
    pub(super) clock: SharedClock,
    pub(super) options: Arc<RepositoryOptions>,
    pub(super) local_proxy: Arc<OnceCell<Proxy>>,
    /// Repositories out of sync (an attach found backups of organizations not added yet;
    /// the flag itself is on the repository, so it survives a restart), with the tenants
    /// of this server when their import was last tried: tried again once those change
    /// (the clean-up pass looks).
    pub(super) pending_imports: Arc<std::sync::Mutex<HashMap<RepositoryId, Vec<String>>>>,
    /// The last synchronizations (`/v6/RepositorySynchronizeSessions`).
    pub(super) sync_sessions: Arc<super::sync::Sessions>,
}

impl RepositoryService {
    pub fn new(
        store: Arc<dyn Store>,
        sealer: Arc<Sealer>,
        engines: Arc<dyn RepositoryEngines>,
        clock: SharedClock,
        options: RepositoryOptions,
    ) -> Self {
        Self {
            store,
            sealer,
            engines,
            clock,
            options: Arc::new(options),
            local_proxy: Arc::new(OnceCell::new()),
            pending_imports: Arc::default(),
            sync_sessions: Arc::default(),
        }
    }

    /// The engine of repository `id`, opened with the master key (one shared handle per
    /// process). What a backup writes through.
    pub async fn engine(&self, id: RepositoryId) -> Result<EngineHandle, CoreError> {
        let repo = self.repository_record(id).await?;
        let at = self.location(&repo).await?;
        self.engines
            .open(&at, EngineUnlock::Master)
            .await
            .map_err(|e| engine_error(&format!("repository '{}'", repo.name), e))
    }

    pub(super) async fn repository_record(
        &self,
        id: RepositoryId,
    ) -> Result<BackupRepository, CoreError> {
        self.store.get_repository(id).await?.ok_or_else(|| {
            CoreError::NotFound(format!("there is no backup repository with id {id}"))
        })
    }

    /// Where the repository's data is, with the credentials to reach it opened.
    pub(super) async fn location(
        &self,
        repo: &BackupRepository,
    ) -> Result<EngineLocation, CoreError> {
        match repo.object_storage_id {
            None => Ok(EngineLocation::Local {
                path: PathBuf::from(&repo.path),
            }),
            Some(os) => {
                let storage = self.store.get_object_storage(os).await?.ok_or_else(|| {
                    CoreError::Conflict(format!(
                        "the object storage {os} of repository '{}' is gone",
                        repo.name
                    ))
                })?;
                Ok(EngineLocation::ObjectStorage {
                    bucket: self.bucket_of(&storage).await?,
                    cache_path: PathBuf::from(&repo.path),
                })
            }
        }
    }

    pub(super) async fn bucket_of(
        &self,
        storage: &ObjectStorageRepository,
    ) -> Result<S3Bucket, CoreError> {
        let account = self
            .store
            .get_account(storage.account_id)
            .await?
            .ok_or_else(|| {
                CoreError::Conflict(format!(
                    "the account {} of object storage '{}' is gone",
                    storage.account_id, storage.name
                ))
            })?;
        Ok(S3Bucket {
            account: self.s3_account(
                &account,
                &storage.service_point,
                storage.custom_region_id.as_deref(),
            )?,
            bucket: storage.bucket.clone(),
            folder: storage.folder.clone(),
        })
    }

    pub(super) fn s3_account(
        &self,
        account: &ObjectStorageAccount,
        service_point: &str,
        region: Option<&str>,
    ) -> Result<S3Account, CoreError> {
        Ok(S3Account {
            service_point: service_point.to_string(),
            region: region
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .unwrap_or("us-east-1")
                .to_string(),
            access_key: account.user_name.clone(),
            secret_key: self.open_secret(&account.secret, &account_context(account.id))?,
        })
    }

    pub(super) fn open_secret(
        &self,
        sealed: &crate::crypto::SealedSecret,
        context: &str,
    ) -> Result<SecretString, CoreError> {
        self.sealer
            .open(sealed, context)
            .map_err(|e| CoreError::Internal(format!("{context}: {e}")))
    }

    /// The password of an encryption key, opened from its sealed copy.
    pub(super) async fn key_password(
        &self,
        id: EncryptionKeyId,
    ) -> Result<SecretString, CoreError> {
        let key = self.store.get_encryption_key(id).await?.ok_or_else(|| {
            CoreError::validation(
                "encryptionKeyId",
                format!("there is no encryption key with id {id}"),
            )
        })?;
        let sealed = crate::crypto::SealedSecret::from_bytes(key.key_material);
        self.open_secret(&sealed, &encryption_key_context(id))
    }
}

pub(super) fn account_context(id: crate::backup::AccountId) -> String {
    format!("account/{id}/secret")
}

pub(super) fn encryption_key_context(id: EncryptionKeyId) -> String {
    format!("encryption-key/{id}/password")
}

pub(super) fn repository_context(id: RepositoryId) -> String {
    format!("repository/{id}/engine")
}

/// An engine failure as the caller's remedy: what the administrator can fix (settings,
/// credentials, a missing bucket, an endpoint that does not answer) is a refusal with the
/// engine's message, which never holds a secret.
pub(super) fn engine_error(what: &str, e: EngineError) -> CoreError {
    let message = format!("{what}: {}", e.message);
    match e.kind {
        EngineErrorKind::NotFound
        | EngineErrorKind::AlreadyExists
        | EngineErrorKind::AccessDenied
        | EngineErrorKind::WrongKey
        | EngineErrorKind::Unusable
        | EngineErrorKind::Unreachable
        | EngineErrorKind::InvalidInput => CoreError::Refused(message),
        EngineErrorKind::StorageFull => CoreError::Capacity(message),
        EngineErrorKind::Corrupted | EngineErrorKind::Other => {
            // The message only: a cause's text is not ours to vouch for.
            tracing::warn!(error = %e, "repository engine failed");
            CoreError::Internal(message)
        }
    }
}
