//! Sessions and their token hashes (`sessions`, `tokens`).

use async_trait::async_trait;
use openvbo_core::store::{
    AccessGrant, IssuedToken, NewSession, RefreshOutcome, StoreError, TokenHash, TokenStore,
};
use sqlx::{Row as _, SqliteConnection, SqlitePool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::convert::{from_millis, parse_uuid, to_millis, uuid_text};
use super::error::{err, map};
use super::SqliteStore;

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert_session(&self, session: &NewSession) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let inserted = insert_session(&mut tx, session).await;
        tx.finish(inserted, "cannot store the session").await
    }

    async fn find_access_token(
        &self,
        hash: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<AccessGrant>, StoreError> {
        find_access(&self.read, hash, now).await
    }

    async fn rotate_refresh_token(
        &self,
        old: &TokenHash,
        access: &IssuedToken,
        refresh: &IssuedToken,
        now: OffsetDateTime,
    ) -> Result<RefreshOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let outcome = rotate(&mut tx, old, access, refresh, now).await;
        tx.finish(outcome, "cannot rotate the refresh token").await
    }

    async fn purge_expired_tokens(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let purged = purge_expired(&mut tx, before).await;
        tx.finish(purged, "cannot purge expired tokens").await
    }
}

const ACCESS: &str = "access";
const REFRESH: &str = "refresh";

async fn insert_session(
    conn: &mut SqliteConnection,
    session: &NewSession,
) -> Result<(), StoreError> {
    let what = "cannot store the session";
    sqlx::query("INSERT INTO sessions (id, user_name, issued_at) VALUES (?1, ?2, ?3)")
        .bind(uuid_text(session.session_id))
        .bind(&session.user_name)
        .bind(to_millis(session.issued_at))
        .execute(&mut *conn)
        .await
        .map_err(|e| conflict_or(what, "the session id is already in use", e))?;
    insert_token(conn, session.session_id, ACCESS, &session.access).await?;
    insert_token(conn, session.session_id, REFRESH, &session.refresh).await
}

async fn insert_token(
    conn: &mut SqliteConnection,
    session_id: Uuid,
    kind: &str,
    token: &IssuedToken,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tokens (hash, kind, session_id, expires_at, used_at) \
         VALUES (?1, ?2, ?3, ?4, NULL)",
    )
    .bind(&token.hash.0)
    .bind(kind)
    .bind(uuid_text(session_id))
    .bind(to_millis(token.expires_at))
    .execute(conn)
    .await
    .map_err(|e| conflict_or("cannot store a token", "the token is already stored", e))?;
    Ok(())
}

/// Hash collisions are not expected; a conflict means a caller bug, and the
/// message must not echo the hash.
fn conflict_or(what: &str, conflict: &str, e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(format!("{what}: {conflict}"))
        }
        e => map(what, e),
    }
}

async fn find_access(
    pool: &SqlitePool,
    hash: &TokenHash,
    now: OffsetDateTime,
) -> Result<Option<AccessGrant>, StoreError> {
    let what = "cannot look up the access token";
    let row = sqlx::query(
        "SELECT s.user_name, t.session_id, t.expires_at \
         FROM tokens t JOIN sessions s ON s.id = t.session_id \
         WHERE t.hash = ?1 AND t.kind = 'access' AND t.expires_at > ?2",
    )
    .bind(&hash.0)
    .bind(to_millis(now))
    .fetch_optional(pool)
    .await
    .map_err(err(what))?;
    let Some(row) = row else {
        return Ok(None);
    };
    let session_id: String = row.try_get("session_id").map_err(err(what))?;
    Ok(Some(AccessGrant {
        user_name: row.try_get("user_name").map_err(err(what))?,
        session_id: parse_uuid("tokens.session_id", &session_id)?,
        expires_at: from_millis(
            "tokens.expires_at",
            row.try_get("expires_at").map_err(err(what))?,
        )?,
    }))
}

async fn rotate(
    conn: &mut SqliteConnection,
    old: &TokenHash,
    access: &IssuedToken,
    refresh: &IssuedToken,
    now: OffsetDateTime,
) -> Result<RefreshOutcome, StoreError> {
    let what = "cannot rotate the refresh token";
    let row = sqlx::query(
        "SELECT t.kind, t.session_id, t.expires_at, t.used_at, s.user_name \
         FROM tokens t JOIN sessions s ON s.id = t.session_id \
         WHERE t.hash = ?1",
    )
    .bind(&old.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(err(what))?;
    let Some(row) = row else {
        return Ok(RefreshOutcome::Unknown);
    };
    let kind: String = row.try_get("kind").map_err(err(what))?;
    if kind != REFRESH {
        return Ok(RefreshOutcome::Unknown);
    }
    let session_text: String = row.try_get("session_id").map_err(err(what))?;
    let session_id = parse_uuid("tokens.session_id", &session_text)?;
    let used_at: Option<i64> = row.try_get("used_at").map_err(err(what))?;
    if used_at.is_some() {
        sqlx::query("DELETE FROM sessions WHERE id = ?1")
            .bind(&session_text)
            .execute(&mut *conn)
            .await
            .map_err(err(what))?;
        tracing::warn!(%session_id, "a used refresh token was presented again; session revoked");
        return Ok(RefreshOutcome::Reused);
    }
    let expires_at: i64 = row.try_get("expires_at").map_err(err(what))?;
    if expires_at <= to_millis(now) {
        return Ok(RefreshOutcome::Expired);
    }
    let user_name: String = row.try_get("user_name").map_err(err(what))?;
    sqlx::query("UPDATE tokens SET used_at = ?2 WHERE hash = ?1")
        .bind(&old.0)
        .bind(to_millis(now))
        .execute(&mut *conn)
        .await
        .map_err(err(what))?;
    insert_token(conn, session_id, ACCESS, access).await?;
    insert_token(conn, session_id, REFRESH, refresh).await?;
    Ok(RefreshOutcome::Rotated { user_name })
}

async fn purge_expired(
    conn: &mut SqliteConnection,
    before: OffsetDateTime,
) -> Result<u64, StoreError> {
    let what = "cannot purge expired tokens";
    let purged = sqlx::query("DELETE FROM tokens WHERE expires_at < ?1")
        .bind(to_millis(before))
        .execute(&mut *conn)
        .await
        .map_err(err(what))?
        .rows_affected();
    sqlx::query(
        "DELETE FROM sessions \
         WHERE NOT EXISTS (SELECT 1 FROM tokens WHERE tokens.session_id = sessions.id)",
    )
    .execute(&mut *conn)
    .await
    .map_err(err(what))?;
    Ok(purged)
}
