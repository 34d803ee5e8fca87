//! Packs: many sealed blobs in one object, so a GiB of new data is a few dozen PUTs.
//!
//! Layout: `blob₁ ‖ … ‖ blobₙ ‖ sealed header ‖ header length (u32 LE)`. Each blob is sealed
//! on its own (so a restore reads one blob with a ranged GET and a repack copies it without
//! re-encrypting); the header lists every blob so the index can be rebuilt from packs alone.
//! The object's name is the BLAKE3 of its bytes, so anyone can verify a pack without the key.

use std::collections::HashSet;

use bytes::Bytes;

use crate::backend::{Backend, Staged};
use crate::crypto::RepoKeys;
use crate::error::{ErrorKind, RepoError, Result};
use crate::ids::ChunkId;

/// What a blob holds: file/message data, or tree (folder and item metadata) chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum BlobKind {
    Data = 0,
    Tree = 1,
}

impl BlobKind {
    pub(crate) fn from_u8(b: u8) -> Result<Self> {
        match b {
            0 => Ok(BlobKind::Data),
            1 => Ok(BlobKind::Tree),
            _ => Err(RepoError::corrupted(format!("unknown blob kind {b}"))),
        }
    }

    /// Data and trees live in separate packs under separate prefixes: trees are small,
    /// read by every listing, and worth caching apart from bulk data.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            BlobKind::Data => "data",
            BlobKind::Tree => "meta",
        }
    }
}

/// One blob's place in its pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PackEntry {
    pub id: ChunkId,
    pub kind: BlobKind,
    pub offset: u32,
    pub len: u32,
    /// Plaintext length (before compression).
    pub raw_len: u32,
}

const ENTRY_LEN: usize = 32 + 1 + 4 + 4 + 4;
const HEADER_AD: &[u8] = b"openvbo pack header v1";

/// The object name of a pack whose bytes hash to `hash`.
pub(crate) fn pack_name(kind: BlobKind, hash: &[u8; 32]) -> String {
    let h = hex::encode(hash);
    let fanout = h.get(..2).unwrap_or_default();
    format!("{}/{fanout}/{h}", kind.prefix())
}

/// Associated data binding a blob's ciphertext to its id and kind, so blobs cannot be swapped.
pub(crate) fn blob_ad(id: &ChunkId, kind: BlobKind) -> [u8; 33] {
    let mut ad = [kind as u8; 33];
    let (head, _) = ad.split_at_mut(32);
    head.copy_from_slice(&id.0);
    ad
}

/// Compresses when it pays: data that does not shrink by at least 1/32 is stored as is
/// (and a 64 KiB probe at level 1 spares the full attempt on big incompressible chunks).
pub(crate) fn encode_blob(keys: &RepoKeys, id: &ChunkId, kind: BlobKind, plain: &[u8]) -> Vec<u8> {
    let mut payload: Vec<u8> = Vec::with_capacity(plain.len() + 1);
    let worth_trying = plain.len() >= 64
        && (plain.len() <= 128 * 1024 || {
            let probe = plain.get(..64 * 1024).unwrap_or(plain);
            compress(probe, 1).is_some_and(|z| z.len() < probe.len() * 15 / 16)
        });
    if worth_trying {
        if let Some(z) = compress(plain, 3) {
            if z.len() < plain.len() - plain.len() / 32 {
                payload.push(1);
                payload.extend_from_slice(&z);
            }
        }
    }
    if payload.is_empty() {
        payload.push(0);
        payload.extend_from_slice(plain);
    }
    keys.seal(&blob_ad(id, kind), &payload)
}

thread_local! {
    // One compression context per thread and level, reused: creating one per chunk costs
    // an allocation of about a megabyte each time.
    static COMPRESSORS: std::cell::RefCell<[Option<zstd::bulk::Compressor<'static>>; 2]> =
        const { std::cell::RefCell::new([None, None]) };
}

fn compress(data: &[u8], level: i32) -> Option<Vec<u8>> {
    COMPRESSORS.with(|c| {
        let mut c = c.borrow_mut();
        let [fast, normal] = &mut *c;
        let slot = if level == 1 { fast } else { normal };
        if slot.is_none() {
            *slot = zstd::bulk::Compressor::new(level).ok();
        }
        slot.as_mut().and_then(|z| z.compress(data).ok())
    })
}

/// Opens, decompresses and verifies a blob against its id.
pub(crate) fn decode_blob(
    keys: &RepoKeys,
    id: &ChunkId,
    kind: BlobKind,
    sealed: &[u8],
    raw_len: u32,
) -> Result<Bytes> {
    let payload = keys
        .open(&blob_ad(id, kind), sealed)
        .map_err(|_| RepoError::corrupted(format!("blob {id} failed authentication")))?;
    let plain = match payload.split_first() {
        Some((0, rest)) => rest.to_vec(),
        Some((1, rest)) => zstd::bulk::decompress(rest, raw_len as usize).map_err(|e| {
            RepoError::with_source(
                ErrorKind::Corrupted,
                format!("blob {id} does not decompress"),
                e,
            )
        })?,
        _ => {
            return Err(RepoError::corrupted(format!(
                "blob {id} has an unknown encoding"
            )))
        }
    };
    if plain.len() != raw_len as usize || keys.chunk_id(&plain) != *id {
        return Err(RepoError::corrupted(format!(
            "blob {id} does not match its id"
        )));
    }
    Ok(Bytes::from(plain))
}

/// Bytes a pack builder gathers before handing them to storage: small blobs (messages)
/// cost one write per MiB instead of one per blob, and this, not the pack size, bounds the
/// memory of a pack being written to a backend that streams (the local directory).
pub(crate) const WRITE_BUF: usize = 1024 * 1024;

/// A pack being filled: blobs stream to a staged object of the backend as they arrive, and
/// its name (the hash of its bytes) is computed on the way.
pub(crate) struct PackBuilder {
    kind: BlobKind,
    staged: Option<Box<dyn Staged>>,
    pending: Vec<u8>,
    /// Bytes of blobs so far (the next blob's offset).
    len: usize,
    hasher: blake3::Hasher,
    entries: Vec<PackEntry>,
    ids: HashSet<ChunkId>,
    /// The most bytes this builder and its staged object held in memory at once.
    peak: usize,
}

/// A sealed pack whose bytes are all handed to storage; `staged.finish` makes it durable.
pub(crate) struct FinishedPack {
    pub name: String,
    pub size: u64,
    pub entries: Vec<PackEntry>,
    pub staged: Box<dyn Staged>,
}

impl PackBuilder {
    pub(crate) fn new(kind: BlobKind) -> Self {
        Self {
            kind,
            staged: None,
            pending: Vec::new(),
            len: 0,
            hasher: blake3::Hasher::new(),
            entries: Vec::new(),
            ids: HashSet::new(),
            peak: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn contains(&self, id: &ChunkId) -> bool {
        self.ids.contains(id)
    }

    pub(crate) fn peak(&self) -> usize {
        self.peak
    }

    /// Empties the builder after a failure, returning the ids it held (now lost).
    pub(crate) fn discard(&mut self) -> Vec<ChunkId> {
        let ids = self.entries.drain(..).map(|e| e.id).collect();
        self.ids.clear();
        self.staged = None;
        self.pending = Vec::new();
        self.len = 0;
        self.hasher = blake3::Hasher::new();
        ids
    }

    async fn write_pending(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let Some(staged) = self.staged.as_mut() else {
            return Err(RepoError::new(
                ErrorKind::Storage,
                "pack has no staged object",
            ));
        };
        let chunk = std::mem::replace(&mut self.pending, Vec::with_capacity(WRITE_BUF));
        staged.write(Bytes::from(chunk)).await
    }

    fn note_peak(&mut self, transient: usize) {
        let held =
            self.pending.len().max(transient) + self.staged.as_ref().map_or(0, |s| s.buffered());
        self.peak = self.peak.max(held);
    }

    /// Adds a blob of `kind` (a data pack may also hold a backup's tree blobs). An error
    /// means the pack is broken: the caller must `discard` it.
    pub(crate) async fn add(
        &mut self,
        backend: &dyn Backend,
        (id, kind): (ChunkId, BlobKind),
        sealed: &[u8],
        raw_len: u32,
        target: usize,
    ) -> Result<()> {
        if self.ids.contains(&id) {
            return Ok(());
        }
        let offset =
            u32::try_from(self.len).map_err(|_| RepoError::invalid("pack grew past 4 GiB"))?;
        let len = u32::try_from(sealed.len()).map_err(|_| RepoError::invalid("blob too large"))?;
        if self.staged.is_none() {
            self.staged = Some(backend.stage(target.max(sealed.len()) + 64 * 1024).await?);
            self.pending = Vec::with_capacity(WRITE_BUF);
        }
        self.hasher.update(sealed);
        if self.pending.len() + sealed.len() > WRITE_BUF {
            self.write_pending().await?;
        }
        if sealed.len() >= WRITE_BUF {
            // A big chunk goes straight through (one copy, released when written).
            self.note_peak(sealed.len());
            if let Some(staged) = self.staged.as_mut() {
                staged.write(Bytes::copy_from_slice(sealed)).await?;
            }
        } else {
            self.pending.extend_from_slice(sealed);
            self.note_peak(0);
        }
        self.len += sealed.len();
        self.entries.push(PackEntry {
            id,
            kind,
            offset,
            len,
            raw_len,
        });
        self.ids.insert(id);
        Ok(())
    }

    /// Seals the header, hands the last bytes to storage and names the pack, leaving the
    /// builder empty. An error means the pack is broken: the caller must `discard` it.
    pub(crate) async fn finish(&mut self, keys: &RepoKeys) -> Result<FinishedPack> {
        let mut header = Vec::with_capacity(self.entries.len() * ENTRY_LEN);
        for e in &self.entries {
            header.extend_from_slice(&e.id.0);
            header.push(e.kind as u8);
            header.extend_from_slice(&e.offset.to_le_bytes());
            header.extend_from_slice(&e.len.to_le_bytes());
            header.extend_from_slice(&e.raw_len.to_le_bytes());
        }
        let sealed = keys.seal(HEADER_AD, &header);
        let mut tail = sealed;
        tail.extend_from_slice(&(tail.len() as u32).to_le_bytes());
        self.hasher.update(&tail);
        self.pending.extend_from_slice(&tail);
        self.note_peak(0);
        self.write_pending().await?;
        let Some(staged) = self.staged.take() else {
            return Err(RepoError::new(
                ErrorKind::Storage,
                "pack has no staged object",
            ));
        };
        let hash = std::mem::replace(&mut self.hasher, blake3::Hasher::new()).finalize();
        let size = (self.len + tail.len()) as u64;
        self.len = 0;
        self.pending = Vec::new();
        self.ids.clear();
        Ok(FinishedPack {
            name: pack_name(self.kind, hash.as_bytes()),
            size,
            entries: std::mem::take(&mut self.entries),
            staged,
        })
    }
}

/// Reads the header of a whole pack (`check --read-data`, index rebuild, prune).
pub(crate) fn parse_pack(keys: &RepoKeys, name: &str, bytes: &[u8]) -> Result<Vec<PackEntry>> {
    let bad = |what: &str| RepoError::corrupted(format!("pack {name}: {what}"));
    let (body, len) = bytes
        .split_last_chunk::<4>()
        .ok_or_else(|| bad("truncated"))?;
    let hlen = u32::from_le_bytes(*len) as usize;
    let (blobs, sealed) = body
        .len()
        .checked_sub(hlen)
        .map(|at| body.split_at(at))
        .ok_or_else(|| bad("truncated (header length beyond the object)"))?;
    let header = keys
        .open(HEADER_AD, sealed)
        .map_err(|_| bad("header failed authentication"))?;
    if header.len() % ENTRY_LEN != 0 {
        return Err(bad("header has a partial entry"));
    }
    let mut out = Vec::with_capacity(header.len() / ENTRY_LEN);
    for e in header.chunks_exact(ENTRY_LEN) {
        let partial = || bad("header has a partial entry");
        let mut c = Fields(e);
        let entry = PackEntry {
            id: ChunkId(c.array().ok_or_else(partial)?),
            kind: BlobKind::from_u8(u8::from_le_bytes(c.array().ok_or_else(partial)?))?,
            offset: u32::from_le_bytes(c.array().ok_or_else(partial)?),
            len: u32::from_le_bytes(c.array().ok_or_else(partial)?),
            raw_len: u32::from_le_bytes(c.array().ok_or_else(partial)?),
        };
        if entry.offset as usize + entry.len as usize > blobs.len() {
            return Err(bad("an entry points past the blobs"));
        }
        out.push(entry);
    }
    Ok(out)
}

/// Reads fixed-size little-endian fields off the front of a header entry.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (a, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*a)
    }
}
