//! Microsoft's service limits as a profile (`--throttle-profile microsoft`;
//! off by default so other tests stay fast). The gate runs outside the
//! latency/fault layer, so a request occupies its mailbox for the whole
//! time it is being answered, injected latency included.
//!
//! Limits simulated (see `docs/m365-backup-protocol.md` §9):
//! - Outlook, per mailbox: at most `mailbox_concurrency` (4) requests in
//!   flight → 429 `ApplicationThrottled` "…MailboxConcurrency…"; at most
//!   `mailbox_budget` requests per window (10,000 per 600 s) → 429 with
//!   `Retry-After` until the window ends. Refused requests still count
//!   against the budget, as at Microsoft.
//!
//! To add a limit (SharePoint resource units, say): give [`Target`] a
//! variant, recognise its requests in [`target`], and charge it in
//! [`Throttle::admit`]; the gate, the counters and the error shapes are
//! shared.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use crate::graph_auth::authenticate;
use crate::graph_errors::{GraphCtx, GraphError};
use crate::simulator::Inner;
use crate::stats::bump;

/// Which limits the simulator enforces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ThrottleProfile {
    /// Nothing is refused (concurrency is still measured for the counters).
    #[default]
    Off,
    /// Microsoft's documented per-mailbox limits.
    Microsoft,
}

impl FromStr for ThrottleProfile {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "off" | "none" => Ok(ThrottleProfile::Off),
            "microsoft" => Ok(ThrottleProfile::Microsoft),
            other => Err(format!(
                "unknown throttle profile '{other}'; expected 'off' or 'microsoft'"
            )),
        }
    }
}

/// `N` requests per `window` (written `N/SECS`, e.g. `10000/600`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub requests: u64,
    pub window: Duration,
}

impl FromStr for Budget {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!("invalid budget '{s}'; expected N/SECS with both above zero, e.g. 10000/600")
        };
        let (n, secs) = s.trim().split_once('/').ok_or_else(bad)?;
        let requests: u64 = n.trim().parse().map_err(|_| bad())?;
        let secs: u64 = secs.trim().parse().map_err(|_| bad())?;
        if requests == 0 || secs == 0 {
            return Err(bad());
        }
        Ok(Budget {
            requests,
            window: Duration::from_secs(secs),
        })
    }
}

/// The limits of the `microsoft` profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleOptions {
    pub profile: ThrottleProfile,
    /// Requests per mailbox per window (Microsoft: 10,000 per 10 minutes).
    pub mailbox_budget: Budget,
    /// Requests in flight per mailbox (Microsoft: 4).
    pub mailbox_concurrency: u32,
}

impl Default for ThrottleOptions {
    fn default() -> Self {
        ThrottleOptions {
            profile: ThrottleProfile::Off,
            mailbox_budget: Budget {
                requests: 10_000,
                window: Duration::from_secs(600),
            },
            mailbox_concurrency: 4,
        }
    }
}

/// What a request is charged to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    /// Outlook: (tenant index, user index) of the mailbox.
    Mailbox { tenant: usize, user: usize },
}

#[derive(Default)]
struct MailboxState {
    in_flight: u32,
    window_start: Option<Instant>,
    used: u64,
}

pub(crate) struct Throttle {
    options: Mutex<ThrottleOptions>,
    mailboxes: Mutex<HashMap<Target, MailboxState>>,
}

/// A request let through; its slot is given back when this drops.
pub(crate) struct Admission<'a> {
    throttle: &'a Throttle,
    target: Target,
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        let mut mailboxes = self
            .throttle
            .mailboxes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(state) = mailboxes.get_mut(&self.target) {
            state.in_flight = state.in_flight.saturating_sub(1);
        }
    }
}

impl Throttle {
    pub(crate) fn new(options: ThrottleOptions) -> Self {
        Throttle {
            options: Mutex::new(options),
            mailboxes: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn options(&self) -> ThrottleOptions {
        *self.options.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the limits and forgets every window.
    pub(crate) fn set_options(&self, options: ThrottleOptions) {
        *self.options.lock().unwrap_or_else(PoisonError::into_inner) = options;
        self.mailboxes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Charges one request to `target`; `Err` is the refusal to send.
    pub(crate) fn admit(
        &self,
        sim: &Inner,
        target: Target,
        now: Instant,
    ) -> Result<Admission<'_>, GraphError> {
        let options = self.options();
        let mut mailboxes = self
            .mailboxes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let state = mailboxes.entry(target.clone()).or_default();
        sim.counters
            .throttle
            .observe_mailbox_concurrency(u64::from(state.in_flight) + 1);
        if options.profile == ThrottleProfile::Microsoft {
            let budget = options.mailbox_budget;
            let start = match state.window_start {
                Some(start) if now.duration_since(start) < budget.window => start,
                _ => {
                    state.window_start = Some(now);
                    state.used = 0;
                    now
                }
            };
            state.used += 1;
            if state.used > budget.requests {
                let left = budget.window.saturating_sub(now.duration_since(start));
                return Err(throttled(
                    "Application is over its MailboxRequests limit for this window.",
                    left,
                ));
            }
            if state.in_flight >= options.mailbox_concurrency {
                return Err(throttled(
                    "Application is over its MailboxConcurrency limit.",
                    Duration::from_secs(1),
                ));
            }
        }
        state.in_flight += 1;
        Ok(Admission {
            throttle: self,
            target,
        })
    }
}

fn throttled(message: &str, wait: Duration) -> GraphError {
    // Whole seconds, rounded up, at least one: a client that waits exactly
    // Retry-After must find the window open.
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    GraphError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "ApplicationThrottled",
        message,
    )
    .with_header(RETRY_AFTER, secs.max(1).to_string())
}

/// Path areas under `/users/{id}` served by Exchange Online.
const MAILBOX_AREAS: [&str; 9] = [
    "mailfolders",
    "messages",
    "mailboxsettings",
    "calendar",
    "calendars",
    "events",
    "contacts",
    "contactfolders",
    "inferenceclassification",
];

/// The limit a Graph request falls under, if any. Requests that will fail
/// authentication or name an unknown user are left to the handlers.
pub(crate) fn target(sim: &Inner, request: &Request) -> Option<Target> {
    let path = request.uri().path().strip_prefix("/v1.0/")?;
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
        .take(3)
        .collect();
    let (user_key, area) = match segments.as_slice() {
        [me, area, ..] if me == "me" => (None, area),
        [users, key, area, ..] if users == "users" => (Some(key.as_str()), area),
        _ => return None,
    };
    if !MAILBOX_AREAS.contains(&area.as_str()) {
        return None;
    }
    let grant = authenticate(sim, request.headers()).ok()?;
    let user = match user_key {
        None => grant.user,
        Some(key) => {
            let key = crate::graph::percent_decode(key);
            sim.directory()
                .tenant(grant.tenant)?
                .find_user_index(&key)?
        }
    };
    Some(Target::Mailbox {
        tenant: grant.tenant,
        user,
    })
}

pub(crate) async fn gate(State(sim): State<Arc<Inner>>, request: Request, next: Next) -> Response {
    let Some(target) = target(&sim, &request) else {
        return next.run(request).await;
    };
    match sim.throttle.admit(&sim, target, Instant::now()) {
        Ok(admission) => {
            let response = next.run(request).await;
            drop(admission);
            response
        }
        Err(refusal) => {
            // Refused here, the request never reaches the fault layer that
            // counts requests, so count it the same way.
            crate::faults::count(&sim, request.uri().path());
            bump(&sim.counters.throttle.rejected);
            refusal.into_response(&GraphCtx::from_headers(request.headers()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_and_profiles_parse() {
        assert_eq!(
            "30/2".parse::<Budget>(),
            Ok(Budget {
                requests: 30,
                window: Duration::from_secs(2)
            })
        );
        for bad in ["30", "0/5", "5/0", "a/b", "/", "-1/5"] {
            assert!(bad.parse::<Budget>().is_err(), "{bad}");
        }
        assert_eq!("Microsoft".parse(), Ok(ThrottleProfile::Microsoft));
        assert_eq!("off".parse(), Ok(ThrottleProfile::Off));
        assert!("fast".parse::<ThrottleProfile>().is_err());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        let error = throttled("x", Duration::from_millis(1500));
        assert_eq!(error.headers[0].1, "2");
        let error = throttled("x", Duration::ZERO);
        assert_eq!(error.headers[0].1, "1");
    }
}
