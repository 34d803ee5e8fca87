//! The v6 request body that adds or changes an organization
//! (`RestOrganizationComposed`) and what this version refuses in it, before
//! core's [`OrganizationRequest`] takes over (which services, which
//! accounts, how a change merges with what is stored).

use openvbo_core::organization::{
    AccountSettings, OrganizationRequest, PerService, ServiceRequest,
};
use openvbo_core::{CoreError, Region};
use secrecy::SecretString;
use serde::Deserialize;

/// `RestOrganizationType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub(crate) enum OrganizationType {
    Office365,
    OnPremises,
    Hybrid,
}

/// The writable properties of `RestOrganizationComposed`. Read-only ones
/// (`id`, `_links`, `isBackedup`, …) are ignored when a client sends back
/// what it read, as are properties this version does not know.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct OrganizationInput {
    #[serde(rename = "type")]
    pub(crate) kind: Option<OrganizationType>,
    pub(crate) region: Option<Region>,
    pub(crate) is_exchange_online: Option<bool>,
    pub(crate) is_share_point_online: Option<bool>,
    pub(crate) is_teams_online: Option<bool>,
    pub(crate) is_teams_chats_online: Option<bool>,
    pub(crate) exchange_online_settings: Option<ConnectionSettingsInput>,
    pub(crate) share_point_online_settings: Option<ConnectionSettingsInput>,
    /// Modern authentication (device code sign-in) markers.
    pub(crate) configure_application: Option<bool>,
    pub(crate) user_code: Option<String>,
    pub(crate) new_application_name: Option<String>,
}

/// `RESTOffice365ConnectionSettings`: the properties this version reads
/// (the others, such as `officeOrganizationName`, are ignored).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConnectionSettingsInput {
    pub(crate) account: Option<String>,
    pub(crate) password: Option<SecretString>,
    pub(crate) grant_admin_access: Option<bool>,
    pub(crate) use_mfa: Option<bool>,
    pub(crate) use_custom_veeam_aad_application: Option<bool>,
    pub(crate) use_application_only_auth: Option<bool>,
    pub(crate) application_id: Option<String>,
    pub(crate) application_secret: Option<SecretString>,
    pub(crate) application_certificate: Option<SecretString>,
    pub(crate) application_certificate_thumbprint: Option<String>,
    pub(crate) share_point_save_all_web_parts: Option<bool>,
}

impl OrganizationInput {
    /// The body's two per-service pairs (flag and settings), which the v6
    /// schema spells out per service.
    fn services(self) -> PerService<ServiceRequest> {
        PerService {
            exchange: (self.is_exchange_online, self.exchange_online_settings),
            sharepoint: (self.is_share_point_online, self.share_point_online_settings),
        }
        .map(|_, (enabled, settings)| ServiceRequest {
            enabled,
            settings: settings.map(ConnectionSettingsInput::into_settings),
        })
    }

    fn settings(&self) -> PerService<Option<&ConnectionSettingsInput>> {
        PerService {
            exchange: self.exchange_online_settings.as_ref(),
            sharepoint: self.share_point_online_settings.as_ref(),
        }
    }

    /// A body that adds an organization: `type` is required.
    pub(crate) fn into_add(self) -> Result<OrganizationRequest, CoreError> {
        if self.kind.is_none() {
            return Err(CoreError::validation(
                "type",
                "type is required: Office365 (OnPremises and Hybrid are not supported yet)",
            ));
        }
        self.into_request()
    }

    /// A body that changes an organization: absent properties keep their value.
    pub(crate) fn into_change(self) -> Result<OrganizationRequest, CoreError> {
        self.into_request()
    }

    /// The organization a body adds, as core validates it.
    #[cfg(test)]
    pub(crate) fn into_new(
        self,
    ) -> Result<openvbo_core::organization::NewOffice365Organization, CoreError> {
        self.into_add()?.into_new()
    }

    fn into_request(self) -> Result<OrganizationRequest, CoreError> {
        self.check_supported()?;
        Ok(OrganizationRequest {
            region: self.region,
            is_teams_online: self.is_teams_online,
            services: self.services(),
        })
    }

    /// What this version cannot do yet, whatever is stored.
    fn check_supported(&self) -> Result<(), CoreError> {
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
        for (service, settings) in self.settings().present() {
            settings.check_basic_auth(service.settings_field())?;
        }
        Ok(())
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

    fn into_settings(self) -> AccountSettings {
        AccountSettings {
            account: self.account,
            password: self.password,
            grant_admin_access: self.grant_admin_access,
            share_point_save_all_web_parts: self.share_point_save_all_web_parts,
        }
    }
}
