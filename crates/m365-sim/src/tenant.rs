//! The tenant file model. Every field beyond the identifying ones is
//! optional so that hand-written files stay short and new capabilities
//! (mailbox types, OneDrive, licences) can be added as further optional
//! fields without touching existing files.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cloud::Region;
use crate::error::{join_problems, SimError};
use crate::ids::is_guid;
pub(crate) use crate::user::{User, UserType};

/// One simulated Microsoft 365 organization.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    /// The tenant (directory) GUID.
    pub id: String,
    pub display_name: String,
    /// The `*.onmicrosoft.com` name.
    pub initial_domain: String,
    #[serde(default)]
    pub verified_domains: Vec<String>,
    #[serde(default)]
    pub region: Region,
    #[serde(default = "default_country")]
    pub country_letter_code: String,
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub sites: Vec<Site>,
}

impl Default for Tenant {
    /// Empty, with the same defaults as a tenant file that omits the optional
    /// fields; lets code write `..Tenant::default()` and keep compiling as
    /// fields are added.
    fn default() -> Self {
        Tenant {
            id: String::new(),
            display_name: String::new(),
            initial_domain: String::new(),
            verified_domains: Vec::new(),
            region: Region::Worldwide,
            country_letter_code: default_country(),
            users: Vec::new(),
            groups: Vec::new(),
            sites: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    pub display_name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    /// Defaults to the local part of `mail`, else the display name without spaces.
    #[serde(default)]
    pub mail_nickname: Option<String>,
    /// `["Unified"]` for Microsoft 365 groups, `[]` for security groups.
    #[serde(default)]
    pub group_types: Vec<String>,
    #[serde(default)]
    pub is_team: bool,
    /// Ids of member users and groups (direct membership).
    #[serde(default)]
    pub members: Vec<String>,
    /// Defaults to whether the group has a `mail`.
    #[serde(default)]
    pub mail_enabled: Option<bool>,
    /// Defaults to true for non-Unified groups.
    #[serde(default)]
    pub security_enabled: Option<bool>,
    /// Defaults to "Public" for Unified groups, null otherwise.
    #[serde(default)]
    pub visibility: Option<String>,
}

impl Group {
    pub fn is_unified(&self) -> bool {
        self.group_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case("Unified"))
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Site {
    /// `hostname,siteCollectionGuid,webGuid`.
    pub id: String,
    pub name: String,
    /// Defaults to `name`.
    #[serde(default)]
    pub display_name: Option<String>,
    pub web_url: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The site this one is a subsite of; `None` for a site collection.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// A OneDrive personal site (`https://{prefix}-my.sharepoint.com/personal/...`).
    #[serde(default)]
    pub is_personal: bool,
    /// Document libraries; none listed: one empty "Documents" library.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drives: Vec<crate::drive_spec::SiteDriveSpec>,
}

impl Site {
    pub fn hostname(&self) -> &str {
        self.id.split(',').next().unwrap_or_default()
    }

    pub fn effective_display_name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.name)
    }
}

fn default_country() -> String {
    "US".to_owned()
}

/// Reads and validates one tenant file.
pub fn load_tenant_file(path: &Path) -> Result<Tenant, SimError> {
    let text = std::fs::read_to_string(path).map_err(|source| SimError::ReadTenantFile {
        path: path.to_owned(),
        source,
    })?;
    let tenant: Tenant =
        serde_json::from_str(&text).map_err(|source| SimError::ParseTenantFile {
            path: path.to_owned(),
            source,
        })?;
    let problems = tenant.problems();
    if problems.is_empty() {
        Ok(tenant)
    } else {
        Err(SimError::InvalidTenantFile {
            path: path.to_owned(),
            problems: join_problems(&problems),
        })
    }
}

impl Tenant {
    /// Every domain that belongs to the tenant, initial one first.
    pub fn domains(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.initial_domain.as_str())
            .chain(self.verified_domains.iter().map(String::as_str))
    }

    pub fn owns_domain(&self, domain: &str) -> bool {
        self.domains().any(|d| d.eq_ignore_ascii_case(domain))
    }
}

pub(crate) fn is_domain_name(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

pub(crate) fn is_site_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split(',').collect();
    matches!(parts.as_slice(), [host, a, b] if is_domain_name(host) && is_guid(a) && is_guid(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names() {
        assert!(is_domain_name("contoso.onmicrosoft.com"));
        assert!(is_domain_name("a-b.co"));
        assert!(!is_domain_name("contoso"));
        assert!(!is_domain_name("bad domain.com"));
        assert!(!is_domain_name("-x.com"));
    }

    #[test]
    fn site_ids() {
        assert!(is_site_id(
            "contoso.sharepoint.com,8a4d2f1e-0c3b-4f5a-9b6c-1d2e3f4a5b6c,9b5e3a2f-1d4c-4a6b-8c7d-2e3f4a5b6c7d"
        ));
        assert!(!is_site_id("contoso.sharepoint.com,x,y"));
    }
}
