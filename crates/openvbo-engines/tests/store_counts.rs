//! Item-level retention through the repository service, over the real engine and a real
//! SQLite store: the items the engine drops from a restore point that stays are no longer
//! counted by the store's resources of that point (the repository listings and
//! `backedupOrganizations` read those counts), and resources that lost nothing keep theirs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::sync::Arc;

use openvbo_core::backup::{
    JobId, ResourceKind as CoreKind, RestorePoint as StorePoint, RestorePointId,
    RestorePointResource,
};
use openvbo_core::clock::{ManualClock, SharedClock};
use openvbo_core::crypto::{MasterKey, Sealer};
use openvbo_core::repositories::{
    RepositoryInput, RepositoryOptions, RepositoryService, RetentionInput,
};
use openvbo_core::store::RestorePointStore;
use openvbo_core::OrganizationId;
use openvbo_engines::RepoEngines;
use openvbo_repo::{NewItem, Part, Repository, ResourceKind, ResourceRef, RestorePoint};
use openvbo_store::SqliteStore;
use time::{Duration, OffsetDateTime};

fn body(id: &str) -> Vec<u8> {
    format!("message {id} ").repeat(200).into_bytes()
}

async fn back_up(repo: &Repository, user: &str, items: &[(&str, OffsetDateTime)]) -> RestorePoint {
    let resource = ResourceRef {
        organization: "org".into(),
        resource: user.into(),
        kind: ResourceKind::Mailbox,
    };
    let mut w = repo.writer(resource, None).await.unwrap();
    for (id, modified) in items {
        let item = NewItem {
            folder: "inbox".into(),
            id: (*id).into(),
            change_key: "ck".into(),
            modified: modified.unix_timestamp(),
            metadata: Default::default(),
        };
        w.put_item(item, vec![Part::bytes("mime", body(id))])
            .await
            .unwrap();
    }
    w.commit(b"", Default::default()).await.unwrap()
}

#[tokio::test]
async fn item_level_clean_up_leaves_the_store_counting_what_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("openvbo.db"))
            .await
            .unwrap(),
    );
    let now = OffsetDateTime::now_utc();
    let clock: SharedClock = ManualClock::starting_at(now);
    let service = RepositoryService::new(
        store.clone(),
        Arc::new(Sealer::new(&MasterKey::generate())),
        Arc::new(RepoEngines::new([5; 32], "server")),
        clock,
        RepositoryOptions {
            host_name: "test".into(),
            protected_paths: Vec::new(),
        },
    );
    let retention: RetentionInput = serde_json::from_str(
        r#"{"retentionType":"ItemLevel","retentionPeriodType":"Daily","dailyRetentionPeriod":30,
            "retentionFrequencyType":"Daily","dailyTime":"10:00:00","dailyType":"Everyday"}"#,
    )
    .unwrap();
    let repo = service
        .add_repository(
            RepositoryInput {
                name: Some("Items".into()),
                path: Some(dir.path().join("repo").to_string_lossy().into_owned()),
                ..RepositoryInput::default()
            },
            retention,
        )
        .await
        .unwrap()
        .repository;
    let handle = service.engine(repo.id).await.unwrap();
    let engine = handle
        .as_any()
        .downcast_ref::<Repository>()
        .unwrap()
        .clone();

    let old = now - Duration::days(400);
    let nancy = back_up(
        &engine,
        "nancy",
        &[("old1", old), ("old2", old), ("new", now)],
    )
    .await;
    let andrew = back_up(&engine, "andrew", &[("a1", now), ("a2", now)]).await;
    assert_eq!((nancy.item_count, andrew.item_count), (3, 2));

    // One store point holding both, as the job runner records them.
    let point = RestorePointId::new_random();
    store
        .insert_restore_point(&StorePoint {
            id: point,
            repository_id: repo.id,
            job_id: JobId::new_random(),
            job_session_id: None,
            organization_id: OrganizationId::new_random(),
            backup_time: now,
            is_exchange: false,
            is_sharepoint: false,
            is_onedrive: false,
            is_teams: false,
            is_long_term_copy: false,
            is_retrieved: false,
            retrieval_id: None,
        })
        .await
        .unwrap();
    for (user, p) in [("nancy", &nancy), ("andrew", &andrew)] {
        store
            .add_restore_point_resource(&RestorePointResource {
                restore_point_id: point,
                kind: CoreKind::Mailbox,
                resource_id: user.into(),
                display_name: user.into(),
                address: format!("{user}@contoso.test"),
                item_count: p.item_count as i64,
                size_bytes: p.item_bytes as i64,
                record: p.id.0.as_bytes().to_vec(),
            })
            .await
            .unwrap();
    }

    let done = service.clean_up(repo.id, now).await.unwrap();
    assert_eq!(done.items_removed, 2);
    assert!(done.removed_points.is_empty());
    assert_eq!(done.resized_points.len(), 1, "{done:?}");

    let mut left = store.list_restore_point_resources(point).await.unwrap();
    left.sort_by(|a, b| a.resource_id.cmp(&b.resource_id));
    let counts: Vec<(&str, i64, i64)> = left
        .iter()
        .map(|r| (r.resource_id.as_str(), r.item_count, r.size_bytes))
        .collect();
    let size = |ids: &[&str]| ids.iter().map(|i| body(i).len() as i64).sum::<i64>();
    assert_eq!(
        counts,
        vec![
            ("andrew", 2, size(&["a1", "a2"])),
            ("nancy", 1, size(&["new"])),
        ]
    );
    // The engine agrees with the store.
    let engine_nancy = handle
        .restore_points()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.id == nancy.id.0)
        .unwrap();
    assert_eq!(
        (engine_nancy.item_count, engine_nancy.item_bytes as i64),
        (1, size(&["new"]))
    );

    // A second clean-up finds nothing more to drop and changes nothing.
    let again = service.clean_up(repo.id, now).await.unwrap();
    assert_eq!(again.items_removed, 0);
    assert!(again.resized_points.is_empty());
    let mut same = store.list_restore_point_resources(point).await.unwrap();
    same.sort_by(|a, b| a.resource_id.cmp(&b.resource_id));
    assert_eq!(same, left);
}
