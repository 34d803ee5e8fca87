//! The typed shapes of drive content: ids, items, changes, and the folder
//! map that rebuilds paths from parents (delta gives no paths).

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A drive id (`b!…`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DriveId(pub String);

/// An item id, unique within its drive.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ItemId(pub String);

impl fmt::Display for DriveId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The deltaLink that ends a round: where the next round resumes. Stored
/// with the restore point; opaque.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaLink(pub String);

impl fmt::Debug for DeltaLink {
    // The link is a capability to read the drive's changes: never logged whole.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeltaLink(…)")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DriveItemKind {
    Root,
    Folder {
        child_count: u64,
    },
    File {
        /// base64 quickXorHash, when Microsoft reports one.
        quick_xor_hash: Option<String>,
        mime_type: Option<String>,
    },
    /// OneNote notebooks and the like: stored as neither file nor folder.
    Package,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriveItem {
    pub id: ItemId,
    pub name: String,
    pub parent_id: Option<ItemId>,
    /// `Folder/Sub/name` from the drive root, rebuilt from the folder map;
    /// `None` when a parent has not been seen (yet).
    pub path: Option<String>,
    pub kind: DriveItemKind,
    pub size: u64,
    pub e_tag: Option<String>,
    pub c_tag: Option<String>,
    pub last_modified: Option<String>,
    pub created: Option<String>,
}

/// What a download can check the bytes against.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileFacts {
    pub size: Option<u64>,
    pub quick_xor_hash: Option<String>,
}

impl DriveItem {
    pub fn is_folder(&self) -> bool {
        matches!(
            self.kind,
            DriveItemKind::Root | DriveItemKind::Folder { .. }
        )
    }

    pub fn file_facts(&self) -> FileFacts {
        match &self.kind {
            DriveItemKind::File { quick_xor_hash, .. } => FileFacts {
                size: Some(self.size),
                quick_xor_hash: quick_xor_hash.clone(),
            },
            _ => FileFacts::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DriveChange {
    /// Created or changed (the latest state; an item may repeat in a round,
    /// the last one wins).
    Upsert(DriveItem),
    /// Deleted (with everything below it, for a folder).
    Deleted {
        id: ItemId,
        parent_id: Option<ItemId>,
    },
}

/// One page of a delta round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeltaPage {
    /// Microsoft no longer knew the token (410): what the caller knows of
    /// the drive is stale, and a full enumeration follows from this page on.
    pub reset: bool,
    pub changes: Vec<DriveChange>,
}

/// Folder id → (name, parent), to rebuild paths from parents. Holds folders
/// only, so it stays small; store it with the delta link.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderPaths {
    folders: HashMap<String, (String, Option<String>)>,
    root: Option<String>,
}

impl FolderPaths {
    pub fn clear(&mut self) {
        self.folders.clear();
        self.root = None;
    }

    pub fn len(&self) -> usize {
        self.folders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.folders.is_empty()
    }

    pub(crate) fn set_root(&mut self, id: &str) {
        self.root = Some(id.to_owned());
    }

    pub(crate) fn set_folder(&mut self, id: &str, name: &str, parent: Option<&str>) {
        self.folders
            .insert(id.to_owned(), (name.to_owned(), parent.map(str::to_owned)));
    }

    pub(crate) fn remove(&mut self, id: &str) {
        self.folders.remove(id);
    }

    /// The path of folder `id` from the root (`""` for the root), if every
    /// ancestor is known.
    pub fn folder_path(&self, id: &str) -> Option<String> {
        let mut names = Vec::new();
        let mut at = id.to_owned();
        // A cycle cannot come from Microsoft, but a corrupt stored map must
        // not hang a backup.
        for _ in 0..=self.folders.len() {
            if self.root.as_deref() == Some(at.as_str()) {
                names.reverse();
                return Some(names.join("/"));
            }
            let (name, parent) = self.folders.get(&at)?;
            names.push(name.clone());
            at = parent.clone()?;
        }
        None
    }

    /// The path of an item called `name` under `parent`.
    pub fn item_path(&self, parent: Option<&str>, name: &str) -> Option<String> {
        let parent = self.folder_path(parent?)?;
        Some(if parent.is_empty() {
            name.to_owned()
        } else {
            format!("{parent}/{name}")
        })
    }
}

/// What to do when the name is taken at the destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConflictBehavior {
    /// Refuse: `ErrorKind::Conflict`.
    Fail,
    Replace,
    /// Keep both: Microsoft picks a free name (`name 1.ext`).
    Rename,
}

impl ConflictBehavior {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictBehavior::Fail => "fail",
            ConflictBehavior::Replace => "replace",
            ConflictBehavior::Rename => "rename",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_come_from_parents() {
        let mut f = FolderPaths::default();
        f.set_root("r");
        f.set_folder("a", "Docs", Some("r"));
        f.set_folder("b", "Q3", Some("a"));
        assert_eq!(
            f.item_path(Some("b"), "plan.txt").as_deref(),
            Some("Docs/Q3/plan.txt")
        );
        assert_eq!(
            f.item_path(Some("r"), "top.txt").as_deref(),
            Some("top.txt")
        );
        assert_eq!(f.item_path(Some("zz"), "x").as_deref(), None);
        f.set_folder("a", "Docs", Some("b"));
        assert_eq!(f.folder_path("b"), None, "a cycle ends, unresolved");
    }
}
