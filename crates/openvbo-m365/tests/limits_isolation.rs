//! One mailbox told to wait does not hold the others, nor browsing; and
//! background reads ride out Microsoft failing for a while.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod mail_support;

use std::time::{Duration, Instant};

use m365_sim::{Budget, Fault, SimOptions, ThrottleOptions, ThrottleProfile};
use mail_support::{start, ADELE, MAILBOXES};
use openvbo_m365::ConnectorSettings;

#[tokio::test]
async fn a_throttled_mailbox_pauses_alone() {
    let options = SimOptions {
        throttle: ThrottleOptions {
            profile: ThrottleProfile::Microsoft,
            mailbox_budget: "2/30".parse::<Budget>().unwrap(),
            ..ThrottleOptions::default()
        },
        ..SimOptions::default()
    };
    let h = start(5, options, ConnectorSettings::default()).await;
    // Adele's folder tree takes three requests: her mailbox is
    // refused with a Retry-After of up to 30 s and the connector waits.
    let session = h.session.clone();
    let stuck = tokio::spawn(async move { session.mail_folders(ADELE).await });
    let waited = Instant::now();
    while h.sim.stats().throttle.rejected == 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(5),
            "Adele was never refused"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let started = Instant::now();
    let other = h.session.mail_folders(MAILBOXES[1]).await.unwrap();
    assert_eq!(other.len(), 7);
    let user = h.session.user(MAILBOXES[2]).await.unwrap();
    assert!(user.is_some(), "browsing goes on");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(!stuck.is_finished(), "Adele's mailbox is still paused");
    stuck.abort();
}

#[tokio::test]
async fn background_reads_ride_out_unavailable_answers() {
    let options = SimOptions {
        fault: Some(Fault::Unavailable {
            every: 2,
            retry_after_secs: 0,
        }),
        ..SimOptions::default()
    };
    let h = start(3, options, ConnectorSettings::default()).await;
    let folders = h.session.mail_folders(ADELE).await.unwrap();
    assert_eq!(folders.len(), 10);
    let mut seen = 0;
    h.session
        .message_delta(ADELE, "inbox", None, &mut |page| {
            seen += page.changes.len();
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(seen, 5);
}
