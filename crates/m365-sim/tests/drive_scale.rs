//! `--synthetic-files` at the scale: 100 users × 1,000 files each,
//! every OneDrive opened, in well under 300 MB. Alone in its binary, since
//! it measures the process's memory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod drive_support;

use drive_support::*;
use m365_sim::{ContentOptions, SimOptions, SyntheticSpec};
use reqwest::StatusCode;

fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_onedrives_of_a_thousand_files_stay_small() {
    let tenant = m365_sim::synthetic_tenant(
        0,
        SyntheticSpec {
            users: 100,
            groups: 0,
            sites: 0,
        },
    );
    let options = SimOptions {
        content: ContentOptions {
            synthetic_files: 1000,
            content_seed: 1,
            ..ContentOptions::default()
        },
        ..SimOptions::default()
    };
    let users: Vec<_> = tenant
        .users
        .iter()
        .filter(|u| u.has_one_drive())
        .map(|u| u.id.clone())
        .collect();
    let mut s = start_tenants(vec![tenant, drive_support::tenant()], options).await;
    s.token = s
        .sign_in(
            "synth0.onmicrosoft.com",
            "admin@synth0.onmicrosoft.com",
            m365_sim::SYNTHETIC_PASSWORD,
        )
        .await;
    let before = rss_kib("VmRSS:");
    let mut opened = 0;
    for user in &users {
        let page = s
            .get(&format!("/users/{user}/drive/root/delta?$top=1"))
            .await;
        if page.status == StatusCode::OK {
            opened += 1;
            assert!(page.body["@odata.nextLink"].is_string());
        }
    }
    // Every 7th synthetic user and every 10th (shared mailboxes) has no OneDrive.
    assert!(opened >= 70, "{opened} drives");
    let grown_mib = rss_kib("VmHWM:").saturating_sub(before) / 1024;
    eprintln!("{opened} drives of 1,000 files: peak RSS grew by {grown_mib} MiB");
    assert!(grown_mib < 300, "{grown_mib} MiB");
}
