// Test code: failed expectations panic, fixtures are indexed, helpers are pub.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

//! What is specific to the SQLite file: persistence, permissions, integrity,
//! damaged rows, scale.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use openvbo_core::crypto::SealedSecret;
use openvbo_core::organization::{Organization, ServiceAccount};
use openvbo_core::store::{
    AdminRecord, AdminStore as _, IssuedToken, NewSession, OrganizationStore as _, Store as _,
    StoreError, TokenHash, TokenStore as _,
};
use openvbo_core::{OrganizationId, Region, Upn};
use openvbo_store::SqliteStore;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions as _, Connection as _, SqliteConnection};
use time::OffsetDateTime;
use uuid::Uuid;

fn db_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("openvbo.db")
}

fn millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap()
}

fn organization(name: &str) -> Organization {
    let domain = format!("{name}.onmicrosoft.com");
    Organization {
        id: OrganizationId::new_random(),
        tenant_id: Uuid::new_v4().to_string(),
        name: domain.clone(),
        office_name: domain.clone(),
        display_name: name.to_owned(),
        region: Region::Worldwide,
        exchange: Some(ServiceAccount {
            account: Upn::parse(&format!("admin@{domain}")).unwrap(),
            password: SealedSecret::from_bytes(vec![1, 2, 3, 4]),
            grant_admin_access: false,
            use_custom_veeam_aad_application: true,
            share_point_save_all_web_parts: false,
        }),
        sharepoint: None,
        is_teams_online: false,
        is_teams_chats_online: false,
        revision: 1,
        created_at: millis(1_700_000_000_001),
        updated_at: millis(1_700_000_000_002),
    }
}

/// A connection that goes around the store, to look at or damage rows.
async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn data_persists_across_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let org = organization("contoso");
    let admin = AdminRecord {
        user_name: "admin".into(),
        password_hash: "$argon2id$h".into(),
    };
    {
        let store = SqliteStore::open(&db_path(&dir)).await.unwrap();
        store.insert_organization(&org).await.unwrap();
        store.create_admin(&admin).await.unwrap();
        store
            .meta_get_or_insert("install-id", b"abc")
            .await
            .unwrap();
        store.close().await;
        assert!(
            matches!(store.admin_count().await, Err(StoreError::Unavailable(_))),
            "a closed store refuses work"
        );
    }
    let store = SqliteStore::open(&db_path(&dir)).await.unwrap();
    assert_eq!(store.list_organizations().await.unwrap(), vec![org]);
    assert_eq!(store.find_admin("ADMIN").await.unwrap(), Some(admin));
    assert_eq!(
        store
            .meta_get_or_insert("install-id", b"new")
            .await
            .unwrap(),
        b"abc"
    );
    assert!(store.integrity_check().await.unwrap());
    store.close().await;
}

#[cfg(unix)]
#[tokio::test]
async fn database_file_is_private() {
    use std::os::unix::fs::PermissionsExt as _;

    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db_path(&dir)).await.unwrap();
    store
        .create_admin(&AdminRecord {
            user_name: "admin".into(),
            password_hash: "$argon2id$h".into(),
        })
        .await
        .unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", db_path(&dir).display()));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} has mode {mode:o}", path.display());
    }
    store.close().await;
}

#[tokio::test]
async fn open_fails_cleanly_where_no_file_can_be() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open(&dir.path().join("missing-dir").join("openvbo.db"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn damaged_rows_are_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db_path(&dir)).await.unwrap();
    let org = organization("contoso");
    store.insert_organization(&org).await.unwrap();
    let id = org.id.to_string();
    let mut conn = raw(&db_path(&dir)).await;

    sqlx::query("UPDATE organizations SET region = 'Atlantis' WHERE id = ?1")
        .bind(&id)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_corrupt(&store, org.id, "Atlantis").await;

    sqlx::query("UPDATE organizations SET region = 'Worldwide' WHERE id = ?1")
        .bind(&id)
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE organization_accounts SET account = 'not a upn' WHERE organization_id = ?1",
    )
    .bind(&id)
    .execute(&mut conn)
    .await
    .unwrap();
    assert_corrupt(&store, org.id, "not a upn").await;

    sqlx::query("UPDATE organization_accounts SET account = 'a@b.com', service = 'teams'")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_corrupt(&store, org.id, "teams").await;

    sqlx::query("UPDATE organization_accounts SET service = 'exchange'")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("UPDATE organizations SET created_at = 'yesterday' WHERE id = ?1")
        .bind(&id)
        .execute(&mut conn)
        .await
        .unwrap();
    assert_corrupt(&store, org.id, "created_at").await;

    // The id itself: accounts would block the change through the foreign key.
    sqlx::query("DELETE FROM organization_accounts")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("UPDATE organizations SET created_at = 0, id = 'not-a-uuid'")
        .execute(&mut conn)
        .await
        .unwrap();
    match store.list_organizations().await {
        Err(StoreError::Corrupt(m)) => assert!(m.message().contains("not-a-uuid"), "{m}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }

    conn.close().await.unwrap();
    store.close().await;
}

/// The error and its causes, as a log line shows them.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn assert_corrupt(store: &SqliteStore, id: OrganizationId, needle: &str) {
    for result in [
        store.get_organization(id).await.map(|_| ()),
        store.list_organizations().await.map(|_| ()),
    ] {
        match result {
            Err(e @ StoreError::Corrupt(_)) => {
                let chain = chain(&e);
                assert!(chain.contains(needle), "{chain:?} lacks {needle:?}");
            }
            other => panic!("expected Corrupt mentioning {needle:?}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn purge_leaves_no_empty_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db_path(&dir)).await.unwrap();
    let token = |label: &str, ms| IssuedToken {
        hash: TokenHash(label.into()),
        expires_at: millis(ms),
    };
    for (label, access, refresh) in [("gone", 10, 20), ("kept", 10, 2_000)] {
        store
            .insert_session(&NewSession {
                session_id: Uuid::new_v4(),
                user_name: "admin".into(),
                issued_at: millis(0),
                access: token(&format!("{label}-a"), access),
                refresh: token(&format!("{label}-r"), refresh),
            })
            .await
            .unwrap();
    }
    assert_eq!(store.purge_expired_tokens(millis(1_000)).await.unwrap(), 3);
    let mut conn = raw(&db_path(&dir)).await;
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        sessions, 1,
        "the session without tokens is gone, the other kept"
    );
    conn.close().await.unwrap();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_organizations_list_quickly() {
    const N: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&db_path(&dir)).await.unwrap();

    // Through the back door in one transaction: ten thousand fsyncs would
    // test the disk, not the listing.
    let mut conn = raw(&db_path(&dir)).await;
    let mut tx = conn.begin().await.unwrap();
    for i in 0..N {
        let id = Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO organizations VALUES (?1, ?2, ?3, ?3, ?3, 'Worldwide', 1, 0, 1, ?4, ?4)",
        )
        .bind(&id)
        .bind(Uuid::new_v4().to_string())
        .bind(format!("org{i}.onmicrosoft.com"))
        .bind(i as i64)
        .execute(&mut *tx)
        .await
        .unwrap();
        for service in ["exchange", "sharepoint"] {
            sqlx::query(
                "INSERT INTO organization_accounts VALUES (?1, ?2, ?3, x'01020304', 1, 0, 1)",
            )
            .bind(&id)
            .bind(service)
            .bind(format!("admin@org{i}.onmicrosoft.com"))
            .execute(&mut *tx)
            .await
            .unwrap();
        }
    }
    tx.commit().await.unwrap();
    conn.close().await.unwrap();

    let started = Instant::now();
    let orgs = store.list_organizations().await.unwrap();
    let took = started.elapsed();
    assert_eq!(orgs.len(), N);
    assert!(orgs
        .iter()
        .all(|o| o.exchange.is_some() && o.sharepoint.is_some()));
    assert!(orgs.windows(2).all(|w| w[0].created_at <= w[1].created_at));
    assert!(took < Duration::from_millis(900), "listing took {took:?}");
    store.close().await;
}
