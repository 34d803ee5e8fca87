//! Backup jobs and their selected and excluded items (`jobs`, `job_items`).

use async_trait::async_trait;
use openvbo_core::backup::{BackupType, Job, JobId, JobItem, JobItemId, JobItemList, JobStatus};
use openvbo_core::store::{JobStore, StoreError};
use openvbo_core::OrganizationId;
use sqlx::{FromRow, SqliteConnection};
use time::OffsetDateTime;

use super::convert::{
    clip, from_millis, from_opt_millis, parse_enum, parse_id, to_millis, to_opt_millis,
};
use super::error::{err, map};
use super::SqliteStore;

const COLUMNS: &str = "id, organization_id, repository_id, name, description, backup_type, \
     schedule_policy, is_enabled, last_run, next_run, last_status, revision, created_at, \
     updated_at";

#[derive(FromRow)]
struct Row {
    id: String,
    organization_id: String,
    repository_id: String,
    name: String,
    description: String,
    backup_type: String,
    schedule_policy: String,
    is_enabled: bool,
    last_run: Option<i64>,
    next_run: Option<i64>,
    last_status: String,
    revision: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for Job {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Job, StoreError> {
        Ok(Job {
            id: parse_id("jobs.id", &r.id)?,
            organization_id: parse_id("jobs.organization_id", &r.organization_id)?,
            repository_id: parse_id("jobs.repository_id", &r.repository_id)?,
            name: r.name,
            description: r.description,
            backup_type: parse_enum("jobs.backup_type", &r.backup_type, BackupType::parse)?,
            schedule_policy: r.schedule_policy,
            is_enabled: r.is_enabled,
            last_run: from_opt_millis("jobs.last_run", r.last_run)?,
            next_run: from_opt_millis("jobs.next_run", r.next_run)?,
            last_status: parse_enum("jobs.last_status", &r.last_status, JobStatus::parse)?,
            revision: r.revision,
            created_at: from_millis("jobs.created_at", r.created_at)?,
            updated_at: from_millis("jobs.updated_at", r.updated_at)?,
        })
    }
}

#[derive(FromRow)]
struct ItemRow {
    id: String,
    item_type: String,
    body: String,
}

impl From<ItemRow> for JobItem {
    fn from(r: ItemRow) -> JobItem {
        JobItem {
            id: JobItemId(r.id),
            item_type: r.item_type,
            body: r.body,
        }
    }
}

async fn exists(conn: &mut SqliteConnection, sql: &str, id: String) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar(sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(err("cannot check the job's references"))?;
    Ok(found.is_some())
}

async fn insert(
    conn: &mut SqliteConnection,
    job: &Job,
    selected: &[JobItem],
    excluded: &[JobItem],
) -> Result<(), StoreError> {
    let what = "cannot add the job";
    let org = job.organization_id.to_string();
    if !exists(
        conn,
        "SELECT 1 FROM organizations WHERE id = ?1",
        org.clone(),
    )
    .await?
    {
        return Err(StoreError::Conflict(format!(
            "organization {org} does not exist (any more)"
        )));
    }
    let repo = job.repository_id.to_string();
    if !exists(
        conn,
        "SELECT 1 FROM backup_repositories WHERE id = ?1",
        repo.clone(),
    )
    .await?
    {
        return Err(StoreError::Conflict(format!(
            "backup repository {repo} does not exist (any more)"
        )));
    }
    if job.backup_type == BackupType::EntireOrganization {
        let other: Option<String> = sqlx::query_scalar(
            "SELECT name FROM jobs WHERE organization_id = ?1 AND repository_id = ?2 \
             AND backup_type = 'EntireOrganization'",
        )
        .bind(&org)
        .bind(&repo)
        .fetch_optional(&mut *conn)
        .await
        .map_err(err(what))?;
        if let Some(other) = other {
            return Err(StoreError::Conflict(format!(
                "the job '{}' already backs up the entire organization to this repository",
                clip(&other)
            )));
        }
    }
    sqlx::query(&format!(
        "INSERT INTO jobs ({COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    ))
    .bind(job.id.to_string())
    .bind(&org)
    .bind(&repo)
    .bind(&job.name)
    .bind(&job.description)
    .bind(job.backup_type.as_str())
    .bind(&job.schedule_policy)
    .bind(job.is_enabled)
    .bind(to_opt_millis(job.last_run))
    .bind(to_opt_millis(job.next_run))
    .bind(job.last_status.as_str())
    .bind(job.revision)
    .bind(to_millis(job.created_at))
    .bind(to_millis(job.updated_at))
    .execute(&mut *conn)
    .await
    .map_err(|e| conflict_or(what, "a job with this id already exists", e))?;
    insert_items(conn, job.id, JobItemList::Selected, selected).await?;
    insert_items(conn, job.id, JobItemList::Excluded, excluded).await
}

/// A unique violation as a neutral conflict message, anything else mapped.
fn conflict_or(what: &str, conflict: &str, e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(conflict.to_owned())
        }
        e => map(what, e),
    }
}

async fn insert_items(
    conn: &mut SqliteConnection,
    job: JobId,
    list: JobItemList,
    items: &[JobItem],
) -> Result<(), StoreError> {
    let what = "cannot store the job's items";
    let next: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(position) + 1, 0) FROM job_items WHERE job_id = ?1 AND list = ?2",
    )
    .bind(job.to_string())
    .bind(list.as_str())
    .fetch_one(&mut *conn)
    .await
    .map_err(err(what))?;
    for (offset, item) in (0_i64..).zip(items) {
        sqlx::query(
            "INSERT INTO job_items (job_id, list, id, item_type, body, position) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(job.to_string())
        .bind(list.as_str())
        .bind(&item.id.0)
        .bind(&item.item_type)
        .bind(&item.body)
        .bind(next.saturating_add(offset))
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            conflict_or(
                what,
                &format!("the item {} is already in the job", clip(&item.id.0)),
                e,
            )
        })?;
    }
    Ok(())
}

async fn job_exists(conn: &mut SqliteConnection, job: JobId) -> Result<bool, StoreError> {
    exists(conn, "SELECT 1 FROM jobs WHERE id = ?1", job.to_string()).await
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn insert_job(
        &self,
        job: &Job,
        selected: &[JobItem],
        excluded: &[JobItem],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let inserted = insert(&mut tx, job, selected, excluded).await;
        tx.finish(inserted, "cannot add the job").await
    }

    async fn list_jobs(
        &self,
        organization: Option<OrganizationId>,
    ) -> Result<Vec<Job>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM jobs WHERE ?1 IS NULL OR organization_id = ?1 \
             ORDER BY created_at, id"
        ))
        .bind(organization.map(|o| o.to_string()))
        .fetch_all(&self.read)
        .await
        .map_err(err("cannot list jobs"))?;
        rows.into_iter().map(Job::try_from).collect()
    }

    async fn get_job(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"))
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await
            .map_err(err("cannot read the job"))?;
        row.map(Job::try_from).transpose()
    }

    async fn update_job(&self, job: &Job, expected_revision: i64) -> Result<bool, StoreError> {
        let what = "cannot update the job";
        let mut tx = self.begin_write().await?;
        // The organization and created_at record the job's creation; the
        // repository may change (VB365 allows moving a job).
        let updated = sqlx::query(
            "UPDATE jobs SET repository_id = ?3, name = ?4, description = ?5, backup_type = ?6, \
             schedule_policy = ?7, is_enabled = ?8, last_run = ?9, next_run = ?10, \
             last_status = ?11, revision = ?12, updated_at = ?13 \
             WHERE id = ?1 AND revision = ?2",
        )
        .bind(job.id.to_string())
        .bind(expected_revision)
        .bind(job.repository_id.to_string())
        .bind(&job.name)
        .bind(&job.description)
        .bind(job.backup_type.as_str())
        .bind(&job.schedule_policy)
        .bind(job.is_enabled)
        .bind(to_opt_millis(job.last_run))
        .bind(to_opt_millis(job.next_run))
        .bind(job.last_status.as_str())
        .bind(job.revision)
        .bind(to_millis(job.updated_at))
        .execute(&mut *tx)
        .await
        .map(|done| done.rows_affected() > 0)
        .map_err(|e| {
            conflict_or(
                what,
                "another job already backs up the entire organization to this repository",
                e,
            )
        });
        tx.finish(updated, what).await
    }

    async fn record_job_run(
        &self,
        id: JobId,
        last_run: Option<OffsetDateTime>,
        last_status: JobStatus,
        next_run: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        let what = "cannot record the job's run";
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE jobs SET last_run = ?2, last_status = ?3, next_run = ?4 WHERE id = ?1",
        )
        .bind(id.to_string())
        .bind(to_opt_millis(last_run))
        .bind(last_status.as_str())
        .bind(to_opt_millis(next_run))
        .execute(&mut *tx)
        .await
        .map(|done| done.rows_affected() > 0)
        .map_err(err(what));
        tx.finish(updated, what).await
    }

    async fn delete_job(&self, id: JobId) -> Result<bool, StoreError> {
        let what = "cannot remove the job";
        let mut tx = self.begin_write().await?;
        // Items go with it: ON DELETE CASCADE.
        let deleted = sqlx::query("DELETE FROM jobs WHERE id = ?1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map(|done| done.rows_affected() > 0)
            .map_err(err(what));
        tx.finish(deleted, what).await
    }

    async fn list_job_items(
        &self,
        job: JobId,
        list: JobItemList,
    ) -> Result<Vec<JobItem>, StoreError> {
        let rows: Vec<ItemRow> = sqlx::query_as(
            "SELECT id, item_type, body FROM job_items WHERE job_id = ?1 AND list = ?2 \
             ORDER BY position",
        )
        .bind(job.to_string())
        .bind(list.as_str())
        .fetch_all(&self.read)
        .await
        .map_err(err("cannot list the job's items"))?;
        Ok(rows.into_iter().map(JobItem::from).collect())
    }

    async fn get_job_item(
        &self,
        job: JobId,
        list: JobItemList,
        item: &JobItemId,
    ) -> Result<Option<JobItem>, StoreError> {
        let row: Option<ItemRow> = sqlx::query_as(
            "SELECT id, item_type, body FROM job_items WHERE job_id = ?1 AND list = ?2 AND id = ?3",
        )
        .bind(job.to_string())
        .bind(list.as_str())
        .bind(&item.0)
        .fetch_optional(&self.read)
        .await
        .map_err(err("cannot read the job's item"))?;
        Ok(row.map(JobItem::from))
    }

    async fn add_job_items(
        &self,
        job: JobId,
        list: JobItemList,
        items: &[JobItem],
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let added = async {
            if !job_exists(&mut tx, job).await? {
                return Ok(false);
            }
            insert_items(&mut tx, job, list, items).await?;
            Ok(true)
        }
        .await;
        tx.finish(added, "cannot add the job's items").await
    }

    async fn update_job_item(
        &self,
        job: JobId,
        list: JobItemList,
        item: &JobItem,
    ) -> Result<bool, StoreError> {
        let what = "cannot update the job's item";
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE job_items SET item_type = ?4, body = ?5 \
             WHERE job_id = ?1 AND list = ?2 AND id = ?3",
        )
        .bind(job.to_string())
        .bind(list.as_str())
        .bind(&item.id.0)
        .bind(&item.item_type)
        .bind(&item.body)
        .execute(&mut *tx)
        .await
        .map(|done| done.rows_affected() > 0)
        .map_err(err(what));
        tx.finish(updated, what).await
    }

    async fn remove_job_items(
        &self,
        job: JobId,
        list: JobItemList,
        items: &[JobItemId],
    ) -> Result<u64, StoreError> {
        let what = "cannot remove the job's items";
        let mut tx = self.begin_write().await?;
        let removed = async {
            let mut removed = 0;
            for item in items {
                removed += sqlx::query(
                    "DELETE FROM job_items WHERE job_id = ?1 AND list = ?2 AND id = ?3",
                )
                .bind(job.to_string())
                .bind(list.as_str())
                .bind(&item.0)
                .execute(&mut *tx)
                .await
                .map_err(err(what))?
                .rows_affected();
            }
            Ok(removed)
        }
        .await;
        tx.finish(removed, what).await
    }
}
