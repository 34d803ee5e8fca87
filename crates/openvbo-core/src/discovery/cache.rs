//! Cached listings (`setId`): bounded in count of items and in age.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

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
    len: usize,
    created: Instant,
}

pub(crate) struct SetCache {
    settings: CacheSettings,
    sets: Mutex<HashMap<Uuid, Entry>>,
}

pub(crate) enum Lookup<T> {
    Found(Arc<Vec<T>>),
    Missing,
    OtherListing,
}

impl SetCache {
    pub fn new(settings: CacheSettings) -> Self {
        Self {
            settings,
            sets: Mutex::new(HashMap::new()),
        }
    }

    pub fn max_items(&self) -> usize {
        self.settings.max_items
    }

    pub fn insert<T: Send + Sync + 'static>(
        &self,
        key: SetKey,
        items: Vec<T>,
    ) -> (Uuid, Arc<Vec<T>>) {
        let id = Uuid::new_v4();
        let len = items.len();
        let items = Arc::new(items);
        let mut sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        sets.retain(|_, e| now.duration_since(e.created) < self.settings.ttl);
        let mut total: usize = sets.values().map(|e| e.len).sum();
        while total + len > self.settings.max_items {
            let Some(oldest) = sets
                .iter()
                .min_by_key(|(_, e)| e.created)
                .map(|(id, _)| *id)
            else {
                break;
            };
            if let Some(e) = sets.remove(&oldest) {
                total -= e.len;
            }
        }
        sets.insert(
            id,
            Entry {
                key,
                items: items.clone(),
                len,
                created: now,
            },
        );
        (id, items)
    }

    pub fn get<T: Send + Sync + 'static>(&self, id: Uuid, key: &SetKey) -> Lookup<T> {
        let mut sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        let Some(entry) = sets.get(&id) else {
            return Lookup::Missing;
        };
        if entry.created.elapsed() >= self.settings.ttl {
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
        self.sets.lock().unwrap().values().map(|e| e.len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(listing: Listing) -> SetKey {
        SetKey {
            organization: OrganizationId::from(Uuid::nil()),
            listing,
        }
    }

    #[test]
    fn sets_are_found_only_for_their_listing() {
        let cache = SetCache::new(CacheSettings::default());
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
        let cache = SetCache::new(CacheSettings {
            ttl: Duration::from_millis(50),
            max_items: 5,
        });
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
        std::thread::sleep(Duration::from_millis(60));
        assert!(matches!(
            cache.get::<u8>(second, &key(Listing::Groups)),
            Lookup::Missing
        ));
    }
}
