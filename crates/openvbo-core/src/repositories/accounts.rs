//! `/v6/Accounts`: object storage credentials. The secret key is sealed under the master
//! key before it reaches the store and is never returned.

use secrecy::{ExposeSecret, SecretString};

use super::backup_repositories::text;
use super::service::{account_context, RepositoryService};
use crate::backup::{AccountId, AccountType, ObjectStorageAccount};
use crate::store::Removal;
use crate::CoreError;

/// `RESTCredentialToSend` as sent.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInput {
    pub account_type: Option<String>,
    pub user_name: Option<String>,
    pub password: Option<SecretString>,
    pub new_password: Option<SecretString>,
    pub old_password: Option<SecretString>,
    pub description: Option<String>,
}

fn account_type(raw: Option<&str>) -> Result<Option<AccountType>, CoreError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    match AccountType::parse(raw) {
        Some(AccountType::amazonS3CompatibleAccount) => Ok(Some(AccountType::amazonS3CompatibleAccount)),
        Some(other) => Err(CoreError::validation(
            "accountType",
            format!("{other} accounts are not supported by this server; use amazonS3CompatibleAccount"),
        )),
        None => Err(CoreError::validation(
            "accountType",
            format!(
                "accountType '{}' is not one of azureBlobAccount, amazonS3Account, amazonS3CompatibleAccount",
                crate::ids::truncate_for_message(raw)
            ),
        )),
    }
}

fn secret(field: &str, value: Option<&SecretString>) -> Result<SecretString, CoreError> {
    match value {
        Some(s) if !s.expose_secret().is_empty() && s.expose_secret().len() <= 4096 => {
            Ok(s.clone())
        }
        Some(s) if !s.expose_secret().is_empty() => {
            Err(CoreError::validation(field, format!("{field} is too long")))
        }
        _ => Err(CoreError::validation(
            field,
            format!("{field} is required: the secret key of the access key in userName"),
        )),
    }
}

impl RepositoryService {
    pub async fn add_account(
        &self,
        input: AccountInput,
    ) -> Result<ObjectStorageAccount, CoreError> {
        let account_type = account_type(input.account_type.as_deref())?.ok_or_else(|| {
            CoreError::validation(
                "accountType",
                "accountType is required: amazonS3CompatibleAccount",
            )
        })?;
        let user_name = text("userName", input.user_name.as_deref(), true)?;
        let description = text("description", input.description.as_deref(), false)?;
        let password = secret("password", input.password.as_ref())?;
        let id = AccountId::new_random();
        let sealed = self
            .sealer
            .seal(&password, &account_context(id))
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let account = ObjectStorageAccount {
            id,
            account_type,
            user_name,
            secret: sealed,
            description,
            revision: 1,
            created_at: self.clock.now(),
        };
        self.store.insert_account(&account).await?;
        Ok(account)
    }

    /// `name` matches the user name or the description (case-insensitive, part of it).
    pub async fn accounts(
        &self,
        name: Option<&str>,
        account_type: Option<&str>,
    ) -> Result<Vec<ObjectStorageAccount>, CoreError> {
        let kind = match account_type.map(str::trim).filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => Some(AccountType::parse(t).ok_or_else(|| {
                CoreError::validation(
                    "accountType",
                    format!(
                        "accountType '{}' is unknown",
                        crate::ids::truncate_for_message(t)
                    ),
                )
            })?),
        };
        let needle = name
            .map(|n| n.trim().to_lowercase())
            .filter(|n| !n.is_empty());
        Ok(self
            .store
            .list_accounts()
            .await?
            .into_iter()
            .filter(|a| kind.is_none_or(|k| a.account_type == k))
            .filter(|a| {
                needle.as_ref().is_none_or(|n| {
                    a.user_name.to_lowercase().contains(n)
                        || a.description.to_lowercase().contains(n)
                })
            })
            .collect())
    }

    pub async fn account(&self, id: AccountId) -> Result<ObjectStorageAccount, CoreError> {
        self.store
            .get_account(id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("there is no account with id {id}")))
    }

    /// User name, description and the secret (`newPassword`, or `password`).
    pub async fn update_account(
        &self,
        id: AccountId,
        input: AccountInput,
    ) -> Result<(), CoreError> {
        let current = self.account(id).await?;
        if let Some(t) = account_type(input.account_type.as_deref())? {
            if t != current.account_type {
                return Err(CoreError::validation(
                    "accountType",
                    "the type of an account cannot change",
                ));
            }
        }
        let mut next = current.clone();
        if input.user_name.is_some() {
            next.user_name = text("userName", input.user_name.as_deref(), true)?;
        }
        if input.description.is_some() {
            next.description = text("description", input.description.as_deref(), false)?;
        }
        let new_secret = input.new_password.as_ref().or(input.password.as_ref());
        if new_secret.is_some() {
            let field = if input.new_password.is_some() {
                "newPassword"
            } else {
                "password"
            };
            let s = secret(field, new_secret)?;
            next.secret = self
                .sealer
                .seal(&s, &account_context(id))
                .map_err(|e| CoreError::Internal(e.to_string()))?;
        }
        next.revision = current.revision + 1;
        if !self.store.update_account(&next, current.revision).await? {
            return Err(CoreError::Conflict(
                "the account was changed by another request at the same time; retry".into(),
            ));
        }
        Ok(())
    }

    pub async fn remove_account(&self, id: AccountId) -> Result<(), CoreError> {
        match self.store.delete_account(id).await? {
            Removal::Removed => Ok(()),
            Removal::NotFound => Err(CoreError::NotFound(format!(
                "there is no account with id {id}"
            ))),
            Removal::InUse(what) => Err(CoreError::Conflict(format!(
                "the account cannot be removed: {what}"
            ))),
        }
    }
}
