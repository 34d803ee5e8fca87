//! Synthetic mailboxes at scale: 100 users × 10,000 messages are generated
//! on demand, so the simulator's memory stays far below 300 MB, the same
//! seed gives the same bytes, and writes are kept as an overlay.
// The helpers outside #[test] functions index JSON too: a slip is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use common::start_with;
use m365_sim::{synthetic_tenant, ContentOptions, SimOptions, SyntheticSpec, SYNTHETIC_PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};

const USERS: u32 = 100;
const MESSAGES: u32 = 10_000;

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

fn options(seed: u64) -> SimOptions {
    SimOptions {
        content: ContentOptions {
            synthetic_messages: MESSAGES,
            content_seed: seed,
            ..ContentOptions::default()
        },
        ..SimOptions::default()
    }
}

async fn sign_in(sim: &common::Running) -> String {
    let reply = sim
        .password_grant(
            "synth0.onmicrosoft.com",
            "admin@synth0.onmicrosoft.com",
            SYNTHETIC_PASSWORD,
            common::GRAPH_DEFAULT,
        )
        .await;
    reply.body["access_token"].as_str().unwrap().to_owned()
}

fn tenant() -> m365_sim::Tenant {
    synthetic_tenant(
        0,
        SyntheticSpec {
            users: USERS,
            groups: 0,
            sites: 0,
        },
    )
}

#[tokio::test]
async fn a_hundred_mailboxes_of_ten_thousand_messages_stay_small_and_deterministic() {
    let before = rss_bytes();
    let sim = start_with(vec![tenant()], options(42)).await;
    let token = sign_in(&sim).await;
    let mut first_mime = None;
    let mut total_seen = 0u64;
    for n in 1..=USERS {
        let user = format!("user{n:06}@synth0.onmicrosoft.com");
        let folders = sim
            .get(
                &token,
                &format!("/v1.0/users/{user}/mailFolders?includeHiddenFolders=true"),
            )
            .await;
        assert_eq!(folders.status, StatusCode::OK, "{}", folders.body);
        let counted: u64 = folders.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["totalItemCount"].as_u64().unwrap())
            .sum();
        let inbox = sim
            .get(
                &token,
                &format!("/v1.0/users/{user}/mailFolders/inbox/childFolders"),
            )
            .await;
        let nested: u64 = inbox.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["totalItemCount"].as_u64().unwrap())
            .sum();
        let projects = inbox.body["value"][0]["id"].as_str().unwrap().to_owned();
        let deeper = sim
            .get(
                &token,
                &format!("/v1.0/users/{user}/mailFolders/{projects}/childFolders"),
            )
            .await;
        let deepest: u64 = deeper.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["totalItemCount"].as_u64().unwrap())
            .sum();
        assert_eq!(
            counted + nested + deepest,
            u64::from(MESSAGES),
            "every message is in some folder"
        );
        total_seen += counted + nested + deepest;
        if n == 1 || n == USERS {
            let page = sim
                .get(
                    &token,
                    &format!(
                        "/v1.0/users/{user}/mailFolders/inbox/messages?$top=3&$select=subject"
                    ),
                )
                .await;
            let id = page.body["value"][0]["id"].as_str().unwrap();
            let mime = sim
                .client
                .get(format!(
                    "{}/v1.0/users/{user}/messages/{id}/$value",
                    sim.base
                ))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(
                mime.contains("Subject: ") && mime.len() > 3_000,
                "{}",
                mime.len()
            );
            if n == 1 {
                first_mime = Some((id.to_owned(), mime));
            }
        }
    }
    assert_eq!(total_seen, u64::from(USERS * MESSAGES));
    let grown = rss_bytes().saturating_sub(before);
    assert!(
        grown < 120 * 1024 * 1024,
        "the simulator grew by {} MB",
        grown / (1024 * 1024)
    );

    // Writes are an overlay: the message changes, the rest stays generated.
    let (id, mime) = first_mime.unwrap();
    let user = "user000001@synth0.onmicrosoft.com";
    let patched = sim
        .client
        .patch(format!("{}/v1.0/users/{user}/messages/{id}", sim.base))
        .bearer_auth(&token)
        .json(&json!({"isRead": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["isRead"], false);
    let again = sim
        .client
        .get(format!(
            "{}/v1.0/users/{user}/messages/{id}/$value",
            sim.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(again, mime, "the content is unchanged by a flag change");

    // The same seed gives the same bytes in another simulator; another seed does not.
    let same = start_with(vec![tenant()], options(42)).await;
    let same_token = sign_in(&same).await;
    let same_mime = same
        .client
        .get(format!(
            "{}/v1.0/users/{user}/messages/{id}/$value",
            same.base
        ))
        .bearer_auth(&same_token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(same_mime, mime);
    let other = start_with(vec![tenant()], options(7)).await;
    let other_token = sign_in(&other).await;
    let other_page = other
        .get(
            &other_token,
            &format!("/v1.0/users/{user}/mailFolders/inbox/messages?$top=1&$select=subject"),
        )
        .await;
    let other_id = other_page.body["value"][0]["id"].as_str().unwrap();
    let other_mime = other
        .client
        .get(format!(
            "{}/v1.0/users/{user}/messages/{other_id}/$value",
            other.base
        ))
        .bearer_auth(&other_token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_ne!(other_mime, mime);
}
