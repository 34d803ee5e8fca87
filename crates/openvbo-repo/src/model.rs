//! What restore points hold: folder and item entries (the "tree", stored as tree blobs of
//! JSON lines) and the record that names them together with the resource's delta state.

use serde::{Deserialize, Serialize};

use crate::ids::{ChunkId, ResourceRef, RestorePointId};

/// A folder (mail folder, drive folder, library) as the backup engine describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FolderEntry {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub metadata: serde_json::Value,
}

/// One stored stream of an item: the message's MIME, a file's bytes, an attachment split out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartEntry {
    pub name: String,
    pub size: u64,
    pub chunks: Vec<ChunkId>,
}

/// An item as stored: identity, change key, modification time, metadata and its parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemEntry {
    pub folder: String,
    pub id: String,
    pub change_key: String,
    /// Last modification, Unix seconds (ItemLevel retention reads it).
    pub modified: i64,
    pub size: u64,
    pub parts: Vec<PartEntry>,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub metadata: serde_json::Value,
}

/// A line of a tree blob.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub enum TreeEntry {
    Folder(FolderEntry),
    Item(ItemEntry),
}

impl TreeEntry {
    pub fn id(&self) -> &str {
        match self {
            TreeEntry::Folder(f) => &f.id,
            TreeEntry::Item(i) => &i.id,
        }
    }
}

/// Counters behind `RESTJobStatistics`, filled by the writer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteStats {
    pub items_written: u64,
    pub items_carried_over: u64,
    pub items_deleted: u64,
    pub folders: u64,
    /// Bytes of item content the caller handed in.
    pub bytes_read: u64,
    /// Plaintext bytes of chunks that were new to the repository.
    pub bytes_new: u64,
    /// Bytes of sealed blobs added to packs.
    pub bytes_stored: u64,
    pub chunks_new: u64,
    pub chunks_deduplicated: u64,
}

/// A restore-point record, `points/<resource key>/<time>-<random>`, sealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestorePoint {
    #[serde(skip)]
    pub id: RestorePointId,
    pub resource: ResourceRef,
    /// Unix milliseconds when the backup started.
    pub time_ms: i64,
    /// `false` for a checkpoint of a backup still running (or interrupted).
    pub complete: bool,
    /// The restore point this one was written on top of (incremental), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<RestorePointId>,
    /// Tree blobs, in order; together they hold every folder and item of this point.
    /// For a checkpoint, only what the running backup wrote so far.
    pub tree: Vec<ChunkId>,
    /// Ids deleted relative to `base` (kept only by checkpoints, to resume).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<String>,
    /// The resource's opaque delta state (Graph delta links, previous paths), base64.
    #[serde(default)]
    pub delta_state: String,
    pub stats: WriteStats,
    /// Free-form statistics the backup engine wants kept (duration, Graph calls…).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub extra: serde_json::Value,
    /// Number of items and total item bytes in this point.
    pub item_count: u64,
    pub item_bytes: u64,
    /// The writer session that wrote it (checkpoints of one session replace each other).
    pub session: String,
}

impl RestorePoint {
    pub fn delta_state_bytes(&self) -> Vec<u8> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(&self.delta_state)
            .unwrap_or_default()
    }
}
