//! When a backup job runs: VB365's schedule policy as rules over an injected
//! instant, so the scheduler and its tests never read the clock themselves.
//!
//! All times are UTC, as VB365's REST documentation says of `dailyTime`.
//! Week windows (`backupWindowSettings`, `periodicallyWindowSettings`) are
//! 168 hourly slots, 7 groups of 24 starting on Sunday 00:00; `minuteOffset`
//! shifts that grid (a window drawn in a zone at +05:30 arrives as whole
//! hours plus an offset of minutes).

use std::fmt;

use time::{Duration, OffsetDateTime, Time, Weekday};

/// Hours in a week: the length of a VB365 window.
pub const WEEK_SLOTS: usize = 7 * 24;

/// A schedule value that VB365 would refuse, with what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError(pub String);

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScheduleError {}

/// Which days a `Daily` schedule runs on (`dailyType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DailyDays {
    Everyday,
    Workdays,
    Weekends,
    Only(Weekday),
}

impl DailyDays {
    fn includes(self, day: Weekday) -> bool {
        let weekend = matches!(day, Weekday::Saturday | Weekday::Sunday);
        match self {
            DailyDays::Everyday => true,
            DailyDays::Workdays => !weekend,
            DailyDays::Weekends => weekend,
            DailyDays::Only(only) => only == day,
        }
    }
}

/// `periodicallyEvery`: the fixed intervals VB365 offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Minutes5,
    Minutes10,
    Minutes15,
    Minutes30,
    Hours1,
    Hours2,
    Hours4,
    Hours8,
}

impl Every {
    /// The interval in minutes.
    pub fn minutes(self) -> i64 {
        match self {
            Every::Minutes5 => 5,
            Every::Minutes10 => 10,
            Every::Minutes15 => 15,
            Every::Minutes30 => 30,
            Every::Hours1 => 60,
            Every::Hours2 => 120,
            Every::Hours4 => 240,
            Every::Hours8 => 480,
        }
    }

    fn is_hourly(self) -> bool {
        self.minutes() >= 60
    }
}

/// A week of allowed hours.
#[derive(Clone, PartialEq, Eq)]
pub struct WeekWindow {
    allowed: [bool; WEEK_SLOTS],
    minute_offset: i64,
}

impl fmt::Debug for WeekWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let open = self.allowed.iter().filter(|a| **a).count();
        write!(
            f,
            "WeekWindow({open}/168 h, offset {} min)",
            self.minute_offset
        )
    }
}

impl WeekWindow {
    /// Validates `backupWindow` (exactly 168 values) and `minuteOffset`
    /// (within one hour either way, as a zone offset's minutes are).
    pub fn new(slots: &[bool], minute_offset: i64) -> Result<Self, ScheduleError> {
        let allowed: [bool; WEEK_SLOTS] = slots.try_into().map_err(|_| {
            ScheduleError(format!(
                "backupWindow must have {WEEK_SLOTS} values (7 days × 24 hours from Sunday); it has {}",
                slots.len()
            ))
        })?;
        if !(-59..=59).contains(&minute_offset) {
            return Err(ScheduleError(format!(
                "minuteOffset must be between -59 and 59; it is {minute_offset}"
            )));
        }
        if !allowed.iter().any(|a| *a) {
            return Err(ScheduleError(
                "backupWindow allows no hour of the week: nothing could ever run".to_owned(),
            ));
        }
        Ok(Self {
            allowed,
            minute_offset,
        })
    }

    /// A window open all week.
    pub fn always() -> Self {
        Self {
            allowed: [true; WEEK_SLOTS],
            minute_offset: 0,
        }
    }

    /// The slots as VB365 sends them back.
    pub fn slots(&self) -> &[bool] {
        &self.allowed
    }

    pub fn minute_offset(&self) -> i64 {
        self.minute_offset
    }

    fn slot(&self, at: OffsetDateTime) -> usize {
        let shifted = at - Duration::minutes(self.minute_offset);
        let day = usize::from(shifted.weekday().number_days_from_sunday());
        day * 24 + usize::from(shifted.hour())
    }

    /// Whether a run may be going on at `at`.
    pub fn allows(&self, at: OffsetDateTime) -> bool {
        self.allowed.get(self.slot(at)).copied().unwrap_or(false)
    }

    /// The start of the slot holding `at`, on the shifted grid.
    fn slot_start(&self, at: OffsetDateTime) -> OffsetDateTime {
        let offset = Duration::minutes(self.minute_offset);
        let shifted = at - offset;
        let start = shifted
            .replace_time(Time::MIDNIGHT)
            .saturating_add(Duration::hours(i64::from(shifted.hour())));
        start + offset
    }

    /// The first instant at or after `at` when the window is open (`at`
    /// itself when it is open now). A valid window opens within a week.
    pub fn next_open(&self, at: OffsetDateTime) -> OffsetDateTime {
        if self.allows(at) {
            return at;
        }
        let mut slot = self.slot_start(at);
        for _ in 0..WEEK_SLOTS {
            slot += Duration::HOUR;
            if self.allows(slot) {
                return slot;
            }
        }
        at
    }

    /// When the window that is open at `at` closes: `None` when it is closed
    /// now or never closes (open all week).
    pub fn closes_at(&self, at: OffsetDateTime) -> Option<OffsetDateTime> {
        if !self.allows(at) {
            return None;
        }
        let mut slot = self.slot_start(at);
        for _ in 0..WEEK_SLOTS {
            slot += Duration::HOUR;
            if !self.allows(slot) {
                return Some(slot);
            }
        }
        None
    }
}

/// When runs are triggered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    Daily {
        days: DailyDays,
        at: Time,
    },
    Periodically {
        every: Every,
        /// 0–59, meaningful only with the hourly intervals.
        offset_minutes: i64,
        window: Option<WeekWindow>,
    },
    ManualOnly,
}

/// Retries of a failed run (`retryEnabled`, `retryNumber`, `retryWaitInterval`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub attempts: u32,
    pub wait: Duration,
}

impl Retry {
    /// VB365's bounds: 1–777 attempts, 1–999 minutes apart.
    pub fn new(attempts: i64, wait_minutes: i64) -> Result<Self, ScheduleError> {
        let attempts = u32::try_from(attempts)
            .ok()
            .filter(|n| (1..=777).contains(n))
            .ok_or_else(|| {
                ScheduleError(format!(
                    "retryNumber must be from 1 to 777; it is {attempts}"
                ))
            })?;
        if !(1..=999).contains(&wait_minutes) {
            return Err(ScheduleError(format!(
                "retryWaitInterval must be from 1 to 999 minutes; it is {wait_minutes}"
            )));
        }
        Ok(Self {
            attempts,
            wait: Duration::minutes(wait_minutes),
        })
    }
}

impl Default for Retry {
    /// VB365's defaults: 3 retries, 10 minutes apart.
    fn default() -> Self {
        Self {
            attempts: 3,
            wait: Duration::minutes(10),
        }
    }
}

/// A job's whole schedule policy, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub trigger: Trigger,
    /// `scheduleEnabled: false` keeps the policy but never triggers.
    pub enabled: bool,
    /// When set, runs only inside it: a run triggered outside waits for it to
    /// open, and a run still going when it closes stops cleanly.
    pub backup_window: Option<WeekWindow>,
    pub retry: Option<Retry>,
}

impl Default for Schedule {
    /// VB365's default policy: daily, every day, at 15:00.
    fn default() -> Self {
        Self {
            trigger: Trigger::Daily {
                days: DailyDays::Everyday,
                at: Time::from_hms(15, 0, 0).unwrap_or(Time::MIDNIGHT),
            },
            enabled: true,
            backup_window: None,
            retry: Some(Retry::default()),
        }
    }
}

impl Schedule {
    /// The first trigger strictly after `after`, or `None` when nothing is
    /// scheduled (manual only, schedule disabled, or a periodic window that
    /// never opens). When a backup window is set, a trigger that falls
    /// outside it moves to the window's next opening.
    pub fn next_run(&self, after: OffsetDateTime) -> Option<OffsetDateTime> {
        if !self.enabled {
            return None;
        }
        let trigger = self.trigger.next_after(after)?;
        Some(match &self.backup_window {
            Some(window) => window.next_open(trigger),
            None => trigger,
        })
    }

    /// Whether a run may be going on at `at` (always, without a window).
    pub fn window_allows(&self, at: OffsetDateTime) -> bool {
        self.backup_window.as_ref().is_none_or(|w| w.allows(at))
    }

    /// When a run going on at `at` must stop for the window.
    pub fn window_closes_at(&self, at: OffsetDateTime) -> Option<OffsetDateTime> {
        self.backup_window.as_ref().and_then(|w| w.closes_at(at))
    }
}

impl Trigger {
    fn next_after(&self, after: OffsetDateTime) -> Option<OffsetDateTime> {
        match self {
            Trigger::ManualOnly => None,
            Trigger::Daily { days, at } => next_daily(*days, *at, after),
            Trigger::Periodically {
                every,
                offset_minutes,
                window,
            } => next_periodic(*every, *offset_minutes, window.as_ref(), after),
        }
    }
}

fn next_daily(days: DailyDays, at: Time, after: OffsetDateTime) -> Option<OffsetDateTime> {
    // Today's slot and the next seven: every day set has a day in any week.
    (0..=7).find_map(|d| {
        let candidate = after.replace_time(at).checked_add(Duration::days(d))?;
        (candidate > after && days.includes(candidate.weekday())).then_some(candidate)
    })
}

fn next_periodic(
    every: Every,
    offset_minutes: i64,
    window: Option<&WeekWindow>,
    after: OffsetDateTime,
) -> Option<OffsetDateTime> {
    let step = every.minutes();
    // Slots are aligned to midnight UTC (plus the offset for hourly
    // intervals), so every server computes the same times.
    let offset = if every.is_hourly() {
        offset_minutes.clamp(0, 59)
    } else {
        0
    };
    let midnight = after.replace_time(Time::MIDNIGHT);
    let since = (after - midnight).whole_minutes() - offset;
    let k = since.div_euclid(step) + 1;
    let mut candidate = midnight + Duration::minutes(k * step + offset);
    // A week of slots at most: a window that never opens yields nothing.
    let bound = (7 * 24 * 60) / step + 1;
    for _ in 0..bound {
        if window.is_none_or(|w| w.allows(candidate)) {
            return Some(candidate);
        }
        candidate += Duration::minutes(step);
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::{datetime, time};

    fn daily(days: DailyDays, at: Time) -> Schedule {
        Schedule {
            trigger: Trigger::Daily { days, at },
            ..Schedule::default()
        }
    }

    fn periodic(every: Every, offset: i64, window: Option<WeekWindow>) -> Schedule {
        Schedule {
            trigger: Trigger::Periodically {
                every,
                offset_minutes: offset,
                window,
            },
            ..Schedule::default()
        }
    }

    /// A window open only on the given (weekday-from-Sunday, hour) slots.
    fn window(open: &[(usize, usize)], offset: i64) -> WeekWindow {
        let mut slots = vec![false; WEEK_SLOTS];
        for (day, hour) in open {
            slots[day * 24 + hour] = true;
        }
        WeekWindow::new(&slots, offset).unwrap()
    }

    #[test]
    fn daily_runs_today_if_the_time_is_still_ahead_else_tomorrow() {
        // 2026-12-01 is a Tuesday.
        let s = daily(DailyDays::Everyday, time!(15:00));
        assert_eq!(
            s.next_run(datetime!(2026-12-01 14:59:59 UTC)),
            Some(datetime!(2026-12-01 15:00 UTC))
        );
        assert_eq!(
            s.next_run(datetime!(2026-12-01 15:00 UTC)),
            Some(datetime!(2026-12-02 15:00 UTC)),
            "strictly after: a run at 15:00 does not schedule itself again"
        );
    }

    #[test]
    fn daily_day_sets() {
        let tue_evening = datetime!(2026-12-01 20:00 UTC);
        let cases = [
            (DailyDays::Workdays, datetime!(2026-12-02 09:00 UTC)),
            (DailyDays::Weekends, datetime!(2026-12-05 09:00 UTC)),
            (
                DailyDays::Only(Weekday::Tuesday),
                datetime!(2026-12-08 09:00 UTC),
            ),
            (
                DailyDays::Only(Weekday::Monday),
                datetime!(2026-12-07 09:00 UTC),
            ),
        ];
        for (days, expected) in cases {
            assert_eq!(
                daily(days, time!(09:00)).next_run(tue_evening),
                Some(expected),
                "{days:?}"
            );
        }
        // Friday evening: the next workday is Monday.
        assert_eq!(
            daily(DailyDays::Workdays, time!(09:00)).next_run(datetime!(2026-12-04 20:00 UTC)),
            Some(datetime!(2026-12-07 09:00 UTC))
        );
    }

    #[test]
    fn periodic_slots_align_to_midnight_and_the_offset() {
        let cases = [
            (
                Every::Minutes5,
                0,
                datetime!(2026-12-01 10:02 UTC),
                datetime!(2026-12-01 10:05 UTC),
            ),
            (
                Every::Minutes5,
                0,
                datetime!(2026-12-01 10:05 UTC),
                datetime!(2026-12-01 10:10 UTC),
            ),
            (
                Every::Minutes30,
                0,
                datetime!(2026-12-01 23:45 UTC),
                datetime!(2026-12-02 00:00 UTC),
            ),
            (
                Every::Hours4,
                15,
                datetime!(2026-12-01 04:14 UTC),
                datetime!(2026-12-01 04:15 UTC),
            ),
            (
                Every::Hours4,
                15,
                datetime!(2026-12-01 04:15 UTC),
                datetime!(2026-12-01 08:15 UTC),
            ),
            (
                Every::Hours8,
                0,
                datetime!(2026-12-01 17:00 UTC),
                datetime!(2026-12-02 00:00 UTC),
            ),
            // The offset applies only to hourly intervals.
            (
                Every::Minutes10,
                7,
                datetime!(2026-12-01 10:01 UTC),
                datetime!(2026-12-01 10:10 UTC),
            ),
        ];
        for (every, offset, after, expected) in cases {
            assert_eq!(
                periodic(every, offset, None).next_run(after),
                Some(expected),
                "{every:?} +{offset} after {after}"
            );
        }
    }

    #[test]
    fn periodic_runs_skip_hours_outside_their_window() {
        // Tuesday (day 2) 10:00–11:00 only.
        let s = periodic(Every::Minutes15, 0, Some(window(&[(2, 10)], 0)));
        assert_eq!(
            s.next_run(datetime!(2026-12-01 08:00 UTC)),
            Some(datetime!(2026-12-01 10:00 UTC))
        );
        assert_eq!(
            s.next_run(datetime!(2026-12-01 10:45 UTC)),
            Some(datetime!(2026-12-08 10:00 UTC)),
            "after the last slot of the window: next week"
        );
    }

    #[test]
    fn a_backup_window_delays_a_trigger_to_its_opening() {
        let mut s = daily(DailyDays::Everyday, time!(15:00));
        // Wednesday (day 3) 22:00–24:00 only.
        s.backup_window = Some(window(&[(3, 22), (3, 23)], 0));
        assert_eq!(
            s.next_run(datetime!(2026-12-01 16:00 UTC)),
            Some(datetime!(2026-12-02 22:00 UTC))
        );
        assert!(s.window_allows(datetime!(2026-12-02 23:59 UTC)));
        assert!(!s.window_allows(datetime!(2026-12-03 00:00 UTC)));
        assert_eq!(
            s.window_closes_at(datetime!(2026-12-02 22:30 UTC)),
            Some(datetime!(2026-12-03 00:00 UTC))
        );
        assert_eq!(s.window_closes_at(datetime!(2026-12-02 12:00 UTC)), None);
    }

    #[test]
    fn the_minute_offset_shifts_the_window_grid() {
        // Sunday 00:00–01:00 on a grid shifted by +30 min: 00:30–01:30 UTC.
        let w = window(&[(0, 0)], 30);
        assert!(!w.allows(datetime!(2026-12-06 00:29 UTC)));
        assert!(w.allows(datetime!(2026-12-06 00:30 UTC)));
        assert!(w.allows(datetime!(2026-12-06 01:29 UTC)));
        assert!(!w.allows(datetime!(2026-12-06 01:30 UTC)));
        assert_eq!(
            w.next_open(datetime!(2026-12-05 10:00 UTC)),
            datetime!(2026-12-06 00:30 UTC)
        );
        assert_eq!(
            w.closes_at(datetime!(2026-12-06 01:00 UTC)),
            Some(datetime!(2026-12-06 01:30 UTC))
        );
    }

    #[test]
    fn nothing_is_scheduled_when_manual_or_disabled() {
        let manual = Schedule {
            trigger: Trigger::ManualOnly,
            ..Schedule::default()
        };
        assert_eq!(manual.next_run(datetime!(2026-12-01 00:00 UTC)), None);
        let disabled = Schedule {
            enabled: false,
            ..Schedule::default()
        };
        assert_eq!(disabled.next_run(datetime!(2026-12-01 00:00 UTC)), None);
    }

    #[test]
    fn invalid_values_are_refused_with_what_is_wrong() {
        let short = WeekWindow::new(&[true; 24], 0).unwrap_err();
        assert!(short.0.contains("168") && short.0.contains("24"), "{short}");
        let closed = WeekWindow::new(&[false; WEEK_SLOTS], 0).unwrap_err();
        assert!(closed.0.contains("no hour"), "{closed}");
        assert!(WeekWindow::new(&[true; WEEK_SLOTS], 60).is_err());
        assert!(Retry::new(0, 10).is_err());
        assert!(Retry::new(778, 10).is_err());
        assert!(Retry::new(3, 1000).is_err());
        assert_eq!(Retry::new(777, 999).unwrap().attempts, 777);
    }

    #[test]
    fn always_open_window_never_closes() {
        let w = WeekWindow::always();
        assert!(w.allows(datetime!(2026-12-01 03:00 UTC)));
        assert_eq!(w.closes_at(datetime!(2026-12-01 03:00 UTC)), None);
    }
}
