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
    /// Starts an object whose name is known only when it is complete (a pack is named by
    /// the hash of its bytes), so it can be written as it fills instead of held in memory.
    /// The default keeps the bytes in memory and PUTs them whole at the end: one request
    /// per object on S3 (a multipart upload would cost a PUT per part).
    /// `size_hint` is the expected final size (one exact allocation instead of doubling,
    /// which would reserve up to twice the pack size).
    async fn stage(&self, size_hint: usize) -> Result<Box<dyn Staged>> {
        Ok(Box::new(MemoryStaged {
            buf: Vec::with_capacity(size_hint),
        }))
    }
    /// Removes what interrupted writes left behind (a pack's temporary file when the process
    /// was killed mid-write) and was not modified for `older_than`; how many were removed.
    /// Object storage has nothing to remove: an object exists only once its PUT completed.
    async fn remove_stale_temporaries(&self, _older_than: std::time::Duration) -> Result<u64> {
        Ok(0)
    }
    /// Where this is, for messages (never includes credentials).
    fn describe(&self) -> String;
}

/// An object being written (see [`Backend::stage`]). Nothing of it is visible under any
/// name until `finish` returns; dropped unfinished, it leaves nothing behind (or only a
/// temporary file that listings skip).
#[async_trait]
pub trait Staged: Send {
    /// Appends bytes. After an error the object is unusable: `finish` fails too.
    async fn write(&mut self, data: Bytes) -> Result<()>;
    /// Bytes held in memory by this object (the memory bound of a pack being written).
    fn buffered(&self) -> usize;
    /// Makes the bytes durable under `name`, atomically (as `put` without `create_only`).
    async fn finish(self: Box<Self>, backend: &dyn Backend, name: &str) -> Result<()>;
}

/// The staging for backends that take whole objects: collected in memory, one `put`.
pub struct MemoryStaged {
    buf: Vec<u8>,
}

#[async_trait]
impl Staged for MemoryStaged {
    async fn write(&mut self, data: Bytes) -> Result<()> {
        if self.buf.capacity() - self.buf.len() < data.len() {
            self.buf.reserve_exact(data.len());
        }
        self.buf.extend_from_slice(&data);
        Ok(())
    }
    fn buffered(&self) -> usize {
        self.buf.len()
    }
    async fn finish(self: Box<Self>, backend: &dyn Backend, name: &str) -> Result<()> {
        backend.put(name, Bytes::from(self.buf), false).await
    }
}

pub type DynBackend = Arc<dyn Backend>;
