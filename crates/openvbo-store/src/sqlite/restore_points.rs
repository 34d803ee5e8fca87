//! Restore points and the resources backed up in each
//! (`restore_points`, `restore_point_resources`).

use async_trait::async_trait;
use openvbo_core::backup::{
    CatalogItem, CatalogPage, CatalogQuery, CatalogScope, JobId, ProtectedResource, RepositoryId,
    ResourceKind, RestorePoint, RestorePointFilter, RestorePointId, RestorePointResource,
};
use openvbo_core::store::{LicenceRevocation, RestorePointStore, StoreError};
use openvbo_core::OrganizationId;
use sqlx::{FromRow, SqliteConnection};

use super::catalog;
use super::convert::{
    clip, from_millis, parse_enum, parse_id, parse_opt_id, to_millis, to_opt_millis,
};
use super::error::{err, map};
use super::SqliteStore;

const COLUMNS: &str = "id, repository_id, job_id, job_session_id, organization_id, backup_time, \
     is_exchange, is_sharepoint, is_onedrive, is_teams, is_long_term_copy, is_retrieved, \
     retrieval_id";
const RESOURCE_COLUMNS: &str =
    "restore_point_id, resource_id, kind, display_name, address, item_count, size_bytes, record";

#[derive(FromRow)]
struct Row {
    id: String,
    repository_id: String,
    job_id: String,
    job_session_id: Option<String>,
    organization_id: String,
    backup_time: i64,
    is_exchange: bool,
    is_sharepoint: bool,
    is_onedrive: bool,
    is_teams: bool,
    is_long_term_copy: bool,
    is_retrieved: bool,
    retrieval_id: Option<String>,
}

impl TryFrom<Row> for RestorePoint {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<RestorePoint, StoreError> {
        Ok(RestorePoint {
            id: parse_id("restore_points.id", &r.id)?,
            repository_id: parse_id("restore_points.repository_id", &r.repository_id)?,
            job_id: parse_id("restore_points.job_id", &r.job_id)?,
            job_session_id: parse_opt_id(
                "restore_points.job_session_id",
                r.job_session_id.as_deref(),
            )?,
            organization_id: parse_id("restore_points.organization_id", &r.organization_id)?,
            backup_time: from_millis("restore_points.backup_time", r.backup_time)?,
            is_exchange: r.is_exchange,
            is_sharepoint: r.is_sharepoint,
            is_onedrive: r.is_onedrive,
            is_teams: r.is_teams,
            is_long_term_copy: r.is_long_term_copy,
            is_retrieved: r.is_retrieved,
            retrieval_id: r.retrieval_id,
        })
    }
}

#[derive(FromRow)]
struct ResourceRow {
    restore_point_id: String,
    resource_id: String,
    kind: String,
    display_name: String,
    address: String,
    item_count: i64,
    size_bytes: i64,
    record: Vec<u8>,
}

impl TryFrom<ResourceRow> for RestorePointResource {
    type Error = StoreError;

    fn try_from(r: ResourceRow) -> Result<RestorePointResource, StoreError> {
        Ok(RestorePointResource {
            restore_point_id: parse_id(
                "restore_point_resources.restore_point_id",
                &r.restore_point_id,
            )?,
            kind: parse_enum("restore_point_resources.kind", &r.kind, ResourceKind::parse)?,
            resource_id: r.resource_id,
            display_name: r.display_name,
            address: r.address,
            item_count: r.item_count,
            size_bytes: r.size_bytes,
            record: r.record,
        })
    }
}

#[derive(FromRow)]
struct ProtectedRow {
    organization_id: String,
    kind: String,
    resource_id: String,
    display_name: String,
    address: String,
    first_time: i64,
    last_time: i64,
}

impl TryFrom<ProtectedRow> for ProtectedResource {
    type Error = StoreError;

    fn try_from(r: ProtectedRow) -> Result<ProtectedResource, StoreError> {
        Ok(ProtectedResource {
            organization_id: parse_id("restore_points.organization_id", &r.organization_id)?,
            kind: parse_enum("restore_point_resources.kind", &r.kind, ResourceKind::parse)?,
            resource_id: r.resource_id,
            display_name: r.display_name,
            address: r.address,
            first_backup_time: from_millis("restore_points.backup_time", r.first_time)?,
            last_backup_time: from_millis("restore_points.backup_time", r.last_time)?,
        })
    }
}

/// The flag of `restore_points` that a resource of `kind` raises.
fn flag(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Mailbox | ResourceKind::ArchiveMailbox => "is_exchange",
        ResourceKind::OneDrive => "is_onedrive",
        ResourceKind::Site => "is_sharepoint",
        ResourceKind::Team => "is_teams",
    }
}

async fn add_resource(
    conn: &mut SqliteConnection,
    r: &RestorePointResource,
) -> Result<bool, StoreError> {
    let what = "cannot add the resource to the restore point";
    let point = r.restore_point_id.to_string();
    let raised = sqlx::query(&format!(
        "UPDATE restore_points SET {} = 1 WHERE id = ?1",
        flag(r.kind)
    ))
    .bind(&point)
    .execute(&mut *conn)
    .await
    .map_err(err(what))?;
    if raised.rows_affected() == 0 {
        return Ok(false);
    }
    let inserted = sqlx::query(&format!(
        "INSERT INTO restore_point_resources ({RESOURCE_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))
    .bind(&point)
    .bind(&r.resource_id)
    .bind(r.kind.as_str())
    .bind(&r.display_name)
    .bind(&r.address)
    .bind(r.item_count)
    .bind(r.size_bytes)
    .bind(&r.record)
    .execute(&mut *conn)
    .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            Err(StoreError::Conflict(format!(
                "restore point {point} already holds the {} {}",
                r.kind.as_str(),
                clip(&r.resource_id)
            )))
        }
        Err(e) => Err(map(what, e)),
    }
}

const PROTECTED: &str = "WITH spans AS ( \
       SELECT p.organization_id AS organization_id, r.kind AS kind, \
              r.resource_id AS resource_id, \
              MIN(p.backup_time) AS first_time, MAX(p.backup_time) AS last_time \
       FROM restore_point_resources r JOIN restore_points p ON p.id = r.restore_point_id \
       WHERE p.repository_id = ?1 AND (?2 IS NULL OR p.organization_id = ?2) \
       GROUP BY p.organization_id, r.kind, r.resource_id), \
     latest AS ( \
       SELECT s.*, (SELECT r.restore_point_id FROM restore_point_resources r \
                    JOIN restore_points p ON p.id = r.restore_point_id \
                    WHERE p.repository_id = ?1 AND p.organization_id = s.organization_id \
                      AND r.kind = s.kind AND r.resource_id = s.resource_id \
                    ORDER BY p.backup_time DESC, p.id DESC LIMIT 1) AS point \
       FROM spans s) \
     SELECT l.organization_id, l.kind, l.resource_id, r.display_name, r.address, \
            l.first_time, l.last_time \
     FROM latest l JOIN restore_point_resources r \
       ON r.restore_point_id = l.point AND r.resource_id = l.resource_id \
          AND r.kind = l.kind \
     ORDER BY l.organization_id, l.kind, r.display_name, l.resource_id";

#[async_trait]
impl RestorePointStore for SqliteStore {
    async fn insert_restore_point(&self, point: &RestorePoint) -> Result<(), StoreError> {
        let what = "cannot add the restore point";
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO restore_points ({COLUMNS}) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        ))
        .bind(point.id.to_string())
        .bind(point.repository_id.to_string())
        .bind(point.job_id.to_string())
        .bind(point.job_session_id.map(|s| s.to_string()))
        .bind(point.organization_id.to_string())
        .bind(to_millis(point.backup_time))
        .bind(point.is_exchange)
        .bind(point.is_sharepoint)
        .bind(point.is_onedrive)
        .bind(point.is_teams)
        .bind(point.is_long_term_copy)
        .bind(point.is_retrieved)
        .bind(point.retrieval_id.as_deref())
        .execute(&mut *tx)
        .await
        .map(|_| ())
        .map_err(|e| match e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(format!("restore point {} already exists", point.id))
            }
            e => map(what, e),
        });
        tx.finish(inserted, what).await
    }

    async fn add_restore_point_resource(
        &self,
        resource: &RestorePointResource,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let added = add_resource(&mut tx, resource).await;
        tx.finish(added, "cannot add the resource to the restore point")
            .await
    }

    async fn list_restore_points(
        &self,
        filter: &RestorePointFilter,
    ) -> Result<Vec<RestorePoint>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM restore_points \
             WHERE (?1 IS NULL OR organization_id = ?1) AND (?2 IS NULL OR job_id = ?2) \
               AND (?3 IS NULL OR repository_id = ?3) AND (?4 IS NULL OR backup_time > ?4) \
             ORDER BY backup_time, id"
        ))
        .bind(filter.organization_id.map(|o| o.to_string()))
        .bind(filter.job_id.map(|j| j.to_string()))
        .bind(filter.repository_id.map(|r| r.to_string()))
        .bind(to_opt_millis(filter.created_after))
        .fetch_all(&self.read)
        .await
        .map_err(err("cannot list restore points"))?;
        rows.into_iter().map(RestorePoint::try_from).collect()
    }

    async fn get_restore_point(
        &self,
        id: RestorePointId,
    ) -> Result<Option<RestorePoint>, StoreError> {
        let row: Option<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM restore_points WHERE id = ?1"
        ))
        .bind(id.to_string())
        .fetch_optional(&self.read)
        .await
        .map_err(err("cannot read the restore point"))?;
        row.map(RestorePoint::try_from).transpose()
    }

    async fn list_restore_point_resources(
        &self,
        id: RestorePointId,
    ) -> Result<Vec<RestorePointResource>, StoreError> {
        let rows: Vec<ResourceRow> = sqlx::query_as(&format!(
            "SELECT {RESOURCE_COLUMNS} FROM restore_point_resources \
             WHERE restore_point_id = ?1 ORDER BY kind, display_name, resource_id"
        ))
        .bind(id.to_string())
        .fetch_all(&self.read)
        .await
        .map_err(err("cannot list the restore point's resources"))?;
        rows.into_iter()
            .map(RestorePointResource::try_from)
            .collect()
    }

    async fn latest_resource_backup(
        &self,
        job: JobId,
        kind: ResourceKind,
        resource_id: &str,
    ) -> Result<Option<RestorePointResource>, StoreError> {
        let row: Option<ResourceRow> = sqlx::query_as(
            "SELECT r.restore_point_id, r.resource_id, r.kind, r.display_name, r.address, \
                    r.item_count, r.size_bytes, r.record \
             FROM restore_point_resources r JOIN restore_points p ON p.id = r.restore_point_id \
             WHERE p.job_id = ?1 AND r.resource_id = ?2 AND r.kind = ?3 \
             ORDER BY p.backup_time DESC, p.id DESC LIMIT 1",
        )
        .bind(job.to_string())
        .bind(resource_id)
        .bind(kind.as_str())
        .fetch_optional(&self.read)
        .await
        .map_err(err("cannot find the resource's latest backup"))?;
        row.map(RestorePointResource::try_from).transpose()
    }

    async fn protected_resources(
        &self,
        repository: RepositoryId,
        organization: Option<OrganizationId>,
    ) -> Result<Vec<ProtectedResource>, StoreError> {
        let rows: Vec<ProtectedRow> = sqlx::query_as(PROTECTED)
            .bind(repository.to_string())
            .bind(organization.map(|o| o.to_string()))
            .fetch_all(&self.read)
            .await
            .map_err(err("cannot list the repository's protected resources"))?;
        rows.into_iter().map(ProtectedResource::try_from).collect()
    }

    async fn delete_restore_point(&self, id: RestorePointId) -> Result<bool, StoreError> {
        let what = "cannot remove the restore point";
        let mut tx = self.begin_write().await?;
        // Resources and catalog go with it: ON DELETE CASCADE.
        let deleted = sqlx::query("DELETE FROM restore_points WHERE id = ?1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map(|done| done.rows_affected() > 0)
            .map_err(err(what));
        tx.finish(deleted, what).await
    }

    async fn move_restore_points(
        &self,
        points: &[RestorePointId],
        to: RepositoryId,
    ) -> Result<u64, StoreError> {
        let what = "cannot move the restore points to the repository";
        let mut tx = self.begin_write().await?;
        let mut moved = 0u64;
        let mut result = Ok(());
        // One statement per point inside one transaction: a bound list would need a
        // statement per batch size, and attaching moves at most a few thousand points.
        for point in points {
            match sqlx::query("UPDATE restore_points SET repository_id = ?2 WHERE id = ?1")
                .bind(point.to_string())
                .bind(to.to_string())
                .execute(&mut *tx)
                .await
            {
                Ok(done) => moved += done.rows_affected(),
                Err(e) => {
                    result = Err(map(what, e));
                    break;
                }
            }
        }
        tx.finish(result.map(|()| moved), what).await
    }

    async fn set_restore_point_resource_size(
        &self,
        point: RestorePointId,
        kind: ResourceKind,
        resource_id: &str,
        item_count: i64,
        size_bytes: i64,
    ) -> Result<bool, StoreError> {
        let what = "cannot update the restore point's resource";
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE restore_point_resources SET item_count = ?4, size_bytes = ?5 \
             WHERE restore_point_id = ?1 AND kind = ?2 AND resource_id = ?3",
        )
        .bind(point.to_string())
        .bind(kind.as_str())
        .bind(resource_id)
        .bind(item_count)
        .bind(size_bytes)
        .execute(&mut *tx)
        .await
        .map(|done| done.rows_affected() > 0)
        .map_err(err(what));
        // The catalog lists what the snapshot held before the clean-up: it is indexed again
        // from the snapshot by the next session that shows the resource.
        let updated = match updated {
            Ok(true) => {
                let scope = CatalogScope {
                    restore_point_id: point,
                    resource_kind: kind,
                    resource_id: resource_id.to_owned(),
                };
                catalog::clear(&mut tx, &scope).await.map(|()| true)
            }
            other => other,
        };
        tx.finish(updated, what).await
    }

    async fn insert_catalog_items(&self, items: &[CatalogItem]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let inserted = catalog::insert(&mut tx, items).await;
        tx.finish(inserted, "cannot add to the catalog").await
    }

    async fn list_catalog_items(&self, query: &CatalogQuery) -> Result<CatalogPage, StoreError> {
        catalog::list(&self.read, query).await
    }

    async fn get_catalog_item(
        &self,
        scope: &CatalogScope,
        item_id: &str,
    ) -> Result<Option<CatalogItem>, StoreError> {
        catalog::get(&self.read, scope, item_id).await
    }

    async fn catalog_complete(&self, scope: &CatalogScope) -> Result<bool, StoreError> {
        catalog::complete(&self.read, scope).await
    }

    async fn clear_catalog(&self, scope: &CatalogScope) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let cleared = catalog::clear(&mut tx, scope).await;
        tx.finish(cleared, "cannot clear the catalog").await
    }

    async fn complete_catalog(&self, scope: &CatalogScope) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let done = catalog::mark_complete(&mut tx, scope).await;
        tx.finish(done, "cannot complete the catalog").await
    }

    async fn revoke_licence(&self, revocation: &LicenceRevocation) -> Result<(), StoreError> {
        let what = "cannot record the revoked licence";
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO licence_revocations (organization_id, user_id, revoked_at) \
             VALUES (?1, ?2, ?3) \
             ON CONFLICT (organization_id, user_id) DO UPDATE SET revoked_at = excluded.revoked_at",
        )
        .bind(revocation.organization_id.to_string())
        .bind(&revocation.user_id)
        .bind(to_millis(revocation.revoked_at))
        .execute(&mut *tx)
        .await
        .map(|_| ())
        .map_err(|e| match e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::Conflict(
                format!("there is no organization {}", revocation.organization_id),
            ),
            e => map(what, e),
        });
        tx.finish(done, what).await
    }

    async fn licence_revocations(
        &self,
        organization: Option<OrganizationId>,
    ) -> Result<Vec<LicenceRevocation>, StoreError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT organization_id, user_id, revoked_at FROM licence_revocations \
             WHERE ?1 IS NULL OR organization_id = ?1 ORDER BY organization_id, user_id",
        )
        .bind(organization.map(|o| o.to_string()))
        .fetch_all(&self.read)
        .await
        .map_err(err("cannot list the revoked licences"))?;
        rows.into_iter()
            .map(|(org, user, at)| {
                Ok(LicenceRevocation {
                    organization_id: parse_id("licence_revocations.organization_id", &org)?,
                    user_id: user,
                    revoked_at: from_millis("licence_revocations.revoked_at", at)?,
                })
            })
            .collect()
    }
}
