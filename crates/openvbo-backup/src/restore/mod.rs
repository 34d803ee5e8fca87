//! Core's restore writers (`openvbo_core::restore::writers`) on the connector: messages
//! written back through Graph's mail API ([`mail`]), files through its drive API ([`drive`]),
//! each over a session core signed in (the organization's stored account or the one a
//! request names).

mod drive;
mod mail;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use openvbo_core::microsoft365::{DirectorySession, M365Failure};
use openvbo_core::restore::writers::{DriveWriter, MailWriter, RestoreConnector};
use openvbo_core::OrganizationId;
use openvbo_m365::drive::ResourceUnits;

use crate::connector::graph_of;

/// Makes restore writers over the connector's sessions, and holds each organization's
/// restore budget (SharePoint's resource units), shared by every restore into it.
#[derive(Default)]
pub struct GraphRestoreConnector {
    units: Mutex<HashMap<OrganizationId, Arc<ResourceUnits>>>,
}

impl GraphRestoreConnector {
    pub fn new() -> Self {
        Self::default()
    }

    /// The budget of `organization`, made with `per_minute` units (or the connector's
    /// default) the first time.
    fn units(&self, organization: OrganizationId, per_minute: Option<u32>) -> Arc<ResourceUnits> {
        let mut all = self.units.lock().unwrap_or_else(PoisonError::into_inner);
        all.entry(organization)
            .or_insert_with(|| {
                Arc::new(per_minute.map_or_else(ResourceUnits::default, ResourceUnits::new))
            })
            .clone()
    }
}

impl RestoreConnector for GraphRestoreConnector {
    fn mail_writer(
        &self,
        session: Arc<dyn DirectorySession>,
    ) -> Result<Arc<dyn MailWriter>, M365Failure> {
        Ok(Arc::new(mail::GraphMailWriter::new(graph_of(
            session.as_ref(),
        )?)))
    }

    fn drive_writer(
        &self,
        session: Arc<dyn DirectorySession>,
        organization: OrganizationId,
        units_per_minute: Option<u32>,
    ) -> Result<Arc<dyn DriveWriter>, M365Failure> {
        Ok(Arc::new(drive::GraphDriveWriter::new(
            graph_of(session.as_ref())?,
            self.units(organization, units_per_minute),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_restore_into_an_organization_shares_its_budget() {
        let connector = GraphRestoreConnector::new();
        let a = OrganizationId::new_random();
        let first = connector.units(a, Some(50));
        let again = connector.units(a, Some(5000));
        assert!(Arc::ptr_eq(&first, &again));
        let other = connector.units(OrganizationId::new_random(), None);
        assert!(!Arc::ptr_eq(&first, &other));
    }
}
