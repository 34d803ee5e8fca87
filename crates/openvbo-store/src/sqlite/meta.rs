//! Installation metadata (`meta`).

use openvbo_core::store::StoreError;
use sqlx::{SqliteConnection, SqlitePool};

use super::error::err;

/// Runs inside the caller's write transaction, which makes it atomic.
pub(super) async fn get_or_insert(
    conn: &mut SqliteConnection,
    key: &str,
    value: &[u8],
) -> Result<Vec<u8>, StoreError> {
    sqlx::query("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING")
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await
        .map_err(err("cannot store metadata"))?;
    sqlx::query_scalar("SELECT value FROM meta WHERE key = ?1")
        .bind(key)
        .fetch_one(&mut *conn)
        .await
        .map_err(err("cannot read metadata"))
}

pub(super) async fn get(pool: &SqlitePool, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
    sqlx::query_scalar("SELECT value FROM meta WHERE key = ?1")
        .bind(key)
        .fetch_optional(pool)
        .await
        .map_err(err("cannot read metadata"))
}
