//! Recently verified access tokens, so a busy client does not cost a
//! database read per request.
//!
//! Revocations made by this process (a reused refresh token) clear it at
//! once; a revocation by another process (`openvbo admin reset-password`)
//! takes effect within the cache's lifetime, a few seconds. Expiry is
//! checked on every use.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::clock::SharedClock;
use crate::store::{AccessGrant, TokenHash};

pub(crate) struct GrantCache {
    ttl: Duration,
    max_entries: usize,
    clock: SharedClock,
    entries: Mutex<HashMap<TokenHash, (AccessGrant, Instant)>>,
}

impl GrantCache {
    pub(crate) fn new(ttl: Duration, max_entries: usize, clock: SharedClock) -> Self {
        Self {
            ttl,
            max_entries,
            clock,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn fresh(&self, checked: Instant) -> bool {
        self.clock.instant().saturating_duration_since(checked) < self.ttl
    }

    pub(crate) fn get(&self, hash: &TokenHash, now: OffsetDateTime) -> Option<AccessGrant> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (grant, checked) = entries.get(hash)?;
        (self.fresh(*checked) && grant.expires_at > now).then(|| grant.clone())
    }

    pub(crate) fn put(&self, hash: TokenHash, grant: AccessGrant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.max_entries {
            entries.retain(|_, (_, checked)| self.fresh(*checked));
            if entries.len() >= self.max_entries {
                entries.clear();
            }
        }
        entries.insert(hash, (grant, self.clock.instant()));
    }

    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::clock::{Clock, ManualClock};

    fn grant(expires_in: time::Duration) -> AccessGrant {
        AccessGrant {
            user_name: "admin".into(),
            session_id: uuid::Uuid::nil(),
            expires_at: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[test]
    fn entries_answer_until_their_ttl_or_the_token_expiry() {
        let clock = ManualClock::new();
        let cache = GrantCache::new(Duration::from_secs(5), 10, clock.clone());
        let hash = TokenHash("a".into());
        cache.put(hash.clone(), grant(time::Duration::hours(1)));
        assert!(cache.get(&hash, clock.now()).is_some());
        assert!(
            cache
                .get(&hash, clock.now() + time::Duration::hours(2))
                .is_none(),
            "expired token"
        );
        clock.advance(Duration::from_millis(4_999));
        assert!(cache.get(&hash, clock.now()).is_some(), "still fresh");
        clock.advance(Duration::from_millis(1));
        assert!(cache.get(&hash, clock.now()).is_none(), "stale entry");
    }

    #[test]
    fn it_is_bounded_and_can_be_cleared() {
        let cache = GrantCache::new(Duration::from_secs(60), 3, crate::clock::system());
        for i in 0..10 {
            cache.put(TokenHash(i.to_string()), grant(time::Duration::hours(1)));
        }
        assert!(cache.entries.lock().unwrap().len() <= 3);
        cache.clear();
        assert!(cache.entries.lock().unwrap().is_empty());
    }
}
