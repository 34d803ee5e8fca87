//! Shared harness: serve a simulator on 127.0.0.1:0 and talk to it over
//! real HTTP.
// Test helpers may index and panic: a slip is a failed test, not a reachable panic
// (clippy.toml allows it inside #[test] functions only, and these helpers sit outside
// them). Their `pub` items are shared by the test binaries, never by a library.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use m365_sim::{
    demo_tenant, Region, SimOptions, Simulator, Tenant, User, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_UPN,
};
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::oneshot;

pub const GRAPH_DEFAULT: &str = "https://graph.microsoft.com/.default";
pub const CLIENT_ID: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
pub const GOV_TENANT_ID: &str = "0b4a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
pub const GOV_ADMIN: &str = "admin@fabrikam-gov.onmicrosoft.us";
pub const GOV_PASSWORD: &str = "Gov-Passw0rd!";

pub struct Running {
    pub sim: Simulator,
    pub base: String,
    pub client: reqwest::Client,
    _shutdown: oneshot::Sender<()>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// A second tenant in another cloud, to prove tokens are cloud-specific.
pub fn gov_tenant() -> Tenant {
    Tenant {
        id: GOV_TENANT_ID.to_owned(),
        display_name: "Fabrikam Gov".to_owned(),
        initial_domain: "fabrikam-gov.onmicrosoft.us".to_owned(),
        verified_domains: vec![],
        region: Region::UsGovernment,
        country_letter_code: "US".to_owned(),
        users: vec![User {
            id: "5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f".to_owned(),
            user_principal_name: GOV_ADMIN.to_owned(),
            display_name: "Gov Admin".to_owned(),
            password: Some(GOV_PASSWORD.to_owned()),
            roles: vec!["Global Administrator".to_owned()],
            ..User::default()
        }],
        groups: vec![],
        sites: vec![],
    }
}

pub async fn start_with(tenants: Vec<Tenant>, options: SimOptions) -> Running {
    let sim = Simulator::new(tenants, options).expect("valid tenants");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(sim.clone().serve(listener, async {
        let _ = rx.await;
    }));
    Running {
        sim,
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        _shutdown: tx,
    }
}

pub async fn start() -> Running {
    start_with(vec![demo_tenant(), gov_tenant()], SimOptions::default()).await
}

async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    Reply {
        status,
        headers,
        body,
    }
}

impl Running {
    pub async fn token_form(&self, tenant: &str, form: &[(&str, &str)]) -> Reply {
        let response = self
            .client
            .post(format!("{}/{tenant}/oauth2/v2.0/token", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        reply(response).await
    }

    pub async fn password_grant(
        &self,
        tenant: &str,
        username: &str,
        password: &str,
        scope: &str,
    ) -> Reply {
        self.token_form(
            tenant,
            &[
                ("client_id", CLIENT_ID),
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
                ("scope", scope),
            ],
        )
        .await
    }

    /// Signs the demo admin in and returns the access token.
    pub async fn admin_token(&self) -> String {
        let reply = self
            .password_grant(
                "contoso-demo.onmicrosoft.com",
                DEMO_ADMIN_UPN,
                DEMO_ADMIN_PASSWORD,
                GRAPH_DEFAULT,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn get_url(&self, token: Option<&str>, url: &str) -> Reply {
        let mut request = self.client.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        reply(request.send().await.unwrap()).await
    }

    pub async fn get(&self, token: &str, path: &str) -> Reply {
        self.get_url(Some(token), &format!("{}{path}", self.base))
            .await
    }

    /// Follows `@odata.nextLink` verbatim and returns every item and the
    /// number of pages.
    pub async fn get_all(&self, token: &str, path: &str) -> (Vec<Value>, usize) {
        let mut items = Vec::new();
        let mut pages = 0;
        let mut url = format!("{}{path}", self.base);
        loop {
            let page = self.get_url(Some(token), &url).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            pages += 1;
            items.extend(page.body["value"].as_array().unwrap().iter().cloned());
            match page.body.get("@odata.nextLink").and_then(Value::as_str) {
                Some(next) => url = next.to_owned(),
                None => return (items, pages),
            }
        }
    }
}

/// Asserts an Entra error: HTTP 400 (unless told otherwise), the `error`
/// string and `error_codes`, and the description/timestamp shape.
pub fn assert_aad_error(reply: &Reply, status: StatusCode, error: &str, code: u64) {
    assert_eq!(reply.status, status, "{}", reply.body);
    let body = &reply.body;
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], serde_json::json!([code]), "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    assert!(description.contains("\r\nTrace ID: "), "{description}");
    assert!(
        description.contains("\r\nCorrelation ID: "),
        "{description}"
    );
    let timestamp = body["timestamp"].as_str().unwrap();
    assert_eq!(timestamp.len(), 20, "{timestamp}");
    assert_eq!(&timestamp[10..11], " ", "{timestamp}");
    assert!(timestamp.ends_with('Z'));
    assert!(description.ends_with(&format!("Timestamp: {timestamp}")));
    assert!(uuid::Uuid::parse_str(body["trace_id"].as_str().unwrap()).is_ok());
    assert!(uuid::Uuid::parse_str(body["correlation_id"].as_str().unwrap()).is_ok());
    assert!(body["error_uri"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/error?code={code}")));
}

/// Asserts a Graph error envelope with its request ids.
pub fn assert_graph_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    let error = &reply.body["error"];
    assert_eq!(error["code"], code, "{}", reply.body);
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    let inner = &error["innerError"];
    assert_eq!(inner["date"].as_str().unwrap().len(), 19, "{}", reply.body);
    let request_id = inner["request-id"].as_str().unwrap();
    assert_eq!(reply.headers["request-id"].to_str().unwrap(), request_id);
    assert_eq!(
        reply.headers["client-request-id"].to_str().unwrap(),
        inner["client-request-id"].as_str().unwrap()
    );
}
