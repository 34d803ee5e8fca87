//! Writing one restore point of one resource. Items stream in; their content is chunked,
//! deduplicated against the whole repository, compressed, sealed and packed; their entries
//! go into tree blobs. Checkpoints commit what is written so far (resumable); the final
//! commit carries over the unchanged part of the previous point without reading its data.

use std::collections::HashSet;
use std::pin::Pin;

use bytes::Bytes;
use futures::stream::FuturesOrdered;
use futures::StreamExt;
use tokio::io::AsyncRead;

use crate::chunker::ChunkStream;
use crate::error::{ErrorKind, RepoError, Result};
use crate::ids::{ChunkId, ResourceRef, RestorePointId};
use crate::model::{FolderEntry, ItemEntry, PartEntry, RestorePoint, TreeEntry, WriteStats};
use crate::pack::{encode_blob, BlobKind};
use crate::repo::Repository;
use crate::session::Session;

/// Tree blobs are cut at about this much JSON.
const TREE_BLOB: usize = 256 * 1024;
/// Chunks encoded concurrently per writer (the machine has 2 cores).
const IN_FLIGHT: usize = 3;
/// Chunks up to this size are encoded on the calling task.
const INLINE_CHUNK: usize = 256 * 1024;

/// An item as the backup engine hands it in.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub folder: String,
    pub id: String,
    pub change_key: String,
    /// Last modification, Unix seconds.
    pub modified: i64,
    pub metadata: serde_json::Value,
}

/// One stream of an item: `"mime"` for a message, `"content"` for a file, or an attachment
/// the engine split out (attachments over 64 KiB, so they deduplicate across mailboxes).
pub struct Part<'a> {
    pub name: String,
    pub reader: Pin<Box<dyn AsyncRead + Send + 'a>>,
}

impl<'a> Part<'a> {
    pub fn new(name: impl Into<String>, reader: impl AsyncRead + Send + 'a) -> Self {
        Self {
            name: name.into(),
            reader: Box::pin(reader),
        }
    }

    pub fn bytes(name: impl Into<String>, data: impl Into<Bytes>) -> Part<'static> {
        let b: Bytes = data.into();
        Part {
            name: name.into(),
            reader: Box::pin(std::io::Cursor::new(b)),
        }
    }
}

pub struct ResourceWriter {
    repo: Repository,
    resource: ResourceRef,
    base: Option<RestorePoint>,
    time_ms: i64,
    session: Session,
    tree: Vec<ChunkId>,
    buf: Vec<u8>,
    /// Ids written or deleted in this run: they replace or drop the base's entries.
    touched: HashSet<String>,
    deleted: Vec<String>,
    /// (id, change key) of items already stored by this run (also across a resume).
    stored: HashSet<[u8; 16]>,
    stats: WriteStats,
    item_count: u64,
    item_bytes: u64,
    last_checkpoint: Option<RestorePointId>,
    /// The repository's lost-pack epoch when this writer started (see `commit_record`).
    epoch: u64,
}

fn stored_key(repo: &Repository, id: &str, change_key: &str) -> [u8; 16] {
    let h = repo.inner.keys.name_for(&[id, change_key]);
    let mut out = [0u8; 16];
    let _ = hex::decode_to_slice(&h, &mut out);
    out
}

fn b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

impl Repository {
    /// Opens a writer for one backup of `resource`, on top of `base` (the previous
    /// restore point of the same resource, for an incremental) or from scratch.
    pub async fn writer(
        &self,
        resource: ResourceRef,
        base: Option<&RestorePoint>,
    ) -> Result<ResourceWriter> {
        if let Some(b) = base {
            if b.resource != resource || !b.complete {
                return Err(RepoError::invalid(
                    "the base must be a complete restore point of the same resource",
                ));
            }
        }
        let epoch = self.lost_epoch();
        let session = self.start_session().await?;
        // After registering: maintenance either sees our session or we see its consolidation.
        self.refresh_index().await?;
        Ok(ResourceWriter {
            repo: self.clone(),
            resource,
            base: base.cloned(),
            time_ms: self.now_ms(),
            session,
            tree: Vec::new(),
            buf: Vec::new(),
            touched: HashSet::new(),
            deleted: Vec::new(),
            stored: HashSet::new(),
            stats: WriteStats::default(),
            item_count: 0,
            item_bytes: 0,
            last_checkpoint: None,
            epoch,
        })
    }

    /// Resumes an interrupted backup from its last checkpoint: what it stored is kept, and
    /// [`ResourceWriter::already_stored`] tells the engine which items to skip.
    pub async fn resume(&self, checkpoint: &RestorePoint) -> Result<ResourceWriter> {
        if checkpoint.complete {
            return Err(RepoError::invalid(
                "that restore point is complete, not a checkpoint",
            ));
        }
        let base = match &checkpoint.base {
            Some(id) => Some(self.read_point(id).await?),
            None => None,
        };
        let mut w = self.writer(checkpoint.resource.clone(), None).await?;
        w.base = base;
        w.time_ms = checkpoint.time_ms;
        w.tree = checkpoint.tree.clone();
        w.deleted = checkpoint.deleted.clone();
        w.touched.extend(checkpoint.deleted.iter().cloned());
        w.stats = checkpoint.stats.clone();
        w.last_checkpoint = Some(checkpoint.id.clone());
        for blob in &checkpoint.tree {
            for e in self.read_tree_blob(blob).await? {
                if let TreeEntry::Item(i) = &e {
                    w.stored.insert(stored_key(self, &i.id, &i.change_key));
                    w.item_count += 1;
                    w.item_bytes += i.size;
                }
                w.touched.insert(e.id().to_string());
            }
        }
        Ok(w)
    }
}

impl ResourceWriter {
    pub fn resource(&self) -> &ResourceRef {
        &self.resource
    }

    pub fn stats(&self) -> &WriteStats {
        &self.stats
    }

    /// True when this run (or the run it resumes) already stored this item version.
    pub fn already_stored(&self, id: &str, change_key: &str) -> bool {
        self.stored
            .contains(&stored_key(&self.repo, id, change_key))
    }

    pub async fn put_folder(&mut self, folder: FolderEntry) -> Result<()> {
        self.touched.insert(folder.id.clone());
        self.stats.folders += 1;
        self.push_entry(&TreeEntry::Folder(folder)).await
    }

    /// Records that an item or folder of the base no longer exists.
    pub fn delete(&mut self, id: &str) {
        self.touched.insert(id.to_string());
        self.deleted.push(id.to_string());
        self.stats.items_deleted += 1;
    }

    /// Stores one item. Content is read to the end of each part, chunk by chunk; memory is
    /// bounded by a few chunks whatever the item's size. Returns the stored entry.
    pub async fn put_item(&mut self, item: NewItem, parts: Vec<Part<'_>>) -> Result<ItemEntry> {
        let key = stored_key(&self.repo, &item.id, &item.change_key);
        let mut entry_parts = Vec::with_capacity(parts.len());
        let mut size = 0u64;
        for mut part in parts {
            let (chunks, n) = self.store_stream(&mut part.reader).await?;
            size += n;
            entry_parts.push(PartEntry {
                name: part.name,
                size: n,
                chunks,
            });
        }
        let entry = ItemEntry {
            folder: item.folder,
            id: item.id,
            change_key: item.change_key,
            modified: item.modified,
            size,
            parts: entry_parts,
            metadata: item.metadata,
        };
        self.touched.insert(entry.id.clone());
        self.stats.items_written += 1;
        self.item_count += 1;
        self.item_bytes += size;
        let e = TreeEntry::Item(entry);
        self.push_entry(&e).await?;
        self.stored.insert(key);
        match e {
            TreeEntry::Item(i) => Ok(i),
            TreeEntry::Folder(_) => Err(RepoError::invalid("unreachable")),
        }
    }

    async fn store_stream(
        &mut self,
        reader: &mut Pin<Box<dyn AsyncRead + Send + '_>>,
    ) -> Result<(Vec<ChunkId>, u64)> {
        let repo = self.repo.clone();
        let mut stream = ChunkStream::new(reader, &repo.inner.chunker);
        let mut ids = Vec::new();
        let mut total = 0u64;
        let mut inflight = FuturesOrdered::new();
        loop {
            let next = if inflight.len() < IN_FLIGHT {
                stream.next_chunk().await?
            } else {
                None
            };
            let done = next.is_none();
            if let Some(chunk) = next {
                total += chunk.len() as u64;
                if chunk.len() <= INLINE_CHUNK && inflight.is_empty() {
                    // Small content: encoding costs less than a hop to the blocking pool.
                    let (id, raw_len, sealed) = encode_chunk(&repo, chunk);
                    self.add_encoded(id, raw_len, sealed).await?;
                    ids.push(id);
                    continue;
                }
                let r = repo.clone();
                inflight.push_back(crate::cpu::run(move || encode_chunk(&r, chunk)));
            }
            if done || inflight.len() >= IN_FLIGHT {
                let Some(res) = inflight.next().await else {
                    break;
                };
                let (id, raw_len, sealed) = res.ok_or_else(|| {
                    RepoError::new(ErrorKind::Storage, "chunk encoding task failed")
                })?;
                self.add_encoded(id, raw_len, sealed).await?;
                ids.push(id);
            }
        }
        self.stats.bytes_read += total;
        Ok((ids, total))
    }

    async fn add_encoded(
        &mut self,
        id: ChunkId,
        raw_len: usize,
        sealed: Option<Vec<u8>>,
    ) -> Result<()> {
        let Some(sealed) = sealed else {
            self.stats.chunks_deduplicated += 1;
            return Ok(());
        };
        let raw = u32::try_from(raw_len).map_err(|_| RepoError::invalid("chunk too large"))?;
        if self.repo.add_blob(BlobKind::Data, id, &sealed, raw).await? {
            self.stats.chunks_new += 1;
            self.stats.bytes_new += raw_len as u64;
            self.stats.bytes_stored += sealed.len() as u64;
        } else {
            self.stats.chunks_deduplicated += 1;
        }
        Ok(())
    }

    async fn push_entry(&mut self, e: &TreeEntry) -> Result<()> {
        serde_json::to_writer(&mut self.buf, e).map_err(|err| {
            RepoError::with_source(ErrorKind::InvalidInput, "encoding entry", err)
        })?;
        self.buf.push(b'\n');
        if self.buf.len() >= TREE_BLOB {
            self.flush_tree().await?;
        }
        Ok(())
    }

    async fn flush_tree(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let plain = std::mem::take(&mut self.buf);
        let id = self.repo.store_tree_blob(plain).await?;
        self.tree.push(id);
        Ok(())
    }

    fn record(&self, complete: bool, tree: Vec<ChunkId>, delta_state: &[u8]) -> RestorePoint {
        RestorePoint {
            id: self.repo.new_point_id(&self.resource, self.time_ms),
            resource: self.resource.clone(),
            time_ms: self.time_ms,
            complete,
            base: self.base.as_ref().map(|b| b.id.clone()),
            tree,
            deleted: if complete {
                Vec::new()
            } else {
                self.deleted.clone()
            },
            delta_state: b64(delta_state),
            stats: self.stats.clone(),
            extra: serde_json::Value::Null,
            item_count: self.item_count,
            item_bytes: self.item_bytes,
            session: self.session.name.clone(),
        }
    }

    /// Commits what is stored so far as a checkpoint, with the engine's delta state as of
    /// now. A later [`Repository::resume`] continues from here.
    pub async fn checkpoint(&mut self, delta_state: &[u8]) -> Result<RestorePointId> {
        self.flush_tree().await?;
        let point = self.record(false, self.tree.clone(), delta_state);
        self.repo.commit_record(&point, self.epoch).await?;
        // The new checkpoint holds all the previous one held; only then drop the old record.
        if let Some(old) = self.last_checkpoint.replace(point.id.clone()) {
            self.repo.delete_record(&old).await?;
        }
        self.repo.refresh_session(&self.session).await?;
        Ok(point.id)
    }

    /// Commits the restore point: the base's untouched entries carried over (whole tree
    /// blobs by reference when none of their entries changed), then this run's entries.
    pub async fn commit(
        mut self,
        delta_state: &[u8],
        extra: serde_json::Value,
    ) -> Result<RestorePoint> {
        let committed = self.commit_point(delta_state, extra).await;
        // Failed or not, this writer is done: it leaves its session (a shared session must
        // not stay counted by a writer that is gone).
        let ended = self.repo.end_session(self.session).await;
        let point = committed?;
        ended?;
        Ok(point)
    }

    async fn commit_point(
        &mut self,
        delta_state: &[u8],
        extra: serde_json::Value,
    ) -> Result<RestorePoint> {
        self.flush_tree().await?;
        let mut tree = Vec::new();
        let mut carried_items = 0u64;
        let mut carried_bytes = 0u64;
        if let Some(base) = self.base.clone() {
            if self.touched.is_empty() {
                tree.extend(base.tree.iter().copied());
                carried_items = base.item_count;
                carried_bytes = base.item_bytes;
            } else {
                let deleted: HashSet<&str> = self.deleted.iter().map(String::as_str).collect();
                let mut out = Vec::new();
                for blob in &base.tree {
                    let entries = self.repo.read_tree_blob(blob).await?;
                    let keep: Vec<&TreeEntry> = entries
                        .iter()
                        .filter(|e| !self.touched.contains(e.id()))
                        .filter(|e| match e {
                            TreeEntry::Item(i) => !deleted.contains(i.folder.as_str()),
                            TreeEntry::Folder(_) => true,
                        })
                        .collect();
                    for e in &keep {
                        if let TreeEntry::Item(i) = e {
                            carried_items += 1;
                            carried_bytes += i.size;
                        }
                    }
                    if keep.len() == entries.len() {
                        tree.push(*blob);
                        continue;
                    }
                    for e in keep {
                        serde_json::to_writer(&mut out, e).map_err(|err| {
                            RepoError::with_source(ErrorKind::InvalidInput, "encoding entry", err)
                        })?;
                        out.push(b'\n');
                        if out.len() >= TREE_BLOB {
                            tree.push(self.repo.store_tree_blob(std::mem::take(&mut out)).await?);
                        }
                    }
                }
                if !out.is_empty() {
                    tree.push(self.repo.store_tree_blob(out).await?);
                }
            }
        }
        tree.extend(self.tree.iter().copied());
        self.stats.items_carried_over = carried_items;
        self.item_count += carried_items;
        self.item_bytes += carried_bytes;
        let mut point = self.record(true, tree, delta_state);
        point.extra = extra;
        self.repo.commit_record(&point, self.epoch).await?;
        if let Some(old) = self.last_checkpoint.take() {
            self.repo.delete_record(&old).await?;
        }
        Ok(point)
    }

    /// Gives up: the session ends; stored data stays until maintenance collects it (or a
    /// checkpoint of this run is resumed).
    pub async fn abort(self) -> Result<()> {
        self.repo.end_session(self.session).await
    }
}

/// Hash, then (only if new) compress and seal: runs on a blocking thread.
fn encode_chunk(repo: &Repository, chunk: Bytes) -> (ChunkId, usize, Option<Vec<u8>>) {
    let keys = &repo.inner.keys;
    let id = keys.chunk_id(&chunk);
    if repo.is_known(&id) {
        return (id, chunk.len(), None);
    }
    let sealed = encode_blob(keys, &id, BlobKind::Data, &chunk);
    (id, chunk.len(), Some(sealed))
}

impl Repository {
    pub(crate) async fn store_tree_blob(&self, plain: Vec<u8>) -> Result<ChunkId> {
        let keys = &self.inner.keys;
        let id = keys.chunk_id(&plain);
        if !self.is_known(&id) {
            let sealed = encode_blob(keys, &id, BlobKind::Tree, &plain);
            let raw = u32::try_from(plain.len())
                .map_err(|_| RepoError::invalid("tree blob too large"))?;
            self.add_blob(BlobKind::Tree, id, &sealed, raw).await?;
        }
        Ok(id)
    }
}
