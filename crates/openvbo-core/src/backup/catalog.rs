//! The catalog: what each restore point holds, item by item, for browsing
//! without opening the repository.

use time::OffsetDateTime;

use super::ids::RestorePointId;
use super::restore_point::{ResourceKind, RestorePointResource};

text_enum!(
    /// What a catalog entry is. A `Library` is a site's document library: a container like a
    /// folder, kept apart because it is a drive of its own, not a folder of one.
    CatalogItemKind { Folder, Message, Event, Contact, Task, File, ListItem, Library }
);

impl CatalogItemKind {
    /// Whether entries may have this one as their parent.
    pub fn is_container(self) -> bool {
        matches!(self, CatalogItemKind::Folder | CatalogItemKind::Library)
    }
}

/// One resource of one restore point: what a catalog is kept for. The kind is part of it
/// because a user's mailbox and OneDrive share the user's id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CatalogScope {
    pub restore_point_id: RestorePointId,
    pub resource_kind: ResourceKind,
    pub resource_id: String,
}

impl CatalogScope {
    pub fn of(resource: &RestorePointResource) -> Self {
        Self {
            restore_point_id: resource.restore_point_id,
            resource_kind: resource.kind,
            resource_id: resource.resource_id.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogItem {
    pub restore_point_id: RestorePointId,
    /// The kind of the resource it belongs to (a mailbox, a OneDrive, a site).
    pub resource_kind: ResourceKind,
    /// The resource it belongs to (`RestorePointResource::resource_id`).
    pub resource_id: String,
    /// Microsoft's id of the item (or folder).
    pub item_id: String,
    /// The containing folder's `item_id`; None at the top.
    pub parent_id: Option<String>,
    pub kind: CatalogItemKind,
    /// Subject, file or folder name.
    pub name: String,
    pub sender: Option<String>,
    pub size_bytes: i64,
    pub created: Option<OffsetDateTime>,
    pub modified: Option<OffsetDateTime>,
    /// Folder path from the resource's root, `/`-separated.
    pub path: String,
    /// Where the repository keeps the content. Opaque.
    pub content_ref: Vec<u8>,
}

impl CatalogItem {
    /// The resource this entry belongs to.
    pub fn scope(&self) -> CatalogScope {
        CatalogScope {
            restore_point_id: self.restore_point_id,
            resource_kind: self.resource_kind,
            resource_id: self.resource_id.clone(),
        }
    }
}

/// Where the next page starts: after this item (by id), in the query's order. Keyset
/// paging, so in item id order a page deep in a large folder costs as much as the first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogCursor(pub String);

/// The order of a catalog page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CatalogOrder {
    /// By item id: the cheapest keyset order (mail items, which have no better one to show).
    #[default]
    ItemId,
    /// By folder path (a folder's path ends with its own name; an item's is its folder's),
    /// compared name by name so that a folder's subtree follows it (`/A/B` before `/A B`),
    /// then name, then item id: the order a tree of folders and files is shown in. Served
    /// from an index when a kind is given.
    Path,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogQuery {
    pub scope: CatalogScope,
    /// Some(None): the top level; Some(Some(id)): that folder's children;
    /// None: every item of the resource.
    pub parent_id: Option<Option<String>>,
    /// Only entries of this kind. With a kind, every shape of query is served
    /// in order straight from an index; without one, a folder's children are
    /// sorted first.
    pub kind: Option<CatalogItemKind>,
    /// With `parent_id` `Some(None)`: what is directly in a `Library` counts as top level
    /// too (a site's top level is each of its libraries' top level).
    pub through_libraries: bool,
    pub order: CatalogOrder,
    pub after: Option<CatalogCursor>,
    /// Entries passed over (after `after`) before the page starts: offset
    /// paging, counted in the index without reading the entries.
    pub skip: u64,
    pub limit: u64,
}

impl CatalogQuery {
    /// The first `limit` entries of `scope` below `parent_id`, of any kind.
    pub fn new(scope: CatalogScope, parent_id: Option<Option<String>>, limit: u64) -> Self {
        Self {
            scope,
            parent_id,
            kind: None,
            through_libraries: false,
            order: CatalogOrder::ItemId,
            after: None,
            skip: 0,
            limit,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogPage {
    pub items: Vec<CatalogItem>,
    /// None on the last page.
    pub next: Option<CatalogCursor>,
    /// Whether the resource's catalog was complete ([`crate::store::RestorePointStore::complete_catalog`])
    /// when the page was read, seen in one snapshot with the entries: a page read while the
    /// catalog is cleared or indexed again (an item-level clean-up) is not the resource's
    /// content, and is not to be shown as such.
    pub complete: bool,
}
