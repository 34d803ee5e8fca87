//! Retention clean-up: when a repository's clean-up runs (VB365's `retentionFrequencyType`
//! with `dailyTime`/`dailyType`, or `monthlyTime`/`monthlyDaynumber`/`monthlyDayofweek`,
//! all UTC as the job schedule is), what it keeps (`retentionType` with the period), and
//! the pass that runs the due ones through the engine and drops the restore points it
//! removed from the store.
//!
//! The schedule and the rule are pure functions of the policy and a time, so they are
//! tested with plain dates; the pass takes `now` from its caller (the injected clock).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Weekday};

use super::engine::{EngineCleanup, EngineResizedPoint, EngineRetention};
use super::service::{engine_error, RepositoryService};
use crate::backup::{
    DailyType, DayOfWeek, MonthlyDayNumber, RepositoryId, RestorePointFilter, Retention,
    RetentionFrequencyType, RetentionPeriodType, RetentionType, YearlyRetentionPeriod,
};
use crate::CoreError;

/// What retention keeps at `now`, as the engine applies it.
pub fn retention_rule(r: &Retention, now: OffsetDateTime) -> EngineRetention {
    let months = match r.period_type {
        RetentionPeriodType::Daily => {
            return match r.daily_period {
                Some(days) if days > 0 => cut(r, now - Duration::days(i64::from(days))),
                // Not a period the service lets through; keeping everything is the safe reading.
                _ => EngineRetention::KeepForever,
            };
        }
        RetentionPeriodType::Monthly => r.monthly_period.unwrap_or(0),
        RetentionPeriodType::Yearly => match r.yearly_period {
            Some(YearlyRetentionPeriod::Year1) => 12,
            Some(YearlyRetentionPeriod::Years2) => 24,
            Some(YearlyRetentionPeriod::Years3) => 36,
            Some(YearlyRetentionPeriod::Years5) => 60,
            Some(YearlyRetentionPeriod::Years7) => 84,
            Some(YearlyRetentionPeriod::Years10) => 120,
            Some(YearlyRetentionPeriod::Years25) => 300,
            Some(YearlyRetentionPeriod::Keep) | None => 0,
        },
    };
    if months <= 0 {
        return EngineRetention::KeepForever;
    }
    cut(r, months_before(now, months))
}

fn cut(r: &Retention, before: OffsetDateTime) -> EngineRetention {
    match r.retention_type {
        RetentionType::SnapshotBased => EngineRetention::PointsBefore(before),
        RetentionType::ItemLevel => EngineRetention::ItemsModifiedBefore(before),
    }
}

/// The same day and time `months` calendar months earlier (the last day of that month when
/// it is shorter: 31 March minus one month is 28 or 29 February).
fn months_before(t: OffsetDateTime, months: i32) -> OffsetDateTime {
    let index = t.year() * 12 + i32::from(u8::from(t.month())) - 1 - months;
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) as u8 + 1);
    let Ok(month) = Month::try_from(month) else {
        return t;
    };
    let day = t.day().min(month.length(year));
    match Date::from_calendar_date(year, month, day) {
        Ok(date) => t.replace_date(date),
        Err(_) => t,
    }
}

/// The first clean-up time strictly after `after`.
pub fn next_cleanup(r: &Retention, after: OffsetDateTime) -> OffsetDateTime {
    let after = after.to_offset(time::UtcOffset::UTC);
    match r.frequency_type {
        RetentionFrequencyType::Daily => {
            for d in 0..=7 {
                let date = after.date() + Duration::days(d);
                let at = PrimitiveDateTime::new(date, r.daily_time).assume_utc();
                if at > after && runs_on(r.daily_type, date.weekday()) {
                    return at;
                }
            }
        }
        RetentionFrequencyType::Monthly => {
            let (mut year, mut month) = (after.year(), after.month());
            for _ in 0..=2 {
                if let Some(date) = nth_weekday(
                    year,
                    month,
                    r.monthly_day_number,
                    weekday(r.monthly_day_of_week),
                ) {
                    let at = PrimitiveDateTime::new(date, r.monthly_time).assume_utc();
                    if at > after {
                        return at;
                    }
                }
                if month == Month::December {
                    year += 1;
                }
                month = month.next();
            }
        }
    }
    // Every policy has a day within a week (daily) or within two months (monthly); this is
    // only reached for dates at the end of the calendar.
    after + Duration::days(1)
}

fn runs_on(daily: DailyType, day: Weekday) -> bool {
    use Weekday::*;
    match daily {
        DailyType::Everyday => true,
        DailyType::Workdays => !matches!(day, Saturday | Sunday),
        DailyType::Weekends => matches!(day, Saturday | Sunday),
        DailyType::Monday => day == Monday,
        DailyType::Tuesday => day == Tuesday,
        DailyType::Wednesday => day == Wednesday,
        DailyType::Thursday => day == Thursday,
        DailyType::Friday => day == Friday,
        DailyType::Saturday => day == Saturday,
        DailyType::Sunday => day == Sunday,
    }
}

fn weekday(d: DayOfWeek) -> Weekday {
    match d {
        DayOfWeek::Sunday => Weekday::Sunday,
        DayOfWeek::Monday => Weekday::Monday,
        DayOfWeek::Tuesday => Weekday::Tuesday,
        DayOfWeek::Wednesday => Weekday::Wednesday,
        DayOfWeek::Thursday => Weekday::Thursday,
        DayOfWeek::Friday => Weekday::Friday,
        DayOfWeek::Saturday => Weekday::Saturday,
    }
}

/// The first…fourth or the last `day` of a month.
fn nth_weekday(year: i32, month: Month, n: MonthlyDayNumber, day: Weekday) -> Option<Date> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let offset =
        (7 + day.number_days_from_monday() - first.weekday().number_days_from_monday()) % 7;
    let first_match = first + Duration::days(i64::from(offset));
    let weeks = match n {
        MonthlyDayNumber::First => 0,
        MonthlyDayNumber::Second => 1,
        MonthlyDayNumber::Third => 2,
        MonthlyDayNumber::Fourth => 3,
        MonthlyDayNumber::Last => {
            let mut d = first_match + Duration::weeks(3);
            while (d + Duration::weeks(1)).month() == month {
                d += Duration::weeks(1);
            }
            return Some(d);
        }
    };
    Some(first_match + Duration::weeks(weeks))
}

impl RepositoryService {
    /// Applies repository `id`'s retention as of `now` and collects garbage; then drops from
    /// the store every restore point whose resources' records the engine removed. A point
    /// that keeps some of its resources (each resource's newest record is never removed)
    /// stays whole in the store.
    pub async fn clean_up(
        &self,
        id: RepositoryId,
        now: OffsetDateTime,
    ) -> Result<EngineCleanup, CoreError> {
        let repo = self.repository_record(id).await?;
        let engine = self.engine(id).await?;
        let done = engine
            .clean_up(retention_rule(&repo.retention, now))
            .await
            .map_err(|e| engine_error(&format!("clean-up of repository '{}'", repo.name), e))?;
        if done.removed_points.is_empty() && done.resized_points.is_empty() {
            return Ok(done);
        }
        let removed: HashSet<&[u8]> = done.removed_points.iter().map(|p| p.as_bytes()).collect();
        let resized: HashMap<&[u8], &EngineResizedPoint> = done
            .resized_points
            .iter()
            .map(|p| (p.id.as_bytes(), p))
            .collect();
        let filter = RestorePointFilter {
            repository_id: Some(id),
            ..RestorePointFilter::default()
        };
        for point in self.store.list_restore_points(&filter).await? {
            let resources = self.store.list_restore_point_resources(point.id).await?;
            if !resources.is_empty()
                && resources
                    .iter()
                    .all(|r| removed.contains(r.record.as_slice()))
            {
                self.store.delete_restore_point(point.id).await?;
                continue;
            }
            // Item-level retention: the listings count what is left.
            for r in &resources {
                if let Some(now) = resized.get(r.record.as_slice()) {
                    self.store
                        .set_restore_point_resource_size(
                            point.id,
                            r.kind,
                            &r.resource_id,
                            i64::try_from(now.item_count).unwrap_or(i64::MAX),
                            i64::try_from(now.item_bytes).unwrap_or(i64::MAX),
                        )
                        .await?;
                }
            }
        }
        Ok(done)
    }
}

/// Runs each repository's clean-up at its scheduled times. The next time of a repository
/// is computed when the scheduler first sees it (so a server started after a scheduled
/// time waits for the next one, as a missed VB365 schedule does) and again whenever its
/// retention settings change.
pub struct CleanupScheduler {
    service: RepositoryService,
    next: Mutex<HashMap<RepositoryId, (Retention, OffsetDateTime)>>,
}

impl CleanupScheduler {
    pub fn new(service: RepositoryService) -> Self {
        Self {
            service,
            next: Mutex::new(HashMap::new()),
        }
    }

    /// When repository `id` is next cleaned up, once the scheduler has seen it.
    pub fn next_run(&self, id: RepositoryId) -> Option<OffsetDateTime> {
        self.next.lock().ok()?.get(&id).map(|(_, at)| *at)
    }

    /// One pass at `now`: every repository whose time has come is cleaned up, one after
    /// the other. A failure is returned with its repository and does not stop the others.
    pub async fn run_once(
        &self,
        now: OffsetDateTime,
    ) -> Result<Vec<(RepositoryId, Result<EngineCleanup, CoreError>)>, CoreError> {
        self.service.retry_pending_imports().await;
        let repositories = self.service.store.list_repositories(None).await?;
        let mut due = Vec::new();
        {
            let mut next = self
                .next
                .lock()
                .map_err(|_| CoreError::Internal("the clean-up schedule is poisoned".into()))?;
            let live: HashSet<RepositoryId> = repositories.iter().map(|r| r.id).collect();
            next.retain(|id, _| live.contains(id));
            for r in &repositories {
                match next.get(&r.id) {
                    Some((policy, at)) if *policy == r.retention => {
                        if *at <= now {
                            due.push(r.id);
                            next.insert(
                                r.id,
                                (r.retention.clone(), next_cleanup(&r.retention, now)),
                            );
                        }
                    }
                    _ => {
                        next.insert(r.id, (r.retention.clone(), next_cleanup(&r.retention, now)));
                    }
                }
            }
        }
        let mut out = Vec::new();
        for id in due {
            let result = self.service.clean_up(id, now).await;
            if let Err(e) = &result {
                tracing::warn!(repository = %id, error = %e, "repository clean-up failed");
            }
            out.push((id, result));
        }
        Ok(out)
    }

    /// Runs [`Self::run_once`] every `tick` on `clock`, for the life of the process.
    pub fn spawn(
        self: std::sync::Arc<Self>,
        clock: crate::clock::SharedClock,
        tick: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                if let Err(e) = self.run_once(clock.now()).await {
                    tracing::warn!(error = %e, "repository clean-up pass failed");
                }
                tokio::time::sleep(tick).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::repositories::retention::RetentionInput;

    fn policy(json: &str) -> Retention {
        let input: RetentionInput = serde_json::from_str(json).unwrap();
        input.to_new().unwrap()
    }

    #[test]
    fn daily_schedules_follow_the_day_type_and_time() {
        // 2026-12-02 is a Wednesday.
        let wed_9 = datetime!(2026-12-02 09:00 UTC);
        let cases = [
            (
                r#"{"dailyTime":"10:00:00","dailyType":"Everyday"}"#,
                wed_9,
                datetime!(2026-12-02 10:00 UTC),
            ),
            (
                r#"{"dailyTime":"08:00:00","dailyType":"Everyday"}"#,
                wed_9,
                datetime!(2026-12-03 08:00 UTC),
            ),
            (
                r#"{"dailyTime":"09:00:00","dailyType":"Everyday"}"#,
                wed_9,
                datetime!(2026-12-03 09:00 UTC),
            ),
            (
                r#"{"dailyTime":"01:00:00","dailyType":"Weekends"}"#,
                wed_9,
                datetime!(2026-12-05 01:00 UTC),
            ),
            (
                r#"{"dailyTime":"01:00:00","dailyType":"Workdays"}"#,
                datetime!(2026-12-04 23:00 UTC),
                datetime!(2026-12-07 01:00 UTC),
            ),
            (
                r#"{"dailyTime":"12:30:00","dailyType":"Tuesday"}"#,
                wed_9,
                datetime!(2026-12-08 12:30 UTC),
            ),
            (
                r#"{"dailyTime":"12:30:00","dailyType":"Wednesday"}"#,
                wed_9,
                datetime!(2026-12-02 12:30 UTC),
            ),
        ];
        for (json, after, want) in cases {
            let r = policy(&format!(
                r#"{{"retentionType":"SnapshotBased","retentionFrequencyType":"Daily",{}"#,
                &json[1..]
            ));
            assert_eq!(next_cleanup(&r, after), want, "{json} after {after}");
        }
    }

    #[test]
    fn monthly_schedules_take_the_nth_or_last_weekday() {
        let cases = [
            // The first Monday of December 2026 is the 7th.
            (
                r#""monthlyDaynumber":"First","monthlyDayofweek":"Monday""#,
                datetime!(2026-12-02 09:00 UTC),
                datetime!(2026-12-07 05:00 UTC),
            ),
            // The first Tuesday (the 1st) has passed: January's is the 5th.
            (
                r#""monthlyDaynumber":"First","monthlyDayofweek":"Tuesday""#,
                datetime!(2026-12-02 09:00 UTC),
                datetime!(2027-01-05 05:00 UTC),
            ),
            (
                r#""monthlyDaynumber":"Fourth","monthlyDayofweek":"Thursday""#,
                datetime!(2026-12-02 09:00 UTC),
                datetime!(2026-12-24 05:00 UTC),
            ),
            (
                r#""monthlyDaynumber":"Last","monthlyDayofweek":"Thursday""#,
                datetime!(2026-12-02 09:00 UTC),
                datetime!(2026-12-31 05:00 UTC),
            ),
            (
                r#""monthlyDaynumber":"Last","monthlyDayofweek":"Sunday""#,
                datetime!(2027-02-28 06:00 UTC),
                datetime!(2027-03-28 05:00 UTC),
            ),
        ];
        for (fields, after, want) in cases {
            let r = policy(&format!(
                r#"{{"retentionType":"SnapshotBased","retentionFrequencyType":"Monthly","monthlyTime":"05:00:00",{fields}}}"#
            ));
            assert_eq!(next_cleanup(&r, after), want, "{fields} after {after}");
        }
    }

    #[test]
    fn the_rule_cuts_at_the_period_before_now() {
        let now = datetime!(2026-03-31 12:00 UTC);
        let cases = [
            (
                r#"{"retentionType":"SnapshotBased","retentionPeriodType":"Daily","dailyRetentionPeriod":7}"#,
                EngineRetention::PointsBefore(datetime!(2026-03-24 12:00 UTC)),
            ),
            (
                r#"{"retentionType":"ItemLevel","retentionPeriodType":"Daily","dailyRetentionPeriod":30}"#,
                EngineRetention::ItemsModifiedBefore(datetime!(2026-03-01 12:00 UTC)),
            ),
            (
                r#"{"retentionType":"SnapshotBased","retentionPeriodType":"Monthly","monthlyRetentionPeriod":1}"#,
                EngineRetention::PointsBefore(datetime!(2026-02-28 12:00 UTC)),
            ),
            (
                r#"{"retentionType":"SnapshotBased","retentionPeriodType":"Monthly","monthlyRetentionPeriod":13}"#,
                EngineRetention::PointsBefore(datetime!(2025-02-28 12:00 UTC)),
            ),
            (
                r#"{"retentionType":"ItemLevel","retentionPeriodType":"Yearly","yearlyRetentionPeriod":"Years3"}"#,
                EngineRetention::ItemsModifiedBefore(datetime!(2023-03-31 12:00 UTC)),
            ),
            (
                r#"{"retentionType":"SnapshotBased","retentionPeriodType":"Yearly","yearlyRetentionPeriod":"Keep"}"#,
                EngineRetention::KeepForever,
            ),
        ];
        for (json, want) in cases {
            assert_eq!(retention_rule(&policy(json), now), want, "{json}");
        }
    }
}
