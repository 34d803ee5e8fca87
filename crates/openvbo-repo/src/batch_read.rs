//! Reading many blobs at once (a restore of many items, a big file): instead of one request,
//! one open file and one task hand-off per blob, the wanted blobs are taken in windows of a
//! few MiB, each window's blobs are sorted by (pack, offset), blobs of one pack that are near
//! each other are read in one range (one open file per pack on disk, coalesced ranged GETs on
//! S3), a few jobs per window decrypt and decompress on the CPU pool, and the plaintext comes
//! out in the caller's order. Memory: at most `WINDOWS_AHEAD` windows fetched ahead of the one
//! being consumed.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};

use crate::error::{ErrorKind, RepoError, Result};
use crate::ids::ChunkId;
use crate::index::Loc;
use crate::pack::decode_blob;
use crate::repo::Repository;

/// Bytes (plaintext or sealed, whichever is larger) of the distinct blobs of one window.
const WINDOW_BYTES: u64 = 8 << 20;
/// Blobs per window (small items: bounds the bookkeeping, not the bytes).
const WINDOW_BLOBS: usize = 2048;
/// Blobs of one pack closer than this are read as one range (reading the gap costs less
/// than another read). Small: the gap is someone else's data (concurrent writers
/// interleave their blobs in a pack), read and thrown away, and it is not counted in the
/// window's budget; 256 KiB tripled a restore's peak memory (measured).
const MAX_GAP: u64 = 16 << 10;
/// Windows fetched and decoded while the caller consumes the current one.
const WINDOWS_AHEAD: usize = 2;
/// Plaintext per decode job on the CPU pool: a handful of hand-offs per window.
const JOB_BYTES: u64 = 1 << 20;
/// Packs of one window read concurrently (S3 latency; on disk the blocking pool).
const PACKS_AT_ONCE: usize = 4;

/// One window: distinct blobs, the caller's order as indices into them, and the error (a
/// chunk the index does not know) that ends the stream after them.
struct Window {
    blobs: Vec<(ChunkId, Loc, u32)>,
    order: Vec<usize>,
    names: HashMap<u32, String>,
    then: Option<RepoError>,
}

impl Repository {
    /// The plaintext of each of `ids`, in that order (an id may repeat), read per pack
    /// rather than per blob. Ends after the first error.
    pub fn read_chunks(&self, ids: Vec<ChunkId>) -> BoxStream<'static, Result<Bytes>> {
        let repo = self.clone();
        let plans = stream::unfold((repo.clone(), ids, 0usize), |(repo, ids, pos)| async move {
            if pos >= ids.len() {
                return None;
            }
            let (window, next) = match repo.plan_window(&ids, pos) {
                Ok(w) => w,
                Err(e) => return Some((Err(e), (repo, ids, usize::MAX))),
            };
            let next = if window.then.is_some() {
                usize::MAX
            } else {
                next
            };
            Some((Ok(window), (repo, ids, next)))
        });
        plans
            .map(move |w| {
                let repo = repo.clone();
                async move {
                    match w {
                        Ok(w) => repo.fetch_window(w).await,
                        Err(e) => vec![Err(e)],
                    }
                }
            })
            .buffered(WINDOWS_AHEAD)
            .flat_map(stream::iter)
            .scan(false, |failed, r| {
                // Stop after the first error, as a sequential read would.
                let out = if *failed { None } else { Some(r) };
                *failed |= out.as_ref().is_some_and(|r| r.is_err());
                futures::future::ready(out)
            })
            .boxed()
    }

    fn plan_window(&self, ids: &[ChunkId], start: usize) -> Result<(Window, usize)> {
        let idx = self.lock_index()?;
        let mut w = Window {
            blobs: Vec::new(),
            order: Vec::new(),
            names: HashMap::new(),
            then: None,
        };
        let mut seen: HashMap<ChunkId, usize> = HashMap::new();
        let mut bytes = 0u64;
        let mut pos = start;
        for id in ids.iter().skip(start) {
            if let Some(&i) = seen.get(id) {
                w.order.push(i);
                pos += 1;
                continue;
            }
            let Some(loc) = idx.get_for_read(id) else {
                w.then = Some(RepoError::corrupted(format!(
                    "chunk {id} is not in the index (missing data)"
                )));
                break;
            };
            let size = u64::from(loc.raw_len.max(loc.len));
            if !w.order.is_empty() && (bytes + size > WINDOW_BYTES || w.blobs.len() >= WINDOW_BLOBS)
            {
                break;
            }
            bytes += size;
            w.names
                .entry(loc.pack)
                .or_insert_with(|| idx.pack_name(loc.pack).to_string());
            seen.insert(*id, w.blobs.len());
            w.order.push(w.blobs.len());
            w.blobs.push((*id, loc, loc.pack));
            pos += 1;
        }
        Ok((w, pos))
    }

    /// Reads and decodes one window; returns its plaintexts in the caller's order (then its
    /// error, if any).
    async fn fetch_window(&self, w: Window) -> Vec<Result<Bytes>> {
        let mut per_pack: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, (_, loc, _)) in w.blobs.iter().enumerate() {
            per_pack.entry(loc.pack).or_default().push(i);
        }
        let reads = per_pack.into_iter().map(|(pack, mut members)| {
            members.sort_by_key(|&i| w.blobs.get(i).map(|b| b.1.offset));
            let name = w.names.get(&pack).cloned().unwrap_or_default();
            self.read_pack_blobs(name, members, &w.blobs)
        });
        let fetched: Vec<Result<Vec<(usize, Bytes, String)>>> = stream::iter(reads)
            .buffer_unordered(PACKS_AT_ONCE)
            .collect()
            .await;
        let mut sealed: Vec<Option<(Bytes, String)>> = vec![None; w.blobs.len()];
        for r in fetched {
            match r {
                Ok(v) => {
                    for (i, b, name) in v {
                        if let Some(slot) = sealed.get_mut(i) {
                            *slot = Some((b, name));
                        }
                    }
                }
                Err(e) => return vec![Err(e)],
            }
        }
        let plain = self.decode_all(&w.blobs, sealed).await;
        let mut out = Vec::with_capacity(w.order.len() + 1);
        for i in w.order {
            match plain.get(i) {
                Some(Ok(b)) => out.push(Ok(b.clone())),
                Some(Err(e)) => {
                    out.push(Err(RepoError::new(e.kind(), e.message().to_string())));
                    return out;
                }
                None => {
                    out.push(Err(RepoError::new(ErrorKind::Storage, "blob read lost")));
                    return out;
                }
            }
        }
        if let Some(e) = w.then {
            out.push(Err(e));
        }
        out
    }

    /// The sealed bytes of `members` (indices into `blobs`, sorted by offset) of one pack,
    /// with blobs near each other read as one range.
    async fn read_pack_blobs(
        &self,
        name: String,
        members: Vec<usize>,
        blobs: &[(ChunkId, Loc, u32)],
    ) -> Result<Vec<(usize, Bytes, String)>> {
        let mut ranges: Vec<(Range<u64>, Vec<usize>)> = Vec::new();
        for &i in &members {
            let Some((_, loc, _)) = blobs.get(i) else {
                continue;
            };
            let (start, end) = (
                u64::from(loc.offset),
                u64::from(loc.offset) + u64::from(loc.len),
            );
            match ranges.last_mut() {
                Some((r, m)) if start <= r.end + MAX_GAP && start >= r.start => {
                    r.end = r.end.max(end);
                    m.push(i);
                }
                _ => ranges.push((start..end, vec![i])),
            }
        }
        let wanted: Vec<Range<u64>> = ranges.iter().map(|(r, _)| r.clone()).collect();
        self.inner
            .counters
            .gets
            .fetch_add(wanted.len() as u64, Ordering::Relaxed);
        let got = self
            .inner
            .backend
            .get_ranges(&name, &wanted)
            .await
            .map_err(|e| {
                if e.kind() == ErrorKind::NotFound {
                    let first = members
                        .first()
                        .and_then(|&i| blobs.get(i))
                        .map(|b| b.0.to_string())
                        .unwrap_or_default();
                    RepoError::corrupted(format!("pack {name} holding chunk {first} is missing"))
                } else {
                    e
                }
            })?;
        let mut out = Vec::with_capacity(members.len());
        for ((r, m), bytes) in ranges.iter().zip(got) {
            for &i in m {
                let Some((_, loc, _)) = blobs.get(i) else {
                    continue;
                };
                let from = usize::try_from(u64::from(loc.offset) - r.start).unwrap_or(usize::MAX);
                let to = from.saturating_add(loc.len as usize);
                if to > bytes.len() {
                    return Err(RepoError::corrupted(format!("{name}: object is truncated")));
                }
                out.push((i, bytes.slice(from..to), name.clone()));
            }
        }
        Ok(out)
    }

    /// Decrypts, decompresses and verifies every blob, a few jobs of about `JOB_BYTES`
    /// each on the CPU pool (tiny windows on the calling task).
    async fn decode_all(
        &self,
        blobs: &[(ChunkId, Loc, u32)],
        sealed: Vec<Option<(Bytes, String)>>,
    ) -> Vec<Result<Bytes>> {
        type Job = Vec<(ChunkId, Loc, Option<(Bytes, String)>)>;
        let mut jobs: Vec<Job> = Vec::new();
        let mut cur: Job = Vec::new();
        let mut cur_bytes = 0u64;
        for ((id, loc, _), s) in blobs.iter().zip(sealed) {
            cur_bytes += u64::from(loc.raw_len);
            cur.push((*id, *loc, s));
            if cur_bytes >= JOB_BYTES {
                jobs.push(std::mem::take(&mut cur));
                cur_bytes = 0;
            }
        }
        if !cur.is_empty() {
            jobs.push(cur);
        }
        let decode = |repo: &Repository, job: Job| -> Vec<Result<Bytes>> {
            job.into_iter()
                .map(|(id, loc, s)| {
                    let Some((bytes, pack)) = s else {
                        return Err(RepoError::new(ErrorKind::Storage, "blob read lost"));
                    };
                    decode_blob(&repo.inner.keys, &id, loc.kind, &bytes, loc.raw_len).map_err(|e| {
                        RepoError::corrupted(format!("{} (in pack {pack})", e.message()))
                    })
                })
                .collect()
        };
        if jobs.len() <= 1 {
            return jobs.into_iter().flat_map(|j| decode(self, j)).collect();
        }
        let runs = jobs.into_iter().map(|job| {
            let repo = self.clone();
            let n = job.len();
            async move { (n, crate::cpu::run(move || decode(&repo, job)).await) }
        });
        let mut out = Vec::with_capacity(blobs.len());
        for (n, r) in futures::future::join_all(runs).await {
            match r {
                Some(v) => out.extend(v),
                // Keep one result per blob so the indices stay aligned.
                None => out.extend((0..n).map(|_| {
                    Err(RepoError::new(
                        ErrorKind::Storage,
                        "blob decoding task failed",
                    ))
                })),
            }
        }
        out
    }
}
