//! Slowing down password guessing without locking the real administrator
//! out: failures are counted per (user name, client address) in a sliding
//! window. An attacker elsewhere does not block the administrator, and the
//! block lifts by itself when the window passes.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
pub struct ThrottleSettings {
    pub max_failures: usize,
    pub window: Duration,
    /// Keys remembered at most; beyond it the stalest are forgotten, so
    /// random user names cannot grow memory without bound.
    pub max_keys: usize,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            max_failures: 5,
            window: Duration::from_secs(60),
            max_keys: 10_000,
        }
    }
}

type Key = (String, IpAddr);

#[derive(Debug)]
pub struct LoginThrottle {
    settings: ThrottleSettings,
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

impl LoginThrottle {
    pub fn new(settings: ThrottleSettings) -> Self {
        Self {
            settings,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn key(user: &str, ip: IpAddr) -> Key {
        (user.trim().to_lowercase(), ip)
    }

    /// `Err(retry_after)` while this user name is blocked from this address.
    pub fn check(&self, user: &str, ip: IpAddr) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let Some(times) = map.get_mut(&Self::key(user, ip)) else {
            return Ok(());
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.settings.window)
        {
            times.pop_front();
        }
        if times.len() >= self.settings.max_failures {
            let oldest = times.front().copied().unwrap_or(now);
            let retry = self
                .settings
                .window
                .saturating_sub(now.duration_since(oldest));
            return Err(retry.max(Duration::from_secs(1)));
        }
        Ok(())
    }

    pub fn record_failure(&self, user: &str, ip: IpAddr) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= self.settings.max_keys {
            let window = self.settings.window;
            map.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
            if map.len() >= self.settings.max_keys {
                // Still full of live entries: drop the stalest.
                if let Some(stalest) = map
                    .iter()
                    .min_by_key(|(_, t)| t.back().copied())
                    .map(|(k, _)| k.clone())
                {
                    map.remove(&stalest);
                }
            }
        }
        let times = map.entry(Self::key(user, ip)).or_default();
        times.push_back(now);
        while times.len() > self.settings.max_failures {
            times.pop_front();
        }
    }

    pub fn record_success(&self, user: &str, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&Self::key(user, ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn blocks_after_max_failures_per_user_and_address_only() {
        let t = LoginThrottle::new(ThrottleSettings {
            max_failures: 3,
            window: Duration::from_secs(60),
            max_keys: 100,
        });
        for _ in 0..3 {
            assert!(t.check("Admin", ip(1)).is_ok());
            t.record_failure("Admin", ip(1));
        }
        let retry = t.check("admin", ip(1)).unwrap_err();
        assert!(retry <= Duration::from_secs(60) && retry >= Duration::from_secs(1));
        assert!(
            t.check("admin", ip(2)).is_ok(),
            "another address is not blocked"
        );
        assert!(
            t.check("other", ip(1)).is_ok(),
            "another user is not blocked"
        );
        t.record_success("admin", ip(1));
        assert!(t.check("admin", ip(1)).is_ok());
    }

    #[test]
    fn block_lifts_when_the_window_passes() {
        let t = LoginThrottle::new(ThrottleSettings {
            max_failures: 1,
            window: Duration::from_millis(50),
            max_keys: 100,
        });
        t.record_failure("a", ip(1));
        assert!(t.check("a", ip(1)).is_err());
        std::thread::sleep(Duration::from_millis(60));
        assert!(t.check("a", ip(1)).is_ok());
    }

    #[test]
    fn memory_is_bounded() {
        let t = LoginThrottle::new(ThrottleSettings {
            max_failures: 5,
            window: Duration::from_secs(60),
            max_keys: 10,
        });
        for i in 0..1000 {
            t.record_failure(&format!("user{i}"), ip(1));
        }
        assert!(t.failures.lock().unwrap().len() <= 10);
    }
}
