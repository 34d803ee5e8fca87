//! The scheduler: `run_once(now)` looks at every job and starts what is
//! due, retries what failed per the policy, and stops a session whose
//! backup window has closed. A loop calls it every few seconds with the
//! clock's time; tests call it with a fake clock's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use super::policy::stored_schedule;
use super::runner::{JobRunner, StopReason};
use crate::backup::{JobId, JobSessionQuery, JobStatus};
use crate::error::CoreError;

/// A retry that is due at `at`, the `number`th of its run.
#[derive(Clone, Copy, Debug)]
struct PendingRetry {
    number: i32,
    at: OffsetDateTime,
}

pub struct Scheduler {
    runner: Arc<JobRunner>,
    retries: Mutex<HashMap<JobId, PendingRetry>>,
}

/// What one pass did, for logs and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub started: Vec<JobId>,
    pub retried: Vec<JobId>,
    pub stopped_by_window: Vec<JobId>,
}

impl Scheduler {
    pub fn new(runner: Arc<JobRunner>) -> Self {
        Scheduler {
            runner,
            retries: Mutex::new(HashMap::new()),
        }
    }

    /// One pass at `now`.
    pub async fn run_once(&self, now: OffsetDateTime) -> Result<Pass, CoreError> {
        let mut pass = Pass::default();
        for job in self.runner.store().list_jobs(None).await? {
            let schedule = stored_schedule(&job.schedule_policy);
            if self.runner.running_session(job.id).is_some() {
                if !schedule.window_allows(now)
                    && self.runner.stop(job.id, StopReason::WindowClosed)
                {
                    pass.stopped_by_window.push(job.id);
                }
                continue;
            }
            if !job.is_enabled {
                continue;
            }
            self.note_last_session(job.id, &schedule).await?;
            let retry = self
                .retries
                .lock()
                .ok()
                .and_then(|r| r.get(&job.id).copied());
            if let Some(r) = retry.filter(|r| r.at <= now && schedule.window_allows(now)) {
                if self.runner.start(job.id, r.number).await.is_ok() {
                    pass.retried.push(job.id);
                }
                continue;
            }
            let due = job.next_run.is_some_and(|t| t <= now);
            if due && schedule.window_allows(now) {
                if let Ok(mut r) = self.retries.lock() {
                    r.remove(&job.id);
                }
                if self.runner.start(job.id, 0).await.is_ok() {
                    pass.started.push(job.id);
                }
            }
        }
        Ok(pass)
    }

    /// After a run that ended Failed or Warning, schedules its retry (if the
    /// policy has retries left); after a good one, forgets any.
    async fn note_last_session(
        &self,
        job: JobId,
        schedule: &crate::schedule::Schedule,
    ) -> Result<(), CoreError> {
        let last = self
            .runner
            .store()
            .list_job_sessions(&JobSessionQuery {
                job_id: Some(job),
                limit: 1,
                ..JobSessionQuery::default()
            })
            .await?
            .items
            .into_iter()
            .next();
        let Ok(mut retries) = self.retries.lock() else {
            return Ok(());
        };
        let Some(last) = last else { return Ok(()) };
        let failed = matches!(last.status, JobStatus::Failed | JobStatus::Warning);
        match (&schedule.retry, failed, last.end_time) {
            (Some(policy), true, Some(ended))
                if (last.retry_count as i64) < i64::from(policy.attempts) =>
            {
                let number = last.retry_count + 1;
                let entry = retries.entry(job).or_insert(PendingRetry {
                    number,
                    at: ended + policy.wait,
                });
                if entry.number < number {
                    *entry = PendingRetry {
                        number,
                        at: ended + policy.wait,
                    };
                }
            }
            _ => {
                retries.remove(&job);
            }
        }
        Ok(())
    }
}
