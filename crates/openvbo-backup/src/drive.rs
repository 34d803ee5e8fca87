//! One drive (a OneDrive or a document library): its delta, folders as
//! folders, each new or changed file's bytes streamed into the repository.
//! The same rules as a mailbox folder: a lost token (or none, over a base)
//! means a full enumeration that downloads only what the base lacks and
//! drops what it no longer lists; failed files keep the old token so the
//! next run retries them.
//!
//! The drive's root is not stored; what is directly in it goes under
//! `root_folder` (`root` for a OneDrive, the library's folder for a site).
//! A deleted folder takes its whole subtree with it, whether or not Graph
//! lists each descendant.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use futures::StreamExt;
use openvbo_repo::{FolderEntry, NewItem, PartEntry, TreeEntry};
use serde_json::json;

use crate::ahead::{opener, Ahead, DEPTH};
use crate::error::{SourceErrorKind, UnitError};
use crate::run::{Run, Stored};
use crate::source::{DeltaEvent, DriveChange, DriveEntry, DriveSource};
use crate::state::DriveState;

/// Files directly in a OneDrive's root are stored under this folder id.
pub(crate) const ROOT: &str = "root";

pub(crate) enum DriveEnd {
    Done(DriveState),
    Stopped,
    /// Graph does not know the drive (its first delta request answered
    /// 404); nothing of it was read.
    Missing(crate::error::SourceError),
}

/// Which drive, and where its content goes in the resource's tree.
pub(crate) struct DriveTarget<'a> {
    pub drive: &'a str,
    pub root_folder: &'a str,
}

/// What the base holds of one drive: id → change key (folders: empty).
type BaseEntries = HashMap<String, String>;

pub(crate) async fn back_up_drive(
    run: &mut Run<'_>,
    source: &Arc<dyn DriveSource>,
    target: &DriveTarget<'_>,
    start: DriveState,
    // The delta state a checkpoint records (the resource's, as of the start
    // of this drive): a resumed run re-reads this drive's changes and skips
    // what it stored.
    checkpoint_state: &[u8],
) -> Result<DriveEnd, UnitError> {
    let drive = target.drive;
    let mut stream = match source.drive_delta(drive, start.token.as_deref()).await {
        Ok(s) => s,
        Err(e) if e.kind == SourceErrorKind::Gone && start.token.is_some() => {
            source.drive_delta(drive, None).await?
        }
        Err(e) if e.kind == SourceErrorKind::NotFound => return Ok(DriveEnd::Missing(e)),
        Err(e) => return Err(e.into()),
    };
    let failures_before = run.failures.len();
    let mut root = start.root.clone();
    // A full listing over a base: compare with the base, item by item.
    let full_over_base = start.token.is_none() && run.base.is_some();
    let mut base: Option<BaseEntries> = None;
    if start.recheck || full_over_base {
        base = Some(base_entries(run, drive).await?);
    }
    let mut seen: Option<HashSet<String>> = full_over_base.then(HashSet::new);
    let mut removed: Vec<String> = Vec::new();
    let mut folders_put: HashSet<String> = HashSet::new();
    // Files downloading ahead of the one being stored, in delta order.
    let mut ahead: VecDeque<(NewItem, DriveEntry, Ahead)> = VecDeque::new();
    // The base's file contents by hash, loaded at the first changed file.
    let mut copies: Option<Copies> = None;
    let mut first = true;
    while let Some(event) = stream.next().await {
        let event = match event {
            Err(e) if first && e.kind == SourceErrorKind::NotFound => {
                return Ok(DriveEnd::Missing(e))
            }
            other => other?,
        };
        first = false;
        match event {
            DeltaEvent::Page { changes, reset } => {
                if reset && seen.is_none() {
                    seen = Some(HashSet::new());
                    if base.is_none() {
                        base = Some(base_entries(run, drive).await?);
                    }
                }
                for change in changes {
                    if run.stop_requested() {
                        run.checkpoint(checkpoint_state).await?;
                        return Ok(DriveEnd::Stopped);
                    }
                    match change {
                        DriveChange::Removed { id } => {
                            // In order: an earlier listing of this id must
                            // not be stored after its removal.
                            if !drain(run, source, drive, &mut ahead, checkpoint_state).await? {
                                run.checkpoint(checkpoint_state).await?;
                                return Ok(DriveEnd::Stopped);
                            }
                            run.writer.delete(&id);
                            removed.push(id);
                        }
                        DriveChange::Upsert(entry) => {
                            if let Some(seen) = seen.as_mut() {
                                seen.insert(entry.id.clone());
                            }
                            let Some(parent) = entry.parent.clone() else {
                                root = Some(entry.id.clone());
                                continue;
                            };
                            let parent = if root.as_deref() == Some(parent.as_str()) {
                                target.root_folder.to_string()
                            } else {
                                parent
                            };
                            if entry.is_folder {
                                folders_put.insert(entry.id.clone());
                                run.writer
                                    .put_folder(FolderEntry {
                                        id: entry.id.clone(),
                                        parent: Some(parent),
                                        name: entry.name.clone(),
                                        metadata: json!({ "drive": drive }),
                                    })
                                    .await?;
                                continue;
                            }
                            let unchanged = base
                                .as_ref()
                                .and_then(|b| b.get(&entry.id))
                                .is_some_and(|ck| *ck == entry.change_key);
                            if unchanged
                                || run.writer.already_stored(&entry.id, &entry.change_key)
                                || ahead.iter().any(|(i, _, _)| {
                                    i.id == entry.id && i.change_key == entry.change_key
                                })
                            {
                                continue;
                            }
                            let item = file_item(drive, &entry, parent);
                            if copies.is_none() {
                                copies = Some(Copies::load(run, drive).await?);
                            }
                            let copy = copies.as_ref().and_then(|c| c.of(&entry)).cloned();
                            if let Some(content) = copy {
                                // Renamed or moved, same bytes: no download.
                                if !drain(run, source, drive, &mut ahead, checkpoint_state).await? {
                                    run.checkpoint(checkpoint_state).await?;
                                    return Ok(DriveEnd::Stopped);
                                }
                                run.store_copy(item, "content", &content).await?;
                                run.maybe_checkpoint(checkpoint_state).await?;
                                continue;
                            }
                            let (src, d, e) = (source.clone(), drive.to_string(), entry.clone());
                            let open = opener(move || {
                                let (src, d, e) = (src.clone(), d.clone(), e.clone());
                                async move { src.file_content(&d, &e).await }
                            });
                            let download = Ahead::start(open, Some(entry.size));
                            ahead.push_back((item, entry, download));
                            if ahead.len() >= DEPTH {
                                store_next(run, source, drive, &mut ahead, checkpoint_state)
                                    .await?;
                            }
                        }
                    }
                }
            }
            DeltaEvent::End { token } => {
                if !drain(run, source, drive, &mut ahead, checkpoint_state).await? {
                    run.checkpoint(checkpoint_state).await?;
                    return Ok(DriveEnd::Stopped);
                }
                if let (Some(seen), Some(base)) = (&seen, &base) {
                    for id in base.keys().filter(|id| !seen.contains(*id)) {
                        run.writer.delete(id);
                        removed.push(id.clone());
                    }
                }
                if !removed.is_empty() {
                    delete_subtrees(run, drive, &removed, &folders_put).await?;
                }
                let clean = run.failures.len() == failures_before;
                let state = if clean {
                    DriveState {
                        token: Some(token),
                        recheck: false,
                        root,
                    }
                } else {
                    DriveState {
                        token: start.token.clone(),
                        recheck: true,
                        root,
                    }
                };
                return Ok(DriveEnd::Done(state));
            }
        }
    }
    Err(UnitError::Source(crate::error::SourceError::new(
        SourceErrorKind::Other,
        format!("the delta of drive {drive} ended without a token"),
    )))
}

/// The entry a file is stored under. The hash lets a later run recognise
/// the same bytes under another name or folder.
fn file_item(drive: &str, entry: &DriveEntry, folder: String) -> NewItem {
    NewItem {
        folder,
        id: entry.id.clone(),
        change_key: entry.change_key.clone(),
        modified: entry.modified,
        metadata: json!({
            "kind": "file",
            "name": entry.name,
            "size": entry.size,
            "drive": drive,
            "quickXorHash": entry.hash,
        }),
    }
}

type Pending = VecDeque<(NewItem, DriveEntry, Ahead)>;

/// Stores the oldest file read ahead.
async fn store_next(
    run: &mut Run<'_>,
    source: &Arc<dyn DriveSource>,
    drive: &str,
    ahead: &mut Pending,
    checkpoint_state: &[u8],
) -> Result<(), UnitError> {
    let Some((item, entry, download)) = ahead.pop_front() else {
        return Ok(());
    };
    let stored = run
        .store_item(item, "content", Some(download.into_stream()), || {
            source.file_content(drive, &entry)
        })
        .await?;
    if let Stored::Failed(why) = stored {
        run.failures
            .push(format!("File \"{}\": {}", entry.name, why));
    }
    run.maybe_checkpoint(checkpoint_state).await?;
    Ok(())
}

/// Stores every file read ahead; false when a stop came first (what was
/// not stored yet is dropped, and read again by the next run).
async fn drain(
    run: &mut Run<'_>,
    source: &Arc<dyn DriveSource>,
    drive: &str,
    ahead: &mut Pending,
    checkpoint_state: &[u8],
) -> Result<bool, UnitError> {
    while !ahead.is_empty() {
        if run.stop_requested() {
            return Ok(false);
        }
        store_next(run, source, drive, ahead, checkpoint_state).await?;
    }
    Ok(true)
}

/// The base's file contents of one drive by (quickXorHash, size): a file
/// whose bytes the base already holds (renamed, moved, copied) is stored
/// from there. Graph's delta carries the hash, and a rename changes the
/// eTag that stands in for the version, so without this every rename or
/// move would download the file again. Memory: one drive's files' chunk
/// lists, only in a run that has changed files.
struct Copies {
    by_hash: HashMap<(String, u64), PartEntry>,
}

impl Copies {
    async fn load(run: &Run<'_>, drive: &str) -> Result<Copies, UnitError> {
        let mut by_hash = HashMap::new();
        if let Some(base) = &run.base {
            let mut entries = run.repo.entries(base);
            while let Some(entry) = entries.next().await {
                let TreeEntry::Item(item) = entry? else {
                    continue;
                };
                if !of_drive(&item.metadata, drive) {
                    continue;
                }
                let Some(hash) = item
                    .metadata
                    .get("quickXorHash")
                    .and_then(serde_json::Value::as_str)
                else {
                    continue;
                };
                let hash = hash.to_string();
                if let Some(part) = item.parts.into_iter().find(|p| p.name == "content") {
                    if part.size == item.size {
                        by_hash.insert((hash, item.size), part);
                    }
                }
            }
        }
        Ok(Copies { by_hash })
    }

    fn of(&self, entry: &DriveEntry) -> Option<&PartEntry> {
        let hash = entry.hash.as_ref()?;
        self.by_hash.get(&(hash.clone(), entry.size))
    }
}

/// Whether a base entry belongs to `drive` (entries written before drives
/// were tagged belong to the resource's only drive).
fn of_drive(metadata: &serde_json::Value, drive: &str) -> bool {
    metadata
        .get("drive")
        .and_then(serde_json::Value::as_str)
        .is_none_or(|d| d == drive)
}

/// Removes from the resource's tree every entry the base recorded in a drive
/// other than `drive`: a OneDrive provisioned again gets a new drive id, and
/// what was in the old drive is not in the user's OneDrive any more (it stays
/// in the restore points that had it). Keyed on the entries' own `drive`, not
/// on the state the run started from, so a run resumed from a checkpoint
/// removes them just the same. Returns how many entries were removed.
pub(crate) async fn forget_other_drives(run: &mut Run<'_>, drive: &str) -> Result<u64, UnitError> {
    let Some(base) = run.base.clone() else {
        return Ok(0);
    };
    let other = |metadata: &serde_json::Value| {
        metadata
            .get("drive")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|d| d != drive)
    };
    let mut gone = Vec::new();
    let mut entries = run.repo.entries(&base);
    while let Some(entry) = entries.next().await {
        match entry? {
            TreeEntry::Item(item) if other(&item.metadata) => gone.push(item.id),
            TreeEntry::Folder(f) if f.parent.is_some() && other(&f.metadata) => gone.push(f.id),
            _ => {}
        }
    }
    drop(entries);
    for id in &gone {
        run.writer.delete(id);
    }
    Ok(gone.len() as u64)
}

/// Every base entry of the drive. Memory: one drive's ids, only while it is
/// enumerated again.
async fn base_entries(run: &Run<'_>, drive: &str) -> Result<BaseEntries, UnitError> {
    let mut out = HashMap::new();
    let Some(base) = &run.base else {
        return Ok(out);
    };
    let mut entries = run.repo.entries(base);
    while let Some(entry) = entries.next().await {
        match entry? {
            TreeEntry::Item(item) if of_drive(&item.metadata, drive) => {
                out.insert(item.id, item.change_key);
            }
            TreeEntry::Folder(f) if f.parent.is_some() && of_drive(&f.metadata, drive) => {
                out.insert(f.id, String::new());
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Deletes the base's folders below the removed ones (their items go with
/// them at commit), except folders this run wrote again (moved out first).
/// Memory: the drive's folders.
pub(crate) async fn delete_subtrees(
    run: &mut Run<'_>,
    drive: &str,
    removed: &[String],
    keep: &HashSet<String>,
) -> Result<(), UnitError> {
    let Some(base) = run.base.clone() else {
        return Ok(());
    };
    let mut children: HashMap<String, Vec<String>> = HashMap::new();
    let mut entries = run.repo.entries(&base);
    while let Some(entry) = entries.next().await {
        if let TreeEntry::Folder(f) = entry? {
            if let Some(parent) = f.parent {
                if of_drive(&f.metadata, drive) || parent == drive {
                    children.entry(parent).or_default().push(f.id);
                }
            }
        }
    }
    drop(entries);
    let mut todo: Vec<String> = removed.to_vec();
    let mut done: HashSet<String> = removed.iter().cloned().collect();
    while let Some(id) = todo.pop() {
        for child in children.get(&id).into_iter().flatten() {
            if keep.contains(child) || !done.insert(child.clone()) {
                continue;
            }
            run.writer.delete(child);
            todo.push(child.clone());
        }
    }
    Ok(())
}
