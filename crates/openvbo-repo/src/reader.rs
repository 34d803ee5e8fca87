//! Reading: restore points, their trees, and item content as a stream of chunks (memory
//! bounded by one or two chunks whatever the item size). This is also the catalog rebuild:
//! `list_points(None)` then `entries(point)` for each yields every restore point and every
//! item's metadata from the repository alone.

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::error::{io_error, ErrorKind, RepoError, Result};
use crate::ids::{ChunkId, ResourceRef, RestorePointId};
use crate::model::{PartEntry, RestorePoint, TreeEntry};
use crate::repo::{Repository, POINTS_PREFIX};

impl Repository {
    /// Restore points (and checkpoints: `complete == false`), oldest first; all of them or
    /// one resource's. Unreadable records are errors, never skipped silently.
    pub async fn list_points(&self, resource: Option<&ResourceRef>) -> Result<Vec<RestorePoint>> {
        let prefix = match resource {
            Some(r) => format!("{POINTS_PREFIX}{}/", self.resource_key(r)),
            None => POINTS_PREFIX.to_string(),
        };
        let names = self.inner.backend.list(&prefix).await?;
        let mut out: Vec<RestorePoint> = stream::iter(names)
            .map(|o| async move {
                let id = RestorePointId(o.name.trim_start_matches(POINTS_PREFIX).to_string());
                match self.get(&o.name).await {
                    Ok(b) => self.decode_record(id, &b).map(Some),
                    // Deleted by maintenance between list and get.
                    Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .buffered(8)
            .try_filter_map(|p| async move { Ok(p) })
            .try_collect()
            .await?;
        out.sort_by(|a, b| (a.time_ms, &a.id).cmp(&(b.time_ms, &b.id)));
        Ok(out)
    }

    /// The newest complete restore point of a resource: the base for its next incremental.
    pub async fn latest_point(&self, resource: &ResourceRef) -> Result<Option<RestorePoint>> {
        Ok(self
            .list_points(Some(resource))
            .await?
            .into_iter()
            .rev()
            .find(|p| p.complete))
    }

    /// The checkpoint of an interrupted backup of `resource` newer than its latest complete
    /// point, if any: pass it to [`Repository::resume`].
    pub async fn pending_checkpoint(&self, resource: &ResourceRef) -> Result<Option<RestorePoint>> {
        let points = self.list_points(Some(resource)).await?;
        let last_complete = points
            .iter()
            .filter(|p| p.complete)
            .map(|p| p.time_ms)
            .max();
        Ok(points
            .into_iter()
            .rev()
            .find(|p| !p.complete && last_complete.is_none_or(|t| p.time_ms > t)))
    }

    pub async fn read_point(&self, id: &RestorePointId) -> Result<RestorePoint> {
        let b = self.get(&format!("{POINTS_PREFIX}{}", id.0)).await?;
        self.decode_record(id.clone(), &b)
    }

    pub(crate) async fn read_tree_blob(&self, id: &ChunkId) -> Result<Vec<TreeEntry>> {
        let plain = self.read_blob(id).await?;
        let mut out = Vec::new();
        for line in plain.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            out.push(serde_json::from_slice(line).map_err(|e| {
                RepoError::with_source(
                    ErrorKind::Corrupted,
                    format!("tree blob {id} is not valid"),
                    e,
                )
            })?);
        }
        Ok(out)
    }

    /// Every folder and item of a restore point, one tree blob in memory at a time.
    pub fn entries<'a>(&'a self, point: &'a RestorePoint) -> BoxStream<'a, Result<TreeEntry>> {
        stream::iter(point.tree.iter())
            .then(move |id| async move { self.read_tree_blob(id).await })
            .map_ok(|v| stream::iter(v.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// A part's content, chunk by chunk: read a few MiB at a time, per pack (see
    /// [`Repository::read_chunks`]), the next window fetched while one is consumed.
    pub fn read_part<'a>(&'a self, part: &'a PartEntry) -> BoxStream<'a, Result<bytes::Bytes>> {
        self.read_chunks(part.chunks.clone())
    }

    /// Copies a part's content into `out`; returns the bytes written.
    pub async fn write_part<W: AsyncWrite + Unpin>(
        &self,
        part: &PartEntry,
        out: &mut W,
    ) -> Result<u64> {
        let mut s = self.read_part(part);
        let mut n = 0u64;
        while let Some(chunk) = s.try_next().await? {
            out.write_all(&chunk)
                .await
                .map_err(|e| io_error("writing restored content", e))?;
            n += chunk.len() as u64;
        }
        out.flush()
            .await
            .map_err(|e| io_error("writing restored content", e))?;
        if n != part.size {
            return Err(RepoError::corrupted(format!(
                "part {:?} restored {n} bytes, expected {}",
                part.name, part.size
            )));
        }
        Ok(n)
    }
}
