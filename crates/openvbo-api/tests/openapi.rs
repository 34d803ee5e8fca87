//! `GET /swagger/docs/v6`: the served OpenAPI document, anonymous, and in
//! step with the routes: every operation it lists is routed, and every
//! official operation it leaves out answers 501.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;

use std::collections::{BTreeSet, HashMap};

use common::*;
use reqwest::{header, Method, StatusCode};
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

fn seg(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// `{name}` segments replaced by `ids[name]`.
fn fill(template: &str, ids: &HashMap<&str, String>) -> String {
    template
        .split('/')
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => seg(ids
                    .get(name)
                    .map_or("00000000-0000-4000-8000-00000000abcd", |v| v)),
                None => s.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether every `{name}` segment of `template` has a real id in `ids`.
fn ids_known(template: &str, ids: &HashMap<&str, String>) -> bool {
    template.split('/').all(|s| {
        s.strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .is_none_or(|name| ids.contains_key(name))
    })
}

/// The first result's id of a listing.
async fn first_id(server: &Server, token: &str, path: &str) -> String {
    let (status, body) = server.call(Method::GET, path, token, None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body["results"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{path} lists nothing: {body}"))
        .to_owned()
}

#[tokio::test]
async fn the_document_is_served_anonymously_and_matches_the_routes() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Sim::start(vec![m365_sim::demo_tenant()]).await;
    let server = Server::start(config(dir.path(), &sim.url)).await;

    // No token, and the path exactly as Veeam serves it.
    let response = server
        .client
        .get(server.url("/swagger/docs/v6"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/json",
        "content type"
    );
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.0"));
    assert!(doc["info"]["title"].as_str().unwrap().contains("openvbo"));
    assert_eq!(doc["servers"][0]["url"], "/");
    assert!(doc["components"]["securitySchemes"]["Bearer"].is_object());
    assert!(doc["components"]["schemas"]["RestOrganizationComposed"].is_object());

    let mut listed: Vec<(Method, String)> = Vec::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if METHODS.contains(&method.as_str()) {
                listed.push((method.to_uppercase().parse().unwrap(), template.clone()));
            }
        }
    }
    // Every operation the generator lists (scripts/gen-openapi.py IMPLEMENTED), no more:
    // the two loops below prove the document and the routes agree both ways.
    let fuzzed = listed.len()
        - doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|item| item.as_object().unwrap().values())
            .filter(|op| {
                op["tags"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "openvbo-not-fuzzed"))
            })
            .count();
    // Every served operation is under schemathesis (scripts/gen-openapi.py NOT_YET_FUZZED
    // is empty since the jobs and restore operations joined it).
    assert!(fuzzed >= 160, "{fuzzed} operations under schemathesis");
    assert_eq!(listed.len(), fuzzed, "{listed:?}");
    // Every local $ref resolves.
    let text = doc.to_string();
    for piece in text.split("\"#/components/schemas/").skip(1) {
        let name = &piece[..piece.find('"').unwrap()];
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref {name}"
        );
    }

    // Real ids, so every call reaches its handler's success path where one exists.
    let token = server.token().await;
    let (status, org) = server
        .add(
            &token,
            seed_body(m365_sim::DEMO_ADMIN_UPN, m365_sim::DEMO_ADMIN_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let mut ids: HashMap<&str, String> = HashMap::new();
    let org = org["id"].as_str().unwrap().to_owned();
    let base = format!("/v6/Organizations/{org}");
    ids.insert("organizationId", org);
    let user = first_id(&server, &token, &format!("{base}/Users")).await;
    let onedrive = first_id(
        &server,
        &token,
        &format!("{base}/Users/{}/OneDrives", seg(&user)),
    )
    .await;
    ids.insert("userId", user);
    ids.insert("onedriveId", onedrive);
    ids.insert(
        "groupId",
        first_id(&server, &token, &format!("{base}/Groups")).await,
    );
    ids.insert(
        "siteId",
        first_id(&server, &token, &format!("{base}/Sites")).await,
    );
    ids.insert(
        "teamId",
        first_id(&server, &token, &format!("{base}/Teams")).await,
    );

    // DELETE last: it removes the organization the others use.
    listed.sort_by_key(|(m, t)| (*m == Method::DELETE, t.clone(), m.to_string()));
    for (method, template) in &listed {
        let path = fill(template, &ids);
        let mut request = server
            .client
            .request(method.clone(), server.url(&path))
            .bearer_auth(&token);
        if template.eq_ignore_ascii_case("/v6/token") {
            request = request.form(&[
                ("grant_type", "password"),
                ("username", ADMIN),
                ("password", ADMIN_PASSWORD),
            ]);
        } else if *method == Method::POST || *method == Method::PUT {
            // An empty change (PUT: 204) or an invalid organization (POST: 400).
            request = request.json(&serde_json::json!({}));
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        // A 404 is the handler's own only for ids this test cannot make real (jobs,
        // sessions, restore points): the router's "no resource at" means it is not routed.
        let not_routed = status == StatusCode::NOT_FOUND
            && (ids_known(template, &ids) || body.contains("no resource at"));
        assert!(
            !not_routed
                && ![StatusCode::METHOD_NOT_ALLOWED, StatusCode::NOT_IMPLEMENTED].contains(&status)
                && !status.is_server_error(),
            "{method} {path} is listed but answered {status}: {body}"
        );
    }

    // The other way round: an official operation the document leaves out is
    // not implemented (so the document is regenerated when routes are added).
    let listed: BTreeSet<(String, String)> = listed
        .iter()
        .map(|(m, t)| (m.to_string(), t.to_ascii_lowercase()))
        .collect();
    let token = server.token().await;
    for line in include_str!("../src/v6_operations.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut cols = line.split('\t');
        let (method, template) = (cols.next().unwrap(), cols.next().unwrap());
        if listed.contains(&(method.to_owned(), template.to_ascii_lowercase())) {
            continue;
        }
        let path = fill(template, &ids);
        let (status, body) = server
            .call(method.parse().unwrap(), &path, &token, None)
            .await;
        assert_eq!(
            status,
            StatusCode::NOT_IMPLEMENTED,
            "{method} {path} is not in /swagger/docs/v6 but answered {status}: {body}"
        );
    }
    server.stop().await;
}
