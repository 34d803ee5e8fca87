//! Retention through the adapter: absolute cut-offs become the engine's rules, removed
//! points are named by their engine ids, each resource's newest point survives, item-level
//! retention drops old items from the points that stay, and garbage collection runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use openvbo_core::repositories::{
    EngineHandle, EngineLocation, EngineRetention, RepositoryEngines,
};
use openvbo_engines::RepoEngines;
use openvbo_repo::{NewItem, Part, Repository, ResourceKind, ResourceRef, RestorePoint};
use time::{Duration, OffsetDateTime};

fn mailbox(n: u32) -> ResourceRef {
    ResourceRef {
        organization: "org".into(),
        resource: format!("user{n}"),
        kind: ResourceKind::Mailbox,
    }
}

/// One backup of `resource` with one message per `(id, modified)` on top of `base`.
async fn back_up(
    repo: &Repository,
    resource: ResourceRef,
    base: Option<&RestorePoint>,
    items: &[(&str, OffsetDateTime)],
) -> RestorePoint {
    let mut w = repo.writer(resource, base).await.unwrap();
    for (id, modified) in items {
        let item = NewItem {
            folder: "inbox".into(),
            id: (*id).into(),
            change_key: "ck".into(),
            modified: modified.unix_timestamp(),
            metadata: Default::default(),
        };
        let body = format!("message {id} ").repeat(200);
        w.put_item(item, vec![Part::bytes("mime", body.into_bytes())])
            .await
            .unwrap();
    }
    let point = w.commit(b"", Default::default()).await.unwrap();
    // Points of one resource need distinct times (milliseconds) to be ordered.
    std::thread::sleep(std::time::Duration::from_millis(3));
    point
}

async fn engine(dir: &std::path::Path) -> (EngineHandle, Repository) {
    let engines = RepoEngines::new([3; 32], "server");
    let at = EngineLocation::Local {
        path: dir.join("repo"),
    };
    let handle = engines.create(&at, None).await.unwrap();
    let repo = handle
        .as_any()
        .downcast_ref::<Repository>()
        .unwrap()
        .clone();
    (handle, repo)
}

#[tokio::test]
async fn points_before_the_cut_off_go_except_each_resources_newest() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, repo) = engine(dir.path()).await;
    let now = OffsetDateTime::now_utc();
    let first = back_up(&repo, mailbox(1), None, &[("a", now), ("b", now)]).await;
    let second = back_up(&repo, mailbox(1), Some(&first), &[("c", now)]).await;
    let cut = OffsetDateTime::now_utc();
    let third = back_up(&repo, mailbox(1), Some(&second), &[("d", now)]).await;
    let lone = back_up(&repo, mailbox(2), None, &[("x", now)]).await;

    // Keep forever: nothing goes.
    let kept = handle.clean_up(EngineRetention::KeepForever).await.unwrap();
    assert!(kept.removed_points.is_empty());
    assert_eq!(handle.restore_points().await.unwrap().len(), 4);

    let done = handle
        .clean_up(EngineRetention::PointsBefore(cut))
        .await
        .unwrap();
    let mut removed = done.removed_points.clone();
    removed.sort();
    let mut want = vec![first.id.0.clone(), second.id.0.clone()];
    want.sort();
    assert_eq!(removed, want);
    let left: Vec<String> = handle
        .restore_points()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(left, vec![third.id.0.clone(), lone.id.0.clone()]);
    // The newest point still holds everything it carried over from the removed ones.
    let points = handle.restore_points().await.unwrap();
    assert_eq!(points[0].item_count, 4);

    // A cut-off after everything: each resource's newest stays.
    let later = handle
        .clean_up(EngineRetention::PointsBefore(
            OffsetDateTime::now_utc() + Duration::days(1),
        ))
        .await
        .unwrap();
    assert!(later.removed_points.is_empty(), "{later:?}");
    assert_eq!(handle.restore_points().await.unwrap().len(), 2);
}

#[tokio::test]
async fn item_level_retention_drops_old_items_and_keeps_the_points() {
    let dir = tempfile::tempdir().unwrap();
    let (handle, repo) = engine(dir.path()).await;
    let now = OffsetDateTime::now_utc();
    let old = now - Duration::days(400);
    back_up(
        &repo,
        mailbox(1),
        None,
        &[("old1", old), ("old2", old), ("new", now)],
    )
    .await;

    let done = handle
        .clean_up(EngineRetention::ItemsModifiedBefore(
            now - Duration::days(365),
        ))
        .await
        .unwrap();
    assert!(done.removed_points.is_empty());
    assert_eq!(done.items_removed, 2);
    let points = handle.restore_points().await.unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].item_count, 1);
}
