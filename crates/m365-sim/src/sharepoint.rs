//! SharePoint names derived from the directory: the tenant's hosts, and
//! each OneDrive user's personal site and drive, generated on demand so a
//! large tenant costs nothing until someone asks.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

use crate::tenant::{Site, Tenant, User};

/// XOR masks that turn a user id into its personal site's collection, web
/// and document-library GUIDs. XOR is reversible, so a personal site id
/// leads back to its owner without an index. The masks leave the version
/// and variant bits alone, so the results stay well-formed GUIDs.
const SITE_MASK: u128 = 0x5f3a_91c4_27e8_0b6d_1c4f_8a2e_93d7_b150 & KEEP_FORM;
const WEB_MASK: u128 = 0x2c81_6e07_b94a_0d35_2e68_f1b3_4a9c_07e2 & KEEP_FORM;
const LIST_MASK: u128 = 0x7d14_c3a9_5e20_0f81_3b92_6c5d_e047_a8f3 & KEEP_FORM;
const KEEP_FORM: u128 = !((0xF << 76) | (0x3 << 62));

/// The tenant's OneDrive host, e.g. `contoso-my.sharepoint.com`.
pub(crate) struct SharePointHosts {
    pub my: String,
}

impl SharePointHosts {
    /// SharePoint names the tenant after its initial domain's first label,
    /// without the characters a host prefix cannot hold.
    pub(crate) fn of(tenant: &Tenant) -> Self {
        let mut prefix: String = tenant
            .initial_domain
            .split('.')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if prefix.is_empty() {
            prefix.push_str("tenant");
        }
        let suffix = tenant.region.sharepoint_suffix();
        SharePointHosts {
            my: format!("{prefix}-my.{suffix}"),
        }
    }

    /// `https://{prefix}-my.sharepoint.com/personal/{upn with . and @ as _}`.
    pub(crate) fn personal_url(&self, user: &User) -> String {
        format!("https://{}/personal/{}", self.my, personal_name(user))
    }

    pub(crate) fn personal_site_id(&self, user_id: &str) -> String {
        let (site, web) = match Uuid::try_parse(user_id) {
            Ok(id) => (masked(id, SITE_MASK), masked(id, WEB_MASK)),
            Err(_) => (Uuid::nil(), Uuid::nil()),
        };
        format!("{},{site},{web}", self.my)
    }

    /// The owner's user id if `site_id` names a personal site on this
    /// tenant's `-my` host (whether or not that user exists).
    pub(crate) fn personal_site_owner(&self, site_id: &str) -> Option<String> {
        let mut parts = site_id.split(',');
        let (host, site, web) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || !host.eq_ignore_ascii_case(&self.my) {
            return None;
        }
        let owner = masked(Uuid::try_parse(site).ok()?, SITE_MASK);
        (masked(owner, WEB_MASK) == Uuid::try_parse(web).ok()?).then(|| owner.to_string())
    }

    /// A user's personal site as Graph lists it.
    pub(crate) fn personal_site(&self, user: &User) -> Site {
        Site {
            id: self.personal_site_id(&user.id),
            name: personal_name(user),
            display_name: Some(user.display_name.clone()),
            web_url: self.personal_url(user),
            description: None,
            parent_id: None,
            is_personal: true,
            drives: Vec::new(),
        }
    }
}

/// `adele.vance@contoso.com` → `adele_vance_contoso_com`.
fn personal_name(user: &User) -> String {
    user.user_principal_name
        .to_lowercase()
        .replace(['.', '@'], "_")
}

fn masked(id: Uuid, mask: u128) -> Uuid {
    Uuid::from_u128(id.as_u128() ^ mask)
}

/// A OneDrive id as Graph shows it: `b!` and the base64url of the site,
/// web and document library GUIDs.
pub(crate) fn drive_id(user_id: &str) -> String {
    let id = Uuid::try_parse(user_id).unwrap_or_default();
    let mut bytes = Vec::with_capacity(48);
    for mask in [SITE_MASK, WEB_MASK, LIST_MASK] {
        bytes.extend_from_slice(masked(id, mask).as_bytes());
    }
    format!("b!{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The owner's user id of a OneDrive id made by [`drive_id`], if it is one.
pub(crate) fn drive_owner(id: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(id.strip_prefix("b!")?).ok()?;
    let site: [u8; 16] = bytes.get(..16)?.try_into().ok()?;
    let owner = masked(Uuid::from_bytes(site), SITE_MASK).to_string();
    (drive_id(&owner) == id).then_some(owner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::demo_tenant;
    use crate::ids::is_guid;

    #[test]
    fn personal_sites_lead_back_to_their_owner() {
        let tenant = demo_tenant();
        let hosts = SharePointHosts::of(&tenant);
        assert_eq!(hosts.my, "contosodemo-my.sharepoint.com");
        let user = &tenant.users[1];
        let site = hosts.personal_site(user);
        assert_eq!(
            site.web_url,
            "https://contosodemo-my.sharepoint.com/personal/adele_vance_contoso-demo_com"
        );
        let parts: Vec<&str> = site.id.split(',').collect();
        assert!(is_guid(parts[1]) && is_guid(parts[2]));
        assert_eq!(hosts.personal_site_owner(&site.id), Some(user.id.clone()));
        assert_eq!(
            hosts.personal_site_owner(&site.id.to_uppercase()),
            Some(user.id.clone())
        );
        let forged = format!("{},{},{}", parts[0], parts[1], parts[1]);
        assert_eq!(hosts.personal_site_owner(&forged), None);
        let drive = drive_id(&user.id);
        assert!(drive.starts_with("b!") && drive.len() == 66, "{drive}");
        assert_eq!(drive_owner(&drive), Some(user.id.clone()));
        assert_eq!(drive_owner("b!AAAA"), None);
    }
}
