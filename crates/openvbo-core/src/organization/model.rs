//! An organization as openvbo keeps it.

use time::OffsetDateTime;

use crate::crypto::SealedSecret;
use crate::{OrganizationId, Region, Upn};

/// The Microsoft 365 services an organization can be protected for, each
/// signed in to with its own account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Service {
    Exchange,
    SharePoint,
}

impl Service {
    pub const ALL: [Service; 2] = [Service::Exchange, Service::SharePoint];

    /// The name of the settings object in the v6 schema, used in messages.
    pub fn settings_field(self) -> &'static str {
        match self {
            Service::Exchange => "exchangeOnlineSettings",
            Service::SharePoint => "sharePointOnlineSettings",
        }
    }

    pub fn flag_field(self) -> &'static str {
        match self {
            Service::Exchange => "isExchangeOnline",
            Service::SharePoint => "isSharePointOnline",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Service::Exchange => "Exchange Online",
            Service::SharePoint => "SharePoint Online",
        }
    }

    /// Stable key for storage.
    pub fn key(self) -> &'static str {
        match self {
            Service::Exchange => "exchange",
            Service::SharePoint => "sharepoint",
        }
    }

    pub fn from_key(key: &str) -> Option<Service> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// The account (basic authentication) one service is accessed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAccount {
    pub account: Upn,
    pub password: SealedSecret,
    pub grant_admin_access: bool,
    pub use_custom_veeam_aad_application: bool,
    pub share_point_save_all_web_parts: bool,
}

/// A Microsoft 365 organization added with basic authentication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization {
    pub id: OrganizationId,
    /// The Entra tenant id, as Graph's `/organization` reports it. One
    /// tenant is added at most once.
    pub tenant_id: String,
    /// The tenant's initial `*.onmicrosoft.com` domain (`name`, `officeName`).
    pub name: String,
    pub office_name: String,
    /// The tenant's display name in Microsoft 365.
    pub display_name: String,
    pub region: Region,
    pub exchange: Option<ServiceAccount>,
    pub sharepoint: Option<ServiceAccount>,
    pub is_teams_online: bool,
    pub is_teams_chats_online: bool,
    /// Incremented by every update; guards read-verify-write cycles.
    pub revision: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Organization {
    pub fn account(&self, service: Service) -> Option<&ServiceAccount> {
        match service {
            Service::Exchange => self.exchange.as_ref(),
            Service::SharePoint => self.sharepoint.as_ref(),
        }
    }

    pub fn account_mut(&mut self, service: Service) -> &mut Option<ServiceAccount> {
        match service {
            Service::Exchange => &mut self.exchange,
            Service::SharePoint => &mut self.sharepoint,
        }
    }

    /// Where a service's sealed password of this organization lives; bound
    /// into the ciphertext as associated data.
    pub fn secret_context(id: OrganizationId, service: Service) -> String {
        format!("organization/{id}/{}/password", service.key())
    }
}
