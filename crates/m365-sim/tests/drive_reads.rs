//! Drive reads over real HTTP: drives, items, children, versions, delta
//! across pages and tokens, 410 on expiry, and the 302/Range/expiry dance.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod drive_support;

use drive_support::*;
use m365_sim::SimOptions;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn drives_items_children_and_hashes_look_like_graph() {
    let s = start(SimOptions::default()).await;
    let drive = s.nancy_drive().await;
    let by_id = s.get(&format!("/drives/{drive}")).await;
    assert_eq!(by_id.status, StatusCode::OK, "{}", by_id.body);
    assert_eq!(by_id.body["driveType"], "business");
    assert_eq!(by_id.body["quota"]["used"], json!(11 + 8 + 5_000_000));

    let root = s.get(&format!("/drives/{drive}/root")).await;
    assert_eq!(root.body["root"], json!({}));
    assert_eq!(root.body["folder"]["childCount"], 3);
    let (children, _) = {
        let r = s.get(&format!("/drives/{drive}/root/children")).await;
        (r.body["value"].as_array().unwrap().clone(), ())
    };
    let names: Vec<&str> = children
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Documents", "Empty folder", "Videos"]);

    let plan = s
        .get(&format!("/drives/{drive}/root:/documents/Q3/PLAN.txt"))
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.body);
    assert_eq!(plan.body["name"], "plan.txt");
    assert_eq!(plan.body["size"], 11);
    // The value the reference implementations publish for "hello world".
    assert_eq!(
        plan.body["file"]["hashes"]["quickXorHash"],
        "aCgDG9jwBhDc4Q1yawMZAAAAAAA="
    );
    assert_eq!(plan.body["file"]["mimeType"], "text/plain");
    assert_eq!(
        plan.body["parentReference"]["path"],
        format!("/drives/{drive}/root:/Documents/Q3")
    );
    let etag = plan.body["eTag"].as_str().unwrap();
    assert!(etag.starts_with("\"{") && etag.ends_with("},1\""), "{etag}");
    assert!(plan.body["cTag"].as_str().unwrap().starts_with("\"c:{"));
    let id = plan.body["id"].as_str().unwrap();
    assert_eq!(id.len(), 34);

    let again = s.get(&format!("/drives/{drive}/items/{id}")).await;
    assert_eq!(again.body["name"], "plan.txt");
    let versions = s.get(&format!("/drives/{drive}/items/{id}/versions")).await;
    assert_eq!(versions.body["value"][0]["id"], "1.0");
    let paged = s
        .get(&format!("/users/{NANCY_ID}/drive/root/children?$top=2"))
        .await;
    assert_eq!(paged.body["value"].as_array().unwrap().len(), 2);
    let next = paged.body["@odata.nextLink"].as_str().unwrap();
    assert_eq!(s.get(next).await.body["value"][0]["name"], "Videos");

    let missing = s.get(&format!("/drives/{drive}/root:/nope.txt")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["error"]["code"], "itemNotFound");

    // Site libraries: the tenant file's, in order; /drive is the first.
    let libraries = s.get(&format!("/sites/{SITE_ID}/drives")).await;
    let names: Vec<&str> = libraries.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Documents", "Archive"]);
    let site_drive = s
        .get(&format!(
            "/sites/{SITE_ID}/drive/root:/Policies/handbook.txt"
        ))
        .await;
    assert_eq!(site_drive.body["size"], 8);
    assert_eq!(
        site_drive.body["parentReference"]["driveType"],
        "documentLibrary"
    );
    // The OneDrive is also its owner's personal site's drive.
    let sites = s.get("/sites?search=*&$top=999").await;
    let personal = sites.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| {
            x["webUrl"]
                .as_str()
                .unwrap()
                .ends_with("/personal/nancy_northwind_onmicrosoft_com")
        })
        .cloned()
        .unwrap_or_else(|| panic!("no personal site in {}", sites.body));
    let via_site = s
        .get(&format!(
            "/sites/{}/drive",
            personal["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(via_site.body["id"], drive.as_str(), "{}", via_site.body);
    let room = s
        .get("/users/room@northwind.onmicrosoft.com/drive/root")
        .await;
    assert_eq!(room.status, StatusCode::NOT_FOUND, "{}", room.body);
}

#[tokio::test]
async fn delta_reports_exactly_the_changes_since_each_token() {
    let s = start(SimOptions::default()).await;
    let drive = s.nancy_drive().await;
    let delta = format!("/drives/{drive}/root/delta");
    let (full, t0, pages) = s.delta_round(&format!("{delta}?$top=2")).await;
    assert_eq!(pages, 4, "8 items in pages of 2");
    let names: Vec<&str> = full.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "root",
            "Documents",
            "logo.png",
            "Q3",
            "plan.txt",
            "Empty folder",
            "Videos",
            "big.bin"
        ]
    );
    assert!(
        full.iter()
            .all(|i| i["parentReference"].get("path").is_none()),
        "no paths in delta"
    );
    assert!(t0.contains("/root/delta?token="), "{t0}");
    let latest = s.get(&format!("{delta}?token=latest")).await;
    assert_eq!(latest.body["value"], json!([]));
    let latest_link = latest.body["@odata.deltaLink"].as_str().unwrap().to_owned();

    let id_of = |name: &str| {
        full.iter().find(|i| i["name"] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (docs, q3, logo, videos, big) = (
        id_of("Documents"),
        id_of("Q3"),
        id_of("logo.png"),
        id_of("Videos"),
        id_of("big.bin"),
    );

    // Round 1 of changes: add, change, rename.
    let added = s
        .put_bytes(
            &format!("/drives/{drive}/items/{docs}:/new.txt:/content"),
            b"new".to_vec(),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let changed = s
        .put_bytes(
            &format!("/drives/{drive}/items/{logo}/content"),
            b"png2".to_vec(),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert!(changed.body["eTag"].as_str().unwrap().ends_with(",2\""));
    let renamed = s
        .send(
            reqwest::Method::PATCH,
            &format!("/drives/{drive}/items/{q3}"),
            Some(json!({"name": "Q4"})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    let (r1, t1, _) = s.delta_round(&t0).await;
    assert_eq!(
        summary(&r1),
        ["Documents", "Q4", "logo.png", "new.txt", "root"]
    );

    // Round 2: move a file, delete a folder with its file.
    let moved = s
        .send(
            reqwest::Method::PATCH,
            &format!("/drives/{drive}/items/{big}"),
            Some(json!({"parentReference": {"id": docs}})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(
        moved.body["parentReference"]["path"],
        format!("/drives/{drive}/root:/Documents")
    );
    let deleted = s
        .send(
            reqwest::Method::DELETE,
            &format!("/drives/{drive}/items/{q3}"),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let (r2, t2, _) = s.delta_round(&t1).await;
    let plan = id_of("plan.txt");
    let mut want = vec![
        "Documents".to_owned(),
        "Videos".into(),
        "big.bin".into(),
        "root".into(),
        format!("-{q3}"),
        format!("-{plan}"),
    ];
    want.sort();
    assert_eq!(summary(&r2), want);
    let tomb = r2.iter().find(|i| i["id"] == q3.as_str()).unwrap();
    assert_eq!(tomb["deleted"], json!({"state": "deleted"}));
    assert!(
        tomb.get("name").is_none() && tomb.get("cTag").is_none(),
        "{tomb}"
    );
    assert_eq!(
        r2.iter().find(|i| i["name"] == "big.bin").unwrap()["parentReference"]["id"],
        docs.as_str()
    );
    let _ = videos;

    // The oldest token sees everything since; the latest link the same.
    let (all, _, _) = s.delta_round(&t0).await;
    let (from_latest, _, _) = s.delta_round(&latest_link).await;
    assert_eq!(summary(&all), summary(&from_latest));
    assert!(
        summary(&all).contains(&"new.txt".to_owned()) && summary(&all).contains(&format!("-{q3}"))
    );
    // Nothing changed since the last round.
    let (none, _, _) = s.delta_round(&t2).await;
    assert_eq!(none, Vec::<Value>::new());
    // `delta(token='…')` is the same request.
    let token = t1
        .split("token=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let (inline, _, _) = s
        .delta_round(&format!("/drives/{drive}/root/delta(token='{token}')"))
        .await;
    assert_eq!(summary(&inline), summary(&r2));
    assert!(s.sim.stats().content.delta_requests >= 10);
}

#[tokio::test]
async fn expired_delta_answers_410_with_a_location_to_start_over() {
    let s = start(SimOptions::default()).await;
    let drive = s.nancy_drive().await;
    let (_, token, _) = s
        .delta_round(&format!("/drives/{drive}/root/delta?$top=2"))
        .await;
    let first = s.get(&format!("/drives/{drive}/root/delta?$top=2")).await;
    let next = first.body["@odata.nextLink"].as_str().unwrap().to_owned();
    assert!(s.sim.expire_drive_delta(&drive));
    for url in [token.as_str(), next.as_str()] {
        let gone = s.get(url).await;
        assert_eq!(gone.status, StatusCode::GONE, "{}", gone.body);
        assert_eq!(gone.body["error"]["code"], "resyncRequired");
        let location = gone.headers["location"].to_str().unwrap();
        assert_eq!(
            location,
            format!("{}/v1.0/drives/{drive}/root/delta", s.base)
        );
        let (again, _, _) = s.delta_round(location).await;
        assert_eq!(again.len(), 8);
    }
    let http = s
        .http
        .post(format!("{}/_sim/drives/{drive}/expire-delta", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(http.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn content_redirects_to_a_url_that_serves_ranges_and_expires() {
    let s = start(SimOptions::default()).await;
    let drive = s.nancy_drive().await;
    let big = s
        .get(&format!("/drives/{drive}/root:/Videos/big.bin"))
        .await;
    // Over the eager-hash size, yet hashed before any download (computed
    // when first listed): the hash of the bytes served below.
    let listed = big.body["file"]["hashes"]["quickXorHash"].clone();
    assert!(listed.is_string(), "{}", big.body);
    let content = s
        .http
        .get(s.url(&format!("/drives/{drive}/root:/Videos/big.bin:/content")))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(content.status(), StatusCode::FOUND);
    let url = content.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        url.contains("/_layouts/15/download.aspx?UniqueId=") && url.contains("&tempauth="),
        "{url}"
    );

    let whole = s.http.get(&url).send().await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    let whole = whole.bytes().await.unwrap();
    assert_eq!(whole.len(), 5_000_000);
    let mut hasher = quickxorhash::QuickXorHash::new();
    hasher.update(&whole);
    let expected = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        hasher.finalize(),
    );
    assert_eq!(listed, expected.as_str());
    let again = s
        .get(&format!("/drives/{drive}/root:/Videos/big.bin"))
        .await;
    assert_eq!(
        again.body["file"]["hashes"]["quickXorHash"],
        expected.as_str()
    );

    let part = s
        .http
        .get(&url)
        .header("Range", "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()["content-range"], "bytes 1000-1999/5000000");
    assert_eq!(part.bytes().await.unwrap(), whole.slice(1000..2000));
    let tail = s
        .http
        .get(&url)
        .header("Range", "bytes=4999990-")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.bytes().await.unwrap(), whole.slice(4_999_990..));
    let past = s
        .http
        .get(&url)
        .header("Range", "bytes=5000000-")
        .send()
        .await
        .unwrap();
    assert_eq!(past.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    let with_auth = s.http.get(&url).bearer_auth(&s.token).send().await.unwrap();
    assert_eq!(with_auth.status(), StatusCode::UNAUTHORIZED);
    let (path, query) = url.split_once('?').unwrap();
    let mut pairs: Vec<&str> = query.split('&').collect();
    pairs.reverse();
    let reordered = s
        .http
        .get(format!("{path}?{}", pairs.join("&")))
        .send()
        .await
        .unwrap();
    assert_eq!(reordered.status(), StatusCode::UNAUTHORIZED);

    let stats = s.sim.stats().content;
    assert_eq!(stats.file_downloads, 3);
    assert_eq!(stats.file_bytes, 5_000_000 + 1000 + 10);

    s.sim.advance_drive_clock(3601);
    let expired = s.http.get(&url).send().await.unwrap();
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    // `/content` is permanent: it hands out a fresh URL.
    let fresh = s
        .http
        .get(s.url(&format!("/drives/{drive}/root:/Videos/big.bin:/content")))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    let fresh = fresh.headers()["location"].to_str().unwrap().to_owned();
    let again = s
        .http
        .get(&fresh)
        .header("Range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(again.bytes().await.unwrap(), whole.slice(0..10));

    // The reset knob cuts the next download short.
    s.sim.reset_downloads_after(100_000, 1);
    let cut = s.http.get(&fresh).send().await.unwrap();
    assert_eq!(cut.status(), StatusCode::OK);
    assert!(cut.bytes().await.is_err(), "the body breaks off");
    // A new connection: the broken one may still sit in the pool.
    let fine = reqwest::Client::new()
        .get(&fresh)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(fine.len(), 5_000_000);
}

#[tokio::test]
async fn synthetic_files_are_generated_on_demand() {
    let tenant = m365_sim::synthetic_tenant(
        0,
        m365_sim::SyntheticSpec {
            users: 3,
            groups: 0,
            sites: 0,
        },
    );
    let user = tenant.users[1].id.clone();
    let options = SimOptions {
        content: m365_sim::ContentOptions {
            synthetic_files: 120,
            content_seed: 9,
            ..Default::default()
        },
        ..SimOptions::default()
    };
    let mut s = start_tenants(vec![tenant.clone(), drive_support::tenant()], options).await;
    s.token = s
        .sign_in(
            "synth0.onmicrosoft.com",
            "admin@synth0.onmicrosoft.com",
            m365_sim::SYNTHETIC_PASSWORD,
        )
        .await;
    let (items, _, _) = s
        .delta_round(&format!("/users/{user}/drive/root/delta?$top=999"))
        .await;
    let files: Vec<&Value> = items.iter().filter(|i| i.get("file").is_some()).collect();
    assert_eq!(files.len(), 120);
    let mut sizes: Vec<u64> = files.iter().map(|f| f["size"].as_u64().unwrap()).collect();
    sizes.sort_unstable();
    assert!(
        (100_000..=400_000).contains(&sizes[60]),
        "median {}",
        sizes[60]
    );
    assert!(sizes[119] > 10_000_000, "largest {}", sizes[119]);
    let small = files
        .iter()
        .find(|f| (100_000..1_000_000).contains(&f["size"].as_u64().unwrap()))
        .unwrap();
    // Every generated file's delta entry has its hash before any download
    // (a backup tells a moved file from a changed one by it).
    assert!(
        files
            .iter()
            .all(|f| f["file"]["hashes"]["quickXorHash"].is_string()),
        "a generated file without a hash in delta"
    );
    let url = small["@microsoft.graph.downloadUrl"].as_str().unwrap();
    let bytes = s.http.get(url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, small["size"].as_u64().unwrap());
    let mut hasher = quickxorhash::QuickXorHash::new();
    hasher.update(&bytes);
    let hash = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        hasher.finalize(),
    );
    assert_eq!(small["file"]["hashes"]["quickXorHash"], hash.as_str());
    let id = small["id"].as_str().unwrap();
    let item = s.get(&format!("/users/{user}/drive/items/{id}")).await;
    assert_eq!(item.body["file"]["hashes"]["quickXorHash"], hash.as_str());
}

#[tokio::test]
async fn knobs_over_http_and_not_modified_content() {
    let s = start(SimOptions::default()).await;
    let drive = s.nancy_drive().await;
    let plan = s
        .get(&format!("/drives/{drive}/root:/Documents/Q3/plan.txt"))
        .await;
    let content = s.url(&format!(
        "/drives/{drive}/root:/Documents/Q3/plan.txt:/content"
    ));
    for tag in ["eTag", "cTag"] {
        let r = s
            .http
            .get(&content)
            .bearer_auth(&s.token)
            .header("If-None-Match", plan.body[tag].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED, "{tag}");
    }
    let r = s
        .http
        .get(&content)
        .bearer_auth(&s.token)
        .header("If-None-Match", "\"{other},1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FOUND);
    let url = r.headers()["location"].to_str().unwrap().to_owned();

    let faults = s
        .http
        .put(format!("{}/_sim/drives/faults", s.base))
        .json(&json!({"resetDownloadsAfterBytes": 5, "times": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(faults.status(), StatusCode::NO_CONTENT);
    // Only responses longer than the cut are cut; this one (11 bytes) is.
    let cut = reqwest::Client::new().get(&url).send().await.unwrap();
    assert!(cut.bytes().await.is_err());
    let whole = reqwest::Client::new()
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(whole.as_ref(), b"hello world");

    let bad = s
        .http
        .put(format!("{}/_sim/drives/faults", s.base))
        .json(&json!({"times": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let clock = s
        .http
        .post(format!("{}/_sim/drives/clock", s.base))
        .json(&json!({"advanceSecs": 3600}))
        .send()
        .await
        .unwrap();
    assert_eq!(clock.status(), StatusCode::NO_CONTENT);
    let expired = reqwest::Client::new().get(&url).send().await.unwrap();
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
    let unknown = s
        .http
        .post(format!("{}/_sim/drives/b!nope/expire-delta", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}
