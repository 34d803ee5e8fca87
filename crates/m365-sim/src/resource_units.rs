//! SharePoint and OneDrive resource units (with `--throttle-profile
//! microsoft`): each drive request costs units from its tenant's budget per
//! minute (1,200 for tenants under 1,000 licences); past it, 429 or 503
//! with `Retry-After` until the window ends. Refused requests still count,
//! as at Microsoft. Costs (protocol doc §9.2): 1 for delta with a token,
//! one item or a download; 2 for listings, delta without a token, and
//! every write.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::header::RETRY_AFTER;
use axum::http::StatusCode;

use crate::drive_store::relock;
use crate::graph_errors::GraphError;
use crate::throttle::Budget;

/// What a drive request costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cost {
    One = 1,
    Two = 2,
}

/// Microsoft's smallest tier: 1,200 units per minute per app per tenant.
pub(crate) const DEFAULT_BUDGET: Budget = Budget {
    requests: 1200,
    window: Duration::from_secs(60),
};

pub(crate) struct ResourceUnits {
    budget: Mutex<Budget>,
    /// Tenant index → (window start, units used).
    windows: Mutex<HashMap<usize, (Instant, u64)>>,
}

impl Default for ResourceUnits {
    fn default() -> Self {
        ResourceUnits {
            budget: Mutex::new(DEFAULT_BUDGET),
            windows: Mutex::new(HashMap::new()),
        }
    }
}

impl ResourceUnits {
    pub(crate) fn set_budget(&self, budget: Budget) {
        *relock(self.budget.lock()) = budget;
        relock(self.windows.lock()).clear();
    }

    /// Charges `cost` to `tenant`; `Err` is the refusal to send. Every
    /// other refusal is a 503, as SharePoint mixes both.
    pub(crate) fn charge(&self, tenant: usize, cost: Cost, now: Instant) -> Result<(), GraphError> {
        let budget = *relock(self.budget.lock());
        let mut windows = relock(self.windows.lock());
        let (start, used) = windows.entry(tenant).or_insert((now, 0));
        if now.duration_since(*start) >= budget.window {
            *start = now;
            *used = 0;
        }
        *used += cost as u64;
        if *used <= budget.requests {
            return Ok(());
        }
        let left = budget.window.saturating_sub(now.duration_since(*start));
        let secs = (left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1);
        let over = *used - budget.requests;
        let error = if over & 1 == 0 {
            GraphError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "serviceNotAvailable",
                "The request has been throttled: the application is over its resource unit limit for this tenant.",
            )
        } else {
            GraphError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "activityLimitReached",
                "The request has been throttled: the application is over its resource unit limit for this tenant.",
            )
        };
        Err(error.with_header(RETRY_AFTER, secs.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_bites_then_the_window_reopens() {
        let units = ResourceUnits::default();
        units.set_budget(Budget {
            requests: 5,
            window: Duration::from_secs(60),
        });
        let t0 = Instant::now();
        assert!(units.charge(0, Cost::Two, t0).is_ok());
        assert!(units.charge(0, Cost::Two, t0).is_ok());
        assert!(units.charge(0, Cost::One, t0).is_ok());
        let refused = units.charge(0, Cost::One, t0 + Duration::from_secs(20));
        let refused = refused.err().map(|e| (e.status, e.headers[0].1.clone()));
        assert_eq!(
            refused,
            Some((StatusCode::TOO_MANY_REQUESTS, "40".to_owned()))
        );
        assert!(
            units.charge(1, Cost::Two, t0).is_ok(),
            "tenants are isolated"
        );
        assert!(units
            .charge(0, Cost::Two, t0 + Duration::from_secs(60))
            .is_ok());
    }
}
