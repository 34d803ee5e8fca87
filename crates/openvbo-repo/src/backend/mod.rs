//! The storage interface: a handful of whole-object operations that a local directory, any
//! S3-compatible service and memory can all do. Everything the repository writes is
//! immutable, so there is no "update": a name is created once (atomically) and later deleted.

mod fault;
mod local;
mod object;

use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use crate::error::Result;

pub use fault::{Fault, FaultyBackend};
pub use local::LocalBackend;
pub use object::{ObjectBackend, RetryBudget, S3Location};

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub name: String,
    pub size: u64,
}

/// Space on the storage, where the storage can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capacity {
    pub capacity_bytes: u64,
    pub free_bytes: u64,
}

/// Whole-object storage. Names are `/`-separated relative paths.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Writes `data` under `name` atomically and durably. With `create_only`, fails with
    /// `AlreadyExists` when the name is taken (S3 `If-None-Match: *`, `O_EXCL` link on disk).
    async fn put(&self, name: &str, data: Bytes, create_only: bool) -> Result<()>;
    async fn get(&self, name: &str) -> Result<Bytes>;
    async fn get_range(&self, name: &str, range: Range<u64>) -> Result<Bytes>;
    /// Several ranges of one object (sorted, not overlapping) in one call: a restore reads
    /// the blobs of one pack this way (one open file on disk, coalesced GETs on S3) instead
    /// of one request per blob. The default asks for them one by one.
    async fn get_ranges(&self, name: &str, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        let mut out = Vec::with_capacity(ranges.len());
        for r in ranges {
            out.push(self.get_range(name, r.clone()).await?);
        }
        Ok(out)
    }
    /// Every object whose name starts with `prefix` (a folder path ending in `/`, or "").
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>>;
    /// Deletes `name`; deleting a missing name is not an error (deletes are retried).
    async fn delete(&self, name: &str) -> Result<()>;
    /// Capacity and free space, for `capacityBytes`/`freeSpaceBytes`; `None` on object storage.
    async fn capacity(&self) -> Result<Option<Capacity>> {
        Ok(None)
    }
    /// Where this is, for messages (never includes credentials).
    fn describe(&self) -> String;
}

pub type DynBackend = Arc<dyn Backend>;
