//! `/v6/Organizations/{id}/Users|Groups|Sites|Teams|…` over real HTTPS,
//! live from the simulator's Graph.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const SKU: &str = "c7df2760-2c81-4ef7-b578-5b5392b571df";

fn rich_tenant() -> m365_sim::Tenant {
    let id = |n: u32| format!("30000000-0000-4000-8000-{n:012}");
    let site = |n: u32| format!("northwind.sharepoint.com,{},{}", id(900 + n), id(950 + n));
    serde_json::from_value(json!({
        "id": "33333333-0000-4000-8000-000000000001",
        "displayName": "Northwind",
        "initialDomain": "northwind.onmicrosoft.com",
        "verifiedDomains": ["northwind.example.com"],
        "users": [
            {"id": id(1), "userPrincipalName": "admin@northwind.onmicrosoft.com", "displayName": "Nora Admin", "password": M365_PASSWORD, "roles": ["Global Administrator"], "assignedLicenses": [{"skuId": SKU, "disabledPlans": []}]},
            {"id": id(2), "userPrincipalName": "adele.vance@northwind.onmicrosoft.com", "displayName": "Adele Vance", "password": "x", "assignedLicenses": [{"skuId": SKU, "disabledPlans": []}]},
            {"id": id(3), "userPrincipalName": "info@northwind.onmicrosoft.com", "displayName": "Info Desk", "mailboxType": "shared"},
            {"id": id(4), "userPrincipalName": "kiosk@northwind.onmicrosoft.com", "displayName": "Kiosk Worker", "password": "x", "oneDrive": false}
        ],
        "groups": [
            {"id": id(101), "displayName": "Sales Team", "mail": "sales@northwind.onmicrosoft.com", "groupTypes": ["Unified"], "isTeam": true, "members": [id(1), id(2)]},
            {"id": id(102), "displayName": "Finance Security", "groupTypes": [], "mailEnabled": false, "securityEnabled": true, "members": [id(2), id(101)]},
            {"id": id(103), "displayName": "All Staff List", "mail": "staff@northwind.onmicrosoft.com", "groupTypes": [], "mailEnabled": true, "securityEnabled": false, "members": []}
        ],
        "sites": [
            {"id": site(1), "name": "Sales", "displayName": "Sales Site", "webUrl": "https://northwind.sharepoint.com/sites/Sales"},
            {"id": site(2), "name": "Quotes", "displayName": "Sales Quotes", "webUrl": "https://northwind.sharepoint.com/sites/Sales/Quotes", "parentId": site(1)},
            {"id": site(3), "name": "Intranet", "displayName": "Intranet", "webUrl": "https://northwind.sharepoint.com/sites/Intranet"}
        ]
    }))
    .unwrap()
}

struct Env {
    _dir: tempfile::TempDir,
    sim: Sim,
    server: Server,
    token: String,
    org: String,
}

async fn env_with(
    tenants: Vec<m365_sim::Tenant>,
    admin: &str,
    password: &str,
    adjust: impl FnOnce(&mut openvbo_server::ServerConfig),
) -> Env {
    let (dir, sim, server) = start_with(tenants, adjust).await;
    let token = server.token().await;
    let (status, org) = server.add(&token, seed_body(admin, password)).await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let org = org["id"].as_str().unwrap().to_owned();
    Env {
        _dir: dir,
        sim,
        server,
        token,
        org,
    }
}

async fn env() -> Env {
    env_with(
        vec![rich_tenant()],
        "admin@northwind.onmicrosoft.com",
        M365_PASSWORD,
        |_| {},
    )
    .await
}

impl Env {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.server
            .call(
                Method::GET,
                &format!("/v6/Organizations/{}{path}", self.org),
                &self.token,
                None,
            )
            .await
    }

    async fn ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }
}

fn names(page: &Value, field: &str) -> Vec<String> {
    let mut v: Vec<String> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[field].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_their_onedrives() {
    let e = env().await;
    let page = e.ok("/Users").await;
    assert_eq!(page["offset"], 0);
    assert_eq!(page["limit"], 30);
    assert_eq!(page["totalCount"], 4);
    assert!(uuid::Uuid::parse_str(page["setId"].as_str().unwrap()).is_ok());
    let org_href = format!("/v6/organizations/{}", e.org);
    assert_eq!(page["_links"]["organization"]["href"], org_href);
    assert!(page["_links"]["self"]["href"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{org_href}/users?offset=0&limit=30&setId=")));
    assert!(page["_links"].get("next").is_none());
    let info = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "info@northwind.onmicrosoft.com")
        .unwrap();
    assert_eq!(info["type"], "Shared");
    assert_eq!(info["locationType"], "Cloud");
    assert_eq!(info["displayName"], "Info Desk");
    let adele = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["displayName"] == "Adele Vance")
        .unwrap();
    assert_eq!(adele["type"], "User");
    let adele_id = adele["id"].as_str().unwrap();
    assert_eq!(
        adele["_links"]["self"]["href"],
        format!("{org_href}/users/{adele_id}")
    );
    assert_eq!(adele["_links"]["organization"]["href"], org_href);

    let one = e.ok(&format!("/Users/{adele_id}")).await;
    assert_eq!(one["name"], "adele.vance@northwind.onmicrosoft.com");
    let by_upn = e.ok("/users/adele.vance@northwind.onmicrosoft.com").await;
    assert_eq!(by_upn["id"], adele_id);
    let (status, body) = e.get("/Users/00000000-0000-4000-8000-999999999999").await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        &["user", "does not exist", "northwind.onmicrosoft.com"],
    );

    let drives = e.ok(&format!("/Users/{adele_id}/OneDrives")).await;
    assert_eq!(drives["totalCount"], 1);
    let drive = &drives["results"][0];
    assert!(
        drive["url"]
            .as_str()
            .unwrap()
            .contains("-my.sharepoint.com/personal/"),
        "{drive}"
    );
    let drive_id = drive["id"].as_str().unwrap();
    let one = e
        .ok(&format!(
            "/Users/{adele_id}/OneDrives/{}",
            urlencode(drive_id)
        ))
        .await;
    assert_eq!(one["id"], drive_id);
    let (status, body) = e
        .get(&format!("/Users/{adele_id}/OneDrives/no-such-drive"))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, &["OneDrive"]);
    let kiosk = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["displayName"] == "Kiosk Worker")
        .unwrap();
    let none = e
        .ok(&format!(
            "/Users/{}/OneDrives",
            kiosk["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        none["totalCount"], 0,
        "a user without OneDrive has none: {none}"
    );
    assert_eq!(none["results"], json!([]));
    let (status, _) = e
        .get("/Users/00000000-0000-4000-8000-999999999999/OneDrives")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let licences = e.ok("/LicensingInformation").await;
    // Nothing is backed up yet: no user counts against the licence.
    assert_eq!(licences, json!({"licensedUsers": 0, "newUsers": 0}));
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_members_and_teams() {
    let e = env().await;
    let page = e.ok("/Groups").await;
    assert_eq!(page["totalCount"], 3);
    let by_name = |n: &str| {
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["displayName"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("Sales Team")["type"], "Office365");
    assert_eq!(
        by_name("Sales Team")["name"],
        "sales@northwind.onmicrosoft.com"
    );
    assert_eq!(by_name("Finance Security")["type"], "Security");
    assert_eq!(by_name("All Staff List")["type"], "Distribution");
    let finance = by_name("Finance Security");
    let finance_id = finance["id"].as_str().unwrap();
    assert_eq!(
        e.ok(&format!("/Groups/{finance_id}")).await["displayName"],
        "Finance Security"
    );
    let members = e.ok(&format!("/Groups/{finance_id}/Members")).await;
    assert_eq!(members["totalCount"], 2);
    let kinds: HashSet<(String, String)> = members["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["type"].as_str().unwrap().to_owned(),
                m["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("User".into(), "Adele Vance".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("Group".into(), "Sales Team".into())),
        "{kinds:?}"
    );
    let adele = members["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["type"] == "User")
        .unwrap();
    assert_eq!(adele["login"], "adele.vance@northwind.onmicrosoft.com");
    assert_eq!(adele["isCloud"], true);
    let (status, body) = e
        .get("/Groups/30000000-0000-4000-8000-000000000999/Members")
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, &["group"]);

    let teams = e.ok("/Teams").await;
    assert_eq!(names(&teams, "displayName"), ["Sales Team"]);
    let team = &teams["results"][0];
    assert_eq!(team["mail"], "sales@northwind.onmicrosoft.com");
    let team_id = team["id"].as_str().unwrap();
    assert_eq!(
        e.ok(&format!("/Teams/{team_id}")).await["displayName"],
        "Sales Team"
    );
    let (status, body) = e.get(&format!("/Teams/{finance_id}")).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, &["team"]);
    let (status, body) = e.get("/Teams/not-a-guid").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, &["teamId"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sites_personal_sites_and_subsites() {
    let e = env().await;
    let top = e.ok("/Sites").await;
    assert_eq!(
        names(&top, "title"),
        ["Intranet", "Sales Quotes", "Sales Site"],
        "no personal sites by default"
    );
    let sales = top["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["title"] == "Sales Site")
        .unwrap()
        .clone();
    for field in ["id", "url", "title", "isCloud", "isPersonal"] {
        assert!(sales.get(field).is_some(), "{field} is required: {sales}");
    }
    assert_eq!(sales["isCloud"], true);
    assert_eq!(sales["isPersonal"], false);
    assert_eq!(sales["url"], "https://northwind.sharepoint.com/sites/Sales");
    let with_personal = e.ok("/Sites?includePersonalSites=true").await;
    let personal: Vec<&Value> = with_personal["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["isPersonal"] == true)
        .collect();
    assert!(!personal.is_empty(), "{with_personal}");
    assert!(personal.iter().all(|s| s["url"]
        .as_str()
        .unwrap()
        .contains("-my.sharepoint.com/personal/")));

    let sales_id = sales["id"].as_str().unwrap();
    assert!(sales_id.contains(','));
    let raw = e.ok(&format!("/Sites/{sales_id}")).await;
    assert_eq!(raw["title"], "Sales Site");
    let encoded = e
        .ok(&format!("/Sites/{}", sales_id.replace(',', "%2C")))
        .await;
    assert_eq!(encoded["id"], sales_id);
    let children = e
        .ok(&format!("/Sites?parentId={}", urlencode(sales_id)))
        .await;
    assert_eq!(names(&children, "title"), ["Sales Quotes"]);
    let (status, body) = e.get("/Sites/northwind.sharepoint.com,00000000-0000-4000-8000-000000000000,00000000-0000-4000-8000-000000000000").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, &["site"]);
    let on_prem = e.ok("/Sites?locationFilter=OnPremises").await;
    assert_eq!(on_prem["totalCount"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_and_parameters() {
    let e = env().await;
    let page = e.ok("/Users?USERNAME=ADELE").await;
    assert_eq!(names(&page, "displayName"), ["Adele Vance"]);
    assert!(page["_links"]["self"]["href"]
        .as_str()
        .unwrap()
        .contains("userName=ADELE"));
    assert_eq!(
        names(&e.ok("/Users?displayName=desk").await, "displayName"),
        ["Info Desk"]
    );
    assert_eq!(
        e.ok("/Users?locationFilter=OnPremises").await["totalCount"],
        0
    );
    assert_eq!(
        e.ok("/Users?locationFilter=cloudorhybrid").await["totalCount"],
        4
    );
    assert_eq!(
        names(&e.ok("/Groups?groupName=STAFF").await, "displayName"),
        ["All Staff List"]
    );
    assert_eq!(
        names(&e.ok("/Groups?displayName=sales").await, "displayName"),
        ["Sales Team"]
    );
    assert_eq!(
        names(&e.ok("/Teams?displayName=nothing").await, "displayName"),
        Vec::<String>::new()
    );

    for (query, fragment) in [
        ("/Users?limit=10001", "limit"),
        ("/Users?limit=0", "limit"),
        ("/Users?offset=-1", "offset"),
        ("/Users?offset=3039048852", "between 0 and 2147483647"),
        ("/Users?limit=many", "limit"),
        ("/Users?setId=not-a-uuid", "setId"),
        ("/Users?locationFilter=Moon", "locationFilter"),
        ("/Sites?includePersonalSites=maybe", "includePersonalSites"),
    ] {
        let (status, body) = e.get(query).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, &[fragment]);
    }
    let (status, body) = e
        .get(&format!("/Users?setId={}", uuid::Uuid::new_v4()))
        .await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        &["setId", "unknown or has expired"],
    );
    let users = e.ok("/Users").await;
    let (status, body) = e
        .get(&format!(
            "/Groups?setId={}",
            users["setId"].as_str().unwrap()
        ))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, &["another listing"]);
    let missing = uuid::Uuid::new_v4();
    let (status, body) = e
        .server
        .call(
            Method::GET,
            &format!("/v6/Organizations/{missing}/Users"),
            &e.token,
            None,
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, &["organization"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_25000_users_visits_each_once_and_set_pages_make_no_graph_calls() {
    let spec = m365_sim::SyntheticSpec {
        users: 25_000,
        groups: 10,
        sites: 5,
    };
    let tenant = m365_sim::synthetic_tenant(1, spec);
    let admin = "admin@synth1.onmicrosoft.com";
    let e = env_with(vec![tenant], admin, m365_sim::SYNTHETIC_PASSWORD, |_| {}).await;
    let first = e.ok("/Users?limit=5000").await;
    let total = first["totalCount"].as_u64().unwrap();
    assert!(total > 25_000, "admin and generated users: {total}");
    let set_id = first["setId"].as_str().unwrap().to_owned();
    let graph_before = e.sim.sim.stats().graph_requests;
    let mut seen: HashSet<String> = HashSet::new();
    let mut offset = 0u64;
    loop {
        let page = e
            .ok(&format!("/Users?offset={offset}&limit=5000&setId={set_id}"))
            .await;
        assert_eq!(page["setId"], set_id);
        assert_eq!(
            page["totalCount"].as_u64().unwrap(),
            total,
            "consistent with the first page"
        );
        let results = page["results"].as_array().unwrap();
        for u in results {
            assert!(
                seen.insert(u["id"].as_str().unwrap().to_owned()),
                "{} twice",
                u["id"]
            );
        }
        match page["_links"].get("next") {
            Some(next) => {
                assert!(next["href"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("offset={}", offset + 5000)));
                offset += 5000;
            }
            None => break,
        }
    }
    assert_eq!(seen.len() as u64, total);
    assert_eq!(
        e.sim.sim.stats().graph_requests,
        graph_before,
        "pages of a set are served without Microsoft"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_during_a_listing_is_waited_out() {
    let spec = m365_sim::SyntheticSpec {
        users: 4_000,
        groups: 0,
        sites: 0,
    };
    let e = env_with(
        vec![m365_sim::synthetic_tenant(2, spec)],
        "admin@synth2.onmicrosoft.com",
        m365_sim::SYNTHETIC_PASSWORD,
        |_| {},
    )
    .await;
    e.sim.sim.set_fault(Some(m365_sim::Fault::Throttle {
        every: 3,
        retry_after_secs: 1,
    }));
    let page = e.ok("/Users?limit=10000").await;
    e.sim.sim.set_fault(None);
    assert_eq!(page["totalCount"], 4_001);
    let ids: HashSet<&str> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 4_001);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_credentials_tell_the_admin_to_update_them() {
    let e = env().await;
    e.ok("/Users").await;
    e.sim
        .sim
        .set_password(
            "northwind.onmicrosoft.com",
            "admin@northwind.onmicrosoft.com",
            "Changed-By-Someone-1",
        )
        .unwrap();
    // Restart, so no Graph session is cached: the stored password must be used.
    let data_dir = e.server.data_dir.clone();
    let Env {
        server,
        sim,
        token,
        org,
        _dir,
        ..
    } = e;
    server.stop().await;
    let server = Server::start(config(&data_dir, &sim.url)).await;
    let (status, body) = server
        .call(
            Method::GET,
            &format!("/v6/Organizations/{org}/Users"),
            &token,
            None,
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        &[
            "stored credentials",
            "admin@northwind.onmicrosoft.com",
            "PUT /v6/Organizations",
        ],
    );
    assert!(!body.to_string().contains(M365_PASSWORD));
    // After the update it works again.
    let (status, body) = server
        .call(Method::PUT, &format!("/v6/Organizations/{org}"), &token, Some(json!({"exchangeOnlineSettings": {"password": "Changed-By-Someone-1"}, "sharePointOnlineSettings": {"password": "Changed-By-Someone-1"}})))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = server
        .call(
            Method::GET,
            &format!("/v6/Organizations/{org}/Users"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sets_expire_and_one_sign_in_serves_many_requests() {
    // The setId cache ages on the server's clock: advanced, not slept on.
    let clock = openvbo_core::clock::ManualClock::new();
    let (dir, sim, server) = start_on_clock(
        vec![rich_tenant()],
        |c| c.discovery_cache.ttl = Duration::from_secs(900),
        clock.clone(),
    )
    .await;
    let token = server.token().await;
    let (status, org) = server
        .add(
            &token,
            seed_body("admin@northwind.onmicrosoft.com", M365_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let e = Env {
        _dir: dir,
        sim,
        server,
        token,
        org: org["id"].as_str().unwrap().to_owned(),
    };
    let tokens_before = e.sim.sim.stats().token_requests;
    let page = e.ok("/Users?limit=1").await;
    e.ok("/Groups").await;
    e.ok("/Teams").await;
    e.ok("/LicensingInformation").await;
    assert_eq!(
        e.sim.sim.stats().token_requests - tokens_before,
        1,
        "one sign-in reused"
    );
    let set_id = page["setId"].as_str().unwrap();
    e.ok(&format!("/Users?offset=1&limit=1&setId={set_id}"))
        .await;
    clock.advance(Duration::from_secs(899));
    let graph_before = e.sim.sim.stats().graph_requests;
    let page = e
        .ok(&format!("/Users?offset=2&limit=1&setId={set_id}"))
        .await;
    assert_eq!(page["offset"], 2, "{page}");
    assert_eq!(page["results"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(
        e.sim.sim.stats().graph_requests,
        graph_before,
        "a page of a set never calls Microsoft"
    );
    clock.advance(Duration::from_secs(1));
    let (status, body) = e
        .get(&format!("/Users?offset=2&limit=1&setId={set_id}"))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, &["expired"]);
    assert_eq!(
        e.sim.sim.stats().token_requests - tokens_before,
        1,
        "still the one sign-in"
    );
}

/// `.` and `..` in every spelling a client can send them.
const DOTS: &[&str] = &[
    ".",
    "..",
    "%2e",
    "%2E",
    "%2e%2e",
    "%2E%2E",
    ".%2e",
    "%2e.",
    "%252e%252e",
    "..%2f..",
    "%2e%2e%2f%2e%2e",
    "..%5c..",
    "%20..%20",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_segments_in_ids_and_queries_never_reach_microsoft() {
    let e = env().await;
    let user = "30000000-0000-4000-8000-000000000001";
    let group = "30000000-0000-4000-8000-000000000101";
    // Warm the organization's sessions so only listings or lookups could
    // still reach Graph.
    e.ok("/Users").await;
    let graph_before = e.sim.sim.stats().graph_requests;
    let mut checked = 0;
    for dot in DOTS {
        let paths = [
            format!("/Users/{dot}"),
            format!("/Users/{dot}/OneDrives"),
            format!("/Users/{user}/OneDrives/{dot}"),
            format!("/Users/{dot}/OneDrives/{dot}"),
            format!("/Groups/{dot}"),
            format!("/Groups/{dot}/Members"),
            format!("/Groups/{group}/Members/{dot}"),
            format!("/Sites/{dot}"),
            format!("/Teams/{dot}"),
            format!("/Sites?parentId={dot}"),
            format!("/Sites?parentId={dot}&includePersonalSites=true"),
        ];
        for path in paths {
            let full = format!("/v6/Organizations/{}{path}", e.org);
            let request = format!(
                "GET {full} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
                e.token
            );
            let (status, body) = raw_request(&e.server, &request).await;
            assert!(status == 404 || status == 400, "{full}: {status} {body}");
            let body: Value =
                serde_json::from_str(&body).unwrap_or_else(|_| panic!("{full}: not JSON: {body}"));
            assert!(body["message"].is_string(), "{full}: {body}");
            checked += 1;
        }
    }
    assert_eq!(checked, DOTS.len() * 11);
    assert_eq!(
        e.sim.sim.stats().graph_requests,
        graph_before,
        "a dot segment reached Microsoft Graph"
    );
    // The same requests with real ids still work (and do reach Graph).
    e.ok(&format!("/Users/{user}")).await;
    e.ok(&format!("/Groups/{group}/Members")).await;
    assert!(e.sim.sim.stats().graph_requests > graph_before);
}
