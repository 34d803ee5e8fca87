//! Slowing down password guessing without locking the real administrator
//! out.
//!
//! Every attempt is counted *before* its password is hashed, under one lock,
//! so a burst of concurrent guesses gets no more tries than a sequence of
//! them would. Two budgets apply, in a sliding window:
//! - per (user name, client address): an attacker elsewhere does not block
//!   the administrator, and the block lifts by itself when the window passes;
//! - per client address, whatever the user name: a flood that invents a new
//!   name for every try is stopped too. (IPv6 clients are counted per /64,
//!   the block a single host usually holds.)
//!
//! A successful sign-in gives its attempt back. Memory is bounded: user
//! names are length-checked before they get here, and each table keeps at
//! most `max_keys` entries.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::clock::SharedClock;

#[derive(Clone, Copy, Debug)]
pub struct ThrottleSettings {
    /// Attempts per (user name, address) per window.
    pub max_failures: usize,
    /// Attempts per address per window, over all user names.
    pub max_attempts_per_address: usize,
    pub window: Duration,
    /// Keys remembered at most per table; beyond it the stalest are
    /// forgotten, so random user names cannot grow memory without bound.
    pub max_keys: usize,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            max_failures: 5,
            max_attempts_per_address: 30,
            window: Duration::from_secs(60),
            max_keys: 10_000,
        }
    }
}

type UserKey = (String, IpAddr);

#[derive(Default)]
struct Tables {
    per_user: HashMap<UserKey, VecDeque<Instant>>,
    per_address: HashMap<IpAddr, VecDeque<Instant>>,
}

pub struct LoginThrottle {
    settings: ThrottleSettings,
    clock: SharedClock,
    tables: Mutex<Tables>,
}

impl std::fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginThrottle")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The address a budget is kept for: IPv6 by its /64.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
    }
}

fn user_key(user: &str, ip: IpAddr) -> UserKey {
    (user.trim().to_lowercase(), ip)
}

/// Drops the attempts that left the window.
fn expire(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= window)
    {
        times.pop_front();
    }
}

/// How long until the oldest attempt leaves the window (at least 1 s).
fn retry_after(times: &VecDeque<Instant>, now: Instant, window: Duration) -> Duration {
    let oldest = times.front().copied().unwrap_or(now);
    window
        .saturating_sub(now.saturating_duration_since(oldest))
        .max(Duration::from_secs(1))
}

/// Makes room for one more key: first forget keys whose window has passed,
/// then, if still full, the one with the stalest latest attempt.
fn make_room<K: Clone + Eq + std::hash::Hash>(
    map: &mut HashMap<K, VecDeque<Instant>>,
    max_keys: usize,
    now: Instant,
    window: Duration,
) {
    if map.len() < max_keys {
        return;
    }
    map.retain(|_, times| {
        times
            .back()
            .is_some_and(|t| now.saturating_duration_since(*t) < window)
    });
    while map.len() >= max_keys.max(1) {
        let Some(stalest) = map
            .iter()
            .min_by_key(|(_, t)| t.back().copied())
            .map(|(k, _)| k.clone())
        else {
            return;
        };
        map.remove(&stalest);
    }
}

impl LoginThrottle {
    pub fn new(settings: ThrottleSettings, clock: SharedClock) -> Self {
        Self {
            settings,
            clock,
            tables: Mutex::new(Tables::default()),
        }
    }

    /// Counts one sign-in attempt, atomically, before its password is
    /// checked. `Err(retry_after)` if either budget is spent (nothing is
    /// counted then).
    pub fn begin(&self, user: &str, ip: IpAddr) -> Result<(), Duration> {
        let now = self.clock.instant();
        let ThrottleSettings {
            max_failures,
            max_attempts_per_address,
            window,
            max_keys,
        } = self.settings;
        let mut tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        let tables = &mut *tables;
        let address = address_key(ip);
        let key = user_key(user, ip);

        if let Some(times) = tables.per_address.get_mut(&address) {
            expire(times, now, window);
            if times.len() >= max_attempts_per_address {
                return Err(retry_after(times, now, window));
            }
        }
        if let Some(times) = tables.per_user.get_mut(&key) {
            expire(times, now, window);
            if times.len() >= max_failures {
                return Err(retry_after(times, now, window));
            }
        }
        if !tables.per_address.contains_key(&address) {
            make_room(&mut tables.per_address, max_keys, now, window);
        }
        tables
            .per_address
            .entry(address)
            .or_default()
            .push_back(now);
        if !tables.per_user.contains_key(&key) {
            make_room(&mut tables.per_user, max_keys, now, window);
        }
        tables.per_user.entry(key).or_default().push_back(now);
        Ok(())
    }

    /// The attempt begun for `user` from `ip` succeeded: its failures are
    /// forgotten and the address gets its attempt back.
    pub fn succeeded(&self, user: &str, ip: IpAddr) {
        let mut tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        tables.per_user.remove(&user_key(user, ip));
        let address = address_key(ip);
        if let Some(times) = tables.per_address.get_mut(&address) {
            times.pop_back();
            if times.is_empty() {
                tables.per_address.remove(&address);
            }
        }
    }

    /// Keys held, per table (for tests of the memory bound).
    #[cfg(test)]
    fn keys(&self) -> (usize, usize) {
        let tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        (tables.per_user.len(), tables.per_address.len())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use super::*;
    use crate::clock::ManualClock;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    fn throttle(settings: ThrottleSettings) -> (LoginThrottle, Arc<ManualClock>) {
        let clock = ManualClock::new();
        (LoginThrottle::new(settings, clock.clone()), clock)
    }

    fn settings(max_failures: usize, per_address: usize, max_keys: usize) -> ThrottleSettings {
        ThrottleSettings {
            max_failures,
            max_attempts_per_address: per_address,
            window: Duration::from_secs(60),
            max_keys,
        }
    }

    #[test]
    fn blocks_after_max_failures_per_user_and_address_only() {
        let (t, _) = throttle(settings(3, 100, 100));
        for _ in 0..3 {
            assert!(t.begin("Admin", ip(1)).is_ok());
        }
        let retry = t.begin("admin", ip(1)).unwrap_err();
        assert!(retry <= Duration::from_secs(60) && retry >= Duration::from_secs(1));
        assert!(
            t.begin("admin", ip(2)).is_ok(),
            "another address is not blocked"
        );
        assert!(
            t.begin("other", ip(1)).is_ok(),
            "another user is not blocked"
        );
        t.succeeded("admin", ip(1));
        assert!(t.begin("admin", ip(1)).is_ok());
    }

    #[test]
    fn concurrent_attempts_are_counted_before_any_is_checked() {
        // 60 threads start a guess at once: exactly the budget gets through.
        let (t, _) = throttle(settings(5, 100, 100));
        let t = Arc::new(t);
        let admitted: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..60)
                .map(|_| {
                    let t = t.clone();
                    s.spawn(move || usize::from(t.begin("admin", ip(1)).is_ok()))
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(admitted, 5);
    }

    #[test]
    fn one_address_inventing_user_names_is_stopped_by_its_own_budget() {
        let (t, _) = throttle(settings(5, 10, 1000));
        let admitted = (0..100)
            .filter(|i| t.begin(&format!("user{i}"), ip(1)).is_ok())
            .count();
        assert_eq!(admitted, 10);
        assert!(
            t.begin("admin", ip(2)).is_ok(),
            "other addresses still sign in"
        );
        // IPv6 neighbours in one /64 share a budget; another /64 does not.
        let v6 = |last: u16| IpAddr::from([0x2001, 0xdb8, 0, 1, 0, 0, 0, last]);
        let admitted = (0..20)
            .filter(|i| t.begin(&format!("u{i}"), v6(*i)).is_ok())
            .count();
        assert_eq!(admitted, 10);
        assert!(t
            .begin("u", IpAddr::from([0x2001, 0xdb8, 0, 2, 0, 0, 0, 1]))
            .is_ok());
    }

    #[test]
    fn block_lifts_when_the_window_passes() {
        let (t, clock) = throttle(settings(1, 100, 100));
        t.begin("a", ip(1)).unwrap();
        let retry = t.begin("a", ip(1)).unwrap_err();
        assert_eq!(retry, Duration::from_secs(60));
        clock.advance(Duration::from_secs(59));
        assert_eq!(t.begin("a", ip(1)).unwrap_err(), Duration::from_secs(1));
        clock.advance(Duration::from_secs(1));
        assert!(t.begin("a", ip(1)).is_ok());
    }

    #[test]
    fn memory_is_bounded() {
        let (t, _) = throttle(settings(5, usize::MAX, 10));
        for i in 0..1000u32 {
            let [a, b, c, d] = i.to_be_bytes();
            let _ = t.begin(&format!("user{i}"), IpAddr::from([10 + a, b, c, d]));
        }
        let (users, addresses) = t.keys();
        assert!(users <= 10 && addresses <= 10, "{users} {addresses}");
    }
}
