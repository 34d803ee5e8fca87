//! Backup repositories (`backup_repositories`).

use async_trait::async_trait;
use openvbo_core::backup::{
    BackupRepository, DailyType, DayOfWeek, MonthlyDayNumber, ProxyId, RepositoryId, Retention,
    RetentionFrequencyType, RetentionPeriodType, RetentionType, YearlyRetentionPeriod,
};
use openvbo_core::crypto::SealedSecret;
use openvbo_core::store::{Removal, RepositoryStore, StoreError};
use sqlx::{FromRow, SqliteConnection};

use super::convert::{
    clip, from_day_seconds, from_millis, parse_enum, parse_id, parse_opt_enum, parse_opt_id,
    to_day_seconds, to_millis,
};
use super::error::err;
use super::SqliteStore;

const COLUMNS: &str = "id, name, description, path, proxy_id, retention_type, \
     retention_period_type, daily_retention_period, monthly_retention_period, \
     yearly_retention_period, retention_frequency_type, daily_time, daily_type, monthly_time, \
     monthly_daynumber, monthly_dayofweek, object_storage_id, object_storage_cache_path, \
     object_storage_encryption_enabled, encryption_key_id, is_long_term, is_out_of_sync, \
     key_material, revision, created_at, updated_at";

#[derive(FromRow)]
struct Row {
    id: String,
    name: String,
    description: String,
    path: String,
    proxy_id: String,
    retention_type: String,
    retention_period_type: String,
    daily_retention_period: Option<i32>,
    monthly_retention_period: Option<i32>,
    yearly_retention_period: Option<String>,
    retention_frequency_type: String,
    daily_time: i64,
    daily_type: String,
    monthly_time: i64,
    monthly_daynumber: String,
    monthly_dayofweek: String,
    object_storage_id: Option<String>,
    object_storage_cache_path: Option<String>,
    object_storage_encryption_enabled: bool,
    encryption_key_id: Option<String>,
    is_long_term: bool,
    is_out_of_sync: bool,
    key_material: Vec<u8>,
    revision: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for BackupRepository {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<BackupRepository, StoreError> {
        let c = |name: &str| format!("backup_repositories.{name}");
        Ok(BackupRepository {
            id: parse_id(&c("id"), &r.id)?,
            name: r.name,
            description: r.description,
            path: r.path,
            proxy_id: parse_id(&c("proxy_id"), &r.proxy_id)?,
            retention: Retention {
                retention_type: parse_enum(
                    &c("retention_type"),
                    &r.retention_type,
                    RetentionType::parse,
                )?,
                period_type: parse_enum(
                    &c("retention_period_type"),
                    &r.retention_period_type,
                    RetentionPeriodType::parse,
                )?,
                daily_period: r.daily_retention_period,
                monthly_period: r.monthly_retention_period,
                yearly_period: parse_opt_enum(
                    &c("yearly_retention_period"),
                    r.yearly_retention_period.as_deref(),
                    YearlyRetentionPeriod::parse,
                )?,
                frequency_type: parse_enum(
                    &c("retention_frequency_type"),
                    &r.retention_frequency_type,
                    RetentionFrequencyType::parse,
                )?,
                daily_time: from_day_seconds(&c("daily_time"), r.daily_time)?,
                daily_type: parse_enum(&c("daily_type"), &r.daily_type, DailyType::parse)?,
                monthly_time: from_day_seconds(&c("monthly_time"), r.monthly_time)?,
                monthly_day_number: parse_enum(
                    &c("monthly_daynumber"),
                    &r.monthly_daynumber,
                    MonthlyDayNumber::parse,
                )?,
                monthly_day_of_week: parse_enum(
                    &c("monthly_dayofweek"),
                    &r.monthly_dayofweek,
                    DayOfWeek::parse,
                )?,
            },
            object_storage_id: parse_opt_id(
                &c("object_storage_id"),
                r.object_storage_id.as_deref(),
            )?,
            object_storage_cache_path: r.object_storage_cache_path,
            object_storage_encryption_enabled: r.object_storage_encryption_enabled,
            encryption_key_id: parse_opt_id(
                &c("encryption_key_id"),
                r.encryption_key_id.as_deref(),
            )?,
            is_long_term: r.is_long_term,
            is_out_of_sync: r.is_out_of_sync,
            key_material: SealedSecret::from_bytes(r.key_material),
            revision: r.revision,
            created_at: from_millis(&c("created_at"), r.created_at)?,
            updated_at: from_millis(&c("updated_at"), r.updated_at)?,
        })
    }
}

/// The name of another repository (not `except`) with this name or path.
async fn holder(
    conn: &mut SqliteConnection,
    column: &str,
    value: &str,
    except: RepositoryId,
) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar(&format!(
        "SELECT name FROM backup_repositories WHERE {column} = ?1 AND id <> ?2"
    ))
    .bind(value)
    .bind(except.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(err("cannot check the repository's name and path"))
}

async fn check_unique(
    conn: &mut SqliteConnection,
    repo: &BackupRepository,
    check_path: bool,
) -> Result<(), StoreError> {
    if let Some(other) = holder(conn, "name", &repo.name, repo.id).await? {
        return Err(StoreError::Conflict(format!(
            "a backup repository named '{}' already exists",
            clip(&other)
        )));
    }
    if check_path {
        if let Some(other) = holder(conn, "path", &repo.path, repo.id).await? {
            return Err(StoreError::Conflict(format!(
                "the path {} is already used by the backup repository '{}'",
                clip(&repo.path),
                clip(&other)
            )));
        }
    }
    Ok(())
}

async fn insert(conn: &mut SqliteConnection, repo: &BackupRepository) -> Result<(), StoreError> {
    check_unique(conn, repo, true).await?;
    let r = &repo.retention;
    sqlx::query(&format!(
        "INSERT INTO backup_repositories ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, \
         ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)"
    ))
    .bind(repo.id.to_string())
    .bind(&repo.name)
    .bind(&repo.description)
    .bind(&repo.path)
    .bind(repo.proxy_id.to_string())
    .bind(r.retention_type.as_str())
    .bind(r.period_type.as_str())
    .bind(r.daily_period)
    .bind(r.monthly_period)
    .bind(r.yearly_period.map(YearlyRetentionPeriod::as_str))
    .bind(r.frequency_type.as_str())
    .bind(to_day_seconds(r.daily_time))
    .bind(r.daily_type.as_str())
    .bind(to_day_seconds(r.monthly_time))
    .bind(r.monthly_day_number.as_str())
    .bind(r.monthly_day_of_week.as_str())
    .bind(repo.object_storage_id.map(|id| id.to_string()))
    .bind(repo.object_storage_cache_path.as_deref())
    .bind(repo.object_storage_encryption_enabled)
    .bind(repo.encryption_key_id.map(|id| id.to_string()))
    .bind(repo.is_long_term)
    .bind(repo.is_out_of_sync)
    .bind(repo.key_material.as_bytes())
    .bind(repo.revision)
    .bind(to_millis(repo.created_at))
    .bind(to_millis(repo.updated_at))
    .execute(&mut *conn)
    .await
    .map_err(err("cannot add the backup repository"))?;
    Ok(())
}

async fn update(
    conn: &mut SqliteConnection,
    repo: &BackupRepository,
    expected_revision: i64,
) -> Result<bool, StoreError> {
    check_unique(conn, repo, false).await?;
    let r = &repo.retention;
    let updated = sqlx::query(
        "UPDATE backup_repositories SET name = ?3, description = ?4, retention_type = ?5, \
         retention_period_type = ?6, daily_retention_period = ?7, monthly_retention_period = ?8, \
         yearly_retention_period = ?9, retention_frequency_type = ?10, daily_time = ?11, \
         daily_type = ?12, monthly_time = ?13, monthly_daynumber = ?14, monthly_dayofweek = ?15, \
         object_storage_cache_path = ?16, is_long_term = ?17, is_out_of_sync = ?18, \
         revision = ?19, updated_at = ?20 \
         WHERE id = ?1 AND revision = ?2",
    )
    .bind(repo.id.to_string())
    .bind(expected_revision)
    .bind(&repo.name)
    .bind(&repo.description)
    .bind(r.retention_type.as_str())
    .bind(r.period_type.as_str())
    .bind(r.daily_period)
    .bind(r.monthly_period)
    .bind(r.yearly_period.map(YearlyRetentionPeriod::as_str))
    .bind(r.frequency_type.as_str())
    .bind(to_day_seconds(r.daily_time))
    .bind(r.daily_type.as_str())
    .bind(to_day_seconds(r.monthly_time))
    .bind(r.monthly_day_number.as_str())
    .bind(r.monthly_day_of_week.as_str())
    .bind(repo.object_storage_cache_path.as_deref())
    .bind(repo.is_long_term)
    .bind(repo.is_out_of_sync)
    .bind(repo.revision)
    .bind(to_millis(repo.updated_at))
    .execute(&mut *conn)
    .await
    .map_err(err("cannot update the backup repository"))?;
    Ok(updated.rows_affected() > 0)
}

async fn delete(conn: &mut SqliteConnection, id: RepositoryId) -> Result<Removal, StoreError> {
    let what = "cannot remove the backup repository";
    let jobs: Vec<String> =
        sqlx::query_scalar("SELECT name FROM jobs WHERE repository_id = ?1 ORDER BY name LIMIT 4")
            .bind(id.to_string())
            .fetch_all(&mut *conn)
            .await
            .map_err(err(what))?;
    if !jobs.is_empty() {
        let names: Vec<String> = jobs.iter().map(|n| format!("'{}'", clip(n))).collect();
        return Ok(Removal::InUse(format!(
            "the backup repository is used by the job(s) {}",
            names.join(", ")
        )));
    }
    let deleted = sqlx::query("DELETE FROM backup_repositories WHERE id = ?1")
        .bind(id.to_string())
        .execute(&mut *conn)
        .await
        .map_err(err(what))?;
    Ok(if deleted.rows_affected() > 0 {
        Removal::Removed
    } else {
        Removal::NotFound
    })
}

#[async_trait]
impl RepositoryStore for SqliteStore {
    async fn insert_repository(&self, repo: &BackupRepository) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let inserted = insert(&mut tx, repo).await;
        tx.finish(inserted, "cannot add the backup repository")
            .await
    }

    async fn list_repositories(
        &self,
        proxy: Option<ProxyId>,
    ) -> Result<Vec<BackupRepository>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM backup_repositories \
             WHERE ?1 IS NULL OR proxy_id = ?1 ORDER BY created_at, id"
        ))
        .bind(proxy.map(|p| p.to_string()))
        .fetch_all(&self.read)
        .await
        .map_err(err("cannot list backup repositories"))?;
        rows.into_iter().map(BackupRepository::try_from).collect()
    }

    async fn get_repository(
        &self,
        id: RepositoryId,
    ) -> Result<Option<BackupRepository>, StoreError> {
        let row: Option<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM backup_repositories WHERE id = ?1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await
        .map_err(err("cannot read the backup repository"))?;
        row.map(BackupRepository::try_from).transpose()
    }

    async fn update_repository(
        &self,
        repo: &BackupRepository,
        expected_revision: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = update(&mut tx, repo, expected_revision).await;
        tx.finish(updated, "cannot update the backup repository")
            .await
    }

    async fn delete_repository(&self, id: RepositoryId) -> Result<Removal, StoreError> {
        let mut tx = self.begin_write().await?;
        let removed = delete(&mut tx, id).await;
        tx.finish(removed, "cannot remove the backup repository")
            .await
    }
}
