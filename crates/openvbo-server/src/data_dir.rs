//! The data dir: its layout (database, master key, lock, generated
//! certificate under `tls/`), the choice of store backend, the master key,
//! and the start-up checks that they belong together.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use openvbo_core::crypto::{MasterKey, SealedSecret, Sealer};
use openvbo_core::store::{Store, StoreError};
use openvbo_store::SqliteStore;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::fsutil::{create_private_dir, write_atomically};

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("cannot use the data dir {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the master key {0}")]
    MasterKey(String),
    #[error("the master key does not match the one this data dir was created with: sealed secrets could not be opened. Use the original key (file master.key or OPENVBO_MASTER_KEY)")]
    WrongMasterKey,
    #[error("another openvbo server is using the data dir {0}; stop it, or give this one its own --data-dir")]
    Locked(PathBuf),
    #[error("the data dir {0} has a master key but no database ({DATABASE_FILE} is missing or empty): it was deleted or lost, and starting now would begin a new installation without its organizations. Restore {DATABASE_FILE} from a backup, or start with --initialize to begin afresh with this key")]
    DatabaseMissing(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct DataDir {
    pub path: PathBuf,
    pub store: Arc<dyn Store>,
    pub sealer: Arc<Sealer>,
    pub installation_id: Uuid,
    /// For the repository engine, which wraps repository keys with it.
    pub master_key: Arc<MasterKey>,
    /// Where big downloads are built before they are sent (`.msg` files of large messages):
    /// private like the rest of the data dir, and on its disk rather than a `/tmp` that may
    /// be memory (tmpfs).
    pub temp: PathBuf,
}

pub const DATABASE_FILE: &str = "openvbo.db";
pub const LOCK_FILE: &str = "openvbo.lock";
pub const TEMP_DIR: &str = "tmp";

/// One server per data dir: the organizations it keeps in memory are only
/// current while no other server writes them. Released when the file is
/// dropped, or by the OS if the process dies. (`openvbo admin` commands
/// do not take it and work beside a running server.)
pub fn lock(data_dir: &Path) -> Result<std::fs::File, DataDirError> {
    let dir_err = |source| DataDirError::DataDir {
        path: data_dir.to_path_buf(),
        source,
    };
    create_private_dir(data_dir).map_err(dir_err)?;
    let path = data_dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(dir_err)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(DataDirError::Locked(data_dir.to_path_buf())),
        Err(std::fs::TryLockError::Error(e)) => Err(dir_err(e)),
    }
}
pub const MASTER_KEY_FILE: &str = "master.key";

/// Opens the data dir, refusing a master key file without its database.
pub async fn open(
    data_dir: &Path,
    master_key: Option<&SecretString>,
) -> Result<DataDir, DataDirError> {
    open_with(data_dir, master_key, false).await
}

/// Opens the data dir. A master key file beside a missing or empty
/// database means the database was lost: refused unless `initialize` (the
/// operator's explicit wish to begin a new installation).
pub async fn open_with(
    data_dir: &Path,
    master_key: Option<&SecretString>,
    initialize: bool,
) -> Result<DataDir, DataDirError> {
    let dir_err = |source| DataDirError::DataDir {
        path: data_dir.to_path_buf(),
        source,
    };
    create_private_dir(data_dir).map_err(dir_err)?;
    let database = data_dir.join(DATABASE_FILE);
    let database_lost = match std::fs::metadata(&database) {
        Ok(meta) => meta.len() == 0,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(dir_err(e)),
    };
    if database_lost && !initialize && data_dir.join(MASTER_KEY_FILE).exists() {
        return Err(DataDirError::DatabaseMissing(data_dir.to_path_buf()));
    }
    let key = match master_key {
        Some(text) => MasterKey::from_base64(text.expose_secret()).map_err(|e| {
            DataDirError::MasterKey(format!("in OPENVBO_MASTER_KEY is unusable: {e}"))
        })?,
        None => load_or_create_key(&data_dir.join(MASTER_KEY_FILE))?,
    };
    let sealer = Arc::new(Sealer::new(&key));
    let temp = data_dir.join(TEMP_DIR);
    create_private_dir(&temp).map_err(dir_err)?;
    let store = open_store(&database).await?;

    let key_check = sealer
        .key_check()
        .map_err(|e| DataDirError::MasterKey(e.to_string()))?;
    let check = store
        .meta_get_or_insert("master_key_check", key_check.as_bytes())
        .await?;
    if !sealer.verify_key_check(&SealedSecret::from_bytes(check)) {
        return Err(DataDirError::WrongMasterKey);
    }
    let fresh = Uuid::new_v4().hyphenated().to_string();
    let stored = store
        .meta_get_or_insert("installation_id", fresh.as_bytes())
        .await?;
    let installation_id = std::str::from_utf8(&stored)
        .ok()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| StoreError::Corrupt("installation_id is not a UUID".into()))?;
    Ok(DataDir {
        path: data_dir.to_path_buf(),
        store,
        sealer,
        installation_id,
        master_key: Arc::new(key),
        temp,
    })
}

/// The one place a store backend is chosen: SQLite in the data dir (a
/// PostgreSQL backend would be picked here, from the configuration).
async fn open_store(database: &Path) -> Result<Arc<dyn Store>, StoreError> {
    Ok(Arc::new(SqliteStore::open(database).await?))
}

fn load_or_create_key(path: &Path) -> Result<MasterKey, DataDirError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path);
            MasterKey::from_base64(&text).map_err(|e| {
                DataDirError::MasterKey(format!("file {} is unusable: {e}", path.display()))
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = MasterKey::generate();
            write_atomically(path, key.to_base64().expose_secret().as_bytes(), true).map_err(
                |e| {
                    DataDirError::MasterKey(format!(
                        "file {} cannot be written: {e}",
                        path.display()
                    ))
                },
            )?;
            tracing::info!(path = %path.display(), "generated the master key");
            Ok(key)
        }
        Err(e) => Err(DataDirError::MasterKey(format!(
            "file {} cannot be read: {e}",
            path.display()
        ))),
    }
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "the master key file is readable by other users; chmod 600 it");
            }
        }
    }
}
