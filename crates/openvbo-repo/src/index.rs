//! The index: which pack holds each blob. Written as append-only segments (`index/<hash>`),
//! one per commit; maintenance writes a consolidated segment that *supersedes* the ones it
//! read and then deletes them, so a reader that sees both simply ignores the superseded.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;

use crate::crypto::RepoKeys;
use crate::error::{RepoError, Result};
use crate::ids::ChunkId;
use crate::pack::{BlobKind, PackEntry};

const SEGMENT_AD: &[u8] = b"openvbo index segment v1";
const MAGIC: &[u8; 5] = b"OVIX1";
pub(crate) const PREFIX: &str = "index/";

/// Where a blob is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Loc {
    pub pack: u32,
    pub offset: u32,
    pub len: u32,
    pub raw_len: u32,
    pub kind: BlobKind,
}

/// The blobs of one pack, as a segment lists them.
#[derive(Debug, Clone)]
pub(crate) struct PackBlobs {
    pub pack: String,
    pub size: u64,
    pub entries: Vec<PackEntry>,
}

/// One decoded segment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Segment {
    pub supersedes: Vec<String>,
    pub packs: Vec<PackBlobs>,
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(RepoError::corrupted("index segment is truncated"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let (a, b) = self
            .0
            .split_first_chunk::<N>()
            .ok_or_else(|| RepoError::corrupted("index segment is truncated"))?;
        self.0 = b;
        Ok(*a)
    }
    fn u16(&mut self) -> Result<u16> {
        self.array().map(u16::from_le_bytes)
    }
    fn u32(&mut self) -> Result<u32> {
        self.array().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Result<u64> {
        self.array().map(u64::from_le_bytes)
    }
    fn string(&mut self) -> Result<String> {
        let n = self.u16()? as usize;
        String::from_utf8(self.take(n)?.to_vec())
            .map_err(|_| RepoError::corrupted("index segment has a bad name"))
    }
}

impl Segment {
    pub(crate) fn encode(&self, keys: &RepoKeys) -> Result<(String, Bytes)> {
        self.encode_with_prefix(keys, PREFIX)
    }

    pub(crate) fn encode_with_prefix(
        &self,
        keys: &RepoKeys,
        prefix: &str,
    ) -> Result<(String, Bytes)> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.supersedes.len() as u32).to_le_bytes());
        for s in &self.supersedes {
            put_str(&mut out, s);
        }
        out.extend_from_slice(&(self.packs.len() as u32).to_le_bytes());
        for p in &self.packs {
            put_str(&mut out, &p.pack);
            out.extend_from_slice(&p.size.to_le_bytes());
            out.extend_from_slice(&(p.entries.len() as u32).to_le_bytes());
            for e in &p.entries {
                out.extend_from_slice(&e.id.0);
                out.push(e.kind as u8);
                out.extend_from_slice(&e.offset.to_le_bytes());
                out.extend_from_slice(&e.len.to_le_bytes());
                out.extend_from_slice(&e.raw_len.to_le_bytes());
            }
        }
        let z = zstd::bulk::compress(&out, 3).map_err(|e| {
            RepoError::with_source(crate::ErrorKind::Storage, "compressing index", e)
        })?;
        let sealed = keys.seal(SEGMENT_AD, &z);
        let name = format!("{prefix}{}", hex::encode(blake3::hash(&sealed).as_bytes()));
        Ok((name, Bytes::from(sealed)))
    }

    pub(crate) fn decode(keys: &RepoKeys, name: &str, sealed: &[u8]) -> Result<Self> {
        let z = keys
            .open(SEGMENT_AD, sealed)
            .map_err(|_| RepoError::corrupted(format!("{name}: failed authentication")))?;
        let raw = zstd::stream::decode_all(&z[..]).map_err(|e| {
            RepoError::with_source(
                crate::ErrorKind::Corrupted,
                format!("{name}: does not decompress"),
                e,
            )
        })?;
        let mut c = Cursor(&raw);
        if c.take(5)? != MAGIC {
            return Err(RepoError::corrupted(format!(
                "{name}: not an index segment"
            )));
        }
        let mut seg = Segment::default();
        for _ in 0..c.u32()? {
            seg.supersedes.push(c.string()?);
        }
        for _ in 0..c.u32()? {
            let pack = c.string()?;
            let size = c.u64()?;
            let n = c.u32()? as usize;
            let mut entries = Vec::with_capacity(n.min(1 << 20));
            for _ in 0..n {
                let id = c.array::<32>()?;
                let [kind] = c.array::<1>()?;
                let kind = BlobKind::from_u8(kind)?;
                entries.push(PackEntry {
                    id: ChunkId(id),
                    kind,
                    offset: c.u32()?,
                    len: c.u32()?,
                    raw_len: c.u32()?,
                });
            }
            seg.packs.push(PackBlobs {
                pack,
                size,
                entries,
            });
        }
        Ok(seg)
    }
}

/// The in-memory index: a map from chunk id to location, plus the pack name table.
/// About 60 bytes per blob; with ~1 MiB data chunks and whole small items, that is well under
/// 64 MB for a repository of 1 M blobs.
#[derive(Debug, Default)]
pub(crate) struct Index {
    packs: Vec<String>,
    pack_sizes: Vec<u64>,
    pack_ids: HashMap<String, u32>,
    map: HashMap<ChunkId, Loc>,
    /// Segments whose entries are in `map`.
    pub(crate) loaded: HashSet<String>,
    /// Blobs of packs that maintenance marked for deletion: still readable (a backup that
    /// was running at the mark may reference them) but never offered for dedup.
    marked: HashMap<ChunkId, Loc>,
    /// Packs a repack is emptying: a new copy of one of their blobs takes over its entry.
    retiring: HashSet<u32>,
}

impl Index {
    pub(crate) fn get(&self, id: &ChunkId) -> Option<Loc> {
        self.map.get(id).copied()
    }

    /// For reading: the index, or else a pack marked for deletion that still exists.
    pub(crate) fn get_for_read(&self, id: &ChunkId) -> Option<Loc> {
        self.map.get(id).or_else(|| self.marked.get(id)).copied()
    }

    fn pack_no(&mut self, name: &str, size: u64) -> u32 {
        match self.pack_ids.get(name) {
            Some(p) => *p,
            None => {
                let p = self.packs.len() as u32;
                self.packs.push(name.to_string());
                self.pack_sizes.push(size);
                self.pack_ids.insert(name.to_string(), p);
                p
            }
        }
    }

    pub(crate) fn set_marked(&mut self, packs: &[PackBlobs]) {
        self.marked.clear();
        for b in packs {
            let pack = self.pack_no(&b.pack, b.size);
            for e in &b.entries {
                let loc = Loc {
                    pack,
                    offset: e.offset,
                    len: e.len,
                    raw_len: e.raw_len,
                    kind: e.kind,
                };
                self.marked.insert(e.id, loc);
            }
        }
    }

    pub(crate) fn retire(&mut self, name: &str) {
        if let Some(p) = self.pack_ids.get(name) {
            self.retiring.insert(*p);
        }
    }

    pub(crate) fn has_pack(&self, name: &str) -> bool {
        self.pack_ids
            .get(name)
            .is_some_and(|p| self.map.values().any(|l| l.pack == *p))
    }

    pub(crate) fn contains(&self, id: &ChunkId) -> bool {
        self.map.contains_key(id)
    }

    pub(crate) fn pack_name(&self, pack: u32) -> &str {
        self.packs
            .get(pack as usize)
            .map(String::as_str)
            .unwrap_or("")
    }

    pub(crate) fn pack_size(&self, pack: u32) -> u64 {
        self.pack_sizes.get(pack as usize).copied().unwrap_or(0)
    }

    /// Every pack the index names for at least one blob, with its recorded size.
    pub(crate) fn packs(&self) -> Vec<(u32, &str, u64)> {
        let live: HashSet<u32> = self.map.values().map(|l| l.pack).collect();
        self.packs
            .iter()
            .zip(&self.pack_sizes)
            .enumerate()
            .filter(|(i, _)| live.contains(&(*i as u32)))
            .map(|(i, (p, size))| (i as u32, p.as_str(), *size))
            .collect()
    }

    /// The index as one segment (maintenance's consolidation), without `exclude`d packs.
    pub(crate) fn to_segment(&self, exclude: &HashSet<String>) -> Segment {
        let mut per: HashMap<u32, Vec<PackEntry>> = HashMap::new();
        for (id, l) in &self.map {
            per.entry(l.pack).or_default().push(PackEntry {
                id: *id,
                kind: l.kind,
                offset: l.offset,
                len: l.len,
                raw_len: l.raw_len,
            });
        }
        let mut packs: Vec<PackBlobs> = per
            .into_iter()
            .filter(|(p, _)| !exclude.contains(self.pack_name(*p)))
            .map(|(p, mut entries)| {
                entries.sort_by_key(|e| e.offset);
                PackBlobs {
                    pack: self.pack_name(p).to_string(),
                    size: self.pack_size(p),
                    entries,
                }
            })
            .collect();
        packs.sort_by(|a, b| a.pack.cmp(&b.pack));
        let mut supersedes: Vec<String> = self.loaded.iter().cloned().collect();
        supersedes.sort();
        Segment { supersedes, packs }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&ChunkId, &Loc)> {
        self.map.iter()
    }

    pub(crate) fn add_pack(&mut self, blobs: &PackBlobs) {
        let pack = self.pack_no(&blobs.pack, blobs.size);
        for e in &blobs.entries {
            let loc = Loc {
                pack,
                offset: e.offset,
                len: e.len,
                raw_len: e.raw_len,
                kind: e.kind,
            };
            // First location wins (a duplicate from two writers racing is just garbage),
            // except over a pack being repacked away.
            match self.map.entry(e.id) {
                std::collections::hash_map::Entry::Occupied(mut o) => {
                    if self.retiring.contains(&o.get().pack) {
                        o.insert(loc);
                    }
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(loc);
                }
            }
        }
    }

    /// Builds an index from decoded segments, honouring `supersedes`.
    pub(crate) fn from_segments(segments: Vec<(String, Segment)>) -> Self {
        let superseded: HashSet<String> = segments
            .iter()
            .flat_map(|(_, s)| s.supersedes.iter().cloned())
            .collect();
        let mut idx = Index::default();
        for (name, seg) in segments {
            if superseded.contains(&name) {
                continue;
            }
            for p in &seg.packs {
                idx.add_pack(p);
            }
            idx.loaded.insert(name);
        }
        idx
    }
}
