#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use m365_sim::{
    demo_tenant, Fault, SimOptions, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_UPN, DEMO_TENANT_ID,
};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn throttle_every_nth_request_with_retry_after() {
    let sim = start().await;
    let token = sim.admin_token().await;
    sim.sim.set_fault(Some(Fault::Throttle {
        every: 3,
        retry_after_secs: 7,
    }));
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let reply = sim.get(&token, "/v1.0/me").await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert_graph_error(&reply, StatusCode::TOO_MANY_REQUESTS, "TooManyRequests");
            assert_eq!(
                reply.body["error"]["message"],
                "Too many requests. Please try again later."
            );
            assert_eq!(reply.headers["retry-after"], "7");
        }
        statuses.push(reply.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 429, 200, 200, 429]);

    // The token endpoint counts towards the same "every Nth" and answers in
    // its own (OAuth) shape.
    sim.sim.set_fault(Some(Fault::Throttle {
        every: 1,
        retry_after_secs: 2,
    }));
    let reply = sim
        .password_grant(
            DEMO_TENANT_ID,
            DEMO_ADMIN_UPN,
            DEMO_ADMIN_PASSWORD,
            GRAPH_DEFAULT,
        )
        .await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.headers["retry-after"], "2");
    assert_eq!(reply.body["error_codes"], json!([50196]));

    sim.sim.set_fault(None);
    assert_eq!(sim.get(&token, "/v1.0/me").await.status, StatusCode::OK);
}

#[tokio::test]
async fn unavailable_fault_answers_503() {
    let options = SimOptions {
        fault: Some(Fault::Unavailable {
            every: 2,
            retry_after_secs: 5,
        }),
        ..SimOptions::default()
    };
    let sim = start_with(vec![demo_tenant()], options).await;
    let token = sim.admin_token().await; // request 1
    let reply = sim.get(&token, "/v1.0/organization").await; // request 2
    assert_graph_error(
        &reply,
        StatusCode::SERVICE_UNAVAILABLE,
        "serviceNotAvailable",
    );
    assert_eq!(reply.headers["retry-after"], "5");
    let reply = sim.get(&token, "/v1.0/organization").await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn stats_count_requests_but_not_control_calls() {
    let sim = start().await;
    let token = sim.admin_token().await;
    sim.sim.set_fault(Some(Fault::Throttle {
        every: 2,
        retry_after_secs: 1,
    }));
    for _ in 0..3 {
        sim.get(&token, "/v1.0/me").await;
    }
    let stats = sim.sim.stats();
    assert_eq!(
        (stats.requests, stats.token_requests, stats.graph_requests),
        (4, 1, 3)
    );

    for _ in 0..2 {
        let over_http = sim.get_url(None, &format!("{}/_sim/stats", sim.base)).await;
        assert_eq!(over_http.status, StatusCode::OK);
        assert_eq!(
            over_http.body,
            json!({
                "requests": 4,
                "tokenRequests": 1,
                "graphRequests": 3,
                "usersRequests": 0,
                "groupsRequests": 0,
                "sitesRequests": 0,
                "content": {
                    "messageDownloads": 0,
                    "attachmentDownloads": 0,
                    "fileDownloads": 0,
                    "fileBytes": 0,
                    "deltaRequests": 0,
                    "writes": 0,
                },
                "throttle": {"rejected": 0, "resourceUnits": 0, "maxConcurrentPerMailbox": 0},
            })
        );
    }
}

#[tokio::test]
async fn faults_and_latency_over_http() {
    let sim = start().await;
    let token = sim.admin_token().await;
    let put = |body: serde_json::Value| {
        sim.client
            .put(format!("{}/_sim/faults", sim.base))
            .json(&body)
            .send()
    };

    let response = put(
        json!({"latencyMs": 0, "throttleEvery": 1, "unavailableEvery": null, "retryAfterSecs": 3}),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let reply = sim.get(&token, "/v1.0/me").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.headers["retry-after"], "3");
    // Control calls themselves are never faulted.
    let stats = sim.get_url(None, &format!("{}/_sim/stats", sim.base)).await;
    assert_eq!(stats.status, StatusCode::OK);

    let response = put(json!({"latencyMs": 150, "throttleEvery": null, "unavailableEvery": null, "retryAfterSecs": 1}))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let started = Instant::now();
    assert_eq!(sim.get(&token, "/v1.0/me").await.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));

    let current = sim
        .get_url(None, &format!("{}/_sim/faults", sim.base))
        .await;
    assert_eq!(current.body["latencyMs"], 150);

    let both = put(json!({"throttleEvery": 2, "unavailableEvery": 2}))
        .await
        .unwrap();
    assert_eq!(both.status(), StatusCode::BAD_REQUEST);
    let junk = sim
        .client
        .put(format!("{}/_sim/faults", sim.base))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(junk.status(), StatusCode::BAD_REQUEST);
    sim.sim.set_latency(Duration::ZERO);
}

#[tokio::test]
async fn serve_shuts_down_gracefully() {
    let sim = m365_sim::Simulator::new(vec![demo_tenant()], SimOptions::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(sim.serve(listener, async {
        let _ = rx.await;
    }));
    tx.send(()).unwrap();
    let result = tokio::time::timeout(Duration::from_secs(2), server).await;
    assert!(matches!(result, Ok(Ok(Ok(())))));
}
