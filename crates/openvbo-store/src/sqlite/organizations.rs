//! Organizations and their service accounts (`organizations`,
//! `organization_accounts`).

use std::collections::HashMap;

use async_trait::async_trait;
use openvbo_core::crypto::SealedSecret;
use openvbo_core::organization::{Organization, Service, ServiceAccount};
use openvbo_core::store::{OrganizationStore, StoreError};
use openvbo_core::{OrganizationId, Region, Upn};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row as _, SqliteConnection};

use super::convert::{clip, from_millis, parse_uuid, to_millis, uuid_text};
use super::error::{corrupt, err, map};
use super::SqliteStore;

#[async_trait]
impl OrganizationStore for SqliteStore {
    async fn insert_organization(&self, org: &Organization) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let inserted = insert(&mut tx, org).await;
        tx.finish(inserted, "cannot add the organization").await
    }

    async fn list_organizations(&self) -> Result<Vec<Organization>, StoreError> {
        // One read transaction, so organizations and accounts are one snapshot.
        let mut tx = self.begin_read().await?;
        let orgs = list(&mut tx).await;
        tx.finish(orgs, "cannot list organizations").await
    }

    async fn get_organization(
        &self,
        id: OrganizationId,
    ) -> Result<Option<Organization>, StoreError> {
        let mut tx = self.begin_read().await?;
        let org = get(&mut tx, id).await;
        tx.finish(org, "cannot read the organization").await
    }

    async fn update_organization(
        &self,
        org: &Organization,
        expected_revision: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let updated = update(&mut tx, org, expected_revision).await;
        tx.finish(updated, "cannot update the organization").await
    }

    async fn delete_organization(&self, id: OrganizationId) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let deleted = delete(&mut tx, id).await;
        tx.finish(deleted, "cannot delete the organization").await
    }
}

const ORG_COLUMNS: &str = "id, tenant_id, name, office_name, display_name, region, \
     is_teams_online, is_teams_chats_online, revision, created_at, updated_at";
const ACCOUNT_COLUMNS: &str = "organization_id, service, account, password, grant_admin_access, \
     use_custom_veeam_aad_application, share_point_save_all_web_parts";

async fn insert(conn: &mut SqliteConnection, org: &Organization) -> Result<(), StoreError> {
    let what = "cannot add the organization";
    let result = sqlx::query(
        "INSERT INTO organizations (id, tenant_id, name, office_name, display_name, region, \
         is_teams_online, is_teams_chats_online, revision, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )
    .bind(uuid_text(org.id.as_uuid()))
    .bind(&org.tenant_id)
    .bind(&org.name)
    .bind(&org.office_name)
    .bind(&org.display_name)
    .bind(org.region.as_str())
    .bind(org.is_teams_online)
    .bind(org.is_teams_chats_online)
    .bind(org.revision)
    .bind(to_millis(org.created_at))
    .bind(to_millis(org.updated_at))
    .execute(&mut *conn)
    .await;
    match result {
        Ok(_) => {}
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            return Err(match tenant_holder(conn, &org.tenant_id, None).await? {
                Some(conflict) => conflict,
                None => StoreError::Conflict(format!(
                    "an organization with id {} already exists",
                    org.id
                )),
            });
        }
        Err(e) => return Err(map(what, e)),
    }
    insert_accounts(conn, org).await
}

/// After a unique violation: the conflict naming the organization (other
/// than `except`) that holds `tenant_id`, if that was the cause. A failed
/// statement does not end an SQLite transaction, so this can still run.
async fn tenant_holder(
    conn: &mut SqliteConnection,
    tenant_id: &str,
    except: Option<OrganizationId>,
) -> Result<Option<StoreError>, StoreError> {
    let what = "cannot find the organization that already has the tenant";
    let holder =
        sqlx::query("SELECT id, name FROM organizations WHERE tenant_id = ?1 AND id IS NOT ?2")
            .bind(tenant_id)
            .bind(except.map(|id| uuid_text(id.as_uuid())))
            .fetch_optional(&mut *conn)
            .await
            .map_err(err(what))?;
    let Some(holder) = holder else {
        return Ok(None);
    };
    let id: String = holder.try_get("id").map_err(err(what))?;
    let name: String = holder.try_get("name").map_err(err(what))?;
    Ok(Some(StoreError::Conflict(format!(
        "organization {name} is already added (id {id})"
    ))))
}

async fn insert_accounts(
    conn: &mut SqliteConnection,
    org: &Organization,
) -> Result<(), StoreError> {
    for service in Service::ALL {
        let Some(account) = org.account(service) else {
            continue;
        };
        sqlx::query(
            "INSERT INTO organization_accounts (organization_id, service, account, password, \
             grant_admin_access, use_custom_veeam_aad_application, share_point_save_all_web_parts) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(uuid_text(org.id.as_uuid()))
        .bind(service.key())
        .bind(account.account.as_str())
        .bind(account.password.as_bytes())
        .bind(account.grant_admin_access)
        .bind(account.use_custom_veeam_aad_application)
        .bind(account.share_point_save_all_web_parts)
        .execute(&mut *conn)
        .await
        .map_err(err("cannot store the organization's accounts"))?;
    }
    Ok(())
}

async fn list(conn: &mut SqliteConnection) -> Result<Vec<Organization>, StoreError> {
    let what = "cannot list organizations";
    let org_rows = sqlx::query(&format!(
        "SELECT {ORG_COLUMNS} FROM organizations ORDER BY created_at, id"
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(err(what))?;
    let mut orgs = org_rows
        .iter()
        .map(org_from_row)
        .collect::<Result<Vec<_>, _>>()?;

    // All accounts in one query, matched up in memory: one query per
    // organization would not scale to thousands of them.
    let account_rows = sqlx::query(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM organization_accounts"
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(err(what))?;
    let position: HashMap<OrganizationId, usize> =
        orgs.iter().enumerate().map(|(i, o)| (o.id, i)).collect();
    for row in &account_rows {
        let (org_id, service, account) = account_from_row(row)?;
        // Only possible if foreign keys were off when the row was written.
        let Some(org) = position.get(&org_id).and_then(|&i| orgs.get_mut(i)) else {
            return Err(corrupt(format!(
                "organization_accounts has a row for organization {org_id}, which does not exist"
            )));
        };
        *org.account_mut(service) = Some(account);
    }
    Ok(orgs)
}

async fn get(
    conn: &mut SqliteConnection,
    id: OrganizationId,
) -> Result<Option<Organization>, StoreError> {
    let what = "cannot read the organization";
    let id_text = uuid_text(id.as_uuid());
    let row = sqlx::query(&format!(
        "SELECT {ORG_COLUMNS} FROM organizations WHERE id = ?1"
    ))
    .bind(&id_text)
    .fetch_optional(&mut *conn)
    .await
    .map_err(err(what))?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut org = org_from_row(&row)?;
    let account_rows = sqlx::query(&format!(
        "SELECT {ACCOUNT_COLUMNS} FROM organization_accounts WHERE organization_id = ?1"
    ))
    .bind(&id_text)
    .fetch_all(&mut *conn)
    .await
    .map_err(err(what))?;
    for row in &account_rows {
        let (_, service, account) = account_from_row(row)?;
        *org.account_mut(service) = Some(account);
    }
    Ok(Some(org))
}

async fn update(
    conn: &mut SqliteConnection,
    org: &Organization,
    expected_revision: i64,
) -> Result<bool, StoreError> {
    let what = "cannot update the organization";
    let id_text = uuid_text(org.id.as_uuid());
    // created_at is deliberately not written: it records the addition.
    let updated = sqlx::query(
        "UPDATE organizations SET tenant_id = ?3, name = ?4, office_name = ?5, \
         display_name = ?6, region = ?7, is_teams_online = ?8, is_teams_chats_online = ?9, \
         revision = ?10, updated_at = ?11 \
         WHERE id = ?1 AND revision = ?2",
    )
    .bind(&id_text)
    .bind(expected_revision)
    .bind(&org.tenant_id)
    .bind(&org.name)
    .bind(&org.office_name)
    .bind(&org.display_name)
    .bind(org.region.as_str())
    .bind(org.is_teams_online)
    .bind(org.is_teams_chats_online)
    .bind(org.revision)
    .bind(to_millis(org.updated_at))
    .execute(&mut *conn)
    .await;
    let updated = match updated {
        Ok(updated) => updated,
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            return Err(tenant_holder(conn, &org.tenant_id, Some(org.id))
                .await?
                .unwrap_or_else(|| map(what, sqlx::Error::Database(db))));
        }
        Err(e) => return Err(map(what, e)),
    };
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM organization_accounts WHERE organization_id = ?1")
        .bind(&id_text)
        .execute(&mut *conn)
        .await
        .map_err(err(what))?;
    insert_accounts(conn, org).await?;
    Ok(true)
}

async fn delete(conn: &mut SqliteConnection, id: OrganizationId) -> Result<bool, StoreError> {
    // Accounts go with it: ON DELETE CASCADE.
    let deleted = sqlx::query("DELETE FROM organizations WHERE id = ?1")
        .bind(uuid_text(id.as_uuid()))
        .execute(conn)
        .await
        .map_err(err("cannot delete the organization"))?;
    Ok(deleted.rows_affected() > 0)
}

fn org_from_row(row: &SqliteRow) -> Result<Organization, StoreError> {
    let what = "cannot read an organization";
    let id: String = row.try_get("id").map_err(err(what))?;
    let region: String = row.try_get("region").map_err(err(what))?;
    let id = OrganizationId::from(parse_uuid("organizations.id", &id)?);
    let region = Region::parse(&region).ok_or_else(|| {
        corrupt(format!(
            "organization {id} has region '{}', which is not a known region",
            clip(&region)
        ))
    })?;
    Ok(Organization {
        id,
        tenant_id: row.try_get("tenant_id").map_err(err(what))?,
        name: row.try_get("name").map_err(err(what))?,
        office_name: row.try_get("office_name").map_err(err(what))?,
        display_name: row.try_get("display_name").map_err(err(what))?,
        region,
        exchange: None,
        sharepoint: None,
        is_teams_online: row.try_get("is_teams_online").map_err(err(what))?,
        is_teams_chats_online: row.try_get("is_teams_chats_online").map_err(err(what))?,
        revision: row.try_get("revision").map_err(err(what))?,
        created_at: from_millis(
            "organizations.created_at",
            row.try_get("created_at").map_err(err(what))?,
        )?,
        updated_at: from_millis(
            "organizations.updated_at",
            row.try_get("updated_at").map_err(err(what))?,
        )?,
    })
}

fn account_from_row(
    row: &SqliteRow,
) -> Result<(OrganizationId, Service, ServiceAccount), StoreError> {
    let what = "cannot read an organization's account";
    let org_id: String = row.try_get("organization_id").map_err(err(what))?;
    let org_id = OrganizationId::from(parse_uuid(
        "organization_accounts.organization_id",
        &org_id,
    )?);
    let service: String = row.try_get("service").map_err(err(what))?;
    let service = Service::from_key(&service).ok_or_else(|| {
        corrupt(format!(
            "organization {org_id} has an account for service '{}', which is not known",
            clip(&service)
        ))
    })?;
    let account: String = row.try_get("account").map_err(err(what))?;
    let account = Upn::parse(&account).map_err(|problem| {
        corrupt(format!(
            "the {} account of organization {org_id}: {problem}",
            service.display_name()
        ))
    })?;
    let password: Vec<u8> = row.try_get("password").map_err(err(what))?;
    Ok((
        org_id,
        service,
        ServiceAccount {
            account,
            password: SealedSecret::from_bytes(password),
            grant_admin_access: row.try_get("grant_admin_access").map_err(err(what))?,
            use_custom_veeam_aad_application: row
                .try_get("use_custom_veeam_aad_application")
                .map_err(err(what))?,
            share_point_save_all_web_parts: row
                .try_get("share_point_save_all_web_parts")
                .map_err(err(what))?,
        },
    ))
}
