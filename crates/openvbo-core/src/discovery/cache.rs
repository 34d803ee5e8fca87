//! Cached listings (`setId`): bounded in count of items and in age. An
//! empty listing counts as one item, so a flood of empty sets is bounded
//! too.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::clock::SharedClock;
use crate::OrganizationId;

#[derive(Clone, Copy, Debug)]
pub struct CacheSettings {
    /// How long a set answers after it was fetched.
    pub ttl: Duration,
    /// Items held across all sets; the oldest sets give way first.
    pub max_items: usize,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(15 * 60),
            max_items: 1_000_000,
        }
    }
}

/// What a set lists: the same `setId` cannot be replayed on another listing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Listing {
    Users,
    Groups,
    Members(String),
    Sites(Option<String>),
    Teams,
    OneDrives(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SetKey {
    pub organization: OrganizationId,
    pub listing: Listing,
}

struct Entry {
    key: SetKey,
    items: Arc<dyn Any + Send + Sync>,
    /// What the set counts against `max_items`: its length, at least 1.
    weight: usize,
    created: Instant,
}

pub(crate) struct SetCache {
    settings: CacheSettings,
    clock: SharedClock,
    sets: Mutex<HashMap<Uuid, Entry>>,
}

pub(crate) enum Lookup<T> {
    Found(Arc<Vec<T>>),
    Missing,
    OtherListing,
}

impl SetCache {
    pub(crate) fn new(settings: CacheSettings, clock: SharedClock) -> Self {
        Self {
            settings,
            clock,
            sets: Mutex::new(HashMap::new()),
        }
    }

    fn expired(&self, entry: &Entry, now: Instant) -> bool {
        now.saturating_duration_since(entry.created) >= self.settings.ttl
    }

    pub(super) fn max_items(&self) -> usize {
        self.settings.max_items
    }

    pub(super) fn insert<T: Send + Sync + 'static>(
        &self,
        key: SetKey,
        items: Vec<T>,
    ) -> (Uuid, Arc<Vec<T>>) {
        let id = Uuid::new_v4();
        let weight = items.len().max(1);
        let items = Arc::new(items);
        let mut sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.clock.instant();
        sets.retain(|_, e| !self.expired(e, now));
        let mut total: usize = sets.values().map(|e| e.weight).sum();
        while total + weight > self.settings.max_items {
            let Some(oldest) = sets
                .iter()
                .min_by_key(|(_, e)| e.created)
                .map(|(id, _)| *id)
            else {
                break;
            };
            if let Some(e) = sets.remove(&oldest) {
                total -= e.weight;
            }
        }
        sets.insert(
            id,
            Entry {
                key,
                items: items.clone(),
                weight,
                created: now,
            },
        );
        (id, items)
    }

    /// Drops every set of a removed organization.
    pub(super) fn forget(&self, organization: OrganizationId) {
        let mut sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        sets.retain(|_, e| e.key.organization != organization);
    }

    pub(super) fn get<T: Send + Sync + 'static>(&self, id: Uuid, key: &SetKey) -> Lookup<T> {
        let mut sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        let Some(entry) = sets.get(&id) else {
            return Lookup::Missing;
        };
        if self.expired(entry, self.clock.instant()) {
            sets.remove(&id);
            return Lookup::Missing;
        }
        if &entry.key != key {
            return Lookup::OtherListing;
        }
        match entry.items.clone().downcast::<Vec<T>>() {
            Ok(items) => Lookup::Found(items),
            Err(_) => Lookup::OtherListing,
        }
    }

    #[cfg(test)]
    fn total_items(&self) -> usize {
        self.sets.lock().unwrap().values().map(|e| e.weight).sum()
    }

    #[cfg(test)]
    fn sets(&self) -> usize {
        self.sets.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::clock::ManualClock;

    fn key(listing: Listing) -> SetKey {
        SetKey {
            organization: OrganizationId::from(Uuid::nil()),
            listing,
        }
    }

    #[test]
    fn sets_are_found_only_for_their_listing() {
        let cache = SetCache::new(CacheSettings::default(), crate::clock::system());
        let (id, _) = cache.insert(key(Listing::Users), vec![1u32, 2, 3]);
        assert!(
            matches!(cache.get::<u32>(id, &key(Listing::Users)), Lookup::Found(v) if v.len() == 3)
        );
        assert!(matches!(
            cache.get::<u32>(id, &key(Listing::Groups)),
            Lookup::OtherListing
        ));
        assert!(matches!(
            cache.get::<u32>(Uuid::new_v4(), &key(Listing::Users)),
            Lookup::Missing
        ));
    }

    #[test]
    fn sets_expire_and_the_oldest_give_way() {
        let clock = ManualClock::new();
        let cache = SetCache::new(
            CacheSettings {
                ttl: Duration::from_secs(900),
                max_items: 5,
            },
            clock.clone(),
        );
        let (first, _) = cache.insert(key(Listing::Users), vec![0u8; 3]);
        let (second, _) = cache.insert(key(Listing::Groups), vec![0u8; 3]);
        assert!(cache.total_items() <= 5);
        assert!(matches!(
            cache.get::<u8>(first, &key(Listing::Users)),
            Lookup::Missing
        ));
        assert!(matches!(
            cache.get::<u8>(second, &key(Listing::Groups)),
            Lookup::Found(_)
        ));
        clock.advance(Duration::from_secs(899));
        assert!(matches!(
            cache.get::<u8>(second, &key(Listing::Groups)),
            Lookup::Found(_)
        ));
        clock.advance(Duration::from_secs(1));
        assert!(matches!(
            cache.get::<u8>(second, &key(Listing::Groups)),
            Lookup::Missing
        ));
    }

    #[test]
    fn empty_listings_count_against_the_limit() {
        let cache = SetCache::new(
            CacheSettings {
                ttl: Duration::from_secs(900),
                max_items: 5,
            },
            crate::clock::system(),
        );
        for _ in 0..1000 {
            cache.insert(key(Listing::Teams), Vec::<u8>::new());
        }
        assert_eq!(cache.sets(), 5);
        assert_eq!(cache.total_items(), 5);
    }
}
