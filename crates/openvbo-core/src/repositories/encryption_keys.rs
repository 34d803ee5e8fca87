//! `/v6/EncryptionKeys`: a password that (also) opens the object storage repositories
//! encrypted with it, so their data can be read on a new server with that password
//! alone. The password is never stored in clear: the store gets an argon2id hash (to check
//! a password against) and the password sealed under the master key (to wrap the keys of
//! new repositories). It is never returned.

use secrecy::{ExposeSecret, SecretString};

use super::backup_repositories::text;
use super::service::{encryption_key_context, RepositoryService};
use crate::backup::{EncryptionKey, EncryptionKeyId};
use crate::store::Removal;
use crate::CoreError;

/// VB365 asks for a password; we ask for one worth having.
pub(super) const MIN_PASSWORD: usize = 8;

/// `RESTEncryptionKeyToSend` as sent.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionKeyInput {
    pub password: Option<SecretString>,
    pub description: Option<String>,
}

impl RepositoryService {
    pub async fn add_encryption_key(
        &self,
        input: EncryptionKeyInput,
    ) -> Result<EncryptionKey, CoreError> {
        let description = text("description", input.description.as_deref(), false)?;
        let password = input
            .password
            .filter(|p| !p.expose_secret().is_empty())
            .ok_or_else(|| CoreError::validation("password", "password is required"))?;
        let len = password.expose_secret().chars().count();
        if !(MIN_PASSWORD..=1024).contains(&len) {
            return Err(CoreError::validation(
                "password",
                format!("the password must be {MIN_PASSWORD} to 1024 characters long"),
            ));
        }
        let id = EncryptionKeyId::new_random();
        let for_hash = password.clone();
        let password_hash =
            tokio::task::spawn_blocking(move || crate::auth::hash_password(&for_hash))
                .await
                .map_err(|e| CoreError::Internal(format!("hashing a password: {e}")))??;
        let sealed = self
            .sealer
            .seal(&password, &encryption_key_context(id))
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let key = EncryptionKey {
            id,
            description,
            password_hash,
            key_material: sealed.as_bytes().to_vec(),
            revision: 1,
            created_at: self.clock.now(),
        };
        self.store.insert_encryption_key(&key).await?;
        Ok(key)
    }

    /// With `description`, those whose description contains it (case-insensitive).
    pub async fn encryption_keys(
        &self,
        description: Option<&str>,
    ) -> Result<Vec<EncryptionKey>, CoreError> {
        let needle = description
            .map(|d| d.trim().to_lowercase())
            .filter(|d| !d.is_empty());
        Ok(self
            .store
            .list_encryption_keys()
            .await?
            .into_iter()
            .filter(|k| {
                needle
                    .as_ref()
                    .is_none_or(|n| k.description.to_lowercase().contains(n))
            })
            .collect())
    }

    pub async fn encryption_key(&self, id: EncryptionKeyId) -> Result<EncryptionKey, CoreError> {
        self.store
            .get_encryption_key(id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("there is no encryption key with id {id}")))
    }

    /// Refused while a repository uses it.
    pub async fn remove_encryption_key(&self, id: EncryptionKeyId) -> Result<(), CoreError> {
        match self.store.delete_encryption_key(id).await? {
            Removal::Removed => Ok(()),
            Removal::NotFound => Err(CoreError::NotFound(format!(
                "there is no encryption key with id {id}"
            ))),
            Removal::InUse(what) => Err(CoreError::Conflict(format!(
                "the encryption key cannot be removed: {what}"
            ))),
        }
    }
}
