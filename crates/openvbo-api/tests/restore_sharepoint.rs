//! SharePoint document-library restore over HTTPS against the simulator, from a real backup
//! (a job through the v6 API) of a site with two libraries and nested folders: browsing a
//! `Vesp` session (sites, libraries, folders, documents), downloads equal to the backed-up
//! bytes (raw, a folder zip, a library zip), restores to the original library with `Keep` and
//! `Overwrite`, a deleted folder restored whole (its large file through an upload session), a
//! whole library, `restoreTo` another library, and the refusals.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
mod drive_common;
mod jobs_common;

use common::*;
use drive_common::*;
use jobs_common::{get_ok, organization_and_repository, run};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const SITE: &str = "contoso.sharepoint.com,21000000-0000-4000-8000-0000000000a1,21000000-0000-4000-8000-0000000000b1";
const SITE_URL: &str = "https://contoso.sharepoint.com/sites/projects";
const BIG: u64 = 5_000_000;
const PLAN: &[u8] = b"the original plan";

/// contoso with an administrator and the Projects site: "Documents" (a top-level file, a
/// folder with a nested subtree holding a large file, an empty folder) and "Archive".
fn tenant_with_site() -> m365_sim::Tenant {
    let mut t = tenant(
        1,
        "contoso",
        &[("admin", &["Global Administrator"], json!({}))],
    );
    t.sites = serde_json::from_value(json!([{
        "id": SITE, "name": "projects", "displayName": "Projects", "webUrl": SITE_URL,
        "drives": [
            {"name": "Documents", "items": [
                {"path": "readme.txt", "content": "read me first"},
                {"path": "Specs/plan.txt", "content": "the original plan"},
                {"path": "Specs/Q3/report.txt", "content": "Q3 was good"},
                {"path": "Specs/Q3/Deep/big.bin", "size": BIG, "seed": 11},
                {"path": "Empty/"}
            ]},
            {"name": "Archive", "items": [
                {"path": "2019/old.txt", "content": "old times"},
                {"path": "index.txt", "content": "the index"}
            ]}
        ]
    }]))
    .unwrap();
    t
}

async fn call(
    server: &Server,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    server.call(method, path, token, body).await
}

async fn post_ok(server: &Server, token: &str, path: &str, body: Value) -> Value {
    let (status, answer) = call(server, token, Method::POST, path, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "POST {path}: {answer}");
    answer
}

/// The organization, a repository and a finished backup of the site; the organization's id.
async fn backed_up(server: &Server, dir: &tempfile::TempDir, token: &str) -> String {
    let (org, repo) = organization_and_repository(server, token, dir.path()).await;
    let (status, job) = call(
        server,
        token,
        Method::POST,
        &format!("/v6/Organizations/{org}/Jobs"),
        Some(json!({
            "name": "Sites", "backupType": "SelectedItems", "repositoryId": repo,
            "selectedItems": [{"type": "Site", "site": {"id": SITE}}],
            "schedulePolicy": {"type": "ManualOnly"}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    let session = run(server, token, job["id"].as_str().unwrap(), 1).await;
    assert_eq!(session["status"], "Success", "{session}");
    org
}

/// (statistics) → (total, restored, unchanged, failed).
fn counts(stats: &Value) -> (u64, u64, u64, u64) {
    let n = |k: &str| stats[k].as_u64().unwrap_or_else(|| panic!("{k}: {stats}"));
    (
        n("totalItemsCount"),
        n("restoredItemsCount"),
        n("skippedItemsByNoChangesCount"),
        n("failedItemsCount"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_libraries_browse_download_and_restore() {
    let repo_dir = tempfile::tempdir().unwrap();
    let (_dir, sim, server) = start_with(vec![tenant_with_site()], |_| {}).await;
    let token = server.token().await;
    let org_id = backed_up(&server, &repo_dir, &token).await;

    // The repository's site listing names the site; by id too; no OneDrive; another id is a 404.
    let (_, repos) = call(&server, &token, Method::GET, "/v6/BackupRepositories", None).await;
    let repo = repos[0]["id"].as_str().unwrap().to_owned();
    let data = format!("/v6/BackupRepositories/{repo}");
    let (status, sites) = call(
        &server,
        &token,
        Method::GET,
        &format!("{data}/SiteData"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sites}");
    assert_eq!(sites["totalCount"], 1, "{sites}");
    let site = &sites["results"][0];
    assert_eq!(site["itemType"], "Site");
    assert_eq!(site["organizationId"], org_id.as_str());
    let site_id = site["id"].as_str().unwrap();
    let (status, one) = call(
        &server,
        &token,
        Method::GET,
        &format!("{data}/SiteData/{}", site_id.to_uppercase()),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(&one, site);
    let (_, drives) = call(
        &server,
        &token,
        Method::GET,
        &format!("{data}/OneDriveData"),
        None,
    )
    .await;
    assert_eq!(drives["totalCount"], 0, "{drives}");
    let (status, missing) = call(
        &server,
        &token,
        Method::GET,
        &format!("{data}/OneDriveData/{site_id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("holds no OneDrive"),
        "{missing}"
    );

    let graph = Graph::new(&sim).await;
    let drives = graph.site_drives(SITE).await;
    let drive = |name: &str| {
        drives
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no library {name}: {drives:?}"))
            .1
            .clone()
    };
    let (docs_drive, archive_drive) = (drive("Documents"), drive("Archive"));
    let original_big = graph
        .read(&docs_drive, "Specs/Q3/Deep/big.bin")
        .await
        .unwrap();
    assert_eq!(original_big.len() as u64, BIG);

    // After the backup: a file changed, a folder and a file deleted.
    graph
        .write(&docs_drive, "Specs/plan.txt", b"changed after the backup")
        .await;
    graph.delete(&docs_drive, "Specs/Q3").await;
    graph.delete(&archive_drive, "index.txt").await;

    let session = post_ok(
        &server,
        &token,
        &format!("/v6/Organizations/{org_id}/explore"),
        json!({"type": "Vesp"}),
    )
    .await;
    assert_eq!(session["type"], "Vesp", "{session}");
    let sid = session["id"].as_str().unwrap().to_owned();

    // Sites: the one backed up, by id; it has no subsites of its own.
    let base = format!("/v6/RestoreSessions/{sid}/Organization/Sites");
    let sites = get_ok(&server, &token, &base).await;
    assert_eq!(sites["totalCount"], 1, "{sites}");
    assert_eq!(names(&sites), ["Projects"]);
    assert_eq!(sites["results"][0]["id"], SITE);
    assert_eq!(sites["results"][0]["url"], SITE_URL);
    let site = format!("{base}/{SITE}");
    let one = get_ok(&server, &token, &site).await;
    assert_eq!(one["name"], "Projects");
    assert!(one["_links"]["libraries"]["href"].is_string(), "{one}");
    let subsites = get_ok(&server, &token, &format!("{base}?parentId={SITE}")).await;
    assert_eq!(subsites["totalCount"], 0, "{subsites}");

    // Libraries: both, by name, with their drive ids; by id.
    let libraries = get_ok(&server, &token, &format!("{site}/Libraries")).await;
    assert_eq!(libraries["totalCount"], 2, "{libraries}");
    assert_eq!(names(&libraries), ["Archive", "Documents"]);
    assert_eq!(id_named(&libraries, "Documents"), docs_drive);
    assert_eq!(id_named(&libraries, "Archive"), archive_drive);
    let archive = get_ok(
        &server,
        &token,
        &format!("{site}/libraries/{archive_drive}"),
    )
    .await;
    assert_eq!(archive["name"], "Archive");
    assert!(
        archive["url"].as_str().unwrap().starts_with(SITE_URL),
        "{archive}"
    );

    // Folders: every library's top level (null and root alike), one library's, the whole
    // tree, a folder's children, by id.
    let top = get_ok(&server, &token, &format!("{site}/Folders?parentId=null")).await;
    assert_eq!(names(&top), ["2019", "Empty", "Specs"], "{top}");
    let root = get_ok(&server, &token, &format!("{site}/folders?parentId=root")).await;
    assert_eq!(names(&root), names(&top));
    for folder in top["results"].as_array().unwrap() {
        assert!(folder["_links"].get("parent").is_none(), "{folder}");
        assert_eq!(folder["type"], "LibraryFolder", "{folder}");
        for field in [
            "createdBy",
            "creationTime",
            "modifiedBy",
            "modificationTime",
        ] {
            assert!(folder.get(field).is_some(), "{field} missing: {folder}");
        }
    }
    let in_docs = get_ok(
        &server,
        &token,
        &format!("{site}/Folders?parentId={docs_drive}"),
    )
    .await;
    assert_eq!(names(&in_docs), ["Empty", "Specs"], "{in_docs}");
    let tree = get_ok(&server, &token, &format!("{site}/Folders")).await;
    assert_eq!(
        names(&tree),
        ["2019", "Empty", "Specs", "Q3", "Deep"],
        "{tree}"
    );
    let specs = id_named(&tree, "Specs").to_owned();
    let q3 = id_named(&tree, "Q3").to_owned();
    let children = get_ok(&server, &token, &format!("{site}/Folders?parentID={specs}")).await;
    assert_eq!(names(&children), ["Q3"]);
    let q3_view = get_ok(&server, &token, &format!("{site}/Folders/{q3}")).await;
    assert!(
        q3_view["_links"]["parent"]["href"]
            .as_str()
            .unwrap()
            .ends_with(&specs),
        "{q3_view}"
    );
    assert!(
        q3_view["_links"]["library"]["href"]
            .as_str()
            .unwrap()
            .ends_with(&docs_drive),
        "{q3_view}"
    );

    // Documents: a library's top level, a folder's, every library's, by id.
    let docs_top = get_ok(
        &server,
        &token,
        &format!("{site}/Documents?parentId={docs_drive}"),
    )
    .await;
    assert_eq!(names(&docs_top), ["readme.txt"], "{docs_top}");
    let readme = id_named(&docs_top, "readme.txt").to_owned();
    let mut tops =
        names(&get_ok(&server, &token, &format!("{site}/Documents?parentId=null")).await)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
    tops.sort();
    assert_eq!(tops, ["index.txt", "readme.txt"]);
    let in_specs = get_ok(
        &server,
        &token,
        &format!("{site}/Documents?parentId={specs}"),
    )
    .await;
    assert_eq!(names(&in_specs), ["plan.txt"]);
    assert_eq!(in_specs["results"][0]["sizeBytes"], PLAN.len());
    let plan = in_specs["results"][0]["id"].as_str().unwrap().to_owned();
    let every = get_ok(&server, &token, &format!("{site}/Documents?limit=100")).await;
    let mut all = names(&every);
    all.sort();
    assert_eq!(
        all,
        [
            "big.bin",
            "index.txt",
            "old.txt",
            "plan.txt",
            "readme.txt",
            "report.txt"
        ]
    );
    let big = every["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "big.bin")
        .unwrap();
    assert_eq!(big["sizeBytes"], BIG);
    let by_id = get_ok(&server, &token, &format!("{site}/Documents/{plan}")).await;
    assert_eq!(by_id["name"], "plan.txt");

    // Downloads equal the backed-up bytes: one document raw, a folder, a library.
    let (status, disposition, bytes) = download(
        &server,
        &token,
        &format!("{site}/Documents/{plan}/save"),
        Some(json!({"asZip": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sha256(&bytes), sha256(PLAN));
    assert_eq!(bytes, PLAN);
    assert!(disposition.contains("plan.txt"), "{disposition}");
    let (status, _, zip) = download(
        &server,
        &token,
        &format!("{site}/Folders/{specs}/save"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let entries = unzip(&zip);
    let listed: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        listed,
        [
            "Specs/Q3/Deep/big.bin",
            "Specs/Q3/report.txt",
            "Specs/plan.txt"
        ]
    );
    assert_eq!(sha256(&entries[0].1), sha256(&original_big));
    assert_eq!(entries[1].1, b"Q3 was good");
    assert_eq!(entries[2].1, PLAN);
    let (status, disposition, zip) = download(
        &server,
        &token,
        &format!("{site}/Libraries/{archive_drive}/save"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(disposition.contains("Archive.zip"), "{disposition}");
    assert_eq!(
        unzip(&zip),
        [
            ("2019/old.txt".to_owned(), b"old times".to_vec()),
            ("index.txt".to_owned(), b"the index".to_vec())
        ]
    );
    let (status, _, zip) = download(
        &server,
        &token,
        &format!("{site}/Documents/save"),
        Some(json!({"documents": [{"id": plan}, {"id": readme}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        unzip(&zip),
        [
            ("plan.txt".to_owned(), PLAN.to_vec()),
            ("readme.txt".to_owned(), b"read me first".to_vec())
        ]
    );

    // Keep: the changed file stays, the backed-up one comes back beside it.
    let stats = post_ok(
        &server,
        &token,
        &format!("{site}/Documents/{plan}/restore"),
        json!({"documentAction": "Keep"}),
    )
    .await;
    assert_eq!(counts(&stats), (1, 1, 0, 0), "{stats}");
    assert_eq!(
        graph.read(&docs_drive, "Specs/plan.txt").await.unwrap(),
        b"changed after the backup"
    );
    assert_eq!(
        graph.read(&docs_drive, "Specs/plan 1.txt").await.unwrap(),
        PLAN
    );
    // SharePoint's own option: documentLastVersionAction Overwrite puts the original bytes
    // in place.
    let stats = post_ok(
        &server,
        &token,
        &format!("{site}/Documents/restore"),
        json!({"documentLastVersionAction": "Overwrite", "documents": [{"id": plan}]}),
    )
    .await;
    assert_eq!(counts(&stats), (1, 1, 0, 0), "{stats}");
    let restored = graph.read(&docs_drive, "Specs/plan.txt").await.unwrap();
    assert_eq!(sha256(&restored), sha256(PLAN));

    // The deleted folder comes back whole, its large file through an upload session.
    let stats = post_ok(
        &server,
        &token,
        &format!("{site}/Folders/{q3}/restore"),
        json!({}),
    )
    .await;
    assert_eq!(counts(&stats), (2, 2, 0, 0), "{stats}");
    assert_eq!(
        graph.children(&docs_drive, "Specs/Q3").await,
        ["Deep", "report.txt"]
    );
    let big_back = graph
        .read(&docs_drive, "Specs/Q3/Deep/big.bin")
        .await
        .unwrap();
    assert_eq!(sha256(&big_back), sha256(&original_big));
    assert_eq!(
        graph
            .read(&docs_drive, "Specs/Q3/report.txt")
            .await
            .unwrap(),
        b"Q3 was good"
    );

    // A whole library: the deleted file is back; the unchanged one is not copied.
    let stats = post_ok(
        &server,
        &token,
        &format!("{site}/Libraries/{archive_drive}/restore"),
        json!({"documentAction": "Overwrite"}),
    )
    .await;
    let (total, restored, unchanged, failed) = counts(&stats);
    assert_eq!((total, restored + unchanged, failed), (2, 2, 0), "{stats}");
    assert_eq!(stats["restoredListsCount"], 1, "{stats}");
    assert_eq!(
        graph.children(&archive_drive, "").await,
        ["2019", "index.txt"]
    );
    assert_eq!(graph.children(&archive_drive, "2019").await, ["old.txt"]);
    assert_eq!(
        graph.read(&archive_drive, "index.txt").await.unwrap(),
        b"the index"
    );

    // restoreTo another library of the site, into a folder made for it.
    let stats = post_ok(
        &server,
        &token,
        &format!("{site}/Folders/{specs}/restoreTo"),
        json!({"siteURL": SITE_URL, "list": "Archive/Restored"}),
    )
    .await;
    assert_eq!(counts(&stats), (3, 3, 0, 0), "{stats}");
    assert_eq!(
        graph.children(&archive_drive, "Restored/Specs").await,
        ["Q3", "plan.txt"]
    );
    assert_eq!(
        graph
            .read(&archive_drive, "Restored/Specs/plan.txt")
            .await
            .unwrap(),
        PLAN
    );
    let copied_big = graph
        .read(&archive_drive, "Restored/Specs/Q3/Deep/big.bin")
        .await
        .unwrap();
    assert_eq!(sha256(&copied_big), sha256(&original_big));

    // Each action is an event of the session.
    let events = get_ok(
        &server,
        &token,
        &format!("/v6/RestoreSessions/{sid}/Events?limit=100"),
    )
    .await;
    let titles: Vec<&str> = events["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    for expected in [
        "Saved plan.txt",
        "Saved Specs",
        "Saved Archive",
        "Restored plan.txt",
        "Restored folder Q3",
        "Restored library Archive",
        "Restored folder Specs",
    ] {
        assert!(titles.contains(&expected), "{expected}: {titles:?}");
    }

    // Refusals, each with a message.
    for (path, fragments) in [
        (
            format!("{site}/Documents/nope"),
            &["no document", "nope"][..],
        ),
        (format!("{site}/Folders/nope"), &["no folder", "nope"][..]),
        (
            format!("{site}/Libraries/nope"),
            &["no document library", "nope"][..],
        ),
        (format!("{base}/nosite"), &["site", "nosite"][..]),
        (format!("{site}/Folders?parentId=nope"), &["no folder"][..]),
    ] {
        let (status, body) = call(&server, &token, Method::GET, &path, None).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, fragments);
    }
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("{site}/Documents/restore"),
        Some(json!({"documents": [{"id": "nope"}]})),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, &["nope"]);
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("{site}/Documents/{plan}/restore"),
        Some(json!({"documentLastVersionAction": "Shred"})),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        &["documentLastVersionAction"],
    );
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("{site}/Documents/{plan}/restoreTo"),
        Some(json!({"list": "Nowhere"})),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, &["Nowhere"]);
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("{site}/Documents/{plan}/restoreTo"),
        Some(json!({})),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, &["list"]);
    // What is not implemented names the operation.
    let (status, body) = call(&server, &token, Method::GET, &format!("{site}/Lists"), None).await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_IMPLEMENTED,
        &["SharePointList_Get"],
    );
    // A Vesp session shows no OneDrives, and a stopped session answers an error.
    let (status, body) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/RestoreSessions/{sid}/Organization/OneDrives"),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, &["Vesp", "Veod"]);
    let (status, _) = call(
        &server,
        &token,
        Method::POST,
        &format!("/v6/RestoreSessions/{sid}/stop"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(
        &server,
        &token,
        Method::GET,
        &format!("{site}/Libraries"),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, &["stopped"]);
}

/// The documents of the Documents library as a session at `at` (None: the latest) shows them.
async fn documents_at(server: &Server, token: &str, org: &str, at: Option<&str>) -> Vec<String> {
    let mut body = json!({"type": "Vesp"});
    if let Some(at) = at {
        body["dateTime"] = at.into();
    }
    let session = post_ok(
        server,
        token,
        &format!("/v6/Organizations/{org}/explore"),
        body,
    )
    .await;
    let site = format!(
        "/v6/RestoreSessions/{}/Organization/Sites/{SITE}",
        session["id"].as_str().unwrap()
    );
    let libraries = get_ok(server, token, &format!("{site}/Libraries")).await;
    let docs = id_named(&libraries, "Documents").to_owned();
    let every = get_ok(server, token, &format!("{site}/Documents?limit=100")).await;
    let mut shown: Vec<String> = every["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["_links"]["library"]["href"]
                .as_str()
                .unwrap()
                .ends_with(&docs)
        })
        .map(|d| format!("{}:{}", d["name"].as_str().unwrap(), d["sizeBytes"]))
        .collect();
    shown.sort();
    shown
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_point_in_time_shows_that_backups_libraries() {
    let repo_dir = tempfile::tempdir().unwrap();
    let (_dir, sim, server) = start_with(vec![tenant_with_site()], |_| {}).await;
    let token = server.token().await;
    let (org, repo) = organization_and_repository(&server, &token, repo_dir.path()).await;
    let (status, job) = call(
        &server,
        &token,
        Method::POST,
        &format!("/v6/Organizations/{org}/Jobs"),
        Some(json!({
            "name": "Sites", "backupType": "SelectedItems", "repositoryId": repo,
            "selectedItems": [{"type": "Site", "site": {"id": SITE}}],
            "schedulePolicy": {"type": "ManualOnly"}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    let job = job["id"].as_str().unwrap().to_owned();
    assert_eq!(run(&server, &token, &job, 1).await["status"], "Success");
    // Between the two backups: a file added, one deleted, one changed.
    let graph = Graph::new(&sim).await;
    let drives = graph.site_drives(SITE).await;
    let docs = &drives.iter().find(|(n, _)| n == "Documents").unwrap().1;
    graph.write(docs, "Specs/new.txt", b"made later").await;
    graph.delete(docs, "readme.txt").await;
    graph.write(docs, "Specs/plan.txt", b"plan v2").await;
    assert_eq!(run(&server, &token, &job, 2).await["status"], "Success");

    let points = get_ok(&server, &token, "/v6/RestorePoints").await;
    let mut times: Vec<String> = points
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["isSharePoint"] == true)
        .map(|p| p["backupTime"].as_str().unwrap().to_owned())
        .collect();
    times.sort();
    assert_eq!(times.len(), 2, "{points}");
    let first = [
        "big.bin:5000000",
        "plan.txt:17",
        "readme.txt:13",
        "report.txt:11",
    ];
    let second = [
        "big.bin:5000000",
        "new.txt:10",
        "plan.txt:7",
        "report.txt:11",
    ];
    assert_eq!(
        documents_at(&server, &token, &org, Some(&times[0])).await,
        first
    );
    assert_eq!(
        documents_at(&server, &token, &org, Some(&times[1])).await,
        second
    );
    assert_eq!(documents_at(&server, &token, &org, None).await, second);
    // Before the first backup: a session that shows no site.
    let session = post_ok(
        &server,
        &token,
        &format!("/v6/Organizations/{org}/explore"),
        json!({"type": "Vesp", "dateTime": "2001-01-01T00:00:00Z"}),
    )
    .await;
    let sites = get_ok(
        &server,
        &token,
        &format!(
            "/v6/RestoreSessions/{}/Organization/Sites",
            session["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(sites["totalCount"], 0, "{sites}");
}

const TEAM_SITE: &str = "contoso.sharepoint.com,21000000-0000-4000-8000-0000000000a2,21000000-0000-4000-8000-0000000000b2";
const TEAM_URL: &str = "https://contoso.sharepoint.com/sites/team";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_to_another_site_of_the_session() {
    let repo_dir = tempfile::tempdir().unwrap();
    let mut t = tenant_with_site();
    t.sites.push(
        serde_json::from_value(json!({
            "id": TEAM_SITE, "name": "team", "displayName": "Team", "webUrl": TEAM_URL,
            "drives": [{"name": "Shared Documents", "items": [{"path": "team.txt", "content": "ours"}]}]
        }))
        .unwrap(),
    );
    let (_dir, sim, server) = start_with(vec![t], |_| {}).await;
    let token = server.token().await;
    let (org, repo) = organization_and_repository(&server, &token, repo_dir.path()).await;
    let (status, job) = call(
        &server,
        &token,
        Method::POST,
        &format!("/v6/Organizations/{org}/Jobs"),
        Some(json!({
            "name": "Sites", "backupType": "SelectedItems", "repositoryId": repo,
            "selectedItems": [{"type": "Site", "site": {"id": SITE}}, {"type": "Site", "site": {"id": TEAM_SITE}}],
            "schedulePolicy": {"type": "ManualOnly"}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    let job = job["id"].as_str().unwrap().to_owned();
    assert_eq!(run(&server, &token, &job, 1).await["status"], "Success");
    let session = post_ok(
        &server,
        &token,
        &format!("/v6/Organizations/{org}/explore"),
        json!({"type": "Vesp"}),
    )
    .await;
    let base = format!(
        "/v6/RestoreSessions/{}/Organization/Sites",
        session["id"].as_str().unwrap()
    );
    let sites = get_ok(&server, &token, &base).await;
    assert_eq!(names(&sites), ["Projects", "Team"], "{sites}");
    let site = format!("{base}/{SITE}");
    let libraries = get_ok(&server, &token, &format!("{site}/Libraries")).await;
    let archive = id_named(&libraries, "Archive").to_owned();
    let docs = get_ok(&server, &token, &format!("{site}/Documents?parentId=null")).await;
    let readme = id_named(&docs, "readme.txt").to_owned();

    // One document zipped on request.
    let (status, disposition, zip) = download(
        &server,
        &token,
        &format!("{site}/Documents/{readme}/save"),
        Some(json!({"asZip": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(disposition.contains("readme.txt.zip"), "{disposition}");
    assert_eq!(
        unzip(&zip),
        [("readme.txt".to_owned(), b"read me first".to_vec())]
    );

    // A whole library into another site's library (named by URL), under a folder.
    let stats = post_ok(
        &server,
        &token,
        &format!("{site}/Libraries/{archive}/restoreTo"),
        json!({"siteURL": format!("{TEAM_URL}/"), "list": "shared documents/From Projects"}),
    )
    .await;
    assert_eq!(counts(&stats), (2, 2, 0, 0), "{stats}");
    assert_eq!(stats["restoredListsCount"], 1, "{stats}");
    let graph = Graph::new(&sim).await;
    let team = graph.site_drives(TEAM_SITE).await[0].1.clone();
    assert_eq!(
        graph.children(&team, "").await,
        ["From Projects", "team.txt"]
    );
    assert_eq!(
        graph.children(&team, "From Projects").await,
        ["2019", "index.txt"]
    );
    assert_eq!(
        graph
            .read(&team, "From Projects/2019/old.txt")
            .await
            .unwrap(),
        b"old times"
    );
    // Several documents into the other site by its id; a site the session does not show is
    // not a target yet.
    let stats = post_ok(
        &server,
        &token,
        &format!("{site}/Documents/restoreTo"),
        json!({"siteURL": TEAM_SITE, "list": "Shared Documents", "documents": [{"id": readme}]}),
    )
    .await;
    assert_eq!(counts(&stats), (1, 1, 0, 0), "{stats}");
    assert_eq!(
        graph.read(&team, "readme.txt").await.unwrap(),
        b"read me first"
    );
    let (status, body) = call(
        &server,
        &token,
        Method::POST,
        &format!("{site}/Documents/{readme}/restoreTo"),
        Some(json!({"siteURL": "https://contoso.sharepoint.com/sites/elsewhere", "list": "Documents"})),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_IMPLEMENTED,
        &["sites/elsewhere", "not implemented"],
    );
}
