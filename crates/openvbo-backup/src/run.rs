//! What every resource backup shares: the writer, the base it builds on,
//! the failures so far, checkpoints every few items, and storing one item
//! from a byte stream with one retry of a transient failure.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::{StreamExt, TryStreamExt};
use openvbo_core::jobs::UnitControl;
use openvbo_repo::{
    NewItem, Part, PartEntry, RepoError, Repository, ResourceWriter, RestorePoint, TreeEntry,
};
use tokio_util::io::StreamReader;

use crate::error::{chain, SourceError};
use crate::source::ByteStream;

/// Attempts per item: the connector already retried each request; one more
/// try here covers a stream that broke half-way.
const ATTEMPTS: usize = 2;

pub(crate) struct Run<'a> {
    pub repo: Repository,
    pub writer: ResourceWriter,
    pub base: Option<RestorePoint>,
    pub control: &'a UnitControl,
    pub failures: Vec<String>,
    pub downloaded_items: u64,
    pub downloaded_bytes: u64,
    /// Items stored again from the repository's own copy (renamed or moved
    /// files), without a download.
    pub reused_items: u64,
    since_checkpoint: usize,
    since_checkpoint_bytes: u64,
    checkpoint_every: usize,
}

/// Checkpoints grow apart: each one flushes the open pack and writes
/// synced records, which cost a 20-user benchmark most of its wall time at a
/// checkpoint every 100 items (and after every folder). The interval starts
/// at the worker's `checkpoint_every` and doubles after each checkpoint up
/// to this, so a crash costs at most this many items again...
const MAX_CHECKPOINT_ITEMS: usize = 1000;
/// ...or this many bytes read since the last checkpoint, whichever comes
/// first.
const MAX_CHECKPOINT_BYTES: u64 = 256 * 1024 * 1024;

/// How storing one item went, when the repository itself did not fail.
pub(crate) enum Stored {
    Yes,
    /// The item could not be read; the reason is for the log.
    Failed(String),
}

impl<'a> Run<'a> {
    pub(crate) fn new(
        repo: Repository,
        writer: ResourceWriter,
        base: Option<RestorePoint>,
        control: &'a UnitControl,
        checkpoint_every: usize,
    ) -> Self {
        Run {
            repo,
            writer,
            base,
            control,
            failures: Vec::new(),
            downloaded_items: 0,
            downloaded_bytes: 0,
            reused_items: 0,
            since_checkpoint: 0,
            since_checkpoint_bytes: 0,
            checkpoint_every: checkpoint_every.max(1),
        }
    }

    pub(crate) fn stop_requested(&self) -> bool {
        self.control.stop_requested()
    }

    /// Checkpoints when enough items were stored since the last one.
    pub(crate) async fn maybe_checkpoint(&mut self, state: &[u8]) -> Result<(), RepoError> {
        if self.since_checkpoint >= self.checkpoint_every
            || self.since_checkpoint_bytes >= MAX_CHECKPOINT_BYTES
        {
            self.checkpoint(state).await?;
            self.checkpoint_every = (self.checkpoint_every * 2)
                .min(MAX_CHECKPOINT_ITEMS)
                .max(self.checkpoint_every);
        }
        Ok(())
    }

    pub(crate) async fn checkpoint(&mut self, state: &[u8]) -> Result<(), RepoError> {
        self.writer.checkpoint(state).await?;
        self.since_checkpoint = 0;
        self.since_checkpoint_bytes = 0;
        Ok(())
    }

    /// The base's items of one folder (id → change key), for a folder that
    /// is enumerated again: what is unchanged is not downloaded, and what is
    /// not listed any more is gone. Memory: one folder's ids.
    pub(crate) async fn base_items_of(
        &self,
        folder: &str,
    ) -> Result<HashMap<String, String>, RepoError> {
        let mut out = HashMap::new();
        let Some(base) = &self.base else {
            return Ok(out);
        };
        let mut entries = self.repo.entries(base);
        while let Some(entry) = entries.next().await {
            if let TreeEntry::Item(item) = entry? {
                if item.folder == folder {
                    out.insert(item.id, item.change_key);
                }
            }
        }
        Ok(out)
    }

    /// Stores an item whose content the repository already holds (a file
    /// renamed or moved, same bytes): read back from the repository under
    /// the item's new entry, nothing asked of Microsoft and nothing new
    /// stored (every chunk deduplicates).
    pub(crate) async fn store_copy(
        &mut self,
        item: NewItem,
        part_name: &str,
        content: &PartEntry,
    ) -> Result<(), RepoError> {
        let repo = self.repo.clone();
        let reader = StreamReader::new(
            repo.read_part(content)
                .map_err(|e| std::io::Error::other(e.to_string())),
        );
        // Not reported as an item read from Microsoft 365: it was not.
        self.writer
            .put_item(item, vec![Part::new(part_name, reader)])
            .await?;
        self.reused_items += 1;
        self.since_checkpoint += 1;
        Ok(())
    }

    /// Stores one item from `first` (a download already under way, read
    /// ahead) or the stream `open` gives, retrying once with `open` when
    /// Microsoft failed transiently. An item that cannot be read is a
    /// `Stored::Failed`; only a repository failure is an error.
    pub(crate) async fn store_item<F, Fut>(
        &mut self,
        item: NewItem,
        part_name: &str,
        mut first: Option<ByteStream>,
        open: F,
    ) -> Result<Stored, RepoError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<ByteStream, SourceError>>,
    {
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            let opened = match first.take() {
                Some(s) => Ok(s),
                None => open().await,
            };
            let stream = match opened {
                Ok(s) => s,
                Err(e) => {
                    last = chain(&e);
                    if e.is_transient() && attempt < ATTEMPTS {
                        continue;
                    }
                    return Ok(Stored::Failed(last));
                }
            };
            // The writer sees an io::Error; the source's own error is kept
            // aside to tell "Microsoft failed" from "the repository failed".
            let source_failure: Arc<Mutex<Option<SourceError>>> = Arc::default();
            let seen = source_failure.clone();
            let reader = StreamReader::new(stream.map_err(move |e| {
                let io = std::io::Error::other(e.message.clone());
                if let Ok(mut slot) = seen.lock() {
                    *slot = Some(e);
                }
                io
            }));
            match self
                .writer
                .put_item(item.clone(), vec![Part::new(part_name, reader)])
                .await
            {
                Ok(entry) => {
                    self.downloaded_items += 1;
                    self.downloaded_bytes += entry.size;
                    self.since_checkpoint += 1;
                    self.since_checkpoint_bytes += entry.size;
                    self.control.events.item_stored(entry.size);
                    return Ok(Stored::Yes);
                }
                Err(repo_err) => {
                    let failure = source_failure.lock().ok().and_then(|mut s| s.take());
                    match failure {
                        Some(e) => {
                            last = chain(&e);
                            if e.is_transient() && attempt < ATTEMPTS {
                                continue;
                            }
                            return Ok(Stored::Failed(last));
                        }
                        None => return Err(repo_err),
                    }
                }
            }
        }
        Ok(Stored::Failed(last))
    }
}
