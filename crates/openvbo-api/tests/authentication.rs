//! Authentication is on by default: every operation of the official v6
//! schema, and every path that is not one, answers 401 to a client without a
//! valid token — before routing, so neither a 501 for an operation not built
//! yet nor a 405 nor a 404 tells an anonymous client anything.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Every operation of the official schema (generated from it by
/// scripts/gen-v6-operations.py): (method, template, operation id).
const OPERATIONS: &str = include_str!("../src/v6_operations.tsv");

fn operations() -> Vec<(Method, String, String)> {
    OPERATIONS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (
                cols[0].parse().unwrap(),
                cols[1].to_owned(),
                cols[2].to_owned(),
            )
        })
        .collect()
}

/// A concrete path for a template: every `{parameter}` becomes a UUID.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|s| {
            if s.starts_with('{') {
                "5f0c7e6a-1d2b-4c3d-8e9f-0a1b2c3d4e5f"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Sends `method path` with `authorization` (none if `None`); returns the
/// status, the WWW-Authenticate header and the body.
async fn send(
    server: &Server,
    method: Method,
    path: &str,
    authorization: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let mut request = server.client.request(method.clone(), server.url(path));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
        request = request
            .header("content-type", "application/json")
            .body("{}");
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.json().await.unwrap_or(Value::Null);
    (status, challenge, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_official_operation_needs_a_token() {
    let (_dir, _sim, server) = start_with(vec![contoso()], |_| {}).await;
    let operations = operations();
    assert_eq!(operations.len(), 429, "the official schema's operations");
    let mut checked = 0;
    for (method, template, operation_id) in &operations {
        if method == Method::POST && template.eq_ignore_ascii_case("/v6/Token") {
            continue;
        }
        let path = concrete(template);
        for authorization in [None, Some("Bearer not-a-token"), Some("Basic YWRtaW46eA==")] {
            let (status, challenge, body) =
                send(&server, method.clone(), &path, authorization).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{operation_id} ({method} {path}) with {authorization:?}: {body}"
            );
            assert!(
                challenge
                    .as_deref()
                    .is_some_and(|c| c.starts_with("Bearer")),
                "{operation_id}: {challenge:?}"
            );
            let message = body["message"].as_str().unwrap();
            // Nothing about the operation itself leaks: not its name, not
            // whether it is implemented.
            assert!(!message.contains(operation_id.as_str()), "{message}");
            assert!(!message.contains("not implemented"), "{message}");
        }
        checked += 1;
    }
    assert_eq!(checked, 428);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_and_wrong_methods_need_a_token_too() {
    let (_dir, _sim, server) = start_with(vec![contoso()], |_| {}).await;
    let cases = [
        (Method::GET, "/"),
        (Method::GET, "/v6"),
        (Method::GET, "/v6/NoSuchThing"),
        (Method::GET, "/v6/Organizations/x/y/z/w"),
        (Method::GET, "/swagger"),
        (Method::GET, "/swagger/docs/v5"),
        (Method::POST, "/swagger/docs/v6"),
        (Method::GET, "/v6/Token"),
        (Method::DELETE, "/v6/Token"),
        (Method::PATCH, "/v6/Organizations"),
        (Method::POST, "/v6/ServiceInstance"),
        (Method::GET, "/v6/Organizations/%2e%2e"),
        (Method::GET, "/v6/Token/extra"),
    ];
    for (method, path) in cases {
        let (status, challenge, body) = send(&server, method.clone(), path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
        assert_eq!(challenge.as_deref(), Some("Bearer"), "{method} {path}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("authentication required"),
            "{method} {path}: {body}"
        );
    }
    // Other API versions are not served, and say so to anyone: clients probe
    // `/{version}/ServiceInstance` anonymously and take a 401 as "served".
    for path in [
        "/v8/ServiceInstance",
        "/v7/ServiceInstance",
        "/v7/Organizations",
    ] {
        let (status, _, body) = send(&server, Method::GET, path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains("v6"),
            "{path}: {body}"
        );
    }
    // With a token the same requests get their real answers.
    let token = format!("Bearer {}", server.token().await);
    let (status, _, _) = send(&server, Method::GET, "/v6/NoSuchThing", Some(&token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) =
        send(&server, Method::GET, "/v6/License/AutoUpdate", Some(&token)).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("License_GetAutoUpdate"),
        "the operation is named: {body}"
    );
    let (status, _, _) = send(&server, Method::PATCH, "/v6/Organizations", Some(&token)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_public_operations_answer_anonymously_and_no_version_leaks() {
    let (_dir, _sim, server) = start_with(vec![contoso()], |_| {}).await;
    let version = env!("CARGO_PKG_VERSION");

    let response = server
        .client
        .post(server.url("/v6/Token"))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.headers()["server"], "openvbo");

    let response = server
        .client
        .get(server.url("/swagger/docs/v6"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["server"], "openvbo");
    let doc = response.text().await.unwrap();
    assert!(
        !doc.contains(version),
        "the document names openvbo's version"
    );
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(doc["info"]["version"], "v6");

    // An anonymous 401 does not name the version either.
    let response = server
        .client
        .get(server.url("/v6/ServiceInstance"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["server"], "openvbo");
    assert!(!response.text().await.unwrap().contains(version));
}
