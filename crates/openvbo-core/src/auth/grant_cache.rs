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

use crate::store::{AccessGrant, TokenHash};

pub(crate) struct GrantCache {
    ttl: Duration,
    max_entries: usize,
    entries: Mutex<HashMap<TokenHash, (AccessGrant, Instant)>>,
}

impl GrantCache {
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            ttl,
            max_entries,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, hash: &TokenHash, now: OffsetDateTime) -> Option<AccessGrant> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (grant, checked) = entries.get(hash)?;
        (checked.elapsed() < self.ttl && grant.expires_at > now).then(|| grant.clone())
    }

    pub fn put(&self, hash: TokenHash, grant: AccessGrant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.max_entries {
            let ttl = self.ttl;
            entries.retain(|_, (_, checked)| checked.elapsed() < ttl);
            if entries.len() >= self.max_entries {
                entries.clear();
            }
        }
        entries.insert(hash, (grant, Instant::now()));
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(expires_in: time::Duration) -> AccessGrant {
        AccessGrant {
            user_name: "admin".into(),
            session_id: uuid::Uuid::nil(),
            expires_at: OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[test]
    fn entries_answer_until_their_ttl_or_the_token_expiry() {
        let cache = GrantCache::new(Duration::from_millis(50), 10);
        let hash = TokenHash("a".into());
        cache.put(hash.clone(), grant(time::Duration::hours(1)));
        assert!(cache.get(&hash, OffsetDateTime::now_utc()).is_some());
        assert!(
            cache
                .get(&hash, OffsetDateTime::now_utc() + time::Duration::hours(2))
                .is_none(),
            "expired token"
        );
        std::thread::sleep(Duration::from_millis(60));
        assert!(
            cache.get(&hash, OffsetDateTime::now_utc()).is_none(),
            "stale entry"
        );
    }

    #[test]
    fn it_is_bounded_and_can_be_cleared() {
        let cache = GrantCache::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            cache.put(TokenHash(i.to_string()), grant(time::Duration::hours(1)));
        }
        assert!(cache.entries.lock().unwrap().len() <= 3);
        cache.clear();
        assert!(cache.entries.lock().unwrap().is_empty());
    }
}
