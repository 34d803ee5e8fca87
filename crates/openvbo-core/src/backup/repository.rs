//! Backup repositories: a local directory, or object storage with a local
//! cache, plus the retention rules VB365 keeps with each.

use time::{OffsetDateTime, Time};

use super::ids::{EncryptionKeyId, ObjectStorageId, ProxyId, RepositoryId};
use crate::crypto::SealedSecret;

text_enum!(
    /// `retentionType`; cannot change after creation.
    RetentionType { ItemLevel, SnapshotBased }
);

text_enum!(
    /// `retentionPeriodType`: which period field applies.
    RetentionPeriodType { Daily, Monthly, Yearly }
);

text_enum!(
    /// `yearlyRetentionPeriod`; `Keep` never removes anything.
    YearlyRetentionPeriod { Year1, Years2, Years3, Years5, Years7, Years10, Years25, Keep }
);

text_enum!(
    /// `retentionFrequencyType`: when clean-up runs.
    RetentionFrequencyType { Daily, Monthly }
);

text_enum!(
    /// `dailyType`.
    DailyType {
        Everyday, Workdays, Weekends, Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
    }
);

text_enum!(
    /// `monthlyDaynumber`.
    MonthlyDayNumber { First, Second, Third, Fourth, Last }
);

text_enum!(
    /// `monthlyDayofweek`.
    DayOfWeek { Sunday, Monday, Tuesday, Wednesday, Thursday, Friday, Saturday }
);

/// The retention policy and its clean-up schedule, with defaults already
/// applied by the service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retention {
    pub retention_type: RetentionType,
    pub period_type: RetentionPeriodType,
    pub daily_period: Option<i32>,
    pub monthly_period: Option<i32>,
    pub yearly_period: Option<YearlyRetentionPeriod>,
    pub frequency_type: RetentionFrequencyType,
    pub daily_time: Time,
    pub daily_type: DailyType,
    pub monthly_time: Time,
    pub monthly_day_number: MonthlyDayNumber,
    pub monthly_day_of_week: DayOfWeek,
}

/// `RESTBackupRepository`, less what is measured when asked
/// (`capacityBytes`, `freeSpaceBytes`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupRepository {
    pub id: RepositoryId,
    pub name: String,
    pub description: String,
    /// The directory: the whole repository, or (with object storage) its
    /// cache and catalog. Unique among repositories.
    pub path: String,
    pub proxy_id: ProxyId,
    pub retention: Retention,
    pub object_storage_id: Option<ObjectStorageId>,
    pub object_storage_cache_path: Option<String>,
    pub object_storage_encryption_enabled: bool,
    pub encryption_key_id: Option<EncryptionKeyId>,
    pub is_long_term: bool,
    pub is_out_of_sync: bool,
    /// The repository's data key, wrapped by the master key (and the
    /// encryption key's password where one is used). Opaque to the store.
    pub key_material: SealedSecret,
    pub revision: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}
