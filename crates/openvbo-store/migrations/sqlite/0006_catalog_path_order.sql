-- Catalog pages in path order (CatalogOrder::Path): a drive's folders and
-- files are shown by folder path, then name, then id, as a tree reads. Paths
-- are compared name by name: '/' is replaced by U+0001, which sorts below
-- every character a folder name can hold, so that '/A/B' comes right after
-- '/A' and before '/A B'. The query orders by exactly this expression, so
-- that SQLite serves it from these indexes instead of sorting the drive.
--
-- Until now a drive folder's catalog path was its own name only (the backup
-- records no path for drive folders); the indexer now records the whole path
-- from the drive's (or library's) top. Catalogs are a cache of the snapshots,
-- filled again on first use: the old ones are dropped rather than patched.

DELETE FROM catalog_resources;
DELETE FROM catalog_items;

-- A folder's children of one kind, in path order.
CREATE INDEX catalog_items_by_parent_path
    ON catalog_items (restore_point_id, resource_kind, resource_id, parent_id, kind,
                      replace(path, '/', char(1)), name, item_id);
-- Every entry of one kind (every folder of a drive), in path order.
CREATE INDEX catalog_items_by_kind_path
    ON catalog_items (restore_point_id, resource_kind, resource_id, kind,
                      replace(path, '/', char(1)), name, item_id);
