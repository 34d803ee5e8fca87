//! One mailbox: folder tree, then each folder's message delta, each new or
//! changed message's MIME streamed into the repository with the metadata
//! the catalog shows (folder, subject, sender, size, dates) and the read
//! state a restore puts back.
//!
//! A folder whose token Microsoft forgot (410) is enumerated again, but only
//! messages whose id and change key the base does not hold are downloaded;
//! what the enumeration does not list any more is deleted. A folder that
//! left failed items keeps its old token, so the next run sees them again.
//!
//! Two requests an incremental run does without, both on Graph's own word:
//! - a folder the listing counts empty (`totalItemCount` 0) that was empty
//!   at the end of the last run has nothing to report: its delta is not
//!   asked, its token kept;
//! - a sent or received message whose change leaves its content facts
//!   (subject, sender, times, Internet message id, attachments) as the
//!   base has them changed only what Graph lets change on a non-draft
//!   (read state, flag, categories): the base's MIME is stored under the
//!   new change key and read state, without a download.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use futures::StreamExt;
use openvbo_repo::{FolderEntry, NewItem, PartEntry, RepoError, TreeEntry};
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
            state.empty.remove(gone);
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
        let empty_now = folder.item_count == Some(0);
        if empty_now && since.is_some() && !recheck && start.empty.contains(&folder.id) {
            continue;
        }
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
            Ok(FolderEnd::Done { token, upserts }) => {
                if run.failures.len() == failures_before {
                    state.folders.insert(folder.id.clone(), token);
                    state.recheck.remove(&folder.id);
                    // Counted empty before the round and nothing listed in
                    // it: the point holds nothing of this folder either.
                    if empty_now && upserts == 0 {
                        state.empty.insert(folder.id.clone());
                    } else {
                        state.empty.remove(&folder.id);
                    }
                } else {
                    state.empty.remove(&folder.id);
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
    /// The round's token, and how many messages it listed as new or changed.
    Done {
        token: String,
        upserts: u64,
    },
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
    let mut upserts = 0u64;
    while let Some(event) = stream.next().await {
        match event? {
            DeltaEvent::Page { changes, reset } => {
                if reset && seen.is_none() {
                    seen = Some(HashSet::new());
                    if base.is_none() {
                        base = Some(run.base_items_of(&folder.id).await?);
                    }
                }
                // Changes of messages the base holds: their stored MIME, to
                // keep when only the read state (or a flag) changed.
                let mut kept = if since.is_some() && seen.is_none() {
                    base_contents(run, &changes).await?
                } else {
                    HashMap::new()
                };
                for change in changes {
                    if run.stop_requested() {
                        return Ok(FolderEnd::Stopped);
                    }
                    match change {
                        MessageChange::Upsert(meta) => {
                            upserts += 1;
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
                            let same_content = kept.remove(&meta.id).filter(|(facts, _)| {
                                content_facts_of(&meta).is_some_and(|now| now == *facts)
                            });
                            if let Some((_, mime)) = same_content {
                                // In order, like a download.
                                if !drain(run, source, mailbox, folder, &mut ahead, &state_bytes)
                                    .await?
                                {
                                    return Ok(FolderEnd::Stopped);
                                }
                                let item = new_item(folder, &meta);
                                run.store_copy(item, "mime", &mime).await?;
                                run.maybe_checkpoint(&state_bytes).await?;
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
                return Ok(FolderEnd::Done { token, upserts });
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
    let item = new_item(folder, &meta);
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

fn new_item(folder: &SourceFolder, meta: &MessageMeta) -> NewItem {
    NewItem {
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
            // What tells a content change from a read-state change.
            "draft": meta.draft,
            "internetMessageId": meta.internet_message_id,
            "hasAttachments": meta.has_attachments,
        }),
    }
}

/// What a sent or received message's content is known by; `None` for a
/// draft (its content may change) or when a fact is missing.
fn content_facts(
    draft: bool,
    internet_message_id: Option<&str>,
    has_attachments: Option<bool>,
    rest: serde_json::Value,
) -> Option<[u8; 32]> {
    if draft {
        return None;
    }
    let id = internet_message_id.filter(|s| !s.is_empty())?;
    let has_attachments = has_attachments?;
    let bytes = serde_json::to_vec(&json!([id, has_attachments, rest])).ok()?;
    Some(Sha256::digest(&bytes).into())
}

fn content_facts_of(meta: &MessageMeta) -> Option<[u8; 32]> {
    content_facts(
        meta.draft,
        meta.internet_message_id.as_deref(),
        meta.has_attachments,
        json!([meta.subject, meta.sender, meta.sent, meta.received]),
    )
}

/// The same facts from a stored entry's metadata (written by `new_item`);
/// entries stored before these keys existed have none.
fn stored_facts(metadata: &serde_json::Value) -> Option<[u8; 32]> {
    let draft = metadata.get("draft")?.as_bool()?;
    content_facts(
        draft,
        metadata.get("internetMessageId")?.as_str(),
        metadata.get("hasAttachments")?.as_bool(),
        json!([
            metadata.get("subject").cloned().unwrap_or(json!("")),
            metadata
                .get("sender")
                .cloned()
                .unwrap_or(serde_json::Value::Null),
            metadata
                .get("sent")
                .cloned()
                .unwrap_or(serde_json::Value::Null),
            metadata
                .get("received")
                .cloned()
                .unwrap_or(serde_json::Value::Null),
        ]),
    )
}

/// The base's content facts and MIME of the messages a page lists as
/// changed, by id: one pass over the base's entries, keeping only those
/// ids, so memory is one page whatever the mailbox's size. Nothing is read
/// when the page changes nothing or there is no base.
async fn base_contents(
    run: &Run<'_>,
    changes: &[MessageChange],
) -> Result<HashMap<String, ([u8; 32], PartEntry)>, RepoError> {
    let mut out = HashMap::new();
    let Some(base) = &run.base else {
        return Ok(out);
    };
    let wanted: HashSet<&str> = changes
        .iter()
        .filter_map(|c| match c {
            MessageChange::Upsert(m)
                if !m.draft && !run.writer.already_stored(&m.id, &m.change_key) =>
            {
                Some(m.id.as_str())
            }
            _ => None,
        })
        .collect();
    if wanted.is_empty() {
        return Ok(out);
    }
    let mut entries = run.repo.entries(base);
    while let Some(entry) = entries.next().await {
        let TreeEntry::Item(item) = entry? else {
            continue;
        };
        if !wanted.contains(item.id.as_str()) {
            continue;
        }
        let Some(facts) = stored_facts(&item.metadata) else {
            continue;
        };
        if let Some(mime) = item.parts.into_iter().find(|p| p.name == "mime") {
            out.insert(item.id, (facts, mime));
        }
    }
    Ok(out)
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
