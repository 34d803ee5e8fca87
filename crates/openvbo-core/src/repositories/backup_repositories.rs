//! `/v6/BackupRepositories`: add (a new engine repository at the path, or an existing one
//! attached), list, read with the file system's space, change name/description/retention,
//! remove (the data stays, as in VB365).

use std::path::{Component, Path, PathBuf};

use secrecy::SecretString;

use super::engine::{EngineErrorKind, EngineHandle, EngineLocation, EngineUnlock, Space};
use super::retention::RetentionInput;
use super::service::{engine_error, repository_context, RepositoryService};
use crate::backup::{BackupRepository, EncryptionKeyId, ObjectStorageId, ProxyId, RepositoryId};
use crate::error::ValidationError;
use crate::store::Removal;
use crate::CoreError;

/// The longest name or description accepted.
pub(super) const MAX_TEXT: usize = 1024;

/// `RESTBackupRepositoryFromClient` as sent, less its retention fields (read from the same
/// body into a [`RetentionInput`]). Read-only fields a client echoes back (`id`,
/// `capacityBytes`, `_links`, …) are ignored.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub path: Option<String>,
    pub proxy_id: Option<ProxyId>,
    pub object_storage_id: Option<ObjectStorageId>,
    pub object_storage_cache_path: Option<String>,
    pub object_storage_encryption_enabled: Option<bool>,
    pub encryption_key_id: Option<EncryptionKeyId>,
    pub attach_used_repository: Option<bool>,
}

/// A repository with what was measured when asked.
#[derive(Clone, Debug)]
pub struct RepositoryView {
    pub repository: BackupRepository,
    pub space: Option<Space>,
}

pub(super) fn text(
    field: &str,
    value: Option<&str>,
    required: bool,
) -> Result<String, ValidationError> {
    let v = value.map(str::trim).unwrap_or("");
    if required && v.is_empty() {
        return Err(ValidationError::field(
            field,
            format!("{field} is required"),
        ));
    }
    if v.chars().count() > MAX_TEXT || v.chars().any(|c| c.is_control() && c != '\t') {
        return Err(ValidationError::field(
            field,
            format!("{field} must be at most {MAX_TEXT} characters, without control characters"),
        ));
    }
    Ok(v.to_string())
}

/// An absolute path, with `.` and `..` resolved lexically (the directory may not exist yet).
fn clean_path(field: &str, raw: &str) -> Result<PathBuf, ValidationError> {
    let raw = raw.trim();
    let p = Path::new(raw);
    if raw.is_empty() || !p.is_absolute() || raw.contains('\0') || raw.len() > 4096 {
        return Err(ValidationError::field(
            field,
            format!(
                "{field} must be an absolute directory path on the openvbo server, not '{}'",
                crate::ids::truncate_for_message(raw)
            ),
        ));
    }
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    Ok(out)
}

fn nested(a: &Path, b: &Path) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

impl RepositoryService {
    pub async fn add_repository(
        &self,
        input: RepositoryInput,
        retention: RetentionInput,
    ) -> Result<RepositoryView, CoreError> {
        let name = text("name", input.name.as_deref(), true)?;
        let description = text("description", input.description.as_deref(), false)?;
        let retention = retention.to_new()?;
        let proxy = match input.proxy_id {
            None => self.local_proxy().await?,
            Some(id) => self.proxy(id).await.map_err(|_| {
                CoreError::validation("proxyId", format!("there is no proxy with id {id}"))
            })?,
        };
        let encrypted = input.object_storage_encryption_enabled.unwrap_or(false);
        let (path, object_storage) = match input.object_storage_id {
            None => {
                if encrypted || input.encryption_key_id.is_some() {
                    return Err(CoreError::validation(
                        "objectStorageEncryptionEnabled",
                        "encryption settings apply to object storage only (objectStorageId); a local repository is always encrypted with its own key",
                    ));
                }
                let raw = input.path.as_deref().ok_or_else(|| {
                    CoreError::validation(
                        "path",
                        "path is required for a repository on a local directory",
                    )
                })?;
                (clean_path("path", raw)?, None)
            }
            Some(os) => {
                let storage = self.store.get_object_storage(os).await?.ok_or_else(|| {
                    CoreError::validation(
                        "objectStorageId",
                        format!("there is no object storage repository with id {os}"),
                    )
                })?;
                let raw = input.object_storage_cache_path.as_deref().or(input.path.as_deref()).ok_or_else(|| {
                    CoreError::validation(
                        "objectStorageCachePath",
                        "objectStorageCachePath is required with objectStorageId: the local directory for cache and catalog",
                    )
                })?;
                (clean_path("objectStorageCachePath", raw)?, Some(storage))
            }
        };
        let key_password: Option<(EncryptionKeyId, SecretString)> =
            match (encrypted, input.encryption_key_id) {
                (true, None) => {
                    return Err(CoreError::validation(
                        "encryptionKeyId",
                        "encryptionKeyId is required when objectStorageEncryptionEnabled is true",
                    ))
                }
                (true, Some(k)) => Some((k, self.key_password(k).await?)),
                (false, Some(_)) => {
                    return Err(CoreError::validation(
                        "objectStorageEncryptionEnabled",
                        "encryptionKeyId is given but objectStorageEncryptionEnabled is not true",
                    ))
                }
                (false, None) => None,
            };
        for protected in &self.options.protected_paths {
            if nested(&path, protected) {
                return Err(CoreError::validation(
                    "path",
                    format!(
                        "{} is or contains openvbo's own data directory; choose another directory",
                        path.display()
                    ),
                ));
            }
        }
        let path_text = path.to_string_lossy().into_owned();
        for other in self.store.list_repositories(None).await? {
            if other.name.eq_ignore_ascii_case(&name) {
                return Err(CoreError::Conflict(format!(
                    "a backup repository named '{}' already exists",
                    other.name
                )));
            }
            if nested(&path, Path::new(&other.path)) {
                return Err(CoreError::validation(
                    "path",
                    format!(
                        "{path_text} is, is inside or contains the path of backup repository '{}'",
                        other.name
                    ),
                ));
            }
            if let (Some(a), Some(b)) = (other.object_storage_id, input.object_storage_id) {
                if a == b {
                    return Err(CoreError::Conflict(format!(
                        "the object storage repository is already used by backup repository '{}'",
                        other.name
                    )));
                }
            }
        }

        let at = match &object_storage {
            None => EngineLocation::Local { path: path.clone() },
            Some(s) => EngineLocation::ObjectStorage {
                bucket: self.bucket_of(s).await?,
                cache_path: path.clone(),
            },
        };
        let attach = input.attach_used_repository.unwrap_or(false);
        let what = format!("the repository at {}", location_text(&at));
        let engine = if attach {
            match self.engines.open(&at, EngineUnlock::Master).await {
                Ok(e) => e,
                Err(first) => match &key_password {
                    Some((_, pw)) => self
                        .engines
                        .open(&at, EngineUnlock::Password(pw))
                        .await
                        .map_err(|e| engine_error(&what, e))?,
                    None if first.kind == EngineErrorKind::WrongKey => {
                        return Err(CoreError::Refused(wrong_master_key(&what, &at)))
                    }
                    None => return Err(engine_error(&what, first)),
                },
            }
        } else {
            self.engines
                .create(&at, key_password.as_ref().map(|(_, p)| p))
                .await
                .map_err(|e| {
                    let refused = engine_error(&what, e);
                    match refused {
                        CoreError::Refused(m) if m.contains("already a repository") => CoreError::Refused(format!(
                            "{m}; to take it over with its backups, add it with attachUsedRepository: true"
                        )),
                        other => other,
                    }
                })?
        };

        let id = RepositoryId::new_random();
        let now = self.clock.now();
        let key_material = self
            .sealer
            .seal(
                &SecretString::from(engine.engine_id().to_string()),
                &repository_context(id),
            )
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let repository = BackupRepository {
            id,
            name,
            description,
            path: path_text,
            proxy_id: proxy.id,
            retention,
            object_storage_id: input.object_storage_id,
            object_storage_cache_path: object_storage
                .as_ref()
                .map(|_| path.to_string_lossy().into_owned()),
            object_storage_encryption_enabled: encrypted,
            encryption_key_id: key_password.as_ref().map(|(k, _)| *k),
            is_long_term: false,
            is_out_of_sync: false,
            key_material,
            revision: 1,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_repository(&repository).await?;
        let repository = if attach {
            self.import_after_attach(&repository, &engine).await;
            // As recorded now (out of sync, if records are waiting).
            self.store.get_repository(id).await?.unwrap_or(repository)
        } else {
            repository
        };
        let space = self.space(&at).await;
        Ok(RepositoryView { repository, space })
    }

    /// Rebuilds the attached repository's restore points in the store. The repository is
    /// added whatever happens here (its data is safe either way): a failure, or records of
    /// organizations not added yet, mark it out of sync (`isOutOfSync`, kept in the store)
    /// and are logged for the administrator; the clean-up pass imports again once an
    /// organization is added, and `POST /v6/BackupRepositories/{id}/Sync` at once.
    async fn import_after_attach(&self, repository: &BackupRepository, engine: &EngineHandle) {
        let out_of_sync = match self.import_restore_points(repository.id, engine).await {
            Ok(r) => {
                tracing::info!(
                    repository = %repository.name,
                    points = r.points,
                    adopted = r.adopted,
                    resources = r.resources,
                    "attached repository: restore points rebuilt from its records"
                );
                if r.waiting() {
                    tracing::warn!(
                        repository = %repository.name,
                        records = r.skipped,
                        tenants = %r.unknown_tenants.join(", "),
                        "attached repository: it holds backups of organizations that are not added here; add them (POST /v6/Organizations) and their restore points are imported within a minute, or at once with POST /v6/BackupRepositories/{}/Sync",
                        repository.id
                    );
                }
                r.waiting()
            }
            Err(e) => {
                tracing::warn!(
                    repository = %repository.name,
                    error = %e,
                    "attached repository: its restore points could not be rebuilt; POST /v6/BackupRepositories/{}/Sync tries again",
                    repository.id
                );
                true
            }
        };
        if out_of_sync {
            if let Err(e) = self.set_out_of_sync(repository.id, true).await {
                tracing::warn!(repository = %repository.name, error = %e, "could not record the repository's synchronization state");
            }
            self.remember_tried_import(repository.id).await;
        }
    }

    /// Space where it can be measured; a failure to measure is logged, not an error.
    async fn space(&self, at: &EngineLocation) -> Option<Space> {
        match self.engines.space(at).await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(error = %e, "could not measure a repository's space");
                None
            }
        }
    }

    async fn view(&self, repository: BackupRepository) -> Result<RepositoryView, CoreError> {
        let space = if repository.object_storage_id.is_some() {
            None
        } else {
            self.space(&EngineLocation::Local {
                path: PathBuf::from(&repository.path),
            })
            .await
        };
        Ok(RepositoryView { repository, space })
    }

    pub async fn repositories(
        &self,
        proxy: Option<ProxyId>,
    ) -> Result<Vec<RepositoryView>, CoreError> {
        let mut out = Vec::new();
        for r in self.store.list_repositories(proxy).await? {
            out.push(self.view(r).await?);
        }
        Ok(out)
    }

    pub async fn repository(&self, id: RepositoryId) -> Result<RepositoryView, CoreError> {
        let r = self.repository_record(id).await?;
        self.view(r).await
    }

    /// Name, description and retention; anything else that differs is refused.
    pub async fn update_repository(
        &self,
        id: RepositoryId,
        input: RepositoryInput,
        retention: RetentionInput,
    ) -> Result<(), CoreError> {
        let current = self.repository_record(id).await?;
        if let Some(raw) = input.path.as_deref().filter(|p| !p.trim().is_empty()) {
            let field = if current.object_storage_id.is_some() {
                "objectStorageCachePath"
            } else {
                "path"
            };
            if clean_path(field, raw)? != Path::new(&current.path) {
                return Err(CoreError::validation(
                    "path",
                    "the path of a repository cannot change",
                ));
            }
        }
        if let Some(raw) = input
            .object_storage_cache_path
            .as_deref()
            .filter(|p| !p.trim().is_empty())
        {
            if clean_path("objectStorageCachePath", raw)? != Path::new(&current.path) {
                return Err(CoreError::validation(
                    "objectStorageCachePath",
                    "the cache path of a repository cannot change",
                ));
            }
        }
        if input.proxy_id.is_some_and(|p| p != current.proxy_id) {
            return Err(CoreError::validation(
                "proxyId",
                "the proxy of a repository cannot change",
            ));
        }
        if input
            .object_storage_id
            .is_some_and(|o| Some(o) != current.object_storage_id)
        {
            return Err(CoreError::validation(
                "objectStorageId",
                "the object storage of a repository cannot change",
            ));
        }
        if input
            .object_storage_encryption_enabled
            .is_some_and(|e| e != current.object_storage_encryption_enabled)
            || input
                .encryption_key_id
                .is_some_and(|k| Some(k) != current.encryption_key_id)
        {
            return Err(CoreError::validation(
                "objectStorageEncryptionEnabled",
                "the encryption of a repository cannot change",
            ));
        }
        let mut next = current.clone();
        if input.name.is_some() {
            next.name = text("name", input.name.as_deref(), true)?;
            for other in self.store.list_repositories(None).await? {
                if other.id != id && other.name.eq_ignore_ascii_case(&next.name) {
                    return Err(CoreError::Conflict(format!(
                        "a backup repository named '{}' already exists",
                        other.name
                    )));
                }
            }
        }
        if input.description.is_some() {
            next.description = text("description", input.description.as_deref(), false)?;
        }
        next.retention = retention.merged(&current.retention)?;
        next.revision = current.revision + 1;
        next.updated_at = self.clock.now();
        if !self
            .store
            .update_repository(&next, current.revision)
            .await?
        {
            return Err(CoreError::Conflict(
                "the repository was changed by another request at the same time; read it again and retry".into(),
            ));
        }
        Ok(())
    }

    /// Refused while a job uses it. The data stays where it is.
    pub async fn remove_repository(&self, id: RepositoryId) -> Result<(), CoreError> {
        let repo = self.repository_record(id).await?;
        let at = self.location(&repo).await.ok();
        match self.store.delete_repository(id).await? {
            Removal::Removed => {
                if let Some(at) = at {
                    self.engines.forget(&at);
                }
                Ok(())
            }
            Removal::NotFound => Err(CoreError::NotFound(format!("there is no backup repository with id {id}"))),
            Removal::InUse(what) => Err(CoreError::Conflict(format!(
                "the repository '{}' cannot be removed: {what}; remove the job or point it at another repository first",
                repo.name
            ))),
        }
    }
}

/// Why this server's master key does not open a repository to attach, and what does: it was
/// made by another server, whose key wraps it; on object storage the password of the
/// encryption key it was made with opens it too.
fn wrong_master_key(what: &str, at: &EngineLocation) -> String {
    match at {
        EngineLocation::Local { .. } => format!(
            "{what} was made by a server with another master key; attach it on a server started with that master key (OPENVBO_MASTER_KEY)"
        ),
        EngineLocation::ObjectStorage { .. } => format!(
            "{what} was made by a server with another master key; to attach it with the password it was encrypted with, add an encryption key with that password (POST /v6/EncryptionKeys) and give objectStorageEncryptionEnabled: true and its encryptionKeyId"
        ),
    }
}

fn location_text(at: &EngineLocation) -> String {
    match at {
        EngineLocation::Local { path } => path.display().to_string(),
        EngineLocation::ObjectStorage { bucket, .. } => {
            format!("bucket '{}' folder '{}'", bucket.bucket, bucket.folder)
        }
    }
}
