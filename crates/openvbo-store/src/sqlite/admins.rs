//! Administrators (`admins`). User names compare case-insensitively through
//! the columns' `COLLATE NOCASE`.

use async_trait::async_trait;
use openvbo_core::store::{AdminRecord, AdminStore, StoreError};
use sqlx::{Row as _, SqliteConnection, SqlitePool};

use super::error::{corrupt, err, map};
use super::SqliteStore;

#[async_trait]
impl AdminStore for SqliteStore {
    async fn admin_count(&self) -> Result<u64, StoreError> {
        count(&self.read).await
    }

    async fn create_admin(&self, admin: &AdminRecord) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let created = create(&mut tx, admin).await;
        tx.finish(created, "cannot create the administrator").await
    }

    async fn find_admin(&self, user_name: &str) -> Result<Option<AdminRecord>, StoreError> {
        find(&self.read, user_name).await
    }

    async fn set_admin_password(
        &self,
        user_name: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let found = set_password(&mut tx, user_name, password_hash).await;
        tx.finish(found, "cannot change the administrator's password")
            .await
    }
}

async fn count(pool: &SqlitePool) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admins")
        .fetch_one(pool)
        .await
        .map_err(err("cannot count administrators"))?;
    u64::try_from(n).map_err(|_| corrupt(format!("administrator count is {n}")))
}

async fn create(conn: &mut SqliteConnection, admin: &AdminRecord) -> Result<(), StoreError> {
    let result = sqlx::query("INSERT INTO admins (user_name, password_hash) VALUES (?1, ?2)")
        .bind(&admin.user_name)
        .bind(&admin.password_hash)
        .execute(conn)
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Err(StoreError::Conflict(
            format!("administrator '{}' already exists", admin.user_name),
        )),
        Err(e) => Err(map("cannot create the administrator", e)),
    }
}

async fn find(pool: &SqlitePool, user_name: &str) -> Result<Option<AdminRecord>, StoreError> {
    let row = sqlx::query("SELECT user_name, password_hash FROM admins WHERE user_name = ?1")
        .bind(user_name)
        .fetch_optional(pool)
        .await
        .map_err(err("cannot read the administrator"))?;
    let Some(row) = row else {
        return Ok(None);
    };
    let what = "cannot read the administrator";
    Ok(Some(AdminRecord {
        user_name: row.try_get("user_name").map_err(err(what))?,
        password_hash: row.try_get("password_hash").map_err(err(what))?,
    }))
}

async fn set_password(
    conn: &mut SqliteConnection,
    user_name: &str,
    password_hash: &str,
) -> Result<bool, StoreError> {
    let what = "cannot change the administrator's password";
    let updated = sqlx::query("UPDATE admins SET password_hash = ?2 WHERE user_name = ?1")
        .bind(user_name)
        .bind(password_hash)
        .execute(&mut *conn)
        .await
        .map_err(err(what))?;
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    // Whoever knew the old password may hold tokens: they all go.
    sqlx::query("DELETE FROM sessions WHERE user_name = ?1")
        .bind(user_name)
        .execute(&mut *conn)
        .await
        .map_err(err(what))?;
    Ok(true)
}
