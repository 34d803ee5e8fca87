//! Backup records the checks are built from.

use openvbo_core::backup::{
    AccountId, AccountType, BackupRepository, BackupType, CatalogItem, CatalogItemKind,
    CatalogScope, DailyType, DayOfWeek, EncryptionKey, EncryptionKeyId, Job, JobId, JobItem,
    JobItemId, JobSession, JobSessionId, JobStatus, JobType, MonthlyDayNumber,
    ObjectStorageAccount, ObjectStorageId, ObjectStorageRepository, ObjectStorageType, Proxy,
    ProxyId, ProxyType, RepositoryId, ResourceKind, RestorePoint, RestorePointId,
    RestorePointResource, Retention, RetentionFrequencyType, RetentionPeriodType, RetentionType,
    SessionStatistics, ThrottlingUnit, YearlyRetentionPeriod,
};
use openvbo_core::crypto::SealedSecret;
use openvbo_core::OrganizationId;
use time::{OffsetDateTime, Time};

use super::super::fixtures::at;

pub(super) fn local_proxy() -> Proxy {
    Proxy {
        id: ProxyId::new_random(),
        kind: ProxyType::Local,
        host_name: "backup-host".into(),
        description: "Built-in proxy".into(),
        port: 9193,
        threads_number: 64,
        enable_network_throttling: true,
        throttling_value: Some(1250),
        throttling_unit: Some(ThrottlingUnit::KBs),
        internet_proxy: None,
        created_at: at(0),
    }
}

pub(super) fn retention() -> Retention {
    Retention {
        retention_type: RetentionType::SnapshotBased,
        period_type: RetentionPeriodType::Yearly,
        daily_period: None,
        monthly_period: None,
        yearly_period: Some(YearlyRetentionPeriod::Years3),
        frequency_type: RetentionFrequencyType::Daily,
        daily_time: Time::from_hms(12, 34, 56).unwrap(),
        daily_type: DailyType::Workdays,
        monthly_time: Time::from_hms(18, 0, 0).unwrap(),
        monthly_day_number: MonthlyDayNumber::Last,
        monthly_day_of_week: DayOfWeek::Sunday,
    }
}

pub(super) fn repository(name: &str, path: &str, proxy: ProxyId, minute: i64) -> BackupRepository {
    BackupRepository {
        id: RepositoryId::new_random(),
        name: name.into(),
        description: format!("{name} — Ünïcode"),
        path: path.into(),
        proxy_id: proxy,
        retention: retention(),
        object_storage_id: None,
        object_storage_cache_path: None,
        object_storage_encryption_enabled: false,
        encryption_key_id: None,
        is_long_term: false,
        is_out_of_sync: false,
        key_material: SealedSecret::from_bytes(vec![0, 1, 2, 255, 0]),
        revision: 1,
        created_at: at(minute),
        updated_at: at(minute),
    }
}

pub(super) fn account(user: &str) -> ObjectStorageAccount {
    ObjectStorageAccount {
        id: AccountId::new_random(),
        account_type: AccountType::amazonS3CompatibleAccount,
        user_name: user.into(),
        secret: SealedSecret::from_bytes(vec![9, 8, 7, 0, 6]),
        description: "minio".into(),
        revision: 1,
        created_at: at(1),
    }
}

pub(super) fn object_storage(
    name: &str,
    account: AccountId,
    folder: &str,
) -> ObjectStorageRepository {
    ObjectStorageRepository {
        id: ObjectStorageId::new_random(),
        name: name.into(),
        description: String::new(),
        storage_type: ObjectStorageType::AmazonS3Compatible,
        account_id: account,
        service_point: "https://s3.example.test:9000".into(),
        custom_region_id: Some("eu-west-1".into()),
        bucket: "backups".into(),
        folder: folder.into(),
        size_limit_enabled: true,
        size_limit_gb: Some(1024),
        revision: 1,
        created_at: at(2),
    }
}

pub(super) fn encryption_key(description: &str) -> EncryptionKey {
    EncryptionKey {
        id: EncryptionKeyId::new_random(),
        description: description.into(),
        password_hash: "$argon2id$v=19$key".into(),
        key_material: vec![4, 0, 4],
        revision: 1,
        created_at: at(3),
    }
}

pub(super) fn job(
    name: &str,
    org: OrganizationId,
    repo: RepositoryId,
    backup_type: BackupType,
    minute: i64,
) -> Job {
    Job {
        id: JobId::new_random(),
        organization_id: org,
        repository_id: repo,
        name: name.into(),
        description: String::new(),
        backup_type,
        schedule_policy: r#"{"type":"Daily","dailyType":"Everyday","dailyTime":"15:00:00"}"#.into(),
        is_enabled: true,
        last_run: None,
        next_run: Some(at(60)),
        last_status: JobStatus::Stopped,
        revision: 1,
        created_at: at(minute),
        updated_at: at(minute),
    }
}

pub(super) fn item(id: &str, item_type: &str) -> JobItem {
    JobItem {
        id: JobItemId(id.into()),
        item_type: item_type.into(),
        body: format!(r#"{{"type":"{item_type}","id":"{id}","mailbox":true}}"#),
    }
}

pub(super) fn session(job: JobId, created: OffsetDateTime) -> JobSession {
    JobSession {
        id: JobSessionId::new_random(),
        job_id: job,
        job_type: JobType::Backup,
        creation_time: created,
        end_time: None,
        status: JobStatus::Running,
        progress: 0,
        retry_count: 0,
        details: None,
        statistics: SessionStatistics::default(),
    }
}

pub(super) fn point(job: &Job, backup_time: OffsetDateTime) -> RestorePoint {
    RestorePoint {
        id: RestorePointId::new_random(),
        repository_id: job.repository_id,
        job_id: job.id,
        job_session_id: None,
        organization_id: job.organization_id,
        backup_time,
        is_exchange: false,
        is_sharepoint: false,
        is_onedrive: false,
        is_teams: false,
        is_long_term_copy: false,
        is_retrieved: false,
        retrieval_id: None,
    }
}

pub(super) fn resource(
    point: RestorePointId,
    kind: ResourceKind,
    id: &str,
    name: &str,
) -> RestorePointResource {
    RestorePointResource {
        restore_point_id: point,
        kind,
        resource_id: id.into(),
        display_name: name.into(),
        address: format!("{name}@contoso.example"),
        item_count: 3,
        size_bytes: 4096,
        record: vec![1, 2, 3, id.len() as u8],
    }
}

pub(super) fn catalog_item(
    scope: &CatalogScope,
    id: &str,
    parent: Option<&str>,
    kind: CatalogItemKind,
) -> CatalogItem {
    CatalogItem {
        restore_point_id: scope.restore_point_id,
        resource_kind: scope.resource_kind,
        resource_id: scope.resource_id.clone(),
        item_id: id.into(),
        parent_id: parent.map(str::to_owned),
        kind,
        name: format!("Subject {id} — ünïcode"),
        sender: Some("nancy@contoso.example".into()),
        size_bytes: 1234,
        created: Some(at(1)),
        modified: None,
        path: format!("/Inbox/{id}"),
        content_ref: vec![7, 0, 7],
    }
}
