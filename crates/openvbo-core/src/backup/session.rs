//! Job sessions (one run of a job) and their log.

use time::OffsetDateTime;

use super::ids::{JobId, JobSessionId, LogItemId};
use super::job::JobStatus;

text_enum!(
    /// `jobType` of `GET /v6/JobSessions`.
    JobType { Backup, Copy }
);

text_enum!(
    /// `RESTJobStatistics.bottleneck`.
    Bottleneck { NA, Detecting, Source, Target }
);

/// `RESTJobStatistics`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionStatistics {
    pub processing_rate_bytes_ps: i64,
    pub processing_rate_items_ps: i64,
    pub read_rate_bytes_ps: i64,
    pub write_rate_bytes_ps: i64,
    pub transferred_data_bytes: i64,
    pub processed_objects: i64,
    pub bottleneck: Bottleneck,
}

impl Default for SessionStatistics {
    fn default() -> Self {
        SessionStatistics {
            processing_rate_bytes_ps: 0,
            processing_rate_items_ps: 0,
            read_rate_bytes_ps: 0,
            write_rate_bytes_ps: 0,
            transferred_data_bytes: 0,
            processed_objects: 0,
            bottleneck: Bottleneck::Detecting,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSession {
    pub id: JobSessionId,
    pub job_id: JobId,
    pub job_type: JobType,
    pub creation_time: OffsetDateTime,
    /// None while the session runs.
    pub end_time: Option<OffsetDateTime>,
    pub status: JobStatus,
    /// Processed objects (mailboxes, drives, sites), not a percentage.
    pub progress: i64,
    pub retry_count: i32,
    pub details: Option<String>,
    pub statistics: SessionStatistics,
}

/// A log line to append; the store gives it its `usn`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLogItem {
    pub id: LogItemId,
    /// With the status prefix, e.g. `[Success] Processing mailbox: …`.
    pub title: String,
    pub creation_time: OffsetDateTime,
    pub end_time: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogItem {
    pub id: LogItemId,
    pub session_id: JobSessionId,
    /// Rises with every item appended to any session.
    pub usn: i64,
    pub title: String,
    pub creation_time: OffsetDateTime,
    pub end_time: Option<OffsetDateTime>,
}

/// Which sessions to list, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JobSessionQuery {
    pub job_id: Option<JobId>,
    pub job_type: Option<JobType>,
    /// Only sessions that ended at or after this time.
    pub end_time_lower_bound: Option<OffsetDateTime>,
    pub offset: u64,
    pub limit: u64,
}

/// One page of a listing and the size of the whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}
