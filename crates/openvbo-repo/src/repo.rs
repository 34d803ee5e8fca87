//! The repository handle: keys, the in-memory index, the shared pack builders and the commit
//! sequence. One handle per process is meant to be shared (it is cheap to clone) by all the
//! resource writers of that process, so their small blobs fill the same packs.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::backend::DynBackend;
use crate::chunker::ChunkerParams;
use crate::clock::{Clock, SystemClock};
use crate::crypto::{KdfParams, KeyFile, KeyFileKind, RepoKeys, WrappingKey};
use crate::error::{ErrorKind, RepoError, Result};
use crate::ids::{ChunkId, ResourceRef, RestorePointId};
use crate::index::{Index, PackBlobs, Segment, PREFIX as INDEX_PREFIX};
use crate::model::RestorePoint;
use crate::pack::{decode_blob, BlobKind, PackBuilder, PackEntry};

pub(crate) const CONFIG: &str = "config";
pub(crate) const KEYS_PREFIX: &str = "keys/";
pub(crate) const POINTS_PREFIX: &str = "points/";
pub(crate) const SESSIONS_PREFIX: &str = "sessions/";
const RECORD_AD: &[u8] = b"openvbo restore point v1";

/// The one plaintext object: what this is and which version of the format.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepoConfig {
    pub format: String,
    pub version: u32,
    pub id: String,
    pub created_ms: i64,
}

/// Tuning and identity for a handle.
#[derive(Clone)]
pub struct RepoOptions {
    /// Data packs are uploaded when they reach this size (32 MiB: ≤ 32 PUTs per GiB).
    pub data_pack_size: usize,
    /// Tree packs are usually flushed by a commit long before this.
    pub tree_pack_size: usize,
    pub clock: Arc<dyn Clock>,
    /// Who writes: the server's id. A live writer session of another holder refuses ours.
    pub holder: String,
    /// A writer session not refreshed for this long is considered dead.
    pub session_ttl: Duration,
    /// How long a pack stays marked before maintenance may delete it.
    pub delete_delay: Duration,
}

impl Default for RepoOptions {
    fn default() -> Self {
        Self {
            data_pack_size: 32 * 1024 * 1024,
            tree_pack_size: 8 * 1024 * 1024,
            clock: Arc::new(SystemClock),
            holder: "openvbo".into(),
            session_ttl: Duration::from_secs(3600),
            delete_delay: Duration::from_secs(3600),
        }
    }
}

/// How to open a repository.
#[derive(Debug, Clone, Copy)]
pub enum Unlock<'a> {
    Master(&'a WrappingKey),
    Password(&'a str),
}

/// Request counters (benchmarks, tests of "few objects per incremental").
#[derive(Debug, Default)]
pub struct Counters {
    pub puts: AtomicU64,
    pub put_bytes: AtomicU64,
    pub gets: AtomicU64,
    /// The most bytes one pack builder (and its staged object) held in memory at once:
    /// about 1 MiB on a local directory whatever the pack size, the pack size on S3.
    pub pack_buffer_peak: AtomicU64,
}

/// The pack of one kind being filled, and the previous one finishing in the background.
/// Packs stream to storage as they fill, so a pack whose write fails cannot be retried from
/// memory: its blobs are *lost* (see [`Inner::lost`]) and every writer that may reference
/// them fails its commit, rather than a record ever naming data that is not stored.
struct Slot {
    builder: PackBuilder,
    /// The previous full pack, being made durable (fsync, rename or PUT) while this one
    /// fills (one at a time).
    uploading: Option<(Uploaded, tokio::task::JoinHandle<Result<()>>)>,
}

/// What the index needs of a pack once it is durable.
type Uploaded = (String, u64, Vec<PackEntry>);

pub(crate) struct Inner {
    pub(crate) backend: DynBackend,
    pub(crate) keys: RepoKeys,
    pub(crate) chunker: ChunkerParams,
    pub(crate) config: RepoConfig,
    pub(crate) opts: RepoOptions,
    pub(crate) index: RwLock<Index>,
    buffered: Mutex<HashSet<ChunkId>>,
    data: tokio::sync::Mutex<Slot>,
    tree: tokio::sync::Mutex<Slot>,
    unindexed: Mutex<Vec<PackBlobs>>,
    /// Bumped each time a pack's write failed and its blobs were dropped. A writer notes it
    /// when it starts and refuses to commit if it moved: it may reference those blobs.
    lost: AtomicU64,
    commit: tokio::sync::Mutex<()>,
    /// This process's writer sessions (see `session.rs`).
    pub(crate) sessions: tokio::sync::Mutex<crate::session::LocalSessions>,
    pub(crate) counters: Counters,
}

#[derive(Clone)]
pub struct Repository {
    pub(crate) inner: Arc<Inner>,
}

fn lock_err() -> RepoError {
    RepoError::new(ErrorKind::Storage, "internal lock poisoned")
}

impl Repository {
    /// Creates a repository on `backend`: the key files first, the config last, so a crash
    /// during init leaves no half-repository that `open` would accept.
    pub async fn init(
        backend: DynBackend,
        master: &WrappingKey,
        password: Option<&str>,
        opts: RepoOptions,
    ) -> Result<Self> {
        match backend.get(CONFIG).await {
            Ok(_) => {
                return Err(RepoError::new(
                    ErrorKind::AlreadyExists,
                    format!("{} is already a repository", backend.describe()),
                ))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let id = hex::encode(rand::random::<[u8; 16]>());
        let secret: [u8; 32] = rand::random();
        let config = RepoConfig {
            format: "openvbo-repository".into(),
            version: 1,
            id: id.clone(),
            created_ms: opts.clock.now_ms(),
        };
        write_key(
            &backend,
            "master",
            &KeyFile::wrap_master(&id, &secret, master),
        )
        .await?;
        if let Some(pw) = password {
            let kf = KeyFile::wrap_password(&id, &secret, pw, KdfParams::default())?;
            write_key(&backend, "password", &kf).await?;
        }
        let cfg = serde_json::to_vec_pretty(&config)
            .map_err(|e| RepoError::with_source(ErrorKind::Storage, "encoding config", e))?;
        backend.put(CONFIG, Bytes::from(cfg), true).await?;
        Ok(Self::from_parts(
            backend,
            config,
            &secret,
            opts,
            Index::default(),
        ))
    }

    /// Opens an existing repository with the master key or a password.
    pub async fn open(backend: DynBackend, unlock: Unlock<'_>, opts: RepoOptions) -> Result<Self> {
        let cfg = backend.get(CONFIG).await.map_err(|e| {
            if e.kind() == ErrorKind::NotFound {
                RepoError::new(
                    ErrorKind::NotFound,
                    format!("no repository at {}", backend.describe()),
                )
            } else {
                e
            }
        })?;
        let config: RepoConfig = serde_json::from_slice(&cfg)
            .map_err(|e| RepoError::with_source(ErrorKind::Corrupted, "config is not valid", e))?;
        if config.format != "openvbo-repository" || config.version != 1 {
            return Err(RepoError::new(
                ErrorKind::InvalidInput,
                format!(
                    "unsupported repository format {} v{}",
                    config.format, config.version
                ),
            ));
        }
        let (master, password) = match unlock {
            Unlock::Master(m) => (Some(m), None),
            Unlock::Password(p) => (None, Some(p)),
        };
        let mut secret = None;
        let mut last_err = None;
        for obj in backend.list(KEYS_PREFIX).await? {
            let data = backend.get(&obj.name).await?;
            let kf: KeyFile = serde_json::from_slice(&data).map_err(|e| {
                RepoError::with_source(
                    ErrorKind::Corrupted,
                    format!("{} is not valid", obj.name),
                    e,
                )
            })?;
            match kf.unwrap(&config.id, master, password) {
                Ok(Some(s)) => {
                    secret = Some(s);
                    break;
                }
                Ok(None) => {}
                Err(e) => last_err = Some(e),
            }
        }
        let Some(secret) = secret else {
            return Err(last_err.unwrap_or_else(|| {
                RepoError::new(
                    ErrorKind::WrongKey,
                    "no key of that kind in this repository",
                )
            }));
        };
        let repo = Self::from_parts(backend, config, &secret, opts, Index::default());
        repo.refresh_index().await?;
        Ok(repo)
    }

    fn from_parts(
        backend: DynBackend,
        config: RepoConfig,
        secret: &[u8; 32],
        opts: RepoOptions,
        index: Index,
    ) -> Self {
        let keys = RepoKeys::derive(secret);
        let chunker = ChunkerParams::new(keys.gear_seed);
        Self {
            inner: Arc::new(Inner {
                backend,
                keys,
                chunker,
                config,
                opts,
                index: RwLock::new(index),
                buffered: Mutex::new(HashSet::new()),
                data: tokio::sync::Mutex::new(Slot {
                    builder: PackBuilder::new(BlobKind::Data),
                    uploading: None,
                }),
                tree: tokio::sync::Mutex::new(Slot {
                    builder: PackBuilder::new(BlobKind::Tree),
                    uploading: None,
                }),
                unindexed: Mutex::new(Vec::new()),
                lost: AtomicU64::new(0),
                commit: tokio::sync::Mutex::new(()),
                sessions: tokio::sync::Mutex::default(),
                counters: Counters::default(),
            }),
        }
    }

    pub fn id(&self) -> &str {
        &self.inner.config.id
    }

    pub fn config(&self) -> &RepoConfig {
        &self.inner.config
    }

    pub fn backend(&self) -> &DynBackend {
        &self.inner.backend
    }

    pub fn options(&self) -> &RepoOptions {
        &self.inner.opts
    }

    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    pub fn now_ms(&self) -> i64 {
        self.inner.opts.clock.now_ms()
    }

    /// Adds (or replaces) the password-wrapped copy of the key, e.g. when an administrator
    /// turns on `objectStorageEncryptionEnabled` with an encryption key.
    pub async fn set_password(&self, master: &WrappingKey, password: &str) -> Result<()> {
        let secret = self.unwrap_secret(master).await?;
        let kf = KeyFile::wrap_password(self.id(), &secret, password, KdfParams::default())?;
        let data = serde_json::to_vec_pretty(&kf)
            .map_err(|e| RepoError::with_source(ErrorKind::Storage, "encoding key", e))?;
        self.put(&format!("{KEYS_PREFIX}password"), Bytes::from(data), false)
            .await
    }

    /// Re-wraps the key under a new master key (server master key rotation, or a
    /// repository opened by password on a new server).
    pub async fn set_master(&self, unlock: Unlock<'_>, new_master: &WrappingKey) -> Result<()> {
        let secret = self.secret_with(unlock).await?;
        let kf = KeyFile::wrap_master(self.id(), &secret, new_master);
        let data = serde_json::to_vec_pretty(&kf)
            .map_err(|e| RepoError::with_source(ErrorKind::Storage, "encoding key", e))?;
        self.put(&format!("{KEYS_PREFIX}master"), Bytes::from(data), false)
            .await
    }

    async fn unwrap_secret(&self, master: &WrappingKey) -> Result<[u8; 32]> {
        self.secret_with(Unlock::Master(master)).await
    }

    async fn secret_with(&self, unlock: Unlock<'_>) -> Result<[u8; 32]> {
        let (m, p) = match unlock {
            Unlock::Master(m) => (Some(m), None),
            Unlock::Password(p) => (None, Some(p)),
        };
        let want = if m.is_some() {
            KeyFileKind::Master
        } else {
            KeyFileKind::Password
        };
        for obj in self.inner.backend.list(KEYS_PREFIX).await? {
            let data = self.inner.backend.get(&obj.name).await?;
            let Ok(kf) = serde_json::from_slice::<KeyFile>(&data) else {
                continue;
            };
            if kf.kind != want {
                continue;
            }
            if let Some(s) = kf.unwrap(self.id(), m, p)? {
                return Ok(s);
            }
        }
        Err(RepoError::new(
            ErrorKind::WrongKey,
            "the key or password does not open this repository",
        ))
    }

    pub(crate) async fn put(&self, name: &str, data: Bytes, create_only: bool) -> Result<()> {
        self.inner.counters.puts.fetch_add(1, Ordering::Relaxed);
        self.inner
            .counters
            .put_bytes
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        self.inner.backend.put(name, data, create_only).await
    }

    pub(crate) async fn get(&self, name: &str) -> Result<Bytes> {
        self.inner.counters.gets.fetch_add(1, Ordering::Relaxed);
        self.inner.backend.get(name).await
    }

    /// Loads index segments written since the last load (by this or another process).
    pub async fn refresh_index(&self) -> Result<()> {
        self.refresh_segments().await?;
        let marks = self.read_marks().await?;
        let packs: Vec<PackBlobs> = marks.into_iter().flat_map(|(_, m)| m.packs).collect();
        self.lock_index_mut()?.set_marked(&packs);
        Ok(())
    }

    async fn refresh_segments(&self) -> Result<()> {
        let listed = self.inner.backend.list(INDEX_PREFIX).await?;
        let fresh: Vec<String> = {
            let idx = self.inner.index.read().map_err(|_| lock_err())?;
            listed
                .iter()
                .map(|o| o.name.clone())
                .filter(|n| !idx.loaded.contains(n))
                .collect()
        };
        if fresh.is_empty() {
            return Ok(());
        }
        let mut segs = Vec::new();
        let mut rebuild = false;
        for name in &fresh {
            let seg = self.read_segment(name).await?;
            rebuild |= !seg.supersedes.is_empty();
            segs.push((name.clone(), seg));
        }
        if rebuild {
            // A consolidation happened: rebuild from every listed segment, honouring it.
            let mut all = Vec::new();
            for o in &listed {
                match segs.iter().position(|(n, _)| n == &o.name) {
                    Some(i) => all.push(segs.swap_remove(i)),
                    None => match self.read_segment(&o.name).await {
                        Ok(s) => all.push((o.name.clone(), s)),
                        // Deleted by maintenance between list and get: superseded anyway.
                        Err(e) if e.kind() == ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    },
                }
            }
            let mut idx = Index::from_segments(all);
            idx.loaded.extend(listed.iter().map(|o| o.name.clone()));
            let pending = self.inner.unindexed.lock().map_err(|_| lock_err())?;
            for p in pending.iter() {
                idx.add_pack(p);
            }
            *self.inner.index.write().map_err(|_| lock_err())? = idx;
        } else {
            let mut idx = self.inner.index.write().map_err(|_| lock_err())?;
            for (name, seg) in segs {
                for p in &seg.packs {
                    idx.add_pack(p);
                }
                idx.loaded.insert(name);
            }
        }
        Ok(())
    }

    pub(crate) async fn read_segment(&self, name: &str) -> Result<Segment> {
        let data = self.get(name).await?;
        Segment::decode(&self.inner.keys, name, &data)
    }

    /// Whether a blob is already stored or buffered (so a writer may reference it).
    pub(crate) fn is_known(&self, id: &ChunkId) -> bool {
        let in_index = self
            .inner
            .index
            .read()
            .map(|i| i.contains(id))
            .unwrap_or(false);
        in_index
            || self
                .inner
                .buffered
                .lock()
                .map(|b| b.contains(id))
                .unwrap_or(false)
    }

    /// Adds a sealed blob to the shared pack of its kind; returns false if someone else
    /// stored the same id first. May upload a full pack.
    pub(crate) async fn add_blob(
        &self,
        kind: BlobKind,
        id: ChunkId,
        sealed: &[u8],
        raw_len: u32,
    ) -> Result<bool> {
        // A backup's tree blobs go into the data pack being filled, not a pack of their own:
        // a resource's commit then flushes one pack instead of two (a PUT less per resource
        // on object storage). Entries carry their kind, so readers do not care; repack
        // gathers trees into `meta/` packs (`copy_blob`).
        let (slot, target) = (&self.inner.data, self.inner.opts.data_pack_size);
        let mut slot = slot.lock().await;
        if self.is_known(&id) {
            return Ok(false);
        }
        self.add_to_slot(&mut slot, target, (id, kind), sealed, raw_len)
            .await?;
        Ok(true)
    }

    /// Repack: copies an already-sealed blob into a new pack even though the index knows it
    /// (its old pack is about to go). Sealed bytes are reused as is: no re-encryption.
    pub(crate) async fn copy_blob(
        &self,
        kind: BlobKind,
        id: ChunkId,
        sealed: &[u8],
        raw_len: u32,
    ) -> Result<()> {
        let (slot, target) = match kind {
            BlobKind::Data => (&self.inner.data, self.inner.opts.data_pack_size),
            BlobKind::Tree => (&self.inner.tree, self.inner.opts.tree_pack_size),
        };
        let mut slot = slot.lock().await;
        if slot.builder.contains(&id) {
            return Ok(());
        }
        self.add_to_slot(&mut slot, target, (id, kind), sealed, raw_len)
            .await
    }

    async fn add_to_slot(
        &self,
        slot: &mut Slot,
        target: usize,
        (id, kind): (ChunkId, BlobKind),
        sealed: &[u8],
        raw_len: u32,
    ) -> Result<()> {
        if !slot.builder.is_empty() && slot.builder.len() + sealed.len() > target {
            self.rotate_slot(slot).await?;
        }
        let added = slot
            .builder
            .add(
                self.inner.backend.as_ref(),
                (id, kind),
                sealed,
                raw_len,
                target,
            )
            .await;
        self.note_peak(&slot.builder);
        if let Err(e) = added {
            self.lose(slot.builder.discard())?;
            return Err(e);
        }
        self.inner
            .buffered
            .lock()
            .map_err(|_| lock_err())?
            .insert(id);
        Ok(())
    }

    fn note_peak(&self, b: &PackBuilder) {
        self.inner
            .counters
            .pack_buffer_peak
            .fetch_max(b.peak() as u64, Ordering::Relaxed);
    }

    /// The number of packs lost so far (see [`Inner::lost`]).
    pub(crate) fn lost_epoch(&self) -> u64 {
        self.inner.lost.load(Ordering::SeqCst)
    }

    /// Fails when a pack was lost since `epoch`: whoever started then may reference it.
    pub(crate) fn ensure_nothing_lost_since(&self, epoch: u64) -> Result<()> {
        if self.lost_epoch() == epoch {
            return Ok(());
        }
        Err(RepoError::new(
            ErrorKind::Storage,
            "a pack holding data of this backup could not be stored (see the earlier storage \
             error); nothing was committed, the next run stores it again",
        ))
    }

    /// Blobs of a pack that could not be stored: no longer known (so later writers store
    /// them again), and the epoch moves so writers that may reference them cannot commit.
    fn lose(&self, ids: Vec<ChunkId>) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        self.inner.lost.fetch_add(1, Ordering::SeqCst);
        let mut b = self.inner.buffered.lock().map_err(|_| lock_err())?;
        for id in &ids {
            b.remove(id);
        }
        Ok(())
    }

    /// Waits for the background upload, if any; a failed one loses its blobs.
    async fn finish_upload(&self, slot: &mut Slot) -> Result<()> {
        let Some((done, handle)) = slot.uploading.take() else {
            return Ok(());
        };
        let res = match handle.await {
            Ok(r) => r,
            Err(e) => Err(RepoError::with_source(
                ErrorKind::Storage,
                "pack upload task failed",
                e,
            )),
        };
        match res {
            Ok(()) => self.index_uploaded(done),
            Err(e) => {
                self.lose(done.2.iter().map(|e| e.id).collect())?;
                Err(e)
            }
        }
    }

    /// Seals the builder's pack (its bytes are all handed to storage then).
    async fn seal(&self, slot: &mut Slot) -> Result<Option<crate::pack::FinishedPack>> {
        if slot.builder.is_empty() {
            return Ok(None);
        }
        match slot.builder.finish(&self.inner.keys).await {
            Ok(p) => {
                self.note_peak(&slot.builder);
                Ok(Some(p))
            }
            Err(e) => {
                self.lose(slot.builder.discard())?;
                Err(e)
            }
        }
    }

    fn count_put(&self, size: u64) {
        self.inner.counters.puts.fetch_add(1, Ordering::Relaxed);
        self.inner
            .counters
            .put_bytes
            .fetch_add(size, Ordering::Relaxed);
    }

    /// A full pack: sealed and made durable in the background while the next one fills, so
    /// writers do not wait on its fsync or PUT; at most one is in flight per kind.
    async fn rotate_slot(&self, slot: &mut Slot) -> Result<()> {
        self.finish_upload(slot).await?;
        let Some(p) = self.seal(slot).await? else {
            return Ok(());
        };
        self.count_put(p.size);
        let backend = self.inner.backend.clone();
        let name = p.name.clone();
        let staged = p.staged;
        let handle = tokio::spawn(async move { staged.finish(backend.as_ref(), &name).await });
        slot.uploading = Some(((p.name, p.size, p.entries), handle));
        Ok(())
    }

    async fn flush_slot(&self, slot: &mut Slot) -> Result<()> {
        self.finish_upload(slot).await?;
        let Some(p) = self.seal(slot).await? else {
            return Ok(());
        };
        self.count_put(p.size);
        if let Err(e) = p.staged.finish(self.inner.backend.as_ref(), &p.name).await {
            self.lose(p.entries.iter().map(|e| e.id).collect())?;
            return Err(e);
        }
        self.index_uploaded((p.name, p.size, p.entries))
    }

    fn index_uploaded(&self, (name, size, entries): Uploaded) -> Result<()> {
        let blobs = PackBlobs {
            pack: name,
            size,
            entries,
        };
        // Into the index before out of `buffered`, so the id is never unknown in between.
        self.inner
            .index
            .write()
            .map_err(|_| lock_err())?
            .add_pack(&blobs);
        {
            let mut b = self.inner.buffered.lock().map_err(|_| lock_err())?;
            for e in &blobs.entries {
                b.remove(&e.id);
            }
        }
        self.inner
            .unindexed
            .lock()
            .map_err(|_| lock_err())?
            .push(blobs);
        Ok(())
    }

    /// Makes everything buffered durable and indexed: packs, then one index segment.
    pub(crate) async fn flush_and_index(&self) -> Result<()> {
        {
            let mut d = self.inner.data.lock().await;
            self.flush_slot(&mut d).await?;
        }
        {
            let mut t = self.inner.tree.lock().await;
            self.flush_slot(&mut t).await?;
        }
        let packs = std::mem::take(&mut *self.inner.unindexed.lock().map_err(|_| lock_err())?);
        if packs.is_empty() {
            return Ok(());
        }
        let seg = Segment {
            supersedes: Vec::new(),
            packs,
        };
        let (name, bytes) = seg.encode(&self.inner.keys)?;
        match self.put(&name, bytes, false).await {
            Ok(()) => {
                self.inner
                    .index
                    .write()
                    .map_err(|_| lock_err())?
                    .loaded
                    .insert(name);
                Ok(())
            }
            Err(e) => {
                let mut u = self.inner.unindexed.lock().map_err(|_| lock_err())?;
                u.extend(seg.packs);
                Err(e)
            }
        }
    }

    /// The commit sequence: data packs → tree packs → index segment → the record
    /// (create-only). A crash at any point leaves at most unreferenced packs or segments.
    /// `epoch` is [`Self::lost_epoch`] when the writer started: a pack lost since then may
    /// hold blobs the record references, so the record is refused.
    pub(crate) async fn commit_record(&self, point: &RestorePoint, epoch: u64) -> Result<()> {
        let _g = self.inner.commit.lock().await;
        self.flush_and_index().await?;
        self.ensure_nothing_lost_since(epoch)?;
        let sealed = self.inner.keys.seal_json(RECORD_AD, point)?;
        self.put(
            &format!("{POINTS_PREFIX}{}", point.id.0),
            Bytes::from(sealed),
            true,
        )
        .await
    }

    /// Replaces a record in place (item-level retention rewrites a point's tree; the id
    /// stays, the write is atomic on every backend).
    pub(crate) async fn rewrite_record(&self, point: &RestorePoint, epoch: u64) -> Result<()> {
        let _g = self.inner.commit.lock().await;
        self.flush_and_index().await?;
        self.ensure_nothing_lost_since(epoch)?;
        let sealed = self.inner.keys.seal_json(RECORD_AD, point)?;
        self.put(
            &format!("{POINTS_PREFIX}{}", point.id.0),
            Bytes::from(sealed),
            false,
        )
        .await
    }

    pub(crate) fn lock_index(&self) -> Result<std::sync::RwLockReadGuard<'_, Index>> {
        self.inner.index.read().map_err(|_| lock_err())
    }

    pub(crate) fn lock_index_mut(&self) -> Result<std::sync::RwLockWriteGuard<'_, Index>> {
        self.inner.index.write().map_err(|_| lock_err())
    }

    pub(crate) async fn commit_guard(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.commit.lock().await
    }

    pub(crate) async fn delete_record(&self, id: &RestorePointId) -> Result<()> {
        self.inner
            .backend
            .delete(&format!("{POINTS_PREFIX}{}", id.0))
            .await
    }

    /// A new record id for `resource` at `time_ms`: its keyed resource name, then the time,
    /// so a per-resource listing is one prefix and sorts by time.
    pub(crate) fn new_point_id(&self, resource: &ResourceRef, time_ms: i64) -> RestorePointId {
        RestorePointId(format!(
            "{}/{:016x}-{}",
            self.resource_key(resource),
            time_ms.max(0),
            hex::encode(rand::random::<[u8; 4]>())
        ))
    }

    pub(crate) fn resource_key(&self, r: &ResourceRef) -> String {
        self.inner
            .keys
            .name_for(&[&r.organization, &r.resource, &format!("{:?}", r.kind)])
    }

    pub(crate) fn decode_record(&self, id: RestorePointId, sealed: &[u8]) -> Result<RestorePoint> {
        let mut p: RestorePoint =
            self.inner.keys.open_json(RECORD_AD, sealed).map_err(|e| {
                RepoError::corrupted(format!("restore point {id}: {}", e.message()))
            })?;
        p.id = id;
        Ok(p)
    }

    /// Reads one blob by id (ranged GET of its pack), verified against the id.
    pub async fn read_blob(&self, id: &ChunkId) -> Result<Bytes> {
        let (loc, pack) = {
            let idx = self.inner.index.read().map_err(|_| lock_err())?;
            let loc = idx.get_for_read(id).ok_or_else(|| {
                RepoError::corrupted(format!("chunk {id} is not in the index (missing data)"))
            })?;
            (loc, idx.pack_name(loc.pack).to_string())
        };
        self.inner.counters.gets.fetch_add(1, Ordering::Relaxed);
        let sealed = self
            .inner
            .backend
            .get_range(&pack, loc.offset as u64..loc.offset as u64 + loc.len as u64)
            .await
            .map_err(|e| {
                if e.kind() == ErrorKind::NotFound {
                    RepoError::corrupted(format!("pack {pack} holding chunk {id} is missing"))
                } else {
                    e
                }
            })?;
        let keys = &self.inner.keys;
        decode_blob(keys, id, loc.kind, &sealed, loc.raw_len)
            .map_err(|e| RepoError::corrupted(format!("{} (in pack {pack})", e.message())))
    }
}

async fn write_key(backend: &DynBackend, name: &str, kf: &KeyFile) -> Result<()> {
    let data = serde_json::to_vec_pretty(kf)
        .map_err(|e| RepoError::with_source(ErrorKind::Storage, "encoding key", e))?;
    backend
        .put(&format!("{KEYS_PREFIX}{name}"), Bytes::from(data), true)
        .await
}
