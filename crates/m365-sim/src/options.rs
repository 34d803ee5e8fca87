use std::time::Duration;

use serde::Serialize;

/// Runtime behaviour of a simulator.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Every token and Graph request waits this long before it is answered.
    pub latency: Duration,
    pub fault: Option<Fault>,
    /// Lifetime of issued access tokens (`expires_in`).
    pub token_lifetime: Duration,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            latency: Duration::ZERO,
            fault: None,
            token_lifetime: Duration::from_secs(3599),
        }
    }
}

/// Injected failures: every `every`-th request (counting token and Graph
/// requests since the fault was set) fails. `every: 0` never fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 429 Too Many Requests with `Retry-After`.
    Throttle { every: u64, retry_after_secs: u64 },
    /// 503 Service Unavailable with `Retry-After`.
    Unavailable { every: u64, retry_after_secs: u64 },
}

impl Fault {
    pub(crate) fn every(self) -> u64 {
        match self {
            Fault::Throttle { every, .. } | Fault::Unavailable { every, .. } => every,
        }
    }

    pub(crate) fn retry_after_secs(self) -> u64 {
        match self {
            Fault::Throttle {
                retry_after_secs, ..
            }
            | Fault::Unavailable {
                retry_after_secs, ..
            } => retry_after_secs,
        }
    }
}

/// Request counters. `/_sim/*` requests are not counted; faulted requests
/// are.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimStats {
    pub requests: u64,
    pub token_requests: u64,
    pub graph_requests: u64,
    /// Graph requests under `/v1.0/users` (not `/me`).
    pub users_requests: u64,
    /// Graph requests under `/v1.0/groups`.
    pub groups_requests: u64,
    /// Graph requests under `/v1.0/sites`.
    pub sites_requests: u64,
}

/// Account state an administrator can change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserFlags {
    pub account_enabled: bool,
    pub mfa_required: bool,
    pub locked: bool,
    pub password_expired: bool,
}

impl Default for UserFlags {
    fn default() -> Self {
        UserFlags {
            account_enabled: true,
            mfa_required: false,
            locked: false,
            password_expired: false,
        }
    }
}
