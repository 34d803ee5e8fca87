//! Records other crates' tests seed a store with before exercising what is built on it (the job
//! runner, restore sessions): one Contoso tenant, the local proxy with a repository on it, and a
//! mail job. They were written out identically in several test files; the values are the plain
//! ones those tests were written against (unlike the conformance checks' own fixtures, which
//! carry Unicode and odd bytes to catch a backend's round-trip losses).

use std::path::Path;

use openvbo_core::backup::{
    BackupRepository, BackupType, DailyType, DayOfWeek, Job, JobId, JobStatus, MonthlyDayNumber,
    Proxy, ProxyId, ProxyType, RepositoryId, Retention, RetentionFrequencyType,
    RetentionPeriodType, RetentionType, YearlyRetentionPeriod,
};
use openvbo_core::crypto::SealedSecret;
use openvbo_core::organization::{Organization, ServiceAccount};
use openvbo_core::store::{JobStore, OrganizationStore, ProxyStore, RepositoryStore};
use openvbo_core::{OrganizationId, Region, Upn};
use time::OffsetDateTime;

/// Stores the Contoso tenant (an Exchange account, no SharePoint one), created at `now`, and
/// returns it.
pub async fn contoso<S>(store: &S, now: OffsetDateTime) -> Organization
where
    S: OrganizationStore + ?Sized,
{
    let org = Organization {
        id: OrganizationId::new_random(),
        tenant_id: "tenant".into(),
        name: "contoso.onmicrosoft.com".into(),
        office_name: "contoso.onmicrosoft.com".into(),
        display_name: "Contoso".into(),
        region: Region::Worldwide,
        exchange: Some(ServiceAccount {
            account: Upn::parse("admin@contoso.onmicrosoft.com").unwrap(),
            password: SealedSecret::from_bytes(vec![1, 2, 3]),
            grant_admin_access: true,
            use_custom_veeam_aad_application: false,
            share_point_save_all_web_parts: false,
        }),
        sharepoint: None,
        is_teams_online: false,
        is_teams_chats_online: false,
        revision: 1,
        created_at: now,
        updated_at: now,
    };
    store.insert_organization(&org).await.unwrap();
    org
}

/// Stores the local proxy (the stored one if there is one already) and a repository "Local" at
/// `path` on it, created at `now`; returns the repository.
pub async fn local_repository<S>(store: &S, path: &Path, now: OffsetDateTime) -> BackupRepository
where
    S: ProxyStore + RepositoryStore + ?Sized,
{
    let proxy = store
        .local_proxy(&Proxy {
            id: ProxyId::new_random(),
            kind: ProxyType::Local,
            host_name: "localhost".into(),
            description: String::new(),
            port: 9193,
            threads_number: 64,
            enable_network_throttling: false,
            throttling_value: None,
            throttling_unit: None,
            internet_proxy: None,
            created_at: now,
        })
        .await
        .unwrap();
    let repository = BackupRepository {
        id: RepositoryId::new_random(),
        name: "Local".into(),
        description: String::new(),
        path: path.display().to_string(),
        proxy_id: proxy.id,
        retention: Retention {
            retention_type: RetentionType::SnapshotBased,
            period_type: RetentionPeriodType::Yearly,
            daily_period: None,
            monthly_period: None,
            yearly_period: Some(YearlyRetentionPeriod::Years3),
            frequency_type: RetentionFrequencyType::Daily,
            daily_time: time::Time::MIDNIGHT,
            daily_type: DailyType::Everyday,
            monthly_time: time::Time::MIDNIGHT,
            monthly_day_number: MonthlyDayNumber::First,
            monthly_day_of_week: DayOfWeek::Sunday,
        },
        object_storage_id: None,
        object_storage_cache_path: None,
        object_storage_encryption_enabled: false,
        encryption_key_id: None,
        is_long_term: false,
        is_out_of_sync: false,
        key_material: SealedSecret::from_bytes(vec![0]),
        revision: 1,
        created_at: now,
        updated_at: now,
    };
    store.insert_repository(&repository).await.unwrap();
    repository
}

/// Stores an enabled, never-run "Mail" job backing up all of `org` into `repository`, with the
/// stored form of its schedule (`schedule_policy`) and the `next_run` that schedule gives;
/// returns it.
pub async fn mail_job<S>(
    store: &S,
    org: OrganizationId,
    repository: RepositoryId,
    schedule_policy: String,
    next_run: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Job
where
    S: JobStore + ?Sized,
{
    let job = Job {
        id: JobId::new_random(),
        organization_id: org,
        repository_id: repository,
        name: "Mail".into(),
        description: String::new(),
        backup_type: BackupType::EntireOrganization,
        schedule_policy,
        is_enabled: true,
        last_run: None,
        next_run,
        last_status: JobStatus::NotConfigured,
        revision: 1,
        created_at: now,
        updated_at: now,
    };
    store.insert_job(&job, &[], &[]).await.unwrap();
    job
}
