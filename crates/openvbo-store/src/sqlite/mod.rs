//! The SQLite backend.
//!
//! Writes go through a pool of exactly one connection, so they queue up
//! in-process instead of failing with "database is locked"; each write is one
//! `BEGIN IMMEDIATE` transaction ([`tx::Tx`]), which also takes the file's
//! write lock up front should another process ever open the same file. Reads
//! use a separate pool and, thanks to WAL, never wait for the writer.
//!
//! Each aggregate's SQL and its trait implementation live in the file named
//! after it.

mod admins;
mod catalog;
mod convert;
mod encryption_keys;
mod error;
mod jobs;
mod meta;
mod object_storage;
mod organizations;
mod proxies;
mod repositories;
mod restore_points;
mod sessions;
mod tokens;
mod tx;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use openvbo_core::store::{Failure, Store, StoreError};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use self::error::err;
use self::tx::Tx;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a write may wait for its turn behind other writes.
const WRITE_QUEUE_TIMEOUT: Duration = Duration::from_secs(30);
const READ_CONNECTIONS: u32 = 8;
/// SQLite's default page size, which the store does not change.
const PAGE_SIZE: u64 = 4096;

/// How to open a [`SqliteStore`]; `Default` is what the server uses.
#[derive(Clone, Debug, Default)]
pub struct SqliteOptions {
    /// Refuse to let the database file grow beyond about this many bytes:
    /// writes that would need more fail with [`StoreError::StorageFull`],
    /// exactly as on a full disk. None: no limit but the disk's.
    pub max_size_bytes: Option<u64>,
}

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
        SqliteStore::open_with(path, &SqliteOptions::default()).await
    }

    pub async fn open_with(
        path: &Path,
        options: &SqliteOptions,
    ) -> Result<SqliteStore, StoreError> {
        create_private_file(path).await?;

        // FULL: a commit is on disk before it is acknowledged; NORMAL would
        // lose the last transactions on power loss in WAL mode.
        let common = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Full);

        let mut writer = common.clone().journal_mode(SqliteJournalMode::Wal);
        if let Some(bytes) = options.max_size_bytes {
            // A per-connection setting: sqlx applies it again to every
            // replacement connection.
            let pages = bytes.div_ceil(PAGE_SIZE).max(1);
            writer = writer.pragma("max_page_count", pages.to_string());
        }
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(WRITE_QUEUE_TIMEOUT)
            .connect_with(writer)
            .await
            .map_err(|e| open_error(path, e))?;

        if let Err(e) = MIGRATOR.run(&write).await {
            write.close().await;
            let what = format!("cannot bring the schema of {} up to date", path.display());
            return Err(match e {
                sqlx::migrate::MigrateError::Execute(e)
                | sqlx::migrate::MigrateError::ExecuteMigration(e, _) => error::map(&what, e),
                other => StoreError::Unavailable(Failure::with_source(what, other)),
            });
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
        Ok(rows.len() == 1 && rows.first().is_some_and(|r| r == "ok"))
    }

    async fn begin_write(&self) -> Result<Tx, StoreError> {
        Tx::write(&self.write).await
    }

    async fn begin_read(&self) -> Result<Tx, StoreError> {
        Tx::read(&self.read).await
    }
}

fn open_error(path: &Path, e: sqlx::Error) -> StoreError {
    error::map(&format!("cannot open {}", path.display()), e)
}

/// SQLite would create the file with the umask's permissions; the store holds
/// password hashes and sealed secrets, so it is created owner-only first.
/// SQLite gives the -wal and -shm files the database file's permissions.
async fn create_private_file(path: &Path) -> Result<(), StoreError> {
    let mut options = tokio::fs::OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    options.mode(0o600);
    let file = options
        .open(path)
        .await
        .map_err(|e| error::io(format!("cannot open or create {}", path.display()), e))?;
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
        let stored = meta::get_or_insert(&mut tx, key, value).await;
        tx.finish(stored, "cannot store metadata").await
    }

    async fn meta_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        meta::get(&self.read, key).await
    }

    async fn integrity_check(&self) -> Result<bool, StoreError> {
        SqliteStore::integrity_check(self).await
    }

    async fn close(&self) {
        SqliteStore::close(self).await;
    }
}
