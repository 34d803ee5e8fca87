//! The built-in "Contoso Demo" tenant. Ids are fixed so that demo data,
//! screenshots and tests stay stable across runs.

use crate::cloud::Region;
use crate::tenant::{Group, Site, Tenant, User};
use crate::user::AssignedLicense;

pub const DEMO_TENANT_ID: &str = "6f2c9a41-3b7e-4d58-9a0c-5e1f2d3c4b5a";
pub const DEMO_ADMIN_UPN: &str = "admin@contoso-demo.onmicrosoft.com";
pub const DEMO_ADMIN_PASSWORD: &str = "Demo-Passw0rd!";

const INITIAL_DOMAIN: &str = "contoso-demo.onmicrosoft.com";
const VERIFIED_DOMAIN: &str = "contoso-demo.com";
const SHAREPOINT_HOST: &str = "contosodemo.sharepoint.com";

/// (id suffix, local part, given name, surname, job title, department)
const PEOPLE: [(u32, &str, &str, &str, &str, &str); 8] = [
    (
        1,
        "adele.vance",
        "Adele",
        "Vance",
        "Retail Manager",
        "Retail",
    ),
    (
        2,
        "alex.wilber",
        "Alex",
        "Wilber",
        "Marketing Assistant",
        "Marketing",
    ),
    (
        3,
        "diego.siciliani",
        "Diego",
        "Siciliani",
        "HR Manager",
        "HR",
    ),
    (4, "grady.archie", "Grady", "Archie", "Designer", "R&D"),
    (5, "isaiah.langer", "Isaiah", "Langer", "Sales Rep", "Sales"),
    (
        6,
        "johanna.lorenz",
        "Johanna",
        "Lorenz",
        "Senior Engineer",
        "Engineering",
    ),
    (7, "lee.gu", "Lee", "Gu", "Director", "Manufacturing"),
    (
        8,
        "megan.bowen",
        "Megan",
        "Bowen",
        "Marketing Manager",
        "Marketing",
    ),
];

fn user_id(n: u32) -> String {
    format!("0d1e2f30-4a5b-4c6d-8e7f-{n:012x}")
}

fn group_id(n: u32) -> String {
    format!("1a2b3c4d-5e6f-4a7b-9c8d-{n:012x}")
}

fn site_id(n: u32) -> String {
    format!("{SHAREPOINT_HOST},2b3c4d5e-6f70-4a81-9b2c-{n:012x},3c4d5e6f-7081-4b92-8c3d-{n:012x}")
}

/// Office 365 E3 (ENTERPRISEPACK).
fn office_365_e3() -> AssignedLicense {
    AssignedLicense {
        sku_id: "6fd2c87f-b296-42f0-b197-1e91e994b900".to_owned(),
        disabled_plans: Vec::new(),
    }
}

/// The demo tenant: an admin, eight ordinary users, three groups (one of
/// them a Team) and three SharePoint sites.
pub fn demo_tenant() -> Tenant {
    let mut users = vec![User {
        id: user_id(0),
        user_principal_name: DEMO_ADMIN_UPN.to_owned(),
        display_name: "MOD Administrator".to_owned(),
        password: Some(DEMO_ADMIN_PASSWORD.to_owned()),
        roles: vec!["Global Administrator".to_owned()],
        given_name: Some("MOD".to_owned()),
        surname: Some("Administrator".to_owned()),
        preferred_language: Some("en-US".to_owned()),
        usage_location: Some("US".to_owned()),
        assigned_licenses: vec![office_365_e3()],
        ..User::default()
    }];
    users.extend(
        PEOPLE
            .iter()
            .map(|&(n, local, given, surname, title, department)| User {
                id: user_id(n),
                user_principal_name: format!("{local}@{VERIFIED_DOMAIN}"),
                display_name: format!("{given} {surname}"),
                password: Some(format!("{given}-Passw0rd!")),
                given_name: Some(given.to_owned()),
                surname: Some(surname.to_owned()),
                job_title: Some(title.to_owned()),
                department: Some(department.to_owned()),
                office_location: Some(format!("{}/{}", 10 + n, 1100 + n)),
                business_phones: vec![format!("+1 425 555 01{n:02}")],
                preferred_language: Some("en-US".to_owned()),
                usage_location: Some("US".to_owned()),
                // Everyone but Lee holds a licence, so licence counts show a difference.
                assigned_licenses: if local == "lee.gu" {
                    vec![]
                } else {
                    vec![office_365_e3()]
                },
                ..User::default()
            }),
    );

    let groups = vec![
        Group {
            id: group_id(1),
            display_name: "Mark 8 Project Team".to_owned(),
            description: Some("Use this team for the Mark 8 launch".to_owned()),
            mail: Some(format!("mark8project@{VERIFIED_DOMAIN}")),
            group_types: vec!["Unified".to_owned()],
            is_team: true,
            members: vec![user_id(0), user_id(2), user_id(4), user_id(6), user_id(8)],
            ..Group::default()
        },
        Group {
            id: group_id(2),
            display_name: "Sales and Marketing".to_owned(),
            description: Some("Everyone in sales and marketing".to_owned()),
            mail: Some(format!("salesandmarketing@{VERIFIED_DOMAIN}")),
            group_types: vec!["Unified".to_owned()],
            members: vec![user_id(1), user_id(2), user_id(5), user_id(8)],
            ..Group::default()
        },
        Group {
            id: group_id(3),
            display_name: "Backup Operators".to_owned(),
            description: Some("Security group for backup administration".to_owned()),
            members: vec![user_id(0), user_id(6), group_id(2)],
            ..Group::default()
        },
    ];

    let sites = [
        (1, "Mark8ProjectTeam", "Mark 8 Project Team"),
        (2, "SalesAndMarketing", "Sales and Marketing"),
        (3, "contosoweb", "Contoso Web"),
    ]
    .into_iter()
    .map(|(n, name, display)| Site {
        id: site_id(n),
        name: name.to_owned(),
        display_name: Some(display.to_owned()),
        web_url: format!("https://{SHAREPOINT_HOST}/sites/{name}"),
        ..Site::default()
    })
    .collect();

    crate::demo_mail::with_mail(crate::demo_files::with_files(Tenant {
        id: DEMO_TENANT_ID.to_owned(),
        display_name: "Contoso Demo".to_owned(),
        initial_domain: INITIAL_DOMAIN.to_owned(),
        verified_domains: vec![VERIFIED_DOMAIN.to_owned()],
        region: Region::Worldwide,
        country_letter_code: "US".to_owned(),
        users,
        groups,
        sites,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_tenant_is_valid() {
        let tenant = demo_tenant();
        assert_eq!(tenant.problems(), Vec::<String>::new());
        assert_eq!(tenant.users.len(), 9);
        assert_eq!(tenant.groups.iter().filter(|g| g.is_team).count(), 1);
        assert_eq!(tenant.sites.len(), 3);
        let licensed = tenant
            .users
            .iter()
            .filter(|u| !u.assigned_licenses.is_empty())
            .count();
        assert_eq!(licensed, 8, "all but one user hold a licence");
        let with_mail = tenant
            .users
            .iter()
            .filter(|u| !u.mail_folders.is_empty())
            .count();
        assert_eq!(with_mail, 2, "Adele and Megan have demo mail");
    }
}
