//! What a session shows, read from the catalog of each resource's chosen restore point:
//! resources (mailboxes, OneDrives, sites), folders and items. Nothing here opens the
//! repository; content is read only to save or restore.

use super::resolve::ChosenResource;
use super::session::RestoreSession;
use crate::backup::{CatalogCursor, CatalogItem, CatalogItemKind, CatalogQuery};
use crate::store::RestorePointStore;
use crate::CoreError;

/// `parentId` of the folder listings: an id, `null`/`root` for the top level, absent for the
/// whole tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FolderFilter {
    Tree,
    TopLevel,
    Children(String),
}

impl FolderFilter {
    /// From the query value as clients send it.
    pub fn from_wire(parent_id: Option<&str>) -> Self {
        match parent_id.map(str::trim) {
            None => FolderFilter::Tree,
            Some(p)
                if p.is_empty()
                    || p.eq_ignore_ascii_case("null")
                    || p.eq_ignore_ascii_case("root") =>
            {
                FolderFilter::TopLevel
            }
            Some(p) => FolderFilter::Children(p.to_owned()),
        }
    }
}

/// An offset/limit window over catalog entries; `more` says whether entries follow it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowsePage {
    pub items: Vec<CatalogItem>,
    pub more: bool,
}

/// Catalog pages are read this many at a time while walking to an offset.
const WALK_PAGE: u64 = 1000;

/// The session's resource with this id (a mailbox, OneDrive or site).
pub fn resource<'s>(
    session: &'s RestoreSession,
    resource_id: &str,
) -> Result<&'s ChosenResource, CoreError> {
    session
        .resources
        .iter()
        .find(|r| {
            r.resource
                .resource_id
                .eq_ignore_ascii_case(resource_id.trim())
        })
        .ok_or_else(|| {
            CoreError::NotFound(format!(
                "restore session {} shows no {} with id '{}'",
                session.id,
                match session.kind {
                    super::RestoreKind::Exchange => "mailbox",
                    super::RestoreKind::OneDrive => "OneDrive",
                    super::RestoreKind::SharePoint => "site",
                    super::RestoreKind::Teams => "team",
                },
                crate::ids::truncate_for_message(resource_id)
            ))
        })
}

/// Walks the catalog below `parent` (None: every entry) and keeps the entries `keep` accepts,
/// returning the window `offset..offset+limit`. Cost grows with the offset (keyset pages of
/// the catalog are walked to reach it), not with the folder's size past the window.
async fn window(
    store: &dyn RestorePointStore,
    chosen: &ChosenResource,
    parent: Option<Option<String>>,
    keep: impl Fn(&CatalogItem) -> bool,
    offset: u64,
    limit: u64,
) -> Result<BrowsePage, CoreError> {
    let mut skipped = 0u64;
    let mut items = Vec::new();
    let mut after: Option<CatalogCursor> = None;
    loop {
        let query = CatalogQuery {
            restore_point_id: chosen.point_id,
            resource_id: chosen.resource.resource_id.clone(),
            parent_id: parent.clone(),
            after: after.take(),
            limit: WALK_PAGE,
        };
        let page = store.list_catalog_items(&query).await?;
        for item in page.items.into_iter().filter(|i| keep(i)) {
            if skipped < offset {
                skipped += 1;
            } else if (items.len() as u64) < limit {
                items.push(item);
            } else {
                return Ok(BrowsePage { items, more: true });
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(BrowsePage { items, more: false }),
        }
    }
}

/// Folders of a resource.
pub async fn folders(
    store: &dyn RestorePointStore,
    session: &RestoreSession,
    resource_id: &str,
    filter: &FolderFilter,
    offset: u64,
    limit: u64,
) -> Result<BrowsePage, CoreError> {
    let chosen = resource(session, resource_id)?;
    let parent = match filter {
        FolderFilter::Tree => None,
        FolderFilter::TopLevel => Some(None),
        FolderFilter::Children(id) => {
            folder(store, session, resource_id, id).await?;
            Some(Some(id.clone()))
        }
    };
    window(
        store,
        chosen,
        parent,
        |i| i.kind == CatalogItemKind::Folder,
        offset,
        limit,
    )
    .await
}

/// Items (messages, files…) of a folder, or of the whole resource when `folder_id` is None.
pub async fn items(
    store: &dyn RestorePointStore,
    session: &RestoreSession,
    resource_id: &str,
    folder_id: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<BrowsePage, CoreError> {
    let chosen = resource(session, resource_id)?;
    let parent = match folder_id {
        Some(id) => {
            folder(store, session, resource_id, id).await?;
            Some(Some(id.to_owned()))
        }
        None => None,
    };
    window(
        store,
        chosen,
        parent,
        |i| i.kind != CatalogItemKind::Folder,
        offset,
        limit,
    )
    .await
}

/// One catalog entry of a resource (folder or item), as of the session's point.
pub async fn entry(
    store: &dyn RestorePointStore,
    session: &RestoreSession,
    resource_id: &str,
    item_id: &str,
) -> Result<CatalogItem, CoreError> {
    let chosen = resource(session, resource_id)?;
    store
        .get_catalog_item(chosen.point_id, &chosen.resource.resource_id, item_id)
        .await?
        .ok_or_else(|| {
            CoreError::NotFound(format!(
                "'{}' is not in {} as of this restore session",
                crate::ids::truncate_for_message(item_id),
                chosen.resource.display_name
            ))
        })
}

/// A folder by id; an item that is not a folder is not found as one.
pub async fn folder(
    store: &dyn RestorePointStore,
    session: &RestoreSession,
    resource_id: &str,
    folder_id: &str,
) -> Result<CatalogItem, CoreError> {
    let found = entry(store, session, resource_id, folder_id).await?;
    if found.kind != CatalogItemKind::Folder {
        return Err(CoreError::NotFound(format!(
            "'{}' is not a folder",
            crate::ids::truncate_for_message(folder_id)
        )));
    }
    Ok(found)
}
