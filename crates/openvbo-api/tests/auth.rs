//! `POST /v6/Token` and bearer authentication, over real HTTPS.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;

use std::time::Duration;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_grant_answers_oauth_token_response() {
    let (_dir, _sim, server) = start_with(vec![contoso()], |_| {}).await;
    let response = server
        .client
        .post(server.url("/v6/Token"))
        .form(&[
            ("grant_type", "password"),
            ("username", ADMIN),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    for field in [
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "userName",
        ".issued",
        ".expires",
    ] {
        assert!(body.get(field).is_some(), "{field} missing in {body}");
    }
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["userName"], ADMIN);
    let issued = time::OffsetDateTime::parse(
        body[".issued"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expires = time::OffsetDateTime::parse(
        body[".expires"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!((expires - issued).whole_seconds(), 3600);
    assert_ne!(body["access_token"], body["refresh_token"]);

    // JSON bodies work too, with case-insensitive names.
    let response = server
        .client
        .post(server.url("/v6/token"))
        .json(&json!({"Grant_Type": "password", "UserName": ADMIN, "Password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let token = response.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = server
        .call(Method::GET, "/v6/Organizations", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_and_bad_requests() {
    let (_dir, _sim, server) = start_with(vec![contoso()], |_| {}).await;
    let (status, body) = server.login(ADMIN, "wrong").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("incorrect"));
    assert!(body["message"].as_str().unwrap().contains("incorrect"));
    let (status, body) = server.login("nobody", ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"], "invalid_grant",
        "an unknown user looks like a wrong password"
    );

    let post = |form: Vec<(&'static str, &'static str)>| {
        server
            .client
            .post(server.url("/v6/Token"))
            .form(&form)
            .send()
    };
    let r = post(vec![("grant_type", "client_credentials")])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
    let r = post(vec![("username", ADMIN)]).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("grant_type"));
    let r = post(vec![("grant_type", "password"), ("username", ADMIN)])
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
    let r = server
        .client
        .post(server.url("/v6/Token"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("not valid JSON"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_are_slowed_down_without_locking_out_the_admin() {
    let clock = openvbo_core::clock::ManualClock::new();
    let (_dir, _sim, server) = start_on_clock(
        vec![contoso()],
        |c| c.login_throttle.window = Duration::from_secs(2),
        clock.clone(),
    )
    .await;
    for _ in 0..5 {
        let (status, _) = server.login(ADMIN, "guess").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let started = std::time::Instant::now();
    let mut throttled = 0;
    for _ in 0..200 {
        let r = server
            .client
            .post(server.url("/v6/Token"))
            .form(&[
                ("grant_type", "password"),
                ("username", ADMIN),
                ("password", "guess"),
            ])
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=2).contains(&retry), "Retry-After {retry}");
            assert!(r.json::<Value>().await.unwrap()["message"]
                .as_str()
                .unwrap()
                .contains("too many failed"));
            throttled += 1;
        }
    }
    assert_eq!(
        throttled, 200,
        "every further guess is refused while blocked"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refusals are cheap (no password hashing)"
    );
    // Even the right password is refused from that address while blocked…
    let (status, _) = server.login(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // …but the real administrator elsewhere is not affected…
    let elsewhere = server.client_from([127, 0, 0, 2]);
    let (status, _) = server.login_via(&elsewhere, ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    // …the block holds until its window has passed…
    clock.advance(Duration::from_millis(1900));
    let (status, _) = server.login(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // …and then lifts by itself.
    clock.advance(Duration::from_millis(200));
    let (status, _) = server.login(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_rotate_and_are_single_use() {
    let (_dir, _sim, server) = start_with(vec![contoso()], |_| {}).await;
    let (_, first) = server.login(ADMIN, ADMIN_PASSWORD).await;
    let refresh = |token: String| {
        let client = server.client.clone();
        let url = server.url("/v6/Token");
        async move {
            let r = client
                .post(url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                ])
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, second) = refresh(first["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    let new_access = second["access_token"].as_str().unwrap().to_owned();
    let (status, _) = server
        .call(Method::GET, "/v6/Organizations", &new_access, None)
        .await;
    assert_eq!(status, StatusCode::OK);

    // The spent token again: refused, and the whole session is revoked.
    let (status, body) = refresh(first["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["message"].as_str().unwrap().contains("already used"));
    let (status, _) = server
        .call(Method::GET, "/v6/Organizations", &new_access, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = refresh(second["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, body) = refresh("made-up".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_endpoints_require_a_valid_bearer_token() {
    let clock = openvbo_core::clock::ManualClock::new();
    let (_dir, _sim, server) = start_on_clock(
        vec![contoso()],
        |c| c.access_token_lifetime = Duration::from_secs(1),
        clock.clone(),
    )
    .await;
    let r = server
        .client
        .get(server.url("/v6/Organizations"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert!(r.json::<Value>().await.unwrap()["message"]
        .as_str()
        .unwrap()
        .contains("Bearer"));

    for header in ["Basic YWRtaW46eA==", "Bearer", "Bearer tampered-token"] {
        let r = server
            .client
            .get(server.url("/v6/Organizations"))
            .header("Authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{header}");
        assert!(r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
        assert!(r.json::<Value>().await.unwrap()["message"].is_string());
    }
    let token = server.token().await;
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    let (status, _) = server
        .call(Method::GET, "/v6/Organizations", &tampered, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = server
        .call(
            Method::POST,
            "/v6/Organizations",
            "",
            Some(seed_body("admin@contoso.onmicrosoft.com", M365_PASSWORD)),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, _) = server
        .call(Method::GET, "/v6/Organizations", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    clock.advance(Duration::from_millis(1100));
    let (status, body) = server
        .call(Method::GET, "/v6/Organizations", &token, None)
        .await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, &["expired"]);
}
