//! Reading a drive's changes with `/root/delta`, page by page.
//!
//! Without a token the first round lists everything that exists; with the
//! previous round's deltaLink, only what changed since. When Microsoft no
//! longer knows the token (410 `resyncRequired` and its siblings), the
//! reader starts over without one (Microsoft: as good as its `Location`)
//! and flags the first page of the new round `reset`, so the caller knows
//! its view of the drive is stale and a full enumeration follows.

use reqwest::{Method, StatusCode};
use serde::Deserialize;

use super::http::{failure, protocol, DriveApi};
use super::resource_units::Cost;
use super::types::{
    DeltaLink, DeltaPage, DriveChange, DriveId, DriveItem, DriveItemKind, FolderPaths, ItemId,
};
use crate::error::M365Error;

/// Microsoft's largest drive delta page.
const PAGE: &str = "500";
/// Only what a backup needs; `id` and `deleted` always come.
const SELECT: &str =
    "id,name,size,eTag,cTag,createdDateTime,lastModifiedDateTime,file,folder,package,root,deleted,parentReference";

/// How a round ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeltaOutcome {
    /// Where the next round starts: store it with what was backed up.
    pub delta_link: DeltaLink,
    /// The token was gone and a full enumeration was read instead.
    pub reset: bool,
    pub pages: u32,
    pub changes: u64,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    value: Vec<RawItem>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink", default)]
    delta_link: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawItem {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    e_tag: Option<String>,
    #[serde(default)]
    c_tag: Option<String>,
    #[serde(default)]
    last_modified_date_time: Option<String>,
    #[serde(default)]
    created_date_time: Option<String>,
    #[serde(default)]
    file: Option<RawFile>,
    #[serde(default)]
    folder: Option<RawFolder>,
    #[serde(default)]
    package: Option<serde_json::Value>,
    #[serde(default)]
    root: Option<serde_json::Value>,
    #[serde(default)]
    deleted: Option<serde_json::Value>,
    #[serde(default)]
    parent_reference: Option<RawParent>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFile {
    #[serde(default)]
    mime_type: Option<String>,
    #[serde(default)]
    hashes: Option<RawHashes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawHashes {
    #[serde(default)]
    quick_xor_hash: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFolder {
    #[serde(default)]
    child_count: u64,
}

#[derive(Deserialize)]
struct RawParent {
    #[serde(default)]
    id: Option<String>,
}

/// Turns one raw entry into a change, keeping the folder map current.
fn change(raw: RawItem, folders: &mut FolderPaths) -> DriveChange {
    let parent = raw.parent_reference.and_then(|p| p.id);
    if raw.deleted.is_some() {
        folders.remove(&raw.id);
        return DriveChange::Deleted {
            id: ItemId(raw.id),
            parent_id: parent.map(ItemId),
        };
    }
    let name = raw.name.unwrap_or_default();
    let kind = if raw.root.is_some() {
        folders.set_root(&raw.id);
        DriveItemKind::Root
    } else if let Some(folder) = raw.folder {
        folders.set_folder(&raw.id, &name, parent.as_deref());
        DriveItemKind::Folder {
            child_count: folder.child_count,
        }
    } else if raw.package.is_some() {
        DriveItemKind::Package
    } else {
        let file = raw.file;
        DriveItemKind::File {
            quick_xor_hash: file
                .as_ref()
                .and_then(|f| f.hashes.as_ref())
                .and_then(|h| h.quick_xor_hash.clone()),
            mime_type: file.and_then(|f| f.mime_type),
        }
    };
    let path = match kind {
        DriveItemKind::Root => Some(String::new()),
        DriveItemKind::Folder { .. } => folders.folder_path(&raw.id),
        _ => folders.item_path(parent.as_deref(), &name),
    };
    DriveChange::Upsert(DriveItem {
        id: ItemId(raw.id),
        name,
        parent_id: parent.map(ItemId),
        path,
        kind,
        size: raw.size.unwrap_or(0),
        e_tag: raw.e_tag,
        c_tag: raw.c_tag,
        last_modified: raw.last_modified_date_time,
        created: raw.created_date_time,
    })
}

impl DriveApi<'_> {
    /// One delta round from `since` (none: a full enumeration), each page
    /// handed to `on_page` as it arrives. `folders` must be the map stored
    /// with `since` (empty without one); it is kept current.
    pub async fn delta(
        &self,
        drive: &DriveId,
        since: Option<&DeltaLink>,
        folders: &mut FolderPaths,
        mut on_page: impl FnMut(DeltaPage) -> Result<(), M365Error>,
    ) -> Result<DeltaOutcome, M365Error> {
        let fresh = self.url(
            &["drives", &drive.0, "root", "delta"],
            &[("$top", PAGE), ("$select", SELECT)],
        )?;
        let (mut url, mut cost) = match since {
            Some(link) => (self.graph_link(&link.0)?, Cost::One),
            None => {
                folders.clear();
                (fresh.clone(), Cost::Two)
            }
        };
        let mut outcome = DeltaOutcome {
            delta_link: DeltaLink(String::new()),
            reset: false,
            pages: 0,
            changes: 0,
        };
        let mut reset_pending = false;
        loop {
            let response = self.graph_request(Method::GET, &url, cost, |r| r).await?;
            if response.status() == StatusCode::GONE {
                if outcome.reset {
                    let body = response.bytes().await.unwrap_or_default();
                    return Err(failure(
                        StatusCode::GONE,
                        &body,
                        &drive.0,
                        "a fresh drive delta",
                    ));
                }
                tracing::info!(drive = %drive, "drive delta token expired; reading the whole drive again");
                outcome.reset = true;
                reset_pending = true;
                folders.clear();
                url = fresh.clone();
                cost = Cost::Two;
                continue;
            }
            let page: Page = self.json(response, "a drive delta page").await?;
            outcome.pages += 1;
            let changes: Vec<DriveChange> = page
                .value
                .into_iter()
                .map(|raw| change(raw, folders))
                .collect();
            outcome.changes += changes.len() as u64;
            on_page(DeltaPage {
                reset: std::mem::take(&mut reset_pending),
                changes,
            })?;
            match (page.next_link, page.delta_link) {
                (Some(next), _) => {
                    url = self.graph_link(&next)?;
                    cost = Cost::One;
                }
                (None, Some(link)) => {
                    self.graph_link(&link)?;
                    outcome.delta_link = DeltaLink(link);
                    return Ok(outcome);
                }
                (None, None) => {
                    return Err(protocol(
                        "a drive delta page had neither a nextLink nor a deltaLink",
                    ))
                }
            }
        }
    }
}
