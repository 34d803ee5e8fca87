//! `stats`: logical bytes (what the restore points hold), unique bytes (after dedup) and
//! stored bytes (after compression and encryption, in packs).

use std::collections::HashSet;

use serde::Serialize;

use crate::error::{ErrorKind, RepoError, Result};
use crate::ids::ChunkId;
use crate::model::TreeEntry;
use crate::repo::Repository;

#[derive(Debug, Clone, Default, Serialize)]
pub struct RepoStats {
    pub restore_points: u64,
    pub resources: u64,
    pub items: u64,
    /// Sum of item sizes over every complete restore point.
    pub logical_bytes: u64,
    /// Plaintext bytes of distinct data chunks referenced.
    pub unique_bytes: u64,
    /// Bytes of sealed data blobs for those chunks.
    pub stored_blob_bytes: u64,
    /// Bytes of all packs (data + trees + headers, referenced or not).
    pub pack_bytes: u64,
    pub packs: u64,
    /// logical / unique.
    pub dedup_ratio: f64,
    /// unique / stored blob bytes.
    pub compression_ratio: f64,
}

impl Repository {
    pub async fn stats(&self) -> Result<RepoStats> {
        self.refresh_index().await?;
        let mut st = RepoStats::default();
        let mut resources = HashSet::new();
        let mut seen: HashSet<ChunkId> = HashSet::new();
        let mut trees: HashSet<ChunkId> = HashSet::new();
        for p in self
            .list_points(None)
            .await?
            .into_iter()
            .filter(|p| p.complete)
        {
            st.restore_points += 1;
            resources.insert(self.resource_key(&p.resource));
            st.items += p.item_count;
            st.logical_bytes += p.item_bytes;
            for t in &p.tree {
                if !trees.insert(*t) {
                    continue;
                }
                for e in self.read_tree_blob(t).await? {
                    if let TreeEntry::Item(i) = e {
                        seen.extend(i.parts.iter().flat_map(|p| p.chunks.iter().copied()));
                    }
                }
            }
        }
        st.resources = resources.len() as u64;
        let idx = self
            .inner
            .index
            .read()
            .map_err(|_| RepoError::new(ErrorKind::Storage, "lock"))?;
        for id in &seen {
            if let Some(l) = idx.get(id) {
                st.unique_bytes += l.raw_len as u64;
                st.stored_blob_bytes += l.len as u64;
            }
        }
        for (_, _, size) in idx.packs() {
            st.packs += 1;
            st.pack_bytes += size;
        }
        st.dedup_ratio = ratio(st.logical_bytes, st.unique_bytes);
        st.compression_ratio = ratio(st.unique_bytes, st.stored_blob_bytes);
        Ok(st)
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}
