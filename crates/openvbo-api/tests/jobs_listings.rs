//! What a backup leaves behind, over HTTPS: restore points and their
//! mailboxes, the repository data listings, the space used, the
//! organization's backup flags and the licensed users. Before the first
//! backup every one of them is empty.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod common;
mod jobs_common;

use common::*;
use jobs_common::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

fn results(page: &Value) -> &Vec<Value> {
    page["results"].as_array().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_shows_in_the_listings_the_organization_and_the_licence() {
    let (_dir, sim, server) = start_with(vec![tenant_with_mail()], |_| {}).await;
    let token = server.token().await;
    let repo_dir = tempfile::tempdir().unwrap();
    let (org, repo) = organization_and_repository(&server, &token, repo_dir.path()).await;

    // Nothing backed up yet.
    let before = get_ok(&server, &token, &format!("/v6/Organizations/{org}")).await;
    assert_eq!(before["isBackedup"], false, "{before}");
    assert!(before.get("firstBackuptime").is_none() && before.get("lastBackuptime").is_none());
    for listing in [
        "UserData",
        "MailboxData",
        "OneDriveData",
        "SiteData",
        "OrganizationData",
        "backedupOrganizations",
    ] {
        let page = get_ok(
            &server,
            &token,
            &format!("/v6/BackupRepositories/{repo}/{listing}"),
        )
        .await;
        assert_eq!(page["totalCount"], 0, "{listing}: {page}");
        assert_eq!(page["offset"], 0);
        assert_eq!(page["limit"], 30);
    }
    let used = get_ok(
        &server,
        &token,
        &format!("/v6/Organizations/{org}/usedRepositories"),
    )
    .await;
    assert_eq!(used["totalCount"], 0, "{used}");
    let licence = get_ok(
        &server,
        &token,
        &format!("/v6/Organizations/{org}/LicensingInformation"),
    )
    .await;
    assert_eq!(
        licence,
        serde_json::json!({"licensedUsers": 0, "newUsers": 0})
    );

    let job = mailbox_job(&server, &token, &org, &repo, &[NANCY, ANDREW]).await;
    let session = run(&server, &token, &job, 1).await;
    assert_eq!(session["status"], "Success", "{session}");
    assert_eq!(session["progress"], 2);
    assert_eq!(session["statistics"]["processedObjects"], 2);
    // 4 of Nancy's messages and 2 of Andrew's, each downloaded once.
    assert_eq!(sim.sim.stats().content.message_downloads, 6);
    let titles = log_titles(&server, &token, session["id"].as_str().unwrap()).await;
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("[Success] Processing mailbox: Nancy Davolio (4 items")),
        "{titles:?}"
    );
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("[Success] Processing mailbox: Andrew Fuller (2 items")),
        "{titles:?}"
    );
    assert!(
        titles
            .last()
            .unwrap()
            .starts_with("[Success] Job finished: 2 of 2 objects processed, 0 failed"),
        "{titles:?}"
    );

    // The restore point and its mailboxes.
    let points = get_ok(
        &server,
        &token,
        &format!("/v6/RestorePoints?repositoryId={repo}"),
    )
    .await;
    let points = points.as_array().unwrap();
    assert_eq!(points.len(), 1, "{points:?}");
    let point = &points[0];
    assert_eq!(point["isExchange"], true);
    assert_eq!(point["isOneDrive"], false);
    let by_id = get_ok(
        &server,
        &token,
        &format!("/v6/RestorePoints/{}", point["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(&by_id, point);
    let mailboxes = get_ok(
        &server,
        &token,
        &format!(
            "/v6/RestorePoints/{}/mailboxes",
            point["id"].as_str().unwrap()
        ),
    )
    .await;
    let mut emails: Vec<&str> = mailboxes
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    emails.sort();
    assert_eq!(
        emails,
        [
            "andrew@contoso.onmicrosoft.com",
            "nancy@contoso.onmicrosoft.com"
        ]
    );
    let onedrives = get_ok(
        &server,
        &token,
        &format!(
            "/v6/RestorePoints/{}/onedrives",
            point["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(onedrives, serde_json::json!([]));
    // Teams are not backed up yet: an empty list, as the schema shapes it
    // (not a 501); an unknown point is a 404.
    let teams = get_ok(
        &server,
        &token,
        &format!("/v6/RestorePoints/{}/teams", point["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(teams, serde_json::json!([]));
    let (status, body) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/RestorePoints/{}/teams", uuid::Uuid::new_v4()),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, &["no restore point"]);
    // Created after the point: none.
    let later = get_ok(
        &server,
        &token,
        &format!(
            "/v6/RestorePoints?backupTime={}",
            point["backupTime"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(later, serde_json::json!([]));

    // UserData: one entry per user, mailbox backed up, at the point's time.
    let users = get_ok(
        &server,
        &token,
        &format!("/v6/BackupRepositories/{repo}/UserData"),
    )
    .await;
    assert_eq!(users["totalCount"], 2, "{users}");
    let first = &results(&users)[0];
    assert_eq!(
        first["displayName"], "Andrew Fuller",
        "sorted by name: {users}"
    );
    assert_eq!(first["email"], "andrew@contoso.onmicrosoft.com");
    assert_eq!(first["isMailboxBackedUp"], true);
    assert_eq!(first["isOneDriveBackedUp"], false);
    assert_eq!(first["mailboxBackedUpTime"], point["backupTime"]);
    assert!(
        first.get("oneDriveBackedUpTime").is_none(),
        "absent, not null: {first}"
    );
    assert_eq!(first["organizationId"], org.as_str());
    let one = get_ok(
        &server,
        &token,
        &format!("/v6/BackupRepositories/{repo}/UserData/{ANDREW}"),
    )
    .await;
    assert_eq!(&one, first);
    // Paging: the second user alone.
    let second = get_ok(
        &server,
        &token,
        &format!("/v6/BackupRepositories/{repo}/userdata?offset=1&limit=1"),
    )
    .await;
    assert_eq!(results(&second).len(), 1);
    assert_eq!(results(&second)[0]["displayName"], "Nancy Davolio");
    assert!(
        second["_links"].get("next").is_none() && second["_links"]["prev"].is_object(),
        "{second}"
    );

    // MailboxData with its filters.
    let mail = get_ok(
        &server,
        &token,
        &format!("/v6/BackupRepositories/{repo}/MailboxData?filter=nan*"),
    )
    .await;
    assert_eq!(mail["totalCount"], 1, "{mail}");
    assert_eq!(results(&mail)[0]["email"], "nancy@contoso.onmicrosoft.com");
    assert_eq!(results(&mail)[0]["isArchive"], false);
    let none = get_ok(
        &server,
        &token,
        &format!("/v6/BackupRepositories/{repo}/MailboxData?pointInTime=2000-01-01T00:00:00Z"),
    )
    .await;
    assert_eq!(
        none["totalCount"], 0,
        "nothing was backed up by 2000: {none}"
    );
    let other = get_ok(
        &server,
        &token,
        &format!(
            "/v6/BackupRepositories/{repo}/MailboxData?organizationId={}",
            uuid::Uuid::new_v4()
        ),
    )
    .await;
    assert_eq!(other["totalCount"], 0);
    let nancy = get_ok(
        &server,
        &token,
        &format!("/v6/BackupRepositories/{repo}/MailboxData/{NANCY}"),
    )
    .await;
    assert_eq!(nancy["displayName"], "Nancy Davolio");
    let (status, body) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/BackupRepositories/{repo}/MailboxData/nobody"),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, &["holds no mailbox"]);
    let (status, body) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/BackupRepositories/{}/UserData", uuid::Uuid::new_v4()),
        None,
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::NOT_FOUND,
        &["no backup repository"],
    );

    // The organization in the repository, with the bytes it uses: the
    // sizes of the items its newest points hold.
    let orgs = get_ok(
        &server,
        &token,
        &format!("/v6/BackupRepositories/{repo}/OrganizationData"),
    )
    .await;
    assert_eq!(results(&orgs).len(), 1);
    assert_eq!(results(&orgs)[0]["organizationId"], org.as_str());
    assert_eq!(results(&orgs)[0]["displayName"], "contoso.onmicrosoft.com");
    get_ok(
        &server,
        &token,
        &format!("/v6/BackupRepositories/{repo}/OrganizationData/{org}"),
    )
    .await;
    let usage = get_ok(
        &server,
        &token,
        &format!("/v6/BackupRepositories/{repo}/backedupOrganizations"),
    )
    .await;
    let used_bytes = results(&usage)[0]["usedSpaceBytes"].as_i64().unwrap();
    assert!(used_bytes > 400, "{usage}");
    assert_eq!(results(&usage)[0]["id"], org.as_str());
    assert_eq!(results(&usage)[0]["localCacheUsedSpaceBytes"], used_bytes);
    let used = get_ok(
        &server,
        &token,
        &format!("/v6/Organizations/{org}/usedRepositories"),
    )
    .await;
    assert_eq!(used["totalCount"], 1, "{used}");
    assert_eq!(results(&used)[0]["usedSpaceBytes"], used_bytes);
    assert_eq!(results(&used)[0]["isAvailable"], true);
    assert_eq!(
        results(&used)[0]["_links"]["backupRepository"]["href"],
        format!("/v6/backuprepositories/{repo}").as_str()
    );

    // The organization's flags, in the list and alone.
    let after = get_ok(&server, &token, &format!("/v6/Organizations/{org}")).await;
    assert_eq!(after["isBackedup"], true, "{after}");
    assert_eq!(after["firstBackuptime"], point["backupTime"]);
    assert_eq!(after["lastBackuptime"], point["backupTime"]);
    let list = get_ok(&server, &token, "/v6/Organizations").await;
    assert_eq!(
        list[0]["isBackedup"], true,
        "the cached list follows backups: {list}"
    );

    // Licensing: both users are protected now, both new this month.
    let licence = get_ok(
        &server,
        &token,
        &format!("/v6/Organizations/{org}/LicensingInformation"),
    )
    .await;
    assert_eq!(
        licence,
        serde_json::json!({"licensedUsers": 2, "newUsers": 2})
    );
    let licensed = get_ok(
        &server,
        &token,
        &format!("/v6/LicensedUsers?organizationId={org}"),
    )
    .await;
    assert_eq!(licensed["totalCount"], 2, "{licensed}");
    let names: Vec<&str> = results(&licensed)
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "andrew@contoso.onmicrosoft.com",
            "nancy@contoso.onmicrosoft.com"
        ]
    );
    assert_eq!(results(&licensed)[0]["isBackedUp"], true);
    assert_eq!(results(&licensed)[0]["lastBackupDate"], point["backupTime"]);
    let by_name = get_ok(&server, &token, "/v6/LicensedUsers?name=nancy*").await;
    assert_eq!(by_name["totalCount"], 1);

    // Revoking Andrew's licence (204) frees it: he leaves the licensed
    // users and the count, his backups stay. Revoking it again is a 404.
    let andrew = results(&licensed)[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(andrew, ANDREW);
    let (status, body) = call(
        &server,
        &token,
        Method::DELETE,
        &format!("/v6/LicensedUsers/{andrew}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let licensed = get_ok(&server, &token, "/v6/LicensedUsers").await;
    assert_eq!(licensed["totalCount"], 1, "{licensed}");
    assert_eq!(results(&licensed)[0]["id"], NANCY);
    let licence = get_ok(
        &server,
        &token,
        &format!("/v6/Organizations/{org}/LicensingInformation"),
    )
    .await;
    assert_eq!(licence["licensedUsers"], 1, "{licence}");
    let (status, body) = call(
        &server,
        &token,
        Method::DELETE,
        &format!("/v6/LicensedUsers/{andrew}"),
        None,
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, &["no licensed user"]);
    let andrew_data = get_ok(
        &server,
        &token,
        &format!("/v6/BackupRepositories/{repo}/UserData"),
    )
    .await;
    assert_eq!(
        andrew_data["totalCount"], 2,
        "the backups stay: {andrew_data}"
    );

    // A second run moves lastBackuptime and keeps firstBackuptime.
    run(&server, &token, &job, 2).await;
    // The next backup that protects Andrew licenses him again.
    let licensed = get_ok(&server, &token, "/v6/LicensedUsers").await;
    assert_eq!(licensed["totalCount"], 2, "{licensed}");
    let points = get_ok(&server, &token, &format!("/v6/RestorePoints?jobId={job}")).await;
    let points = points.as_array().unwrap();
    assert_eq!(points.len(), 2);
    let after = get_ok(&server, &token, &format!("/v6/Organizations/{org}")).await;
    assert_eq!(after["firstBackuptime"], points[0]["backupTime"]);
    assert_eq!(after["lastBackuptime"], points[1]["backupTime"]);
    let usage = get_ok(
        &server,
        &token,
        &format!("/v6/BackupRepositories/{repo}/backedupOrganizations"),
    )
    .await;
    assert_eq!(
        results(&usage)[0]["usedSpaceBytes"],
        used_bytes,
        "nothing changed: the same bytes"
    );
    server.stop().await;
}
