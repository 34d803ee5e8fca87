//! [`RestoreContent`] on `openvbo-repo`: a resource's snapshot as catalog entries, and the
//! bytes of one stored part.
//!
//! A catalog entry's `content_ref` is this adapter's own JSON: the part to read (`mime` for a
//! message, `content` for a file) and the item's metadata as the backup wrote it (read state
//! and times the MIME does not carry). An entry's `path` is its folder's path from the top
//! of the mailbox, drive or library (a folder's own included): what path-ordered pages sort
//! by.

use std::future::Future;
use std::pin::Pin;

use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use openvbo_core::backup::{CatalogItem, CatalogItemKind, RepositoryId};
use openvbo_core::repositories::RepositoryService;
use openvbo_core::restore::content::{ContentStream, RestoreContent};
use openvbo_core::restore::mail::MessageFacts;
use openvbo_core::restore::ChosenResource;
use openvbo_core::CoreError;
use openvbo_repo::{PartEntry, Repository, TreeEntry};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// Entries and chunks handed over between the reading task and the caller.
const CHANNEL: usize = 64;

/// An item's `content_ref`.
#[derive(Serialize, Deserialize)]
pub(super) struct ContentRef {
    pub part: PartEntry,
    #[serde(default)]
    pub meta: Value,
}

/// A drive folder's or a library's `content_ref`: the drive it belongs to (a site holds
/// several), a library's URL. Empty for mail folders, which have neither.
#[derive(Default, Serialize, Deserialize)]
pub(super) struct FolderRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drive: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl FolderRef {
    pub(super) fn read(content_ref: &[u8]) -> FolderRef {
        serde_json::from_slice(content_ref).unwrap_or_default()
    }
}

/// Reads the facts from a catalog entry's `content_ref` (absent ones stay None).
fn message_facts(content_ref: &[u8]) -> MessageFacts {
    let Ok(r) = serde_json::from_slice::<ContentRef>(content_ref) else {
        return MessageFacts::default();
    };
    let unix = |key: &str| r.meta.get(key).and_then(Value::as_i64);
    MessageFacts {
        is_read: r
            .meta
            .get("isRead")
            .or_else(|| r.meta.get("is_read"))
            .and_then(Value::as_bool),
        received_unix: unix("received"),
        sent_unix: unix("sent"),
    }
}

pub(super) struct RepoContent {
    repositories: RepositoryService,
}

impl RepoContent {
    pub(super) fn new(repositories: RepositoryService) -> Self {
        Self { repositories }
    }

    async fn repository(&self, id: RepositoryId) -> Result<Repository, CoreError> {
        let handle = self.repositories.engine(id).await?;
        handle
            .as_any()
            .downcast_ref::<Repository>()
            .cloned()
            .ok_or_else(|| {
                CoreError::Internal(format!("repository {id} is not an openvbo repository"))
            })
    }
}

fn repo_error(what: &str, e: openvbo_repo::RepoError) -> CoreError {
    CoreError::Internal(format!("{what}: {e}"))
}

fn time_of(unix: Option<i64>) -> Option<OffsetDateTime> {
    unix.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
}

/// The folder path recorded by the backup, `/Inbox/Projects`.
fn recorded_path(meta: &Value) -> Option<String> {
    meta.get("path").and_then(Value::as_str).map(str::to_owned)
}

/// A folder's path: the one the backup recorded, else its own name.
fn folder_path(meta: &Value, name: &str) -> String {
    recorded_path(meta).unwrap_or_else(|| format!("/{name}"))
}

/// Whether a folder entry is a site's document library (a drive, not a folder of one).
fn is_library(f: &openvbo_repo::FolderEntry) -> bool {
    f.parent.is_none() && f.metadata.get("kind").and_then(Value::as_str) == Some("library")
}

/// What a folder's path is made of.
struct Node {
    parent: Option<String>,
    name: String,
    recorded: Option<String>,
    library: bool,
}

/// The path of every folder, by id: the one the backup recorded (mail folders), else the
/// names from the top of the drive down (drive folders record none), a library's top being
/// the top (paths start inside a library, as restores to the original place use them). A
/// library maps to "", the path of what is directly in it. Read from every folder entry
/// first, since a folder may come after its subfolders in the tree (a renamed folder is
/// written again after the entries a later backup carried over); memory holds the folders,
/// as a drive snapshot's folder map does.
async fn folder_paths(
    repo: &Repository,
    point: &openvbo_repo::RestorePoint,
) -> Result<std::collections::HashMap<String, String>, CoreError> {
    let mut nodes = std::collections::HashMap::new();
    let mut entries = repo.entries(point);
    while let Some(entry) = entries.next().await {
        if let TreeEntry::Folder(f) =
            entry.map_err(|e| repo_error("reading the restore point's tree", e))?
        {
            let library = is_library(&f);
            nodes.insert(
                f.id,
                Node {
                    parent: f.parent,
                    name: f.name,
                    recorded: recorded_path(&f.metadata),
                    library,
                },
            );
        }
    }
    let mut paths = std::collections::HashMap::with_capacity(nodes.len());
    for (id, node) in &nodes {
        let path = if node.library {
            String::new()
        } else if let Some(recorded) = &node.recorded {
            recorded.clone()
        } else {
            let mut names = vec![node.name.as_str()];
            let mut at = node.parent.as_deref();
            // A cycle cannot come from Graph, but a damaged tree must not loop forever.
            while let Some(parent) = at.and_then(|p| nodes.get(p)) {
                if parent.library || names.len() > nodes.len() {
                    break;
                }
                names.push(parent.name.as_str());
                at = parent.parent.as_deref();
            }
            names.reverse();
            format!("/{}", names.join("/"))
        };
        paths.insert(id.clone(), path);
    }
    Ok(paths)
}

fn catalog_entry(
    chosen: &ChosenResource,
    entry: TreeEntry,
    folder_paths: &std::collections::HashMap<String, String>,
) -> Result<Option<CatalogItem>, CoreError> {
    let resource_id = chosen.resource.resource_id.clone();
    Ok(Some(match entry {
        TreeEntry::Folder(f) => {
            let text = |key: &str| {
                f.metadata
                    .get(key)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            // A site's document library: a top-level entry that is a drive, not a folder.
            let library = is_library(&f);
            let folder_ref = FolderRef {
                drive: text("drive"),
                url: text("url").filter(|_| library),
            };
            let content_ref = if folder_ref.drive.is_none() && folder_ref.url.is_none() {
                Vec::new()
            } else {
                serde_json::to_vec(&folder_ref)
                    .map_err(|e| CoreError::Internal(format!("encoding a folder reference: {e}")))?
            };
            CatalogItem {
                restore_point_id: chosen.point_id,
                resource_kind: chosen.resource.kind,
                resource_id,
                path: match folder_paths.get(&f.id) {
                    Some(path) if !library => path.clone(),
                    _ => folder_path(&f.metadata, &f.name),
                },
                item_id: f.id,
                parent_id: f.parent,
                kind: if library {
                    CatalogItemKind::Library
                } else {
                    CatalogItemKind::Folder
                },
                name: f.name,
                sender: None,
                size_bytes: 0,
                created: None,
                modified: None,
                content_ref,
            }
        }
        TreeEntry::Item(i) => {
            let Some(part) = i
                .parts
                .iter()
                .find(|p| p.name == "mime" || p.name == "content")
            else {
                return Ok(None);
            };
            let kind = if part.name == "mime" {
                CatalogItemKind::Message
            } else {
                CatalogItemKind::File
            };
            let meta = &i.metadata;
            let text = |key: &str| meta.get(key).and_then(Value::as_str).map(str::to_owned);
            let name = text("subject").or_else(|| text("name")).unwrap_or_default();
            // A file's size is the one Microsoft reported (what listings always showed).
            let size = i64::try_from(if part.name == "mime" {
                part.size
            } else {
                i.size
            })
            .unwrap_or(i64::MAX);
            let content_ref = serde_json::to_vec(&ContentRef {
                part: part.clone(),
                meta: meta.clone(),
            })
            .map_err(|e| CoreError::Internal(format!("encoding a content reference: {e}")))?;
            CatalogItem {
                restore_point_id: chosen.point_id,
                resource_kind: chosen.resource.kind,
                resource_id,
                path: folder_paths
                    .get(&i.folder)
                    .cloned()
                    .or_else(|| text("folder"))
                    .unwrap_or_default(),
                parent_id: Some(i.folder),
                item_id: i.id,
                kind,
                name,
                sender: text("sender"),
                size_bytes: size,
                created: time_of(meta.get("received").and_then(Value::as_i64)),
                modified: time_of(Some(i.modified)),
                content_ref,
            }
        }
    }))
}

/// What `#[async_trait]` would write (this crate does not depend on the macro).
type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, CoreError>> + Send + 'a>>;

impl RestoreContent for RepoContent {
    fn entries<'s, 'c, 'f>(
        &'s self,
        repository: RepositoryId,
        chosen: &'c ChosenResource,
    ) -> Boxed<'f, BoxStream<'static, Result<CatalogItem, CoreError>>>
    where
        's: 'f,
        'c: 'f,
        Self: 'f,
    {
        Box::pin(self.entries_inner(repository, chosen))
    }

    fn open<'s, 'r, 'f>(
        &'s self,
        repository: RepositoryId,
        content_ref: &'r [u8],
    ) -> Boxed<'f, ContentStream>
    where
        's: 'f,
        'r: 'f,
        Self: 'f,
    {
        Box::pin(self.open_inner(repository, content_ref))
    }

    fn message_facts(&self, content_ref: &[u8]) -> MessageFacts {
        message_facts(content_ref)
    }
}

impl RepoContent {
    async fn entries_inner(
        &self,
        repository: RepositoryId,
        chosen: &ChosenResource,
    ) -> Result<BoxStream<'static, Result<CatalogItem, CoreError>>, CoreError> {
        let repo = self.repository(repository).await?;
        let record = String::from_utf8(chosen.resource.record.clone()).map_err(|_| {
            CoreError::Internal("the restore point's engine record is not text".into())
        })?;
        let point = repo
            .read_point(&openvbo_repo::RestorePointId(record))
            .await
            .map_err(|e| repo_error("reading the restore point", e))?;
        let paths = folder_paths(&repo, &point).await?;
        let chosen = chosen.clone();
        let (tx, rx) = mpsc::channel(CHANNEL);
        tokio::spawn(async move {
            let mut entries = repo.entries(&point);
            while let Some(entry) = entries.next().await {
                let item = match entry {
                    Ok(entry) => catalog_entry(&chosen, entry, &paths),
                    Err(e) => Err(repo_error("reading the restore point's tree", e)),
                };
                let failed = item.is_err();
                if let Some(item) = item.transpose() {
                    if tx.send(item).await.is_err() {
                        return;
                    }
                }
                if failed {
                    return;
                }
            }
        });
        Ok(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .boxed())
    }

    async fn open_inner(
        &self,
        repository: RepositoryId,
        content_ref: &[u8],
    ) -> Result<ContentStream, CoreError> {
        let r: ContentRef = serde_json::from_slice(content_ref).map_err(|e| {
            CoreError::Internal(format!(
                "a catalog entry's content reference is unreadable: {e}"
            ))
        })?;
        let repo = self.repository(repository).await?;
        let (tx, rx) = mpsc::channel(2);
        tokio::spawn(async move {
            let mut read = 0u64;
            let mut chunks = repo
                .read_part(&r.part)
                .map_err(|e| repo_error("reading stored content", e));
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk.map(|c| {
                    read += c.len() as u64;
                    c.to_vec()
                });
                let failed = chunk.is_err();
                if tx.send(chunk).await.is_err() || failed {
                    return;
                }
            }
            if read != r.part.size {
                let _ = tx
                    .send(Err(CoreError::Internal(format!(
                        "stored content read {read} bytes, expected {}",
                        r.part.size
                    ))))
                    .await;
            }
        });
        Ok(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .boxed())
    }
}
