//! One Graph session per organization account, reused until shortly before
//! it expires, then refreshed (or signed in again with the stored password).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openvbo_m365::{ErrorKind, GraphSession, M365Client, M365Error};
use tokio::time::Instant;

use crate::crypto::Sealer;
use crate::error::CoreError;
use crate::organization::{EndpointOverrides, Organization, Service};
use crate::OrganizationId;

/// A session is replaced when it has less than this left.
const RENEW_BEFORE: Duration = Duration::from_secs(5 * 60);

/// Per account (Exchange and SharePoint often share one); the revision is
/// part of the key so changed credentials get a new session.
type Key = (OrganizationId, String, i64);
type Slot = Arc<tokio::sync::Mutex<Option<Arc<GraphSession>>>>;

pub(crate) struct SessionPool {
    connector: M365Client,
    sealer: Arc<Sealer>,
    endpoints: EndpointOverrides,
    slots: Mutex<HashMap<Key, Slot>>,
}

impl SessionPool {
    pub fn new(connector: M365Client, sealer: Arc<Sealer>, endpoints: EndpointOverrides) -> Self {
        Self {
            connector,
            sealer,
            endpoints,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, org: &Organization, account: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        // Sessions of older revisions of this organization are dead weight.
        slots.retain(|(id, _, revision), _| *id != org.id || *revision == org.revision);
        slots
            .entry((org.id, account.to_lowercase(), org.revision))
            .or_default()
            .clone()
    }

    /// Forgets every session of an organization (removed, or its token was refused).
    pub fn forget(&self, id: OrganizationId) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.retain(|(org, _, _), _| *org != id);
    }

    /// A live session for `service`'s account (or the other service's if the
    /// organization protects only one). Callers queue behind one sign-in.
    pub async fn session(
        &self,
        org: &Organization,
        service: Service,
    ) -> Result<Arc<GraphSession>, CoreError> {
        let service = if org.account(service).is_some() {
            service
        } else {
            Service::ALL
                .into_iter()
                .find(|s| org.account(*s).is_some())
                .ok_or_else(|| CoreError::Internal("organization without an account".into()))?
        };
        let account = org
            .account(service)
            .map(|a| a.account.to_string())
            .unwrap_or_default();
        let slot = self.slot(org, &account);
        let mut guard = slot.lock().await;
        if let Some(current) = guard.as_ref() {
            if current.expires_at() > Instant::now() + RENEW_BEFORE {
                return Ok(current.clone());
            }
            if let Some(Ok(renewed)) = self.connector.refresh(current).await {
                let renewed = Arc::new(renewed);
                *guard = Some(renewed.clone());
                return Ok(renewed);
            }
        }
        let fresh = Arc::new(self.sign_in(org, service).await?);
        *guard = Some(fresh.clone());
        Ok(fresh)
    }

    async fn sign_in(
        &self,
        org: &Organization,
        service: Service,
    ) -> Result<GraphSession, CoreError> {
        let account = org
            .account(service)
            .ok_or_else(|| CoreError::Internal("organization without an account".into()))?;
        let password = self
            .sealer
            .open(
                &account.password,
                &Organization::secret_context(org.id, service),
            )
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let endpoints = self.endpoints.endpoints(org.region);
        self.connector
            .sign_in_with_password(
                &endpoints,
                account.account.domain(),
                account.account.as_str(),
                &password,
            )
            .await
            .map_err(|e| stored_credentials_error(e, org, service))
    }
}

/// The organization's stored credentials no longer work: the administrator
/// must give new ones.
fn stored_credentials_error(err: M365Error, org: &Organization, service: Service) -> CoreError {
    match &err.kind {
        ErrorKind::SignIn(_) => {
            let account = org
                .account(service)
                .map(|a| a.account.to_string())
                .unwrap_or_default();
            CoreError::Refused(format!(
                "Microsoft 365 refused the stored credentials of {account} for organization {} ({}). Update them with PUT /v6/Organizations/{} ({}.account and password)",
                org.name,
                err.message,
                org.id,
                service.settings_field()
            ))
        }
        _ => crate::organization::upstream(err, "signing in to Microsoft 365"),
    }
}
