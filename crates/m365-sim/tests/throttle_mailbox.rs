//! The `microsoft` throttle profile over real HTTP: per-mailbox concurrency
//! and request budget, their counters, and `POST /_sim/stats/reset`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::start_with;
use m365_sim::{demo_tenant, Budget, SimOptions, ThrottleOptions, ThrottleProfile};
use reqwest::StatusCode;
use serde_json::Value;

const ADELE: &str = "adele.vance@contoso-demo.com";
const ALEX: &str = "alex.wilber@contoso-demo.com";

fn microsoft(budget: &str) -> SimOptions {
    SimOptions {
        throttle: ThrottleOptions {
            profile: ThrottleProfile::Microsoft,
            mailbox_budget: budget.parse::<Budget>().unwrap(),
            ..ThrottleOptions::default()
        },
        ..SimOptions::default()
    }
}

#[tokio::test]
async fn a_fifth_concurrent_request_to_one_mailbox_is_refused() {
    let sim = start_with(vec![demo_tenant()], microsoft("10000/600")).await;
    let token = sim.admin_token().await;
    // Each request stays in flight for 300 ms, so all six overlap.
    sim.sim.set_latency(Duration::from_millis(300));
    let url = format!("{}/v1.0/users/{ADELE}/mailFolders", sim.base);
    let other = format!("{}/v1.0/users/{ALEX}/mailFolders", sim.base);
    let mut calls = Vec::new();
    for n in 0..7 {
        let request = sim
            .client
            .get(if n == 6 { &other } else { &url })
            .bearer_auth(&token)
            .send();
        calls.push(tokio::spawn(request));
    }
    let mut ok = 0;
    let mut refused = Vec::new();
    for (n, call) in calls.into_iter().enumerate() {
        let response = call.await.unwrap().unwrap();
        match response.status() {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_ne!(n, 6, "another mailbox is not limited by this one");
                assert_eq!(response.headers()["retry-after"], "1");
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["error"]["code"], "ApplicationThrottled");
                assert!(body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("MailboxConcurrency"));
                refused.push(n);
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((ok, refused.len()), (5, 2), "four for Adele, one for Alex");
    let stats = sim.sim.stats();
    assert_eq!(stats.throttle.rejected, 2);
    // Four in flight plus the one that arrived and was refused (refused
    // requests do not stay in flight, so the sixth also saw four).
    assert_eq!(stats.throttle.max_concurrent_per_mailbox, 5);
    assert_eq!(stats.users_requests, 7, "refused requests are counted");
    // Reset zeroes every counter.
    let reset = sim
        .client
        .post(format!("{}/_sim/stats/reset", sim.base))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    let stats: Value = sim
        .client
        .get(format!("{}/_sim/stats", sim.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["throttle"]["rejected"], 0);
    assert_eq!(stats["throttle"]["maxConcurrentPerMailbox"], 0);
    assert_eq!(stats["content"]["messageDownloads"], 0);
    assert_eq!(stats["requests"], 0);
}

#[tokio::test]
async fn the_mailbox_budget_refuses_past_its_window_and_refusals_count() {
    let sim = start_with(vec![demo_tenant()], microsoft("3/30")).await;
    let token = sim.admin_token().await;
    let get = |user: &str| {
        let url = format!("{}/v1.0/users/{user}/mailFolders/inbox", sim.base);
        sim.client.get(url).bearer_auth(&token).send()
    };
    for _ in 0..3 {
        assert_eq!(get(ADELE).await.unwrap().status(), StatusCode::OK);
    }
    for _ in 0..2 {
        let refused = get(ADELE).await.unwrap();
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=30).contains(&wait), "{wait}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["code"], "ApplicationThrottled");
    }
    assert_eq!(
        get(ALEX).await.unwrap().status(),
        StatusCode::OK,
        "budgets are per mailbox"
    );
    assert_eq!(sim.sim.stats().throttle.rejected, 2);
    // Directory reads are not mailbox requests.
    let me = sim
        .client
        .get(format!("{}/v1.0/users/{ADELE}", sim.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_the_profile_nothing_is_refused_but_concurrency_is_measured() {
    let sim = start_with(vec![demo_tenant()], SimOptions::default()).await;
    let token = sim.admin_token().await;
    sim.sim.set_latency(Duration::from_millis(200));
    let url = format!("{}/v1.0/users/{ADELE}/mailFolders", sim.base);
    let calls: Vec<_> = (0..6)
        .map(|_| tokio::spawn(sim.client.get(&url).bearer_auth(&token).send()))
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().status(), StatusCode::OK);
    }
    let stats = sim.sim.stats();
    assert_eq!(stats.throttle.rejected, 0);
    assert_eq!(stats.throttle.max_concurrent_per_mailbox, 6);
}
