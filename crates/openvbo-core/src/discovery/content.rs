//! The bridge for readers of an organization's content (the backup engine,
//! the restore writers) that still call the Microsoft 365 connector
//! directly: they get the connector's own session behind discovery's shared
//! directory session. It goes once content is read through a port of its
//! own; discovery itself knows only the ports of `crate::microsoft365`.

use std::sync::Arc;

use openvbo_m365::GraphSession;

use super::service::DiscoveryService;
use crate::error::CoreError;
use crate::organization::Service;
use crate::OrganizationId;

impl DiscoveryService {
    /// A live Graph session of the organization's `service` account, shared
    /// with discovery's and renewed with it.
    pub async fn graph_session(
        &self,
        id: OrganizationId,
        service: Service,
    ) -> Result<Arc<GraphSession>, CoreError> {
        self.session(id, service)
            .await?
            .connector_session()
            .downcast::<GraphSession>()
            .map_err(|_| {
                CoreError::Internal(
                    "the Microsoft 365 token source does not give Graph sessions; content cannot be read".into(),
                )
            })
    }
}
