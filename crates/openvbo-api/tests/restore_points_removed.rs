//! A removed backup repository's restore points are not shown (as in VB365): its data
//! stays, and attaching it again brings the same points back, by id.
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
use serde_json::{json, Value};

fn ids(listed: &Value) -> Vec<String> {
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The mailboxes an Exchange explore of `org` shows now, as sorted `(id, email)` pairs.
async fn explored_mailboxes(server: &Server, token: &str, org: &str) -> Vec<(String, String)> {
    let sid = explore_at(server, token, org, "Vex", "2100-01-01T00:00:00Z").await;
    let page = get_ok(
        server,
        token,
        &format!("/v6/RestoreSessions/{sid}/organization/mailboxes"),
    )
    .await;
    let mut out: Vec<(String, String)> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_owned(),
                m["email"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_points_of_a_removed_repository_are_hidden_until_it_is_attached_again() {
    let (dir, _sim, server) = start_with(vec![tenant_with_mail()], |_| {}).await;
    let token = server.token().await;
    let repos = tempfile::tempdir().unwrap();
    let (org, repo) = organization_and_repository(&server, &token, repos.path()).await;
    // A second repository whose points stay listed throughout.
    let (status, other) = call(
        &server,
        &token,
        Method::POST,
        "/v6/BackupRepositories",
        Some(
            json!({"name": "Other", "path": repos.path().join("other").to_str().unwrap(),
                    "retentionType": "SnapshotBased", "retentionPeriodType": "Yearly",
                    "yearlyRetentionPeriod": "Year1"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{other}");
    let other = other["id"].as_str().unwrap().to_owned();
    let job = mailbox_job(&server, &token, &org, &repo, &[NANCY, ANDREW]).await;
    let kept_job = mailbox_job(&server, &token, &org, &other, &[ANDREW]).await;
    for runs in 1..=2 {
        let session = run(&server, &token, &job, runs).await;
        assert_eq!(session["status"], "Success", "{session}");
    }
    let session = run(&server, &token, &kept_job, 1).await;
    assert_eq!(session["status"], "Success", "{session}");
    let removed = ids(&get_ok(
        &server,
        &token,
        &format!("/v6/RestorePoints?repositoryId={repo}"),
    )
    .await);
    let kept = ids(&get_ok(
        &server,
        &token,
        &format!("/v6/RestorePoints?repositoryId={other}"),
    )
    .await);
    assert_eq!((removed.len(), kept.len()), (2, 1));
    let all = ids(&get_ok(&server, &token, "/v6/RestorePoints").await);
    assert_eq!(all.len(), 3, "{all:?}");
    let first = removed[0].clone();
    let mailboxes = get_ok(
        &server,
        &token,
        &format!("/v6/RestorePoints/{first}/mailboxes"),
    )
    .await;
    assert_eq!(mailboxes.as_array().unwrap().len(), 2, "{mailboxes}");
    let both = vec![
        (NANCY.to_owned(), "nancy@contoso.onmicrosoft.com".to_owned()),
        (
            ANDREW.to_owned(),
            "andrew@contoso.onmicrosoft.com".to_owned(),
        ),
    ];
    assert_eq!(explored_mailboxes(&server, &token, &org).await, both);

    // The job goes (a repository in use cannot be removed), then the repository.
    let (status, body) = call(
        &server,
        &token,
        Method::DELETE,
        &format!("/v6/Jobs/{job}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = call(
        &server,
        &token,
        Method::DELETE,
        &format!("/v6/BackupRepositories/{repo}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        ids(&get_ok(&server, &token, "/v6/RestorePoints").await),
        kept
    );
    for query in [
        format!("organizationId={org}"),
        format!("repositoryId={repo}"),
        format!("jobId={job}"),
    ] {
        let listed = get_ok(&server, &token, &format!("/v6/RestorePoints?{query}")).await;
        let expected: Vec<String> = if query.starts_with("organizationId") {
            kept.clone()
        } else {
            Vec::new()
        };
        assert_eq!(ids(&listed), expected, "{query}: {listed}");
    }
    for path in [
        format!("/v6/RestorePoints/{first}"),
        format!("/v6/RestorePoints/{first}/mailboxes"),
        format!("/v6/RestorePoints/{first}/onedrives"),
        format!("/v6/RestorePoints/{first}/webs"),
        format!("/v6/RestorePoints/{first}/teams"),
    ] {
        let (status, body) = call(&server, &token, Method::GET, &path, None).await;
        assert_error(
            status,
            &body,
            StatusCode::NOT_FOUND,
            &["no restore point", &first],
        );
    }
    // Explore agrees with the listing: only the kept repository's point (Andrew's mailbox).
    assert_eq!(
        explored_mailboxes(&server, &token, &org).await,
        vec![(
            ANDREW.to_owned(),
            "andrew@contoso.onmicrosoft.com".to_owned()
        )]
    );
    // The point of the repository that stays is still readable.
    let (status, body) = call(
        &server,
        &token,
        Method::GET,
        &format!("/v6/RestorePoints/{}", kept[0]),
        None,
    )
    .await;
    assert_eq!(
        (status, body["id"].as_str()),
        (StatusCode::OK, Some(kept[0].as_str()))
    );

    // Attached again: the same points, by id, with their mailboxes.
    let (status, again) = call(
        &server,
        &token,
        Method::POST,
        "/v6/BackupRepositories",
        Some(
            json!({"name": "Mail", "path": repos.path().join("repo").to_str().unwrap(),
                    "attachUsedRepository": true, "retentionType": "SnapshotBased",
                    "retentionPeriodType": "Yearly", "yearlyRetentionPeriod": "Year1"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    let again = again["id"].as_str().unwrap().to_owned();
    assert_eq!(
        ids(&get_ok(
            &server,
            &token,
            &format!("/v6/RestorePoints?repositoryId={again}")
        )
        .await),
        removed
    );
    let mut listed = ids(&get_ok(&server, &token, "/v6/RestorePoints").await);
    let mut expected = all.clone();
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected);
    let one = get_ok(&server, &token, &format!("/v6/RestorePoints/{first}")).await;
    assert_eq!(one["repositoryId"], again.as_str(), "{one}");
    assert_eq!(
        get_ok(
            &server,
            &token,
            &format!("/v6/RestorePoints/{first}/mailboxes")
        )
        .await,
        mailboxes
    );
    assert_eq!(explored_mailboxes(&server, &token, &org).await, both);
    server.stop().await;
    drop(dir);
}
