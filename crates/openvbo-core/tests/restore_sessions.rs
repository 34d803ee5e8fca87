//! Restore sessions over a real (SQLite) store: which point each resource shows, browsing the
//! catalog, and the session lifecycle on an injected clock.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::sync::Arc;
use std::time::Duration;

use openvbo_core::backup::{
    CatalogItem, CatalogItemKind, CatalogScope, JobId, RepositoryId, ResourceKind, RestorePoint,
    RestorePointId, RestorePointResource,
};
use openvbo_core::clock::{Clock as _, ManualClock};
use openvbo_core::restore::browse::{self, FolderFilter};
use openvbo_core::restore::{
    EventStatus, EventType, ExploreOptions, NewEvent, RestoreSessionId, RestoreSessions,
    SessionPageQuery, SessionResult, SessionState,
};
use openvbo_core::store::RestorePointStore;
use openvbo_core::{CoreError, OrganizationId};
use openvbo_store::SqliteStore;
use openvbo_store_conformance::seed;
use time::macros::datetime;
use time::OffsetDateTime;

const T1: OffsetDateTime = datetime!(2026-03-01 10:00:00 UTC);
const T2: OffsetDateTime = datetime!(2026-03-02 10:00:00 UTC);

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    org: OrganizationId,
    job: JobId,
    other_job: JobId,
}

fn point(org: OrganizationId, job: JobId, at: OffsetDateTime, repo: RepositoryId) -> RestorePoint {
    RestorePoint {
        id: RestorePointId::new_random(),
        repository_id: repo,
        job_id: job,
        job_session_id: None,
        organization_id: org,
        backup_time: at,
        is_exchange: true,
        is_sharepoint: false,
        is_onedrive: false,
        is_teams: false,
        is_long_term_copy: false,
        is_retrieved: false,
        retrieval_id: None,
    }
}

fn mailbox(point: RestorePointId, id: &str, name: &str) -> RestorePointResource {
    RestorePointResource {
        restore_point_id: point,
        kind: ResourceKind::Mailbox,
        resource_id: id.into(),
        display_name: name.into(),
        address: format!("{}@contoso.test", name.to_lowercase()),
        item_count: 0,
        size_bytes: 0,
        record: vec![1],
    }
}

fn entry(
    point: RestorePointId,
    resource: &str,
    id: &str,
    parent: Option<&str>,
    kind: CatalogItemKind,
) -> CatalogItem {
    CatalogItem {
        restore_point_id: point,
        resource_kind: ResourceKind::Mailbox,
        resource_id: resource.into(),
        item_id: id.into(),
        parent_id: parent.map(Into::into),
        kind,
        name: format!("name of {id}"),
        sender: None,
        size_bytes: 100,
        created: None,
        modified: None,
        path: String::new(),
        content_ref: id.as_bytes().to_vec(),
    }
}

/// Point 1 (T1): Adele with Inbox{m1, m2} and Inbox/Sub{m9}. Point 2 (T2): Adele's m2 deleted
/// and m3 new; Bob first backed up. A point of another job at T2 holds Carol.
async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("openvbo.db"))
            .await
            .unwrap(),
    );
    let (org, job, other_job) = (
        OrganizationId::new_random(),
        JobId::new_random(),
        JobId::new_random(),
    );
    // Explore only shows points of added repositories, so the points' repository is added.
    let repo = seed::local_repository(&*store, &dir.path().join("repo"), T1)
        .await
        .id;
    use CatalogItemKind::{Folder, Message};
    let p1 = point(org, job, T1, repo);
    store.insert_restore_point(&p1).await.unwrap();
    store
        .add_restore_point_resource(&mailbox(p1.id, "adele", "Adele"))
        .await
        .unwrap();
    store
        .insert_catalog_items(&[
            entry(p1.id, "adele", "inbox", None, Folder),
            entry(p1.id, "adele", "sub", Some("inbox"), Folder),
            entry(p1.id, "adele", "m1", Some("inbox"), Message),
            entry(p1.id, "adele", "m2", Some("inbox"), Message),
            entry(p1.id, "adele", "m9", Some("sub"), Message),
        ])
        .await
        .unwrap();
    let p2 = point(org, job, T2, repo);
    store.insert_restore_point(&p2).await.unwrap();
    store
        .add_restore_point_resource(&mailbox(p2.id, "adele", "Adele"))
        .await
        .unwrap();
    store
        .add_restore_point_resource(&mailbox(p2.id, "bob", "Bob"))
        .await
        .unwrap();
    store
        .insert_catalog_items(&[
            entry(p2.id, "adele", "inbox", None, Folder),
            entry(p2.id, "adele", "sub", Some("inbox"), Folder),
            entry(p2.id, "adele", "m1", Some("inbox"), Message),
            entry(p2.id, "adele", "m3", Some("inbox"), Message),
            entry(p2.id, "adele", "m9", Some("sub"), Message),
        ])
        .await
        .unwrap();
    let p3 = point(org, other_job, T2, repo);
    store.insert_restore_point(&p3).await.unwrap();
    store
        .add_restore_point_resource(&mailbox(p3.id, "carol", "Carol"))
        .await
        .unwrap();
    // Indexed whole: browsing serves only complete catalogs.
    for (p, id, name) in [
        (p1.id, "adele", "Adele"),
        (p2.id, "adele", "Adele"),
        (p2.id, "bob", "Bob"),
        (p3.id, "carol", "Carol"),
    ] {
        store
            .complete_catalog(&CatalogScope::of(&mailbox(p, id, name)))
            .await
            .unwrap();
    }
    Fixture {
        _dir: dir,
        store,
        org,
        job,
        other_job,
    }
}

fn options(date_time: Option<&str>) -> ExploreOptions {
    ExploreOptions::from_wire(Some("Vex"), date_time, None, None).unwrap()
}

fn names(page: &browse::BrowsePage) -> Vec<&str> {
    page.items.iter().map(|i| i.item_id.as_str()).collect()
}

#[tokio::test]
async fn each_point_in_time_shows_exactly_that_points_state() {
    let f = fixture().await;
    let clock = ManualClock::starting_at(datetime!(2026-03-05 09:00:00 UTC));
    let sessions = RestoreSessions::new(f.store.clone(), clock, Duration::from_secs(1800));
    let store: &dyn RestorePointStore = f.store.as_ref();

    // At T1 (given to the minute, so the whole minute counts): Adele as of point 1 only.
    let s1 = sessions
        .explore(
            f.org,
            "contoso",
            Some(f.job),
            options(Some("2026.03.01 10:00")),
            "admin",
        )
        .await
        .unwrap();
    let shown: Vec<_> = s1
        .resources
        .iter()
        .map(|r| (r.resource.resource_id.as_str(), r.backup_time))
        .collect();
    assert_eq!(shown, vec![("adele", T1)]);
    let inbox = browse::items(store, &s1, "adele", Some("inbox"), 0, 30)
        .await
        .unwrap();
    assert_eq!(names(&inbox), vec!["m1", "m2"]);
    assert!(!inbox.more);
    assert_eq!(
        s1.organization_display_name(),
        "contoso (2026-03-01 10:00:00)"
    );
    let err = browse::resource(&s1, "bob").unwrap_err();
    assert!(matches!(err, CoreError::NotFound(_)), "{err}");

    // Latest: Adele as of point 2 (m2 gone, m3 there) and Bob; the other job's Carol only when
    // exploring the organization.
    let s2 = sessions
        .explore(f.org, "contoso", Some(f.job), options(None), "admin")
        .await
        .unwrap();
    let shown: Vec<_> = s2
        .resources
        .iter()
        .map(|r| (r.resource.resource_id.as_str(), r.backup_time))
        .collect();
    assert_eq!(shown, vec![("adele", T2), ("bob", T2)]);
    let inbox = browse::items(store, &s2, "adele", Some("inbox"), 0, 30)
        .await
        .unwrap();
    assert_eq!(names(&inbox), vec!["m1", "m3"]);
    let org_wide = sessions
        .explore(
            f.org,
            "contoso",
            None,
            options(Some("2026-03-02T10:00:00Z")),
            "admin",
        )
        .await
        .unwrap();
    let shown: Vec<_> = org_wide
        .resources
        .iter()
        .map(|r| r.resource.resource_id.as_str())
        .collect();
    assert_eq!(shown, vec!["adele", "bob", "carol"]);
    let other = sessions
        .explore(f.org, "contoso", Some(f.other_job), options(None), "admin")
        .await
        .unwrap();
    assert_eq!(other.resources.len(), 1);

    // Before the first backup: an empty, working session, not an error.
    let empty = sessions
        .explore(f.org, "contoso", None, options(Some("2026-02-28")), "admin")
        .await
        .unwrap();
    assert!(empty.resources.is_empty());
    assert_eq!(
        (empty.state, empty.result),
        (SessionState::Working, SessionResult::Success)
    );
    assert_eq!(empty.organization_display_name(), "contoso");
}

#[tokio::test]
async fn folders_follow_parent_id_and_items_page_by_offset() {
    let f = fixture().await;
    let sessions = RestoreSessions::new(
        f.store.clone(),
        ManualClock::new(),
        Duration::from_secs(1800),
    );
    let store: &dyn RestorePointStore = f.store.as_ref();
    let s = sessions
        .explore(f.org, "contoso", None, options(None), "admin")
        .await
        .unwrap();

    let top = browse::folders(
        store,
        &s,
        "adele",
        &FolderFilter::from_wire(Some("null")),
        0,
        30,
    )
    .await
    .unwrap();
    assert_eq!(names(&top), vec!["inbox"]);
    assert_eq!(
        FolderFilter::from_wire(Some("Root")),
        FolderFilter::TopLevel
    );
    let children = browse::folders(
        store,
        &s,
        "adele",
        &FolderFilter::from_wire(Some("inbox")),
        0,
        30,
    )
    .await
    .unwrap();
    assert_eq!(names(&children), vec!["sub"]);
    let tree = browse::folders(store, &s, "adele", &FolderFilter::from_wire(None), 0, 30)
        .await
        .unwrap();
    assert_eq!(names(&tree), vec!["inbox", "sub"]);

    let first = browse::items(store, &s, "adele", Some("inbox"), 0, 1)
        .await
        .unwrap();
    assert_eq!((names(&first), first.more), (vec!["m1"], true));
    let second = browse::items(store, &s, "adele", Some("inbox"), 1, 1)
        .await
        .unwrap();
    assert_eq!((names(&second), second.more), (vec!["m3"], false));
    let everything = browse::items(store, &s, "adele", None, 0, 30)
        .await
        .unwrap();
    assert_eq!(names(&everything), vec!["m1", "m3", "m9"]);

    let item = browse::entry(store, &s, "adele", "m3").await.unwrap();
    assert_eq!(
        (item.name.as_str(), item.content_ref.as_slice()),
        ("name of m3", b"m3".as_slice())
    );
    let err = browse::entry(store, &s, "adele", "m2").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "'m2' is not in Adele as of this restore session"
    );
    let err = browse::items(store, &s, "adele", Some("m1"), 0, 30)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "'m1' is not a folder");
}

#[tokio::test]
async fn stop_is_idempotent_idle_sessions_expire_and_stopped_sessions_refuse_actions() {
    let f = fixture().await;
    let clock = ManualClock::starting_at(datetime!(2026-03-05 09:00:00 UTC));
    let sessions = RestoreSessions::new(f.store.clone(), clock.clone(), Duration::from_secs(600));
    let a = sessions
        .explore(f.org, "contoso", None, options(None), "admin")
        .await
        .unwrap();
    clock.advance(Duration::from_secs(60));
    let b = sessions
        .explore(f.org, "contoso", None, options(None), "admin")
        .await
        .unwrap();

    // Events: start, one per action (its status lowers the result), end.
    let mut save = NewEvent::new(
        EventType::Save,
        EventStatus::Warning,
        "Item m1 was saved with warnings",
    );
    save.item_name = Some("m1".into());
    let recorded = sessions.record(a.id, save).unwrap();
    assert_eq!(recorded.order, 2);
    assert_eq!(sessions.get(a.id).unwrap().result, SessionResult::Warning);
    let stopped = sessions.stop(a.id).unwrap();
    assert_eq!(
        (stopped.state, stopped.end_time),
        (SessionState::Stopped, Some(clock.now()))
    );
    let again = sessions.stop(a.id).unwrap();
    assert_eq!(
        again.end_time, stopped.end_time,
        "stopping twice changes nothing"
    );
    let (events, total) = sessions.events(a.id, 0, 30).unwrap();
    let titles: Vec<_> = events
        .iter()
        .map(|e| (e.order, e.event_type, e.title.as_str()))
        .collect();
    assert_eq!(
        titles,
        vec![
            (1, EventType::None, "Restore session started"),
            (2, EventType::Save, "Item m1 was saved with warnings"),
            (3, EventType::None, "Restore session stopped"),
        ]
    );
    assert_eq!(total, 3);
    assert_eq!(
        sessions
            .event(a.id, events[1].id)
            .unwrap()
            .item_name
            .as_deref(),
        Some("m1")
    );
    let err = sessions.active(a.id).unwrap_err();
    assert!(
        matches!(err, CoreError::Conflict(_)) && err.to_string().contains("is stopped"),
        "{err}"
    );

    // b is used at 9 minutes, so it lives until 19 minutes of idle time have passed since then.
    clock.advance(Duration::from_secs(8 * 60));
    sessions.active(b.id).unwrap();
    clock.advance(Duration::from_secs(9 * 60));
    assert_eq!(sessions.get(b.id).unwrap().state, SessionState::Working);
    clock.advance(Duration::from_secs(60));
    let expired = sessions.get(b.id).unwrap();
    assert_eq!(expired.state, SessionState::Stopped);
    assert!(expired
        .events
        .last()
        .unwrap()
        .title
        .starts_with("Restore session expired after 10 min"));
    assert!(sessions.active(b.id).is_err());

    // Listing: creation-time filters and paging.
    let (all, total) = sessions.list(&SessionPageQuery {
        limit: 30,
        ..Default::default()
    });
    assert_eq!(
        (all.iter().map(|s| s.id).collect::<Vec<_>>(), total),
        (vec![a.id, b.id], 2)
    );
    let later = SessionPageQuery {
        start_from: Some(b.creation_time),
        limit: 30,
        ..Default::default()
    };
    assert_eq!(
        sessions
            .list(&later)
            .0
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        vec![b.id]
    );
    let earlier = SessionPageQuery {
        start_to: Some(a.creation_time),
        limit: 30,
        ..Default::default()
    };
    assert_eq!(
        sessions
            .list(&earlier)
            .0
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        vec![a.id]
    );
    let (page, total) = sessions.list(&SessionPageQuery {
        offset: 1,
        limit: 1,
        ..Default::default()
    });
    assert_eq!((page.len(), page[0].id, total), (1, b.id, 2));

    // Unknown ids and unsupported types say what is wrong.
    let unknown = RestoreSessionId::new_random();
    assert_eq!(
        sessions.get(unknown).unwrap_err().to_string(),
        format!("there is no restore session {unknown}")
    );
    assert!(matches!(
        sessions.stop(unknown),
        Err(CoreError::NotFound(_))
    ));
    let teams = ExploreOptions::from_wire(Some("Vet"), None, None, None).unwrap();
    let err = sessions
        .explore(f.org, "contoso", None, teams, "admin")
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::NotSupported(_)), "{err}");
}

#[tokio::test]
async fn reads_of_an_incomplete_catalog_answer_incomplete_not_a_part_of_the_mailbox() {
    let f = fixture().await;
    let sessions = RestoreSessions::new(
        f.store.clone(),
        ManualClock::new(),
        Duration::from_secs(1800),
    );
    let store: &dyn RestorePointStore = f.store.as_ref();
    let s = sessions
        .explore(f.org, "contoso", Some(f.job), options(None), "admin")
        .await
        .unwrap();
    let point = s.resources[0].point_id;
    assert_eq!(s.resources[0].resource.resource_id, "adele");
    let scope = CatalogScope::of(&mailbox(point, "adele", "Adele"));
    // Dropped (as an item-level clean-up drops it), then half written again, not completed.
    store.clear_catalog(&scope).await.unwrap();
    store
        .insert_catalog_items(&[
            entry(point, "adele", "inbox", None, CatalogItemKind::Folder),
            entry(
                point,
                "adele",
                "m1",
                Some("inbox"),
                CatalogItemKind::Message,
            ),
        ])
        .await
        .unwrap();
    let err = browse::items(store, &s, "adele", Some("inbox"), 0, 30)
        .await
        .unwrap_err();
    assert!(browse::is_incomplete(&err), "{err}");
    let err = browse::folders(store, &s, "adele", &FolderFilter::Tree, 0, 30)
        .await
        .unwrap_err();
    assert!(browse::is_incomplete(&err), "{err}");
    // Present: found; absent from an incomplete catalog: not "not found".
    let m1 = browse::entry(store, &s, "adele", "m1").await.unwrap();
    assert_eq!(m1.item_id, "m1");
    let err = browse::entry(store, &s, "adele", "m3").await.unwrap_err();
    assert!(browse::is_incomplete(&err), "{err}");
    assert!(
        matches!(err, CoreError::Busy { retry_after, .. } if retry_after == Duration::from_secs(1))
    );
    // Completed: served, and an absent id is a 404 again.
    store.complete_catalog(&scope).await.unwrap();
    let inbox = browse::items(store, &s, "adele", Some("inbox"), 0, 30)
        .await
        .unwrap();
    assert_eq!(names(&inbox), vec!["m1"]);
    let err = browse::entry(store, &s, "adele", "m3").await.unwrap_err();
    assert!(matches!(err, CoreError::NotFound(_)), "{err}");
}
