//! Drives on the real connector: a user's OneDrive, a site's libraries,
//! their delta and their files, through one Graph session and the tenant's
//! SharePoint resource units.
//!
//! The connector's delta round is pulled a page at a time by a task that
//! hands each page to the engine through a one-page channel, and a file's
//! chunks come through a two-chunk channel: a slow repository slows the
//! reads instead of queueing them, so memory is one page and a few chunks
//! whatever the drive's or the file's size.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};
use openvbo_m365::drive::{
    DeltaLink, DriveChange as GraphChange, DriveId, DriveItem, DriveItemKind, FileFacts,
    FolderPaths, ItemId, ResourceUnits,
};
use openvbo_m365::{GraphDrive, GraphSession};
use tokio::sync::mpsc;

use crate::error::SourceError;
use crate::graph::{source_error, unix};
use crate::source::{ByteStream, DeltaEvent, DriveChange, DriveEntry, DriveInfo, DriveSource};
use crate::stall::{bounded, bounded_stream, SOURCE_IDLE_TIMEOUT};

/// Drive pages waiting for the engine: one, so reading stays a page ahead.
const PAGES_AHEAD: usize = 1;
/// File chunks waiting for the repository.
const CHUNKS_AHEAD: usize = 2;

/// OneDrives and document libraries through one Graph session.
pub struct GraphDrives {
    session: Arc<GraphSession>,
    /// The tenant's SharePoint budget, shared by every drive of the tenant.
    units: Arc<ResourceUnits>,
}

impl GraphDrives {
    pub fn new(session: Arc<GraphSession>, units: Arc<ResourceUnits>) -> Self {
        GraphDrives { session, units }
    }
}

fn info(d: GraphDrive) -> DriveInfo {
    DriveInfo {
        name: d.name.unwrap_or_else(|| d.id.clone()),
        url: d.web_url.unwrap_or_default(),
        id: d.id,
    }
}

fn entry(item: DriveItem) -> DriveEntry {
    let (is_folder, hash, parent) = match &item.kind {
        DriveItemKind::Root => (true, None, None),
        // A package (a OneNote notebook) holds its sections as children,
        // like a folder.
        DriveItemKind::Folder { .. } | DriveItemKind::Package => {
            (true, None, item.parent_id.map(|p| p.0))
        }
        DriveItemKind::File { quick_xor_hash, .. } => {
            (false, quick_xor_hash.clone(), item.parent_id.map(|p| p.0))
        }
    };
    DriveEntry {
        modified: unix(item.last_modified.as_deref()).unwrap_or(0),
        // Business OneDrive leaves cTag out of delta; eTag then stands in
        // (it also changes on a rename or move, which costs a download).
        change_key: item
            .c_tag
            .or(item.e_tag)
            .or(item.last_modified)
            .unwrap_or_default(),
        id: item.id.0,
        parent,
        name: item.name,
        is_folder,
        size: item.size,
        hash,
    }
}

fn convert(change: GraphChange) -> DriveChange {
    match change {
        GraphChange::Upsert(item) => DriveChange::Upsert(entry(item)),
        GraphChange::Deleted { id, .. } => DriveChange::Removed { id: id.0 },
    }
}

type Sender<T> = mpsc::Sender<Result<T, SourceError>>;

fn receiver_stream<T: Send + 'static>(
    rx: mpsc::Receiver<Result<T, SourceError>>,
) -> BoxStream<'static, Result<T, SourceError>> {
    stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) }).boxed()
}

/// Reads one delta round into `tx`, a page at a time; ends quietly when
/// the engine stops listening.
async fn run_delta(
    session: Arc<GraphSession>,
    units: Arc<ResourceUnits>,
    drive: DriveId,
    since: Option<DeltaLink>,
    tx: Sender<DeltaEvent<DriveChange>>,
) {
    let api = session.drives(&units);
    // Paths are not needed: the engine stores folders by parent id.
    let mut folders = FolderPaths::default();
    let mut round = match api.delta_round(&drive, since.as_ref(), &mut folders) {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Err(source_error(e))).await;
            return;
        }
    };
    loop {
        match round.next_page().await {
            Ok(Some(page)) => {
                let event = DeltaEvent::Page {
                    reset: page.reset,
                    changes: page.changes.into_iter().map(convert).collect(),
                };
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Err(source_error(e))).await;
                return;
            }
        }
    }
    let end = round
        .finish()
        .map(|o| DeltaEvent::End {
            token: o.delta_link.0,
        })
        .map_err(source_error);
    let _ = tx.send(end).await;
}

/// Reads one file into `tx`, chunk by chunk.
async fn run_download(
    session: Arc<GraphSession>,
    units: Arc<ResourceUnits>,
    drive: DriveId,
    item: ItemId,
    facts: FileFacts,
    tx: Sender<Bytes>,
) {
    let api = session.drives(&units);
    let mut file = match api.download(&drive, &item, facts).await {
        Ok(f) => f,
        Err(e) => {
            let _ = tx.send(Err(source_error(e))).await;
            return;
        }
    };
    loop {
        match file.next_chunk().await {
            Ok(Some(chunk)) => {
                if tx.send(Ok(chunk)).await.is_err() {
                    return;
                }
            }
            Ok(None) => return,
            Err(e) => {
                let _ = tx.send(Err(source_error(e))).await;
                return;
            }
        }
    }
}

#[async_trait]
impl DriveSource for GraphDrives {
    async fn user_drive(&self, user: &str) -> Result<Option<DriveInfo>, SourceError> {
        let drive = bounded(
            SOURCE_IDLE_TIMEOUT,
            || format!("finding the OneDrive of user {user}"),
            async { self.session.user_drive(user).await.map_err(source_error) },
        )
        .await?;
        Ok(drive.map(info))
    }

    async fn site_libraries(&self, site: &str) -> Result<Vec<DriveInfo>, SourceError> {
        let mut out = Vec::new();
        bounded(
            SOURCE_IDLE_TIMEOUT,
            || format!("listing the document libraries of site {site}"),
            async {
                self.session
                    .site_drives(site, &mut |page| {
                        out.extend(page.into_iter().map(info));
                        Ok(())
                    })
                    .await
                    .map_err(source_error)
            },
        )
        .await?;
        Ok(out)
    }

    async fn drive_delta(
        &self,
        drive: &str,
        since: Option<&str>,
    ) -> Result<BoxStream<'static, Result<DeltaEvent<DriveChange>, SourceError>>, SourceError> {
        let (tx, rx) = mpsc::channel(PAGES_AHEAD);
        tokio::spawn(run_delta(
            self.session.clone(),
            self.units.clone(),
            DriveId(drive.to_string()),
            since.map(|s| DeltaLink(s.to_string())),
            tx,
        ));
        Ok(bounded_stream(
            SOURCE_IDLE_TIMEOUT,
            format!("reading the delta of drive {drive}"),
            receiver_stream(rx),
        ))
    }

    async fn file_content(
        &self,
        drive: &str,
        file: &DriveEntry,
    ) -> Result<ByteStream, SourceError> {
        let (tx, rx) = mpsc::channel(CHUNKS_AHEAD);
        let facts = FileFacts {
            size: Some(file.size),
            quick_xor_hash: file.hash.clone(),
        };
        tokio::spawn(run_download(
            self.session.clone(),
            self.units.clone(),
            DriveId(drive.to_string()),
            ItemId(file.id.clone()),
            facts,
            tx,
        ));
        Ok(bounded_stream(
            SOURCE_IDLE_TIMEOUT,
            format!("downloading file \"{}\" of drive {drive}", file.name),
            receiver_stream(rx),
        ))
    }
}
