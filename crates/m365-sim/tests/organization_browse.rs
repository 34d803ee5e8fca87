//! Browsing an organization's objects the way the product does: users
//! with their mailbox kinds and licences, OneDrives, sites (subsites and
//! personal sites), Teams, filters, counts, deletions and per-area stats.
// The helpers outside #[test] functions index JSON too: a slip is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::HashSet;

use common::*;
use m365_sim::{Fault, MailboxType, SimOptions, Tenant};
use reqwest::StatusCode;
use serde_json::{json, Value};

const DOMAIN: &str = "fabrikam.onmicrosoft.com";
const ADMIN: &str = "admin@fabrikam.onmicrosoft.com";
const PASSWORD: &str = "Fabrikam-Passw0rd!";
const E5_SKU: &str = "06ebc4ee-1bb5-47dd-8120-11324bc54e06";
const TEAMS_PLAN: &str = "57ff2da0-773e-42df-b2af-ffb7a2317929";
const ROOT_SITE: &str = "fabrikam.sharepoint.com,0a000000-0000-4000-8000-000000000001,0b000000-0000-4000-8000-000000000001";
const SUBSITE: &str = "fabrikam.sharepoint.com,0a000000-0000-4000-8000-000000000001,0b000000-0000-4000-8000-000000000002";
const SUBSUBSITE: &str = "fabrikam.sharepoint.com,0a000000-0000-4000-8000-000000000001,0b000000-0000-4000-8000-000000000003";
const TEAM_ID: &str = "0c000000-0000-4000-8000-000000000001";
const GROUP_ID: &str = "0c000000-0000-4000-8000-000000000002";

fn user_id(n: u32) -> String {
    format!("0d000000-0000-4000-8000-{n:012}")
}

/// An admin and one user per mailbox kind, licence and OneDrive case.
fn fabrikam() -> Tenant {
    let user = |n: u32, local: &str, name: &str, extra: Value| {
        let mut u = json!({
            "id": user_id(n),
            "userPrincipalName": format!("{local}@{DOMAIN}"),
            "displayName": name,
        });
        for (k, v) in extra.as_object().unwrap() {
            u[k] = v.clone();
        }
        u
    };
    serde_json::from_value(json!({
        "id": "0e000000-0000-4000-8000-000000000001",
        "displayName": "Fabrikam",
        "initialDomain": DOMAIN,
        "users": [
            user(0, "admin", "Fabrikam Admin", json!({"password": PASSWORD, "roles": ["Global Administrator"]})),
            user(1, "alice.smith", "Alice Smith", json!({
                "assignedLicenses": [{"skuId": E5_SKU, "disabledPlans": [TEAMS_PLAN]}],
            })),
            user(2, "shared", "Shared Inbox", json!({"mailboxType": "shared"})),
            user(3, "room", "Board Room", json!({"mailboxType": "room", "accountEnabled": true})),
            user(4, "projector", "Projector", json!({"mailboxType": "equipment"})),
            user(5, "service", "Service Account", json!({"mailboxType": "none"})),
            user(6, "bob.jones", "Bob Jones", json!({"oneDrive": false})),
            user(7, "guest_example.com#EXT#", "Guest", json!({"userType": "Guest", "mail": "guest@example.com"})),
        ],
        "groups": [
            {"id": TEAM_ID, "displayName": "Project Team", "description": "The project",
             "groupTypes": ["Unified"], "mail": format!("project@{DOMAIN}"), "isTeam": true,
             "members": [user_id(0), user_id(1), user_id(6)]},
            {"id": GROUP_ID, "displayName": "All Staff", "groupTypes": ["Unified"],
             "mail": format!("staff@{DOMAIN}"), "members": [user_id(1)]},
        ],
        "sites": [
            {"id": ROOT_SITE, "name": "projects", "webUrl": "https://fabrikam.sharepoint.com/sites/projects"},
            {"id": SUBSITE, "name": "alpha", "parentId": ROOT_SITE,
             "webUrl": "https://fabrikam.sharepoint.com/sites/projects/alpha"},
            {"id": SUBSUBSITE, "name": "alpha-docs", "parentId": SUBSITE,
             "webUrl": "https://fabrikam.sharepoint.com/sites/projects/alpha/docs"},
        ],
    }))
    .unwrap()
}

async fn start_fabrikam() -> (Running, String) {
    let sim = start_with(vec![fabrikam()], SimOptions::default()).await;
    let reply = sim
        .password_grant(DOMAIN, ADMIN, PASSWORD, GRAPH_DEFAULT)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let token = reply.body["access_token"].as_str().unwrap().to_owned();
    (sim, token)
}

/// GET with `ConsistencyLevel: eventual`.
async fn get_eventual(sim: &Running, token: &str, url: &str) -> Value {
    let response = sim
        .client
        .get(url)
        .bearer_auth(token)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn by_upn<'a>(users: &'a [Value], local: &str) -> &'a Value {
    let upn = format!("{local}@{DOMAIN}");
    users
        .iter()
        .find(|u| u["userPrincipalName"] == upn)
        .unwrap()
}

#[test]
fn tenant_file_mailbox_defaults() {
    let tenant = fabrikam();
    let kinds: Vec<(MailboxType, bool, bool)> = tenant
        .users
        .iter()
        .map(|u| (u.mailbox_type, u.account_enabled, u.has_one_drive()))
        .collect();
    assert_eq!(
        kinds[..7],
        [
            (MailboxType::User, true, true),
            (MailboxType::User, true, true),
            (MailboxType::Shared, false, false),
            (MailboxType::Room, true, false),
            (MailboxType::Equipment, false, false),
            (MailboxType::NoMailbox, true, false),
            (MailboxType::User, true, false),
        ]
    );
    assert!(!tenant.users[7].has_one_drive(), "guests have no OneDrive");
    // Serialising keeps every fact, so a file round-trips.
    let again: Tenant = serde_json::from_value(serde_json::to_value(&tenant).unwrap()).unwrap();
    assert!(!again.users[2].account_enabled);
    assert_eq!(
        again.users[1].assigned_licenses,
        tenant.users[1].assigned_licenses
    );
}

#[tokio::test]
async fn select_shows_account_licence_and_mail_facts() {
    let (sim, token) = start_fabrikam().await;
    let fields = "id,userPrincipalName,accountEnabled,userType,assignedLicenses,mail,mailNickname,onPremisesSyncEnabled";
    let reply = sim
        .get(&token, &format!("/v1.0/users?$select={fields}"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["@odata.context"],
        format!("https://graph.microsoft.com/v1.0/$metadata#users({fields})")
    );
    let users = reply.body["value"].as_array().unwrap();
    let expected_keys: HashSet<&str> = fields.split(',').collect();
    for user in users {
        let keys: HashSet<&str> = user
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, expected_keys);
        assert_eq!(user["onPremisesSyncEnabled"], Value::Null);
    }
    let alice = by_upn(users, "alice.smith");
    assert_eq!(
        alice["assignedLicenses"],
        json!([{"skuId": E5_SKU, "disabledPlans": [TEAMS_PLAN]}])
    );
    assert_eq!(alice["mailNickname"], "alice.smith");
    assert_eq!(alice["mail"], format!("alice.smith@{DOMAIN}"));
    assert_eq!(by_upn(users, "admin")["assignedLicenses"], json!([]));
    assert_eq!(by_upn(users, "shared")["accountEnabled"], false);
    assert_eq!(by_upn(users, "shared")["mail"], format!("shared@{DOMAIN}"));
    assert_eq!(by_upn(users, "room")["accountEnabled"], true);
    assert_eq!(by_upn(users, "projector")["accountEnabled"], false);
    assert_eq!(by_upn(users, "service")["mail"], Value::Null);
    let guest = by_upn(users, "guest_example.com#EXT#");
    assert_eq!(guest["userType"], "Guest");

    // Not selected, not shown.
    let plain = sim
        .get(&token, &format!("/v1.0/users/{}", user_id(1)))
        .await;
    assert!(plain.body.get("assignedLicenses").is_none());
    assert!(plain.body.get("accountEnabled").is_none());
    let one = sim
        .get(
            &token,
            &format!("/v1.0/users/shared@{DOMAIN}?$select=accountEnabled,assignedLicenses"),
        )
        .await;
    assert_eq!(
        one.body,
        json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(accountEnabled,assignedLicenses)/$entity",
            "accountEnabled": false,
            "assignedLicenses": [],
        })
    );
}

#[tokio::test]
async fn mailbox_settings_tell_mailbox_kinds_apart() {
    let (sim, token) = start_fabrikam().await;
    for (n, purpose) in [(1, "user"), (2, "shared"), (3, "room"), (4, "equipment")] {
        let reply = sim
            .get(
                &token,
                &format!("/v1.0/users/{}/mailboxSettings", user_id(n)),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["userPurpose"], purpose);
        assert_eq!(
            reply.body["@odata.context"],
            format!(
                "https://graph.microsoft.com/v1.0/$metadata#users('{}')/mailboxSettings",
                user_id(n)
            )
        );
        assert!(reply.body["timeZone"].is_string());
        assert!(reply.body["automaticRepliesSetting"]["status"].is_string());
    }
    let mine = sim.get(&token, "/v1.0/me/mailboxSettings").await;
    assert_eq!(mine.body["userPurpose"], "user");

    for key in [user_id(5), user_id(7)] {
        let reply = sim
            .get(&token, &format!("/v1.0/users/{key}/mailboxSettings"))
            .await;
        assert_graph_error(&reply, StatusCode::NOT_FOUND, "MailboxNotEnabledForRESTAPI");
    }
    let missing = sim
        .get(
            &token,
            &format!("/v1.0/users/nobody@{DOMAIN}/mailboxSettings"),
        )
        .await;
    assert_graph_error(&missing, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
}

#[tokio::test]
async fn one_drive_or_mysite_not_found() {
    let (sim, token) = start_fabrikam().await;
    let reply = sim
        .get(&token, &format!("/v1.0/users/alice.smith@{DOMAIN}/drive"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let drive = &reply.body;
    assert_eq!(
        drive["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#drives/$entity"
    );
    assert!(drive["id"].as_str().unwrap().starts_with("b!"));
    assert_eq!(drive["name"], "OneDrive");
    assert_eq!(drive["driveType"], "business");
    assert_eq!(
        drive["webUrl"],
        "https://fabrikam-my.sharepoint.com/personal/alice_smith_fabrikam_onmicrosoft_com/Documents"
    );
    assert!(drive["createdDateTime"].is_string());
    assert_eq!(
        drive["owner"]["user"],
        json!({"id": user_id(1), "displayName": "Alice Smith", "email": format!("alice.smith@{DOMAIN}")})
    );
    let quota = &drive["quota"];
    let (total, used, remaining, deleted) = (
        quota["total"].as_u64().unwrap(),
        quota["used"].as_u64().unwrap(),
        quota["remaining"].as_u64().unwrap(),
        quota["deleted"].as_u64().unwrap(),
    );
    assert_eq!(total, used + remaining + deleted);
    assert_eq!(quota["state"], "normal");
    let again = sim
        .get(&token, &format!("/v1.0/users/{}/drive", user_id(1)))
        .await;
    assert_eq!(again.body["id"], drive["id"], "stable ids");
    let mine = sim.get(&token, "/v1.0/me/drive").await;
    assert_ne!(mine.body["id"], drive["id"]);

    for n in [2, 5, 6, 7] {
        let reply = sim
            .get(&token, &format!("/v1.0/users/{}/drive", user_id(n)))
            .await;
        assert_graph_error(&reply, StatusCode::NOT_FOUND, "ResourceNotFound");
        assert_eq!(reply.body["error"]["message"], "User's mysite not found.");
    }
    let missing = sim
        .get(
            &token,
            "/v1.0/users/00000000-0000-4000-8000-000000000000/drive",
        )
        .await;
    assert_graph_error(&missing, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
}

#[tokio::test]
async fn sites_include_subsites_and_personal_sites() {
    let (sim, token) = start_fabrikam().await;
    let (sites, _) = sim.get_all(&token, "/v1.0/sites?search=*&$top=2").await;
    let urls: Vec<&str> = sites
        .iter()
        .map(|s| s["webUrl"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        [
            "https://fabrikam.sharepoint.com/sites/projects",
            "https://fabrikam.sharepoint.com/sites/projects/alpha",
            "https://fabrikam.sharepoint.com/sites/projects/alpha/docs",
            "https://fabrikam-my.sharepoint.com/personal/admin_fabrikam_onmicrosoft_com",
            "https://fabrikam-my.sharepoint.com/personal/alice_smith_fabrikam_onmicrosoft_com",
        ]
    );
    let personal = &sites[4];
    assert_eq!(personal["name"], "alice_smith_fabrikam_onmicrosoft_com");
    assert_eq!(personal["displayName"], "Alice Smith");
    assert_eq!(
        personal["siteCollection"]["hostname"],
        "fabrikam-my.sharepoint.com"
    );
    let personal_id = personal["id"].as_str().unwrap();
    let parts: Vec<&str> = personal_id.split(',').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[0], "fabrikam-my.sharepoint.com");
    assert!(uuid::Uuid::parse_str(parts[1]).is_ok() && uuid::Uuid::parse_str(parts[2]).is_ok());

    let found = sim.get(&token, "/v1.0/sites?search=alice").await;
    assert_eq!(found.body["value"].as_array().unwrap().len(), 1);

    // By id, with commas as they are or percent-encoded.
    for id in [personal_id.to_owned(), personal_id.replace(',', "%2C")] {
        let reply = sim.get(&token, &format!("/v1.0/sites/{id}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{id}: {}", reply.body);
        assert_eq!(reply.body["id"], personal_id);
        assert_eq!(
            reply.body["@odata.context"],
            "https://graph.microsoft.com/v1.0/$metadata#sites/$entity"
        );
    }
    let encoded = sim
        .get(
            &token,
            &format!("/v1.0/sites/{}", SUBSITE.replace(',', "%2c")),
        )
        .await;
    assert_eq!(encoded.body["name"], "alpha");

    let subsites = sim
        .get(&token, &format!("/v1.0/sites/{ROOT_SITE}/sites"))
        .await;
    assert_eq!(subsites.status, StatusCode::OK, "{}", subsites.body);
    let names: Vec<&Value> = subsites.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["name"])
        .collect();
    assert_eq!(names, ["alpha"], "direct subsites only");
    let (deeper, pages) = sim
        .get_all(
            &token,
            &format!("/v1.0/sites/{}/sites?$top=1", SUBSITE.replace(',', "%2C")),
        )
        .await;
    assert_eq!((deeper.len(), pages), (1, 1));
    assert_eq!(deeper[0]["name"], "alpha-docs");
    let leaf = sim
        .get(&token, &format!("/v1.0/sites/{personal_id}/sites"))
        .await;
    assert_eq!(leaf.body["value"], json!([]));

    // Only admin and Alice have OneDrives (above); ids on the -my host
    // that belong to no OneDrive, and foreign ids, find nothing.
    let bob_site = personal_id.replace(&parts[1][..8], "ffffffff");
    for id in [bob_site.as_str(), "fabrikam.sharepoint.com,00000000-0000-4000-8000-000000000000,00000000-0000-4000-8000-000000000000", "nonsense"] {
        let reply = sim.get(&token, &format!("/v1.0/sites/{id}")).await;
        assert_graph_error(&reply, StatusCode::NOT_FOUND, "itemNotFound");
        let reply = sim.get(&token, &format!("/v1.0/sites/{id}/sites")).await;
        assert_graph_error(&reply, StatusCode::NOT_FOUND, "itemNotFound");
    }
}

#[tokio::test]
async fn teams_by_group_id() {
    let (sim, token) = start_fabrikam().await;
    let reply = sim.get(&token, &format!("/v1.0/teams/{TEAM_ID}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let team = &reply.body;
    assert_eq!(team["id"], TEAM_ID);
    assert_eq!(team["displayName"], "Project Team");
    assert_eq!(team["description"], "The project");
    assert_eq!(team["isArchived"], false);
    assert!(team["webUrl"]
        .as_str()
        .unwrap()
        .starts_with("https://teams.microsoft.com/l/team/19%3a"));
    assert_eq!(
        team["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#teams/$entity"
    );
    for id in [GROUP_ID, "0c000000-0000-4000-8000-0000000000ff"] {
        let reply = sim.get(&token, &format!("/v1.0/teams/{id}")).await;
        assert_graph_error(&reply, StatusCode::NOT_FOUND, "NotFound");
    }
    let group = sim
        .get(
            &token,
            &format!("/v1.0/groups/{TEAM_ID}?$select=id,resourceProvisioningOptions,onPremisesSyncEnabled"),
        )
        .await;
    assert_eq!(group.body["resourceProvisioningOptions"], json!(["Team"]));
    assert_eq!(group.body["onPremisesSyncEnabled"], Value::Null);
    let list = sim.get(&token, "/v1.0/teams").await;
    assert_eq!(
        list.body["value"],
        json!([{"id": TEAM_ID, "displayName": "Project Team", "description": "The project"}])
    );
}

#[tokio::test]
async fn users_startswith_filters() {
    let (sim, token) = start_fabrikam().await;
    let names = |reply: &Reply| -> Vec<String> {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["displayName"].as_str().unwrap().to_owned())
            .collect()
    };
    let reply = sim
        .get(&token, "/v1.0/users?$filter=startswith(displayName,'b')")
        .await;
    assert_eq!(names(&reply), ["Board Room", "Bob Jones"]);
    let reply = sim
        .get(
            &token,
            "/v1.0/users?$filter=startswith(userPrincipalName,'ALICE.')",
        )
        .await;
    assert_eq!(names(&reply), ["Alice Smith"]);
    let (paged, pages) = sim
        .get_all(
            &token,
            "/v1.0/users?$filter=startswith(displayName,'b')&$top=1",
        )
        .await;
    assert_eq!((paged.len(), pages), (2, 2));
    for bad in [
        "displayName eq 'Bob Jones'",
        "startswith(jobTitle,'x')",
        "endswith(mail,'@fabrikam.onmicrosoft.com')",
    ] {
        let reply = sim.get(&token, &format!("/v1.0/users?$filter={bad}")).await;
        assert_graph_error(&reply, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");
    }
}

#[tokio::test]
async fn count_needs_consistency_level_and_only_comes_first() {
    let (sim, token) = start_fabrikam().await;
    for path in ["/v1.0/users?$count=true", "/v1.0/groups?$count=true"] {
        let reply = sim.get(&token, path).await;
        assert_graph_error(&reply, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");
    }
    let first = get_eventual(
        &sim,
        &token,
        &format!("{}/v1.0/users?$count=true&$top=3", sim.base),
    )
    .await;
    assert_eq!(first["@odata.count"], 8);
    let mut seen = first["value"].as_array().unwrap().len();
    let mut next = first["@odata.nextLink"].as_str().map(str::to_owned);
    while let Some(url) = next {
        assert!(url.contains("$count=true"), "{url}");
        let page = get_eventual(&sim, &token, &url).await;
        assert!(page.get("@odata.count").is_none());
        seen += page["value"].as_array().unwrap().len();
        next = page["@odata.nextLink"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, 8);

    let filtered = get_eventual(
        &sim,
        &token,
        &format!(
            "{}/v1.0/users?$count=true&$filter=startswith(displayName,'b')",
            sim.base
        ),
    )
    .await;
    assert_eq!(filtered["@odata.count"], 2);
    let members = get_eventual(
        &sim,
        &token,
        &format!(
            "{}/v1.0/groups/{TEAM_ID}/members?$count=true&$top=1",
            sim.base
        ),
    )
    .await;
    assert_eq!(members["@odata.count"], 3);
    let teams = get_eventual(
        &sim,
        &token,
        &format!(
            "{}/v1.0/groups?$count=true&$filter=resourceProvisioningOptions/Any(x:x eq 'Team')",
            sim.base
        ),
    )
    .await;
    assert_eq!(teams["@odata.count"], 1);
}

#[tokio::test]
async fn removed_users_disappear() {
    let (sim, token) = start_fabrikam().await;
    sim.sim
        .remove_user(DOMAIN, &format!("Alice.Smith@{DOMAIN}"))
        .unwrap();
    let (users, _) = sim.get_all(&token, "/v1.0/users").await;
    assert_eq!(users.len(), 7);
    assert!(users.iter().all(|u| u["displayName"] != "Alice Smith"));
    let gone = sim
        .get(&token, &format!("/v1.0/users/{}", user_id(1)))
        .await;
    assert_graph_error(&gone, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    let drive = sim
        .get(&token, &format!("/v1.0/users/{}/drive", user_id(1)))
        .await;
    assert_graph_error(&drive, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    let (members, _) = sim
        .get_all(&token, &format!("/v1.0/groups/{TEAM_ID}/members"))
        .await;
    assert_eq!(members.len(), 2);
    let (sites, _) = sim.get_all(&token, "/v1.0/sites?search=alice").await;
    assert!(sites.is_empty());
    assert!(sim
        .sim
        .remove_user(DOMAIN, &format!("alice.smith@{DOMAIN}"))
        .is_err());
}

#[tokio::test]
async fn stats_count_requests_per_area() {
    let (sim, token) = start_fabrikam().await;
    let before = sim.sim.stats();
    assert_eq!(
        (
            before.graph_requests,
            before.users_requests,
            before.groups_requests,
            before.sites_requests
        ),
        (0, 0, 0, 0)
    );
    sim.get(&token, "/v1.0/me").await;
    sim.get(&token, "/v1.0/users").await;
    sim.get(&token, &format!("/v1.0/Users/{}/drive", user_id(1)))
        .await;
    sim.get(&token, &format!("/v1.0/groups/{TEAM_ID}/members"))
        .await;
    sim.get(&token, "/v1.0/sites?search=*").await;
    sim.get(&token, &format!("/v1.0/teams/{TEAM_ID}")).await;
    sim.sim.set_fault(Some(Fault::Throttle {
        every: 1,
        retry_after_secs: 1,
    }));
    let throttled = sim.get(&token, "/v1.0/users").await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    sim.sim.set_fault(None);
    let stats = sim.sim.stats();
    assert_eq!(stats.graph_requests, 7);
    assert_eq!(
        (
            stats.users_requests,
            stats.groups_requests,
            stats.sites_requests
        ),
        (3, 1, 1)
    );
    let over_http = sim.get_url(None, &format!("{}/_sim/stats", sim.base)).await;
    assert_eq!(over_http.body["usersRequests"], 3);
    assert_eq!(over_http.body["sitesRequests"], 1);
}
