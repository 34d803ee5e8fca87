//! Object storage accounts and repositories (`object_storage_accounts`,
//! `object_storages`).

use async_trait::async_trait;
use openvbo_core::backup::{
    AccountId, AccountType, ObjectStorageAccount, ObjectStorageId, ObjectStorageRepository,
    ObjectStorageType,
};
use openvbo_core::crypto::SealedSecret;
use openvbo_core::store::{ObjectStorageStore, Removal, StoreError};
use sqlx::{FromRow, SqliteConnection};

use super::convert::{clip, from_millis, parse_enum, parse_id, to_millis};
use super::error::err;
use super::SqliteStore;

const ACCOUNT_COLUMNS: &str =
    "id, account_type, user_name, secret, description, revision, created_at";
const STORAGE_COLUMNS: &str = "id, name, description, storage_type, account_id, service_point, \
     custom_region_id, bucket, folder, size_limit_enabled, size_limit_gb, revision, created_at";

#[derive(FromRow)]
struct AccountRow {
    id: String,
    account_type: String,
    user_name: String,
    secret: Vec<u8>,
    description: String,
    revision: i64,
    created_at: i64,
}

impl TryFrom<AccountRow> for ObjectStorageAccount {
    type Error = StoreError;

    fn try_from(r: AccountRow) -> Result<ObjectStorageAccount, StoreError> {
        Ok(ObjectStorageAccount {
            id: parse_id("object_storage_accounts.id", &r.id)?,
            account_type: parse_enum(
                "object_storage_accounts.account_type",
                &r.account_type,
                AccountType::parse,
            )?,
            user_name: r.user_name,
            secret: SealedSecret::from_bytes(r.secret),
            description: r.description,
            revision: r.revision,
            created_at: from_millis("object_storage_accounts.created_at", r.created_at)?,
        })
    }
}

#[derive(FromRow)]
struct StorageRow {
    id: String,
    name: String,
    description: String,
    storage_type: String,
    account_id: String,
    service_point: String,
    custom_region_id: Option<String>,
    bucket: String,
    folder: String,
    size_limit_enabled: bool,
    size_limit_gb: Option<i64>,
    revision: i64,
    created_at: i64,
}

impl TryFrom<StorageRow> for ObjectStorageRepository {
    type Error = StoreError;

    fn try_from(r: StorageRow) -> Result<ObjectStorageRepository, StoreError> {
        Ok(ObjectStorageRepository {
            id: parse_id("object_storages.id", &r.id)?,
            name: r.name,
            description: r.description,
            storage_type: parse_enum(
                "object_storages.storage_type",
                &r.storage_type,
                ObjectStorageType::parse,
            )?,
            account_id: parse_id("object_storages.account_id", &r.account_id)?,
            service_point: r.service_point,
            custom_region_id: r.custom_region_id,
            bucket: r.bucket,
            folder: r.folder,
            size_limit_enabled: r.size_limit_enabled,
            size_limit_gb: r.size_limit_gb,
            revision: r.revision,
            created_at: from_millis("object_storages.created_at", r.created_at)?,
        })
    }
}

/// Names of up to four rows of `sql` (one `?1` parameter), quoted for a
/// message; empty if none.
async fn users(
    conn: &mut SqliteConnection,
    sql: &str,
    id: String,
) -> Result<Vec<String>, StoreError> {
    let names: Vec<String> = sqlx::query_scalar(sql)
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .map_err(err("cannot check what uses it"))?;
    Ok(names.iter().map(|n| format!("'{}'", clip(n))).collect())
}

async fn delete_account(conn: &mut SqliteConnection, id: AccountId) -> Result<Removal, StoreError> {
    let used_by = users(
        conn,
        "SELECT name FROM object_storages WHERE account_id = ?1 ORDER BY name LIMIT 4",
        id.to_string(),
    )
    .await?;
    if !used_by.is_empty() {
        return Ok(Removal::InUse(format!(
            "the account is used by the object storage repository(ies) {}",
            used_by.join(", ")
        )));
    }
    let deleted = sqlx::query("DELETE FROM object_storage_accounts WHERE id = ?1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await
        .map_err(err("cannot remove the account"))?;
    Ok(removal(deleted.rows_affected()))
}

async fn delete_storage(
    conn: &mut SqliteConnection,
    id: ObjectStorageId,
) -> Result<Removal, StoreError> {
    let used_by = users(
        conn,
        "SELECT name FROM backup_repositories WHERE object_storage_id = ?1 ORDER BY name LIMIT 4",
        id.to_string(),
    )
    .await?;
    if !used_by.is_empty() {
        return Ok(Removal::InUse(format!(
            "the object storage is used by the backup repository(ies) {}",
            used_by.join(", ")
        )));
    }
    let deleted = sqlx::query("DELETE FROM object_storages WHERE id = ?1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await
        .map_err(err("cannot remove the object storage repository"))?;
    Ok(removal(deleted.rows_affected()))
}

pub(crate) fn removal(rows: u64) -> Removal {
    if rows > 0 {
        Removal::Removed
    } else {
        Removal::NotFound
    }
}

async fn check_storage_unique(
    conn: &mut SqliteConnection,
    repo: &ObjectStorageRepository,
) -> Result<(), StoreError> {
    let what = "cannot check the object storage repository's name and location";
    let named: Option<String> =
        sqlx::query_scalar("SELECT name FROM object_storages WHERE name = ?1 AND id <> ?2")
            .bind(&repo.name)
            .bind(repo.id.to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(err(what))?;
    if let Some(other) = named {
        return Err(StoreError::Conflict(format!(
            "an object storage repository named '{}' already exists",
            clip(&other)
        )));
    }
    let located: Option<String> = sqlx::query_scalar(
        "SELECT name FROM object_storages \
         WHERE service_point = ?1 AND bucket = ?2 AND folder = ?3 AND id <> ?4",
    )
    .bind(&repo.service_point)
    .bind(&repo.bucket)
    .bind(&repo.folder)
    .bind(repo.id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(err(what))?;
    if let Some(other) = located {
        return Err(StoreError::Conflict(format!(
            "folder '{}' of bucket '{}' is already the object storage repository '{}'",
            clip(&repo.folder),
            clip(&repo.bucket),
            clip(&other)
        )));
    }
    Ok(())
}

async fn insert_storage(
    conn: &mut SqliteConnection,
    repo: &ObjectStorageRepository,
) -> Result<(), StoreError> {
    check_storage_unique(conn, repo).await?;
    let account: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM object_storage_accounts WHERE id = ?1")
            .bind(repo.account_id.to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(err("cannot check the account"))?;
    if account.is_none() {
        return Err(StoreError::Conflict(format!(
            "the account {} does not exist (any more)",
            repo.account_id
        )));
    }
    sqlx::query(&format!(
        "INSERT INTO object_storages ({STORAGE_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    ))
    .bind(repo.id.to_string())
    .bind(&repo.name)
    .bind(&repo.description)
    .bind(repo.storage_type.as_str())
    .bind(repo.account_id.to_string())
    .bind(&repo.service_point)
    .bind(repo.custom_region_id.as_deref())
    .bind(&repo.bucket)
    .bind(&repo.folder)
    .bind(repo.size_limit_enabled)
    .bind(repo.size_limit_gb)
    .bind(repo.revision)
    .bind(to_millis(repo.created_at))
    .execute(&mut *conn)
    .await
    .map_err(err("cannot add the object storage repository"))?;
    Ok(())
}

async fn update_storage(
    conn: &mut SqliteConnection,
    repo: &ObjectStorageRepository,
    expected_revision: i64,
) -> Result<bool, StoreError> {
    check_storage_unique(conn, repo).await?;
    // Type, account, bucket and folder cannot change (VB365's rule).
    let updated = sqlx::query(
        "UPDATE object_storages SET name = ?3, description = ?4, size_limit_enabled = ?5, \
         size_limit_gb = ?6, revision = ?7 WHERE id = ?1 AND revision = ?2",
    )
    .bind(repo.id.to_string())
    .bind(expected_revision)
    .bind(&repo.name)
    .bind(&repo.description)
    .bind(repo.size_limit_enabled)
    .bind(repo.size_limit_gb)
    .bind(repo.revision)
    .execute(&mut *conn)
    .await
    .map_err(err("cannot update the object storage repository"))?;
    Ok(updated.rows_affected() > 0)
}

#[async_trait]
impl ObjectStorageStore for SqliteStore {
    async fn insert_account(&self, account: &ObjectStorageAccount) -> Result<(), StoreError> {
        let what = "cannot add the account";
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO object_storage_accounts ({ACCOUNT_COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        ))
        .bind(account.id.to_string())
        .bind(account.account_type.as_str())
        .bind(&account.user_name)
        .bind(account.secret.as_bytes())
        .bind(&account.description)
        .bind(account.revision)
        .bind(to_millis(account.created_at))
        .execute(&mut *tx)
        .await
        .map(|_| ())
        .map_err(err(what));
        tx.finish(inserted, what).await
    }

    async fn list_accounts(&self) -> Result<Vec<ObjectStorageAccount>, StoreError> {
        let rows: Vec<AccountRow> = sqlx::query_as(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM object_storage_accounts ORDER BY created_at, id"
        ))
        .fetch_all(&self.read)
        .await
        .map_err(err("cannot list accounts"))?;
        rows.into_iter()
            .map(ObjectStorageAccount::try_from)
            .collect()
    }

    async fn get_account(&self, id: AccountId) -> Result<Option<ObjectStorageAccount>, StoreError> {
        let row: Option<AccountRow> = sqlx::query_as(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM object_storage_accounts WHERE id = ?1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await
        .map_err(err("cannot read the account"))?;
        row.map(ObjectStorageAccount::try_from).transpose()
    }

    async fn update_account(
        &self,
        account: &ObjectStorageAccount,
        expected_revision: i64,
    ) -> Result<bool, StoreError> {
        let what = "cannot update the account";
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE object_storage_accounts SET user_name = ?3, secret = ?4, description = ?5, \
             revision = ?6 WHERE id = ?1 AND revision = ?2",
        )
        .bind(account.id.to_string())
        .bind(expected_revision)
        .bind(&account.user_name)
        .bind(account.secret.as_bytes())
        .bind(&account.description)
        .bind(account.revision)
        .execute(&mut *tx)
        .await
        .map(|done| done.rows_affected() > 0)
        .map_err(err(what));
        tx.finish(updated, what).await
    }

    async fn delete_account(&self, id: AccountId) -> Result<Removal, StoreError> {
        let mut tx = self.begin_write().await?;
        let removed = delete_account(&mut tx, id).await;
        tx.finish(removed, "cannot remove the account").await
    }

    async fn insert_object_storage(
        &self,
        repo: &ObjectStorageRepository,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let inserted = insert_storage(&mut tx, repo).await;
        tx.finish(inserted, "cannot add the object storage repository")
            .await
    }

    async fn list_object_storages(&self) -> Result<Vec<ObjectStorageRepository>, StoreError> {
        let rows: Vec<StorageRow> = sqlx::query_as(&format!(
            "SELECT {STORAGE_COLUMNS} FROM object_storages ORDER BY created_at, id"
        ))
        .fetch_all(&self.read)
        .await
        .map_err(err("cannot list object storage repositories"))?;
        rows.into_iter()
            .map(ObjectStorageRepository::try_from)
            .collect()
    }

    async fn get_object_storage(
        &self,
        id: ObjectStorageId,
    ) -> Result<Option<ObjectStorageRepository>, StoreError> {
        let row: Option<StorageRow> = sqlx::query_as(&format!(
            "SELECT {STORAGE_COLUMNS} FROM object_storages WHERE id = ?1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await
        .map_err(err("cannot read the object storage repository"))?;
        row.map(ObjectStorageRepository::try_from).transpose()
    }

    async fn update_object_storage(
        &self,
        repo: &ObjectStorageRepository,
        expected_revision: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = update_storage(&mut tx, repo, expected_revision).await;
        tx.finish(updated, "cannot update the object storage repository")
            .await
    }

    async fn delete_object_storage(&self, id: ObjectStorageId) -> Result<Removal, StoreError> {
        let mut tx = self.begin_write().await?;
        let removed = delete_storage(&mut tx, id).await;
        tx.finish(removed, "cannot remove the object storage repository")
            .await
    }
}
