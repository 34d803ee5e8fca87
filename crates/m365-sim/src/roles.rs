use crate::ids::derived_guid;

/// (display name, role template id, description) of the built-in roles
/// openvbo cares about.
const KNOWN_ROLES: [(&str, &str, &str); 6] = [
    (
        "Global Administrator",
        "62e90394-69f5-4237-9190-012177145e10",
        "Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.",
    ),
    (
        "Exchange Administrator",
        "29232cdf-9323-42fd-ade2-1d097af3e4de",
        "Can manage all aspects of the Exchange product.",
    ),
    (
        "SharePoint Administrator",
        "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
        "Can manage all aspects of the SharePoint service.",
    ),
    (
        "Teams Administrator",
        "69091246-20e8-4a56-aa4d-066075b2a7a8",
        "Can manage the Microsoft Teams service.",
    ),
    (
        "Global Reader",
        "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        "Can read everything that a Global Administrator can, but not update anything.",
    ),
    (
        "User Administrator",
        "fe930be7-5e62-47db-91af-98c3a49a38b1",
        "Can manage all aspects of users and groups, including resetting passwords for limited admins.",
    ),
];

pub(crate) struct RoleInfo {
    pub display_name: String,
    pub template_id: String,
    pub description: String,
}

/// Resolves a role name from a tenant file (case-insensitive for the known
/// roles); unknown roles get a template id derived from their name.
pub(crate) fn role_info(name: &str) -> RoleInfo {
    match KNOWN_ROLES
        .iter()
        .find(|(known, _, _)| known.eq_ignore_ascii_case(name))
    {
        Some((known, template, description)) => RoleInfo {
            display_name: (*known).to_owned(),
            template_id: (*template).to_owned(),
            description: (*description).to_owned(),
        },
        None => RoleInfo {
            display_name: name.to_owned(),
            template_id: derived_guid(&["role-template", &name.to_ascii_lowercase()]),
            description: format!("{name} (custom role)"),
        },
    }
}
