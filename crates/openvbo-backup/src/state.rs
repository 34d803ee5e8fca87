//! The delta state a restore point keeps for the next run: per folder the
//! Graph token to continue from. Opaque to the repository (it stores bytes).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// A mailbox's delta state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxState {
    /// Folder id → the message delta token to continue from.
    #[serde(default)]
    pub folders: BTreeMap<String, String>,
    /// Digest of the folder tree as last stored: an unchanged tree is not
    /// written again (which would make the commit rewrite the base's tree).
    #[serde(default)]
    pub tree_digest: String,
    /// Folders whose last run left failed items: their token was not
    /// advanced, and items already in the base are skipped when re-listed.
    #[serde(default)]
    pub recheck: BTreeSet<String>,
    /// Folders that held no message at the end of the last run: while the
    /// folder listing still counts none in them, their delta is not asked
    /// (their token stays valid for when one arrives).
    #[serde(default)]
    pub empty: BTreeSet<String>,
}

/// A drive's delta state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveState {
    #[serde(default)]
    pub token: Option<String>,
    /// The last run left failed files: the token was not advanced, and
    /// files already in the base are skipped when listed again.
    #[serde(default)]
    pub recheck: bool,
    /// The drive root's item id: what is directly in it is stored under the
    /// resource's root folder (delta names the root only when it changes).
    #[serde(default)]
    pub root: Option<String>,
}

/// A OneDrive's delta state, with the drive it was read from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneDriveState {
    #[serde(default)]
    pub drive_id: String,
    #[serde(default, flatten)]
    pub drive: DriveState,
}

/// A site's delta state: per document library (by drive id) its drive's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteState {
    #[serde(default)]
    pub libraries: BTreeMap<String, DriveState>,
    /// Digest of the library list as last stored (see [`MailboxState`]).
    #[serde(default)]
    pub libraries_digest: String,
}

/// Reads a stored state; an unreadable or empty one means "from scratch"
/// (a full enumeration, which is always correct).
pub fn decode<T: Default + for<'de> Deserialize<'de>>(bytes: &[u8]) -> T {
    if bytes.is_empty() {
        return T::default();
    }
    serde_json::from_slice(bytes).unwrap_or_default()
}

pub fn encode<T: Serialize>(state: &T) -> Vec<u8> {
    serde_json::to_vec(state).unwrap_or_default()
}
