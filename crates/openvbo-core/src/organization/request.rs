//! What a validated request to add or change an organization asks for,
//! and the rules that turn it into something openvbo can act on: which
//! services, which accounts, and how a change merges with what is stored.
//! The interface that received the request (the v6 body in `openvbo-api`)
//! has already refused what it does not support (only basic authentication
//! with an account and a password is).

use secrecy::{ExposeSecret, SecretString};

use super::model::{Organization, ServiceAccount};
use super::per_service::PerService;
use crate::error::CoreError;
use crate::{Region, Upn};

/// One service's settings as the request gives them; absent parts keep
/// their stored value on a change. The account and password are checked
/// only for a service that is enabled.
#[derive(Debug, Default)]
pub struct AccountSettings {
    pub account: Option<String>,
    pub password: Option<SecretString>,
    pub grant_admin_access: Option<bool>,
    pub share_point_save_all_web_parts: Option<bool>,
}

/// What a request says about one service.
#[derive(Debug, Default)]
pub struct ServiceRequest {
    /// Whether the service is to be protected (absent: unchanged).
    pub enabled: Option<bool>,
    pub settings: Option<AccountSettings>,
}

/// A validated request to add an organization or change one.
#[derive(Debug, Default)]
pub struct OrganizationRequest {
    pub region: Option<Region>,
    pub is_teams_online: Option<bool>,
    pub services: PerService<ServiceRequest>,
}

/// An account given in a request, its password still in clear (it is
/// verified with Microsoft before being sealed).
#[derive(Debug)]
pub struct NewServiceAccount {
    pub account: Upn,
    pub password: SecretString,
    pub grant_admin_access: bool,
    pub use_custom_veeam_aad_application: bool,
    pub share_point_save_all_web_parts: bool,
}

/// A validated request to add an Office 365 organization with basic
/// authentication.
#[derive(Debug)]
pub struct NewOffice365Organization {
    pub region: Region,
    /// The accounts of the services to protect (at least one).
    pub accounts: PerService<Option<NewServiceAccount>>,
    pub is_teams_online: bool,
}

/// After an update, a service's account is either the stored one (flags
/// possibly changed) or a new one that must be verified first.
#[derive(Debug)]
pub enum AccountChange {
    Keep(ServiceAccount),
    Replace(NewServiceAccount),
}

/// A validated update of an existing organization.
#[derive(Debug)]
pub struct OrganizationUpdate {
    /// What each service's account becomes (`None`: not protected).
    pub accounts: PerService<Option<AccountChange>>,
    pub is_teams_online: bool,
    /// Whether Microsoft must confirm the result before it is stored: new
    /// credentials, or a service that needs a role not checked before.
    pub needs_verification: bool,
}

impl OrganizationRequest {
    /// The organization to add.
    pub fn into_new(self) -> Result<NewOffice365Organization, CoreError> {
        if !self.services.iter().any(|(_, r)| r.enabled == Some(true)) {
            return Err(CoreError::validation(
                "isExchangeOnline",
                "at least one of isExchangeOnline and isSharePointOnline must be true",
            ));
        }
        let accounts = self.services.try_map(|service, requested| {
            if requested.enabled != Some(true) {
                return Ok(None);
            }
            let settings = requested.settings.as_ref().ok_or_else(|| {
                CoreError::validation(
                    service.settings_field(),
                    format!(
                        "{} is required when {} is true",
                        service.settings_field(),
                        service.flag_field()
                    ),
                )
            })?;
            settings.new_account(service.settings_field()).map(Some)
        })?;
        Ok(NewOffice365Organization {
            region: self.region.unwrap_or(Region::Worldwide),
            accounts,
            // The seed's example omits it and expects Teams to be protected.
            is_teams_online: self.is_teams_online.unwrap_or(true),
        })
    }

    /// The change to `current`. Absent properties keep their value; an
    /// absent password keeps the stored one unless the account changes.
    pub fn into_update(self, current: &Organization) -> Result<OrganizationUpdate, CoreError> {
        if let Some(region) = self.region {
            if region != current.region {
                return Err(CoreError::validation(
                    "region",
                    format!(
                        "region cannot be changed (the organization is in {}); remove the organization and add it again",
                        current.region.as_str()
                    ),
                ));
            }
        }
        let is_teams_online = self.is_teams_online.unwrap_or(current.is_teams_online);
        let accounts =
            self.services
                .zip(current.accounts())
                .try_map(|service, (requested, stored)| {
                    let enabled = requested.enabled.unwrap_or(stored.is_some());
                    if !enabled {
                        return Ok(None);
                    }
                    let change = match (&requested.settings, stored) {
                        (None, Some(stored)) => AccountChange::Keep(stored.clone()),
                        (None, None) => {
                            return Err(CoreError::validation(
                                service.settings_field(),
                                format!(
                                    "{} is required to enable {}",
                                    service.settings_field(),
                                    service.display_name()
                                ),
                            ))
                        }
                        (Some(settings), stored) => {
                            settings.merge_into(service.settings_field(), stored)?
                        }
                    };
                    Ok(Some(change))
                })?;
        if accounts.present().next().is_none() {
            return Err(CoreError::validation(
                "isExchangeOnline",
                "at least one of isExchangeOnline and isSharePointOnline must stay true",
            ));
        }
        // New credentials, a service not protected before, or Teams newly
        // asked for: each needs a role Microsoft has not confirmed yet.
        let needs_verification = (is_teams_online && !current.is_teams_online)
            || accounts.present().any(|(service, change)| {
                matches!(change, AccountChange::Replace(_)) || current.account(service).is_none()
            });
        Ok(OrganizationUpdate {
            accounts,
            is_teams_online,
            needs_verification,
        })
    }
}

const MAX_PASSWORD_LEN: usize = 256;

impl AccountSettings {
    fn parse_account(&self, field: &str) -> Result<Option<Upn>, CoreError> {
        self.account
            .as_deref()
            .map(|raw| {
                Upn::parse(raw).map_err(|reason| {
                    CoreError::validation(
                        format!("{field}.account"),
                        format!("{field}.account {reason}"),
                    )
                })
            })
            .transpose()
    }

    fn parse_password(&self, field: &str) -> Result<Option<SecretString>, CoreError> {
        match &self.password {
            None => Ok(None),
            Some(p) if p.expose_secret().is_empty() => Err(CoreError::validation(
                format!("{field}.password"),
                format!("{field}.password must not be empty"),
            )),
            Some(p) if p.expose_secret().len() > MAX_PASSWORD_LEN => Err(CoreError::validation(
                format!("{field}.password"),
                format!("{field}.password is longer than Microsoft Entra ID allows ({MAX_PASSWORD_LEN} characters)"),
            )),
            Some(p) => Ok(Some(p.clone())),
        }
    }

    fn new_account(&self, field: &str) -> Result<NewServiceAccount, CoreError> {
        let account = self.parse_account(field)?.ok_or_else(|| {
            CoreError::validation(
                format!("{field}.account"),
                format!("{field}.account is required"),
            )
        })?;
        let password = self.parse_password(field)?.ok_or_else(|| {
            CoreError::validation(
                format!("{field}.password"),
                format!("{field}.password is required"),
            )
        })?;
        Ok(NewServiceAccount {
            account,
            password,
            grant_admin_access: self.grant_admin_access.unwrap_or(false),
            use_custom_veeam_aad_application: false,
            share_point_save_all_web_parts: self.share_point_save_all_web_parts.unwrap_or(false),
        })
    }

    fn merge_into(
        &self,
        field: &str,
        stored: Option<&ServiceAccount>,
    ) -> Result<AccountChange, CoreError> {
        let Some(stored) = stored else {
            return self.new_account(field).map(AccountChange::Replace);
        };
        let account = self.parse_account(field)?;
        let password = self.parse_password(field)?;
        let same_account = account
            .as_ref()
            .is_none_or(|a| a.same_account(&stored.account));
        match (same_account, password) {
            (true, None) => {
                let mut kept = stored.clone();
                if let Some(account) = account {
                    kept.account = account; // same account, maybe new spelling
                }
                if let Some(v) = self.grant_admin_access {
                    kept.grant_admin_access = v;
                }
                if let Some(v) = self.share_point_save_all_web_parts {
                    kept.share_point_save_all_web_parts = v;
                }
                Ok(AccountChange::Keep(kept))
            }
            (false, None) => Err(CoreError::validation(
                format!("{field}.password"),
                format!("{field}.password is required when {field}.account changes"),
            )),
            (_, Some(password)) => Ok(AccountChange::Replace(NewServiceAccount {
                account: account.unwrap_or_else(|| stored.account.clone()),
                password,
                grant_admin_access: self.grant_admin_access.unwrap_or(stored.grant_admin_access),
                use_custom_veeam_aad_application: false,
                share_point_save_all_web_parts: self
                    .share_point_save_all_web_parts
                    .unwrap_or(stored.share_point_save_all_web_parts),
            })),
        }
    }
}
