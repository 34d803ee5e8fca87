//! The SQLite backend.
//!
//! Writes go through a pool of exactly one connection, so they queue up
//! in-process instead of failing with "database is locked"; each write is one
//! `BEGIN IMMEDIATE` transaction, which also takes the file's write lock up
//! front should another process ever open the same file. Reads use a separate
//! pool and, thanks to WAL, never wait for the writer.

mod admins;
mod convert;
mod error;
mod meta;
mod organizations;
mod tokens;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use openvbo_core::organization::Organization;
use openvbo_core::store::{
    AccessGrant, AdminRecord, IssuedToken, NewSession, RefreshOutcome, Store, StoreError, TokenHash,
};
use openvbo_core::OrganizationId;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use time::OffsetDateTime;

use self::error::err;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a write may wait for its turn behind other writes.
const WRITE_QUEUE_TIMEOUT: Duration = Duration::from_secs(30);
const READ_CONNECTIONS: u32 = 8;

/// The configuration store in one SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    write: SqlitePool,
    read: SqlitePool,
}

impl SqliteStore {
    /// Opens the database at `path`, creating it (mode 0600 on unix) if
    /// missing, and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        create_private_file(path).await?;

        // FULL: a commit is on disk before it is acknowledged; NORMAL would
        // lose the last transactions on power loss in WAL mode.
        let common = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Full);

        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(WRITE_QUEUE_TIMEOUT)
            .connect_with(common.clone().journal_mode(SqliteJournalMode::Wal))
            .await
            .map_err(|e| open_error(path, e))?;

        if let Err(e) = MIGRATOR.run(&write).await {
            write.close().await;
            return Err(StoreError::Unavailable(format!(
                "cannot bring the schema of {} up to date: {e}",
                path.display()
            )));
        }

        // journal_mode is left alone here: WAL is a property of the file,
        // already set by the writer above.
        let read = match SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .connect_with(common.pragma("query_only", "ON"))
            .await
        {
            Ok(read) => read,
            Err(e) => {
                write.close().await;
                return Err(open_error(path, e));
            }
        };

        Ok(SqliteStore { write, read })
    }

    /// Waits for running operations, then closes every connection; later
    /// calls fail with [`StoreError::Unavailable`].
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    /// Runs `PRAGMA integrity_check`; true if SQLite finds nothing wrong.
    pub async fn integrity_check(&self) -> Result<bool, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.read)
            .await
            .map_err(err("cannot check the integrity of the configuration store"))?;
        for problem in rows.iter().filter(|r| r.as_str() != "ok") {
            tracing::error!(%problem, "configuration store integrity check");
        }
        Ok(rows.len() == 1 && rows[0] == "ok")
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(err("cannot start a write transaction"))
    }

    async fn begin_read(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.read
            .begin()
            .await
            .map_err(err("cannot start a read transaction"))
    }
}

fn open_error(path: &Path, e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(format!("cannot open {}: {e}", path.display()))
}

/// SQLite would create the file with the umask's permissions; the store holds
/// password hashes and sealed secrets, so it is created owner-only first.
/// SQLite gives the -wal and -shm files the database file's permissions.
async fn create_private_file(path: &Path) -> Result<(), StoreError> {
    let mut options = tokio::fs::OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    options.mode(0o600);
    let file = options.open(path).await.map_err(|e| {
        StoreError::Unavailable(format!("cannot open or create {}: {e}", path.display()))
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = file.metadata().await {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format_args!("{mode:o}"),
                    "the configuration store is readable by other users; chmod 600 it"
                );
            }
        }
    }
    drop(file);
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn meta_get_or_insert(&self, key: &str, value: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut tx = self.begin_write().await?;
        let stored = meta::get_or_insert(&mut tx, key, value).await?;
        tx.commit().await.map_err(err("cannot store metadata"))?;
        Ok(stored)
    }

    async fn admin_count(&self) -> Result<u64, StoreError> {
        admins::count(&self.read).await
    }

    async fn create_admin(&self, admin: &AdminRecord) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        admins::create(&mut tx, admin).await?;
        tx.commit()
            .await
            .map_err(err("cannot create the administrator"))
    }

    async fn find_admin(&self, user_name: &str) -> Result<Option<AdminRecord>, StoreError> {
        admins::find(&self.read, user_name).await
    }

    async fn set_admin_password(
        &self,
        user_name: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let found = admins::set_password(&mut tx, user_name, password_hash).await?;
        finish(tx, found, "cannot change the administrator's password").await
    }

    async fn insert_session(&self, session: &NewSession) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        tokens::insert_session(&mut tx, session).await?;
        tx.commit().await.map_err(err("cannot store the session"))
    }

    async fn find_access_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<AccessGrant>, StoreError> {
        tokens::find_access(&self.read, hash, now).await
    }

    async fn rotate_refresh_token(
        &self,
        old: &TokenHash,
        access: &IssuedToken,
        refresh: &IssuedToken,
        now: OffsetDateTime,
    ) -> Result<RefreshOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let outcome = tokens::rotate(&mut tx, old, access, refresh, now).await?;
        tx.commit()
            .await
            .map_err(err("cannot rotate the refresh token"))?;
        Ok(outcome)
    }

    async fn purge_expired_tokens(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let purged = tokens::purge_expired(&mut tx, before).await?;
        tx.commit()
            .await
            .map_err(err("cannot purge expired tokens"))?;
        Ok(purged)
    }

    async fn insert_organization(&self, org: &Organization) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        organizations::insert(&mut tx, org).await?;
        tx.commit()
            .await
            .map_err(err("cannot add the organization"))
    }

    async fn list_organizations(&self) -> Result<Vec<Organization>, StoreError> {
        // One read transaction, so organizations and accounts are one snapshot.
        let mut tx = self.begin_read().await?;
        let orgs = organizations::list(&mut tx).await?;
        tx.commit()
            .await
            .map_err(err("cannot list organizations"))?;
        Ok(orgs)
    }

    async fn get_organization(
        &self,
        id: OrganizationId,
    ) -> Result<Option<Organization>, StoreError> {
        let mut tx = self.begin_read().await?;
        let org = organizations::get(&mut tx, id).await?;
        tx.commit()
            .await
            .map_err(err("cannot read the organization"))?;
        Ok(org)
    }

    async fn update_organization(
        &self,
        org: &Organization,
        expected_revision: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = organizations::update(&mut tx, org, expected_revision).await?;
        finish(tx, updated, "cannot update the organization").await
    }

    async fn delete_organization(&self, id: OrganizationId) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let deleted = organizations::delete(&mut tx, id).await?;
        finish(tx, deleted, "cannot delete the organization").await
    }
}

/// Commits if the operation took effect, rolls back otherwise.
async fn finish(
    tx: Transaction<'static, Sqlite>,
    took_effect: bool,
    what: &'static str,
) -> Result<bool, StoreError> {
    if took_effect {
        tx.commit().await.map_err(err(what))?;
    } else {
        tx.rollback().await.map_err(err(what))?;
    }
    Ok(took_effect)
}
