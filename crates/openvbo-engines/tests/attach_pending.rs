//! Attaching a repository whose backups belong to an organization this server has not added
//! yet: nothing is imported at first, the repository is out of sync (in the store, so a
//! restart remembers), and once the organization (same Microsoft tenant) is added, the next
//! clean-up pass imports its restore points — one per job session, with the recorded job,
//! session and backup time — exactly once. Attaching a removed repository again gives back
//! the same restore points, not copies. Real engine, real SQLite store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;

use openvbo_core::backup::{
    BackupRepository, JobId, JobSessionId, RepositoryId, RestorePointFilter, RestorePointId,
};
use openvbo_core::clock::{ManualClock, SharedClock};
use openvbo_core::crypto::{MasterKey, SealedSecret, Sealer};
use openvbo_core::organization::{Organization, ServiceAccount};
use openvbo_core::repositories::{
    CleanupScheduler, EngineLocation, RepositoryEngines, RepositoryInput, RepositoryOptions,
    RepositoryService, RetentionInput,
};
use openvbo_core::store::{OrganizationStore, RepositoryStore, RestorePointStore};
use openvbo_core::{OrganizationId, Region, Upn};
use openvbo_engines::RepoEngines;
use openvbo_repo::{NewItem, Part, Repository, ResourceKind, ResourceRef};
use openvbo_store::SqliteStore;
use serde_json::json;
use time::OffsetDateTime;

const MASTER: [u8; 32] = [9; 32];
const TENANT: &str = "6f1c1d2e-0000-4000-8000-00000000beef";

async fn back_up(repo: &Repository, user: &str, extra: serde_json::Value) {
    let resource = ResourceRef {
        // The organization id of the server that wrote it: unknown here.
        organization: OrganizationId::new_random().to_string(),
        resource: user.into(),
        kind: ResourceKind::Mailbox,
    };
    let mut w = repo.writer(resource, None).await.unwrap();
    let item = NewItem {
        folder: "inbox".into(),
        id: format!("{user}-1"),
        change_key: "ck".into(),
        modified: 1_780_000_000,
        metadata: Default::default(),
    };
    w.put_item(item, vec![Part::bytes("mime", b"hello".to_vec())])
        .await
        .unwrap();
    w.commit(b"", extra).await.unwrap();
}

fn organization(tenant: &str) -> Organization {
    let now = OffsetDateTime::now_utc();
    Organization {
        id: OrganizationId::new_random(),
        tenant_id: tenant.into(),
        name: "contoso.onmicrosoft.com".into(),
        office_name: "contoso.onmicrosoft.com".into(),
        display_name: "Contoso".into(),
        region: Region::Worldwide,
        exchange: Some(ServiceAccount {
            account: Upn::parse("admin@contoso.onmicrosoft.com").unwrap(),
            password: SealedSecret::from_bytes(vec![1, 2, 3]),
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

#[tokio::test]
async fn backups_of_an_organization_added_after_the_attach_are_imported_once_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let at = EngineLocation::Local {
        path: dir.path().join("repo"),
    };
    // The first server's backups: one session of two mailboxes, and one old-format record
    // (no tenant recorded) that no server but its writer can place.
    let (job, session) = (JobId::new_random(), JobSessionId::new_random());
    let backup_ms: i64 = 1_780_000_123_456;
    {
        let first = RepoEngines::new(MASTER, "first");
        let handle = first.create(&at, None).await.unwrap();
        let repo = handle
            .as_any()
            .downcast_ref::<Repository>()
            .unwrap()
            .clone();
        for user in ["nancy", "andrew"] {
            back_up(
                &repo,
                user,
                json!({"displayName": user, "address": format!("{user}@contoso.test"),
                       "kind": "Mailbox", "jobId": job.to_string(),
                       "jobSessionId": session.to_string(), "backupTimeMs": backup_ms,
                       "tenantId": TENANT}),
            )
            .await;
        }
        back_up(
            &repo,
            "old",
            json!({"displayName": "old", "kind": "Mailbox"}),
        )
        .await;
    }

    // The new server: its own store, the same master key.
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("openvbo.db"))
            .await
            .unwrap(),
    );
    let sealer = Arc::new(Sealer::new(&MasterKey::generate()));
    let service = service_over(&store, &sealer);
    let repo = attach(&service, &dir.path().join("repo")).await;
    let filter = RestorePointFilter {
        repository_id: Some(repo.id),
        ..RestorePointFilter::default()
    };
    assert!(store.list_restore_points(&filter).await.unwrap().is_empty());

    // A pass before the organization is added changes nothing.
    let scheduler = CleanupScheduler::new(service.clone());
    scheduler.run_once(OffsetDateTime::now_utc()).await.unwrap();
    assert!(store.list_restore_points(&filter).await.unwrap().is_empty());

    // The organization is added (the same tenant): the next pass imports its backups.
    let org = organization(TENANT);
    store.insert_organization(&org).await.unwrap();
    scheduler.run_once(OffsetDateTime::now_utc()).await.unwrap();
    let points = store.list_restore_points(&filter).await.unwrap();
    assert_eq!(points.len(), 1, "one point per session: {points:?}");
    let p = &points[0];
    assert_eq!(p.organization_id, org.id);
    assert_eq!(p.job_id, job);
    assert_eq!(p.job_session_id, Some(session));
    assert_eq!(
        i64::try_from(p.backup_time.unix_timestamp_nanos() / 1_000_000).unwrap(),
        backup_ms
    );
    assert!(p.is_exchange);
    let mut users: Vec<(String, String, i64)> = store
        .list_restore_point_resources(p.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.resource_id, r.address, r.item_count))
        .collect();
    users.sort();
    assert_eq!(
        users,
        vec![
            ("andrew".into(), "andrew@contoso.test".into(), 1),
            ("nancy".into(), "nancy@contoso.test".into(), 1),
        ]
    );

    // Another organization added later: the old-format record still has no owner here,
    // and what was imported is not imported twice.
    store
        .insert_organization(&Organization {
            name: "fabrikam.onmicrosoft.com".into(),
            ..organization("7f1c1d2e-0000-4000-8000-00000000cafe")
        })
        .await
        .unwrap();
    scheduler.run_once(OffsetDateTime::now_utc()).await.unwrap();
    assert_eq!(store.list_restore_points(&filter).await.unwrap().len(), 1);
    // What only its writer could place does not keep the repository out of sync.
    assert!(
        !store
            .get_repository(repo.id)
            .await
            .unwrap()
            .unwrap()
            .is_out_of_sync
    );
}

/// The repository service of a server over `store` (a new one is a restart).
fn service_over(store: &Arc<SqliteStore>, sealer: &Arc<Sealer>) -> RepositoryService {
    let clock: SharedClock = ManualClock::starting_at(OffsetDateTime::now_utc());
    RepositoryService::new(
        store.clone(),
        sealer.clone(),
        Arc::new(RepoEngines::new(MASTER, "second")),
        clock,
        RepositoryOptions {
            host_name: "test".into(),
            protected_paths: Vec::new(),
        },
    )
}

async fn attach(service: &RepositoryService, path: &std::path::Path) -> BackupRepository {
    let retention: RetentionInput = serde_json::from_str(
        r#"{"retentionType":"SnapshotBased","retentionPeriodType":"Yearly","yearlyRetentionPeriod":"Keep"}"#,
    )
    .unwrap();
    service
        .add_repository(
            RepositoryInput {
                name: Some("Attached".into()),
                path: Some(path.to_string_lossy().into_owned()),
                attach_used_repository: Some(true),
                ..RepositoryInput::default()
            },
            retention,
        )
        .await
        .unwrap()
        .repository
}

/// Two sessions of one job over two mailboxes of TENANT, written by another server.
async fn two_sessions(at: &EngineLocation) -> [JobSessionId; 2] {
    let first = RepoEngines::new(MASTER, "first");
    let handle = first.create(at, None).await.unwrap();
    let repo = handle
        .as_any()
        .downcast_ref::<Repository>()
        .unwrap()
        .clone();
    let job = JobId::new_random();
    let sessions = [JobSessionId::new_random(), JobSessionId::new_random()];
    for (n, session) in sessions.iter().enumerate() {
        for user in ["nancy", "andrew"] {
            back_up(
                &repo,
                user,
                json!({"displayName": user, "kind": "Mailbox", "jobId": job.to_string(),
                       "jobSessionId": session.to_string(),
                       "backupTimeMs": 1_780_000_000_000_i64 + i64::try_from(n).unwrap() * 86_400_000,
                       "tenantId": TENANT}),
            )
            .await;
        }
    }
    first.forget(at);
    sessions
}

/// (point id, session, resources) of every point the store lists, oldest first.
async fn points_in(
    store: &SqliteStore,
    repository: Option<RepositoryId>,
) -> Vec<(RestorePointId, Option<JobSessionId>, Vec<String>)> {
    let filter = RestorePointFilter {
        repository_id: repository,
        ..RestorePointFilter::default()
    };
    let mut out = Vec::new();
    for p in store.list_restore_points(&filter).await.unwrap() {
        let mut users: Vec<String> = store
            .list_restore_point_resources(p.id)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.resource_id)
            .collect();
        users.sort();
        out.push((p.id, p.job_session_id, users));
    }
    out
}

#[tokio::test]
async fn a_restart_keeps_the_import_waiting_for_the_organization() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let at = EngineLocation::Local { path: path.clone() };
    let sessions = two_sessions(&at).await;
    let db = dir.path().join("openvbo.db");
    let sealer = Arc::new(Sealer::new(&MasterKey::generate()));
    let repo = {
        let store = Arc::new(SqliteStore::open(&db).await.unwrap());
        let service = service_over(&store, &sealer);
        let repo = attach(&service, &path).await;
        assert!(repo.is_out_of_sync, "the attach reports what waits");
        assert!(points_in(&store, Some(repo.id)).await.is_empty());
        repo
    };

    // A restart: a new store handle and service over the same database file.
    let store = Arc::new(SqliteStore::open(&db).await.unwrap());
    let service = service_over(&store, &sealer);
    assert!(
        store
            .get_repository(repo.id)
            .await
            .unwrap()
            .unwrap()
            .is_out_of_sync,
        "out of sync is kept in the store"
    );
    let scheduler = CleanupScheduler::new(service.clone());
    scheduler.run_once(OffsetDateTime::now_utc()).await.unwrap();
    assert!(points_in(&store, Some(repo.id)).await.is_empty());

    store
        .insert_organization(&organization(TENANT))
        .await
        .unwrap();
    scheduler.run_once(OffsetDateTime::now_utc()).await.unwrap();
    let points = points_in(&store, Some(repo.id)).await;
    let users = vec!["andrew".to_string(), "nancy".to_string()];
    assert_eq!(
        points
            .iter()
            .map(|(_, s, u)| (*s, u.clone()))
            .collect::<Vec<_>>(),
        vec![
            (Some(sessions[0]), users.clone()),
            (Some(sessions[1]), users)
        ],
        "one point per session, both mailboxes in each"
    );
    assert!(
        !store
            .get_repository(repo.id)
            .await
            .unwrap()
            .unwrap()
            .is_out_of_sync
    );
    // Later passes and a synchronization import nothing more.
    scheduler.run_once(OffsetDateTime::now_utc()).await.unwrap();
    let session = service.synchronize_repository(repo.id).await.unwrap();
    let report = session.report.unwrap();
    assert_eq!((report.points, report.already_known), (0, 4), "{report:?}");
    assert_eq!(points_in(&store, None).await, points);
}

#[tokio::test]
async fn attaching_a_removed_repository_again_gives_back_its_points_with_their_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    let at = EngineLocation::Local { path: path.clone() };
    two_sessions(&at).await;
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("openvbo.db"))
            .await
            .unwrap(),
    );
    store
        .insert_organization(&organization(TENANT))
        .await
        .unwrap();
    let service = service_over(&store, &Arc::new(Sealer::new(&MasterKey::generate())));

    let first = attach(&service, &path).await;
    assert!(!first.is_out_of_sync);
    let before = points_in(&store, Some(first.id)).await;
    assert_eq!(before.len(), 2, "{before:?}");
    let mut current = first.id;
    for round in 0..2 {
        service.remove_repository(current).await.unwrap();
        let again = attach(&service, &path).await;
        assert_ne!(again.id, current, "a new repository id each time");
        let after = points_in(&store, Some(again.id)).await;
        assert_eq!(
            after, before,
            "round {round}: the same points, ids and mailboxes"
        );
        assert_eq!(
            points_in(&store, None).await.len(),
            2,
            "round {round}: no copies anywhere in the store"
        );
        current = again.id;
    }
}
