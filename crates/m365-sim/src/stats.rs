//! Content and throttling counters behind `GET /_sim/stats` (`content.*`,
//! `throttle.*`), shared by the mail and drive endpoints. Handlers bump
//! them with the helpers here so each counter means one thing everywhere:
//!
//! - `content.messageDownloads`: a message's MIME (`$value`) or a message
//!   read with its body;
//! - `content.attachmentDownloads`: an attachment served with `contentBytes`;
//! - `content.fileDownloads` / `content.fileBytes`: download-URL responses
//!   and the bytes they carried;
//! - `content.deltaRequests`: any delta page (mail folders, messages, drives);
//! - `content.writes`: any request that changed content;
//! - `throttle.rejected`: requests the throttle profile answered 429/503;
//! - `throttle.resourceUnits`: SharePoint resource units charged under the
//!   throttle profile, refused requests included (as Microsoft counts);
//! - `throttle.maxConcurrentPerMailbox`: the most requests one mailbox had in
//!   flight at once, counting the one that arrived (so a client that sends a
//!   fifth concurrent request shows 5 even though it was refused).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

#[derive(Default)]
pub(crate) struct ContentCounters {
    pub message_downloads: AtomicU64,
    pub attachment_downloads: AtomicU64,
    pub file_downloads: AtomicU64,
    pub file_bytes: AtomicU64,
    pub delta_requests: AtomicU64,
    pub writes: AtomicU64,
}

#[derive(Default)]
pub(crate) struct ThrottleCounters {
    pub rejected: AtomicU64,
    pub resource_units: AtomicU64,
    pub max_concurrent_per_mailbox: AtomicU64,
}

/// `content.*` in `/_sim/stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentStats {
    pub message_downloads: u64,
    pub attachment_downloads: u64,
    pub file_downloads: u64,
    pub file_bytes: u64,
    pub delta_requests: u64,
    pub writes: u64,
}

/// `throttle.*` in `/_sim/stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStats {
    pub rejected: u64,
    pub resource_units: u64,
    pub max_concurrent_per_mailbox: u64,
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Adds `n` (bytes served, resource units charged).
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

fn read(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

impl ContentCounters {
    pub(crate) fn snapshot(&self) -> ContentStats {
        ContentStats {
            message_downloads: read(&self.message_downloads),
            attachment_downloads: read(&self.attachment_downloads),
            file_downloads: read(&self.file_downloads),
            file_bytes: read(&self.file_bytes),
            delta_requests: read(&self.delta_requests),
            writes: read(&self.writes),
        }
    }

    pub(crate) fn reset(&self) {
        for counter in [
            &self.message_downloads,
            &self.attachment_downloads,
            &self.file_downloads,
            &self.file_bytes,
            &self.delta_requests,
            &self.writes,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

impl ThrottleCounters {
    pub(crate) fn snapshot(&self) -> ThrottleStats {
        ThrottleStats {
            rejected: read(&self.rejected),
            resource_units: read(&self.resource_units),
            max_concurrent_per_mailbox: read(&self.max_concurrent_per_mailbox),
        }
    }

    pub(crate) fn observe_mailbox_concurrency(&self, in_flight: u64) {
        self.max_concurrent_per_mailbox
            .fetch_max(in_flight, Ordering::Relaxed);
    }

    pub(crate) fn reset(&self) {
        self.rejected.store(0, Ordering::Relaxed);
        self.resource_units.store(0, Ordering::Relaxed);
        self.max_concurrent_per_mailbox.store(0, Ordering::Relaxed);
    }
}
