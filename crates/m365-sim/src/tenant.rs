//! The tenant file model. Every field beyond the identifying ones is
//! optional so that hand-written files stay short and new capabilities
//! (mailbox types, OneDrive, licences) can be added as further optional
//! fields without touching existing files.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cloud::Region;
use crate::error::{join_problems, SimError};
use crate::ids::is_guid;

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

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserType {
    #[default]
    Member,
    Guest,
}

impl UserType {
    pub fn as_str(self) -> &'static str {
        match self {
            UserType::Member => "Member",
            UserType::Guest => "Guest",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub user_principal_name: String,
    pub display_name: String,
    /// `None`: the account has no password and can never sign in with one.
    #[serde(default)]
    pub password: Option<String>,
    /// Directory role display names, e.g. "Global Administrator".
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub mfa_required: bool,
    #[serde(default = "yes")]
    pub account_enabled: bool,
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub password_expired: bool,
    /// Defaults to the UPN when absent or null.
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub user_type: UserType,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub office_location: Option<String>,
    #[serde(default)]
    pub mobile_phone: Option<String>,
    #[serde(default)]
    pub business_phones: Vec<String>,
    #[serde(default)]
    pub preferred_language: Option<String>,
    #[serde(default)]
    pub usage_location: Option<String>,
}

impl Default for User {
    /// The same defaults as an omitted field in a tenant file, so code can
    /// build users with `..User::default()` and stay source-compatible when
    /// fields are added.
    fn default() -> Self {
        User {
            id: String::new(),
            user_principal_name: String::new(),
            display_name: String::new(),
            password: None,
            roles: Vec::new(),
            mfa_required: false,
            account_enabled: true,
            locked: false,
            password_expired: false,
            mail: None,
            user_type: UserType::Member,
            given_name: None,
            surname: None,
            job_title: None,
            department: None,
            office_location: None,
            mobile_phone: None,
            business_phones: Vec::new(),
            preferred_language: None,
            usage_location: None,
        }
    }
}

impl User {
    pub fn effective_mail(&self) -> &str {
        self.mail.as_deref().unwrap_or(&self.user_principal_name)
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
}

impl Site {
    pub fn hostname(&self) -> &str {
        self.id.split(',').next().unwrap_or_default()
    }

    pub fn effective_display_name(&self) -> &str {
        self.display_name.as_deref().unwrap_or(&self.name)
    }
}

fn yes() -> bool {
    true
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

    /// Self-consistency problems of this tenant alone, each naming the
    /// offending object.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut report = |msg: String| problems.push(msg);

        if !is_guid(&self.id) {
            report(format!("tenant id '{}' is not a GUID", self.id));
        }
        if self.display_name.trim().is_empty() {
            report("tenant displayName is empty".to_owned());
        }
        let mut domains = HashSet::new();
        for domain in self.domains() {
            if !is_domain_name(domain) {
                report(format!("'{domain}' is not a valid domain name"));
            }
            if !domains.insert(domain.to_ascii_lowercase()) {
                report(format!("domain '{domain}' is listed twice"));
            }
        }

        let mut object_ids = HashSet::new();
        let mut upns = HashSet::new();
        for user in &self.users {
            let upn = &user.user_principal_name;
            if !is_guid(&user.id) {
                report(format!("user '{upn}': id '{}' is not a GUID", user.id));
            } else if !object_ids.insert(user.id.to_ascii_lowercase()) {
                report(format!("user '{upn}': id '{}' is used twice", user.id));
            }
            match upn.split_once('@') {
                Some((local, domain)) if !local.is_empty() && !domain.contains('@') => {
                    if !self.owns_domain(domain) {
                        report(format!(
                            "user '{upn}': domain '{domain}' is not one of the tenant's domains"
                        ));
                    }
                }
                _ => report(format!(
                    "user '{upn}': userPrincipalName must look like name@domain"
                )),
            }
            if !upns.insert(upn.to_ascii_lowercase()) {
                report(format!("user '{upn}': userPrincipalName is used twice"));
            }
            if user.roles.iter().any(|r| r.trim().is_empty()) {
                report(format!("user '{upn}': a role name is empty"));
            }
        }

        for group in &self.groups {
            let name = &group.display_name;
            if !is_guid(&group.id) {
                report(format!("group '{name}': id '{}' is not a GUID", group.id));
            } else if !object_ids.insert(group.id.to_ascii_lowercase()) {
                report(format!("group '{name}': id '{}' is used twice", group.id));
            }
            if group.is_team && !group.is_unified() {
                report(format!(
                    "group '{name}': only Microsoft 365 groups (groupTypes [\"Unified\"]) can be Teams"
                ));
            }
        }
        for group in &self.groups {
            for member in &group.members {
                if member.eq_ignore_ascii_case(&group.id) {
                    report(format!(
                        "group '{}': cannot be a member of itself",
                        group.display_name
                    ));
                } else if !object_ids.contains(&member.to_ascii_lowercase()) {
                    report(format!(
                        "group '{}': member '{member}' is neither a user nor a group of the tenant",
                        group.display_name
                    ));
                }
            }
        }

        let mut site_ids = HashSet::new();
        for site in &self.sites {
            if !is_site_id(&site.id) {
                report(format!(
                    "site '{}': id '{}' must be 'hostname,guid,guid'",
                    site.name, site.id
                ));
            }
            if !site_ids.insert(site.id.to_ascii_lowercase()) {
                report(format!(
                    "site '{}': id '{}' is used twice",
                    site.name, site.id
                ));
            }
            match url::Url::parse(&site.web_url) {
                Ok(u) if matches!(u.scheme(), "https" | "http") && u.host_str().is_some() => {}
                _ => report(format!(
                    "site '{}': webUrl '{}' is not an absolute http(s) URL",
                    site.name, site.web_url
                )),
            }
        }
        problems
    }
}

fn is_domain_name(s: &str) -> bool {
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

fn is_site_id(s: &str) -> bool {
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
