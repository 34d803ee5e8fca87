//! Job sessions and their log (`job_sessions`, `log_items`).

use async_trait::async_trait;
use openvbo_core::backup::{
    Bottleneck, JobSession, JobSessionId, JobSessionQuery, JobStatus, JobType, LogItem, LogItemId,
    NewLogItem, Page, SessionStatistics,
};
use openvbo_core::store::{JobSessionStore, StoreError};
use sqlx::{FromRow, SqliteConnection};
use time::OffsetDateTime;

use super::convert::{
    from_millis, from_opt_millis, parse_enum, parse_id, to_i64, to_millis, to_opt_millis, to_u64,
};
use super::error::{err, map};
use super::SqliteStore;

const COLUMNS: &str = "id, job_id, job_type, creation_time, end_time, status, progress, \
     retry_count, details, processing_rate_bytes_ps, processing_rate_items_ps, \
     read_rate_bytes_ps, write_rate_bytes_ps, transferred_data_bytes, processed_objects, \
     bottleneck";
const LOG_COLUMNS: &str = "usn, id, session_id, title, creation_time, end_time";

#[derive(FromRow)]
struct Row {
    id: String,
    job_id: String,
    job_type: String,
    creation_time: i64,
    end_time: Option<i64>,
    status: String,
    progress: i64,
    retry_count: i32,
    details: Option<String>,
    processing_rate_bytes_ps: i64,
    processing_rate_items_ps: i64,
    read_rate_bytes_ps: i64,
    write_rate_bytes_ps: i64,
    transferred_data_bytes: i64,
    processed_objects: i64,
    bottleneck: String,
}

impl TryFrom<Row> for JobSession {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<JobSession, StoreError> {
        Ok(JobSession {
            id: parse_id("job_sessions.id", &r.id)?,
            job_id: parse_id("job_sessions.job_id", &r.job_id)?,
            job_type: parse_enum("job_sessions.job_type", &r.job_type, JobType::parse)?,
            creation_time: from_millis("job_sessions.creation_time", r.creation_time)?,
            end_time: from_opt_millis("job_sessions.end_time", r.end_time)?,
            status: parse_enum("job_sessions.status", &r.status, JobStatus::parse)?,
            progress: r.progress,
            retry_count: r.retry_count,
            details: r.details,
            statistics: SessionStatistics {
                processing_rate_bytes_ps: r.processing_rate_bytes_ps,
                processing_rate_items_ps: r.processing_rate_items_ps,
                read_rate_bytes_ps: r.read_rate_bytes_ps,
                write_rate_bytes_ps: r.write_rate_bytes_ps,
                transferred_data_bytes: r.transferred_data_bytes,
                processed_objects: r.processed_objects,
                bottleneck: parse_enum(
                    "job_sessions.bottleneck",
                    &r.bottleneck,
                    Bottleneck::parse,
                )?,
            },
        })
    }
}

#[derive(FromRow)]
struct LogRow {
    usn: i64,
    id: String,
    session_id: String,
    title: String,
    creation_time: i64,
    end_time: Option<i64>,
}

impl TryFrom<LogRow> for LogItem {
    type Error = StoreError;

    fn try_from(r: LogRow) -> Result<LogItem, StoreError> {
        Ok(LogItem {
            id: parse_id("log_items.id", &r.id)?,
            session_id: parse_id("log_items.session_id", &r.session_id)?,
            usn: r.usn,
            title: r.title,
            creation_time: from_millis("log_items.creation_time", r.creation_time)?,
            end_time: from_opt_millis("log_items.end_time", r.end_time)?,
        })
    }
}

async fn insert_session(conn: &mut SqliteConnection, s: &JobSession) -> Result<(), StoreError> {
    let what = "cannot start the job session";
    let st = &s.statistics;
    let result = sqlx::query(&format!(
        "INSERT INTO job_sessions ({COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
    ))
    .bind(s.id.to_string())
    .bind(s.job_id.to_string())
    .bind(s.job_type.as_str())
    .bind(to_millis(s.creation_time))
    .bind(to_opt_millis(s.end_time))
    .bind(s.status.as_str())
    .bind(s.progress)
    .bind(s.retry_count)
    .bind(s.details.as_deref())
    .bind(st.processing_rate_bytes_ps)
    .bind(st.processing_rate_items_ps)
    .bind(st.read_rate_bytes_ps)
    .bind(st.write_rate_bytes_ps)
    .bind(st.transferred_data_bytes)
    .bind(st.processed_objects)
    .bind(st.bottleneck.as_str())
    .execute(&mut *conn)
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            Err(StoreError::Conflict(format!(
                "job {} is already running (or the session id is taken)",
                s.job_id
            )))
        }
        Err(e) => Err(map(what, e)),
    }
}

async fn update_session(conn: &mut SqliteConnection, s: &JobSession) -> Result<bool, StoreError> {
    let st = &s.statistics;
    let updated = sqlx::query(
        "UPDATE job_sessions SET end_time = ?2, status = ?3, progress = ?4, retry_count = ?5, \
         details = ?6, processing_rate_bytes_ps = ?7, processing_rate_items_ps = ?8, \
         read_rate_bytes_ps = ?9, write_rate_bytes_ps = ?10, transferred_data_bytes = ?11, \
         processed_objects = ?12, bottleneck = ?13 \
         WHERE id = ?1 AND end_time IS NULL",
    )
    .bind(s.id.to_string())
    .bind(to_opt_millis(s.end_time))
    .bind(s.status.as_str())
    .bind(s.progress)
    .bind(s.retry_count)
    .bind(s.details.as_deref())
    .bind(st.processing_rate_bytes_ps)
    .bind(st.processing_rate_items_ps)
    .bind(st.read_rate_bytes_ps)
    .bind(st.write_rate_bytes_ps)
    .bind(st.transferred_data_bytes)
    .bind(st.processed_objects)
    .bind(st.bottleneck.as_str())
    .execute(&mut *conn)
    .await
    .map_err(err("cannot update the job session"))?;
    Ok(updated.rows_affected() > 0)
}

async fn append_log(
    conn: &mut SqliteConnection,
    session: JobSessionId,
    item: &NewLogItem,
) -> Result<Option<LogItem>, StoreError> {
    let what = "cannot append to the session's log";
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM job_sessions WHERE id = ?1")
        .bind(session.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(err(what))?;
    if found.is_none() {
        return Ok(None);
    }
    let usn: i64 = sqlx::query_scalar(
        "INSERT INTO log_items (id, session_id, title, creation_time, end_time) \
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING usn",
    )
    .bind(item.id.to_string())
    .bind(session.to_string())
    .bind(&item.title)
    .bind(to_millis(item.creation_time))
    .bind(to_opt_millis(item.end_time))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(format!("log item {} already exists", item.id))
        }
        e => map(what, e),
    })?;
    Ok(Some(LogItem {
        id: item.id,
        session_id: session,
        usn,
        title: item.title.clone(),
        creation_time: item.creation_time,
        end_time: item.end_time,
    }))
}

async fn fail_unfinished(
    conn: &mut SqliteConnection,
    now: OffsetDateTime,
    log_title: &str,
) -> Result<Vec<JobSessionId>, StoreError> {
    let what = "cannot close the interrupted sessions";
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM job_sessions WHERE end_time IS NULL ORDER BY id")
            .fetch_all(&mut *conn)
            .await
            .map_err(err(what))?;
    let mut failed = Vec::with_capacity(ids.len());
    for id in ids {
        let session: JobSessionId = parse_id("job_sessions.id", &id)?;
        sqlx::query("UPDATE job_sessions SET status = ?2, end_time = ?3 WHERE id = ?1")
            .bind(&id)
            .bind(JobStatus::Failed.as_str())
            .bind(to_millis(now))
            .execute(&mut *conn)
            .await
            .map_err(err(what))?;
        let item = NewLogItem {
            id: LogItemId::new_random(),
            title: log_title.to_owned(),
            creation_time: now,
            end_time: Some(now),
        };
        append_log(conn, session, &item).await?;
        failed.push(session);
    }
    Ok(failed)
}

#[async_trait]
impl JobSessionStore for SqliteStore {
    async fn insert_job_session(&self, session: &JobSession) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let inserted = insert_session(&mut tx, session).await;
        tx.finish(inserted, "cannot start the job session").await
    }

    async fn update_job_session(&self, session: &JobSession) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = update_session(&mut tx, session).await;
        tx.finish(updated, "cannot update the job session").await
    }

    async fn get_job_session(&self, id: JobSessionId) -> Result<Option<JobSession>, StoreError> {
        let row: Option<Row> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM job_sessions WHERE id = ?1"))
                .bind(id.to_string())
                .fetch_optional(&self.read)
                .await
                .map_err(err("cannot read the job session"))?;
        row.map(JobSession::try_from).transpose()
    }

    async fn list_job_sessions(
        &self,
        query: &JobSessionQuery,
    ) -> Result<Page<JobSession>, StoreError> {
        let what = "cannot list job sessions";
        // One read transaction: the page and its total are one snapshot.
        let mut tx = self.begin_read().await?;
        let filter = "(?1 IS NULL OR job_id = ?1) AND (?2 IS NULL OR job_type = ?2) \
                      AND (?3 IS NULL OR end_time >= ?3)";
        let job = query.job_id.map(|j| j.to_string());
        let job_type = query.job_type.map(JobType::as_str);
        let lower = to_opt_millis(query.end_time_lower_bound);
        let page = async {
            let total: i64 =
                sqlx::query_scalar(&format!("SELECT COUNT(*) FROM job_sessions WHERE {filter}"))
                    .bind(&job)
                    .bind(job_type)
                    .bind(lower)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(err(what))?;
            let rows: Vec<Row> = sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM job_sessions WHERE {filter} \
                 ORDER BY creation_time DESC, id DESC LIMIT ?4 OFFSET ?5"
            ))
            .bind(&job)
            .bind(job_type)
            .bind(lower)
            .bind(to_i64(query.limit))
            .bind(to_i64(query.offset))
            .fetch_all(&mut *tx)
            .await
            .map_err(err(what))?;
            Ok(Page {
                items: rows
                    .into_iter()
                    .map(JobSession::try_from)
                    .collect::<Result<_, _>>()?,
                total: to_u64("job session count", total)?,
            })
        }
        .await;
        tx.finish(page, what).await
    }

    async fn fail_unfinished_sessions(
        &self,
        now: OffsetDateTime,
        log_title: &str,
    ) -> Result<Vec<JobSessionId>, StoreError> {
        let mut tx = self.begin_write().await?;
        let failed = fail_unfinished(&mut tx, now, log_title).await;
        tx.finish(failed, "cannot close the interrupted sessions")
            .await
    }

    async fn append_log_item(
        &self,
        session: JobSessionId,
        item: &NewLogItem,
    ) -> Result<Option<LogItem>, StoreError> {
        let mut tx = self.begin_write().await?;
        let appended = append_log(&mut tx, session, item).await;
        tx.finish(appended, "cannot append to the session's log")
            .await
    }

    async fn update_log_item(
        &self,
        session: JobSessionId,
        id: LogItemId,
        title: &str,
        end_time: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        let what = "cannot update the log item";
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE log_items SET title = ?3, end_time = ?4 WHERE session_id = ?1 AND id = ?2",
        )
        .bind(session.to_string())
        .bind(id.to_string())
        .bind(title)
        .bind(to_opt_millis(end_time))
        .execute(&mut *tx)
        .await
        .map(|done| done.rows_affected() > 0)
        .map_err(err(what));
        tx.finish(updated, what).await
    }

    async fn list_log_items(
        &self,
        session: JobSessionId,
        offset: u64,
        limit: u64,
    ) -> Result<Page<LogItem>, StoreError> {
        let what = "cannot list the session's log";
        let mut tx = self.begin_read().await?;
        let page = async {
            let total: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM log_items WHERE session_id = ?1")
                    .bind(session.to_string())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(err(what))?;
            let rows: Vec<LogRow> = sqlx::query_as(&format!(
                "SELECT {LOG_COLUMNS} FROM log_items WHERE session_id = ?1 \
                 ORDER BY usn LIMIT ?2 OFFSET ?3"
            ))
            .bind(session.to_string())
            .bind(to_i64(limit))
            .bind(to_i64(offset))
            .fetch_all(&mut *tx)
            .await
            .map_err(err(what))?;
            Ok(Page {
                items: rows
                    .into_iter()
                    .map(LogItem::try_from)
                    .collect::<Result<_, _>>()?,
                total: to_u64("log item count", total)?,
            })
        }
        .await;
        tx.finish(page, what).await
    }

    async fn get_log_item(
        &self,
        session: JobSessionId,
        id: LogItemId,
    ) -> Result<Option<LogItem>, StoreError> {
        let row: Option<LogRow> = sqlx::query_as(&format!(
            "SELECT {LOG_COLUMNS} FROM log_items WHERE session_id = ?1 AND id = ?2"
        ))
        .bind(session.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await
        .map_err(err("cannot read the log item"))?;
        row.map(LogItem::try_from).transpose()
    }
}
