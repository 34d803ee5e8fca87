//! A drive's folders and documents as the catalog holds them: what the browsing routes of
//! OneDrive and SharePoint sessions read, so that a page costs one indexed query (a
//! 100,000-file drive is not walked to list 30 of its files) and a document by id one key
//! lookup. The catalog is filled from the snapshot the first time (`CatalogIndexer`); saves
//! and restores still read the snapshot ([`super::drive_tree`]), which they walk anyway.
//!
//! In the catalog a site's document libraries are entries of kind `Library`, and what is
//! directly in a library has the library as its parent. Listings show such entries at the top
//! level (no parent), in their library, as the snapshot view does.
//!
//! Pages are in path order (`CatalogOrder::Path`): folders by path (compared name by name, so
//! a folder's subtree follows it), then id, as the snapshot view sorted them; documents by
//! their folder's path, then name, then id. Every page is one store query served by an index.
//!
//! A page is served only if the catalog was complete when it was read (the store says so
//! from the same snapshot as the entries): an item-level clean-up drops a resource's
//! catalog, and a page read meanwhile is indexed again and read again instead of showing a
//! part of the drive as the whole.

use std::time::Duration;

use openvbo_core::backup::{
    CatalogItem, CatalogItemKind, CatalogOrder, CatalogPage, CatalogQuery, CatalogScope,
    ResourceKind,
};
use openvbo_core::restore::{ChosenResource, FolderFilter};
use openvbo_core::store::RestorePointStore;
use openvbo_core::CoreError;

use super::drive_tree::{DriveFile, DriveFolder, DriveLibrary};
use super::repo_content::{ContentRef, FolderRef, RepoContent};
use crate::error::ApiError;
use crate::state::AppState;

/// A site has a few libraries; more than this many are not listed.
const MAX_LIBRARIES: u64 = 10_000;

/// A read that finds the catalog incomplete (dropped while it was read) indexes it again and
/// reads again, this many times at most; then the caller is told to retry.
const ATTEMPTS: usize = 3;

/// One resource's catalog, indexed.
pub(crate) struct DriveCatalog<'s> {
    state: &'s AppState,
    chosen: ChosenResource,
    store: &'s dyn RestorePointStore,
    scope: CatalogScope,
    /// A site's libraries, by name then id; none in a OneDrive.
    libraries: Vec<DriveLibrary>,
}

fn not_found(what: &str, id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "there is no {what} '{}' in this backup of the drive",
        crate::query::shorten(id)
    ))
}

impl<'s> DriveCatalog<'s> {
    /// The catalog of `chosen`, filled from its snapshot if it is not complete.
    pub(crate) async fn open(
        state: &'s AppState,
        chosen: &ChosenResource,
    ) -> Result<DriveCatalog<'s>, ApiError> {
        let mut catalog = DriveCatalog {
            state,
            chosen: chosen.clone(),
            store: state.restore.store.as_ref(),
            scope: CatalogScope::of(&chosen.resource),
            libraries: Vec::new(),
        };
        catalog.ensure().await?;
        // Only a site has libraries: a OneDrive's page stays one listing query.
        if chosen.resource.kind != ResourceKind::Site {
            return Ok(catalog);
        }
        let mut query = CatalogQuery::new(catalog.scope.clone(), Some(None), MAX_LIBRARIES);
        query.kind = Some(CatalogItemKind::Library);
        let mut libraries: Vec<DriveLibrary> = catalog
            .list(&query)
            .await?
            .items
            .into_iter()
            .map(|l| DriveLibrary {
                url: FolderRef::read(&l.content_ref).url.unwrap_or_default(),
                id: l.item_id,
                name: l.name,
            })
            .collect();
        libraries
            .sort_by(|a, b| (a.name.to_lowercase(), &a.id).cmp(&(b.name.to_lowercase(), &b.id)));
        catalog.libraries = libraries;
        Ok(catalog)
    }

    /// Fills the catalog from the snapshot unless it is complete.
    async fn ensure(&self) -> Result<(), ApiError> {
        let content = RepoContent::new(self.state.repositories.clone());
        self.state
            .restore
            .indexer
            .ensure(self.store, &content, &self.chosen)
            .await?;
        Ok(())
    }

    fn rebuilding() -> ApiError {
        ApiError::Core(CoreError::Busy {
            what: "catalog indexing",
            retry_after: Duration::from_secs(1),
        })
    }

    /// A page of a complete catalog: one read while it is being dropped or indexed again
    /// waits for the indexing and reads again.
    async fn list(&self, query: &CatalogQuery) -> Result<CatalogPage, ApiError> {
        for _ in 0..ATTEMPTS {
            let page = self
                .store
                .list_catalog_items(query)
                .await
                .map_err(CoreError::from)?;
            if page.complete {
                return Ok(page);
            }
            self.ensure().await?;
        }
        Err(Self::rebuilding())
    }

    pub(crate) fn libraries(&self) -> &[DriveLibrary] {
        &self.libraries
    }

    pub(crate) fn library(&self, id: &str) -> Option<&DriveLibrary> {
        let id = id.trim();
        self.libraries.iter().find(|l| l.id == id)
    }

    /// A library by id, or a 404 naming it.
    pub(crate) fn require_library(&self, id: &str) -> Result<&DriveLibrary, ApiError> {
        self.library(id).ok_or_else(|| {
            ApiError::NotFound(format!(
                "there is no document library '{}' in this backup of the site",
                crate::query::shorten(id)
            ))
        })
    }

    /// The parent as listings show it: None at the top level, a library's top level included.
    fn shown_parent(&self, parent: Option<String>) -> Option<String> {
        parent.filter(|p| self.library(p).is_none())
    }

    fn folder_of(&self, item: CatalogItem) -> DriveFolder {
        DriveFolder {
            drive: FolderRef::read(&item.content_ref).drive,
            parent: self.shown_parent(item.parent_id),
            name: item.name,
            id: item.item_id,
        }
    }

    fn file_of(&self, item: CatalogItem) -> Result<DriveFile, ApiError> {
        let r: ContentRef = serde_json::from_slice(&item.content_ref).map_err(|e| {
            CoreError::Internal(format!(
                "the catalog entry of a document is unreadable: {e}"
            ))
        })?;
        let drive = r
            .meta
            .get("drive")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        Ok(DriveFile {
            parent: self.shown_parent(item.parent_id),
            name: if item.name.is_empty() {
                item.item_id.clone()
            } else {
                item.name
            },
            id: item.item_id,
            size: u64::try_from(item.size_bytes).unwrap_or(0),
            modified: item.modified.map_or(0, |t| t.unix_timestamp()),
            content: Some(r.part),
            drive,
        })
    }

    /// An entry by id. One found is in the snapshot; one not found is not only if the
    /// catalog is complete (else it is indexed again and looked up again).
    async fn entry(&self, id: &str) -> Result<Option<CatalogItem>, ApiError> {
        for _ in 0..ATTEMPTS {
            let found = self
                .store
                .get_catalog_item(&self.scope, id.trim())
                .await
                .map_err(CoreError::from)?;
            if found.is_some()
                || self
                    .store
                    .catalog_complete(&self.scope)
                    .await
                    .map_err(CoreError::from)?
            {
                return Ok(found);
            }
            self.ensure().await?;
        }
        Err(Self::rebuilding())
    }

    pub(crate) async fn folder(&self, id: &str) -> Result<Option<DriveFolder>, ApiError> {
        Ok(self
            .entry(id)
            .await?
            .filter(|i| i.kind == CatalogItemKind::Folder)
            .map(|i| self.folder_of(i)))
    }

    /// A folder by id, or a 404 naming it.
    pub(crate) async fn require_folder(&self, id: &str) -> Result<DriveFolder, ApiError> {
        self.folder(id)
            .await?
            .ok_or_else(|| not_found("folder", id))
    }

    /// A file by id, or a 404 naming it.
    pub(crate) async fn document(&self, id: &str) -> Result<DriveFile, ApiError> {
        match self.entry(id).await? {
            Some(i) if i.kind == CatalogItemKind::File => self.file_of(i),
            _ => Err(not_found("document", id)),
        }
    }

    /// Entries of `kind` under `filter` (in the library `drive` when given), in path order:
    /// the window `offset..offset+limit` and whether more follow. One store query.
    async fn page(
        &self,
        kind: CatalogItemKind,
        filter: &FolderFilter,
        drive: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<CatalogItem>, bool), ApiError> {
        let (parent, through_libraries) = match (filter, drive) {
            (FolderFilter::Children(id), _) => {
                self.require_folder(id).await?;
                (Some(Some(id.trim().to_owned())), false)
            }
            (FolderFilter::TopLevel, Some(library)) => (Some(Some(library.to_owned())), false),
            // A site's top level: what is directly in any of its libraries.
            (FolderFilter::TopLevel, None) => (Some(None), !self.libraries.is_empty()),
            (FolderFilter::Tree, _) => (None, false),
        };
        if limit == 0 {
            return Ok((Vec::new(), false));
        }
        let query = CatalogQuery {
            kind: Some(kind),
            through_libraries,
            order: CatalogOrder::Path,
            skip: offset,
            ..CatalogQuery::new(self.scope.clone(), parent, limit)
        };
        let page = self.list(&query).await?;
        Ok((page.items, page.next.is_some()))
    }

    /// Folders under `filter`, a window of them, and whether more follow.
    pub(crate) async fn folders(
        &self,
        filter: &FolderFilter,
        drive: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<DriveFolder>, bool), ApiError> {
        let (items, more) = self
            .page(CatalogItemKind::Folder, filter, drive, offset, limit)
            .await?;
        let folders = items.into_iter().map(|i| self.folder_of(i)).collect();
        Ok((folders, more))
    }

    /// Files under `filter`, a window of them, and whether more follow.
    pub(crate) async fn documents(
        &self,
        filter: &FolderFilter,
        drive: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<DriveFile>, bool), ApiError> {
        let (items, more) = self
            .page(CatalogItemKind::File, filter, drive, offset, limit)
            .await?;
        let files = items
            .into_iter()
            .map(|i| self.file_of(i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((files, more))
    }
}
