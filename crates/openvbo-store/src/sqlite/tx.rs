//! Transactions that cannot leave a connection stuck.
//!
//! sqlx's own `Transaction` counts transaction depth itself. When SQLite
//! rolls a transaction back on its own — which it does on SQLITE_FULL and
//! SQLITE_IOERR — that count stays at one, the rollback on drop fails, and
//! every later `BEGIN IMMEDIATE` on the (only) writer connection is refused
//! with "non-zero transaction depth" until a restart. So transactions here
//! are plain `BEGIN`/`COMMIT`/`ROLLBACK` statements, and a connection whose
//! state is in doubt — a failed rollback, or a transaction dropped half way
//! by a cancelled request — is closed instead of going back to the pool
//! (SQLite rolls back whatever a closing connection left open). The pool
//! opens a fresh one for the next caller.

use std::ops::{Deref, DerefMut};

use openvbo_core::store::StoreError;
use sqlx::pool::PoolConnection;
use sqlx::{Executor as _, Sqlite, SqliteConnection, SqlitePool};

use super::error::map;

pub(crate) struct Tx {
    conn: PoolConnection<Sqlite>,
    /// True from just before `BEGIN` is sent until `COMMIT` or `ROLLBACK`
    /// is known to have worked.
    in_doubt: bool,
}

impl Tx {
    /// A write transaction: takes SQLite's write lock up front.
    pub(crate) async fn write(pool: &SqlitePool) -> Result<Tx, StoreError> {
        Tx::begin(pool, "BEGIN IMMEDIATE", "cannot start a write transaction").await
    }

    /// A read transaction: one consistent snapshot for several statements.
    pub(crate) async fn read(pool: &SqlitePool) -> Result<Tx, StoreError> {
        Tx::begin(pool, "BEGIN", "cannot start a read transaction").await
    }

    async fn begin(
        pool: &SqlitePool,
        statement: &'static str,
        what: &'static str,
    ) -> Result<Tx, StoreError> {
        let conn = pool.acquire().await.map_err(|e| map(what, e))?;
        let mut tx = Tx {
            conn,
            in_doubt: true,
        };
        match tx.conn.execute(statement).await {
            Ok(_) => Ok(tx),
            Err(e) => {
                // A failed BEGIN starts nothing: the connection is reusable.
                tx.in_doubt = false;
                Err(map(what, e))
            }
        }
    }

    /// Commits `outcome` if it is `Ok`, rolls back otherwise. `what` names
    /// the operation, for a failing commit.
    pub(crate) async fn finish<T>(
        mut self,
        outcome: Result<T, StoreError>,
        what: &'static str,
    ) -> Result<T, StoreError> {
        match outcome {
            Ok(value) => match self.conn.execute("COMMIT").await {
                Ok(_) => {
                    self.in_doubt = false;
                    Ok(value)
                }
                Err(e) => {
                    self.rollback().await;
                    Err(map(what, e))
                }
            },
            Err(e) => {
                self.rollback().await;
                Err(e)
            }
        }
    }

    /// Leaves `in_doubt` set if the rollback fails (including "no
    /// transaction is active", after SQLite rolled back by itself), so that
    /// drop closes the connection.
    async fn rollback(&mut self) {
        match self.conn.execute("ROLLBACK").await {
            Ok(_) => self.in_doubt = false,
            Err(error) => {
                tracing::debug!(%error, "rollback failed; the connection will be replaced");
            }
        }
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if self.in_doubt {
            self.conn.close_on_drop();
        }
    }
}

impl Deref for Tx {
    type Target = SqliteConnection;
    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}
