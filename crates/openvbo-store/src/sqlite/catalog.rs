//! The catalog of backed-up items (`catalog_items`), paged by item id.

use openvbo_core::backup::{
    CatalogCursor, CatalogItem, CatalogItemKind, CatalogPage, CatalogQuery, RestorePointId,
};
use openvbo_core::store::StoreError;
use sqlx::{FromRow, SqliteConnection, SqlitePool};

use super::convert::{clip, from_opt_millis, parse_enum, parse_id, to_i64, to_opt_millis};
use super::error::{err, map};

const COLUMNS: &str = "restore_point_id, resource_id, item_id, parent_id, kind, name, sender, \
     size_bytes, created, modified, path, content_ref";

/// Pages are capped whatever the caller asks, so one call stays small.
const MAX_PAGE: u64 = 10_000;

#[derive(FromRow)]
struct Row {
    restore_point_id: String,
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

pub(super) async fn insert(
    conn: &mut SqliteConnection,
    items: &[CatalogItem],
) -> Result<(), StoreError> {
    let what = "cannot add to the catalog";
    // Batches are usually of one resource: check each pair once.
    let mut checked: Option<(RestorePointId, &str)> = None;
    for item in items {
        if checked != Some((item.restore_point_id, item.resource_id.as_str())) {
            let holds: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM restore_point_resources \
                 WHERE restore_point_id = ?1 AND resource_id = ?2",
            )
            .bind(item.restore_point_id.to_string())
            .bind(&item.resource_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(err(what))?;
            if holds.is_none() {
                return Err(StoreError::Conflict(format!(
                    "restore point {} does not hold the resource {}",
                    item.restore_point_id,
                    clip(&item.resource_id)
                )));
            }
            checked = Some((item.restore_point_id, item.resource_id.as_str()));
        }
        sqlx::query(&format!(
            "INSERT INTO catalog_items ({COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        ))
        .bind(item.restore_point_id.to_string())
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

pub(super) async fn list(pool: &SqlitePool, q: &CatalogQuery) -> Result<CatalogPage, StoreError> {
    let limit = q.limit.clamp(1, MAX_PAGE);
    // One statement per shape, so that each uses the (…, parent_id, item_id)
    // index instead of an OR the planner cannot.
    let parent = match &q.parent_id {
        None => "",
        Some(None) => "AND parent_id IS NULL",
        Some(Some(_)) => "AND parent_id = ?5",
    };
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM catalog_items \
         WHERE restore_point_id = ?1 AND resource_id = ?2 AND (?3 IS NULL OR item_id > ?3) \
         {parent} ORDER BY item_id LIMIT ?4"
    ))
    .bind(q.restore_point_id.to_string())
    .bind(&q.resource_id)
    .bind(q.after.as_ref().map(|c| c.0.as_str()))
    // One more than asked: whether there is a next page, without counting.
    .bind(to_i64(limit.saturating_add(1)))
    .bind(q.parent_id.as_ref().and_then(|p| p.as_deref()))
    .fetch_all(pool)
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
    Ok(CatalogPage { items, next })
}

pub(super) async fn get(
    pool: &SqlitePool,
    point: RestorePointId,
    resource_id: &str,
    item_id: &str,
) -> Result<Option<CatalogItem>, StoreError> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM catalog_items \
         WHERE restore_point_id = ?1 AND resource_id = ?2 AND item_id = ?3"
    ))
    .bind(point.to_string())
    .bind(resource_id)
    .bind(item_id)
    .fetch_optional(pool)
    .await
    .map_err(err("cannot read the catalog item"))?;
    row.map(CatalogItem::try_from).transpose()
}
