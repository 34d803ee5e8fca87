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
use url::Url;

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
        let mut round = self.delta_round(drive, since, folders)?;
        while let Some(page) = round.next_page().await? {
            on_page(page)?;
        }
        round.finish()
    }

    /// The same round as [`DriveApi::delta`], pulled a page at a time: the
    /// caller asks for the next page only when it has dealt with the last,
    /// so a slow consumer (a backup downloading each file) holds one page.
    pub fn delta_round<'r>(
        &'r self,
        drive: &DriveId,
        since: Option<&DeltaLink>,
        folders: &'r mut FolderPaths,
    ) -> Result<DeltaRound<'r>, M365Error> {
        let fresh = self.url(
            &["drives", &drive.0, "root", "delta"],
            &[("$top", PAGE), ("$select", SELECT)],
        )?;
        let (url, cost) = match since {
            Some(link) => (self.graph_link(&link.0)?, Cost::One),
            None => {
                folders.clear();
                (fresh.clone(), Cost::Two)
            }
        };
        Ok(DeltaRound {
            api: self,
            drive: drive.clone(),
            fresh,
            url: Some(url),
            cost,
            folders,
            outcome: DeltaOutcome {
                delta_link: DeltaLink(String::new()),
                reset: false,
                pages: 0,
                changes: 0,
            },
            reset_pending: false,
        })
    }
}

/// A delta round in progress (see [`DriveApi::delta_round`]).
pub struct DeltaRound<'r> {
    api: &'r DriveApi<'r>,
    drive: DriveId,
    fresh: Url,
    /// The next page to ask for; `None` once the deltaLink came.
    url: Option<Url>,
    cost: Cost,
    folders: &'r mut FolderPaths,
    outcome: DeltaOutcome,
    reset_pending: bool,
}

impl DeltaRound<'_> {
    /// The next page, or `None` when the round is complete.
    pub async fn next_page(&mut self) -> Result<Option<DeltaPage>, M365Error> {
        loop {
            let Some(url) = self.url.clone() else {
                return Ok(None);
            };
            let response = self
                .api
                .graph_request(Method::GET, &url, self.cost, |r| r)
                .await?;
            if response.response.status() == StatusCode::GONE {
                if self.outcome.reset {
                    let body = self.api.error_body(response).await;
                    return Err(failure(
                        StatusCode::GONE,
                        &body,
                        &self.drive.0,
                        "a fresh drive delta",
                    ));
                }
                tracing::info!(drive = %self.drive, "drive delta token expired; reading the whole drive again");
                self.outcome.reset = true;
                self.reset_pending = true;
                self.folders.clear();
                self.url = Some(self.fresh.clone());
                self.cost = Cost::Two;
                continue;
            }
            let page: Page = self.api.json(response, "a drive delta page").await?;
            self.outcome.pages += 1;
            let changes: Vec<DriveChange> = page
                .value
                .into_iter()
                .map(|raw| change(raw, self.folders))
                .collect();
            self.outcome.changes += changes.len() as u64;
            match (page.next_link, page.delta_link) {
                (Some(next), _) => {
                    self.url = Some(self.api.graph_link(&next)?);
                    self.cost = Cost::One;
                }
                (None, Some(link)) => {
                    self.api.graph_link(&link)?;
                    self.outcome.delta_link = DeltaLink(link);
                    self.url = None;
                }
                (None, None) => {
                    return Err(protocol(
                        "a drive delta page had neither a nextLink nor a deltaLink",
                    ))
                }
            }
            return Ok(Some(DeltaPage {
                reset: std::mem::take(&mut self.reset_pending),
                changes,
            }));
        }
    }

    /// How the round ended; an error if it has not ended yet.
    pub fn finish(self) -> Result<DeltaOutcome, M365Error> {
        if self.url.is_some() {
            return Err(protocol("the drive delta round was not read to its end"));
        }
        Ok(self.outcome)
    }
}
