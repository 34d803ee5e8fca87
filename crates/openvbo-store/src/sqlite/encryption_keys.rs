//! Encryption keys (`encryption_keys`).

use async_trait::async_trait;
use openvbo_core::backup::{EncryptionKey, EncryptionKeyId};
use openvbo_core::store::{EncryptionKeyStore, Removal, StoreError};
use sqlx::{FromRow, SqliteConnection};

use super::convert::{clip, from_millis, parse_id, to_millis};
use super::error::err;
use super::object_storage::removal;
use super::SqliteStore;

const COLUMNS: &str = "id, description, password_hash, key_material, revision, created_at";

#[derive(FromRow)]
struct Row {
    id: String,
    description: String,
    password_hash: String,
    key_material: Vec<u8>,
    revision: i64,
    created_at: i64,
}

impl TryFrom<Row> for EncryptionKey {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<EncryptionKey, StoreError> {
        Ok(EncryptionKey {
            id: parse_id("encryption_keys.id", &r.id)?,
            description: r.description,
            password_hash: r.password_hash,
            key_material: r.key_material,
            revision: r.revision,
            created_at: from_millis("encryption_keys.created_at", r.created_at)?,
        })
    }
}

async fn delete(conn: &mut SqliteConnection, id: EncryptionKeyId) -> Result<Removal, StoreError> {
    let what = "cannot remove the encryption key";
    let used_by: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM backup_repositories WHERE encryption_key_id = ?1 ORDER BY name LIMIT 4",
    )
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(err(what))?;
    if !used_by.is_empty() {
        let names: Vec<String> = used_by.iter().map(|n| format!("'{}'", clip(n))).collect();
        return Ok(Removal::InUse(format!(
            "the encryption key is used by the backup repository(ies) {}",
            names.join(", ")
        )));
    }
    let deleted = sqlx::query("DELETE FROM encryption_keys WHERE id = ?1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await
        .map_err(err(what))?;
    Ok(removal(deleted.rows_affected()))
}

#[async_trait]
impl EncryptionKeyStore for SqliteStore {
    async fn insert_encryption_key(&self, key: &EncryptionKey) -> Result<(), StoreError> {
        let what = "cannot add the encryption key";
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO encryption_keys ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        ))
        .bind(key.id.to_string())
        .bind(&key.description)
        .bind(&key.password_hash)
        .bind(&key.key_material)
        .bind(key.revision)
        .bind(to_millis(key.created_at))
        .execute(&mut *tx)
        .await
        .map(|_| ())
        .map_err(err(what));
        tx.finish(inserted, what).await
    }

    async fn list_encryption_keys(&self) -> Result<Vec<EncryptionKey>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM encryption_keys ORDER BY created_at, id"
        ))
        .fetch_all(&self.read)
        .await
        .map_err(err("cannot list encryption keys"))?;
        rows.into_iter().map(EncryptionKey::try_from).collect()
    }

    async fn get_encryption_key(
        &self,
        id: EncryptionKeyId,
    ) -> Result<Option<EncryptionKey>, StoreError> {
        let row: Option<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM encryption_keys WHERE id = ?1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await
        .map_err(err("cannot read the encryption key"))?;
        row.map(EncryptionKey::try_from).transpose()
    }

    async fn update_encryption_key(
        &self,
        key: &EncryptionKey,
        expected_revision: i64,
    ) -> Result<bool, StoreError> {
        let what = "cannot update the encryption key";
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE encryption_keys SET description = ?3, password_hash = ?4, key_material = ?5, \
             revision = ?6 WHERE id = ?1 AND revision = ?2",
        )
        .bind(key.id.to_string())
        .bind(expected_revision)
        .bind(&key.description)
        .bind(&key.password_hash)
        .bind(&key.key_material)
        .bind(key.revision)
        .execute(&mut *tx)
        .await
        .map(|done| done.rows_affected() > 0)
        .map_err(err(what));
        tx.finish(updated, what).await
    }

    async fn delete_encryption_key(&self, id: EncryptionKeyId) -> Result<Removal, StoreError> {
        let mut tx = self.begin_write().await?;
        let removed = delete(&mut tx, id).await;
        tx.finish(removed, "cannot remove the encryption key").await
    }
}
