//! A repository in a local directory. Written by hand rather than through object_store's
//! LocalFileSystem because durability needs `fsync` of the file *and* its directory, and
//! because ENOSPC / EROFS must reach the user as such.

use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;

use super::{Backend, Capacity, ObjectInfo, Staged};
use crate::error::{io_error, ErrorKind, RepoError, Result};

/// Temporary files live here until renamed into place; their names never collide.
const TMP_DIR: &str = "tmp";

#[derive(Debug, Clone)]
pub struct LocalBackend {
    root: PathBuf,
}

impl LocalBackend {
    /// A backend rooted at `root` (created by `Repository::init`, not here).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        if name.is_empty()
            || name.starts_with('/')
            || name
                .split('/')
                .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return Err(RepoError::invalid(format!("bad object name {name:?}")));
        }
        Ok(self.root.join(name))
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RepoError::with_source(ErrorKind::Storage, "storage task failed", e))?
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

fn put_file(root: &Path, path: &Path, data: &[u8], create_only: bool) -> Result<()> {
    let what = format!("writing {}", path.display());
    let dir = path.parent().unwrap_or(root);
    std::fs::create_dir_all(dir).map_err(|e| io_error(&what, e))?;
    let (tmp, mut f) = new_tmp(root).map_err(|e| io_error(&what, e))?;
    let result = (|| {
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        if create_only {
            // A hard link fails if the target exists: an atomic create-only rename.
            std::fs::hard_link(&tmp, path)?;
            std::fs::remove_file(&tmp)?;
        } else {
            std::fs::rename(&tmp, path)?;
        }
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| io_error(&what, e))
}

/// A new temporary file under `tmp/` (listings skip it), its name random so writers never collide.
fn new_tmp(root: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let tmp_dir = root.join(TMP_DIR);
    std::fs::create_dir_all(&tmp_dir)?;
    let tmp = tmp_dir.join(format!("{}.tmp", hex::encode(rand::random::<[u8; 12]>())));
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)?;
    Ok((tmp, f))
}

/// A pack streamed to a temporary file as it fills (no copy of it in memory), then fsynced
/// and renamed into place: the same durability as `put`, with memory bounded by the
/// caller's write buffer instead of the pack size.
pub(crate) struct LocalStaged {
    root: PathBuf,
    tmp: PathBuf,
    /// `None` after a failed write: the file is incomplete and must not be finished.
    file: Option<std::fs::File>,
    failed: Option<RepoError>,
}

impl Drop for LocalStaged {
    fn drop(&mut self) {
        // Unfinished (an error, or the writer gave up): the partial file goes. After a
        // successful finish the temporary name no longer exists and this is a no-op.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

#[async_trait]
impl Staged for LocalStaged {
    async fn write(&mut self, data: Bytes) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(RepoError::new(e.kind(), e.message().to_string()));
        }
        let Some(mut f) = self.file.take() else {
            return Err(RepoError::new(
                ErrorKind::Storage,
                "pack file already closed",
            ));
        };
        let what = format!("writing {}", self.tmp.display());
        let res = blocking(move || {
            f.write_all(&data).map_err(|e| io_error(&what, e))?;
            Ok(f)
        })
        .await;
        match res {
            Ok(f) => {
                self.file = Some(f);
                Ok(())
            }
            Err(e) => {
                self.failed = Some(RepoError::new(e.kind(), e.message().to_string()));
                Err(e)
            }
        }
    }

    fn buffered(&self) -> usize {
        0
    }

    async fn finish(mut self: Box<Self>, _backend: &dyn Backend, name: &str) -> Result<()> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let Some(f) = self.file.take() else {
            return Err(RepoError::new(
                ErrorKind::Storage,
                "pack file already closed",
            ));
        };
        let path = LocalBackend::new(self.root.clone()).path(name)?;
        let root = self.root.clone();
        let tmp = self.tmp.clone();
        // `self` stays alive until the blocking part ends, so a failure removes the file.
        let res = blocking(move || {
            let what = format!("writing {}", path.display());
            let dir = path.parent().unwrap_or(&root).to_path_buf();
            let run = || -> std::io::Result<()> {
                f.sync_all()?;
                drop(f);
                std::fs::create_dir_all(&dir)?;
                std::fs::rename(&tmp, &path)?;
                sync_dir(&dir)
            };
            run().map_err(|e| io_error(&what, e))
        })
        .await;
        drop(self);
        res
    }
}

/// Files in `dir` last modified more than `older_than` ago. The file system's clock, not the
/// repository's injected one: modification times are written by the kernel. A writer still
/// using such a file (stalled for that long) only loses its pack: the rename fails, the pack
/// is lost and its writers' commits are refused, never a record naming missing data.
fn remove_stale(dir: &Path, older_than: std::time::Duration) -> Result<u64> {
    let what = format!("cleaning {}", dir.display());
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_error(&what, e)),
    };
    let now = std::time::SystemTime::now();
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(|e| io_error(&what, e))?;
        let meta = entry.metadata().map_err(|e| io_error(&what, e))?;
        let idle = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or_default();
        if meta.is_file() && idle > older_than {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&what, e)),
            }
        }
    }
    Ok(removed)
}

fn list_dir(root: &Path, prefix: &str) -> Result<Vec<ObjectInfo>> {
    // Walk only the directory the prefix names (prefixes are folder paths), so listing
    // `heads/` never scans packs.
    let (dir_part, _) = prefix.rsplit_once('/').unwrap_or(("", prefix));
    let start = if dir_part.is_empty() {
        root.to_path_buf()
    } else {
        root.join(dir_part)
    };
    let mut out = Vec::new();
    let mut stack = vec![start];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_error(&format!("listing {}", dir.display()), e)),
        };
        for entry in entries {
            // An entry can vanish between readdir and stat (another writer ending its
            // session, maintenance deleting a pack): that is a listing race, not an error.
            let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
            let entry = match entry {
                Ok(e) => e,
                Err(e) if gone(&e) => continue,
                Err(e) => return Err(io_error("listing", e)),
            };
            let path = entry.path();
            let ty = match entry.file_type() {
                Ok(t) => t,
                Err(e) if gone(&e) => continue,
                Err(e) => return Err(io_error("listing", e)),
            };
            let Ok(rel) = path.strip_prefix(root) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            if rel == TMP_DIR || rel.starts_with("tmp/") {
                continue;
            }
            if ty.is_dir() {
                stack.push(path);
            } else if rel.starts_with(prefix) {
                let size = match entry.metadata() {
                    Ok(m) => m.len(),
                    Err(e) if gone(&e) => continue,
                    Err(e) => return Err(io_error("listing", e)),
                };
                out.push(ObjectInfo { name: rel, size });
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

#[async_trait]
impl Backend for LocalBackend {
    async fn put(&self, name: &str, data: Bytes, create_only: bool) -> Result<()> {
        let path = self.path(name)?;
        let root = self.root.clone();
        blocking(move || put_file(&root, &path, &data, create_only)).await
    }

    async fn get(&self, name: &str) -> Result<Bytes> {
        let path = self.path(name)?;
        let what = format!("reading {name}");
        blocking(move || {
            std::fs::read(&path)
                .map(Bytes::from)
                .map_err(|e| io_error(&what, e))
        })
        .await
    }

    async fn get_range(&self, name: &str, range: Range<u64>) -> Result<Bytes> {
        use std::io::{Read, Seek, SeekFrom};
        let path = self.path(name)?;
        let what = format!("reading {name}");
        blocking(move || {
            let run = || -> std::io::Result<Vec<u8>> {
                let mut f = std::fs::File::open(&path)?;
                f.seek(SeekFrom::Start(range.start))?;
                let len = usize::try_from(range.end.saturating_sub(range.start))
                    .map_err(std::io::Error::other)?;
                let mut buf = vec![0; len];
                f.read_exact(&mut buf)?;
                Ok(buf)
            };
            run().map(Bytes::from).map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => {
                    RepoError::corrupted(format!("{what}: object is truncated"))
                }
                _ => io_error(&what, e),
            })
        })
        .await
    }

    async fn get_ranges(&self, name: &str, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        use std::os::unix::fs::FileExt;
        let path = self.path(name)?;
        let what = format!("reading {name}");
        let ranges = ranges.to_vec();
        // One open and one hop to the blocking pool for all the ranges, not one per blob.
        blocking(move || {
            let run = || -> std::io::Result<Vec<Bytes>> {
                let f = std::fs::File::open(&path)?;
                let mut out = Vec::with_capacity(ranges.len());
                for r in &ranges {
                    let len = usize::try_from(r.end.saturating_sub(r.start))
                        .map_err(std::io::Error::other)?;
                    let mut buf = vec![0; len];
                    f.read_exact_at(&mut buf, r.start)?;
                    out.push(Bytes::from(buf));
                }
                Ok(out)
            };
            run().map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => {
                    RepoError::corrupted(format!("{what}: object is truncated"))
                }
                _ => io_error(&what, e),
            })
        })
        .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        let root = self.root.clone();
        let prefix = prefix.to_string();
        blocking(move || list_dir(&root, &prefix)).await
    }

    async fn delete(&self, name: &str) -> Result<()> {
        let path = self.path(name)?;
        let what = format!("deleting {name}");
        blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(&what, e)),
        })
        .await
    }

    async fn capacity(&self) -> Result<Option<Capacity>> {
        let root = self.root.clone();
        blocking(move || Ok(fs_capacity(&root))).await
    }

    async fn stage(&self, _size_hint: usize) -> Result<Box<dyn Staged>> {
        let root = self.root.clone();
        let what = format!("writing in {}", self.root.display());
        let (tmp, file) = blocking(move || new_tmp(&root).map_err(|e| io_error(&what, e))).await?;
        Ok(Box::new(LocalStaged {
            root: self.root.clone(),
            tmp,
            file: Some(file),
            failed: None,
        }))
    }

    async fn remove_stale_temporaries(&self, older_than: std::time::Duration) -> Result<u64> {
        let dir = self.root.join(TMP_DIR);
        blocking(move || remove_stale(&dir, older_than)).await
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

/// std has no `statvfs` and the workspace forbids `unsafe`, so ask POSIX `df` (one process per
/// call; this is only called when the v6 API shows a repository). `None` when unavailable.
fn fs_capacity(root: &Path) -> Option<Capacity> {
    let out = std::process::Command::new("df")
        .arg("-P")
        .arg("-B1")
        .arg(root)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let line = text.lines().nth(1)?;
    let cols: Vec<&str> = line.split_whitespace().collect();
    Some(Capacity {
        capacity_bytes: cols.get(1)?.parse().ok()?,
        free_bytes: cols.get(3)?.parse().ok()?,
    })
}
