//! Time, injected: everything that reads the time (token expiry, the grant
//! cache, the login throttle, cached listings, the schedules to come) takes a
//! [`Clock`], so tests advance a [`ManualClock`] instead of sleeping.
//!
//! Two readings, because they answer different questions: wall time is what
//! is stored and shown (expiry dates), monotonic time measures how long
//! something has been in memory and never jumps when the system clock is set.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

pub trait Clock: Send + Sync + 'static {
    /// Wall time, truncated to whole milliseconds (what every store keeps
    /// exactly).
    fn now(&self) -> OffsetDateTime;
    /// Monotonic time, for ages and windows kept in memory.
    fn instant(&self) -> Instant;
}

/// How services hold their clock.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's clocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        truncate_to_millis(OffsetDateTime::now_utc())
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }
}

/// The system clock, shared.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock that moves only when told to: both readings advance together.
#[derive(Debug)]
pub struct ManualClock {
    wall: OffsetDateTime,
    start: Instant,
    elapsed: Mutex<Duration>,
}

impl ManualClock {
    /// Starts at the current system time.
    pub fn new() -> Arc<Self> {
        Self::starting_at(OffsetDateTime::now_utc())
    }

    pub fn starting_at(wall: OffsetDateTime) -> Arc<Self> {
        Arc::new(Self {
            wall: truncate_to_millis(wall),
            start: Instant::now(),
            elapsed: Mutex::new(Duration::ZERO),
        })
    }

    pub fn advance(&self, by: Duration) {
        let mut elapsed = self.elapsed.lock().unwrap_or_else(|p| p.into_inner());
        *elapsed = elapsed.saturating_add(by);
    }

    fn elapsed(&self) -> Duration {
        *self.elapsed.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        let elapsed = time::Duration::try_from(self.elapsed()).unwrap_or(time::Duration::MAX);
        truncate_to_millis(self.wall.saturating_add(elapsed))
    }

    fn instant(&self) -> Instant {
        // A manual clock is advanced by test-sized steps; saturate anyway.
        self.start.checked_add(self.elapsed()).unwrap_or(self.start)
    }
}

fn truncate_to_millis(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(u32::from(t.millisecond()) * 1_000_000)
        .unwrap_or(t)
}

/// Now, on the system clock, truncated to whole milliseconds. For code that
/// has no clock handed to it yet; new code takes a [`Clock`].
pub fn now() -> OffsetDateTime {
    SystemClock.now()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_manual_clock_moves_both_readings_only_when_advanced() {
        let clock = ManualClock::new();
        let (wall, mono) = (clock.now(), clock.instant());
        assert_eq!(clock.now(), wall);
        assert_eq!(clock.instant(), mono);
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now() - wall, time::Duration::seconds(90));
        assert_eq!(clock.instant() - mono, Duration::from_secs(90));
        assert_eq!(wall.nanosecond() % 1_000_000, 0, "whole milliseconds");
        // Absurd steps saturate instead of panicking.
        clock.advance(Duration::MAX);
        let _ = (clock.now(), clock.instant());
    }
}
