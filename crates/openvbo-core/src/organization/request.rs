//! The shape of a request that adds or changes an organization
//! (`RestOrganizationComposed`), and the rules that turn it into something
//! openvbo can act on.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::model::{Organization, Service, ServiceAccount};
use crate::error::CoreError;
use crate::{Region, Upn};

/// `RestOrganizationType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum OrganizationType {
    Office365,
    OnPremises,
    Hybrid,
}

/// The writable properties of `RestOrganizationComposed`. Read-only ones
/// (`id`, `_links`, `isBackedup`, …) are ignored when a client sends back
/// what it read, as are properties this version does not know.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationInput {
    #[serde(rename = "type")]
    pub kind: Option<OrganizationType>,
    pub region: Option<Region>,
    pub is_exchange_online: Option<bool>,
    pub is_share_point_online: Option<bool>,
    pub is_teams_online: Option<bool>,
    pub is_teams_chats_online: Option<bool>,
    pub exchange_online_settings: Option<ConnectionSettingsInput>,
    pub share_point_online_settings: Option<ConnectionSettingsInput>,
    /// Modern authentication (device code sign-in) markers.
    pub configure_application: Option<bool>,
    pub user_code: Option<String>,
    pub new_application_name: Option<String>,
}

/// `RESTOffice365ConnectionSettings`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionSettingsInput {
    pub account: Option<String>,
    pub password: Option<SecretString>,
    pub grant_admin_access: Option<bool>,
    pub use_mfa: Option<bool>,
    pub use_custom_veeam_aad_application: Option<bool>,
    pub use_application_only_auth: Option<bool>,
    pub application_id: Option<String>,
    pub application_secret: Option<SecretString>,
    pub application_certificate: Option<SecretString>,
    pub application_certificate_password: Option<SecretString>,
    pub application_certificate_thumbprint: Option<String>,
    pub office_organization_name: Option<String>,
    pub share_point_save_all_web_parts: Option<bool>,
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
    pub exchange: Option<NewServiceAccount>,
    pub sharepoint: Option<NewServiceAccount>,
    pub is_teams_online: bool,
}

impl NewOffice365Organization {
    pub fn account(&self, service: Service) -> Option<&NewServiceAccount> {
        match service {
            Service::Exchange => self.exchange.as_ref(),
            Service::SharePoint => self.sharepoint.as_ref(),
        }
    }
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
    pub exchange: Option<AccountChange>,
    pub sharepoint: Option<AccountChange>,
    pub is_teams_online: bool,
    /// Whether Microsoft must confirm the result before it is stored: new
    /// credentials, or a service that needs a role not checked before.
    pub needs_verification: bool,
}

impl OrganizationUpdate {
    pub fn change(&self, service: Service) -> Option<&AccountChange> {
        match service {
            Service::Exchange => self.exchange.as_ref(),
            Service::SharePoint => self.sharepoint.as_ref(),
        }
    }
}

const MAX_PASSWORD_LEN: usize = 256;

impl OrganizationInput {
    fn settings(&self, service: Service) -> Option<&ConnectionSettingsInput> {
        match service {
            Service::Exchange => self.exchange_online_settings.as_ref(),
            Service::SharePoint => self.share_point_online_settings.as_ref(),
        }
    }

    fn enabled(&self, service: Service) -> Option<bool> {
        match service {
            Service::Exchange => self.is_exchange_online,
            Service::SharePoint => self.is_share_point_online,
        }
    }

    /// The rules that do not depend on what is stored.
    fn check_common(&self) -> Result<(), CoreError> {
        match self.kind {
            Some(OrganizationType::Office365) | None => {}
            Some(other) => {
                return Err(CoreError::NotSupported(format!(
                    "type: {other:?} organizations are not supported yet; only Office365 organizations can be added"
                )))
            }
        }
        if self.configure_application == Some(true)
            || self.user_code.as_deref().is_some_and(|c| !c.is_empty())
            || self
                .new_application_name
                .as_deref()
                .is_some_and(|c| !c.is_empty())
        {
            return Err(CoreError::NotSupported(
                "modern authentication (configureApplication, userCode, newApplicationName) is not supported yet; add the organization with basic authentication (account and password)".into(),
            ));
        }
        if self.is_teams_chats_online == Some(true) {
            return Err(CoreError::validation(
                "isTeamsChatsOnline",
                "isTeamsChatsOnline must be false: backup of Teams chats needs modern authentication, which is not available for organizations added with basic authentication",
            ));
        }
        for service in Service::ALL {
            if let Some(settings) = self.settings(service) {
                settings.check_basic_auth(service.settings_field())?;
            }
        }
        Ok(())
    }

    /// Validates a request to add an organization.
    pub fn into_new(self) -> Result<NewOffice365Organization, CoreError> {
        if self.kind.is_none() {
            return Err(CoreError::validation(
                "type",
                "type is required: Office365 (OnPremises and Hybrid are not supported yet)",
            ));
        }
        self.check_common()?;
        let exchange_on = self.is_exchange_online.unwrap_or(false);
        let sharepoint_on = self.is_share_point_online.unwrap_or(false);
        if !exchange_on && !sharepoint_on {
            return Err(CoreError::validation(
                "isExchangeOnline",
                "at least one of isExchangeOnline and isSharePointOnline must be true",
            ));
        }
        let mut new = NewOffice365Organization {
            region: self.region.unwrap_or(Region::Worldwide),
            exchange: None,
            sharepoint: None,
            // The seed's example omits it and expects Teams to be protected.
            is_teams_online: self.is_teams_online.unwrap_or(true),
        };
        for service in Service::ALL {
            if self.enabled(service) != Some(true) {
                continue;
            }
            let settings = self.settings(service).ok_or_else(|| {
                CoreError::validation(
                    service.settings_field(),
                    format!(
                        "{} is required when {} is true",
                        service.settings_field(),
                        service.flag_field()
                    ),
                )
            })?;
            let account = settings.new_account(service.settings_field())?;
            match service {
                Service::Exchange => new.exchange = Some(account),
                Service::SharePoint => new.sharepoint = Some(account),
            }
        }
        Ok(new)
    }

    /// Validates a change to `current`. Absent properties keep their value;
    /// an absent password keeps the stored one unless the account changes.
    pub fn into_update(self, current: &Organization) -> Result<OrganizationUpdate, CoreError> {
        self.check_common()?;
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
        let mut update = OrganizationUpdate {
            exchange: None,
            sharepoint: None,
            is_teams_online,
            needs_verification: is_teams_online && !current.is_teams_online,
        };
        for service in Service::ALL {
            let stored = current.account(service);
            let enabled = self.enabled(service).unwrap_or(stored.is_some());
            if !enabled {
                continue;
            }
            let change = match (self.settings(service), stored) {
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
            if matches!(change, AccountChange::Replace(_)) || stored.is_none() {
                update.needs_verification = true;
            }
            match service {
                Service::Exchange => update.exchange = Some(change),
                Service::SharePoint => update.sharepoint = Some(change),
            }
        }
        if update.exchange.is_none() && update.sharepoint.is_none() {
            return Err(CoreError::validation(
                "isExchangeOnline",
                "at least one of isExchangeOnline and isSharePointOnline must stay true",
            ));
        }
        Ok(update)
    }
}

impl ConnectionSettingsInput {
    /// Basic authentication means an account and a password, no MFA and no
    /// Azure AD application.
    fn check_basic_auth(&self, field: &str) -> Result<(), CoreError> {
        let has_application = self
            .application_id
            .as_deref()
            .is_some_and(|s| !s.is_empty())
            || self.application_secret.is_some()
            || self.application_certificate.is_some()
            || self
                .application_certificate_thumbprint
                .as_deref()
                .is_some_and(|s| !s.is_empty());
        if self.use_mfa == Some(true) && !has_application {
            return Err(CoreError::validation(
                format!("{field}.useMfa"),
                format!(
                    "{field}.useMfa is true but no Azure AD application is given: basic authentication cannot sign in to an account with multi-factor authentication. Use modern authentication (an Azure AD application: applicationId with applicationSecret or applicationCertificate), or set useMfa to false for an account without MFA"
                ),
            ));
        }
        if has_application
            || self.use_mfa == Some(true)
            || self.use_application_only_auth == Some(true)
            || self.use_custom_veeam_aad_application == Some(true)
        {
            return Err(CoreError::NotSupported(format!(
                "{field}: modern authentication (Azure AD applications, useMfa, useApplicationOnlyAuth, useCustomVeeamAADApplication) is not supported yet; use basic authentication with an account and a password"
            )));
        }
        Ok(())
    }

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
