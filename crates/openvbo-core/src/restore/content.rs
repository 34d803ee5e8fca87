//! The port to backed-up content, and the catalog built from it.
//!
//! A restore session browses the catalog (SQLite) and reads content from the repository. The
//! catalog of a resource's restore point is filled from the repository's own snapshot the
//! first time a session shows it: the snapshot is the source of truth (a catalog can always be
//! rebuilt from it), and backups stay free of catalog work. The whole resource goes in one
//! store transaction, so a crash mid-way leaves no half catalog that would read as complete.

use std::collections::HashSet;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;
use tokio::sync::Mutex;

use super::mail::MessageFacts;
use super::resolve::ChosenResource;
use crate::backup::{CatalogItem, CatalogItemKind, CatalogQuery, RepositoryId, RestorePointId};
use crate::store::RestorePointStore;
use crate::CoreError;

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

/// Fills the catalog of each resource's point on first use, once per process.
#[derive(Default)]
pub struct CatalogIndexer {
    /// Points whose catalog is known to be there. Held across the indexing so two sessions
    /// opening the same resource do not both insert it.
    done: Mutex<HashSet<(RestorePointId, String)>>,
}

impl CatalogIndexer {
    pub async fn ensure(
        &self,
        store: &dyn RestorePointStore,
        content: &dyn RestoreContent,
        chosen: &ChosenResource,
    ) -> Result<(), CoreError> {
        let key = (chosen.point_id, chosen.resource.resource_id.clone());
        let mut done = self.done.lock().await;
        if done.contains(&key) {
            return Ok(());
        }
        let probe = store
            .list_catalog_items(&CatalogQuery {
                restore_point_id: chosen.point_id,
                resource_id: chosen.resource.resource_id.clone(),
                parent_id: None,
                after: None,
                limit: 1,
            })
            .await?;
        if probe.items.is_empty() {
            let point = store
                .get_restore_point(chosen.point_id)
                .await?
                .ok_or_else(|| {
                    CoreError::NotFound(format!(
                        "restore point {} is gone (removed by retention?)",
                        chosen.point_id
                    ))
                })?;
            let mut entries = content.entries(point.repository_id, chosen).await?;
            let mut items = Vec::new();
            while let Some(item) = entries.next().await {
                items.push(item?);
            }
            // A top folder's parent is the mailbox root (or the drive root), which is not
            // itself backed up: in the catalog the top level has no parent.
            let folders: HashSet<String> = items
                .iter()
                .filter(|i| i.kind == CatalogItemKind::Folder)
                .map(|i| i.item_id.clone())
                .collect();
            for item in items
                .iter_mut()
                .filter(|i| i.kind == CatalogItemKind::Folder)
            {
                if item
                    .parent_id
                    .as_ref()
                    .is_some_and(|p| !folders.contains(p))
                {
                    item.parent_id = None;
                }
            }
            if !items.is_empty() {
                store.insert_catalog_items(&items).await?;
            }
        }
        done.insert(key);
        Ok(())
    }
}
