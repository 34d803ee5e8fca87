//! Maintenance: retention (`forget`), then garbage collection and repacking (`prune`).
//!
//! Deletion is two-phase so a running backup never loses data: `prune` first *marks* packs
//! (unreferenced, or emptied by a repack) in `pending/<hash>` together with the writer
//! sessions alive at that moment, and drops them from the index so no new backup dedups
//! against them. A later `prune`, once `delete_delay` has passed and every one of those
//! sessions has ended, deletes the marked packs that are still unreferenced and no index
//! names, and puts the others back in the index ("rescue"). Readers still find blobs of
//! marked packs, so a point committed by such a session reads fine in between.
//! Only one maintenance runs at a time: it holds the `lease` object.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, RepoError, Result};
use crate::ids::{ChunkId, RestorePointId};
use crate::index::{PackBlobs, Segment};
use crate::model::{RestorePoint, TreeEntry};
use crate::pack::{parse_pack, BlobKind};
use crate::repo::{Repository, SESSIONS_PREFIX};

const MARKS_PREFIX: &str = "pending/";
const MARK_AD: &[u8] = b"openvbo deletion mark v1";
const LEASE: &str = "lease";

/// The repository's retention setting, as the v6 `BackupRepository` carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionRule {
    /// Keep restore points newer than `keep_ms`; always keep each resource's newest.
    SnapshotBased {
        keep_ms: i64,
    },
    /// Keep items modified within `keep_ms`, whatever the restore points.
    ItemLevel {
        keep_ms: i64,
    },
    KeepForever,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ForgetReport {
    pub removed: Vec<RestorePointId>,
    /// Points whose trees were rewritten without expired items (item-level).
    pub rewritten: Vec<RestorePointId>,
    pub items_removed: u64,
    pub kept: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PruneReport {
    pub packs_marked: u64,
    pub packs_deleted: u64,
    pub packs_rescued: u64,
    pub packs_repacked: u64,
    pub bytes_deleted: u64,
    pub segments_consolidated: u64,
    /// Marks still waiting for their delay or for running backups.
    pub marks_waiting: u64,
    /// Temporary files of writes a crash interrupted (see [`STALE_TEMPORARY`]).
    pub temporaries_removed: u64,
}

/// How long a temporary file must be untouched before prune removes it: a pack being written
/// is touched at least every MiB, so a day-old one belongs to a process that is gone.
pub const STALE_TEMPORARY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

#[derive(Serialize, Deserialize)]
struct MarkFile {
    marked_ms: i64,
    sessions: Vec<String>,
    segment: String,
}

pub(crate) struct Mark {
    pub marked_ms: i64,
    pub sessions: Vec<String>,
    pub packs: Vec<PackBlobs>,
}

#[derive(Serialize, Deserialize)]
struct Lease {
    holder: String,
    expires_ms: i64,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl Repository {
    pub(crate) async fn read_marks(&self) -> Result<Vec<(String, Mark)>> {
        use base64::Engine;
        let mut out = Vec::new();
        for o in self.inner.backend.list(MARKS_PREFIX).await? {
            let data = match self.get(&o.name).await {
                Ok(d) => d,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let f: MarkFile = self.inner.keys.open_json(MARK_AD, &data)?;
            let seg_bytes = b64()
                .decode(&f.segment)
                .map_err(|_| RepoError::corrupted(format!("{}: bad segment", o.name)))?;
            let seg = Segment::decode(&self.inner.keys, &o.name, &seg_bytes)?;
            out.push((
                o.name,
                Mark {
                    marked_ms: f.marked_ms,
                    sessions: f.sessions,
                    packs: seg.packs,
                },
            ));
        }
        Ok(out)
    }

    async fn acquire_lease(&self) -> Result<()> {
        let now = self.now_ms();
        let me = &self.inner.opts.holder;
        let lease = Lease {
            holder: me.clone(),
            expires_ms: now + self.inner.opts.session_ttl.as_millis() as i64,
        };
        let data = Bytes::from(
            serde_json::to_vec(&lease)
                .map_err(|e| RepoError::with_source(ErrorKind::Storage, "lease", e))?,
        );
        match self.put(LEASE, data.clone(), true).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                let cur: Option<Lease> = self
                    .get(LEASE)
                    .await
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok());
                match cur {
                    Some(l) if l.expires_ms > now && &l.holder != me => Err(RepoError::new(
                        ErrorKind::Locked,
                        format!("maintenance is already running (held by {:?})", l.holder),
                    )),
                    // Expired, ours, or unreadable: take it over.
                    _ => self.put(LEASE, data, false).await,
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn release_lease(&self) -> Result<()> {
        self.inner.backend.delete(LEASE).await
    }

    /// Applies a retention rule: removes (or, item-level, rewrites) restore points.
    pub async fn forget(&self, rule: &RetentionRule) -> Result<ForgetReport> {
        let now = self.now_ms();
        let mut rep = ForgetReport::default();
        let points = self.list_points(None).await?;
        let mut newest: HashMap<String, i64> = HashMap::new();
        for p in points.iter().filter(|p| p.complete) {
            let k = self.resource_key(&p.resource);
            let t = newest.entry(k).or_insert(p.time_ms);
            *t = (*t).max(p.time_ms);
        }
        for p in &points {
            let newest_t = newest.get(&self.resource_key(&p.resource)).copied();
            let is_newest = p.complete && newest_t == Some(p.time_ms);
            // A checkpoint older than a complete point of its resource can never be resumed.
            if !p.complete {
                if newest_t.is_some_and(|t| t >= p.time_ms) {
                    self.delete_record(&p.id).await?;
                    rep.removed.push(p.id.clone());
                } else {
                    rep.kept += 1;
                }
                continue;
            }
            match *rule {
                RetentionRule::KeepForever => rep.kept += 1,
                RetentionRule::SnapshotBased { keep_ms } => {
                    if is_newest || p.time_ms >= now - keep_ms {
                        rep.kept += 1;
                    } else {
                        self.delete_record(&p.id).await?;
                        rep.removed.push(p.id.clone());
                    }
                }
                RetentionRule::ItemLevel { keep_ms } => {
                    let cutoff_s = (now - keep_ms).div_euclid(1000);
                    let removed = self.rewrite_without_old_items(p, cutoff_s).await?;
                    if removed > 0 {
                        rep.items_removed += removed;
                        rep.rewritten.push(p.id.clone());
                    }
                    rep.kept += 1;
                }
            }
        }
        Ok(rep)
    }

    async fn rewrite_without_old_items(&self, p: &RestorePoint, cutoff_s: i64) -> Result<u64> {
        let epoch = self.lost_epoch();
        let mut tree = Vec::new();
        let mut out = Vec::new();
        let mut removed = 0u64;
        let (mut items, mut bytes) = (0u64, 0u64);
        for blob in &p.tree {
            let entries = self.read_tree_blob(blob).await?;
            let before = entries.len();
            let keep: Vec<TreeEntry> = entries
                .into_iter()
                .filter(|e| !matches!(e, TreeEntry::Item(i) if i.modified < cutoff_s))
                .collect();
            removed += (before - keep.len()) as u64;
            for e in &keep {
                if let TreeEntry::Item(i) = e {
                    items += 1;
                    bytes += i.size;
                }
            }
            if keep.len() == before {
                tree.push(*blob);
                continue;
            }
            for e in keep {
                serde_json::to_writer(&mut out, &e).map_err(|err| {
                    RepoError::with_source(ErrorKind::Storage, "encoding entry", err)
                })?;
                out.push(b'\n');
            }
            if out.len() >= 256 * 1024 {
                tree.push(self.store_tree_blob(std::mem::take(&mut out)).await?);
            }
        }
        if removed == 0 {
            return Ok(0);
        }
        if !out.is_empty() {
            tree.push(self.store_tree_blob(out).await?);
        }
        let mut np = p.clone();
        np.tree = tree;
        np.item_count = items;
        np.item_bytes = bytes;
        self.rewrite_record(&np, epoch).await?;
        Ok(removed)
    }

    /// Every blob any record (complete or checkpoint) references: tree blobs and data.
    async fn referenced(&self) -> Result<HashSet<ChunkId>> {
        let mut refs = HashSet::new();
        for p in self.list_points(None).await? {
            for t in &p.tree {
                if !refs.insert(*t) {
                    continue;
                }
                for e in self.read_tree_blob(t).await? {
                    if let TreeEntry::Item(i) = e {
                        refs.extend(i.parts.iter().flat_map(|p| p.chunks.iter().copied()));
                    }
                }
            }
        }
        Ok(refs)
    }

    async fn live_sessions(&self) -> Result<Vec<String>> {
        Ok(self
            .list_sessions()
            .await?
            .into_iter()
            .filter(|(_, i)| self.session_live(i))
            .map(|(n, _)| n)
            .collect())
    }

    /// Garbage collection: deletes what earlier marks allow, then marks what is unused now
    /// and repacks packs that are less than half used.
    pub async fn prune(&self) -> Result<PruneReport> {
        self.acquire_lease().await?;
        let r = self.prune_locked().await;
        let released = self.release_lease().await;
        let rep = r?;
        released?;
        Ok(rep)
    }

    async fn prune_locked(&self) -> Result<PruneReport> {
        let mut rep = PruneReport {
            temporaries_removed: self
                .inner
                .backend
                .remove_stale_temporaries(STALE_TEMPORARY)
                .await?,
            ..PruneReport::default()
        };
        // A repacked blob in a pack that is then lost must not have its old pack superseded.
        let epoch = self.lost_epoch();
        let now = self.now_ms();
        self.refresh_index().await?;
        let refs = self.referenced().await?;
        let live: HashSet<String> = self.live_sessions().await?.into_iter().collect();

        // Phase two of earlier marks.
        let marks = self.read_marks().await?;
        let mut still_marked: HashSet<String> = HashSet::new();
        let delay = self.inner.opts.delete_delay.as_millis() as i64;
        for (name, mark) in marks {
            let waiting =
                now < mark.marked_ms + delay || mark.sessions.iter().any(|s| live.contains(s));
            if waiting {
                rep.marks_waiting += 1;
                still_marked.extend(mark.packs.iter().map(|p| p.pack.clone()));
                continue;
            }
            let mut rescue = Vec::new();
            for p in mark.packs {
                let indexed = self.lock_index()?.has_pack(&p.pack);
                if indexed {
                    continue;
                }
                if p.entries.iter().any(|e| refs.contains(&e.id)) {
                    rescue.push(p);
                } else {
                    self.inner.backend.delete(&p.pack).await?;
                    rep.packs_deleted += 1;
                    rep.bytes_deleted += p.size;
                }
            }
            if !rescue.is_empty() {
                rep.packs_rescued += rescue.len() as u64;
                let seg = Segment {
                    supersedes: Vec::new(),
                    packs: rescue,
                };
                let (sname, bytes) = seg.encode(&self.inner.keys)?;
                self.put(&sname, bytes, false).await?;
            }
            self.inner.backend.delete(&name).await?;
        }
        self.refresh_index().await?;

        // Phase one: what is unused now, and what is worth repacking.
        let mut candidates: Vec<PackBlobs> = Vec::new();
        let mut repack: Vec<(String, Vec<crate::pack::PackEntry>)> = Vec::new();
        {
            let idx = self.lock_index()?;
            let mut per: HashMap<
                u32,
                (
                    u64,
                    Vec<crate::pack::PackEntry>,
                    Vec<crate::pack::PackEntry>,
                ),
            > = HashMap::new();
            for (id, l) in idx.iter() {
                let e = crate::pack::PackEntry {
                    id: *id,
                    kind: l.kind,
                    offset: l.offset,
                    len: l.len,
                    raw_len: l.raw_len,
                };
                let slot = per.entry(l.pack).or_default();
                if refs.contains(id) {
                    slot.0 += l.len as u64;
                    slot.1.push(e);
                } else {
                    slot.2.push(e);
                }
            }
            for (pack, (used, used_e, unused_e)) in per {
                let name = idx.pack_name(pack).to_string();
                let size = idx.pack_size(pack);
                let mut all = used_e.clone();
                all.extend(unused_e.iter().copied());
                if used == 0 {
                    candidates.push(PackBlobs {
                        pack: name,
                        size,
                        entries: all,
                    });
                } else if !unused_e.is_empty() && used * 2 < size {
                    repack.push((name.clone(), used_e));
                    candidates.push(PackBlobs {
                        pack: name,
                        size,
                        entries: all,
                    });
                }
            }
        }
        // Packs on storage that no index names (a crashed or still-running writer's).
        let indexed: HashSet<String> = self
            .lock_index()?
            .packs()
            .into_iter()
            .map(|(_, n, _)| n.to_string())
            .collect();
        for prefix in [BlobKind::Data.prefix(), BlobKind::Tree.prefix()] {
            for o in self.inner.backend.list(&format!("{prefix}/")).await? {
                if indexed.contains(&o.name) || still_marked.contains(&o.name) {
                    continue;
                }
                let bytes = self.get(&o.name).await?;
                let entries = parse_pack(&self.inner.keys, &o.name, &bytes).unwrap_or_default();
                candidates.push(PackBlobs {
                    pack: o.name,
                    size: o.size,
                    entries,
                });
            }
        }
        for (name, _) in &repack {
            self.lock_index_mut()?.retire(name);
        }
        for (name, used) in &repack {
            let bytes = self.get(name).await?;
            for e in used {
                let s = e.offset as usize;
                let Some(sealed) = bytes.get(s..s + e.len as usize) else {
                    return Err(RepoError::corrupted(format!(
                        "pack {name}: blob past the end"
                    )));
                };
                self.copy_blob(e.kind, e.id, sealed, e.raw_len).await?;
            }
            rep.packs_repacked += 1;
        }
        if candidates.is_empty() && repack.is_empty() && self.lock_index()?.loaded.len() <= 1 {
            self.delete_stale_sessions().await?;
            return Ok(rep);
        }

        // Consolidate: new packs indexed first, then one segment for everything kept.
        let _g = self.commit_guard().await;
        self.flush_and_index().await?;
        self.ensure_nothing_lost_since(epoch)?;
        let exclude: HashSet<String> = candidates.iter().map(|p| p.pack.clone()).collect();
        let seg = self.lock_index()?.to_segment(&exclude);
        let superseded = seg.supersedes.clone();
        let (name, bytes) = seg.encode(&self.inner.keys)?;
        self.put(&name, bytes, false).await?;
        rep.segments_consolidated = superseded.len() as u64;
        if !candidates.is_empty() {
            // Sessions listed *after* the consolidation: any later one cannot see the marked packs.
            let sessions = self.live_sessions().await?;
            let mark_seg = Segment {
                supersedes: Vec::new(),
                packs: candidates,
            };
            let (_, seg_bytes) = mark_seg.encode(&self.inner.keys)?;
            use base64::Engine;
            let f = MarkFile {
                marked_ms: now,
                sessions,
                segment: b64().encode(&seg_bytes),
            };
            let sealed = self.inner.keys.seal_json(MARK_AD, &f)?;
            let mname = format!(
                "{MARKS_PREFIX}{}",
                hex::encode(blake3::hash(&sealed).as_bytes())
            );
            self.put(&mname, Bytes::from(sealed), false).await?;
            rep.packs_marked = mark_seg.packs.len() as u64;
        }
        for s in superseded {
            if s != name {
                self.inner.backend.delete(&s).await?;
            }
        }
        drop(_g);
        self.refresh_index().await?;
        self.delete_stale_sessions().await?;
        Ok(rep)
    }

    async fn delete_stale_sessions(&self) -> Result<()> {
        for (name, info) in self.list_sessions().await? {
            if name.starts_with(SESSIONS_PREFIX) && info.is_some() && !self.session_live(&info) {
                self.inner.backend.delete(&name).await?;
            }
        }
        Ok(())
    }
}
