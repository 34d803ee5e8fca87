-- The catalog is kept per resource of a restore point, and a resource is
-- (point, resource, kind): a user's mailbox and OneDrive share the user's id,
-- so without the kind their entries were mixed and a lookup had to guess.
--
-- The catalog is a cache of the repository's snapshots (every session that
-- shows a resource fills it from the snapshot when it is missing): the old
-- rows, which do not say their kind, are dropped rather than guessed, and are
-- indexed again on first use.
--
-- catalog_resources says which resources' catalogs are complete: entries
-- without a row are an interrupted indexing, cleared and indexed again.
-- Both hang off the point's resource, so removing either takes its catalog.

DROP TABLE catalog_items;

CREATE TABLE catalog_items (
    restore_point_id TEXT NOT NULL,
    resource_kind    TEXT NOT NULL,
    resource_id      TEXT NOT NULL,
    item_id          TEXT NOT NULL,
    parent_id        TEXT,
    kind             TEXT NOT NULL,
    name             TEXT NOT NULL,
    sender           TEXT,
    size_bytes       INTEGER NOT NULL,
    created          INTEGER,
    modified         INTEGER,
    path             TEXT NOT NULL,
    content_ref      BLOB NOT NULL,
    PRIMARY KEY (restore_point_id, resource_kind, resource_id, item_id),
    FOREIGN KEY (restore_point_id, resource_id, resource_kind)
        REFERENCES restore_point_resources (restore_point_id, resource_id, kind)
        ON DELETE CASCADE
) WITHOUT ROWID;

-- A folder's children of one kind (a page of a folder's files, or its
-- subfolders), in item id order, straight from the index.
CREATE INDEX catalog_items_by_parent
    ON catalog_items (restore_point_id, resource_kind, resource_id, parent_id, kind, item_id);
-- Every entry of one kind (every file of a drive), in item id order.
CREATE INDEX catalog_items_by_kind
    ON catalog_items (restore_point_id, resource_kind, resource_id, kind, item_id);

CREATE TABLE catalog_resources (
    restore_point_id TEXT NOT NULL,
    resource_kind    TEXT NOT NULL,
    resource_id      TEXT NOT NULL,
    PRIMARY KEY (restore_point_id, resource_kind, resource_id),
    FOREIGN KEY (restore_point_id, resource_id, resource_kind)
        REFERENCES restore_point_resources (restore_point_id, resource_id, kind)
        ON DELETE CASCADE
) WITHOUT ROWID;
