//! How simulated objects look on the Graph wire.

use serde_json::{json, Map, Value};

use crate::graph_query::Selection;
use crate::ids::derived_guid;
use crate::roles::role_info;
use crate::tenant::{Group, Site, Tenant, User};

/// Fixed so repeated runs produce identical payloads.
const CREATED: &str = "2024-03-01T08:00:00Z";

/// The properties one Graph entity type exposes and its default set.
pub(crate) struct EntityKind {
    pub type_name: &'static str,
    pub properties: &'static [&'static str],
    pub defaults: &'static [&'static str],
}

pub(crate) const USER: EntityKind = EntityKind {
    type_name: "microsoft.graph.user",
    properties: &[
        "id",
        "accountEnabled",
        "ageGroup",
        "assignedLicenses",
        "businessPhones",
        "city",
        "companyName",
        "country",
        "createdDateTime",
        "creationType",
        "deletedDateTime",
        "department",
        "displayName",
        "employeeId",
        "givenName",
        "imAddresses",
        "jobTitle",
        "mail",
        "mailNickname",
        "mobilePhone",
        "officeLocation",
        "onPremisesSyncEnabled",
        "otherMails",
        "preferredLanguage",
        "proxyAddresses",
        "surname",
        "usageLocation",
        "userPrincipalName",
        "userType",
    ],
    defaults: &[
        "businessPhones",
        "displayName",
        "givenName",
        "jobTitle",
        "mail",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "surname",
        "userPrincipalName",
        "id",
    ],
};

const GROUP_DEFAULTS: &[&str] = &[
    "id",
    "createdDateTime",
    "deletedDateTime",
    "description",
    "displayName",
    "groupTypes",
    "mail",
    "mailEnabled",
    "mailNickname",
    "proxyAddresses",
    "resourceProvisioningOptions",
    "securityEnabled",
    "visibility",
];

pub(crate) const GROUP: EntityKind = EntityKind {
    type_name: "microsoft.graph.group",
    properties: GROUP_DEFAULTS,
    defaults: GROUP_DEFAULTS,
};

const SITE_DEFAULTS: &[&str] = &[
    "id",
    "createdDateTime",
    "description",
    "displayName",
    "lastModifiedDateTime",
    "name",
    "siteCollection",
    "webUrl",
];

pub(crate) const SITE: EntityKind = EntityKind {
    type_name: "microsoft.graph.site",
    properties: SITE_DEFAULTS,
    defaults: SITE_DEFAULTS,
};

const ORGANIZATION_DEFAULTS: &[&str] = &[
    "id",
    "assignedPlans",
    "businessPhones",
    "city",
    "country",
    "countryLetterCode",
    "createdDateTime",
    "deletedDateTime",
    "displayName",
    "onPremisesSyncEnabled",
    "postalCode",
    "preferredLanguage",
    "state",
    "street",
    "technicalNotificationMails",
    "tenantType",
    "verifiedDomains",
];

pub(crate) const ORGANIZATION: EntityKind = EntityKind {
    type_name: "microsoft.graph.organization",
    properties: ORGANIZATION_DEFAULTS,
    defaults: ORGANIZATION_DEFAULTS,
};

fn project(
    kind: &EntityKind,
    props: Vec<(&'static str, Value)>,
    selection: &Selection,
) -> Map<String, Value> {
    props
        .into_iter()
        .filter(|(name, _)| match selection {
            Selection::Default => kind.defaults.contains(name),
            Selection::Fields(fields) => fields.iter().any(|f| f.eq_ignore_ascii_case(name)),
        })
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
}

/// Mixed collections say what each object is.
pub(crate) fn typed(kind: &EntityKind, mut object: Map<String, Value>) -> Value {
    object.insert("@odata.type".into(), json!(format!("#{}", kind.type_name)));
    Value::Object(object)
}

fn mail_nickname(mail: Option<&str>, fallback: &str) -> String {
    match mail.and_then(|m| m.split('@').next()) {
        Some(local) if !local.is_empty() => local.to_owned(),
        _ => fallback.chars().filter(|c| !c.is_whitespace()).collect(),
    }
}

pub(crate) fn user(user: &User, selection: &Selection) -> Map<String, Value> {
    let mail = user.effective_mail();
    let props = vec![
        ("id", json!(user.id)),
        ("accountEnabled", json!(user.account_enabled)),
        ("ageGroup", Value::Null),
        ("assignedLicenses", json!([])),
        ("businessPhones", json!(user.business_phones)),
        ("city", Value::Null),
        ("companyName", Value::Null),
        ("country", Value::Null),
        ("createdDateTime", json!(CREATED)),
        ("creationType", Value::Null),
        ("deletedDateTime", Value::Null),
        ("department", json!(user.department)),
        ("displayName", json!(user.display_name)),
        ("employeeId", Value::Null),
        ("givenName", json!(user.given_name)),
        ("imAddresses", json!([mail])),
        ("jobTitle", json!(user.job_title)),
        ("mail", json!(mail)),
        (
            "mailNickname",
            json!(mail_nickname(
                Some(&user.user_principal_name),
                &user.display_name
            )),
        ),
        ("mobilePhone", json!(user.mobile_phone)),
        ("officeLocation", json!(user.office_location)),
        ("onPremisesSyncEnabled", Value::Null),
        ("otherMails", json!([])),
        ("preferredLanguage", json!(user.preferred_language)),
        ("proxyAddresses", json!([format!("SMTP:{mail}")])),
        ("surname", json!(user.surname)),
        ("usageLocation", json!(user.usage_location)),
        ("userPrincipalName", json!(user.user_principal_name)),
        ("userType", json!(user.user_type.as_str())),
    ];
    project(&USER, props, selection)
}

pub(crate) fn group(group: &Group, selection: &Selection) -> Map<String, Value> {
    let unified = group.is_unified();
    let provisioning: Vec<&str> = if group.is_team { vec!["Team"] } else { vec![] };
    let visibility = group
        .visibility
        .clone()
        .or_else(|| unified.then(|| "Public".to_owned()));
    let proxy: Vec<String> = group.mail.iter().map(|m| format!("SMTP:{m}")).collect();
    let props = vec![
        ("id", json!(group.id)),
        ("createdDateTime", json!(CREATED)),
        ("deletedDateTime", Value::Null),
        ("description", json!(group.description)),
        ("displayName", json!(group.display_name)),
        ("groupTypes", json!(group.group_types)),
        ("mail", json!(group.mail)),
        (
            "mailEnabled",
            json!(group.mail_enabled.unwrap_or(group.mail.is_some())),
        ),
        (
            "mailNickname",
            json!(group
                .mail_nickname
                .clone()
                .unwrap_or_else(|| mail_nickname(group.mail.as_deref(), &group.display_name))),
        ),
        ("proxyAddresses", json!(proxy)),
        ("resourceProvisioningOptions", json!(provisioning)),
        (
            "securityEnabled",
            json!(group.security_enabled.unwrap_or(!unified)),
        ),
        ("visibility", json!(visibility)),
    ];
    project(&GROUP, props, selection)
}

pub(crate) fn site(site: &Site, selection: &Selection) -> Map<String, Value> {
    let props = vec![
        ("id", json!(site.id)),
        ("createdDateTime", json!(CREATED)),
        ("description", json!(site.description)),
        ("displayName", json!(site.effective_display_name())),
        ("lastModifiedDateTime", json!(CREATED)),
        ("name", json!(site.name)),
        ("siteCollection", json!({ "hostname": site.hostname() })),
        ("webUrl", json!(site.web_url)),
    ];
    project(&SITE, props, selection)
}

pub(crate) fn organization(tenant: &Tenant, selection: &Selection) -> Map<String, Value> {
    let default_domain = tenant
        .verified_domains
        .first()
        .unwrap_or(&tenant.initial_domain);
    let domains: Vec<Value> = tenant
        .domains()
        .map(|name| {
            json!({
                "capabilities": "Email, OfficeCommunicationsOnline",
                "isDefault": name == default_domain,
                "isInitial": name == tenant.initial_domain,
                "name": name,
                "type": "Managed",
            })
        })
        .collect();
    let props = vec![
        ("id", json!(tenant.id)),
        ("assignedPlans", json!([])),
        ("businessPhones", json!([])),
        ("city", Value::Null),
        ("country", Value::Null),
        ("countryLetterCode", json!(tenant.country_letter_code)),
        ("createdDateTime", json!(CREATED)),
        ("deletedDateTime", Value::Null),
        ("displayName", json!(tenant.display_name)),
        ("onPremisesSyncEnabled", Value::Null),
        ("postalCode", Value::Null),
        ("preferredLanguage", json!("en")),
        ("state", Value::Null),
        ("street", Value::Null),
        ("technicalNotificationMails", json!([])),
        ("tenantType", json!("AAD")),
        ("verifiedDomains", Value::Array(domains)),
    ];
    project(&ORGANIZATION, props, selection)
}

/// A directory role as it appears in `memberOf`. The role object id is
/// per tenant (unlike the template id), as in Entra.
pub(crate) fn directory_role(tenant_id: &str, role_name: &str, selection: &Selection) -> Value {
    let role = role_info(role_name);
    let props = [
        (
            "id",
            json!(derived_guid(&[
                "directory-role",
                tenant_id,
                &role.template_id
            ])),
        ),
        ("deletedDateTime", Value::Null),
        ("description", json!(role.description)),
        ("displayName", json!(role.display_name)),
        ("roleTemplateId", json!(role.template_id)),
    ];
    let object = props
        .into_iter()
        .filter(|(name, _)| match selection {
            Selection::Default => true,
            Selection::Fields(fields) => fields.iter().any(|f| f.eq_ignore_ascii_case(name)),
        })
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    typed(&DIRECTORY_ROLE, object)
}

const DIRECTORY_ROLE: EntityKind = EntityKind {
    type_name: "microsoft.graph.directoryRole",
    properties: &[],
    defaults: &[],
};
