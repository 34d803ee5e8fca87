//! What a session shows, read from the catalog of each resource's chosen restore point:
//! resources (mailboxes, OneDrives, sites), folders and items. Nothing here opens the
//! repository; content is read only to save or restore.
//!
//! A read is served only from a complete catalog (the store tells from the same snapshot as
//! the entries): a page read while an item-level clean-up drops the catalog, or while it is
//! indexed again, answers [`incomplete`] instead of showing part of a mailbox as the whole.
//! Callers that can index again (`CatalogIndexer`) do so and read
//! again, [`READ_ATTEMPTS`] times at most, as the drive catalog does.

use super::resolve::ChosenResource;
use super::session::RestoreSession;
use crate::backup::{CatalogItem, CatalogItemKind, CatalogQuery, CatalogScope, ResourceKind};
use crate::store::RestorePointStore;
use crate::CoreError;

/// How many times a caller indexes again and reads again before answering [`incomplete`].
pub const READ_ATTEMPTS: usize = 3;

const INDEXING: &str = "catalog indexing";

/// A read found the catalog incomplete: 503 with Retry-After unless indexed and read again.
pub fn incomplete() -> CoreError {
    CoreError::Busy {
        what: INDEXING,
        retry_after: std::time::Duration::from_secs(1),
    }
}

/// Whether `e` is [`incomplete`] (index again and read again), not another failure.
pub fn is_incomplete(e: &CoreError) -> bool {
    matches!(e, CoreError::Busy { what, .. } if *what == INDEXING)
}

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

/// What the items of a resource are (its folders aside): messages in a mailbox, files in a
/// drive or library.
pub fn item_kind(resource: ResourceKind) -> CatalogItemKind {
    match resource {
        ResourceKind::Mailbox | ResourceKind::ArchiveMailbox | ResourceKind::Team => {
            CatalogItemKind::Message
        }
        ResourceKind::OneDrive | ResourceKind::Site => CatalogItemKind::File,
    }
}

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

/// The entries of `kind` below `parent` (None: anywhere in the resource), the window
/// `offset..offset+limit`, in item id order. One store query, served by an index: the offset
/// is counted there, so a page costs the offset's index steps and the page, not the folder.
pub async fn window(
    store: &dyn RestorePointStore,
    scope: CatalogScope,
    parent: Option<Option<String>>,
    kind: CatalogItemKind,
    offset: u64,
    limit: u64,
) -> Result<BrowsePage, CoreError> {
    if limit == 0 {
        return Ok(BrowsePage {
            items: Vec::new(),
            more: false,
        });
    }
    let mut query = CatalogQuery::new(scope, parent, limit);
    query.kind = Some(kind);
    query.skip = offset;
    let page = store.list_catalog_items(&query).await?;
    if !page.complete {
        return Err(incomplete());
    }
    Ok(BrowsePage {
        more: page.next.is_some(),
        items: page.items,
    })
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
    let scope = CatalogScope::of(&chosen.resource);
    window(store, scope, parent, CatalogItemKind::Folder, offset, limit).await
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
    let scope = CatalogScope::of(&chosen.resource);
    let kind = item_kind(chosen.resource.kind);
    window(store, scope, parent, kind, offset, limit).await
}

/// One catalog entry of a resource (folder or item), as of the session's point.
pub async fn entry(
    store: &dyn RestorePointStore,
    session: &RestoreSession,
    resource_id: &str,
    item_id: &str,
) -> Result<CatalogItem, CoreError> {
    let chosen = resource(session, resource_id)?;
    let scope = CatalogScope::of(&chosen.resource);
    let found = store.get_catalog_item(&scope, item_id).await?;
    // One found is in the backup; one not found is absent only if the catalog is complete.
    if found.is_none() && !store.catalog_complete(&scope).await? {
        return Err(incomplete());
    }
    found.ok_or_else(|| {
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
