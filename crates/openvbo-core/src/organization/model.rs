//! An organization as openvbo keeps it.

use time::OffsetDateTime;

use super::per_service::PerService;
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
        NAMES[self].settings_field
    }

    pub fn flag_field(self) -> &'static str {
        NAMES[self].flag_field
    }

    pub fn display_name(self) -> &'static str {
        NAMES[self].display_name
    }

    /// Stable key for storage.
    pub fn key(self) -> &'static str {
        NAMES[self].key
    }

    pub fn from_key(key: &str) -> Option<Service> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// What each service is called, in one table.
struct Names {
    key: &'static str,
    settings_field: &'static str,
    flag_field: &'static str,
    display_name: &'static str,
}

static NAMES: PerService<Names> = PerService {
    exchange: Names {
        key: "exchange",
        settings_field: "exchangeOnlineSettings",
        flag_field: "isExchangeOnline",
        display_name: "Exchange Online",
    },
    sharepoint: Names {
        key: "sharepoint",
        settings_field: "sharePointOnlineSettings",
        flag_field: "isSharePointOnline",
        display_name: "SharePoint Online",
    },
};

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
        self.accounts()[service]
    }

    /// Each service's account, if it is protected. (The two stay separate
    /// fields here because every store and test builds organizations by
    /// name.)
    pub fn accounts(&self) -> PerService<Option<&ServiceAccount>> {
        PerService {
            exchange: self.exchange.as_ref(),
            sharepoint: self.sharepoint.as_ref(),
        }
    }

    pub fn account_mut(&mut self, service: Service) -> &mut Option<ServiceAccount> {
        match service {
            Service::Exchange => &mut self.exchange,
            Service::SharePoint => &mut self.sharepoint,
        }
    }

    /// `service`'s account, or the other service's when the organization
    /// protects only that one: directory reads work with either.
    pub fn account_or_other(&self, service: Service) -> Option<(Service, &ServiceAccount)> {
        self.account(service)
            .map(|a| (service, a))
            .or_else(|| self.accounts().present().next().map(|(s, a)| (s, *a)))
    }

    /// Where a service's sealed password of this organization lives; bound
    /// into the ciphertext as associated data.
    pub fn secret_context(id: OrganizationId, service: Service) -> String {
        format!("organization/{id}/{}/password", service.key())
    }
}
