//! How simulated objects look on the Graph wire.

use serde_json::{json, Map, Value};

use crate::graph_query::Selection;
use crate::ids::derived_guid;
use crate::roles::role_info;
use crate::tenant::{Group, Site, Tenant, User};

/// Fixed so repeated runs produce identical payloads.
pub(crate) const CREATED: &str = "2024-03-01T08:00:00Z";

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
        "onPremisesDistinguishedName",
        "onPremisesDomainName",
        "onPremisesImmutableId",
        "onPremisesLastSyncDateTime",
        "onPremisesSamAccountName",
        "onPremisesSecurityIdentifier",
        "onPremisesSyncEnabled",
        "onPremisesUserPrincipalName",
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

/// Every group property `$select` accepts: the defaults, then the rest
/// (null or empty for the groups we simulate unless `group_property` says
/// otherwise).
const GROUP_PROPERTIES: &[&str] = &[
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
    "assignedLicenses",
    "classification",
    "expirationDateTime",
    "isAssignableToRole",
    "membershipRule",
    "membershipRuleProcessingState",
    "onPremisesDomainName",
    "onPremisesLastSyncDateTime",
    "onPremisesNetBiosName",
    "onPremisesSamAccountName",
    "onPremisesSecurityIdentifier",
    "onPremisesSyncEnabled",
    "preferredDataLocation",
    "preferredLanguage",
    "renewedDateTime",
    "resourceBehaviorOptions",
    "securityIdentifier",
    "theme",
];

pub(crate) const GROUP: EntityKind = EntityKind {
    type_name: "microsoft.graph.group",
    properties: GROUP_PROPERTIES,
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

/// Builds only the properties the selection asks for; `value` is called
/// once per returned property, so big pages do not pay for the rest.
fn project(
    kind: &EntityKind,
    selection: &Selection,
    value: impl Fn(&str) -> Value,
) -> Map<String, Value> {
    let wanted = |name: &&&str| match selection {
        Selection::Default => kind.defaults.contains(name),
        Selection::Fields(fields) => fields.iter().any(|f| f.eq_ignore_ascii_case(name)),
    };
    kind.properties
        .iter()
        .filter(wanted)
        .map(|name| ((*name).to_owned(), value(name)))
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
    project(&USER, selection, |name| user_property(user, name))
}

fn user_property(user: &User, name: &str) -> Value {
    let mail = user.mailbox_address();
    match name {
        "id" => json!(user.id),
        "accountEnabled" => json!(user.account_enabled),
        "assignedLicenses" => json!(user.assigned_licenses),
        "businessPhones" => json!(user.business_phones),
        "createdDateTime" => json!(CREATED),
        "department" => json!(user.department),
        "displayName" => json!(user.display_name),
        "givenName" => json!(user.given_name),
        "imAddresses" => json!(mail.into_iter().collect::<Vec<_>>()),
        "jobTitle" => json!(user.job_title),
        "mail" => json!(mail),
        "mailNickname" => json!(mail_nickname(
            Some(&user.user_principal_name),
            &user.display_name
        )),
        "mobilePhone" => json!(user.mobile_phone),
        "officeLocation" => json!(user.office_location),
        "otherMails" => json!([]),
        "preferredLanguage" => json!(user.preferred_language),
        "proxyAddresses" => json!(mail
            .map(|m| format!("SMTP:{m}"))
            .into_iter()
            .collect::<Vec<_>>()),
        "surname" => json!(user.surname),
        "usageLocation" => json!(user.usage_location),
        "userPrincipalName" => json!(user.user_principal_name),
        "userType" => json!(user.user_type.as_str()),
        // ageGroup, city, companyName, country, creationType,
        // deletedDateTime, employeeId, and the onPremises* properties
        // (null for cloud-only accounts).
        _ => Value::Null,
    }
}

pub(crate) fn group(group: &Group, selection: &Selection) -> Map<String, Value> {
    project(&GROUP, selection, |name| group_property(group, name))
}

fn group_property(group: &Group, name: &str) -> Value {
    let unified = group.is_unified();
    match name {
        "id" => json!(group.id),
        "createdDateTime" => json!(CREATED),
        "description" => json!(group.description),
        "displayName" => json!(group.display_name),
        "groupTypes" => json!(group.group_types),
        "mail" => json!(group.mail),
        "mailEnabled" => json!(group.mail_enabled.unwrap_or(group.mail.is_some())),
        "mailNickname" => json!(group
            .mail_nickname
            .clone()
            .unwrap_or_else(|| mail_nickname(group.mail.as_deref(), &group.display_name))),
        "proxyAddresses" => json!(group
            .mail
            .iter()
            .map(|m| format!("SMTP:{m}"))
            .collect::<Vec<_>>()),
        "assignedLicenses" | "resourceBehaviorOptions" => json!([]),
        "renewedDateTime" => json!(CREATED),
        "resourceProvisioningOptions" => {
            json!(if group.is_team { vec!["Team"] } else { vec![] })
        }
        "securityEnabled" => json!(group.security_enabled.unwrap_or(!unified)),
        "visibility" => json!(group
            .visibility
            .clone()
            .or_else(|| unified.then(|| "Public".to_owned()))),
        // deletedDateTime and the on-premises and policy properties of
        // cloud-only groups
        _ => Value::Null,
    }
}

pub(crate) fn site(site: &Site, selection: &Selection) -> Map<String, Value> {
    project(&SITE, selection, |name| match name {
        "id" => json!(site.id),
        "createdDateTime" | "lastModifiedDateTime" => json!(CREATED),
        "description" => json!(site.description),
        "displayName" => json!(site.effective_display_name()),
        "name" => json!(site.name),
        "siteCollection" => json!({ "hostname": site.hostname() }),
        "webUrl" => json!(site.web_url),
        _ => Value::Null,
    })
}

pub(crate) fn organization(tenant: &Tenant, selection: &Selection) -> Map<String, Value> {
    project(&ORGANIZATION, selection, |name| match name {
        "id" => json!(tenant.id),
        "assignedPlans" | "businessPhones" | "technicalNotificationMails" => json!([]),
        "countryLetterCode" => json!(tenant.country_letter_code),
        "createdDateTime" => json!(CREATED),
        "displayName" => json!(tenant.display_name),
        "preferredLanguage" => json!("en"),
        "tenantType" => json!("AAD"),
        "verifiedDomains" => verified_domains(tenant),
        // city, country, deletedDateTime, onPremisesSyncEnabled,
        // postalCode, state, street
        _ => Value::Null,
    })
}

fn verified_domains(tenant: &Tenant) -> Value {
    let default_domain = tenant
        .verified_domains
        .first()
        .unwrap_or(&tenant.initial_domain);
    tenant
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
        .collect()
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

/// `value[a][b]…` without `Index`: a missing key (or a non-object on the
/// way) reads as null, as serde_json's indexing does.
pub(crate) fn json_at<'v>(value: &'v Value, path: &[&str]) -> &'v Value {
    static NULL: Value = Value::Null;
    path.iter()
        .try_fold(value, |at, key| at.get(key))
        .unwrap_or(&NULL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_at_reads_like_indexing_and_never_panics() {
        let value = json!({"from": {"emailAddress": {"address": "a@b"}}, "list": [1]});
        assert_eq!(json_at(&value, &["from", "emailAddress", "address"]), "a@b");
        assert_eq!(json_at(&value, &[]), &value);
        assert_eq!(json_at(&value, &["from", "missing"]), &Value::Null);
        // Through a non-object: serde_json's `value["list"]["x"]` is null too.
        assert_eq!(json_at(&value, &["list", "x"]), &Value::Null);
        assert_eq!(json_at(&json!("text"), &["a"]), &Value::Null);
    }
}
