//! The shared HTTP client, its settings and its politeness toward Microsoft.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

use crate::error::{ErrorKind, M365Error};
use crate::limits::{LimitSettings, Limits};

/// Microsoft Graph Command Line Tools: a public client application Microsoft
/// publishes for delegated Graph access, allowed to use password sign-in.
/// Operators who registered their own application set `m365_client_id`.
pub const DEFAULT_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

#[derive(Clone, Debug)]
pub struct ConnectorSettings {
    /// The public client application that signs in.
    pub client_id: String,
    /// Limit for one HTTP exchange (connect + response).
    pub request_timeout: Duration,
    /// How often a throttled (429) or unavailable (503) request is retried.
    pub max_retries: u32,
    /// The longest we wait for one `Retry-After`; a longer demand is reported
    /// to the caller instead of holding its request open.
    pub max_retry_wait: Duration,
    /// The most one call (with its retries and waits) may take before it
    /// reports failure; a request in flight still ends at `request_timeout`.
    pub total_budget: Duration,
    /// Requests in flight to Microsoft at once for sign-ins (which have no
    /// tenant lane yet).
    pub max_concurrency: usize,
    pub user_agent: String,
    /// Per-tenant, per-mailbox and per-priority limits (see `limits`).
    pub limits: LimitSettings,
    /// Background (backup/restore) requests: how often one is retried on
    /// 429, 5xx, resets and timeouts, and the most its retries and waits
    /// may take in total. Any `Retry-After` within that total is honoured.
    pub background_max_retries: u32,
    pub background_total_budget: Duration,
    /// Items per message delta page (`Prefer: odata.maxpagesize`).
    pub mail_delta_page_size: u32,
    /// Limit for one background content exchange, body included (a large
    /// message's MIME takes longer than `request_timeout` allows).
    pub content_timeout: Duration,
}

impl Default for ConnectorSettings {
    fn default() -> Self {
        Self {
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            request_timeout: Duration::from_secs(20),
            max_retries: 3,
            max_retry_wait: Duration::from_secs(10),
            total_budget: Duration::from_secs(30),
            max_concurrency: 16,
            user_agent: concat!("ISV|openvbo|openvbo/", env!("CARGO_PKG_VERSION")).to_owned(),
            limits: LimitSettings::default(),
            background_max_retries: 8,
            background_total_budget: Duration::from_secs(15 * 60),
            mail_delta_page_size: 500,
            content_timeout: Duration::from_secs(60 * 60),
        }
    }
}

/// Cheap to clone; clones share connections, the concurrency limit and the
/// throttling pause.
#[derive(Clone, Debug)]
pub struct M365Client {
    pub(crate) http: reqwest::Client,
    pub(crate) settings: Arc<ConnectorSettings>,
    pub(crate) limiter: Arc<Semaphore>,
    /// Sign-in requests (no tenant lane): when Microsoft tells one to wait,
    /// every sign-in waits.
    pub(crate) paused_until: Arc<Mutex<Option<Instant>>>,
    /// Graph requests: limits per tenant, mailbox and priority.
    pub(crate) limits: Arc<Limits>,
}

impl M365Client {
    pub fn new(settings: ConnectorSettings) -> Result<Self, M365Error> {
        let http = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .timeout(settings.request_timeout)
            .connect_timeout(settings.request_timeout.min(Duration::from_secs(10)))
            // Microsoft never redirects these APIs; a redirect would carry
            // credentials somewhere unexpected.
            .redirect(reqwest::redirect::Policy::none())
            .https_only(false)
            .build()
            .map_err(|e| {
                M365Error::new(
                    ErrorKind::Protocol,
                    format!("cannot initialise the HTTP client: {e}"),
                )
            })?;
        Ok(Self {
            http,
            limiter: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
            limits: Arc::new(Limits::new(settings.limits)),
            settings: Arc::new(settings),
            paused_until: Arc::new(Mutex::new(None)),
        })
    }

    pub fn settings(&self) -> &ConnectorSettings {
        &self.settings
    }
}
