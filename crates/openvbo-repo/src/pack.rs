//! Packs: many sealed blobs in one object, so a GiB of new data is a few dozen PUTs.
//!
//! Layout: `blob₁ ‖ … ‖ blobₙ ‖ sealed header ‖ header length (u32 LE)`. Each blob is sealed
//! on its own (so a restore reads one blob with a ranged GET and a repack copies it without
//! re-encrypting); the header lists every blob so the index can be rebuilt from packs alone.
//! The object's name is the BLAKE3 of its bytes, so anyone can verify a pack without the key.

use std::collections::HashSet;

use bytes::Bytes;

use crate::crypto::RepoKeys;
use crate::error::{ErrorKind, RepoError, Result};
use crate::ids::ChunkId;

/// What a blob holds: file/message data, or tree (folder and item metadata) chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlobKind {
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
    pub fn prefix(self) -> &'static str {
        match self {
            BlobKind::Data => "data",
            BlobKind::Tree => "meta",
        }
    }
}

/// One blob's place in its pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackEntry {
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
pub fn pack_name(kind: BlobKind, hash: &[u8; 32]) -> String {
    let h = hex::encode(hash);
    format!("{}/{}/{}", kind.prefix(), &h[..2], h)
}

/// Associated data binding a blob's ciphertext to its id and kind, so blobs cannot be swapped.
pub(crate) fn blob_ad(id: &ChunkId, kind: BlobKind) -> [u8; 33] {
    let mut ad = [0u8; 33];
    ad[..32].copy_from_slice(&id.0);
    ad[32] = kind as u8;
    ad
}

/// Compresses when it pays: data that does not shrink by at least 1/32 is stored as is
/// (and a 64 KiB probe at level 1 spares the full attempt on big incompressible chunks).
pub fn encode_blob(keys: &RepoKeys, id: &ChunkId, kind: BlobKind, plain: &[u8]) -> Vec<u8> {
    let mut payload: Vec<u8> = Vec::with_capacity(plain.len() + 1);
    let worth_trying = plain.len() >= 64
        && (plain.len() <= 128 * 1024 || {
            let probe = &plain[..64 * 1024];
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
    let slot = usize::from(level != 1);
    COMPRESSORS.with(|c| {
        let mut c = c.borrow_mut();
        if c[slot].is_none() {
            c[slot] = zstd::bulk::Compressor::new(level).ok();
        }
        c[slot].as_mut().and_then(|z| z.compress(data).ok())
    })
}

/// Opens, decompresses and verifies a blob against its id.
pub fn decode_blob(
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

/// A pack being filled in memory.
pub struct PackBuilder {
    kind: BlobKind,
    buf: Vec<u8>,
    entries: Vec<PackEntry>,
    ids: HashSet<ChunkId>,
}

impl PackBuilder {
    pub fn new(kind: BlobKind) -> Self {
        Self {
            kind,
            buf: Vec::new(),
            entries: Vec::new(),
            ids: HashSet::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn contains(&self, id: &ChunkId) -> bool {
        self.ids.contains(id)
    }

    pub fn add(&mut self, id: ChunkId, sealed: &[u8], raw_len: u32, target: usize) -> Result<()> {
        if self.ids.contains(&id) {
            return Ok(());
        }
        if self.buf.capacity() == 0 && self.kind == BlobKind::Data {
            // One exact allocation per pack: doubling growth would reserve up to twice the
            // pack size, which is most of the memory budget.
            self.buf.reserve_exact(target.max(sealed.len()) + 64 * 1024);
        }
        let offset = u32::try_from(self.buf.len())
            .map_err(|_| RepoError::invalid("pack grew past 4 GiB"))?;
        let len = u32::try_from(sealed.len()).map_err(|_| RepoError::invalid("blob too large"))?;
        self.buf.extend_from_slice(sealed);
        self.entries.push(PackEntry {
            id,
            kind: self.kind,
            offset,
            len,
            raw_len,
        });
        self.ids.insert(id);
        Ok(())
    }

    /// Seals the header and returns (name, bytes, entries), leaving the builder empty.
    pub fn finish(&mut self, keys: &RepoKeys) -> (String, Bytes, Vec<PackEntry>) {
        let mut header = Vec::with_capacity(self.entries.len() * ENTRY_LEN);
        for e in &self.entries {
            header.extend_from_slice(&e.id.0);
            header.push(e.kind as u8);
            header.extend_from_slice(&e.offset.to_le_bytes());
            header.extend_from_slice(&e.len.to_le_bytes());
            header.extend_from_slice(&e.raw_len.to_le_bytes());
        }
        let sealed = keys.seal(HEADER_AD, &header);
        let mut buf = std::mem::take(&mut self.buf);
        buf.extend_from_slice(&sealed);
        buf.extend_from_slice(&(sealed.len() as u32).to_le_bytes());
        let hash = blake3::hash(&buf);
        let entries = std::mem::take(&mut self.entries);
        self.ids.clear();
        (
            pack_name(self.kind, hash.as_bytes()),
            Bytes::from(buf),
            entries,
        )
    }
}

/// Reads the header of a whole pack (`check --read-data`, index rebuild, prune).
pub fn parse_pack(keys: &RepoKeys, name: &str, bytes: &[u8]) -> Result<Vec<PackEntry>> {
    let bad = |what: &str| RepoError::corrupted(format!("pack {name}: {what}"));
    if bytes.len() < 4 {
        return Err(bad("truncated"));
    }
    let (body, len) = bytes.split_at(bytes.len() - 4);
    let hlen = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    if hlen > body.len() {
        return Err(bad("truncated (header length beyond the object)"));
    }
    let (blobs, sealed) = body.split_at(body.len() - hlen);
    let header = keys
        .open(HEADER_AD, sealed)
        .map_err(|_| bad("header failed authentication"))?;
    if header.len() % ENTRY_LEN != 0 {
        return Err(bad("header has a partial entry"));
    }
    let mut out = Vec::with_capacity(header.len() / ENTRY_LEN);
    for e in header.chunks_exact(ENTRY_LEN) {
        let mut id = [0u8; 32];
        id.copy_from_slice(&e[..32]);
        let u = |i: usize| u32::from_le_bytes([e[i], e[i + 1], e[i + 2], e[i + 3]]);
        let entry = PackEntry {
            id: ChunkId(id),
            kind: BlobKind::from_u8(e[32])?,
            offset: u(33),
            len: u(37),
            raw_len: u(41),
        };
        if entry.offset as usize + entry.len as usize > blobs.len() {
            return Err(bad("an entry points past the blobs"));
        }
        out.push(entry);
    }
    Ok(out)
}
