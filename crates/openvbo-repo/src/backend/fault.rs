//! A backend wrapper that fails on command: how tests show that a full disk, a read-only
//! mount or a flaky store leaves the repository consistent. Public so that other crates'
//! tests (the backup engine, the API) can inject the same faults.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;

use super::{Backend, Capacity, DynBackend, ObjectInfo};
use crate::error::{ErrorKind, RepoError, Result};

/// Which failure to inject on writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Every write fails as ENOSPC would.
    DiskFull,
    /// Every write fails as EROFS would.
    ReadOnly,
    /// Writes fail as an exhausted retry budget would.
    Unavailable,
}

pub struct FaultyBackend {
    inner: DynBackend,
    /// Writes allowed before the fault starts (u64::MAX = never).
    writes_left: AtomicU64,
    fault: Mutex<Option<Fault>>,
}

impl FaultyBackend {
    pub fn new(inner: DynBackend) -> Self {
        Self {
            inner,
            writes_left: AtomicU64::new(u64::MAX),
            fault: Mutex::new(None),
        }
    }

    /// Starts failing writes with `fault` after `after_writes` more successful writes.
    pub fn fail_after(&self, after_writes: u64, fault: Fault) {
        if let Ok(mut f) = self.fault.lock() {
            *f = Some(fault);
        }
        self.writes_left.store(after_writes, Ordering::SeqCst);
    }

    pub fn heal(&self) {
        if let Ok(mut f) = self.fault.lock() {
            *f = None;
        }
        self.writes_left.store(u64::MAX, Ordering::SeqCst);
    }

    fn check(&self, name: &str) -> Result<()> {
        let fault = self.fault.lock().ok().and_then(|f| *f);
        let Some(fault) = fault else { return Ok(()) };
        let left = self.writes_left.load(Ordering::SeqCst);
        if left > 0 {
            self.writes_left.store(left - 1, Ordering::SeqCst);
            return Ok(());
        }
        Err(match fault {
            Fault::DiskFull => RepoError::new(
                ErrorKind::StorageFull,
                format!("writing {name}: no space left on the device"),
            ),
            Fault::ReadOnly => RepoError::new(
                ErrorKind::ReadOnly,
                format!("writing {name}: the file system is read-only"),
            ),
            Fault::Unavailable => RepoError::new(
                ErrorKind::Unavailable,
                format!("writing {name}: the storage kept failing after retries"),
            ),
        })
    }
}

#[async_trait]
impl Backend for FaultyBackend {
    async fn put(&self, name: &str, data: Bytes, create_only: bool) -> Result<()> {
        self.check(name)?;
        self.inner.put(name, data, create_only).await
    }
    async fn get(&self, name: &str) -> Result<Bytes> {
        self.inner.get(name).await
    }
    async fn get_range(&self, name: &str, range: Range<u64>) -> Result<Bytes> {
        self.inner.get_range(name, range).await
    }
    async fn get_ranges(&self, name: &str, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.inner.get_ranges(name, ranges).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        self.inner.list(prefix).await
    }
    async fn delete(&self, name: &str) -> Result<()> {
        self.check(name)?;
        self.inner.delete(name).await
    }
    async fn capacity(&self) -> Result<Option<Capacity>> {
        self.inner.capacity().await
    }
    async fn remove_stale_temporaries(&self, older_than: std::time::Duration) -> Result<u64> {
        self.inner.remove_stale_temporaries(older_than).await
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}
