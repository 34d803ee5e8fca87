use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use axum::routing::{any, get, post, put};
use axum::Router;

use crate::directory::Directory;
use crate::error::SimError;
use crate::options::{Fault, SimOptions, SimStats, UserFlags};
use crate::stats::{ContentCounters, ThrottleCounters};
use crate::tenant::Tenant;
use crate::throttle::{Throttle, ThrottleOptions};
use crate::tokens::TokenStore;
use crate::{control, faults, graph, throttle, token_endpoint};

/// A running set of simulated tenants. Cloning is cheap and every clone
/// drives the same simulator.
#[derive(Clone)]
pub struct Simulator {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    directory: RwLock<Directory>,
    tokens: Mutex<TokenStore>,
    pub token_lifetime: Duration,
    latency: Mutex<Duration>,
    fault: Mutex<FaultState>,
    pub counters: Counters,
    pub throttle: Throttle,
    /// OneDrive and SharePoint drives, their uploads and download URLs.
    pub drives: crate::drive_store::DriveStores,
    /// Mailboxes, built on first use.
    pub mail: crate::mail_store::MailStores,
    /// Outlook attachment upload sessions in progress.
    pub mail_uploads: crate::mail_upload::UploadSessions,
}

#[derive(Default)]
pub(crate) struct FaultState {
    pub fault: Option<Fault>,
    /// Requests seen since the fault was set, so "every Nth" is predictable.
    pub seen: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub token_requests: AtomicU64,
    pub graph_requests: AtomicU64,
    pub users_requests: AtomicU64,
    pub groups_requests: AtomicU64,
    pub sites_requests: AtomicU64,
    pub content: ContentCounters,
    pub throttle: ThrottleCounters,
}

impl Counters {
    /// `POST /_sim/stats/reset`: every counter back to zero.
    pub(crate) fn reset(&self) {
        for counter in [
            &self.requests,
            &self.token_requests,
            &self.graph_requests,
            &self.users_requests,
            &self.groups_requests,
            &self.sites_requests,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        self.content.reset();
        self.throttle.reset();
    }
}

/// A panic while holding a lock cannot leave these structures half-updated
/// in a way that matters to a simulator, so poisoning is ignored.
fn relock<G>(result: Result<G, PoisonError<G>>) -> G {
    result.unwrap_or_else(PoisonError::into_inner)
}

impl Inner {
    pub(crate) fn directory(&self) -> RwLockReadGuard<'_, Directory> {
        relock(self.directory.read())
    }

    fn directory_mut(&self) -> RwLockWriteGuard<'_, Directory> {
        relock(self.directory.write())
    }

    pub(crate) fn tokens(&self) -> MutexGuard<'_, TokenStore> {
        relock(self.tokens.lock())
    }

    pub(crate) fn latency(&self) -> Duration {
        *relock(self.latency.lock())
    }

    pub(crate) fn set_latency(&self, latency: Duration) {
        *relock(self.latency.lock()) = latency;
    }

    pub(crate) fn fault_state(&self) -> MutexGuard<'_, FaultState> {
        relock(self.fault.lock())
    }

    pub(crate) fn set_fault(&self, fault: Option<Fault>) {
        *self.fault_state() = FaultState { fault, seen: 0 };
    }

    pub(crate) fn stats(&self) -> SimStats {
        SimStats {
            requests: self.counters.requests.load(Ordering::Relaxed),
            token_requests: self.counters.token_requests.load(Ordering::Relaxed),
            graph_requests: self.counters.graph_requests.load(Ordering::Relaxed),
            users_requests: self.counters.users_requests.load(Ordering::Relaxed),
            groups_requests: self.counters.groups_requests.load(Ordering::Relaxed),
            sites_requests: self.counters.sites_requests.load(Ordering::Relaxed),
            content: self.counters.content.snapshot(),
            throttle: self.counters.throttle.snapshot(),
        }
    }
}

impl Simulator {
    /// Validates the tenants (GUID ids, unique tenant ids and domains, unique
    /// UPNs on the tenant's own domains, group members that exist).
    pub fn new(tenants: Vec<Tenant>, options: SimOptions) -> Result<Self, SimError> {
        let directory = Directory::new(tenants)?;
        Ok(Simulator {
            inner: Arc::new(Inner {
                directory: RwLock::new(directory),
                tokens: Mutex::new(TokenStore::default()),
                token_lifetime: options.token_lifetime,
                latency: Mutex::new(options.latency),
                fault: Mutex::new(FaultState {
                    fault: options.fault,
                    seen: 0,
                }),
                counters: Counters::default(),
                throttle: Throttle::new(options.throttle),
                drives: crate::drive_store::DriveStores::new(options.content.clone()),
                mail_uploads: crate::mail_upload::UploadSessions::default(),
                mail: crate::mail_store::MailStores::new(
                    options.content.synthetic_messages,
                    options.content.content_seed,
                ),
            }),
        })
    }

    /// The simulator's HTTP surface: `/{tenant}/oauth2/v2.0/token`,
    /// `/v1.0/...` and the `/_sim/...` control endpoints.
    pub fn router(&self) -> Router {
        let microsoft = Router::new()
            .route(
                "/{tenant}/oauth2/v2.0/token",
                post(token_endpoint::token).get(token_endpoint::token_wrong_method),
            )
            .route("/v1.0", any(graph::graph))
            .route("/v1.0/", any(graph::graph))
            .route("/v1.0/{*path}", any(graph::graph))
            .route(
                "/api/v2.0/{*session}",
                axum::routing::put(crate::mail_upload::endpoint),
            )
            .route(
                "/_api/v2.0/uploadSession",
                any(crate::upload_session::endpoint),
            )
            .route(
                "/{kind}/{site}/_layouts/15/download.aspx",
                get(crate::drive_download::download),
            )
            .fallback(graph::outside_simulated_namespace)
            .layer(axum::middleware::from_fn_with_state(
                self.inner.clone(),
                faults::gate,
            ))
            // Outside the fault layer, so a request holds its mailbox slot
            // through the injected latency.
            .layer(axum::middleware::from_fn_with_state(
                self.inner.clone(),
                throttle::gate,
            ));
        let control = Router::new()
            .route("/_sim/stats", get(control::stats))
            .route("/_sim/stats/reset", post(control::reset_stats))
            .route("/_sim/mail/expire-delta", post(control::expire_mail_delta))
            .route(
                "/_sim/drives/{drive}/expire-delta",
                post(crate::drive_control::expire_delta),
            )
            .route(
                "/_sim/drives/clock",
                post(crate::drive_control::advance_clock),
            )
            .route("/_sim/drives/faults", put(crate::drive_control::put_faults))
            .route(
                "/_sim/faults",
                get(control::get_faults).put(control::put_faults),
            );
        microsoft.merge(control).with_state(self.inner.clone())
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, "m365 simulator listening");
        }
        // Without TCP_NODELAY, a response written in more than one piece can wait
        // for the client's delayed ACK (Nagle's algorithm), a delay per request
        // that Microsoft's front ends do not add.
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    pub fn set_latency(&self, latency: Duration) {
        self.inner.set_latency(latency);
    }

    /// Replaces the fault and restarts its request count.
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.inner.set_fault(fault);
    }

    pub fn stats(&self) -> SimStats {
        self.inner.stats()
    }

    /// Zeroes every counter (as `POST /_sim/stats/reset`).
    pub fn reset_stats(&self) {
        self.inner.counters.reset();
    }

    /// Expires the delta state of one mail folder (id or well-known name)
    /// or, with `None`, of the whole mailbox: older tokens answer 410
    /// `SyncStateNotFound` (as `POST /_sim/mail/expire-delta`).
    pub fn expire_mail_delta(
        &self,
        tenant_id_or_domain: &str,
        user: &str,
        folder: Option<&str>,
    ) -> Result<usize, String> {
        crate::graph_mail::expire(&self.inner, tenant_id_or_domain, user, folder)
    }

    /// Replaces the throttling limits and forgets their windows.
    pub fn set_throttle(&self, options: ThrottleOptions) {
        self.inner.throttle.set_options(options);
    }

    /// "The admin changed the password": later sign-ins need the new one and
    /// the user's refresh tokens are revoked (AADSTS50173).
    pub fn set_password(
        &self,
        tenant_id_or_domain: &str,
        upn: &str,
        new_password: &str,
    ) -> Result<(), SimError> {
        self.inner
            .directory_mut()
            .set_password(tenant_id_or_domain, upn, new_password)
    }

    pub fn set_user_flags(
        &self,
        tenant_id_or_domain: &str,
        upn: &str,
        flags: UserFlags,
    ) -> Result<(), SimError> {
        self.inner
            .directory_mut()
            .set_flags(tenant_id_or_domain, upn, flags)
    }

    /// "The user was deleted in Microsoft 365": the user leaves `/users`,
    /// group memberships, personal sites and drives, and can no longer sign
    /// in or redeem refresh tokens (AADSTS50034).
    pub fn remove_user(&self, tenant_id_or_domain: &str, upn: &str) -> Result<(), SimError> {
        self.inner
            .directory_mut()
            .remove_user(tenant_id_or_domain, upn)
    }
}
