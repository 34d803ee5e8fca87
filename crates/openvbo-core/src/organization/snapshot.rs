//! The organizations as last read from the store, shared by every reader
//! until a write replaces them. Listing 10,000 organizations then costs a
//! pointer copy instead of a database scan.
//!
//! This is sound because this process is the only writer of organizations:
//! `openvbo serve` locks its data dir. (A store shared by several servers,
//! as PostgreSQL will allow, needs a version check here instead.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::model::Organization;
use crate::OrganizationId;

#[derive(Debug)]
pub struct Snapshot {
    /// Changes with every write; caches derived from a snapshot key on it.
    pub generation: u64,
    pub organizations: Vec<Organization>,
    index: HashMap<OrganizationId, usize>,
}

impl Snapshot {
    fn new(generation: u64, organizations: Vec<Organization>) -> Self {
        let index = organizations
            .iter()
            .enumerate()
            .map(|(i, o)| (o.id, i))
            .collect();
        Self {
            generation,
            organizations,
            index,
        }
    }

    pub fn get(&self, id: OrganizationId) -> Option<&Organization> {
        self.index.get(&id).and_then(|i| self.organizations.get(*i))
    }
}

#[derive(Debug, Default)]
pub(crate) struct SnapshotCache {
    current: RwLock<Option<Arc<Snapshot>>>,
    generation: AtomicU64,
}

impl SnapshotCache {
    pub(super) fn current(&self) -> Option<Arc<Snapshot>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Read before loading from the store; pass to [`Self::install`].
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Keeps what was loaded unless a write happened since `generation`
    /// was read (the load may predate it).
    pub(super) fn install(
        &self,
        generation: u64,
        organizations: Vec<Organization>,
    ) -> Arc<Snapshot> {
        let snapshot = Arc::new(Snapshot::new(generation, organizations));
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::SeqCst) == generation {
            *current = Some(snapshot.clone());
        }
        snapshot
    }

    /// After every write, once it is committed.
    pub(super) fn invalidate(&self) {
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::SeqCst);
        *current = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_that_raced_a_write_is_not_kept() {
        let cache = SnapshotCache::default();
        let before = cache.generation();
        cache.invalidate(); // a write commits while the load runs
        cache.install(before, Vec::new());
        assert!(cache.current().is_none());
        let now = cache.generation();
        cache.install(now, Vec::new());
        assert_eq!(cache.current().map(|s| s.generation), Some(now));
    }
}
