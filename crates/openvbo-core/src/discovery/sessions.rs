//! One directory session per organization account, reused until shortly
//! before it expires, then renewed (or signed in again with the stored
//! password).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::clock::SharedClock;
use crate::crypto::Sealer;
use crate::error::CoreError;
use crate::microsoft365::{
    Credential, DirectorySession, FailureKind, M365Failure, SignIn, TokenSource,
};
use crate::organization::{Organization, Service};
use crate::OrganizationId;

/// A session is replaced when it has less than this left.
const RENEW_BEFORE: Duration = Duration::from_secs(5 * 60);

/// Per account (Exchange and SharePoint often share one); the revision is
/// part of the key so changed credentials get a new session.
type Key = (OrganizationId, String, i64);
type Slot = Arc<tokio::sync::Mutex<Option<Held>>>;

/// A session and when (on the injected clock) it must be replaced.
struct Held {
    session: Arc<dyn DirectorySession>,
    renew_at: Instant,
}

pub(crate) struct SessionPool {
    connector: Arc<dyn TokenSource>,
    sealer: Arc<Sealer>,
    clock: SharedClock,
    slots: Mutex<HashMap<Key, Slot>>,
}

impl SessionPool {
    pub(super) fn new(
        connector: Arc<dyn TokenSource>,
        sealer: Arc<Sealer>,
        clock: SharedClock,
    ) -> Self {
        Self {
            connector,
            sealer,
            clock,
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
    pub(super) fn forget(&self, id: OrganizationId) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.retain(|(org, _, _), _| *org != id);
    }

    fn hold(&self, session: Arc<dyn DirectorySession>) -> Held {
        let renew_at = self
            .clock
            .instant()
            .checked_add(session.remaining().saturating_sub(RENEW_BEFORE))
            .unwrap_or_else(|| self.clock.instant());
        Held { session, renew_at }
    }

    /// A live session for `service`'s account (or the other service's if the
    /// organization protects only one). Callers queue behind one sign-in.
    pub(super) async fn session(
        &self,
        org: &Organization,
        service: Service,
    ) -> Result<Arc<dyn DirectorySession>, CoreError> {
        let (service, account) = org
            .account_or_other(service)
            .ok_or_else(|| CoreError::Internal("organization without an account".into()))?;
        let slot = self.slot(org, account.account.as_str());
        let mut guard = slot.lock().await;
        let expiring = match guard.as_ref() {
            Some(current) if self.clock.instant() < current.renew_at => {
                return Ok(current.session.clone());
            }
            Some(current) => Some(current.session.clone()),
            None => None,
        };
        if let Some(expiring) = expiring {
            let renewed = match expiring.renew() {
                Some(renewal) => renewal.await.ok(),
                None => None,
            };
            if let Some(renewed) = renewed {
                let held = self.hold(renewed);
                let session = held.session.clone();
                *guard = Some(held);
                return Ok(session);
            }
        }
        let held = self.hold(self.sign_in(org, service).await?);
        let session = held.session.clone();
        *guard = Some(held);
        Ok(session)
    }

    async fn sign_in(
        &self,
        org: &Organization,
        service: Service,
    ) -> Result<Arc<dyn DirectorySession>, CoreError> {
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
        self.connector
            .sign_in(SignIn {
                cloud: org.region.cloud(),
                tenant: account.account.domain(),
                credential: Credential::Password {
                    username: account.account.as_str(),
                    password: &password,
                },
            })
            .await
            .map_err(|e| stored_credentials_error(e, org, service))
    }
}

/// The organization's stored credentials no longer work: the administrator
/// must give new ones.
fn stored_credentials_error(err: M365Failure, org: &Organization, service: Service) -> CoreError {
    match &err.kind {
        FailureKind::SignInRefused(_) => {
            let account = org
                .account(service)
                .map(|a| a.account.to_string())
                .unwrap_or_default();
            CoreError::StoredCredentials {
                organization: org.id,
                message: format!(
                    "Microsoft 365 refused the stored credentials of {account} for organization {} ({}); give the organization new ones ({}.account and password)",
                    org.name,
                    err.message,
                    service.settings_field()
                ),
            }
        }
        _ => crate::organization::upstream(err, "signing in to Microsoft 365"),
    }
}
