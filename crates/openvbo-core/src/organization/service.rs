//! Adding, listing, changing and removing organizations:
//! validate → sign in to Microsoft 365 → check → persist.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

use super::model::{Organization, Service, ServiceAccount};
use super::request::{AccountChange, NewServiceAccount, OrganizationRequest};
use super::snapshot::{Snapshot, SnapshotCache};
use super::verify::{verify, Credential, VerifiedTenant};
use crate::clock::SharedClock;
use crate::crypto::Sealer;
use crate::error::CoreError;
use crate::microsoft365::TokenSource;
use crate::store::{Store, StoreError};
use crate::{OrganizationId, Upn};

/// An organization just added, and how long Microsoft 365 took to confirm it.
#[derive(Debug)]
pub struct Added {
    pub organization: Organization,
    /// Time spent waiting for Microsoft's answers (sign-in, tenant, roles).
    pub microsoft: Duration,
}

/// Told when an organization is removed, to drop what it keeps of it in
/// memory (Graph sessions, cached listings).
pub trait RemovalListener: Send + Sync {
    fn removed(&self, id: OrganizationId);
}

#[derive(Clone)]
pub struct OrganizationService {
    store: Arc<dyn Store>,
    connector: Arc<dyn TokenSource>,
    sealer: Arc<Sealer>,
    clock: SharedClock,
    snapshot: Arc<SnapshotCache>,
    /// Weak, so a listener that is gone is simply skipped.
    listeners: Arc<Mutex<Vec<Weak<dyn RemovalListener>>>>,
}

impl OrganizationService {
    pub fn new(
        store: Arc<dyn Store>,
        connector: Arc<dyn TokenSource>,
        sealer: Arc<Sealer>,
        clock: SharedClock,
    ) -> Self {
        Self {
            store,
            connector,
            sealer,
            clock,
            snapshot: Arc::default(),
            listeners: Arc::default(),
        }
    }

    /// The token source organizations are verified with (discovery signs in
    /// with the same one).
    pub fn token_source(&self) -> Arc<dyn TokenSource> {
        self.connector.clone()
    }

    /// `listener` is told of every later removal, for as long as it lives.
    pub fn on_removed(&self, listener: Weak<dyn RemovalListener>) {
        let mut listeners = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
        listeners.retain(|l| l.strong_count() > 0);
        listeners.push(listener);
    }

    fn tell_removed(&self, id: OrganizationId) {
        let listeners: Vec<_> = {
            let mut listeners = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
            listeners.retain(|l| l.strong_count() > 0);
            listeners.iter().filter_map(Weak::upgrade).collect()
        };
        for listener in listeners {
            listener.removed(id);
        }
    }

    /// Adds an organization once Microsoft 365 has confirmed its accounts.
    #[tracing::instrument(skip_all)]
    pub async fn add(&self, input: OrganizationRequest) -> Result<Added, CoreError> {
        let new = input.into_new()?;
        let credentials = group_credentials(
            new.accounts
                .present()
                .map(|(s, a)| (s, &a.account, &a.password)),
        );
        // Real time, not the injected clock: this measures how long
        // Microsoft took, for the Server-Timing header.
        let waited = Instant::now();
        let tenant = verify(
            &self.connector,
            new.region,
            &credentials,
            new.is_teams_online,
        )
        .await?;
        let microsoft = waited.elapsed();

        let id = OrganizationId::new_random();
        let now = self.clock.now();
        let accounts = new
            .accounts
            .try_map(|service, a| a.map(|a| self.seal(id, service, &a)).transpose())?;
        let org = Organization {
            id,
            tenant_id: tenant.tenant_id,
            name: tenant.initial_domain.clone(),
            office_name: tenant.initial_domain,
            display_name: tenant.display_name,
            region: new.region,
            exchange: accounts.exchange,
            sharepoint: accounts.sharepoint,
            is_teams_online: new.is_teams_online,
            is_teams_chats_online: false,
            revision: 1,
            created_at: now,
            updated_at: now,
        };
        let inserted = self.store.insert_organization(&org).await;
        self.snapshot.invalidate();
        inserted.map_err(conflict_or)?;
        tracing::info!(organization = %org.id, name = %org.name, "organization added");
        Ok(Added {
            organization: org,
            microsoft,
        })
    }

    /// Every organization, from memory unless something changed.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, CoreError> {
        if let Some(current) = self.snapshot.current() {
            return Ok(current);
        }
        let generation = self.snapshot.generation();
        let organizations = self.store.list_organizations().await?;
        Ok(self.snapshot.install(generation, organizations))
    }

    pub async fn get(&self, id: OrganizationId) -> Result<Organization, CoreError> {
        self.snapshot()
            .await?
            .get(id)
            .cloned()
            .ok_or_else(|| not_found(id))
    }

    /// Changes flags and credentials; new credentials are verified with
    /// Microsoft before anything is stored.
    #[tracing::instrument(skip_all, fields(organization = %id))]
    pub async fn update(
        &self,
        id: OrganizationId,
        input: OrganizationRequest,
    ) -> Result<(), CoreError> {
        // From the store itself: the revision compared below must be the
        // stored one.
        let current = self
            .store
            .get_organization(id)
            .await?
            .ok_or_else(|| not_found(id))?;
        let update = input.into_update(&current)?;

        if update.needs_verification {
            // Stored passwords are opened only to prove the whole new
            // configuration works together.
            let opened = update.accounts.as_ref().try_map(|service, change| {
                Ok::<_, CoreError>(match change {
                    Some(AccountChange::Keep(kept)) => Some(
                        self.sealer
                            .open(&kept.password, &Organization::secret_context(id, service))
                            .map_err(|e| CoreError::Internal(e.to_string()))?,
                    ),
                    _ => None,
                })
            })?;
            // Kept accounts first, then new ones: the order in which
            // messages name them.
            let kept = update.accounts.iter().zip(opened.iter()).filter_map(
                |((service, change), (_, password))| match (change, password) {
                    (Some(AccountChange::Keep(kept)), Some(password)) => {
                        Some((service, &kept.account, password))
                    }
                    _ => None,
                },
            );
            let replaced = update
                .accounts
                .present()
                .filter_map(|(service, change)| match change {
                    AccountChange::Replace(new) => Some((service, &new.account, &new.password)),
                    AccountChange::Keep(_) => None,
                });
            let credentials = group_credentials(kept.chain(replaced));
            let tenant = verify(
                &self.connector,
                current.region,
                &credentials,
                update.is_teams_online,
            )
            .await?;
            ensure_same_tenant(&current, &tenant)?;
        }

        let mut next = current.clone();
        next.is_teams_online = update.is_teams_online;
        for (service, change) in update.accounts.iter() {
            *next.account_mut(service) = match change {
                None => None,
                Some(AccountChange::Keep(kept)) => Some(kept.clone()),
                Some(AccountChange::Replace(new)) => Some(self.seal(id, service, new)?),
            };
        }
        next.revision = current.revision + 1;
        next.updated_at = self.clock.now();
        let written = self
            .store
            .update_organization(&next, current.revision)
            .await;
        self.snapshot.invalidate();
        if !written? {
            return match self.store.get_organization(id).await? {
                None => Err(not_found(id)),
                Some(_) => Err(CoreError::Conflict(format!(
                    "organization {} was changed by another request while this one was being verified; read it again and retry",
                    current.name
                ))),
            };
        }
        tracing::info!(name = %next.name, "organization updated");
        Ok(())
    }

    /// Removes the organization and everything kept of it in memory.
    pub async fn remove(&self, id: OrganizationId) -> Result<(), CoreError> {
        let deleted = self.store.delete_organization(id).await;
        self.snapshot.invalidate();
        if deleted? {
            self.tell_removed(id);
            tracing::info!(organization = %id, "organization removed");
            Ok(())
        } else {
            Err(not_found(id))
        }
    }

    fn seal(
        &self,
        id: OrganizationId,
        service: Service,
        account: &NewServiceAccount,
    ) -> Result<ServiceAccount, CoreError> {
        let password = self
            .sealer
            .seal(
                &account.password,
                &Organization::secret_context(id, service),
            )
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        Ok(ServiceAccount {
            account: account.account.clone(),
            password,
            grant_admin_access: account.grant_admin_access,
            use_custom_veeam_aad_application: account.use_custom_veeam_aad_application,
            share_point_save_all_web_parts: account.share_point_save_all_web_parts,
        })
    }
}

/// One sign-in per distinct account: Exchange and SharePoint often share one.
fn group_credentials<'a>(
    accounts: impl Iterator<Item = (Service, &'a Upn, &'a SecretString)>,
) -> Vec<Credential<'a>> {
    let mut out: Vec<Credential<'a>> = Vec::new();
    for (service, account, password) in accounts {
        match out.iter_mut().find(|c| {
            c.account.same_account(account)
                && c.password.expose_secret() == password.expose_secret()
        }) {
            Some(existing) => existing.services.push(service),
            None => out.push(Credential {
                services: vec![service],
                account,
                password,
            }),
        }
    }
    out
}

fn ensure_same_tenant(current: &Organization, tenant: &VerifiedTenant) -> Result<(), CoreError> {
    if tenant.tenant_id != current.tenant_id {
        return Err(CoreError::Refused(format!(
            "the account belongs to the Microsoft 365 organization {}, not to {}; an organization's accounts cannot be moved to another tenant",
            tenant.initial_domain, current.name
        )));
    }
    Ok(())
}

fn not_found(id: OrganizationId) -> CoreError {
    CoreError::NotFound(format!("organization {id} does not exist"))
}

fn conflict_or(err: StoreError) -> CoreError {
    match err {
        StoreError::Conflict(message) => CoreError::Conflict(message),
        other => CoreError::Store(other),
    }
}
