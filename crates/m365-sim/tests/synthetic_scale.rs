//! Synthetic tenants: deterministic, cheap to build, and cheap to page
//! through at scale.
// The helpers outside #[test] functions index JSON too: a slip is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::*;
use m365_sim::{
    synthetic_tenant, synthetic_tenants, MailboxType, SimOptions, SyntheticSpec, SYNTHETIC_PASSWORD,
};
use reqwest::StatusCode;
use serde_json::Value;

async fn admin_token(sim: &Running, index: u32) -> String {
    let reply = sim
        .password_grant(
            &format!("synth{index}.onmicrosoft.com"),
            &format!("admin@synth{index}.onmicrosoft.com"),
            SYNTHETIC_PASSWORD,
            GRAPH_DEFAULT,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["access_token"].as_str().unwrap().to_owned()
}

#[test]
fn synthetic_tenants_are_deterministic() {
    let spec = SyntheticSpec {
        users: 40,
        groups: 8,
        sites: 3,
    };
    let a = serde_json::to_value(synthetic_tenant(7, spec)).unwrap();
    let b = serde_json::to_value(synthetic_tenant(7, spec)).unwrap();
    assert_eq!(a, b);
    let other = synthetic_tenant(8, spec);
    assert_ne!(a["id"], other.id.as_str());
    assert_ne!(a["users"][1]["id"], other.users[1].id.as_str());

    let tenant = synthetic_tenant(7, spec);
    assert_eq!(tenant.initial_domain, "synth7.onmicrosoft.com");
    assert_eq!(tenant.users.len(), 41);
    let admin = &tenant.users[0];
    assert_eq!(admin.user_principal_name, "admin@synth7.onmicrosoft.com");
    assert_eq!(admin.roles, ["Global Administrator"]);
    let user = |n: usize| &tenant.users[n];
    assert_eq!(
        user(1).user_principal_name,
        "user000001@synth7.onmicrosoft.com"
    );
    assert_eq!(user(10).mailbox_type, MailboxType::Shared);
    assert!(!user(10).account_enabled && !user(10).has_one_drive());
    assert!(!user(7).has_one_drive() && user(7).account_enabled);
    assert!(user(1).has_one_drive());
    assert_eq!(user(3).assigned_licenses.len(), 1);
    assert!(user(4).assigned_licenses.is_empty());
    let teams = tenant.groups.iter().filter(|g| g.is_team).count();
    assert_eq!(teams, 2);
    assert!(tenant.groups.iter().all(|g| !g.members.is_empty()));
    assert_eq!(tenant.sites.len(), 3);

    let many = synthetic_tenants(3, spec);
    let ids: HashSet<&str> = many.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids.len(), 3);
}

#[test]
fn a_hundred_thousand_users_build_quickly() {
    let started = Instant::now();
    let tenant = synthetic_tenant(
        1,
        SyntheticSpec {
            users: 100_000,
            groups: 1_000,
            sites: 100,
        },
    );
    let elapsed = started.elapsed();
    assert_eq!(tenant.users.len(), 100_001);
    // Well under a second in release; debug builds get head room.
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn paging_25000_users_visits_everyone_once() {
    let spec = SyntheticSpec {
        users: 25_000,
        groups: 0,
        sites: 0,
    };
    let sim = start_with(vec![synthetic_tenant(0, spec)], SimOptions::default()).await;
    let token = admin_token(&sim, 0).await;
    let started = Instant::now();
    let (users, pages) = sim.get_all(&token, "/v1.0/users?$top=999").await;
    let elapsed = started.elapsed();
    assert_eq!(users.len(), 25_001);
    assert_eq!(pages, 26);
    let ids: HashSet<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 25_001, "every user exactly once");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");

    // Counting and filtering at scale.
    let counted: Value = sim
        .client
        .get(format!(
            "{}/v1.0/users?$count=true&$top=1&$filter=startswith(userPrincipalName,'user0001')",
            sim.base
        ))
        .bearer_auth(&token)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // 'user0001' is the prefix of user000100 … user000199 only.
    assert_eq!(counted["@odata.count"], 100);
    assert_eq!(
        counted["value"][0]["userPrincipalName"],
        "user000100@synth0.onmicrosoft.com"
    );
}

#[tokio::test]
async fn a_thousand_small_organizations() {
    let spec = SyntheticSpec {
        users: 5,
        groups: 4,
        sites: 2,
    };
    let sim = start_with(synthetic_tenants(1_000, spec), SimOptions::default()).await;
    let token = admin_token(&sim, 999).await;
    let org = sim.get(&token, "/v1.0/organization").await;
    assert_eq!(org.body["value"][0]["displayName"], "Synthetic 999");
    let (users, _) = sim.get_all(&token, "/v1.0/users").await;
    assert_eq!(users.len(), 6);
    let teams = sim.get(&token, "/v1.0/teams").await;
    assert_eq!(teams.body["value"].as_array().unwrap().len(), 1);
    let (sites, _) = sim.get_all(&token, "/v1.0/sites?search=*").await;
    // Two sites and the personal sites of admin, users 1–5 (none is a 7th
    // or 10th user).
    assert_eq!(sites.len(), 2 + 6);
}
