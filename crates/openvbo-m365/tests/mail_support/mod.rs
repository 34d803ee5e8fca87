//! Shared harness for the mail connector tests: a simulator on
//! 127.0.0.1:0 whose demo tenant has mail, and a signed-in session.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use m365_sim::{demo_tenant, SimOptions, Simulator, Tenant, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_UPN};
use openvbo_m365::{ConnectorSettings, Endpoints, GraphSession, M365Client, NationalCloud, Url};
use secrecy::SecretString;
use serde_json::{json, Value};

pub const TENANT: &str = "contoso-demo.onmicrosoft.com";
pub const ADELE: &str = "adele.vance@contoso-demo.com";
pub const MAILBOXES: [&str; 4] = [
    "adele.vance@contoso-demo.com",
    "alex.wilber@contoso-demo.com",
    "diego.siciliani@contoso-demo.com",
    "megan.bowen@contoso-demo.com",
];
pub const RAW_MIME: &str = "From: Lynne <lynner@contoso.com>\r\nTo: adele.vance@contoso-demo.com\r\nSubject: Raw hello\r\nMessage-ID: <raw-1@contoso.com>\r\nDate: Tue, 01 Sep 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nraw body line\r\n";

/// The demo tenant; Adele's mailbox has a tree, a raw MIME message and a
/// structured one with an attachment; each of `MAILBOXES` gets `bulk`
/// more messages in the inbox.
pub fn tenant(bulk: usize) -> Tenant {
    let mut value = serde_json::to_value(demo_tenant()).unwrap();
    for user in value["users"].as_array_mut().unwrap() {
        let upn = user["userPrincipalName"].as_str().unwrap().to_owned();
        if !MAILBOXES.contains(&upn.as_str()) {
            continue;
        }
        let mut inbox: Vec<Value> = (0..bulk)
            .map(|n| json!({"subject": format!("{upn} {n}"), "from": "x@contoso.com", "to": [upn], "body": format!("body {n}")}))
            .collect();
        if upn == ADELE {
            inbox.push(json!({"subject": "Q3 plan", "from": "andrew@contoso.com", "to": [ADELE],
                "receivedDateTime": "2026-10-01T09:30:00Z", "body": "the plan, attached",
                "attachments": [{"name": "plan.txt", "contentType": "text/plain", "contentBase64": STANDARD.encode("the plan")}]}));
            inbox.push(json!({"mime": RAW_MIME}));
            user["mailFolders"] = json!([
                {"displayName": "Inbox", "wellKnownName": "inbox", "messages": inbox,
                 "childFolders": [{"displayName": "Projects", "messages": [{"subject": "p", "body": "p"}],
                                   "childFolders": [{"displayName": "Deep", "messages": []}]}]},
                {"displayName": "Secret", "isHidden": true}]);
        } else {
            user["mailFolders"] =
                json!([{"displayName": "Inbox", "wellKnownName": "inbox", "messages": inbox}]);
        }
    }
    serde_json::from_value(value).unwrap()
}

pub struct Harness {
    pub sim: Simulator,
    pub base: String,
    pub session: Arc<GraphSession>,
    pub http: reqwest::Client,
}

pub async fn start(bulk: usize, options: SimOptions, settings: ConnectorSettings) -> Harness {
    let sim = Simulator::new(vec![tenant(bulk)], options).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(sim.clone().serve(listener, std::future::pending()));
    let url = Url::parse(&base).unwrap();
    let endpoints = Endpoints::with_overrides(NationalCloud::Global, Some(&url), Some(&url));
    let client = M365Client::new(settings).unwrap();
    let session = client
        .sign_in_with_password(
            &endpoints,
            TENANT,
            DEMO_ADMIN_UPN,
            &SecretString::from(DEMO_ADMIN_PASSWORD),
        )
        .await
        .unwrap();
    Harness {
        sim,
        base,
        session: Arc::new(session),
        http: reqwest::Client::new(),
    }
}

impl Harness {
    /// A raw token, for changing the tenant as another client would.
    pub async fn token(&self) -> String {
        let reply: Value = self
            .http
            .post(format!("{}/{TENANT}/oauth2/v2.0/token", self.base))
            .form(&[
                ("client_id", "d3590ed6-52b3-4102-aeff-aad2292ab01c"),
                ("grant_type", "password"),
                ("username", DEMO_ADMIN_UPN),
                ("password", DEMO_ADMIN_PASSWORD),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        reply["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn graph(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let token = self.token().await;
        let mut request = self
            .http
            .request(method, format!("{}/v1.0/{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap()
            },
        )
    }
}
