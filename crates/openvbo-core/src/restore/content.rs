//! The port to backed-up content, and the catalog built from it.
//!
//! A restore session browses the catalog (SQLite) and reads content from the repository. The
//! catalog of a resource's restore point is filled from the repository's own snapshot the
//! first time a session shows it: the snapshot is the source of truth (a catalog can always be
//! rebuilt from it), and backups stay free of catalog work. Entries are written in batches of
//! [`BATCH`] as the snapshot is read, so memory holds one batch whatever the resource's size;
//! the catalog is marked complete only after its last batch, so an indexing cut short (a
//! crash, a full disk) is cleared and done again by the next session instead of being read
//! as the whole resource.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;

use super::mail::MessageFacts;
use super::resolve::ChosenResource;
use crate::backup::{CatalogItem, CatalogScope, RepositoryId};
use crate::store::RestorePointStore;
use crate::CoreError;

/// Catalog entries written per store transaction while a snapshot is indexed.
pub const BATCH: usize = 1000;

/// Bytes of one stored part, in order.
pub type ContentStream = BoxStream<'static, Result<Vec<u8>, CoreError>>;

/// What restore needs from the repository engine. The adapter lives beside the composition
/// root (it can name `openvbo-repo`).
#[async_trait]
pub trait RestoreContent: Send + Sync {
    /// Every folder and item of the resource as of `chosen`'s point, as catalog entries whose
    /// `content_ref` [`RestoreContent::open`] understands.
    async fn entries(
        &self,
        repository: RepositoryId,
        chosen: &ChosenResource,
    ) -> Result<BoxStream<'static, Result<CatalogItem, CoreError>>, CoreError>;

    /// The content a catalog entry points at (a message's MIME, a file's bytes).
    async fn open(
        &self,
        repository: RepositoryId,
        content_ref: &[u8],
    ) -> Result<ContentStream, CoreError>;

    /// What the backup recorded of a message beside its MIME (read state, times).
    fn message_facts(&self, content_ref: &[u8]) -> MessageFacts;
}

/// Reads a whole part into memory, refusing more than `max` bytes (a message is at most
/// 150 MB; files are streamed instead).
pub async fn read_all(mut stream: ContentStream, max: usize) -> Result<Vec<u8>, CoreError> {
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if out.len() + chunk.len() > max {
            return Err(CoreError::NotSupported(format!(
                "the stored content is larger than {max} bytes"
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Fills the catalog of each resource's point when it is not complete.
///
/// Whether a catalog is complete is the store's to say (one key lookup per call), not
/// remembered here: an item-level clean-up drops a resource's catalog in the store, and the
/// next call indexes the snapshot again.
#[derive(Default)]
pub struct CatalogIndexer {
    /// One lock per resource being indexed, so two sessions opening the same resource do not
    /// both index it while others index theirs. Entries leave when their indexing ends.
    indexing: std::sync::Mutex<HashMap<CatalogScope, Arc<tokio::sync::Mutex<()>>>>,
}

impl CatalogIndexer {
    pub async fn ensure(
        &self,
        store: &dyn RestorePointStore,
        content: &dyn RestoreContent,
        chosen: &ChosenResource,
    ) -> Result<(), CoreError> {
        let scope = CatalogScope::of(&chosen.resource);
        if store.catalog_complete(&scope).await? {
            return Ok(());
        }
        let lock = self
            .indexing
            .lock()
            .map_err(|_| CoreError::Internal("the catalog indexer's locks are poisoned".into()))?
            .entry(scope.clone())
            .or_default()
            .clone();
        let outcome = {
            let _held = lock.lock().await;
            // Whoever held the lock before may have just completed it.
            match store.catalog_complete(&scope).await {
                Ok(true) => Ok(()),
                Ok(false) => index(store, content, chosen, &scope).await,
                Err(e) => Err(e.into()),
            }
        };
        if let Ok(mut indexing) = self.indexing.lock() {
            // Only the map and this call hold it: nobody waits for this resource.
            if Arc::strong_count(&lock) <= 2 {
                indexing.remove(&scope);
            }
        }
        outcome
    }
}

/// Reads the resource's snapshot into its catalog, batch by batch, and marks it complete.
async fn index(
    store: &dyn RestorePointStore,
    content: &dyn RestoreContent,
    chosen: &ChosenResource,
    scope: &CatalogScope,
) -> Result<(), CoreError> {
    let point = store
        .get_restore_point(chosen.point_id)
        .await?
        .ok_or_else(|| {
            CoreError::NotFound(format!(
                "restore point {} is gone (removed by retention?)",
                chosen.point_id
            ))
        })?;
    // What an interrupted indexing left.
    store.clear_catalog(scope).await?;
    let mut entries = content.entries(point.repository_id, chosen).await?;
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(item) = entries.next().await {
        batch.push(item?);
        if batch.len() >= BATCH {
            store.insert_catalog_items(&batch).await?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.insert_catalog_items(&batch).await?;
    }
    // Top-level parents (the never backed-up root) become None here, once every folder is in.
    store.complete_catalog(scope).await?;
    Ok(())
}
