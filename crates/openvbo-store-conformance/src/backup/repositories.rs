use openvbo_core::backup::{
    ObjectStorageId, ProxyId, RepositoryId, RetentionPeriodType, YearlyRetentionPeriod,
};
use openvbo_core::crypto::SealedSecret;
use openvbo_core::store::{Removal, Store};

use super::super::fixtures::{assert_conflict, at};
use super::fixtures::{account, encryption_key, object_storage, repository};

pub(super) async fn run(store: &dyn Store, proxy: ProxyId) {
    local_repositories(store, proxy).await;
    object_storage_and_keys(store, proxy).await;
}

async fn local_repositories(store: &dyn Store, proxy: ProxyId) {
    let first = repository("Daily Reports", "/var/lib/openvbo/r1", proxy, 10);
    store.insert_repository(&first).await.unwrap();
    assert_eq!(
        store.get_repository(first.id).await.unwrap().as_ref(),
        Some(&first),
        "repositories: every field round-trips, times of day and sealed key included"
    );

    let same_path = repository("Other", "/var/lib/openvbo/r1", proxy, 11);
    assert_conflict(
        "repositories: a second repository on the same path",
        store.insert_repository(&same_path).await,
        "Daily Reports",
    );
    let same_name = repository("DAILY reports", "/var/lib/openvbo/r2", proxy, 11);
    assert_conflict(
        "repositories: a name differing only in case",
        store.insert_repository(&same_name).await,
        "Daily Reports",
    );
    assert_eq!(store.get_repository(same_name.id).await.unwrap(), None);

    let second = repository("Weekly", "/var/lib/openvbo/r2", proxy, 12);
    store.insert_repository(&second).await.unwrap();
    let listed: Vec<RepositoryId> = store
        .list_repositories(None)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        listed,
        vec![first.id, second.id],
        "repositories: creation order"
    );
    assert_eq!(store.list_repositories(Some(proxy)).await.unwrap().len(), 2);
    assert!(
        store
            .list_repositories(Some(ProxyId::new_random()))
            .await
            .unwrap()
            .is_empty(),
        "repositories: the proxy filter"
    );

    let mut edited = first.clone();
    edited.name = "Daily Reports (edited)".into();
    edited.retention.period_type = RetentionPeriodType::Yearly;
    edited.retention.yearly_period = Some(YearlyRetentionPeriod::Keep);
    edited.revision = 2;
    edited.updated_at = at(20);
    // An update never moves the repository nor replaces its key.
    let mut attempt = edited.clone();
    attempt.path = "/elsewhere".into();
    attempt.key_material = SealedSecret::from_bytes(vec![42]);
    assert!(store.update_repository(&attempt, 1).await.unwrap());
    assert_eq!(
        store.get_repository(first.id).await.unwrap().as_ref(),
        Some(&edited),
        "repositories: update writes the editable fields only"
    );
    assert!(
        !store.update_repository(&edited, 1).await.unwrap(),
        "repositories: a stale revision is refused"
    );
    let mut taken = second.clone();
    taken.name = "daily reports (EDITED)".into();
    taken.revision = 2;
    assert_conflict(
        "repositories: renaming onto another's name",
        store.update_repository(&taken, 1).await,
        "Daily Reports (edited)",
    );

    assert_eq!(
        store.delete_repository(second.id).await.unwrap(),
        Removal::Removed
    );
    assert_eq!(
        store.delete_repository(second.id).await.unwrap(),
        Removal::NotFound
    );
    assert_eq!(store.get_repository(second.id).await.unwrap(), None);
}

async fn object_storage_and_keys(store: &dyn Store, proxy: ProxyId) {
    let acc = account("AKIAEXAMPLE");
    store.insert_account(&acc).await.unwrap();
    assert_eq!(
        store.get_account(acc.id).await.unwrap().as_ref(),
        Some(&acc)
    );
    let mut rotated = acc.clone();
    rotated.secret = SealedSecret::from_bytes(vec![1, 1, 1]);
    rotated.revision = 2;
    assert!(store.update_account(&rotated, 1).await.unwrap());
    assert!(!store.update_account(&rotated, 1).await.unwrap());
    assert_eq!(store.list_accounts().await.unwrap(), vec![rotated.clone()]);

    let bucket = object_storage("S3 one", acc.id, "openvbo/one");
    store.insert_object_storage(&bucket).await.unwrap();
    assert_eq!(
        store.get_object_storage(bucket.id).await.unwrap().as_ref(),
        Some(&bucket)
    );
    let same_folder = object_storage("S3 two", acc.id, "openvbo/one");
    assert_conflict(
        "object storage: the same bucket folder twice",
        store.insert_object_storage(&same_folder).await,
        "S3 one",
    );
    let orphan = object_storage(
        "S3 three",
        openvbo_core::backup::AccountId::new_random(),
        "x",
    );
    assert!(
        store.insert_object_storage(&orphan).await.is_err(),
        "object storage: an unknown account is refused"
    );

    let key = encryption_key("primary");
    store.insert_encryption_key(&key).await.unwrap();
    assert_eq!(
        store.list_encryption_keys().await.unwrap(),
        vec![key.clone()]
    );

    let mut extended = repository("On S3", "/var/cache/openvbo/s3", proxy, 30);
    extended.object_storage_id = Some(bucket.id);
    extended.object_storage_cache_path = Some("/var/cache/openvbo/s3".into());
    extended.object_storage_encryption_enabled = true;
    extended.encryption_key_id = Some(key.id);
    store.insert_repository(&extended).await.unwrap();
    assert_eq!(
        store.get_repository(extended.id).await.unwrap().as_ref(),
        Some(&extended)
    );

    // Nothing in use can be removed, and a refusal removes nothing.
    for (what, removal) in [
        ("account", store.delete_account(acc.id).await.unwrap()),
        (
            "object storage",
            store.delete_object_storage(bucket.id).await.unwrap(),
        ),
        (
            "encryption key",
            store.delete_encryption_key(key.id).await.unwrap(),
        ),
    ] {
        match removal {
            Removal::InUse(message) => assert!(
                message.contains("S3 one") || message.contains("On S3"),
                "{what}: the refusal names the user: {message:?}"
            ),
            other => panic!("{what}: expected InUse, got {other:?}"),
        }
    }
    assert!(store.get_account(acc.id).await.unwrap().is_some());
    assert!(store.get_encryption_key(key.id).await.unwrap().is_some());

    assert_eq!(
        store.delete_repository(extended.id).await.unwrap(),
        Removal::Removed
    );
    assert_eq!(
        store.delete_encryption_key(key.id).await.unwrap(),
        Removal::Removed
    );
    assert_eq!(
        store.delete_object_storage(bucket.id).await.unwrap(),
        Removal::Removed
    );
    assert_eq!(
        store.delete_account(acc.id).await.unwrap(),
        Removal::Removed
    );
    assert_eq!(
        store
            .delete_object_storage(ObjectStorageId::new_random())
            .await
            .unwrap(),
        Removal::NotFound
    );
    assert!(store.list_object_storages().await.unwrap().is_empty());
}
