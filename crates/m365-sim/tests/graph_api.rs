#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use m365_sim::{demo_tenant, SimOptions, DEMO_ADMIN_UPN, DEMO_TENANT_ID};
use reqwest::StatusCode;
use serde_json::Value;

const ODATA_JSON: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";
const TEAM_FILTER: &str = "resourceProvisioningOptions/Any(x:x eq 'Team')";

#[tokio::test]
async fn graph_needs_a_token_this_simulator_issued() {
    let sim = start().await;
    let url = format!("{}/v1.0/me", sim.base);

    let none = sim.get_url(None, &url).await;
    assert_graph_error(
        &none,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
    );
    assert_eq!(none.body["error"]["message"], "Access token is empty.");
    let challenge = none.headers["www-authenticate"].to_str().unwrap();
    assert_eq!(
        challenge,
        "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\", error=\"invalid_token\""
    );

    let garbage = sim.get_url(Some("not-a-real-token"), &url).await;
    assert_graph_error(
        &garbage,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
    );
    assert_eq!(
        garbage.body["error"]["message"],
        "IDX14100: JWT is not well formed, there are no dots (.)."
    );
    assert!(garbage.headers.contains_key("www-authenticate"));
}

#[tokio::test]
async fn expired_access_tokens_are_refused() {
    let options = SimOptions {
        token_lifetime: Duration::from_millis(100),
        ..SimOptions::default()
    };
    let sim = start_with(vec![demo_tenant()], options).await;
    let token = sim.admin_token().await;
    assert_eq!(sim.get(&token, "/v1.0/me").await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let expired = sim.get(&token, "/v1.0/me").await;
    assert_graph_error(
        &expired,
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
    );
    assert_eq!(
        expired.body["error"]["message"],
        "Access token has expired or is not yet valid."
    );
}

#[tokio::test]
async fn organization_describes_the_tenant() {
    let sim = start().await;
    let token = sim.admin_token().await;
    let reply = sim.get(&token, "/v1.0/organization").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], ODATA_JSON);
    assert_eq!(
        reply.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#organization"
    );
    let org = &reply.body["value"][0];
    assert_eq!(reply.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(org["id"], DEMO_TENANT_ID);
    assert_eq!(org["displayName"], "Contoso Demo");
    assert_eq!(org["tenantType"], "AAD");
    let domains = org["verifiedDomains"].as_array().unwrap();
    let initial = domains.iter().find(|d| d["isInitial"] == true).unwrap();
    assert_eq!(initial["name"], "contoso-demo.onmicrosoft.com");
    assert_eq!(initial["isDefault"], false);
    assert_eq!(initial["type"], "Managed");
    assert_eq!(initial["capabilities"], "Email, OfficeCommunicationsOnline");
    let default = domains.iter().find(|d| d["isDefault"] == true).unwrap();
    assert_eq!(default["name"], "contoso-demo.com");
}

#[tokio::test]
async fn me_and_member_of_show_the_signed_in_admin() {
    let sim = start().await;
    let token = sim.admin_token().await;
    let me = sim.get(&token, "/v1.0/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        me.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#users/$entity"
    );
    assert_eq!(me.body["userPrincipalName"], DEMO_ADMIN_UPN);
    assert_eq!(me.body["mail"], DEMO_ADMIN_UPN);
    assert_eq!(me.body["businessPhones"], serde_json::json!([]));
    assert!(me.body.get("accountEnabled").is_none());

    let member_of = sim.get(&token, "/v1.0/me/memberOf").await;
    assert_eq!(member_of.status, StatusCode::OK);
    let values = member_of.body["value"].as_array().unwrap();
    let role = &values[0];
    assert_eq!(role["@odata.type"], "#microsoft.graph.directoryRole");
    assert_eq!(role["displayName"], "Global Administrator");
    assert_eq!(
        role["roleTemplateId"],
        "62e90394-69f5-4237-9190-012177145e10"
    );
    assert_ne!(role["id"], role["roleTemplateId"]);
    let groups: Vec<&str> = values
        .iter()
        .filter(|v| v["@odata.type"] == "#microsoft.graph.group")
        .map(|v| v["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["Mark 8 Project Team", "Backup Operators"]);
}

#[tokio::test]
async fn users_page_through_next_link_visiting_everyone_once() {
    let sim = start().await;
    let token = sim.admin_token().await;

    let first = sim.get(&token, "/v1.0/users?$top=2").await;
    let next = first.body["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.starts_with(&format!("{}/v1.0/users?", sim.base)),
        "{next}"
    );
    assert!(
        next.contains("$top=2") && next.contains("$skiptoken="),
        "{next}"
    );

    let (users, pages) = sim.get_all(&token, "/v1.0/users?$top=2").await;
    assert_eq!(users.len(), 9);
    assert_eq!(pages, 5);
    let ids: HashSet<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 9, "every user exactly once");

    let (all, pages) = sim.get_all(&token, "/v1.0/users").await;
    assert_eq!((all.len(), pages), (9, 1));
}

#[tokio::test]
async fn page_size_limits() {
    let sim = start().await;
    let token = sim.admin_token().await;
    for bad in ["1000", "0", "many"] {
        let reply = sim.get(&token, &format!("/v1.0/users?$top={bad}")).await;
        assert_graph_error(&reply, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");
        assert_eq!(
            reply.body["error"]["message"],
            format!("Invalid page size specified: '{bad}'. Must be between 1 and 999 inclusive.")
        );
    }
    assert_eq!(
        sim.get(&token, "/v1.0/users?$top=999").await.status,
        StatusCode::OK
    );
    let bad_token = sim.get(&token, "/v1.0/users?$skiptoken=bogus").await;
    assert_graph_error(
        &bad_token,
        StatusCode::BAD_REQUEST,
        "Directory_ExpiredPageToken",
    );
}

#[tokio::test]
async fn select_returns_only_the_named_properties() {
    let sim = start().await;
    let token = sim.admin_token().await;
    let reply = sim
        .get(
            &token,
            "/v1.0/users?$select=id,userPrincipalName,accountEnabled,userType&$top=3",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["@odata.context"],
        "https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,accountEnabled,userType)"
    );
    for user in reply.body["value"].as_array().unwrap() {
        let keys: HashSet<&str> = user
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            HashSet::from(["id", "userPrincipalName", "accountEnabled", "userType"])
        );
        assert_eq!(user["accountEnabled"], true);
        assert_eq!(user["userType"], "Member");
    }
    // $select survives paging.
    let next = reply.body["@odata.nextLink"].as_str().unwrap();
    let page2 = sim.get_url(Some(&token), next).await;
    assert!(page2.body["value"][0].get("displayName").is_none());
    assert!(page2.body["value"][0].get("accountEnabled").is_some());

    let defaults = sim.get(&token, "/v1.0/users?$top=1").await;
    let keys: HashSet<&str> = defaults.body["value"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected = [
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
    ];
    assert_eq!(keys, HashSet::from(expected));

    let unknown = sim.get(&token, "/v1.0/users?$select=shoeSize").await;
    assert_graph_error(&unknown, StatusCode::BAD_REQUEST, "BadRequest");
}

#[tokio::test]
async fn users_by_id_or_upn_and_not_found() {
    let sim = start().await;
    let token = sim.admin_token().await;
    let by_upn = sim
        .get(&token, "/v1.0/users/Megan.Bowen@contoso-demo.com")
        .await;
    assert_eq!(by_upn.status, StatusCode::OK);
    let id = by_upn.body["id"].as_str().unwrap().to_owned();
    let by_id = sim.get(&token, &format!("/v1.0/users/{id}")).await;
    assert_eq!(
        by_id.body["userPrincipalName"],
        "megan.bowen@contoso-demo.com"
    );
    let encoded = sim
        .get(&token, "/v1.0/users/megan.bowen%40contoso-demo.com")
        .await;
    assert_eq!(encoded.body["id"], id.as_str());

    let missing = "00000000-0000-4000-8000-000000000000";
    let reply = sim.get(&token, &format!("/v1.0/users/{missing}")).await;
    assert_graph_error(&reply, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
    assert_eq!(
        reply.body["error"]["message"],
        format!("Resource '{missing}' does not exist or one of its queried reference-property objects are not present.")
    );
    let reply = sim
        .get(&token, &format!("/v1.0/groups/{missing}/members"))
        .await;
    assert_graph_error(&reply, StatusCode::NOT_FOUND, "Request_ResourceNotFound");
}

#[tokio::test]
async fn groups_teams_filter_and_members() {
    let sim = start().await;
    let token = sim.admin_token().await;
    let (groups, _) = sim.get_all(&token, "/v1.0/groups?$top=2").await;
    assert_eq!(groups.len(), 3);
    let team = groups
        .iter()
        .find(|g| g["displayName"] == "Mark 8 Project Team")
        .unwrap();
    assert_eq!(
        team["resourceProvisioningOptions"],
        serde_json::json!(["Team"])
    );
    assert_eq!(team["groupTypes"], serde_json::json!(["Unified"]));
    assert_eq!(team["mailEnabled"], true);
    assert_eq!(team["securityEnabled"], false);
    assert_eq!(team["visibility"], "Public");
    assert_eq!(team["mailNickname"], "mark8project");
    let security = groups
        .iter()
        .find(|g| g["displayName"] == "Backup Operators")
        .unwrap();
    assert_eq!(security["securityEnabled"], true);
    assert_eq!(
        security["resourceProvisioningOptions"],
        serde_json::json!([])
    );

    for filter in [
        TEAM_FILTER,
        "resourceprovisioningoptions/any(x:x eq 'team')",
    ] {
        let teams = sim
            .get_url(
                Some(&token),
                &format!("{}/v1.0/groups?$filter={filter}", sim.base),
            )
            .await;
        assert_eq!(teams.status, StatusCode::OK, "{}", teams.body);
        let names: Vec<&Value> = teams.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| &g["displayName"])
            .collect();
        assert_eq!(names, ["Mark 8 Project Team"]);
    }
    let other = sim
        .get(&token, "/v1.0/groups?$filter=displayName eq 'Sales'")
        .await;
    assert_graph_error(&other, StatusCode::BAD_REQUEST, "Request_UnsupportedQuery");

    let backup_id = security["id"].as_str().unwrap();
    let (members, pages) = sim
        .get_all(&token, &format!("/v1.0/groups/{backup_id}/members?$top=2"))
        .await;
    assert_eq!(pages, 2);
    let types: Vec<&str> = members
        .iter()
        .map(|m| m["@odata.type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "#microsoft.graph.user",
            "#microsoft.graph.user",
            "#microsoft.graph.group"
        ]
    );
    assert_eq!(members[0]["userPrincipalName"], DEMO_ADMIN_UPN);
    assert_eq!(members[2]["displayName"], "Sales and Marketing");
}

#[tokio::test]
async fn sites_search() {
    let sim = start().await;
    let token = sim.admin_token().await;
    for all in ["*", ""] {
        let reply = sim.get(&token, &format!("/v1.0/sites?search={all}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        // Three SharePoint sites and the nine demo users' personal sites.
        assert_eq!(reply.body["value"].as_array().unwrap().len(), 12);
    }
    let reply = sim.get(&token, "/v1.0/sites?search=SALES").await;
    let sites = reply.body["value"].as_array().unwrap();
    assert_eq!(sites.len(), 1);
    let site = &sites[0];
    assert_eq!(site["name"], "SalesAndMarketing");
    assert_eq!(
        site["webUrl"],
        "https://contosodemo.sharepoint.com/sites/SalesAndMarketing"
    );
    assert_eq!(
        site["siteCollection"]["hostname"],
        "contosodemo.sharepoint.com"
    );
    assert_eq!(site["id"].as_str().unwrap().split(',').count(), 3);
    assert!(site["createdDateTime"].is_string() && site["lastModifiedDateTime"].is_string());

    let (paged, pages) = sim.get_all(&token, "/v1.0/sites?search=*&$top=1").await;
    assert_eq!((paged.len(), pages), (12, 12));

    let none = sim
        .get(&token, "/v1.0/sites?search=nothing-like-this")
        .await;
    assert_eq!(none.body["value"], serde_json::json!([]));
    assert!(none.body.get("@odata.nextLink").is_none());

    let missing = sim.get(&token, "/v1.0/sites").await;
    assert_graph_error(&missing, StatusCode::BAD_REQUEST, "invalidRequest");
}

#[tokio::test]
async fn unknown_paths_methods_and_request_ids() {
    let sim = start().await;
    let token = sim.admin_token().await;
    let reply = sim.get(&token, "/v1.0/frobnicate").await;
    assert_graph_error(&reply, StatusCode::BAD_REQUEST, "BadRequest");
    assert_eq!(
        reply.body["error"]["message"],
        "Resource not found for the segment 'frobnicate'."
    );
    // Graph names the first segment no route continues with.
    let reply = sim.get(&token, "/v1.0/users/x/frobnicate/deeper").await;
    assert_graph_error(&reply, StatusCode::BAD_REQUEST, "BadRequest");
    assert_eq!(
        reply.body["error"]["message"],
        "Resource not found for the segment 'frobnicate'."
    );
    // Mail is simulated now; calendars are not.
    let reply = sim.get(&token, "/v1.0/me/calendars").await;
    assert_eq!(
        reply.body["error"]["message"],
        "Resource not found for the segment 'calendars'."
    );

    let post = sim
        .client
        .post(format!("{}/v1.0/users", sim.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);

    let client_request_id = "0f9e8d7c-6b5a-4493-8271-605f4e3d2c1b";
    let response = sim
        .client
        .get(format!("{}/v1.0/users/nobody@contoso-demo.com", sim.base))
        .bearer_auth(&token)
        .header("client-request-id", client_request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["client-request-id"], client_request_id);
    assert!(response.headers().contains_key("request-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["error"]["innerError"]["client-request-id"],
        client_request_id
    );

    let ok = sim
        .client
        .get(format!("{}/v1.0/me", sim.base))
        .bearer_auth(&token)
        .header("client-request-id", client_request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.headers()["client-request-id"], client_request_id);
}

#[tokio::test]
async fn tokens_are_bound_to_their_tenant() {
    let sim = start().await;
    let gov = sim
        .password_grant(
            GOV_TENANT_ID,
            GOV_ADMIN,
            GOV_PASSWORD,
            "https://graph.microsoft.us/.default",
        )
        .await;
    let token = gov.body["access_token"].as_str().unwrap();
    let org = sim.get(token, "/v1.0/organization").await;
    assert_eq!(org.body["value"][0]["id"], GOV_TENANT_ID);
    assert_eq!(
        org.body["@odata.context"],
        "https://graph.microsoft.us/v1.0/$metadata#organization"
    );
    let (users, _) = sim.get_all(token, "/v1.0/users").await;
    assert_eq!(users.len(), 1);
    let demo_user = sim
        .get(token, "/v1.0/users/megan.bowen@contoso-demo.com")
        .await;
    assert_eq!(demo_user.status, StatusCode::NOT_FOUND);
}
