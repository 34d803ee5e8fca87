//! A drive (a OneDrive or a document library) as one restore point holds it, read from the
//! repository: the snapshot the backup engine wrote (`openvbo-backup/src/drive.rs`).
//!
//! The engine stores every folder but the drive's root as a folder entry (its parent the Graph
//! id of its parent folder) and every file as an item in its folder, with the file's name and
//! size in the metadata and its bytes as the part `content`. The root itself is never stored:
//! a folder or file whose parent is not a stored folder is at the top level.
//!
//! A site's snapshot holds several drives: each document library is a top-level folder entry
//! (`kind: library`, its id the library's drive id) that is not itself a folder of the
//! library; what is directly in a library has that entry as its parent. Libraries are kept
//! apart from folders here, so a library's top level has no parent (as a OneDrive's does) and
//! folder paths start inside the library: the path a restore to the original place uses.
//! Every folder and file records its drive (`drive` in its metadata).
//!
//! Opening a snapshot reads the folder entries into a map (folders only, as the connector's
//! folder map does); files are streamed from the tree, so memory holds one tree blob and the
//! files an action takes. Saves and restores read the snapshot; browsing reads the catalog
//! (`drive_catalog.rs`), which does not walk the drive per page.

use std::collections::HashMap;

use futures::TryStreamExt;
use openvbo_core::backup::RestorePointId;
use openvbo_core::restore::ChosenResource;
use openvbo_core::CoreError;
use openvbo_repo::{ItemEntry, PartEntry, Repository, TreeEntry};

use crate::error::ApiError;
use crate::state::AppState;

/// The part holding a file's bytes.
pub(crate) const CONTENT: &str = "content";

/// A folder of the snapshot; `parent` is None at the top level.
#[derive(Clone, Debug)]
pub(crate) struct DriveFolder {
    pub id: String,
    pub parent: Option<String>,
    pub name: String,
    /// The drive (OneDrive or library) it belongs to, as backed up.
    pub drive: Option<String>,
}

/// A document library of a site's snapshot.
#[derive(Clone, Debug)]
pub(crate) struct DriveLibrary {
    /// The library's drive id.
    pub id: String,
    pub name: String,
    pub url: String,
}

/// Which part of the snapshot a walk covers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Within<'a> {
    All,
    /// A folder and everything below it.
    Folder(&'a str),
    /// One drive (a library) of the snapshot.
    Drive(&'a str),
}

/// A file of the snapshot.
#[derive(Clone, Debug)]
pub(crate) struct DriveFile {
    pub id: String,
    /// None at the top level.
    pub parent: Option<String>,
    pub name: String,
    pub size: u64,
    /// Unix seconds, as Microsoft last reported it.
    pub modified: i64,
    pub content: Option<PartEntry>,
    /// The drive (OneDrive or library) it belongs to, as backed up.
    pub drive: Option<String>,
}

/// One backed-up drive at one restore point.
pub(crate) struct DriveSnapshot {
    pub repo: Repository,
    point: openvbo_repo::RestorePoint,
    folders: HashMap<String, FolderNode>,
    /// A site's libraries, by name then id; none in a OneDrive.
    libraries: Vec<DriveLibrary>,
}

struct FolderNode {
    parent: String,
    name: String,
    drive: Option<String>,
}

/// The `drive` an entry's metadata records.
fn drive_in(metadata: &serde_json::Value) -> Option<String> {
    metadata
        .get("drive")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

fn repo_error(doing: &str, e: openvbo_repo::RepoError) -> ApiError {
    ApiError::Core(CoreError::Internal(format!("{doing}: {e}")))
}

/// The engine's point id, kept as the resource's record.
fn engine_point(chosen: &ChosenResource) -> Result<openvbo_repo::RestorePointId, ApiError> {
    let id = std::str::from_utf8(&chosen.resource.record)
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::Core(CoreError::Internal(format!(
                "the restore point of {} records no repository snapshot",
                chosen.resource.display_name
            )))
        })?;
    Ok(openvbo_repo::RestorePointId(id.to_owned()))
}

/// The repository holding `point`.
pub(crate) async fn repository_of(
    state: &AppState,
    point: RestorePointId,
) -> Result<Repository, ApiError> {
    let record = state
        .restore
        .store
        .get_restore_point(point)
        .await
        .map_err(CoreError::from)?
        .ok_or_else(|| ApiError::NotFound(format!("restore point {point} no longer exists")))?;
    let handle = state.repositories.engine(record.repository_id).await?;
    handle
        .as_any()
        .downcast_ref::<Repository>()
        .cloned()
        .ok_or_else(|| {
            ApiError::Core(CoreError::Internal(format!(
                "repository {} is not an openvbo repository",
                record.repository_id
            )))
        })
}

fn file_of(item: ItemEntry) -> Option<DriveFile> {
    let text = |key: &str| item.metadata.get(key).and_then(serde_json::Value::as_str);
    if text("kind") != Some("file") {
        return None;
    }
    let name = text("name").unwrap_or(&item.id).to_owned();
    let content = item.parts.into_iter().find(|p| p.name == CONTENT);
    Some(DriveFile {
        id: item.id,
        parent: Some(item.folder),
        name,
        size: item.size,
        modified: item.modified,
        content,
        drive: drive_in(&item.metadata),
    })
}

impl DriveSnapshot {
    /// Opens the snapshot the session shows for `chosen`.
    pub(crate) async fn open(state: &AppState, chosen: &ChosenResource) -> Result<Self, ApiError> {
        let repo = repository_of(state, chosen.point_id).await?;
        let point = repo
            .read_point(&engine_point(chosen)?)
            .await
            .map_err(|e| repo_error("reading the drive's restore point", e))?;
        let mut folders = HashMap::new();
        let mut libraries = Vec::new();
        {
            let mut entries = repo.entries(&point);
            while let Some(entry) = entries
                .try_next()
                .await
                .map_err(|e| repo_error("reading the drive's folders", e))?
            {
                let TreeEntry::Folder(f) = entry else {
                    continue;
                };
                let text = |key: &str| f.metadata.get(key).and_then(serde_json::Value::as_str);
                if f.parent.is_none() && text("kind") == Some("library") {
                    libraries.push(DriveLibrary {
                        url: text("url").unwrap_or_default().to_owned(),
                        id: f.id,
                        name: f.name,
                    });
                    continue;
                }
                folders.insert(
                    f.id,
                    FolderNode {
                        parent: f.parent.unwrap_or_default(),
                        name: f.name,
                        drive: drive_in(&f.metadata),
                    },
                );
            }
        }
        libraries
            .sort_by(|a, b| (a.name.to_lowercase(), &a.id).cmp(&(b.name.to_lowercase(), &b.id)));
        Ok(Self {
            repo,
            point,
            folders,
            libraries,
        })
    }

    /// A site's libraries (none for a OneDrive).
    pub(crate) fn libraries(&self) -> &[DriveLibrary] {
        &self.libraries
    }

    pub(crate) fn library(&self, id: &str) -> Option<&DriveLibrary> {
        let id = id.trim();
        self.libraries.iter().find(|l| l.id == id)
    }

    /// A library by id, or a 404 naming it.
    pub(crate) fn require_library(&self, id: &str) -> Result<&DriveLibrary, ApiError> {
        self.library(id).ok_or_else(|| {
            ApiError::NotFound(format!(
                "there is no document library '{}' in this backup of the site",
                crate::query::shorten(id)
            ))
        })
    }

    /// A stored parent id, or None when it is the (never stored) root.
    fn parent_of(&self, raw: &str) -> Option<String> {
        self.folders.contains_key(raw).then(|| raw.to_owned())
    }

    fn folder_view(&self, id: &str, node: &FolderNode) -> DriveFolder {
        DriveFolder {
            id: id.to_owned(),
            parent: self.parent_of(&node.parent),
            name: node.name.clone(),
            drive: node.drive.clone(),
        }
    }

    pub(crate) fn folder(&self, id: &str) -> Option<DriveFolder> {
        self.folders
            .get_key_value(id.trim())
            .map(|(id, node)| self.folder_view(id, node))
    }

    /// A folder by id, or a 404 naming it.
    pub(crate) fn require_folder(&self, id: &str) -> Result<DriveFolder, ApiError> {
        self.folder(id).ok_or_else(|| {
            ApiError::NotFound(format!(
                "there is no folder '{}' in this backup of the drive",
                crate::query::shorten(id)
            ))
        })
    }

    /// Folder names from the top level down to `id` (empty for the root).
    pub(crate) fn folder_path(&self, id: Option<&str>) -> Vec<String> {
        let mut names = Vec::new();
        let mut at = id.map(str::to_owned);
        // A cycle cannot come from Graph, but a damaged tree must not loop forever.
        let mut hops = 0;
        while let Some(current) = at {
            let Some(node) = self.folders.get(&current) else {
                break;
            };
            names.push(node.name.clone());
            at = self.parent_of(&node.parent);
            hops += 1;
            if hops > self.folders.len() {
                break;
            }
        }
        names.reverse();
        names
    }

    /// Whether `folder` is `ancestor` or below it.
    pub(crate) fn is_within(&self, folder: Option<&str>, ancestor: &str) -> bool {
        let mut at = folder.map(str::to_owned);
        let mut hops = 0;
        while let Some(current) = at {
            if current == ancestor {
                return true;
            }
            at = self
                .folders
                .get(&current)
                .and_then(|n| self.parent_of(&n.parent));
            hops += 1;
            if hops > self.folders.len() {
                return false;
            }
        }
        false
    }

    /// Whether a file or folder is in the part of the snapshot `within` names.
    fn covers(&self, within: Within<'_>, folder: Option<&str>, of_drive: Option<&str>) -> bool {
        match within {
            Within::All => true,
            Within::Folder(ancestor) => self.is_within(folder, ancestor),
            Within::Drive(drive) => of_drive == Some(drive),
        }
    }

    /// How many leading names of a folder path `within` takes off (so a folder's own name
    /// leads the paths below it).
    fn base_len(&self, within: Within<'_>) -> usize {
        match within {
            Within::Folder(id) => self.folder_path(Some(id)).len().saturating_sub(1),
            Within::All | Within::Drive(_) => 0,
        }
    }

    /// Every file, in tree order, with its parent normalised (None at the top level).
    pub(crate) fn files(&self) -> impl futures::Stream<Item = Result<DriveFile, ApiError>> + '_ {
        self.repo
            .entries(&self.point)
            .map_err(|e| repo_error("reading the drive's files", e))
            .try_filter_map(move |entry| async move {
                Ok(match entry {
                    TreeEntry::Item(item) => file_of(item).map(|mut f| {
                        f.parent = f.parent.as_deref().and_then(|p| self.parent_of(p));
                        f
                    }),
                    TreeEntry::Folder(_) => None,
                })
            })
    }

    /// The files with these ids, in the order asked; an unknown id is a 404 before anything
    /// is done.
    pub(crate) async fn documents_by_id(&self, ids: &[String]) -> Result<Vec<DriveFile>, ApiError> {
        let mut found: HashMap<&str, Option<DriveFile>> =
            ids.iter().map(|id| (id.trim(), None)).collect();
        let mut files = std::pin::pin!(self.files());
        while let Some(file) = files.try_next().await? {
            if let Some(slot) = found.get_mut(file.id.as_str()) {
                *slot = Some(file);
            }
        }
        ids.iter()
            .map(|id| {
                found
                    .get_mut(id.trim())
                    .and_then(Option::take)
                    .ok_or_else(|| {
                        ApiError::NotFound(format!(
                            "there is no document '{}' in this backup of the drive",
                            crate::query::shorten(id)
                        ))
                    })
            })
            .collect()
    }

    /// Every file `within` covers, with its folder path relative to the walk's base (for a
    /// folder its parent, so the folder's own name leads its files' paths; for a library its
    /// root).
    pub(crate) async fn files_within(
        &self,
        within: Within<'_>,
    ) -> Result<Vec<(Vec<String>, DriveFile)>, ApiError> {
        let base_len = self.base_len(within);
        let mut out = Vec::new();
        let mut files = std::pin::pin!(self.files());
        while let Some(file) = files.try_next().await? {
            if !self.covers(within, file.parent.as_deref(), file.drive.as_deref()) {
                continue;
            }
            let path = self.folder_path(file.parent.as_deref());
            out.push((path.into_iter().skip(base_len).collect(), file));
        }
        Ok(out)
    }

    /// Folders `within` covers (a folder itself included), relative as in
    /// [`Self::files_within`], each with its drive: so empty folders are restored too.
    pub(crate) fn folders_within(&self, within: Within<'_>) -> Vec<(Option<String>, Vec<String>)> {
        let base_len = self.base_len(within);
        let mut out: Vec<(Option<String>, Vec<String>)> = self
            .folders
            .iter()
            .filter(|(id, node)| self.covers(within, Some(id), node.drive.as_deref()))
            .map(|(id, node)| {
                let path = self.folder_path(Some(id)).into_iter().skip(base_len);
                (node.drive.clone(), path.collect())
            })
            .collect();
        out.sort();
        out
    }
}
