//! Drive writes over real HTTP: simple uploads and conflict behaviour,
//! upload sessions and their rules, folders, resource units, and tenant
//! files the simulator refuses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod drive_support;

use std::time::Duration;

use drive_support::*;
use m365_sim::{Budget, SimOptions, ThrottleOptions, ThrottleProfile};
use reqwest::{Method, StatusCode};
use serde_json::json;

const KIB320: usize = 320 * 1024;

fn hash(bytes: &[u8]) -> String {
    let mut h = quickxorhash::QuickXorHash::new();
    h.update(bytes);
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, h.finalize())
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn simple_upload_honours_conflict_behaviour() {
    let s = start(SimOptions::default()).await;
    let drive = s.nancy_drive().await;
    let at = |q: &str| format!("/drives/{drive}/root:/Documents/Q3/plan.txt:/content{q}");
    let fail = s
        .put_bytes(
            &at("?@microsoft.graph.conflictBehavior=fail"),
            b"x".to_vec(),
        )
        .await;
    assert_eq!(fail.status, StatusCode::CONFLICT, "{}", fail.body);
    assert_eq!(fail.body["error"]["code"], "nameAlreadyExists");
    let renamed = s
        .put_bytes(
            &at("?@microsoft.graph.conflictBehavior=rename"),
            b"second".to_vec(),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::CREATED, "{}", renamed.body);
    assert_eq!(renamed.body["name"], "plan 1.txt");
    let before = s
        .get(&format!("/drives/{drive}/root:/Documents/Q3/plan.txt"))
        .await;
    let replaced = s.put_bytes(&at(""), b"replaced!".to_vec()).await;
    assert_eq!(
        replaced.status,
        StatusCode::OK,
        "default is replace: {}",
        replaced.body
    );
    assert_eq!(replaced.body["id"], before.body["id"]);
    assert_eq!(replaced.body["size"], 9);
    assert_eq!(
        replaced.body["file"]["hashes"]["quickXorHash"],
        hash(b"replaced!").as_str()
    );
    assert_ne!(replaced.body["eTag"], before.body["eTag"]);
    assert_ne!(replaced.body["cTag"], before.body["cTag"]);
    assert_ne!(
        replaced.body["lastModifiedDateTime"],
        before.body["lastModifiedDateTime"]
    );
    let versions = s
        .get(&format!(
            "/drives/{drive}/items/{}/versions",
            before.body["id"].as_str().unwrap()
        ))
        .await;
    let ids: Vec<&str> = versions.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["2.0", "1.0"]);
    // Missing folders on the way are created.
    let deep = s
        .put_bytes(
            &format!("/drives/{drive}/root:/New/Deeper/x.bin:/content"),
            pattern(10),
        )
        .await;
    assert_eq!(deep.status, StatusCode::CREATED, "{}", deep.body);
    assert_eq!(
        deep.body["parentReference"]["path"],
        format!("/drives/{drive}/root:/New/Deeper")
    );
    let bad = s
        .put_bytes(
            &format!("/drives/{drive}/root:/bad%7Cname.txt:/content"),
            b"x".to_vec(),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    // Folders: fail conflicts, replace returns the existing one.
    let docs = s.get(&format!("/drives/{drive}/root:/Documents")).await;
    let children = format!("/drives/{drive}/root/children");
    let dup = s.send(Method::POST, &children, Some(json!({"name": "documents", "folder": {}, "@microsoft.graph.conflictBehavior": "fail"}))).await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);
    let same = s.send(Method::POST, &children, Some(json!({"name": "Documents", "folder": {}, "@microsoft.graph.conflictBehavior": "replace"}))).await;
    assert_eq!(same.body["id"], docs.body["id"]);
    let made = s
        .send(
            Method::POST,
            &children,
            Some(json!({"name": "Reports", "folder": {}})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED);
    assert_eq!(made.body["folder"]["childCount"], 0);
    assert_eq!(
        s.sim.stats().content.writes,
        4,
        "rename, replace, deep upload, new folder"
    );
}

async fn put_fragment(s: &Sim, url: &str, range: &str, body: Vec<u8>, auth: bool) -> Reply {
    let mut r = s.http.put(url).header("Content-Range", range).body(body);
    if auth {
        r = r.bearer_auth(&s.token);
    }
    reply(r.send().await.unwrap()).await
}

#[tokio::test]
async fn upload_sessions_enforce_microsofts_fragment_rules() {
    let s = start(SimOptions::default()).await;
    let drive = s.nancy_drive().await;
    let total = 2 * KIB320 + 1000;
    let data = pattern(total);
    let created = s
        .send(
            Method::POST,
            &format!("/drives/{drive}/root:/Videos/upload.bin:/createUploadSession"),
            Some(json!({"item": {"@microsoft.graph.conflictBehavior": "fail"}})),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let url = created.body["uploadUrl"].as_str().unwrap().to_owned();
    assert!(created.body["expirationDateTime"].is_string());
    let range = |a: usize, b: usize| format!("bytes {a}-{b}/{total}");

    let authed = put_fragment(
        &s,
        &url,
        &range(0, KIB320 - 1),
        data[..KIB320].to_vec(),
        true,
    )
    .await;
    assert_eq!(authed.status, StatusCode::UNAUTHORIZED, "{}", authed.body);
    let odd = put_fragment(&s, &url, &range(0, 99_999), data[..100_000].to_vec(), false).await;
    assert_eq!(
        odd.status,
        StatusCode::BAD_REQUEST,
        "not a multiple of 320 KiB: {}",
        odd.body
    );
    let huge = put_fragment(
        &s,
        &url,
        &format!("bytes 0-{}/{}", 60 * 1024 * 1024 - 1, 100 * 1024 * 1024),
        vec![0; 10],
        false,
    )
    .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", huge.body);
    let ahead = put_fragment(
        &s,
        &url,
        &range(KIB320, 2 * KIB320 - 1),
        data[KIB320..2 * KIB320].to_vec(),
        false,
    )
    .await;
    assert_eq!(
        ahead.status,
        StatusCode::BAD_REQUEST,
        "out of order: {}",
        ahead.body
    );
    let short = put_fragment(
        &s,
        &url,
        &range(0, KIB320 - 1),
        data[..KIB320 - 5].to_vec(),
        false,
    )
    .await;
    assert_eq!(
        short.status,
        StatusCode::BAD_REQUEST,
        "body shorter than its range: {}",
        short.body
    );

    let first = put_fragment(
        &s,
        &url,
        &range(0, KIB320 - 1),
        data[..KIB320].to_vec(),
        false,
    )
    .await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    assert_eq!(
        first.body["nextExpectedRanges"],
        json!([format!("{KIB320}-")])
    );
    let again = put_fragment(
        &s,
        &url,
        &range(0, KIB320 - 1),
        data[..KIB320].to_vec(),
        false,
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::RANGE_NOT_SATISFIABLE,
        "{}",
        again.body
    );
    let other_total = put_fragment(
        &s,
        &url,
        &format!("bytes {KIB320}-{}/{}", 2 * KIB320 - 1, total + 1),
        data[KIB320..2 * KIB320].to_vec(),
        false,
    )
    .await;
    assert_eq!(
        other_total.status,
        StatusCode::BAD_REQUEST,
        "{}",
        other_total.body
    );
    let status = s.http.get(&url).send().await.unwrap();
    assert_eq!(
        reply(status).await.body["nextExpectedRanges"],
        json!([format!("{KIB320}-")])
    );

    // Someone else takes the name meanwhile: `fail` refuses at commit.
    let taken = s
        .put_bytes(
            &format!("/drives/{drive}/root:/Videos/upload.bin:/content"),
            b"mine".to_vec(),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CREATED);
    let second = put_fragment(
        &s,
        &url,
        &range(KIB320, total - 1),
        data[KIB320..].to_vec(),
        false,
    )
    .await;
    assert_eq!(second.status, StatusCode::CONFLICT, "{}", second.body);
    assert_eq!(second.body["error"]["code"], "nameAlreadyExists");

    // A clean session from start to end: 202, 202, 201 with the item.
    let created = s
        .send(
            Method::POST,
            &format!("/drives/{drive}/root:/Videos/upload2.bin:/createUploadSession"),
            None,
        )
        .await;
    let url = created.body["uploadUrl"].as_str().unwrap().to_owned();
    let mut last = None;
    for (a, b) in [
        (0, KIB320 - 1),
        (KIB320, 2 * KIB320 - 1),
        (2 * KIB320, total - 1),
    ] {
        last = Some(put_fragment(&s, &url, &range(a, b), data[a..=b].to_vec(), false).await);
    }
    let done = last.unwrap();
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.body);
    assert_eq!(done.body["size"], total);
    assert_eq!(
        done.body["file"]["hashes"]["quickXorHash"],
        hash(&data).as_str()
    );
    let id = done.body["id"].as_str().unwrap();
    let content = s
        .http
        .get(s.url(&format!("/drives/{drive}/items/{id}/content")))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let location = content.headers()["location"].to_str().unwrap().to_owned();
    let back = s
        .http
        .get(&location)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(back.as_ref(), data.as_slice());
    let gone = s.http.get(&url).send().await.unwrap();
    assert_eq!(
        gone.status(),
        StatusCode::NOT_FOUND,
        "the session ends with its commit"
    );

    // Cancel.
    let created = s
        .send(
            Method::POST,
            &format!("/drives/{drive}/root:/c.bin:/createUploadSession"),
            None,
        )
        .await;
    let url = created.body["uploadUrl"].as_str().unwrap().to_owned();
    assert_eq!(
        s.http.delete(&url).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.http.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn resource_units_throttle_drive_requests_per_tenant() {
    let options = SimOptions {
        throttle: ThrottleOptions {
            profile: ThrottleProfile::Microsoft,
            ..ThrottleOptions::default()
        },
        ..SimOptions::default()
    };
    let s = start(options).await;
    let drive = s.nancy_drive().await;
    s.sim.set_drive_resource_units(Budget {
        requests: 6,
        window: Duration::from_secs(60),
    });
    // Delta without a token costs 2, one item 1, a listing 2: 5 of 6.
    assert_eq!(
        s.get(&format!("/drives/{drive}/root/delta")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.get(&format!("/drives/{drive}/root")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.get(&format!("/drives/{drive}/root/children"))
            .await
            .status,
        StatusCode::OK
    );
    let over = s.get(&format!("/drives/{drive}/root/children")).await;
    assert!(
        matches!(
            over.status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        ),
        "{}",
        over.status
    );
    let wait: u64 = over.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let refused_too = s.get(&format!("/drives/{drive}/root")).await;
    assert!(
        !refused_too.status.is_success(),
        "refused requests still count"
    );
    let stats = s.sim.stats().throttle;
    assert_eq!(stats.rejected, 2);
    // 5 let through, then the refused listing (2) and item (1).
    assert_eq!(stats.resource_units, 8);
}

#[tokio::test]
async fn tenant_files_with_bad_drive_content_are_refused_by_name() {
    let mut bad = tenant();
    bad.users[1].drive_items.push(m365_sim::DriveItemSpec {
        path: "Documents/Q3/PLAN.TXT".into(),
        ..Default::default()
    });
    bad.users[1].drive_items.push(m365_sim::DriveItemSpec {
        path: "x.bin".into(),
        content_base64: Some("@@@".into()),
        ..Default::default()
    });
    bad.users[2].drive_items.push(m365_sim::DriveItemSpec {
        path: "a.txt".into(),
        ..Default::default()
    });
    let error = m365_sim::Simulator::new(vec![bad], SimOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("user 'nancy@northwind.onmicrosoft.com': two drive items have the path 'Documents/Q3/PLAN.TXT'"), "{error}");
    assert!(
        error.contains("drive item 'x.bin': contentBase64 is not valid base64"),
        "{error}"
    );
    assert!(
        error.contains("user 'room@northwind.onmicrosoft.com' has driveItems but no OneDrive"),
        "{error}"
    );
}

#[tokio::test]
async fn abandoned_upload_sessions_expire() {
    let s = start(SimOptions::default()).await;
    let drive = s.nancy_drive().await;
    let path = |name: &str| format!("/drives/{drive}/root:/{name}:/createUploadSession");
    let first = s.send(Method::POST, &path("a.bin"), None).await.body["uploadUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let part = put_fragment(
        &s,
        &first,
        &format!("bytes 0-{}/{}", KIB320 - 1, 2 * KIB320),
        pattern(KIB320),
        false,
    )
    .await;
    assert_eq!(part.status, StatusCode::ACCEPTED);
    s.sim.advance_drive_clock(25 * 3600);
    let gone = s.http.get(&first).send().await.unwrap();
    assert_eq!(
        gone.status(),
        StatusCode::NOT_FOUND,
        "a day later the session is gone"
    );
    let second = s.send(Method::POST, &path("b.bin"), None).await;
    assert_eq!(second.status, StatusCode::OK);
    let late = put_fragment(
        &s,
        &first,
        &format!("bytes {KIB320}-{}/{}", 2 * KIB320 - 1, 2 * KIB320),
        pattern(KIB320),
        false,
    )
    .await;
    assert_eq!(late.status, StatusCode::NOT_FOUND);
    let missing = s.get(&format!("/drives/{drive}/root:/a.bin")).await;
    assert_eq!(
        missing.status,
        StatusCode::NOT_FOUND,
        "nothing half-written was committed"
    );
}
