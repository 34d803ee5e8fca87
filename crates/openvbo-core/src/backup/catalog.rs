//! The catalog: what each restore point holds, item by item, for browsing
//! without opening the repository.

use time::OffsetDateTime;

use super::ids::RestorePointId;

text_enum!(
    /// What a catalog entry is.
    CatalogItemKind { Folder, Message, Event, Contact, Task, File, ListItem }
);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogItem {
    pub restore_point_id: RestorePointId,
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

/// Where the next page starts: after this item id. Keyset paging, so a
/// page deep in a large folder costs as much as the first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogCursor(pub String);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogQuery {
    pub restore_point_id: RestorePointId,
    pub resource_id: String,
    /// Some(None): the top level; Some(Some(id)): that folder's children;
    /// None: every item of the resource.
    pub parent_id: Option<Option<String>>,
    pub after: Option<CatalogCursor>,
    pub limit: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogPage {
    pub items: Vec<CatalogItem>,
    /// None on the last page.
    pub next: Option<CatalogCursor>,
}
