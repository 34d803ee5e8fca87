//! Politeness against the simulator's `microsoft` throttle profile: four
//! mailboxes read in parallel, each with more concurrent work than
//! Microsoft allows, under a small per-mailbox budget.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

mod mail_support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use m365_sim::{Budget, SimOptions, ThrottleOptions, ThrottleProfile};
use mail_support::{start, MAILBOXES};
use openvbo_m365::mail::MessageChange;
use openvbo_m365::{ConnectorSettings, GraphSession, LimitSettings};
use tokio::sync::Mutex;

/// Reads every message of every folder of `mailbox` with 8 workers.
async fn read_mailbox(session: Arc<GraphSession>, mailbox: &'static str) -> Vec<(String, usize)> {
    let mut ids = Vec::new();
    for folder in session.mail_folders(mailbox).await.unwrap() {
        session
            .message_delta(mailbox, &folder.id, None, &mut |page| {
                for change in page.changes {
                    if let MessageChange::Upsert(m) = change {
                        ids.push(m.id);
                    }
                }
                Ok(())
            })
            .await
            .unwrap();
    }
    let queue = Arc::new(Mutex::new(ids));
    let mut workers = Vec::new();
    for _ in 0..8 {
        let (session, queue) = (session.clone(), queue.clone());
        workers.push(tokio::spawn(async move {
            let mut read = Vec::new();
            loop {
                let Some(id) = queue.lock().await.pop() else {
                    return read;
                };
                let mut stream = session.message_mime(mailbox, &id).await.unwrap();
                let mut size = 0;
                while let Some(chunk) = stream.next_chunk().await.unwrap() {
                    size += chunk.len();
                }
                read.push((id, size));
            }
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    all
}

#[tokio::test]
async fn four_mailboxes_in_parallel_stay_within_microsofts_limits_and_read_everything_once() {
    let options = SimOptions {
        // Requests overlap for real: each one takes 15 ms.
        latency: Duration::from_millis(15),
        throttle: ThrottleOptions {
            profile: ThrottleProfile::Microsoft,
            mailbox_budget: "20/1".parse::<Budget>().unwrap(),
            ..ThrottleOptions::default()
        },
        ..SimOptions::default()
    };
    // The connector's own budget is above the simulator's here, so the
    // simulator's 429s (with Retry-After) are what it has to cope with.
    let settings = ConnectorSettings {
        limits: LimitSettings {
            mailbox_budget: 1000,
            ..LimitSettings::default()
        },
        ..ConnectorSettings::default()
    };
    let h = start(20, options, settings).await;
    h.sim.reset_stats();
    let mut tasks = Vec::new();
    for mailbox in MAILBOXES {
        tasks.push(tokio::spawn(read_mailbox(h.session.clone(), mailbox)));
    }
    let mut total = 0;
    for task in tasks {
        let read = task.await.unwrap();
        let unique: HashSet<&String> = read.iter().map(|(id, _)| id).collect();
        assert_eq!(unique.len(), read.len(), "no message read twice");
        assert!(read.iter().all(|(_, size)| *size > 0));
        total += read.len();
    }
    assert_eq!(total, 20 * 4 + 3, "20 per mailbox, plus Adele's three");
    let stats = h.sim.stats();
    assert!(
        stats.throttle.max_concurrent_per_mailbox <= 4,
        "{:?}",
        stats.throttle
    );
    assert!(
        stats.throttle.max_concurrent_per_mailbox >= 2,
        "the workers did overlap"
    );
    assert_eq!(
        stats.content.message_downloads,
        u64::try_from(total).unwrap(),
        "every item read once"
    );
    assert!(
        stats.throttle.rejected > 0,
        "the small budget did bite: {:?}",
        stats.throttle
    );
}

#[tokio::test]
async fn a_budget_below_microsofts_is_never_refused() {
    let options = SimOptions {
        throttle: ThrottleOptions {
            profile: ThrottleProfile::Microsoft,
            mailbox_budget: "30/2".parse::<Budget>().unwrap(),
            ..ThrottleOptions::default()
        },
        ..SimOptions::default()
    };
    let settings = ConnectorSettings {
        limits: LimitSettings {
            mailbox_budget: 25,
            mailbox_window: Duration::from_secs(2),
            ..LimitSettings::default()
        },
        ..ConnectorSettings::default()
    };
    let h = start(30, options, settings).await;
    h.sim.reset_stats();
    let read = read_mailbox(h.session.clone(), MAILBOXES[1]).await;
    assert_eq!(read.len(), 30);
    let stats = h.sim.stats();
    assert_eq!(
        stats.throttle.rejected, 0,
        "the connector waited for its own window instead"
    );
    assert!(stats.throttle.max_concurrent_per_mailbox <= 4);
}
