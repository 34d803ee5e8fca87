//! Putting backed-up messages back into a mailbox (the original one or another).
//!
//! What each message meets in the target folder decides what happens to it:
//! - nothing with its Internet message id: it was deleted (or never was there, for another
//!   mailbox) → created, in the original mailbox only when `deletedItems` is set;
//! - a message with that id and the same subject: the backed-up one is already there (left
//!   alone, or restored before) → skipped, so restoring twice never duplicates;
//! - a message with that id and another subject: it changed since the backup → the backed-up
//!   version is created beside it when `changedItems` is set (counted as merged), else skipped.
//!
//! Folders are found by id, then by path; a folder deleted since the backup is re-created
//! along its path. `restoreTo` puts everything under `folder` (created at the top of the
//! target mailbox when missing), keeping the original folder structure beneath it.
//! A message that fails is counted and reported; the others go on. Up to four messages are
//! written at a time (Microsoft's per-mailbox budget) while the next ones are read from the
//! backup, so the budget is not left idle during reads.

use std::collections::{HashMap, VecDeque};

use futures::stream::FuturesUnordered;
use futures::StreamExt;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::content::{read_all, RestoreContent};
use super::writers::{LiveMailFolder, MailWriter, MessageToWrite, PresentMessage};
use crate::backup::{CatalogItem, CatalogItemKind, RepositoryId};
use crate::microsoft365::M365Failure;
use crate::CoreError;

/// Messages written at a time into one mailbox: Microsoft's per-mailbox concurrency budget
/// (the connector queues the rest in its per-mailbox lane, so this never causes
/// MailboxConcurrency refusals).
pub const WRITES_IN_FLIGHT: usize = 4;

/// Messages held prepared (read and parsed) beside the writes in flight, the one being
/// prepared included: one waits for the next free slot while the next is read, so a slot
/// never idles for a read unless two writes end during one. A restore holds at most
/// `WRITES_IN_FLIGHT + PREPARED_AHEAD` messages in memory.
pub const PREPARED_AHEAD: usize = 2;

/// A message is at most Outlook's 150 MB plus MIME's base64 growth.
pub const MAX_MESSAGE_BYTES: usize = 210 * 1024 * 1024;

/// `changedItems`, `deletedItems`, `markRestoredAsUnread` (v6 defaults: true, true, false).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailRestoreOptions {
    pub changed_items: bool,
    pub deleted_items: bool,
    pub mark_unread: bool,
}

impl Default for MailRestoreOptions {
    fn default() -> Self {
        Self {
            changed_items: true,
            deleted_items: true,
            mark_unread: false,
        }
    }
}

/// Where messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailTarget {
    /// The mailbox owner's id or address, as Graph's `/users/{…}` takes it.
    pub mailbox: String,
    /// `restoreTo`'s folder (`Restored` or `Restored/Mail`); None: the original folders.
    pub folder: Option<String>,
    /// The backed-up mailbox itself: only there is a missing message one that was deleted.
    pub original: bool,
}

/// What the backup knew of a message beside its MIME.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageFacts {
    pub is_read: Option<bool>,
    pub sent_unix: Option<i64>,
    pub received_unix: Option<i64>,
}

/// `RESTItemsRestoreStatistics` / `RESTFoldersRestoreStatistics`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreStats {
    pub created: u64,
    pub merged: u64,
    pub skipped: u64,
    pub failed: u64,
    pub failed_folders: u64,
    /// One line per failure: what failed and why.
    pub exceptions: Vec<String>,
    pub warnings: Vec<String>,
}

/// What happened to one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Merged,
    Skipped,
    Failed(String),
}

/// Messages already in a live folder: Internet message id → subjects.
type Existing = HashMap<String, Vec<String>>;

/// One restore into one mailbox; caches the live folder tree and folder contents it reads.
pub struct MailRestorer<'a> {
    writer: &'a dyn MailWriter,
    content: &'a dyn RestoreContent,
    repository: RepositoryId,
    target: MailTarget,
    options: MailRestoreOptions,
    /// Live folders, found or created.
    live: Vec<LiveMailFolder>,
    /// Backed-up folder (id or path) → live folder id.
    resolved: HashMap<String, String>,
    existing: HashMap<String, Existing>,
    pub stats: RestoreStats,
}

fn upstream(what: &str, e: M365Failure) -> String {
    format!("{what}: {}", e.message)
}

fn rfc3339(unix: Option<i64>) -> Option<String> {
    unix.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| t.format(&Rfc3339).ok())
}

fn segments(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.trim().is_empty()).collect()
}

impl<'a> MailRestorer<'a> {
    pub async fn new(
        writer: &'a dyn MailWriter,
        content: &'a dyn RestoreContent,
        repository: RepositoryId,
        target: MailTarget,
        options: MailRestoreOptions,
    ) -> Result<MailRestorer<'a>, CoreError> {
        let live = writer.folders(&target.mailbox).await.map_err(|e| {
            let doing = format!("reading the folders of mailbox '{}'", target.mailbox);
            // Throttled, failing or unreachable: a 5xx that keeps the cause for
            // the log. Anything else (no such mailbox, no permission) is the
            // request's to fix.
            if e.is_transient() {
                crate::organization::upstream(e, &doing)
            } else {
                CoreError::Refused(upstream(&doing, e))
            }
        })?;
        Ok(Self {
            writer,
            content,
            repository,
            target,
            options,
            live,
            resolved: HashMap::new(),
            existing: HashMap::new(),
            stats: RestoreStats::default(),
        })
    }

    fn live_by_path(&self, path: &str) -> Option<&LiveMailFolder> {
        let wanted = segments(path);
        self.live.iter().find(|f| {
            let have = segments(&f.path);
            have.len() == wanted.len()
                && have
                    .iter()
                    .zip(&wanted)
                    .all(|(a, b)| a.trim().eq_ignore_ascii_case(b.trim()))
        })
    }

    /// The live folder at `path`, creating what is missing along it.
    async fn ensure_path(&mut self, path: &str) -> Result<String, String> {
        if let Some(found) = self.live_by_path(path) {
            return Ok(found.id.clone());
        }
        let parts = segments(path);
        if parts.is_empty() {
            return Err("a folder path is empty".into());
        }
        let mut parent: Option<String> = None;
        let mut walked = String::new();
        for name in parts {
            walked.push('/');
            walked.push_str(name);
            if let Some(found) = self.live_by_path(&walked) {
                parent = Some(found.id.clone());
                continue;
            }
            let mut created = self
                .writer
                .create_folder(&self.target.mailbox, parent.as_deref(), name.trim())
                .await
                .map_err(|e| upstream(&format!("creating folder '{walked}'"), e))?;
            created.path = walked.clone();
            parent = Some(created.id.clone());
            self.live.push(created);
        }
        parent.ok_or_else(|| "a folder path is empty".into())
    }

    /// The live folder for a backed-up folder (its id and path).
    pub async fn folder_for(
        &mut self,
        backup_id: Option<&str>,
        path: &str,
    ) -> Result<String, String> {
        let key = backup_id.unwrap_or(path).to_owned();
        if let Some(id) = self.resolved.get(&key) {
            return Ok(id.clone());
        }
        let id = match &self.target.folder {
            None => match backup_id
                .filter(|_| self.target.original)
                .and_then(|id| self.live.iter().find(|f| f.id == id))
            {
                Some(f) => f.id.clone(),
                None => self.ensure_path(path).await?,
            },
            Some(root) => {
                let full = format!("/{}/{}", root.trim_matches('/'), path.trim_matches('/'));
                self.ensure_path(&full).await?
            }
        };
        self.resolved.insert(key, id.clone());
        Ok(id)
    }

    /// Re-creates a backed-up folder (also an empty one) where it belongs.
    pub async fn restore_folder(&mut self, folder: &CatalogItem) {
        if let Err(why) = self.folder_for(Some(&folder.item_id), &folder.path).await {
            self.stats.failed_folders += 1;
            self.stats
                .exceptions
                .push(format!("Folder {}: {why}", folder.path));
        }
    }

    async fn existing_in(&mut self, folder_id: &str) -> Result<&Existing, String> {
        if !self.existing.contains_key(folder_id) {
            let mut found: Existing = HashMap::new();
            let mut on_page = |page: Vec<PresentMessage>| {
                for m in page {
                    found
                        .entry(m.internet_message_id)
                        .or_default()
                        .push(m.subject);
                }
                Ok(())
            };
            self.writer
                .messages(&self.target.mailbox, folder_id, &mut on_page)
                .await
                .map_err(|e| upstream("listing the target folder", e))?;
            self.existing.insert(folder_id.to_owned(), found);
        }
        self.existing
            .get(folder_id)
            .ok_or_else(|| "the target folder's messages were not read".to_owned())
    }

    /// Everything before the write: the folder (found or made), the backed-up MIME, and
    /// whether the message is already there. A message to write is recorded as present at
    /// once, so the same message twice in one restore is written once.
    async fn prepare(
        &mut self,
        item: &CatalogItem,
        facts: MessageFacts,
    ) -> Result<Prepared, String> {
        if item.kind == CatalogItemKind::Folder {
            return Err("a folder is not a message".into());
        }
        let folder = self
            .folder_for(item.parent_id.as_deref(), &item.path)
            .await?;
        let stream = self
            .content
            .open(self.repository, &item.content_ref)
            .await
            .map_err(|e| format!("reading the backup: {e}"))?;
        let mime = read_all(stream, MAX_MESSAGE_BYTES)
            .await
            .map_err(|e| format!("reading the backup: {e}"))?;
        let is_read = !self.options.mark_unread && facts.is_read.unwrap_or(true);
        let mut message = self
            .writer
            .parse(
                &mime,
                is_read,
                rfc3339(facts.sent_unix).as_deref(),
                rfc3339(facts.received_unix).as_deref(),
            )
            .map_err(|e| e.message)?;
        drop(mime);
        if message.subject.is_empty() {
            message.subject.clone_from(&item.name);
        }
        let original = self.target.original;
        let (deleted_items, changed_items) =
            (self.options.deleted_items, self.options.changed_items);
        let outcome = match &message.internet_message_id {
            Some(id) => {
                let existing = self.existing_in(&folder).await?;
                match existing.get(id) {
                    Some(subjects) if subjects.contains(&message.subject) => {
                        return Ok(Prepared::Done(Outcome::Skipped))
                    }
                    Some(_) if !changed_items => return Ok(Prepared::Done(Outcome::Skipped)),
                    Some(_) => Outcome::Merged,
                    None if original && !deleted_items => {
                        return Ok(Prepared::Done(Outcome::Skipped))
                    }
                    None => Outcome::Created,
                }
            }
            None => Outcome::Created,
        };
        if let Some(id) = &message.internet_message_id {
            self.existing
                .entry(folder.clone())
                .or_default()
                .entry(id.clone())
                .or_default()
                .push(message.subject.clone());
        }
        Ok(Prepared::Write {
            folder,
            message: Box::new(message),
            outcome,
        })
    }

    fn count(&mut self, item: &CatalogItem, outcome: &Outcome) {
        match outcome {
            Outcome::Created => self.stats.created += 1,
            Outcome::Merged => self.stats.merged += 1,
            Outcome::Skipped => self.stats.skipped += 1,
            Outcome::Failed(why) => {
                self.stats.failed += 1;
                self.stats
                    .exceptions
                    .push(format!("Message \"{}\" in {}: {why}", item.name, item.path));
            }
        }
    }

    /// Restores one message; the outcome is also counted in `stats`.
    pub async fn restore_item(&mut self, item: &CatalogItem, facts: MessageFacts) -> Outcome {
        let mut last = Outcome::Skipped;
        self.restore_items(
            std::slice::from_ref(item),
            |_| facts,
            |_, o| {
                last = o.clone();
            },
        )
        .await;
        last
    }

    /// Restores `items` with up to [`WRITES_IN_FLIGHT`] writes to Microsoft at a time (the
    /// connector's per-mailbox budget). While they run, the next messages are prepared (read
    /// from the backup, parsed), so a slot that frees is refilled at once instead of idling
    /// for a read; at most [`PREPARED_AHEAD`] messages wait beside the writes, which bounds
    /// memory. Preparing stays one message at a time and in order (folders are found and
    /// made in order, and a duplicate is seen as already written). Each outcome is counted
    /// in `stats` and handed to `done` once, in completion order.
    pub async fn restore_items<'i>(
        &mut self,
        items: &'i [CatalogItem],
        facts: impl Fn(&CatalogItem) -> MessageFacts,
        mut done: impl FnMut(&CatalogItem, &Outcome),
    ) {
        let writer = self.writer;
        // Cloned once: the writes must not borrow `self`, which preparing holds mutably.
        let mailbox = self.target.mailbox.clone();
        let write = |next: Ready<'i>| {
            let mailbox = mailbox.as_str();
            async move {
                let Ready {
                    item,
                    folder,
                    message,
                    outcome,
                } = next;
                let written = writer
                    .create_message(mailbox, &folder, message)
                    .await
                    .map(|_| outcome)
                    .map_err(|e| upstream("writing the message", e));
                (item, written.unwrap_or_else(Outcome::Failed))
            }
        };
        let mut queue = items.iter();
        let mut running = FuturesUnordered::new();
        let mut ready: VecDeque<Ready<'i>> = VecDeque::new();
        // Writes that ended while a message was prepared, counted once it is.
        let mut ended: Vec<(&'i CatalogItem, Outcome)> = Vec::new();
        loop {
            while running.len() < WRITES_IN_FLIGHT {
                let Some(next) = ready.pop_front() else {
                    break;
                };
                running.push(write(next));
            }
            let room = running.len() + ready.len() < WRITES_IN_FLIGHT + PREPARED_AHEAD;
            let next = if room { queue.next() } else { None };
            if let Some(item) = next {
                let prepared = {
                    let mut preparing = std::pin::pin!(self.prepare(item, facts(item)));
                    loop {
                        tokio::select! {
                            // Ended writes first: their slots take what is already prepared.
                            biased;
                            Some(result) = running.next(), if !running.is_empty() => {
                                ended.push(result);
                                if let Some(next) = ready.pop_front() {
                                    running.push(write(next));
                                }
                            }
                            prepared = &mut preparing => break prepared,
                        }
                    }
                };
                for (item, outcome) in ended.drain(..) {
                    self.count(item, &outcome);
                    done(item, &outcome);
                }
                match prepared {
                    Ok(Prepared::Write {
                        folder,
                        message,
                        outcome,
                    }) => ready.push_back(Ready {
                        item,
                        folder,
                        message,
                        outcome,
                    }),
                    Ok(Prepared::Done(outcome)) => {
                        self.count(item, &outcome);
                        done(item, &outcome);
                    }
                    Err(why) => {
                        let outcome = Outcome::Failed(why);
                        self.count(item, &outcome);
                        done(item, &outcome);
                    }
                }
                continue;
            }
            // Enough is prepared, or nothing is left to prepare: wait for a write to end.
            match running.next().await {
                Some((item, outcome)) => {
                    self.count(item, &outcome);
                    done(item, &outcome);
                }
                // Nothing runs, and the loop's top starts whatever waits.
                None if ready.is_empty() => break,
                None => {}
            }
        }
    }
}

/// A message after [`MailRestorer::prepare`].
enum Prepared {
    Write {
        folder: String,
        message: Box<MessageToWrite>,
        outcome: Outcome,
    },
    Done(Outcome),
}

/// A prepared message waiting for a write slot.
struct Ready<'i> {
    item: &'i CatalogItem,
    folder: String,
    message: Box<MessageToWrite>,
    outcome: Outcome,
}
