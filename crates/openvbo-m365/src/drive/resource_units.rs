//! SharePoint/OneDrive resource units, counted on our side so Microsoft
//! rarely has to say 429: a token bucket per tenant that refills at
//! `per_minute` and lets a request go only when its cost is covered.
//! Costs follow Microsoft's table (protocol doc §9.2): 1 for one item, a
//! download or a delta with a token; 2 for listings, a token-less delta and
//! every write.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cost {
    One = 1,
    Two = 2,
}

/// One tenant's budget; share it (by reference or `Arc`) between every
/// drive reader and writer of that tenant.
#[derive(Debug)]
pub struct ResourceUnits {
    per_minute: u32,
    state: Mutex<(f64, Instant)>,
    used: std::sync::atomic::AtomicU64,
    /// Units retries spent without waiting (a retry already waited out
    /// Microsoft's `Retry-After`), taken from the bucket by the next
    /// [`acquire`](Self::acquire).
    owed: std::sync::atomic::AtomicU64,
}

impl ResourceUnits {
    /// Below Microsoft's smallest tier (1,200 per minute), leaving room for
    /// other applications of the tenant.
    pub const DEFAULT_PER_MINUTE: u32 = 1000;

    pub fn new(per_minute: u32) -> Self {
        let per_minute = per_minute.max(2);
        ResourceUnits {
            per_minute,
            state: Mutex::new((f64::from(per_minute), Instant::now())),
            used: std::sync::atomic::AtomicU64::new(0),
            owed: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Units spent so far (for metrics and tests).
    pub fn used(&self) -> u64 {
        self.used.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Waits until `cost` units are available, then spends them. The lock
    /// is held while waiting, so waiters are served in order.
    pub(crate) async fn acquire(&self, cost: Cost) {
        let cost = f64::from(cost as u32);
        let rate = f64::from(self.per_minute) / 60.0;
        let mut state = self.state.lock().await;
        loop {
            let now = Instant::now();
            let (tokens, last) = *state;
            // The bucket may go below zero for what retries spent: the
            // next requests then wait for Microsoft's count to refill too.
            let owed = self.owed.swap(0, std::sync::atomic::Ordering::Relaxed) as f64;
            let tokens = (tokens + now.duration_since(last).as_secs_f64() * rate)
                .min(f64::from(self.per_minute))
                - owed;
            if tokens >= cost {
                *state = (tokens - cost, now);
                self.used
                    .fetch_add(cost as u64, std::sync::atomic::Ordering::Relaxed);
                return;
            }
            *state = (tokens, now);
            tokio::time::sleep(Duration::from_secs_f64((cost - tokens) / rate)).await;
        }
    }
}

impl ResourceUnits {
    /// Spends `cost` for a retry at once, without waiting: Microsoft
    /// charges every attempt, refused ones included.
    pub(crate) fn charge_retry(&self, cost: Cost) {
        let cost = cost as u64;
        self.used
            .fetch_add(cost, std::sync::atomic::Ordering::Relaxed);
        self.owed
            .fetch_add(cost, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Default for ResourceUnits {
    fn default() -> Self {
        ResourceUnits::new(Self::DEFAULT_PER_MINUTE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spending_past_the_budget_waits_for_the_refill() {
        let units = ResourceUnits::new(60); // one unit per second
        let start = Instant::now();
        for _ in 0..30 {
            units.acquire(Cost::Two).await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(10),
            "the first minute's units are there at once"
        );
        units.acquire(Cost::Two).await;
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_secs(2) && waited < Duration::from_millis(2100),
            "{waited:?}"
        );
        assert_eq!(units.used(), 62);
    }

    #[tokio::test(start_paused = true)]
    async fn retries_count_and_are_taken_from_the_next_wait() {
        let units = ResourceUnits::new(60);
        let start = Instant::now();
        units.acquire(Cost::Two).await;
        // Two retries of that request: 4 more units, spent without waiting.
        units.charge_retry(Cost::Two);
        units.charge_retry(Cost::Two);
        assert_eq!(units.used(), 6);
        assert!(start.elapsed() < Duration::from_millis(10));
        // 54 left: 27 requests of two go at once, the 28th waits 2 s.
        for _ in 0..27 {
            units.acquire(Cost::Two).await;
        }
        assert!(start.elapsed() < Duration::from_millis(10));
        units.acquire(Cost::Two).await;
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_secs(2) && waited < Duration::from_millis(2100),
            "{waited:?}"
        );
        assert_eq!(units.used(), 62);
    }
}
