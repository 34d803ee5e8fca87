#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use m365_sim::{UserFlags, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_UPN, DEMO_TENANT_ID};
use reqwest::StatusCode;

const FULL_SCOPE: &str = "https://graph.microsoft.com/.default offline_access openid";
const ADELE: &str = "adele.vance@contoso-demo.com";
const ADELE_PASSWORD: &str = "Adele-Passw0rd!";

#[tokio::test]
async fn password_grant_succeeds_by_guid_domain_and_organizations() {
    let sim = start().await;
    for tenant in [
        DEMO_TENANT_ID,
        "contoso-demo.onmicrosoft.com",
        "CONTOSO-DEMO.COM",
        "organizations",
    ] {
        let reply = sim
            .password_grant(tenant, DEMO_ADMIN_UPN, DEMO_ADMIN_PASSWORD, FULL_SCOPE)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{tenant}: {}", reply.body);
        let body = &reply.body;
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3599);
        assert_eq!(body["ext_expires_in"], 3599);
        assert!(body["scope"]
            .as_str()
            .unwrap()
            .contains("https://graph.microsoft.com/.default"));
        for field in ["access_token", "refresh_token", "id_token"] {
            assert!(
                body[field].as_str().is_some_and(|t| t.len() >= 40),
                "{field}"
            );
        }
        assert_eq!(reply.headers["cache-control"], "no-store");
        assert_eq!(reply.headers["pragma"], "no-cache");
    }
}

#[tokio::test]
async fn refresh_and_id_tokens_only_when_asked_for() {
    let sim = start().await;
    let reply = sim
        .password_grant(
            DEMO_TENANT_ID,
            DEMO_ADMIN_UPN,
            DEMO_ADMIN_PASSWORD,
            GRAPH_DEFAULT,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.get("refresh_token").is_none());
    assert!(reply.body.get("id_token").is_none());
}

#[tokio::test]
async fn sovereign_cloud_tenant_needs_its_own_graph() {
    let sim = start().await;
    let ok = sim
        .password_grant(
            GOV_TENANT_ID,
            GOV_ADMIN,
            GOV_PASSWORD,
            "https://graph.microsoft.us/.default",
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);

    let wrong_cloud = sim
        .password_grant(GOV_TENANT_ID, GOV_ADMIN, GOV_PASSWORD, GRAPH_DEFAULT)
        .await;
    assert_aad_error(
        &wrong_cloud,
        StatusCode::BAD_REQUEST,
        "invalid_resource",
        500011,
    );
    let description = wrong_cloud.body["error_description"].as_str().unwrap();
    assert!(description.contains("The resource principal named https://graph.microsoft.com was not found in the tenant named Fabrikam Gov"));
    assert!(wrong_cloud.body["error_uri"]
        .as_str()
        .unwrap()
        .starts_with("https://login.microsoftonline.us/"));
}

#[tokio::test]
async fn credential_errors_carry_their_aadsts_codes() {
    let sim = start().await;
    let tenant = "contoso-demo.com";

    let wrong_password = sim
        .password_grant(tenant, ADELE, "nope", GRAPH_DEFAULT)
        .await;
    assert_aad_error(
        &wrong_password,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        50126,
    );
    assert!(wrong_password.body["error_description"]
        .as_str()
        .unwrap()
        .starts_with(
            "AADSTS50126: Error validating credentials due to invalid username or password.\r\n"
        ));

    let padded = sim
        .password_grant(tenant, ADELE, &format!(" {ADELE_PASSWORD}"), GRAPH_DEFAULT)
        .await;
    assert_aad_error(&padded, StatusCode::BAD_REQUEST, "invalid_grant", 50126);

    let no_such_user = sim
        .password_grant(tenant, "ghost@contoso-demo.com", "x", GRAPH_DEFAULT)
        .await;
    assert_aad_error(
        &no_such_user,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        50034,
    );

    let other_tenants_user = sim
        .password_grant(tenant, GOV_ADMIN, GOV_PASSWORD, GRAPH_DEFAULT)
        .await;
    assert_aad_error(
        &other_tenants_user,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        50034,
    );

    let unknown_domain_via_organizations = sim
        .password_grant(
            "organizations",
            "someone@nowhere.example",
            "x",
            GRAPH_DEFAULT,
        )
        .await;
    assert_aad_error(
        &unknown_domain_via_organizations,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        50034,
    );

    let cases = [
        (
            UserFlags {
                locked: true,
                ..UserFlags::default()
            },
            "invalid_grant",
            50053,
        ),
        (
            UserFlags {
                account_enabled: false,
                ..UserFlags::default()
            },
            "invalid_grant",
            50057,
        ),
        (
            UserFlags {
                password_expired: true,
                ..UserFlags::default()
            },
            "user_password_expired",
            50055,
        ),
        (
            UserFlags {
                mfa_required: true,
                ..UserFlags::default()
            },
            "invalid_grant",
            50076,
        ),
    ];
    for (flags, error, code) in cases {
        sim.sim.set_user_flags(tenant, ADELE, flags).unwrap();
        let reply = sim
            .password_grant(tenant, ADELE, ADELE_PASSWORD, GRAPH_DEFAULT)
            .await;
        assert_aad_error(&reply, StatusCode::BAD_REQUEST, error, code);
        match code {
            50055 => assert!(reply.body["password_change_url"].as_str().is_some()),
            50076 => assert_eq!(reply.body["suberror"], "basic_action"),
            _ => {}
        }
    }

    // Locked wins over a wrong password; a wrong password wins over disabled.
    sim.sim
        .set_user_flags(
            tenant,
            ADELE,
            UserFlags {
                locked: true,
                account_enabled: false,
                ..UserFlags::default()
            },
        )
        .unwrap();
    let reply = sim
        .password_grant(tenant, ADELE, "wrong", GRAPH_DEFAULT)
        .await;
    assert_aad_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant", 50053);
    sim.sim
        .set_user_flags(
            tenant,
            ADELE,
            UserFlags {
                account_enabled: false,
                ..UserFlags::default()
            },
        )
        .unwrap();
    let reply = sim
        .password_grant(tenant, ADELE, "wrong", GRAPH_DEFAULT)
        .await;
    assert_aad_error(&reply, StatusCode::BAD_REQUEST, "invalid_grant", 50126);

    sim.sim
        .set_user_flags(tenant, ADELE, UserFlags::default())
        .unwrap();
    let reply = sim
        .password_grant(tenant, ADELE, ADELE_PASSWORD, GRAPH_DEFAULT)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn request_errors() {
    let sim = start().await;

    let unknown_tenant = sim
        .password_grant(
            "fabrikam.example",
            DEMO_ADMIN_UPN,
            DEMO_ADMIN_PASSWORD,
            GRAPH_DEFAULT,
        )
        .await;
    assert_aad_error(
        &unknown_tenant,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        90002,
    );
    assert!(unknown_tenant.body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS90002: Tenant 'fabrikam.example' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."));

    for endpoint in ["common", "consumers"] {
        let reply = sim
            .password_grant(endpoint, DEMO_ADMIN_UPN, DEMO_ADMIN_PASSWORD, GRAPH_DEFAULT)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.body["error"], "invalid_request");
    }

    let no_client = sim
        .token_form(
            DEMO_TENANT_ID,
            &[
                ("grant_type", "password"),
                ("username", DEMO_ADMIN_UPN),
                ("password", DEMO_ADMIN_PASSWORD),
                ("scope", GRAPH_DEFAULT),
            ],
        )
        .await;
    assert_aad_error(
        &no_client,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
    );
    assert!(no_client.body["error_description"]
        .as_str()
        .unwrap()
        .starts_with(
            "AADSTS900144: The request body must contain the following parameter: 'client_id'."
        ));

    let bad_grant = sim
        .token_form(
            DEMO_TENANT_ID,
            &[
                ("client_id", CLIENT_ID),
                ("grant_type", "client_credentials"),
            ],
        )
        .await;
    assert_eq!(bad_grant.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_grant.body["error"], "unsupported_grant_type");

    let get = sim
        .client
        .get(format!("{}/{DEMO_TENANT_ID}/oauth2/v2.0/token", sim.base))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn correlation_id_echoes_client_request_id() {
    let sim = start().await;
    let correlation = "7a1c0f4e-2b3d-4e5f-8a9b-0c1d2e3f4a5b";
    let response = sim
        .client
        .post(format!("{}/{DEMO_TENANT_ID}/oauth2/v2.0/token", sim.base))
        .header("client-request-id", correlation)
        .form(&[
            ("client_id", CLIENT_ID),
            ("grant_type", "password"),
            ("username", ADELE),
            ("password", "x"),
            ("scope", GRAPH_DEFAULT),
        ])
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["correlation_id"], correlation);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_are_revoked_by_password_change() {
    let sim = start().await;
    let first = sim
        .password_grant(DEMO_TENANT_ID, ADELE, ADELE_PASSWORD, FULL_SCOPE)
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let refresh = first.body["refresh_token"].as_str().unwrap().to_owned();

    let refreshed = sim
        .token_form(
            "contoso-demo.com",
            &[
                ("client_id", CLIENT_ID),
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
            ],
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    let access = refreshed.body["access_token"].as_str().unwrap();
    let rotated = refreshed.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(rotated, refresh);
    assert_ne!(access, first.body["access_token"].as_str().unwrap());
    let me = sim.get(access, "/v1.0/me").await;
    assert_eq!(me.body["userPrincipalName"], ADELE);

    let again = sim
        .token_form(
            DEMO_TENANT_ID,
            &[
                ("client_id", CLIENT_ID),
                ("grant_type", "refresh_token"),
                ("refresh_token", &rotated),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);

    let unknown = sim
        .token_form(
            DEMO_TENANT_ID,
            &[
                ("client_id", CLIENT_ID),
                ("grant_type", "refresh_token"),
                ("refresh_token", "not-a-token"),
            ],
        )
        .await;
    assert_aad_error(&unknown, StatusCode::BAD_REQUEST, "invalid_grant", 9002313);

    sim.sim
        .set_password(DEMO_TENANT_ID, ADELE, "New-Passw0rd!")
        .unwrap();
    let revoked = sim
        .token_form(
            DEMO_TENANT_ID,
            &[
                ("client_id", CLIENT_ID),
                ("grant_type", "refresh_token"),
                ("refresh_token", &rotated),
            ],
        )
        .await;
    assert_aad_error(&revoked, StatusCode::BAD_REQUEST, "invalid_grant", 50173);

    let old_password = sim
        .password_grant(DEMO_TENANT_ID, ADELE, ADELE_PASSWORD, GRAPH_DEFAULT)
        .await;
    assert_aad_error(
        &old_password,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        50126,
    );
    let new_password = sim
        .password_grant(DEMO_TENANT_ID, ADELE, "New-Passw0rd!", GRAPH_DEFAULT)
        .await;
    assert_eq!(new_password.status, StatusCode::OK);
}

#[tokio::test]
async fn knobs_reject_unknown_tenants_and_users() {
    let sim = start().await;
    let err = sim
        .sim
        .set_password("nowhere.example", ADELE, "x")
        .unwrap_err();
    assert!(err.to_string().contains("nowhere.example"), "{err}");
    let err = sim
        .sim
        .set_user_flags(
            DEMO_TENANT_ID,
            "ghost@contoso-demo.com",
            UserFlags::default(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("ghost@contoso-demo.com"), "{err}");
}
