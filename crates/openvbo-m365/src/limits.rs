//! Politeness toward Microsoft, per tenant and per mailbox.
//!
//! Every request travels in a [`Lane`]: the tenant it is for, the service
//! that answers it ([`Workload`]: the directory, Exchange, SharePoint), the
//! mailbox when it touches Exchange content, and whether a person is waiting
//! for it ([`Priority::Interactive`], discovery browsing) or not
//! ([`Priority::Background`], backup and restore). Before a request is
//! sent the connector takes, in order:
//!
//! 1. the end of any `Retry-After` pause Microsoft gave this mailbox (or,
//!    for requests without a mailbox, this tenant's service): one tenant's
//!    throttling never freezes another tenant, and since Microsoft throttles
//!    SharePoint (resource units) apart from Exchange (per mailbox) and the
//!    directory, a long SharePoint pause does not stop mail, nor the
//!    reverse;
//! 2. for a mailbox, one unit of its request budget (default 9,000 per
//!    10 minutes, below Microsoft's 10,000), waiting for the next window
//!    when it is spent;
//! 3. for a mailbox, one of its concurrency slots (at most 4, Microsoft's
//!    MailboxConcurrency limit);
//! 4. a slot of the tenant's budget for its priority, so background work
//!    can never take the slots interactive browsing needs; background
//!    work also takes a slot of the process-wide cap.
//!
//! The slots are held until the response body has been read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Microsoft's MailboxConcurrency limit; settings above it are lowered.
pub const MICROSOFT_MAILBOX_CONCURRENCY: usize = 4;

/// Whether a person is waiting for the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Priority {
    /// Discovery browsing: small, latency-sensitive.
    Interactive,
    /// Backup and restore: long-running, may wait.
    Background,
}

/// The Microsoft 365 service that answers a request. Each throttles on its
/// own, so each has its own `Retry-After` pause per tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Workload {
    /// Users, groups, roles: Microsoft Entra ID through Graph.
    Directory,
    /// Mailbox content (paused per mailbox when one is named).
    Exchange,
    /// Sites, drives and their files (OneDrive included), metered in
    /// SharePoint's resource units.
    SharePoint,
}

/// Who a request is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    /// The tenant key (GUID or domain, compared case-insensitively).
    pub tenant: String,
    pub workload: Workload,
    /// The mailbox (user id or UPN, case-insensitive) for Exchange content.
    /// Limits are kept per key, so name each mailbox one way (its id).
    pub mailbox: Option<String>,
    pub priority: Priority,
}

impl Lane {
    pub fn interactive(tenant: &str) -> Self {
        Lane {
            tenant: tenant.to_ascii_lowercase(),
            workload: Workload::Directory,
            mailbox: None,
            priority: Priority::Interactive,
        }
    }

    pub fn background(tenant: &str) -> Self {
        Lane {
            priority: Priority::Background,
            ..Lane::interactive(tenant)
        }
    }

    pub fn mailbox(tenant: &str, mailbox: &str) -> Self {
        Lane {
            workload: Workload::Exchange,
            mailbox: Some(mailbox.to_ascii_lowercase()),
            ..Lane::background(tenant)
        }
    }

    /// The same lane for SharePoint (sites, drives, files): paused by
    /// SharePoint's `Retry-After` only.
    pub fn sharepoint(self) -> Self {
        Lane {
            workload: Workload::SharePoint,
            mailbox: None,
            ..self
        }
    }
}

/// The numbers behind the limits (part of `ConnectorSettings`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitSettings {
    /// Interactive requests in flight per tenant.
    pub interactive_per_tenant: usize,
    /// Background requests in flight per tenant.
    pub background_per_tenant: usize,
    /// Background requests in flight across all tenants.
    pub background_total: usize,
    /// Requests in flight per mailbox (capped at 4).
    pub per_mailbox: usize,
    /// Requests per mailbox per `mailbox_window`.
    pub mailbox_budget: u32,
    pub mailbox_window: Duration,
}

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            interactive_per_tenant: 8,
            background_per_tenant: 16,
            background_total: 64,
            per_mailbox: MICROSOFT_MAILBOX_CONCURRENCY,
            mailbox_budget: 9_000,
            mailbox_window: Duration::from_secs(600),
        }
    }
}

struct Window {
    start: Option<Instant>,
    used: u32,
}

struct MailboxLimits {
    slots: Arc<Semaphore>,
    window: Mutex<Window>,
    paused_until: Mutex<Option<Instant>>,
}

type Pause = Mutex<Option<Instant>>;

struct TenantLimits {
    interactive: Arc<Semaphore>,
    background: Arc<Semaphore>,
    /// Microsoft's `Retry-After`, per service (a mailbox has its own).
    directory_paused_until: Pause,
    exchange_paused_until: Pause,
    sharepoint_paused_until: Pause,
    mailboxes: Mutex<HashMap<String, Arc<MailboxLimits>>>,
}

impl TenantLimits {
    /// The pause of this tenant's `workload` (for Exchange: requests that
    /// name no mailbox).
    fn paused_until(&self, workload: Workload) -> &Pause {
        match workload {
            Workload::Directory => &self.directory_paused_until,
            Workload::Exchange => &self.exchange_paused_until,
            Workload::SharePoint => &self.sharepoint_paused_until,
        }
    }
}

/// The limits of every tenant the process talks to.
pub(crate) struct Limits {
    settings: LimitSettings,
    background_total: Arc<Semaphore>,
    tenants: Mutex<HashMap<String, Arc<TenantLimits>>>,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Slots held while a request and its body are in flight.
#[derive(Debug)]
pub(crate) struct Permit {
    _slots: Vec<OwnedSemaphorePermit>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Limits {
    pub(crate) fn new(settings: LimitSettings) -> Self {
        Limits {
            settings,
            background_total: Arc::new(Semaphore::new(settings.background_total.max(1))),
            tenants: Mutex::new(HashMap::new()),
        }
    }

    fn tenant(&self, key: &str) -> Arc<TenantLimits> {
        let mut tenants = lock(&self.tenants);
        tenants
            .entry(key.to_owned())
            .or_insert_with(|| {
                Arc::new(TenantLimits {
                    interactive: Arc::new(Semaphore::new(
                        self.settings.interactive_per_tenant.max(1),
                    )),
                    background: Arc::new(Semaphore::new(
                        self.settings.background_per_tenant.max(1),
                    )),
                    directory_paused_until: Mutex::new(None),
                    exchange_paused_until: Mutex::new(None),
                    sharepoint_paused_until: Mutex::new(None),
                    mailboxes: Mutex::new(HashMap::new()),
                })
            })
            .clone()
    }

    fn mailbox(&self, tenant: &TenantLimits, key: &str) -> Arc<MailboxLimits> {
        let per_mailbox = self
            .settings
            .per_mailbox
            .clamp(1, MICROSOFT_MAILBOX_CONCURRENCY);
        lock(&tenant.mailboxes)
            .entry(key.to_owned())
            .or_insert_with(|| {
                Arc::new(MailboxLimits {
                    slots: Arc::new(Semaphore::new(per_mailbox)),
                    window: Mutex::new(Window {
                        start: None,
                        used: 0,
                    }),
                    paused_until: Mutex::new(None),
                })
            })
            .clone()
    }

    /// Waits for every limit of `lane` and returns the slots to hold.
    pub(crate) async fn acquire(&self, lane: &Lane) -> Permit {
        let tenant = self.tenant(&lane.tenant);
        let mailbox = lane.mailbox.as_deref().map(|m| self.mailbox(&tenant, m));
        loop {
            let pause = [
                Some(tenant.paused_until(lane.workload)),
                mailbox.as_ref().map(|m| &m.paused_until),
            ]
            .into_iter()
            .flatten()
            .filter_map(|p| *lock(p))
            .max();
            match pause {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
        let mut slots = Vec::with_capacity(3);
        if let Some(mailbox) = &mailbox {
            self.spend_budget(mailbox).await;
            if let Ok(slot) = mailbox.slots.clone().acquire_owned().await {
                slots.push(slot);
            }
        }
        let class = match lane.priority {
            Priority::Interactive => &tenant.interactive,
            Priority::Background => &tenant.background,
        };
        if lane.priority == Priority::Background {
            if let Ok(slot) = self.background_total.clone().acquire_owned().await {
                slots.push(slot);
            }
        }
        if let Ok(slot) = class.clone().acquire_owned().await {
            slots.push(slot);
        }
        Permit { _slots: slots }
    }

    async fn spend_budget(&self, mailbox: &MailboxLimits) {
        let window = self.settings.mailbox_window;
        let budget = self.settings.mailbox_budget.max(1);
        loop {
            let wait_until = {
                let now = Instant::now();
                let mut state = lock(&mailbox.window);
                let start = match state.start {
                    Some(start) if now.duration_since(start) < window => start,
                    _ => {
                        state.start = Some(now);
                        state.used = 0;
                        now
                    }
                };
                if state.used < budget {
                    state.used += 1;
                    return;
                }
                start + window
            };
            tracing::debug!("mailbox request budget spent; waiting for the next window");
            tokio::time::sleep_until(wait_until).await;
        }
    }

    /// Microsoft asked `lane` to wait: pause its mailbox, or without one
    /// its tenant's service (the lane's workload), until then.
    pub(crate) fn pause(&self, lane: &Lane, wait: Duration) {
        let until = Instant::now() + wait;
        let tenant = self.tenant(&lane.tenant);
        let extend = |pause: &Pause| {
            let mut paused = lock(pause);
            if paused.is_none_or(|p| p < until) {
                *paused = Some(until);
            }
        };
        match lane.mailbox.as_deref() {
            Some(m) => extend(&self.mailbox(&tenant, m).paused_until),
            None => extend(tenant.paused_until(lane.workload)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(budget: u32, window_ms: u64) -> LimitSettings {
        LimitSettings {
            mailbox_budget: budget,
            mailbox_window: Duration::from_millis(window_ms),
            ..LimitSettings::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_mailbox_budget_waits_for_the_next_window() {
        let limits = Limits::new(settings(2, 1000));
        let lane = Lane::mailbox("t", "a@x");
        let started = Instant::now();
        for _ in 0..2 {
            drop(limits.acquire(&lane).await);
        }
        assert!(started.elapsed() < Duration::from_millis(10));
        drop(limits.acquire(&lane).await);
        assert!(started.elapsed() >= Duration::from_millis(1000));
        // Another mailbox has its own budget.
        let other = Instant::now();
        drop(limits.acquire(&Lane::mailbox("t", "b@x")).await);
        assert!(other.elapsed() < Duration::from_millis(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_mailbox_never_has_more_than_four_in_flight() {
        let limits = Limits::new(LimitSettings {
            per_mailbox: 10,
            ..LimitSettings::default()
        });
        let lane = Lane::mailbox("t", "a@x");
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(limits.acquire(&lane).await);
        }
        let fifth = tokio::time::timeout(Duration::from_secs(5), limits.acquire(&lane)).await;
        assert!(fifth.is_err(), "a fifth slot was handed out");
        held.pop();
        let fifth = tokio::time::timeout(Duration::from_secs(5), limits.acquire(&lane)).await;
        assert!(fifth.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn one_tenants_pause_does_not_hold_another_and_background_leaves_interactive_room() {
        let limits = Limits::new(LimitSettings {
            background_per_tenant: 2,
            ..LimitSettings::default()
        });
        limits.pause(&Lane::interactive("slow"), Duration::from_secs(60));
        let started = Instant::now();
        drop(limits.acquire(&Lane::interactive("fast")).await);
        assert!(started.elapsed() < Duration::from_millis(10));
        let paused = tokio::time::timeout(
            Duration::from_secs(5),
            limits.acquire(&Lane::interactive("slow")),
        )
        .await;
        assert!(paused.is_err(), "the paused tenant waited");
        let _a = limits.acquire(&Lane::background("fast")).await;
        let _b = limits.acquire(&Lane::background("fast")).await;
        let third = tokio::time::timeout(
            Duration::from_secs(5),
            limits.acquire(&Lane::background("fast")),
        )
        .await;
        assert!(third.is_err(), "background is capped per tenant");
        let browse = tokio::time::timeout(
            Duration::from_secs(1),
            limits.acquire(&Lane::interactive("fast")),
        )
        .await;
        assert!(browse.is_ok(), "interactive requests keep their own slots");
    }

    /// Whether `lane` gets its slots within 5 s (of paused time).
    async fn admitted(limits: &Limits, lane: &Lane) -> bool {
        tokio::time::timeout(Duration::from_secs(5), limits.acquire(lane))
            .await
            .is_ok()
    }

    #[tokio::test(start_paused = true)]
    async fn a_sharepoint_pause_holds_drive_requests_but_not_mail_or_the_directory() {
        let limits = Limits::new(LimitSettings::default());
        let drives = Lane::background("t").sharepoint();
        // SharePoint's resource units ran out: a long Retry-After.
        limits.pause(&drives, Duration::from_secs(300));
        let started = Instant::now();
        assert!(admitted(&limits, &Lane::mailbox("t", "a@x")).await, "mail");
        assert!(admitted(&limits, &Lane::interactive("t")).await, "browsing");
        assert!(admitted(&limits, &Lane::background("t")).await, "directory");
        assert!(started.elapsed() < Duration::from_millis(10));
        assert!(!admitted(&limits, &drives).await, "drive work waits");
        assert!(
            !admitted(&limits, &Lane::interactive("t").sharepoint()).await,
            "browsing a drive waits too: the whole tenant's SharePoint is paused"
        );
        // Another tenant's SharePoint is not.
        assert!(admitted(&limits, &Lane::background("u").sharepoint()).await);
        // The pause ends when Microsoft said.
        drop(limits.acquire(&drives).await);
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_secs(300) && waited < Duration::from_secs(301),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_mail_or_directory_pause_does_not_hold_drive_requests() {
        let limits = Limits::new(LimitSettings::default());
        let drives = Lane::background("t").sharepoint();
        limits.pause(&Lane::mailbox("t", "a@x"), Duration::from_secs(300));
        limits.pause(&Lane::interactive("t"), Duration::from_secs(300));
        let started = Instant::now();
        assert!(admitted(&limits, &drives).await, "drive work");
        assert!(admitted(&limits, &Lane::interactive("t").sharepoint()).await);
        assert!(started.elapsed() < Duration::from_millis(10));
        // The mailbox itself, and the directory, stay paused; another mailbox does not.
        assert!(!admitted(&limits, &Lane::mailbox("t", "A@x")).await);
        assert!(!admitted(&limits, &Lane::interactive("t")).await);
        assert!(admitted(&limits, &Lane::mailbox("t", "b@x")).await);
    }
}
