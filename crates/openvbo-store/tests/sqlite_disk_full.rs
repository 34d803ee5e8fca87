// Test code: failed expectations panic, fixtures are indexed, helpers are pub.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

//! A full disk: the failed write leaves nothing behind, the error says the
//! disk is full, and the same store writes again as soon as there is room —
//! no restart. Once with a size cap (SQLite's own SQLITE_FULL, always run),
//! once on a real, tiny tmpfs (needs root and mount; skipped otherwise).

use std::path::{Path, PathBuf};
use std::process::Command;

use openvbo_core::crypto::SealedSecret;
use openvbo_core::organization::{Organization, ServiceAccount};
use openvbo_core::store::{
    AdminRecord, AdminStore as _, OrganizationStore as _, StoreError, StoreErrorKind,
};
use openvbo_core::{OrganizationId, Region, Upn};
use openvbo_store::{SqliteOptions, SqliteStore};
use time::OffsetDateTime;
use uuid::Uuid;

/// About 6 KB per organization, so a small store fills within a few dozen.
fn bulky_organization(i: usize) -> Organization {
    let domain = format!("full-{i}.onmicrosoft.com");
    let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    Organization {
        id: OrganizationId::new_random(),
        tenant_id: Uuid::new_v4().to_string(),
        name: domain.clone(),
        office_name: domain.clone(),
        display_name: format!("{i}-{}", "x".repeat(3000)),
        region: Region::Worldwide,
        exchange: Some(ServiceAccount {
            account: Upn::parse(&format!("admin@{domain}")).unwrap(),
            password: SealedSecret::from_bytes(vec![7; 3000]),
            grant_admin_access: false,
            use_custom_veeam_aad_application: false,
            share_point_save_all_web_parts: false,
        }),
        sharepoint: None,
        is_teams_online: false,
        is_teams_chats_online: false,
        revision: 1,
        created_at: now,
        updated_at: now,
    }
}

/// Inserts organizations until the store reports a full disk; returns the
/// ids stored and the organization whose insert failed.
async fn fill(store: &SqliteStore, limit: usize) -> (Vec<OrganizationId>, Organization) {
    let mut stored = Vec::new();
    for i in 0..limit {
        let org = bulky_organization(i);
        match store.insert_organization(&org).await {
            Ok(()) => stored.push(org.id),
            Err(StoreError::StorageFull(failure)) => {
                let err = StoreError::StorageFull(failure);
                assert_eq!(err.kind(), StoreErrorKind::StorageFull);
                assert!(err.is_transient());
                assert!(
                    err.to_string().contains("is full"),
                    "the message says the disk is full: {err}"
                );
                assert!(
                    std::error::Error::source(&err).is_some(),
                    "the backend's error is kept as the cause"
                );
                return (stored, org);
            }
            Err(other) => panic!("insert {i}: expected StorageFull or success, got {other:?}"),
        }
    }
    panic!("{limit} organizations fitted; the store never filled up");
}

/// The checks after the disk filled up, before and after room is made.
async fn assert_recovers(
    store: &SqliteStore,
    mut stored: Vec<OrganizationId>,
    failed: Organization,
) {
    // The failed insert is gone whole: no organization, no half of it.
    let mut listed = listed_ids(store).await;
    listed.sort_unstable();
    stored.sort_unstable();
    assert_eq!(
        listed, stored,
        "exactly the acknowledged inserts are stored"
    );
    assert_eq!(store.get_organization(failed.id).await.unwrap(), None);

    // Writes that need no new space work at once on the same store: the
    // writer is not left inside the failed transaction.
    assert!(!store
        .set_admin_password("nobody", "$argon2id$x")
        .await
        .unwrap());
    assert!(store.delete_organization(stored[0]).await.unwrap());
    assert!(store.delete_organization(stored[1]).await.unwrap());
    assert!(store.delete_organization(stored[2]).await.unwrap());

    // With room again, the very insert that failed succeeds.
    store.insert_organization(&failed).await.unwrap();
    store
        .create_admin(&AdminRecord {
            user_name: "after-full".into(),
            password_hash: "$argon2id$h".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        store.get_organization(failed.id).await.unwrap().as_ref(),
        Some(&failed),
        "the retried insert is stored whole"
    );
    assert_eq!(
        store.list_organizations().await.unwrap().len(),
        stored.len() - 2,
        "three deleted, one added"
    );
    assert!(store.integrity_check().await.unwrap());
}

#[tokio::test]
async fn a_full_store_refuses_cleanly_and_writes_again_once_there_is_room() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openvbo.db");
    let options = SqliteOptions {
        // The schema alone takes about 220 KiB: room for a few dozen organizations past it.
        max_size_bytes: Some(512 * 1024),
    };
    let store = SqliteStore::open_with(&path, &options).await.unwrap();
    let (stored, failed) = fill(&store, 500).await;
    assert!(
        stored.len() > 3,
        "only {} organizations fitted",
        stored.len()
    );

    // Failing again and again must not wear anything out either.
    for _ in 0..5 {
        assert!(matches!(
            store.insert_organization(&bulky_organization(9999)).await,
            Err(StoreError::StorageFull(_))
        ));
    }
    assert_recovers(&store, stored, failed).await;
    store.close().await;

    // And what was acknowledged is on disk.
    let reopened = SqliteStore::open(&path).await.unwrap();
    assert!(reopened.admin_count().await.unwrap() == 1);
    reopened.close().await;
}

/// Unmounts on drop, so a failing test leaves no mount behind.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Result<Tmpfs, String> {
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if output.status.success() {
            Ok(Tmpfs(at.to_path_buf()))
        } else {
            Err(format!(
                "mount -t tmpfs failed (needs root): {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Fills the file system with a file until it refuses; returns its path.
fn fill_file_system(dir: &Path) -> PathBuf {
    use std::io::Write as _;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    loop {
        match file.write_all(&block) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
            Err(e) => panic!("filling the tmpfs: {e}"),
        }
    }
    // Single bytes into the last partial block.
    while file.write_all(&[0]).is_ok() {}
    path
}

#[tokio::test]
async fn a_full_tmpfs_fails_writes_cleanly_and_they_work_again_once_space_is_freed() {
    let dir = tempfile::tempdir().unwrap();
    let mount = match Tmpfs::mount(dir.path(), "2m") {
        Ok(mount) => mount,
        Err(reason) => {
            println!("skipped: {reason}");
            return;
        }
    };
    let path = mount.0.join("openvbo.db");
    let store = SqliteStore::open(&path).await.unwrap();
    for i in 0..4 {
        store
            .insert_organization(&bulky_organization(1000 + i))
            .await
            .unwrap();
    }
    let mut stored = listed_ids(&store).await;
    let filler = fill_file_system(&mount.0);
    let (more, failed) = fill(&store, 500).await;
    stored.extend(more);

    // Space comes back from outside, as when an operator deletes files.
    std::fs::remove_file(&filler).unwrap();
    assert_recovers(&store, stored, failed).await;
    store.close().await;
    drop(mount);
}

async fn listed_ids(store: &SqliteStore) -> Vec<OrganizationId> {
    store
        .list_organizations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.id)
        .collect()
}
