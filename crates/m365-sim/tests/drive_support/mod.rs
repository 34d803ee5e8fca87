//! A small tenant with drive content, served on 127.0.0.1:0, and helpers
//! for the drive tests.
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

use m365_sim::{SimOptions, Simulator, Tenant};
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const PASSWORD: &str = "Drive-Passw0rd!";
pub const ADMIN: &str = "admin@northwind.onmicrosoft.com";
pub const NANCY_ID: &str = "50000000-0000-4000-8000-000000000002";
pub const SITE_ID: &str = "northwind.sharepoint.com,50000000-0000-4000-8000-0000000000a1,50000000-0000-4000-8000-0000000000b1";

pub fn tenant() -> Tenant {
    serde_json::from_value(json!({
        "id": "50000000-0000-4000-8000-000000000000",
        "displayName": "Northwind",
        "initialDomain": "northwind.onmicrosoft.com",
        "users": [
            {"id": "50000000-0000-4000-8000-000000000001", "userPrincipalName": ADMIN,
             "displayName": "Admin", "password": PASSWORD, "roles": ["Global Administrator"]},
            {"id": NANCY_ID, "userPrincipalName": "nancy@northwind.onmicrosoft.com",
             "displayName": "Nancy", "password": PASSWORD,
             "driveItems": [
                {"path": "Documents/Q3/plan.txt", "content": "hello world"},
                {"path": "Documents/logo.png", "contentBase64": "iVBORw0KGgo="},
                {"path": "Videos/big.bin", "size": 5_000_000, "seed": 42},
                {"path": "Empty folder/"}]},
            {"id": "50000000-0000-4000-8000-000000000003", "userPrincipalName": "room@northwind.onmicrosoft.com",
             "displayName": "Room", "mailboxType": "room"}
        ],
        "sites": [{"id": SITE_ID, "name": "hr", "displayName": "HR",
                   "webUrl": "https://northwind.sharepoint.com/sites/hr",
                   "drives": [{"name": "Documents", "items": [{"path": "Policies/handbook.txt", "content": "Be kind."}]},
                              {"name": "Archive", "items": []}]}]
    }))
    .unwrap()
}

pub struct Sim {
    pub sim: Simulator,
    pub base: String,
    pub http: reqwest::Client,
    pub token: String,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply {
        status,
        headers,
        body,
    }
}

pub async fn start(options: SimOptions) -> Sim {
    start_tenants(vec![tenant()], options).await
}

pub async fn start_tenants(tenants: Vec<Tenant>, options: SimOptions) -> Sim {
    let sim = Simulator::new(tenants, options).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(sim.clone().serve(listener, async {
        let _ = rx.await;
    }));
    // Downloads must not follow redirects on their own: tests look at the 302.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut s = Sim {
        sim,
        base,
        http,
        token: String::new(),
        _shutdown: tx,
    };
    s.token = s
        .sign_in("northwind.onmicrosoft.com", ADMIN, PASSWORD)
        .await;
    s
}

impl Sim {
    pub async fn sign_in(&self, tenant: &str, user: &str, password: &str) -> String {
        let r = self
            .http
            .post(format!("{}/{tenant}/oauth2/v2.0/token", self.base))
            .form(&[
                ("client_id", "d3590ed6-52b3-4102-aeff-aad2292ab01c"),
                ("grant_type", "password"),
                ("username", user),
                ("password", password),
                ("scope", "https://graph.microsoft.com/.default"),
            ])
            .send()
            .await
            .unwrap();
        let r = reply(r).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["access_token"].as_str().unwrap().to_owned()
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}/v1.0{path}", self.base)
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        reply(
            self.http
                .get(self.url(path))
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        let mut r = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            r = r.json(&body);
        }
        reply(r.send().await.unwrap()).await
    }

    pub async fn put_bytes(&self, path: &str, bytes: Vec<u8>) -> Reply {
        reply(
            self.http
                .put(self.url(path))
                .bearer_auth(&self.token)
                .body(bytes)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Every page of a delta round from `url`: the items and the deltaLink.
    pub async fn delta_round(&self, url: &str) -> (Vec<Value>, String, usize) {
        let mut items = Vec::new();
        let mut url = self.url(url);
        let mut pages = 0;
        loop {
            let page = self.get(&url).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            pages += 1;
            items.extend(page.body["value"].as_array().unwrap().iter().cloned());
            if let Some(next) = page.body["@odata.nextLink"].as_str() {
                url = next.to_owned();
            } else {
                return (
                    items,
                    page.body["@odata.deltaLink"].as_str().unwrap().to_owned(),
                    pages,
                );
            }
        }
    }

    pub async fn nancy_drive(&self) -> String {
        let r = self.get(&format!("/users/{NANCY_ID}/drive")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body["id"].as_str().unwrap().to_owned()
    }
}

/// `name` of live items and `-id` of deleted ones, sorted.
pub fn summary(items: &[Value]) -> Vec<String> {
    let mut names: Vec<String> = items
        .iter()
        .map(|i| match i.get("deleted") {
            Some(_) => format!("-{}", i["id"].as_str().unwrap()),
            None => i["name"].as_str().unwrap().to_owned(),
        })
        .collect();
    names.sort();
    names
}
