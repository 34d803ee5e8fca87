//! The connector against the simulator over real HTTP: sign-in outcomes,
//! Graph reads, throttling, timeouts, and refusing to follow foreign links.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::time::{Duration, Instant};

use m365_sim::{Fault, SimOptions, Simulator, Tenant};
use openvbo_m365::{
    role_template, ConnectorSettings, Endpoints, ErrorKind, M365Client, NationalCloud,
    SignInFailure, Url,
};
use secrecy::SecretString;
use serde_json::json;

const PASSWORD: &str = "Sim-Passw0rd!";

fn tenant() -> Tenant {
    let user = |i: u32, local: &str, roles: &[&str], extra: serde_json::Value| {
        let mut u = json!({
            "id": format!("00000000-0000-4000-8000-0000000000{i:02}"),
            "userPrincipalName": format!("{local}@fabrikam.onmicrosoft.com"),
            "displayName": local, "password": PASSWORD, "roles": roles,
        });
        for (k, v) in extra.as_object().unwrap() {
            u[k] = v.clone();
        }
        u
    };
    serde_json::from_value(json!({
        "id": "22222222-0000-4000-8000-000000000001",
        "displayName": "Fabrikam",
        "initialDomain": "fabrikam.onmicrosoft.com",
        "verifiedDomains": ["fabrikam.example.com"],
        "users": [
            user(1, "admin", &["Global Administrator", "Teams Administrator"], json!({})),
            user(2, "mfa", &[], json!({"mfaRequired": true})),
            user(3, "disabled", &[], json!({"accountEnabled": false})),
            user(4, "locked", &[], json!({"locked": true})),
            user(5, "expired", &[], json!({"passwordExpired": true})),
        ],
    }))
    .unwrap()
}

async fn start(options: SimOptions) -> (Simulator, Endpoints) {
    let sim = Simulator::new(vec![tenant()], options).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(sim.clone().serve(listener, std::future::pending()));
    let endpoints = Endpoints::with_overrides(NationalCloud::Global, Some(&url), Some(&url));
    (sim, endpoints)
}

fn client(settings: ConnectorSettings) -> M365Client {
    M365Client::new(settings).unwrap()
}

async fn sign_in(
    c: &M365Client,
    e: &Endpoints,
    user: &str,
    password: &str,
) -> Result<openvbo_m365::GraphSession, openvbo_m365::M365Error> {
    c.sign_in_with_password(
        e,
        "fabrikam.onmicrosoft.com",
        user,
        &SecretString::from(password),
    )
    .await
}

#[tokio::test]
async fn signs_in_and_reads_the_tenant_and_roles() {
    let (_sim, endpoints) = start(SimOptions::default()).await;
    let c = client(ConnectorSettings::default());
    let session = sign_in(&c, &endpoints, "admin@fabrikam.onmicrosoft.com", PASSWORD)
        .await
        .unwrap();
    let org = session.organization().await.unwrap();
    assert_eq!(org.id, "22222222-0000-4000-8000-000000000001");
    assert_eq!(org.initial_domain(), Some("fabrikam.onmicrosoft.com"));
    assert_eq!(org.display_name.as_deref(), Some("Fabrikam"));
    let me = session.me().await.unwrap();
    assert_eq!(
        me.user_principal_name.as_deref(),
        Some("admin@fabrikam.onmicrosoft.com")
    );
    let roles = session.directory_roles().await.unwrap();
    assert!(roles
        .iter()
        .any(|r| r.is(role_template::GLOBAL_ADMINISTRATOR, "Global Administrator")));
    assert!(roles
        .iter()
        .any(|r| r.is(role_template::TEAMS_ADMINISTRATOR, "Teams Administrator")));
    assert!(!roles.iter().any(|r| r.is(
        role_template::EXCHANGE_ADMINISTRATOR,
        "Exchange Administrator"
    )));
    assert!(session.expires_at() > tokio::time::Instant::now() + Duration::from_secs(3000));
}

#[tokio::test]
async fn sign_in_refusals_are_classified_by_aadsts_code() {
    let (_sim, endpoints) = start(SimOptions::default()).await;
    let c = client(ConnectorSettings::default());
    let cases = [
        ("admin", "wrong", SignInFailure::InvalidCredentials),
        ("ghost", PASSWORD, SignInFailure::UserNotFound),
        ("mfa", PASSWORD, SignInFailure::MfaRequired),
        ("disabled", PASSWORD, SignInFailure::AccountDisabled),
        ("locked", PASSWORD, SignInFailure::AccountLocked),
        ("expired", PASSWORD, SignInFailure::PasswordExpired),
    ];
    for (user, password, expected) in cases {
        let err = sign_in(
            &c,
            &endpoints,
            &format!("{user}@fabrikam.onmicrosoft.com"),
            password,
        )
        .await
        .unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::SignIn(expected.clone()),
            "{user}: {err}"
        );
        assert!(!err.is_transient());
        assert!(
            !err.message.contains(PASSWORD),
            "no password in messages: {err}"
        );
        assert!(
            !err.message.contains("Trace ID"),
            "only the first line of Microsoft's description: {err}"
        );
    }
    let err = c
        .sign_in_with_password(
            &endpoints,
            "nowhere.onmicrosoft.com",
            "a@nowhere.onmicrosoft.com",
            &SecretString::from(PASSWORD),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::SignIn(SignInFailure::TenantNotFound));
    // A token for another cloud's Graph.
    let gov = Endpoints {
        graph_resource: "https://graph.microsoft.us".into(),
        ..endpoints.clone()
    };
    let err = sign_in(&c, &gov, "admin@fabrikam.onmicrosoft.com", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::SignIn(SignInFailure::WrongCloud));
}

#[tokio::test]
async fn throttling_is_waited_out_within_limits() {
    let (sim, endpoints) = start(SimOptions::default()).await;
    let c = client(ConnectorSettings {
        max_retries: 2,
        max_retry_wait: Duration::from_secs(2),
        ..ConnectorSettings::default()
    });
    // Every second request is throttled for 1 s: each call succeeds after one wait.
    sim.set_fault(Some(Fault::Throttle {
        every: 2,
        retry_after_secs: 1,
    }));
    let started = Instant::now();
    let session = sign_in(&c, &endpoints, "admin@fabrikam.onmicrosoft.com", PASSWORD)
        .await
        .unwrap();
    session.organization().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );

    // Always throttled: gives up after the retries, reporting Retry-After.
    sim.set_fault(Some(Fault::Throttle {
        every: 1,
        retry_after_secs: 1,
    }));
    let before = sim.stats().requests;
    let err = session.organization().await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Throttled {
            retry_after: Some(Duration::from_secs(1))
        }
    );
    assert!(err.is_transient());
    assert_eq!(sim.stats().requests - before, 3, "one try and two retries");

    // A wait longer than allowed is reported at once instead of holding the caller.
    sim.set_fault(Some(Fault::Unavailable {
        every: 1,
        retry_after_secs: 120,
    }));
    let started = Instant::now();
    let err = session.me().await.unwrap_err();
    assert_eq!(
        err.kind,
        ErrorKind::Unavailable {
            retry_after: Some(Duration::from_secs(120))
        }
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn slow_and_unreachable_microsoft_fail_within_the_timeout() {
    let (sim, endpoints) = start(SimOptions::default()).await;
    sim.set_latency(Duration::from_secs(3));
    let c = client(ConnectorSettings {
        request_timeout: Duration::from_millis(500),
        ..ConnectorSettings::default()
    });
    let started = Instant::now();
    let err = sign_in(&c, &endpoints, "admin@fabrikam.onmicrosoft.com", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = Url::parse(&format!("http://{}", closed.local_addr().unwrap())).unwrap();
    drop(closed);
    let e = Endpoints::with_overrides(NationalCloud::Global, Some(&dead), Some(&dead));
    let err = sign_in(&c, &e, "admin@fabrikam.onmicrosoft.com", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unreachable, "{err}");
    assert!(err.message.contains("could not connect"), "{err}");
}

/// A Graph that tries to send the client elsewhere with its bearer token.
#[tokio::test]
async fn a_next_link_to_another_host_is_not_followed() {
    use axum::routing::{get, post};
    let app = axum::Router::new()
        .route(
            "/{tenant}/oauth2/v2.0/token",
            post(|| async { axum::Json(json!({"token_type": "Bearer", "access_token": "t", "expires_in": 3599})) }),
        )
        .route(
            "/v1.0/organization",
            get(|| async { axum::Json(json!({"value": [], "@odata.nextLink": "http://attacker.invalid/v1.0/organization?$skiptoken=x"})) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let endpoints = Endpoints::with_overrides(NationalCloud::Global, Some(&url), Some(&url));
    let c = client(ConnectorSettings::default());
    let session = sign_in(&c, &endpoints, "a@fabrikam.onmicrosoft.com", "x")
        .await
        .unwrap();
    let err = session.organization().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert!(err.message.contains("attacker.invalid"), "{err}");
}
