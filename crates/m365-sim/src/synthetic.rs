//! Generated tenants of any size for scale tests and benchmarks. Everything
//! is derived from the tenant index and the object's ordinal, so the same
//! input always yields the same ids and names.

use crate::cloud::Region;
use crate::tenant::{Group, Site, Tenant};
use crate::user::{AssignedLicense, MailboxType, User};

/// The password of every synthetic tenant's administrator.
pub const SYNTHETIC_PASSWORD: &str = "Synthetic-Passw0rd!";

/// Office 365 E3, the licence every third synthetic user holds.
const E3_SKU_ID: &str = "6fd2c87f-b296-42f0-b197-1e91e994b900";
/// Direct members per synthetic group.
const MEMBERS_PER_GROUP: u32 = 3;

/// Id kinds, in the second GUID group, so ids never collide across kinds.
const TENANT_KIND: u16 = 0x5e00;
const USER_KIND: u16 = 0x5e01;
const GROUP_KIND: u16 = 0x5e02;
const SITE_KIND: u16 = 0x5e03;
const WEB_KIND: u16 = 0x5e04;

/// How many objects of each kind a synthetic tenant has, besides its
/// administrator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyntheticSpec {
    pub users: u32,
    pub groups: u32,
    pub sites: u32,
}

/// Whether ordinal `n` is an `every`-th one. (`is_multiple_of` is newer
/// than the workspace's minimum Rust.)
fn nth(n: u32, every: u32) -> bool {
    n.checked_rem(every) == Some(0)
}

fn object_id(index: u32, kind: u16, n: u32) -> String {
    format!("{index:08x}-{kind:04x}-4000-8000-{n:012x}")
}

/// Tenant `synth{index}.onmicrosoft.com` ("Synthetic {index}"):
/// - `admin@…` (password [`SYNTHETIC_PASSWORD`], Global Administrator);
/// - users `user{n:06}@…` ("User {n:06}", n from 1, no password): every
///   10th a shared mailbox (disabled account, no OneDrive), every 7th
///   without OneDrive, every 3rd licensed for Office 365 E3;
/// - groups "Group {n:05}" (n from 1): every 4th a Team, every 2nd a
///   Microsoft 365 group, the rest security groups; each with up to three
///   users as members;
/// - sites `https://synth{index}.sharepoint.com/sites/site{n:05}`.
///
/// Users get only the fields the simulator needs, so 100,000 of them stay
/// cheap to build and hold.
pub fn synthetic_tenant(index: u32, spec: SyntheticSpec) -> Tenant {
    let domain = format!("synth{index}.onmicrosoft.com");
    let mut users = Vec::with_capacity(usize::try_from(spec.users).unwrap_or(0) + 1);
    users.push(User {
        id: object_id(index, USER_KIND, 0),
        user_principal_name: format!("admin@{domain}"),
        display_name: "Synthetic Administrator".to_owned(),
        password: Some(SYNTHETIC_PASSWORD.to_owned()),
        roles: vec!["Global Administrator".to_owned()],
        ..User::default()
    });
    users.extend((1..=spec.users).map(|n| synthetic_user(index, &domain, n)));
    let groups = (1..=spec.groups)
        .map(|n| synthetic_group(index, &domain, spec.users, n))
        .collect();
    let host = format!("synth{index}.{}", Region::Worldwide.sharepoint_suffix());
    let sites = (1..=spec.sites)
        .map(|n| Site {
            id: format!(
                "{host},{},{}",
                object_id(index, SITE_KIND, n),
                object_id(index, WEB_KIND, n)
            ),
            name: format!("site{n:05}"),
            display_name: Some(format!("Site {n:05}")),
            web_url: format!("https://{host}/sites/site{n:05}"),
            ..Site::default()
        })
        .collect();
    Tenant {
        id: object_id(index, TENANT_KIND, 0),
        display_name: format!("Synthetic {index}"),
        initial_domain: domain,
        users,
        groups,
        sites,
        ..Tenant::default()
    }
}

fn synthetic_user(index: u32, domain: &str, n: u32) -> User {
    let shared = nth(n, 10);
    User {
        id: object_id(index, USER_KIND, n),
        user_principal_name: format!("user{n:06}@{domain}"),
        display_name: format!("User {n:06}"),
        account_enabled: !shared,
        mailbox_type: if shared {
            MailboxType::Shared
        } else {
            MailboxType::User
        },
        one_drive: nth(n, 7).then_some(false),
        assigned_licenses: if nth(n, 3) {
            vec![AssignedLicense {
                sku_id: E3_SKU_ID.to_owned(),
                disabled_plans: Vec::new(),
            }]
        } else {
            Vec::new()
        },
        ..User::default()
    }
}

fn synthetic_group(index: u32, domain: &str, user_count: u32, n: u32) -> Group {
    let team = nth(n, 4);
    let unified = nth(n, 2);
    let mut members: Vec<String> = Vec::new();
    if user_count > 0 {
        for k in 0..MEMBERS_PER_GROUP {
            let ordinal = ((n - 1) * MEMBERS_PER_GROUP + k) % user_count + 1;
            let id = object_id(index, USER_KIND, ordinal);
            if !members.contains(&id) {
                members.push(id);
            }
        }
    }
    Group {
        id: object_id(index, GROUP_KIND, n),
        display_name: format!("Group {n:05}"),
        description: Some(format!("Synthetic group {n}")),
        mail: unified.then(|| format!("group{n:05}@{domain}")),
        group_types: if unified {
            vec!["Unified".to_owned()]
        } else {
            Vec::new()
        },
        is_team: team,
        members,
        ..Group::default()
    }
}

/// Whether a tenant is one [`synthetic_tenant`] made
/// (`synth{index}.onmicrosoft.com`): its users' mailboxes and drives get
/// generated content (`--synthetic-messages`, `--synthetic-files`).
pub(crate) fn is_synthetic_domain(domain: &str) -> bool {
    domain
        .strip_prefix("synth")
        .and_then(|rest| rest.strip_suffix(".onmicrosoft.com"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `count` synthetic tenants, indexes `0..count`, all shaped by `spec`.
pub fn synthetic_tenants(count: u32, spec: SyntheticSpec) -> Vec<Tenant> {
    (0..count).map(|i| synthetic_tenant(i, spec)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_tenants_are_valid() {
        let spec = SyntheticSpec {
            users: 50,
            groups: 9,
            sites: 4,
        };
        let tenant = synthetic_tenant(3, spec);
        assert_eq!(tenant.problems(), Vec::<String>::new());
        assert_eq!(tenant.users.len(), 51);
        assert_eq!(tenant.groups.iter().filter(|g| g.is_team).count(), 2);
        let tiny = synthetic_tenant(
            4,
            SyntheticSpec {
                users: 1,
                groups: 2,
                sites: 0,
            },
        );
        assert_eq!(tiny.problems(), Vec::<String>::new());
        assert_eq!(tiny.groups[1].members.len(), 1);
    }
}
