//! One mailbox: folder tree, then each folder's message delta, each new or
//! changed message's MIME streamed into the repository with the metadata
//! the catalog shows (folder, subject, sender, size, dates) and the read
//! state a restore puts back.
//!
//! A folder whose token Microsoft forgot (410) is enumerated again, but only
//! messages whose id and change key the base does not hold are downloaded;
//! what the enumeration does not list any more is deleted. A folder that
//! left failed items keeps its old token, so the next run sees them again.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use futures::StreamExt;
use openvbo_repo::{FolderEntry, NewItem, RepoError};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::ahead::{opener, Ahead, DEPTH};
use crate::error::{chain, SourceErrorKind, UnitError};
use crate::run::{Run, Stored};
use crate::source::{DeltaEvent, MailSource, MessageChange, MessageMeta, SourceFolder};
use crate::state::{encode, MailboxState};

/// How a mailbox backup ended (failures are in the run).
pub(crate) enum MailboxEnd {
    Done(MailboxState),
    Stopped,
}

pub(crate) async fn back_up_mailbox(
    run: &mut Run<'_>,
    source: &Arc<dyn MailSource>,
    mailbox: &str,
    start: MailboxState,
) -> Result<MailboxEnd, UnitError> {
    let folders = source.folders(mailbox).await?;
    let digest = tree_digest(&folders);
    // `state` is what a checkpoint records: finished folders carry their
    // new token, the others still the one this run started from.
    let mut state = start.clone();
    if digest != start.tree_digest {
        for f in &folders {
            run.writer
                .put_folder(FolderEntry {
                    id: f.id.clone(),
                    parent: f.parent.clone(),
                    name: f.name.clone(),
                    metadata: json!({ "path": f.path }),
                })
                .await?;
        }
        let current: HashSet<&str> = folders.iter().map(|f| f.id.as_str()).collect();
        for gone in start
            .folders
            .keys()
            .filter(|id| !current.contains(id.as_str()))
        {
            run.writer.delete(gone);
            state.folders.remove(gone);
            state.recheck.remove(gone);
        }
        state.tree_digest = digest;
    }
    for folder in &folders {
        if run.stop_requested() {
            run.checkpoint(&encode(&state)).await?;
            return Ok(MailboxEnd::Stopped);
        }
        let since = start.folders.get(&folder.id).cloned();
        let recheck = start.recheck.contains(&folder.id) || (since.is_none() && run.base.is_some());
        let failures_before = run.failures.len();
        match back_up_folder(
            run,
            source,
            mailbox,
            folder,
            since.as_deref(),
            recheck,
            &state,
        )
        .await
        {
            Ok(FolderEnd::Done(token)) => {
                if run.failures.len() == failures_before {
                    state.folders.insert(folder.id.clone(), token);
                    state.recheck.remove(&folder.id);
                } else {
                    state.recheck.insert(folder.id.clone());
                }
            }
            Ok(FolderEnd::Stopped) => {
                run.checkpoint(&encode(&state)).await?;
                return Ok(MailboxEnd::Stopped);
            }
            Err(FolderError::Repository(e)) => return Err(e.into()),
            Err(FolderError::Source(e)) => {
                run.failures
                    .push(format!("Folder {}: {}", folder.path, chain(&e)));
                state.recheck.insert(folder.id.clone());
            }
        }
        // A finished folder's token is kept by the next checkpoint, whenever
        // it comes (a resumed run re-reads this folder's delta and skips what
        // that checkpoint stored).
        run.maybe_checkpoint(&encode(&state)).await?;
    }
    Ok(MailboxEnd::Done(state))
}

enum FolderEnd {
    Done(String),
    Stopped,
}

enum FolderError {
    Source(crate::error::SourceError),
    Repository(RepoError),
}

impl From<RepoError> for FolderError {
    fn from(e: RepoError) -> Self {
        FolderError::Repository(e)
    }
}

impl From<crate::error::SourceError> for FolderError {
    fn from(e: crate::error::SourceError) -> Self {
        FolderError::Source(e)
    }
}

async fn back_up_folder(
    run: &mut Run<'_>,
    source: &Arc<dyn MailSource>,
    mailbox: &str,
    folder: &SourceFolder,
    since: Option<&str>,
    recheck: bool,
    state: &MailboxState,
) -> Result<FolderEnd, FolderError> {
    let mut stream = match source.message_delta(mailbox, &folder.id, since).await {
        Ok(s) => s,
        // A connector that reports the lost token as an error instead of
        // restarting itself: enumerate from scratch.
        Err(e) if e.kind == SourceErrorKind::Gone && since.is_some() => {
            source.message_delta(mailbox, &folder.id, None).await?
        }
        Err(e) => return Err(e.into()),
    };
    // Loaded when the folder is (re-)enumerated on top of a base.
    let mut base: Option<HashMap<String, String>> = if recheck {
        Some(run.base_items_of(&folder.id).await?)
    } else {
        None
    };
    // Ids listed by a full enumeration, to find what is gone.
    let mut seen: Option<HashSet<String>> = None;
    let state_bytes = encode(state);
    // Messages downloading ahead of the one being stored, in delta order.
    let mut ahead = Queue::default();
    while let Some(event) = stream.next().await {
        match event? {
            DeltaEvent::Page { changes, reset } => {
                if reset && seen.is_none() {
                    seen = Some(HashSet::new());
                    if base.is_none() {
                        base = Some(run.base_items_of(&folder.id).await?);
                    }
                }
                for change in changes {
                    if run.stop_requested() {
                        return Ok(FolderEnd::Stopped);
                    }
                    match change {
                        MessageChange::Upsert(meta) => {
                            if let Some(seen) = seen.as_mut() {
                                seen.insert(meta.id.clone());
                            }
                            let unchanged = base
                                .as_ref()
                                .and_then(|b| b.get(&meta.id))
                                .is_some_and(|ck| *ck == meta.change_key);
                            if unchanged
                                || run.writer.already_stored(&meta.id, &meta.change_key)
                                || ahead.holds(&meta.id, &meta.change_key)
                            {
                                continue;
                            }
                            let id = meta.id.clone();
                            let (src, mb) = (source.clone(), mailbox.to_string());
                            let open = opener(move || {
                                let (src, mb, id) = (src.clone(), mb.clone(), id.clone());
                                async move { src.message_mime(&mb, &id).await }
                            });
                            ahead.push(meta, Ahead::start(open, None));
                            if ahead.len() >= DEPTH {
                                store_next(run, source, mailbox, folder, &mut ahead, &state_bytes)
                                    .await?;
                            }
                        }
                        MessageChange::Removed { id } => {
                            // In order: an earlier listing of this id must
                            // not be stored after its removal.
                            if !drain(run, source, mailbox, folder, &mut ahead, &state_bytes)
                                .await?
                            {
                                return Ok(FolderEnd::Stopped);
                            }
                            run.writer.delete(&id)
                        }
                    }
                }
            }
            DeltaEvent::End { token } => {
                if !drain(run, source, mailbox, folder, &mut ahead, &state_bytes).await? {
                    return Ok(FolderEnd::Stopped);
                }
                if let (Some(seen), Some(base)) = (&seen, &base) {
                    for id in base.keys().filter(|id| !seen.contains(*id)) {
                        run.writer.delete(id);
                    }
                }
                return Ok(FolderEnd::Done(token));
            }
        }
    }
    Err(FolderError::Source(crate::error::SourceError::new(
        SourceErrorKind::Other,
        "the message delta ended without a token",
    )))
}

/// Messages downloading ahead, oldest first (see [`crate::ahead`]).
#[derive(Default)]
struct Queue {
    items: VecDeque<(MessageMeta, Ahead)>,
}

impl Queue {
    fn push(&mut self, meta: MessageMeta, ahead: Ahead) {
        self.items.push_back((meta, ahead));
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    /// A delta may list a message twice in one round; one download is enough.
    fn holds(&self, id: &str, change_key: &str) -> bool {
        self.items
            .iter()
            .any(|(m, _)| m.id == id && m.change_key == change_key)
    }
}

/// Stores the oldest message read ahead.
async fn store_next(
    run: &mut Run<'_>,
    source: &Arc<dyn MailSource>,
    mailbox: &str,
    folder: &SourceFolder,
    ahead: &mut Queue,
    state_bytes: &[u8],
) -> Result<(), RepoError> {
    if let Some((meta, download)) = ahead.items.pop_front() {
        store_message(run, source.as_ref(), mailbox, folder, meta, download).await?;
        run.maybe_checkpoint(state_bytes).await?;
    }
    Ok(())
}

/// Stores every message read ahead; false when a stop came first (what
/// was not stored yet is dropped, and read again by the next run).
async fn drain(
    run: &mut Run<'_>,
    source: &Arc<dyn MailSource>,
    mailbox: &str,
    folder: &SourceFolder,
    ahead: &mut Queue,
    state_bytes: &[u8],
) -> Result<bool, RepoError> {
    while ahead.len() > 0 {
        if run.stop_requested() {
            return Ok(false);
        }
        store_next(run, source, mailbox, folder, ahead, state_bytes).await?;
    }
    Ok(true)
}

async fn store_message(
    run: &mut Run<'_>,
    source: &dyn MailSource,
    mailbox: &str,
    folder: &SourceFolder,
    meta: MessageMeta,
    download: Ahead,
) -> Result<(), RepoError> {
    let item = NewItem {
        folder: folder.id.clone(),
        id: meta.id.clone(),
        change_key: meta.change_key.clone(),
        modified: meta.modified,
        metadata: json!({
            "kind": "message",
            "folder": folder.path,
            "subject": meta.subject,
            "sender": meta.sender,
            "size": meta.size,
            "received": meta.received,
            // The keys restore reads (`repo_content::message_facts`).
            "sent": meta.sent,
            "isRead": meta.is_read,
        }),
    };
    let id = meta.id.clone();
    let stored = run
        .store_item(item, "mime", Some(download.into_stream()), || {
            source.message_mime(mailbox, &id)
        })
        .await?;
    if let Stored::Failed(why) = stored {
        run.failures.push(format!(
            "Message \"{}\" in {}: {}",
            meta.subject, folder.path, why
        ));
    }
    Ok(())
}

fn tree_digest(folders: &[SourceFolder]) -> String {
    let mut h = Sha256::new();
    for f in folders {
        for s in [
            f.id.as_str(),
            f.parent.as_deref().unwrap_or(""),
            f.name.as_str(),
            f.path.as_str(),
        ] {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
    }
    hex::encode(h.finalize())
}
