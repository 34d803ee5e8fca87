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

use std::collections::{HashMap, HashSet};

use futures::StreamExt;
use openvbo_repo::{FolderEntry, NewItem, TreeEntry};
use serde_json::json;

use crate::error::{SourceErrorKind, UnitError};
use crate::run::{Run, Stored};
use crate::source::{DeltaEvent, DriveChange, DriveEntry, DriveSource};
use crate::state::DriveState;

/// Files directly in a OneDrive's root are stored under this folder id.
pub(crate) const ROOT: &str = "root";

pub(crate) enum DriveEnd {
    Done(DriveState),
    Stopped,
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
    source: &dyn DriveSource,
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
    while let Some(event) = stream.next().await {
        match event? {
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
                            store_file(run, source, drive, entry, parent, base.as_ref()).await?;
                            run.maybe_checkpoint(checkpoint_state).await?;
                        }
                    }
                }
            }
            DeltaEvent::End { token } => {
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

/// Stores one file unless this run or the base already holds its version.
async fn store_file(
    run: &mut Run<'_>,
    source: &dyn DriveSource,
    drive: &str,
    entry: DriveEntry,
    folder: String,
    base: Option<&BaseEntries>,
) -> Result<(), UnitError> {
    let unchanged = base
        .and_then(|b| b.get(&entry.id))
        .is_some_and(|ck| *ck == entry.change_key);
    if unchanged || run.writer.already_stored(&entry.id, &entry.change_key) {
        return Ok(());
    }
    let item = NewItem {
        folder,
        id: entry.id.clone(),
        change_key: entry.change_key.clone(),
        modified: entry.modified,
        metadata: json!({
            "kind": "file",
            "name": entry.name,
            "size": entry.size,
            "drive": drive,
        }),
    };
    let stored = run
        .store_item(item, "content", || source.file_content(drive, &entry))
        .await?;
    if let Stored::Failed(why) = stored {
        run.failures
            .push(format!("File \"{}\": {}", entry.name, why));
    }
    Ok(())
}

/// Whether a base entry belongs to `drive` (entries written before drives
/// were tagged belong to the resource's only drive).
fn of_drive(metadata: &serde_json::Value, drive: &str) -> bool {
    metadata
        .get("drive")
        .and_then(serde_json::Value::as_str)
        .is_none_or(|d| d == drive)
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
