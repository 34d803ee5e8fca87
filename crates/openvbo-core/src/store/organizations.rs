//! Microsoft 365 organizations and their service accounts.

use async_trait::async_trait;

use super::StoreError;
use crate::organization::Organization;
use crate::OrganizationId;

#[async_trait]
pub trait OrganizationStore: Send + Sync {
    /// Conflict if an organization with the same tenant id exists.
    async fn insert_organization(&self, org: &Organization) -> Result<(), StoreError>;
    async fn list_organizations(&self) -> Result<Vec<Organization>, StoreError>;
    async fn get_organization(
        &self,
        id: OrganizationId,
    ) -> Result<Option<Organization>, StoreError>;
    /// Writes `org` (with `org.revision` already incremented) if the stored
    /// revision is still `expected_revision`; false otherwise (changed or gone).
    async fn update_organization(
        &self,
        org: &Organization,
        expected_revision: i64,
    ) -> Result<bool, StoreError>;
    /// False if there was no such organization.
    async fn delete_organization(&self, id: OrganizationId) -> Result<bool, StoreError>;
}
