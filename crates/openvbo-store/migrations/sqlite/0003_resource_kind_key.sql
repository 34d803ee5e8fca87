-- A user is several resources of one restore point: their mailbox and their
-- OneDrive share the user's id. A point's resources are therefore keyed by
-- (point, resource, kind); keyed by (point, resource) the second of them was
-- refused as a duplicate and failed the whole session.
--
-- catalog_items referenced the old two-column key; it now hangs off the
-- restore point itself (deleting a point still takes its catalog with it).

CREATE TABLE catalog_items_new (
    restore_point_id TEXT NOT NULL REFERENCES restore_points (id) ON DELETE CASCADE,
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
    PRIMARY KEY (restore_point_id, resource_id, item_id)
) WITHOUT ROWID;
INSERT INTO catalog_items_new SELECT
    restore_point_id, resource_id, item_id, parent_id, kind, name, sender, size_bytes,
    created, modified, path, content_ref
FROM catalog_items;
DROP TABLE catalog_items;
ALTER TABLE catalog_items_new RENAME TO catalog_items;
CREATE INDEX catalog_items_by_parent
    ON catalog_items (restore_point_id, resource_id, parent_id, item_id);

CREATE TABLE restore_point_resources_new (
    restore_point_id TEXT NOT NULL REFERENCES restore_points (id) ON DELETE CASCADE,
    resource_id      TEXT NOT NULL,
    kind             TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    address          TEXT NOT NULL,
    item_count       INTEGER NOT NULL,
    size_bytes       INTEGER NOT NULL,
    record           BLOB NOT NULL,
    PRIMARY KEY (restore_point_id, resource_id, kind)
) WITHOUT ROWID;
INSERT INTO restore_point_resources_new SELECT
    restore_point_id, resource_id, kind, display_name, address, item_count, size_bytes, record
FROM restore_point_resources;
DROP TABLE restore_point_resources;
ALTER TABLE restore_point_resources_new RENAME TO restore_point_resources;
CREATE INDEX restore_point_resources_by_resource ON restore_point_resources (resource_id);
