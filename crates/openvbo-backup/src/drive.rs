//! One drive (a OneDrive or a document library): its delta, folders as
//! folders, each new or changed file's bytes streamed into the repository.
//! The same rules as a mailbox folder: a lost token means a full
//! enumeration that downloads only what the base lacks; failed files keep
//! the old token so the next run retries them.

use std::collections::{HashMap, HashSet};

use futures::StreamExt;
use openvbo_repo::{FolderEntry, NewItem};
use serde_json::json;

use crate::error::{SourceErrorKind, UnitError};
use crate::run::{Run, Stored};
use crate::source::{DeltaEvent, DriveChange, DriveSource};
use crate::state::{encode, DriveState};

/// Files directly in the root are stored under this folder id.
const ROOT: &str = "root";

pub(crate) enum DriveEnd {
    Done(DriveState),
    Stopped,
}

pub(crate) async fn back_up_drive(
    run: &mut Run<'_>,
    source: &dyn DriveSource,
    drive: &str,
    start: DriveState,
) -> Result<DriveEnd, UnitError> {
    let state_bytes = encode(&start);
    let mut stream = match source.drive_delta(drive, start.token.as_deref()).await {
        Ok(s) => s,
        Err(e) if e.kind == SourceErrorKind::Gone && start.token.is_some() => {
            source.drive_delta(drive, None).await?
        }
        Err(e) => return Err(e.into()),
    };
    let failures_before = run.failures.len();
    // Every base item (a drive is one delta): only on a re-enumeration.
    let mut base: Option<HashMap<String, String>> = None;
    if start.recheck || (start.token.is_none() && run.base.is_some()) {
        base = Some(all_base_items(run).await?);
    }
    let mut seen: Option<HashSet<String>> = None;
    while let Some(event) = stream.next().await {
        match event? {
            DeltaEvent::Page { changes, reset } => {
                if reset && seen.is_none() {
                    seen = Some(HashSet::new());
                    if base.is_none() {
                        base = Some(all_base_items(run).await?);
                    }
                }
                for change in changes {
                    if run.stop_requested() {
                        run.checkpoint(&state_bytes).await?;
                        return Ok(DriveEnd::Stopped);
                    }
                    match change {
                        DriveChange::Removed { id } => run.writer.delete(&id),
                        DriveChange::Upsert(entry) => {
                            if let Some(seen) = seen.as_mut() {
                                seen.insert(entry.id.clone());
                            }
                            let parent = entry.parent.clone().unwrap_or_else(|| ROOT.to_string());
                            if entry.is_folder {
                                if entry.parent.is_some() {
                                    run.writer
                                        .put_folder(FolderEntry {
                                            id: entry.id.clone(),
                                            parent: Some(parent),
                                            name: entry.name.clone(),
                                            metadata: serde_json::Value::Null,
                                        })
                                        .await?;
                                }
                                continue;
                            }
                            let unchanged = base
                                .as_ref()
                                .and_then(|b| b.get(&entry.id))
                                .is_some_and(|ck| *ck == entry.change_key);
                            if unchanged || run.writer.already_stored(&entry.id, &entry.change_key)
                            {
                                continue;
                            }
                            let item = NewItem {
                                folder: parent,
                                id: entry.id.clone(),
                                change_key: entry.change_key.clone(),
                                modified: entry.modified,
                                metadata: json!({
                                    "kind": "file",
                                    "name": entry.name,
                                    "size": entry.size,
                                }),
                            };
                            let id = entry.id.clone();
                            let stored = run
                                .store_item(item, "content", || source.file_content(drive, &id))
                                .await?;
                            if let Stored::Failed(why) = stored {
                                run.failures
                                    .push(format!("File \"{}\": {}", entry.name, why));
                            }
                            run.maybe_checkpoint(&state_bytes).await?;
                        }
                    }
                }
            }
            DeltaEvent::End { token } => {
                if let (Some(seen), Some(base)) = (&seen, &base) {
                    for id in base.keys().filter(|id| !seen.contains(*id)) {
                        run.writer.delete(id);
                    }
                }
                let clean = run.failures.len() == failures_before;
                let state = if clean {
                    DriveState {
                        token: Some(token),
                        recheck: false,
                    }
                } else {
                    DriveState {
                        token: start.token.clone(),
                        recheck: true,
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

async fn all_base_items(run: &Run<'_>) -> Result<HashMap<String, String>, UnitError> {
    let mut out = HashMap::new();
    let Some(base) = &run.base else {
        return Ok(out);
    };
    let mut entries = run.repo.entries(base);
    while let Some(entry) = entries.next().await {
        if let openvbo_repo::TreeEntry::Item(item) = entry? {
            out.insert(item.id, item.change_key);
        }
    }
    Ok(out)
}
