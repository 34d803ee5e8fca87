//! The repository of a repository id, through core's repository service
//! (which opens one shared engine handle per location).

use async_trait::async_trait;
use openvbo_core::backup::RepositoryId;
use openvbo_core::repositories::RepositoryService;
use openvbo_repo::Repository;

use crate::error::UnitError;
use crate::worker::RepositoryOpener;

pub struct ServiceRepositories {
    service: RepositoryService,
}

impl ServiceRepositories {
    pub fn new(service: RepositoryService) -> Self {
        ServiceRepositories { service }
    }
}

#[async_trait]
impl RepositoryOpener for ServiceRepositories {
    async fn open(&self, id: RepositoryId) -> Result<Repository, UnitError> {
        let handle = self
            .service
            .engine(id)
            .await
            .map_err(|e| UnitError::Setup(format!("opening repository {id}: {e}")))?;
        handle
            .as_any()
            .downcast_ref::<Repository>()
            .cloned()
            .ok_or_else(|| {
                UnitError::Setup(format!("repository {id} is not an openvbo repository"))
            })
    }
}
