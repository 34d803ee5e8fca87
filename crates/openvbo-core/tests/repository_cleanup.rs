//! Scheduled retention over a real (SQLite) store and a scripted engine: nothing runs before
//! the repository's clean-up time, the engine gets the rule of the repository's settings at
//! that time, restore points whose every resource the engine removed leave the store, points
//! that keep a resource stay, and a settings change moves the schedule.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::any::Any;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use openvbo_core::backup::{
    JobId, RepositoryId, ResourceKind, RestorePoint, RestorePointFilter, RestorePointId,
    RestorePointResource,
};
use openvbo_core::clock::{Clock as _, ManualClock, SharedClock};
use openvbo_core::crypto::{MasterKey, Sealer};
use openvbo_core::repositories::{
    CleanupScheduler, EngineCleanup, EngineError, EngineErrorKind, EngineHandle, EngineLocation,
    EngineRestorePoint, EngineRetention, EngineUnlock, RepositoryEngine, RepositoryEngines,
    RepositoryInput, RepositoryOptions, RepositoryService, RetentionInput, S3Account, S3Bucket,
    Space,
};
use openvbo_core::store::RestorePointStore;
use openvbo_core::OrganizationId;
use openvbo_store::SqliteStore;
use secrecy::SecretString;
use time::macros::datetime;
use time::OffsetDateTime;

/// Engine points: (engine id, backup time, resource); the newest of a resource is kept.
#[derive(Default)]
struct Script {
    points: Mutex<Vec<(String, OffsetDateTime, String)>>,
    rules: Mutex<Vec<EngineRetention>>,
}

struct FakeEngine(Arc<Script>);

#[async_trait]
impl RepositoryEngine for FakeEngine {
    fn engine_id(&self) -> &str {
        "fake"
    }
    async fn restore_points(&self) -> Result<Vec<EngineRestorePoint>, EngineError> {
        Ok(Vec::new())
    }
    async fn clean_up(&self, rule: EngineRetention) -> Result<EngineCleanup, EngineError> {
        self.0.rules.lock().unwrap().push(rule);
        let EngineRetention::PointsBefore(cut) = rule else {
            return Ok(EngineCleanup::default());
        };
        let mut points = self.0.points.lock().unwrap();
        let newest = |resource: &str, points: &[(String, OffsetDateTime, String)]| {
            points.iter().filter(|p| p.2 == resource).map(|p| p.1).max()
        };
        let snapshot = points.clone();
        let mut removed = Vec::new();
        points.retain(|(id, at, resource)| {
            let keep = *at >= cut || newest(resource, &snapshot) == Some(*at);
            if !keep {
                removed.push(id.clone());
            }
            keep
        });
        Ok(EngineCleanup {
            removed_points: removed,
            ..EngineCleanup::default()
        })
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

struct FakeEngines(Arc<Script>);

#[async_trait]
impl RepositoryEngines for FakeEngines {
    async fn create(
        &self,
        _: &EngineLocation,
        _: Option<&SecretString>,
    ) -> Result<EngineHandle, EngineError> {
        Ok(Arc::new(FakeEngine(self.0.clone())))
    }
    async fn open(
        &self,
        _: &EngineLocation,
        _: EngineUnlock<'_>,
    ) -> Result<EngineHandle, EngineError> {
        Ok(Arc::new(FakeEngine(self.0.clone())))
    }
    async fn space(&self, _: &EngineLocation) -> Result<Option<Space>, EngineError> {
        Ok(None)
    }
    async fn probe(&self, _: &S3Bucket) -> Result<(), EngineError> {
        Err(EngineError::new(
            EngineErrorKind::Other,
            "no object storage here",
        ))
    }
    async fn list_buckets(&self, _: &S3Account) -> Result<Vec<String>, EngineError> {
        Ok(Vec::new())
    }
    async fn list_folders(&self, _: &S3Bucket) -> Result<Vec<String>, EngineError> {
        Ok(Vec::new())
    }
    async fn create_folder(&self, _: &S3Bucket, _: &str) -> Result<(), EngineError> {
        Ok(())
    }
    fn forget(&self, _: &EngineLocation) {}
}

/// A store point of `resources` (engine ids as records) at `at`.
async fn point(
    store: &SqliteStore,
    repository: RepositoryId,
    at: OffsetDateTime,
    resources: &[(&str, &str)],
) -> RestorePointId {
    let id = RestorePointId::new_random();
    store
        .insert_restore_point(&RestorePoint {
            id,
            repository_id: repository,
            job_id: JobId::new_random(),
            job_session_id: None,
            organization_id: OrganizationId::new_random(),
            backup_time: at,
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
    for (resource, record) in resources {
        store
            .add_restore_point_resource(&RestorePointResource {
                restore_point_id: id,
                kind: ResourceKind::Mailbox,
                resource_id: (*resource).into(),
                display_name: (*resource).into(),
                address: format!("{resource}@contoso.test"),
                item_count: 1,
                size_bytes: 1,
                record: record.as_bytes().to_vec(),
            })
            .await
            .unwrap();
    }
    id
}

fn retention(json: &str) -> RetentionInput {
    serde_json::from_str(json).unwrap()
}

#[tokio::test]
async fn clean_up_runs_at_its_time_with_the_repositorys_rule_and_drops_what_the_engine_removed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("openvbo.db"))
            .await
            .unwrap(),
    );
    let script = Arc::new(Script::default());
    // Wednesday 2 December 2026, 09:00 UTC.
    let clock = ManualClock::starting_at(datetime!(2026-12-02 09:00 UTC));
    let shared: SharedClock = clock.clone();
    let service = RepositoryService::new(
        store.clone(),
        Arc::new(Sealer::new(&MasterKey::generate())),
        Arc::new(FakeEngines(script.clone())),
        shared,
        RepositoryOptions {
            host_name: "test".into(),
            protected_paths: Vec::new(),
        },
    );
    let repo = service
        .add_repository(
            RepositoryInput {
                name: Some("Daily".into()),
                path: Some(dir.path().join("repo").to_string_lossy().into_owned()),
                ..RepositoryInput::default()
            },
            retention(
                r#"{"retentionType":"SnapshotBased","retentionPeriodType":"Daily","dailyRetentionPeriod":7,
                    "retentionFrequencyType":"Daily","dailyTime":"10:00:00","dailyType":"Everyday"}"#,
            ),
        )
        .await
        .unwrap()
        .repository;

    // Engine points: alice on days -20 (with bob), -10 and -1; bob only on day -20.
    let day = |d: i64| clock.now() + time::Duration::days(d);
    *script.points.lock().unwrap() = vec![
        ("a-20".into(), day(-20), "alice".into()),
        ("b-20".into(), day(-20), "bob".into()),
        ("a-10".into(), day(-10), "alice".into()),
        ("a-1".into(), day(-1), "alice".into()),
    ];
    let both = point(
        &store,
        repo.id,
        day(-20),
        &[("alice", "a-20"), ("bob", "b-20")],
    )
    .await;
    let ten = point(&store, repo.id, day(-10), &[("alice", "a-10")]).await;
    let one = point(&store, repo.id, day(-1), &[("alice", "a-1")]).await;

    let scheduler = CleanupScheduler::new(service.clone());
    // First sight: the schedule is set, nothing runs (the 10:00 of today is ahead).
    assert!(scheduler.run_once(clock.now()).await.unwrap().is_empty());
    assert_eq!(
        scheduler.next_run(repo.id),
        Some(datetime!(2026-12-02 10:00 UTC))
    );
    clock.advance(Duration::from_secs(59 * 60));
    assert!(scheduler.run_once(clock.now()).await.unwrap().is_empty());
    assert!(script.rules.lock().unwrap().is_empty());

    // 10:00: the clean-up runs with "points before seven days ago".
    clock.advance(Duration::from_secs(60));
    let ran = scheduler.run_once(clock.now()).await.unwrap();
    assert_eq!(ran.len(), 1);
    let (id, result) = &ran[0];
    assert_eq!(*id, repo.id);
    let mut removed = result.as_ref().unwrap().removed_points.clone();
    removed.sort();
    // bob's only point is his newest: kept by the engine, so the shared store point stays.
    assert_eq!(removed, vec!["a-10".to_string(), "a-20".to_string()]);
    assert_eq!(
        script.rules.lock().unwrap().as_slice(),
        &[EngineRetention::PointsBefore(
            datetime!(2026-11-25 10:00 UTC)
        )]
    );
    let left: Vec<RestorePointId> = store
        .list_restore_points(&RestorePointFilter {
            repository_id: Some(repo.id),
            ..RestorePointFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(
        left,
        vec![both, one],
        "the point of day -10 ({ten}) is gone"
    );
    assert_eq!(
        scheduler.next_run(repo.id),
        Some(datetime!(2026-12-03 10:00 UTC))
    );

    // Weekends only from now on: the schedule moves to Saturday, nothing runs before.
    service
        .update_repository(
            repo.id,
            RepositoryInput::default(),
            retention(r#"{"dailyType":"Weekends"}"#),
        )
        .await
        .unwrap();
    clock.advance(Duration::from_secs(24 * 3600));
    assert!(scheduler.run_once(clock.now()).await.unwrap().is_empty());
    assert_eq!(
        scheduler.next_run(repo.id),
        Some(datetime!(2026-12-05 10:00 UTC))
    );
    assert_eq!(script.rules.lock().unwrap().len(), 1);
    clock.advance(Duration::from_secs(2 * 24 * 3600));
    assert_eq!(scheduler.run_once(clock.now()).await.unwrap().len(), 1);
    assert_eq!(script.rules.lock().unwrap().len(), 2);
}
