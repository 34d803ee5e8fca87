//! Time, injected: everything that reads the time (token expiry, the grant
//! cache, the login throttle, cached listings, the schedules to come) takes a
//! [`Clock`], so tests advance a [`ManualClock`] instead of sleeping.
//!
//! Two readings, because they answer different questions: wall time is what
//! is stored and shown (expiry dates), monotonic time measures how long
//! something has been in memory and never jumps when the system clock is set.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

/// What [`Clock::sleep`] returns.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

pub trait Clock: Send + Sync + 'static {
    /// Wall time, truncated to whole milliseconds (what every store keeps
    /// exactly).
    fn now(&self) -> OffsetDateTime;
    /// Monotonic time, for ages and windows kept in memory.
    fn instant(&self) -> Instant;
    /// Resolves once `by` has passed on this clock: real time for the
    /// system clock, [`ManualClock::advance`] for a manual one. Loops that
    /// wake on a period (the scheduler) wait here, so a test that advances
    /// the clock sees them run without waiting itself.
    fn sleep(&self, by: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(by))
    }
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
    /// Wakes the sleeps when the clock is advanced.
    advanced: tokio::sync::watch::Sender<Duration>,
    /// Sleeps ever started on this clock.
    sleeps: AtomicU64,
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
            advanced: tokio::sync::watch::channel(Duration::ZERO).0,
            sleeps: AtomicU64::new(0),
        })
    }

    pub fn advance(&self, by: Duration) {
        let now = {
            let mut elapsed = self.elapsed.lock().unwrap_or_else(|p| p.into_inner());
            *elapsed = elapsed.saturating_add(by);
            *elapsed
        };
        self.advanced.send_replace(now);
    }

    /// How many sleeps have been started on this clock. A loop that sleeps
    /// after each pass has finished a pass once this grows: tests wait for
    /// that instead of for real time.
    pub fn sleeps_started(&self) -> u64 {
        self.sleeps.load(Ordering::SeqCst)
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

    fn sleep(&self, by: Duration) -> Sleep {
        // Subscribed before reading the time, so an advance in between is
        // seen as a change and not lost.
        let mut advanced = self.advanced.subscribe();
        let until = self.elapsed().saturating_add(by);
        self.sleeps.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            while *advanced.borrow_and_update() < until {
                if advanced.changed().await.is_err() {
                    // The clock is gone: nothing will ever advance it.
                    std::future::pending::<()>().await;
                }
            }
        })
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

    #[tokio::test]
    async fn a_manual_sleep_ends_when_the_clock_has_been_advanced_far_enough() {
        let clock = ManualClock::new();
        let mut sleep = clock.sleep(Duration::from_secs(60));
        assert_eq!(clock.sleeps_started(), 1);
        let pending = |s: &mut Sleep| {
            let waker = futures::task::noop_waker();
            let mut cx = std::task::Context::from_waker(&waker);
            s.as_mut().poll(&mut cx).is_pending()
        };
        assert!(pending(&mut sleep));
        clock.advance(Duration::from_secs(59));
        assert!(pending(&mut sleep), "not yet: 59 of 60 s");
        clock.advance(Duration::from_secs(1));
        sleep.await;
        // A zero sleep ends at once; the system clock's sleep is tokio's.
        clock.sleep(Duration::ZERO).await;
        SystemClock.sleep(Duration::from_millis(1)).await;
    }
}
