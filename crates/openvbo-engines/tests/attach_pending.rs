//! Attaching a repository whose backups belong to an organization this server has not added
//! yet: nothing is imported at first, and once the organization (same Microsoft tenant) is
//! added, the next clean-up pass imports its restore points — one per job session, with the
//! recorded job, session and backup time — exactly once. Real engine, real SQLite store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use openvbo_core::backup::{JobId, JobSessionId, RestorePointFilter};
use openvbo_core::clock::{ManualClock, SharedClock};
use openvbo_core::crypto::{MasterKey, SealedSecret, Sealer};
use openvbo_core::organization::{Organization, ServiceAccount};
use openvbo_core::repositories::{
    CleanupScheduler, EngineLocation, RepositoryEngines, RepositoryInput, RepositoryOptions,
    RepositoryService, RetentionInput,
};
use openvbo_core::store::{OrganizationStore, RestorePointStore};
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
    let clock: SharedClock = ManualClock::starting_at(OffsetDateTime::now_utc());
    let service = RepositoryService::new(
        store.clone(),
        Arc::new(Sealer::new(&MasterKey::generate())),
        Arc::new(RepoEngines::new(MASTER, "second")),
        clock.clone(),
        RepositoryOptions {
            host_name: "test".into(),
            protected_paths: Vec::new(),
        },
    );
    let retention: RetentionInput = serde_json::from_str(
        r#"{"retentionType":"SnapshotBased","retentionPeriodType":"Yearly","yearlyRetentionPeriod":"Keep"}"#,
    )
    .unwrap();
    let repo = service
        .add_repository(
            RepositoryInput {
                name: Some("Attached".into()),
                path: Some(dir.path().join("repo").to_string_lossy().into_owned()),
                attach_used_repository: Some(true),
                ..RepositoryInput::default()
            },
            retention,
        )
        .await
        .unwrap()
        .repository;
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
}
