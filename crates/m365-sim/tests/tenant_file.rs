#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;

use m365_sim::{
    demo_tenant, load_tenant_file, MailboxType, Region, SimError, SimOptions, Simulator, UserType,
};

const MINIMAL: &str = r#"{
  "id": "11111111-2222-4333-8444-555555555555",
  "displayName": "Minimal",
  "initialDomain": "minimal.onmicrosoft.com",
  "someFutureField": {"ignored": true},
  "users": [
    {"id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
     "userPrincipalName": "ann@minimal.onmicrosoft.com",
     "displayName": "Ann",
     "mail": null}
  ]
}"#;

fn write(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

#[test]
fn optional_fields_take_their_defaults() {
    let file = write(MINIMAL);
    let tenant = load_tenant_file(file.path()).unwrap();
    assert_eq!(tenant.region, Region::Worldwide);
    assert!(tenant.verified_domains.is_empty());
    assert!(tenant.groups.is_empty() && tenant.sites.is_empty());
    let ann = &tenant.users[0];
    assert!(ann.account_enabled);
    assert!(!ann.mfa_required && !ann.locked && !ann.password_expired);
    assert!(ann.roles.is_empty());
    assert_eq!(ann.user_type, UserType::Member);
    assert_eq!(ann.effective_mail(), "ann@minimal.onmicrosoft.com");
    assert!(ann.password.is_none());
}

#[test]
fn regions_parse_by_their_vb365_names() {
    for (name, region) in [
        ("USGovernment", Region::UsGovernment),
        ("USDefence", Region::UsDefence),
        ("China", Region::China),
        ("Germany", Region::Germany),
    ] {
        let text = MINIMAL.replace(
            "\"displayName\": \"Minimal\",",
            &format!("\"displayName\": \"Minimal\", \"region\": \"{name}\","),
        );
        let file = write(&text);
        assert_eq!(load_tenant_file(file.path()).unwrap().region, region);
    }
}

#[test]
fn validation_errors_name_the_file_and_the_problem() {
    let text = MINIMAL
        .replace("ann@minimal.onmicrosoft.com", "ann@elsewhere.com")
        .replace("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", "not-a-guid");
    let file = write(&text);
    let err = load_tenant_file(file.path()).unwrap_err();
    assert!(matches!(err, SimError::InvalidTenantFile { .. }));
    let message = err.to_string();
    assert!(
        message.contains(&file.path().display().to_string()),
        "{message}"
    );
    assert!(message.contains("'not-a-guid' is not a GUID"), "{message}");
    assert!(
        message.contains("domain 'elsewhere.com' is not one of the tenant's domains"),
        "{message}"
    );

    let broken = write("{\"id\": \"11111111-2222-4333-8444-555555555555\"}");
    let err = load_tenant_file(broken.path()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(&broken.path().display().to_string()),
        "{message}"
    );
    assert!(message.contains("missing field `displayName`"), "{message}");

    let err = load_tenant_file(std::path::Path::new("/nonexistent/tenant.json")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/tenant.json"));
}

#[test]
fn group_members_must_exist() {
    let mut tenant = demo_tenant();
    tenant.groups[0]
        .members
        .push("99999999-9999-4999-8999-999999999999".into());
    let err = Simulator::new(vec![tenant], SimOptions::default())
        .err()
        .unwrap();
    assert!(
        err.to_string().contains(
            "member '99999999-9999-4999-8999-999999999999' is neither a user nor a group"
        ),
        "{err}"
    );
}

#[test]
fn tenants_must_not_share_ids_domains_or_upns() {
    let err = Simulator::new(vec![demo_tenant(), demo_tenant()], SimOptions::default())
        .err()
        .unwrap();
    let message = err.to_string();
    assert!(message.contains("have the same id"), "{message}");
    assert!(
        message.contains("domain 'contoso-demo.com' belongs to both"),
        "{message}"
    );

    let mut tenant = demo_tenant();
    let mut twin = tenant.users[1].clone();
    twin.id = "99999999-9999-4999-8999-999999999999".into();
    twin.user_principal_name = twin.user_principal_name.to_uppercase();
    tenant.users.push(twin);
    let err = Simulator::new(vec![tenant], SimOptions::default())
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("userPrincipalName is used twice"),
        "{err}"
    );
}

#[test]
fn demo_tenant_round_trips_through_a_file() {
    let file = write(&serde_json::to_string_pretty(&demo_tenant()).unwrap());
    let tenant = load_tenant_file(file.path()).unwrap();
    assert_eq!(tenant.users.len(), demo_tenant().users.len());
    assert!(Simulator::new(vec![tenant], SimOptions::default()).is_ok());
}

#[test]
fn mailbox_licence_onedrive_and_site_fields() {
    let text = r#"{
      "id": "11111111-2222-4333-8444-555555555555",
      "displayName": "Fields",
      "initialDomain": "fields.onmicrosoft.com",
      "users": [
        {"id": "aaaaaaaa-bbbb-4ccc-8ddd-000000000001", "userPrincipalName": "shared@fields.onmicrosoft.com",
         "displayName": "Shared", "mailboxType": "shared"},
        {"id": "aaaaaaaa-bbbb-4ccc-8ddd-000000000002", "userPrincipalName": "room@fields.onmicrosoft.com",
         "displayName": "Room", "mailboxType": "room", "accountEnabled": true, "oneDrive": true},
        {"id": "aaaaaaaa-bbbb-4ccc-8ddd-000000000003", "userPrincipalName": "ann@fields.onmicrosoft.com",
         "displayName": "Ann", "assignedLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900"}]}
      ],
      "sites": [
        {"id": "fields.sharepoint.com,0a000000-0000-4000-8000-000000000001,0b000000-0000-4000-8000-000000000001",
         "name": "root", "webUrl": "https://fields.sharepoint.com/sites/root"},
        {"id": "fields.sharepoint.com,0a000000-0000-4000-8000-000000000001,0b000000-0000-4000-8000-000000000002",
         "name": "sub", "webUrl": "https://fields.sharepoint.com/sites/root/sub",
         "parentId": "fields.sharepoint.com,0a000000-0000-4000-8000-000000000001,0b000000-0000-4000-8000-000000000001"},
        {"id": "fields-my.sharepoint.com,0c000000-0000-4000-8000-000000000001,0d000000-0000-4000-8000-000000000001",
         "name": "old_fields_onmicrosoft_com", "isPersonal": true,
         "webUrl": "https://fields-my.sharepoint.com/personal/old_fields_onmicrosoft_com"}
      ]
    }"#;
    let tenant = load_tenant_file(write(text).path()).unwrap();
    let [shared, room, ann] = &tenant.users[..] else {
        panic!("three users");
    };
    assert_eq!(shared.mailbox_type, MailboxType::Shared);
    assert!(
        !shared.account_enabled,
        "shared mailboxes default to disabled"
    );
    assert!(!shared.has_one_drive());
    assert!(room.account_enabled && room.has_one_drive());
    assert_eq!(ann.mailbox_type, MailboxType::User);
    assert!(ann.account_enabled && ann.has_one_drive());
    assert!(ann.assigned_licenses[0].disabled_plans.is_empty());
    assert_eq!(
        tenant.sites[1].parent_id.as_deref(),
        Some(tenant.sites[0].id.as_str())
    );
    assert!(tenant.sites[2].is_personal);

    let broken = text
        .replace("6fd2c87f-b296-42f0-b197-1e91e994b900", "E3")
        .replace("\"parentId\": \"fields.sharepoint.com,0a000000-0000-4000-8000-000000000001,0b000000-0000-4000-8000-000000000001\"",
                 "\"parentId\": \"fields.sharepoint.com,0a000000-0000-4000-8000-000000000001,0b000000-0000-4000-8000-000000000009\"")
        .replace("/personal/old_", "/sites/old_");
    let message = load_tenant_file(write(&broken).path())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("licence skuId 'E3' is not a GUID"),
        "{message}"
    );
    assert!(message.contains("parentId 'fields.sharepoint.com,0a000000-0000-4000-8000-000000000001,0b000000-0000-4000-8000-000000000009' is not a site"), "{message}");
    assert!(
        message.contains("a personal site's webUrl must be under /personal/"),
        "{message}"
    );

    let bad_kind = text.replace("\"mailboxType\": \"room\"", "\"mailboxType\": \"kitchen\"");
    let message = load_tenant_file(write(&bad_kind).path())
        .unwrap_err()
        .to_string();
    assert!(message.contains("unknown variant `kitchen`"), "{message}");
}
