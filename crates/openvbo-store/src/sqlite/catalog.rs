//! The catalog of backed-up items (`catalog_items`), paged by item id or path, and which resources'
//! catalogs are complete (`catalog_resources`).

use openvbo_core::backup::{
    CatalogCursor, CatalogItem, CatalogItemKind, CatalogOrder, CatalogPage, CatalogQuery,
    CatalogScope, ResourceKind,
};
use openvbo_core::store::StoreError;
use sqlx::{FromRow, SqliteConnection, SqlitePool};

use super::convert::{clip, from_opt_millis, parse_enum, parse_id, to_i64, to_opt_millis};
use super::error::{err, map};

const COLUMNS: &str = "restore_point_id, resource_kind, resource_id, item_id, parent_id, kind, \
     name, sender, size_bytes, created, modified, path, content_ref";

/// The three columns that name a resource of a point, bound as ?1, ?2, ?3.
const SCOPE: &str = "restore_point_id = ?1 AND resource_kind = ?2 AND resource_id = ?3";

/// Pages are capped whatever the caller asks, so one call stays small.
const MAX_PAGE: u64 = 10_000;

#[derive(FromRow)]
struct Row {
    restore_point_id: String,
    resource_kind: String,
    resource_id: String,
    item_id: String,
    parent_id: Option<String>,
    kind: String,
    name: String,
    sender: Option<String>,
    size_bytes: i64,
    created: Option<i64>,
    modified: Option<i64>,
    path: String,
    content_ref: Vec<u8>,
}

impl TryFrom<Row> for CatalogItem {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<CatalogItem, StoreError> {
        Ok(CatalogItem {
            restore_point_id: parse_id("catalog_items.restore_point_id", &r.restore_point_id)?,
            resource_kind: parse_enum(
                "catalog_items.resource_kind",
                &r.resource_kind,
                ResourceKind::parse,
            )?,
            resource_id: r.resource_id,
            item_id: r.item_id,
            parent_id: r.parent_id,
            kind: parse_enum("catalog_items.kind", &r.kind, CatalogItemKind::parse)?,
            name: r.name,
            sender: r.sender,
            size_bytes: r.size_bytes,
            created: from_opt_millis("catalog_items.created", r.created)?,
            modified: from_opt_millis("catalog_items.modified", r.modified)?,
            path: r.path,
            content_ref: r.content_ref,
        })
    }
}

/// The point must hold the resource (a Conflict naming it, not a foreign key error).
async fn check_holds(conn: &mut SqliteConnection, scope: &CatalogScope) -> Result<(), StoreError> {
    let holds: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM restore_point_resources \
         WHERE restore_point_id = ?1 AND kind = ?2 AND resource_id = ?3",
    )
    .bind(scope.restore_point_id.to_string())
    .bind(scope.resource_kind.as_str())
    .bind(&scope.resource_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(err("cannot read the restore point's resources"))?;
    match holds {
        Some(_) => Ok(()),
        None => Err(StoreError::Conflict(format!(
            "restore point {} does not hold the {} {}",
            scope.restore_point_id,
            scope.resource_kind,
            clip(&scope.resource_id)
        ))),
    }
}

pub(super) async fn insert(
    conn: &mut SqliteConnection,
    items: &[CatalogItem],
) -> Result<(), StoreError> {
    let what = "cannot add to the catalog";
    // Batches are usually of one resource: check each once.
    let mut checked: Option<CatalogScope> = None;
    for item in items {
        let scope = item.scope();
        if checked.as_ref() != Some(&scope) {
            check_holds(conn, &scope).await?;
            checked = Some(scope);
        }
        sqlx::query(&format!(
            "INSERT INTO catalog_items ({COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        ))
        .bind(item.restore_point_id.to_string())
        .bind(item.resource_kind.as_str())
        .bind(&item.resource_id)
        .bind(&item.item_id)
        .bind(item.parent_id.as_deref())
        .bind(item.kind.as_str())
        .bind(&item.name)
        .bind(item.sender.as_deref())
        .bind(item.size_bytes)
        .bind(to_opt_millis(item.created))
        .bind(to_opt_millis(item.modified))
        .bind(&item.path)
        .bind(&item.content_ref)
        .execute(&mut *conn)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(format!(
                "the item {} is already in the catalog of that restore point",
                clip(&item.item_id)
            )),
            e => map(what, e),
        })?;
    }
    Ok(())
}

/// The path as [`CatalogOrder::Path`] compares it; the same text as the path indexes of
/// migration 0006, so that SQLite serves the order from them.
const PATH_KEY: &str = "replace(path, '/', char(1))";

/// The statement of a page of `q`: ?1..?3 the scope, ?4 the cursor, ?5 the limit, ?6 the
/// offset, ?7 the parent, ?8 the kind, ?9 `Library`.
fn list_sql(q: &CatalogQuery) -> String {
    // One statement per shape, so that each is served in order by an index
    // (by parent, by kind, or the key) instead of an OR the planner cannot.
    let parent = match &q.parent_id {
        None => "",
        // A site's top level: its own and each library's; served by the kind index, in order,
        // filtered (a site's libraries are a handful).
        Some(None) if q.through_libraries => {
            "AND (parent_id IS NULL OR parent_id IN (SELECT l.item_id FROM catalog_items l \
             WHERE l.restore_point_id = ?1 AND l.resource_kind = ?2 AND l.resource_id = ?3 \
             AND l.kind = ?9))"
        }
        Some(None) => "AND parent_id IS NULL",
        Some(Some(_)) => "AND parent_id = ?7",
    };
    let kind = if q.kind.is_some() {
        "AND kind = ?8"
    } else {
        ""
    };
    let (after, order) = match q.order {
        CatalogOrder::ItemId => (
            "(?4 IS NULL OR item_id > ?4)".to_owned(),
            "item_id".to_owned(),
        ),
        // The cursor names the last item shown: the page goes on after its key. An unknown
        // cursor (its item gone) compares as NULL and ends the listing rather than restart it.
        CatalogOrder::Path => (
            format!(
                "(?4 IS NULL OR ({PATH_KEY}, name, item_id) > (SELECT {PATH_KEY}, name, item_id \
                 FROM catalog_items WHERE {SCOPE} AND item_id = ?4))"
            ),
            format!("{PATH_KEY}, name, item_id"),
        ),
    };
    format!(
        "SELECT {COLUMNS} FROM catalog_items \
         WHERE {SCOPE} AND {after} {parent} {kind} \
         ORDER BY {order} LIMIT ?5 OFFSET ?6"
    )
}

pub(super) async fn list(pool: &SqlitePool, q: &CatalogQuery) -> Result<CatalogPage, StoreError> {
    let limit = q.limit.clamp(1, MAX_PAGE);
    // The page and whether the catalog is complete are read in one transaction, so from one
    // snapshot: a page read while the catalog is being indexed again says so.
    let mut tx = pool.begin().await.map_err(err("cannot list the catalog"))?;
    let rows: Vec<Row> = sqlx::query_as(&list_sql(q))
        .bind(q.scope.restore_point_id.to_string())
        .bind(q.scope.resource_kind.as_str())
        .bind(&q.scope.resource_id)
        .bind(q.after.as_ref().map(|c| c.0.as_str()))
        // One more than asked: whether there is a next page, without counting.
        .bind(to_i64(limit.saturating_add(1)))
        .bind(to_i64(q.skip))
        .bind(q.parent_id.as_ref().and_then(|p| p.as_deref()))
        .bind(q.kind.map(CatalogItemKind::as_str))
        .bind(CatalogItemKind::Library.as_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(err("cannot list the catalog"))?;
    let complete = complete_in(&mut tx, &q.scope).await?;
    tx.rollback()
        .await
        .map_err(err("cannot list the catalog"))?;
    let mut items = rows
        .into_iter()
        .map(CatalogItem::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let more = u64::try_from(items.len()).unwrap_or(u64::MAX) > limit;
    if more {
        items.pop();
    }
    let next = if more {
        items.last().map(|i| CatalogCursor(i.item_id.clone()))
    } else {
        None
    };
    Ok(CatalogPage {
        items,
        next,
        complete,
    })
}

pub(super) async fn get(
    pool: &SqlitePool,
    scope: &CatalogScope,
    item_id: &str,
) -> Result<Option<CatalogItem>, StoreError> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM catalog_items WHERE {SCOPE} AND item_id = ?4"
    ))
    .bind(scope.restore_point_id.to_string())
    .bind(scope.resource_kind.as_str())
    .bind(&scope.resource_id)
    .bind(item_id)
    .fetch_optional(pool)
    .await
    .map_err(err("cannot read the catalog item"))?;
    row.map(CatalogItem::try_from).transpose()
}

pub(super) async fn complete(pool: &SqlitePool, scope: &CatalogScope) -> Result<bool, StoreError> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(err("cannot read the catalog's state"))?;
    complete_in(&mut conn, scope).await
}

async fn complete_in(
    conn: &mut SqliteConnection,
    scope: &CatalogScope,
) -> Result<bool, StoreError> {
    let found: Option<i64> =
        sqlx::query_scalar(&format!("SELECT 1 FROM catalog_resources WHERE {SCOPE}"))
            .bind(scope.restore_point_id.to_string())
            .bind(scope.resource_kind.as_str())
            .bind(&scope.resource_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(err("cannot read the catalog's state"))?;
    Ok(found.is_some())
}

/// Drops a resource's entries and its completion (inside the caller's transaction).
pub(super) async fn clear(
    conn: &mut SqliteConnection,
    scope: &CatalogScope,
) -> Result<(), StoreError> {
    for table in ["catalog_resources", "catalog_items"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE {SCOPE}"))
            .bind(scope.restore_point_id.to_string())
            .bind(scope.resource_kind.as_str())
            .bind(&scope.resource_id)
            .execute(&mut *conn)
            .await
            .map_err(err("cannot clear the catalog"))?;
    }
    Ok(())
}

pub(super) async fn mark_complete(
    conn: &mut SqliteConnection,
    scope: &CatalogScope,
) -> Result<(), StoreError> {
    let what = "cannot complete the catalog";
    check_holds(conn, scope).await?;
    // Top-level entries point at the mailbox or drive root, which is never catalogued.
    sqlx::query(&format!(
        "UPDATE catalog_items SET parent_id = NULL \
         WHERE {SCOPE} AND parent_id IS NOT NULL AND NOT EXISTS ( \
             SELECT 1 FROM catalog_items p \
             WHERE p.restore_point_id = ?1 AND p.resource_kind = ?2 AND p.resource_id = ?3 \
               AND p.item_id = catalog_items.parent_id AND p.kind IN ({containers}))",
        containers = CatalogItemKind::ALL
            .iter()
            .filter(|k| k.is_container())
            .map(|k| format!("'{}'", k.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .bind(scope.restore_point_id.to_string())
    .bind(scope.resource_kind.as_str())
    .bind(&scope.resource_id)
    .execute(&mut *conn)
    .await
    .map_err(err(what))?;
    sqlx::query(
        "INSERT INTO catalog_resources (restore_point_id, resource_kind, resource_id) \
         VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    )
    .bind(scope.restore_point_id.to_string())
    .bind(scope.resource_kind.as_str())
    .bind(&scope.resource_id)
    .execute(&mut *conn)
    .await
    .map_err(err(what))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use openvbo_core::backup::RestorePointId;
    use sqlx::sqlite::SqlitePoolOptions;

    use super::*;

    /// What SQLite plans for a page of `q`, one step a line.
    async fn plan(pool: &SqlitePool, q: &CatalogQuery) -> String {
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {}", list_sql(q)))
                .bind("point")
                .bind("OneDrive")
                .bind("user")
                .bind(q.after.as_ref().map(|c| c.0.as_str()))
                .bind(31_i64)
                .bind(30_i64)
                .bind(q.parent_id.as_ref().and_then(|p| p.as_deref()))
                .bind(q.kind.map(CatalogItemKind::as_str))
                .bind("Library")
                .fetch_all(pool)
                .await
                .unwrap();
        rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
    }

    /// Every shape a drive is browsed with is served in path order by an index: no sort of
    /// the folder or the drive (a `TEMP B-TREE`) whatever its size.
    #[tokio::test]
    async fn path_ordered_pages_are_served_by_the_path_indexes() {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        super::super::MIGRATOR.run(&pool).await.unwrap();
        let scope = CatalogScope {
            restore_point_id: RestorePointId::new_random(),
            resource_kind: ResourceKind::OneDrive,
            resource_id: "user".into(),
        };
        let shapes = [
            (
                Some(Some("folder".to_owned())),
                false,
                None,
                "catalog_items_by_parent_path",
            ),
            (Some(None), false, None, "catalog_items_by_parent_path"),
            (None, false, None, "catalog_items_by_kind_path"),
            (Some(None), true, None, "catalog_items_by_kind_path"),
            (
                Some(Some("folder".to_owned())),
                false,
                Some(CatalogCursor("after".into())),
                "catalog_items_by_parent_path",
            ),
        ];
        for (parent, through_libraries, after, index) in shapes {
            for kind in [CatalogItemKind::File, CatalogItemKind::Folder] {
                let q = CatalogQuery {
                    kind: Some(kind),
                    order: CatalogOrder::Path,
                    through_libraries,
                    after: after.clone(),
                    ..CatalogQuery::new(scope.clone(), parent.clone(), 30)
                };
                let plan = plan(&pool, &q).await;
                assert!(!plan.contains("TEMP B-TREE"), "{q:?} sorts:\n{plan}");
                assert!(
                    plan.lines().next().is_some_and(|l| l.contains(index)),
                    "{q:?} is not served by {index}:\n{plan}"
                );
            }
        }
    }
}
