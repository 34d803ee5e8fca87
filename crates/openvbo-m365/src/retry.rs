//! Sending one request politely: bounded concurrency, a shared pause while
//! Microsoft throttles, and retries that honour `Retry-After`.

use std::time::Duration;

use reqwest::{RequestBuilder, Response, StatusCode};
use tokio::time::Instant;

use crate::client::M365Client;
use crate::error::{transport_error, ErrorKind, M365Error};
use crate::limits::{Lane, Permit, Priority};

/// Without `Retry-After`, wait this long before the first retry, doubling.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

impl M365Client {
    /// Sends the request built by `build` (called again for each attempt) and
    /// returns the first response that is not a throttle or 5xx, or an error
    /// once retries are spent. `host` is for messages.
    pub(crate) async fn send(
        &self,
        host: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response, M365Error> {
        let mut attempt = 0u32;
        let started = Instant::now();
        loop {
            self.wait_out_pause().await;
            let response = {
                let _permit = self.limiter.acquire().await.map_err(|_| {
                    M365Error::new(ErrorKind::Protocol, "the connector is shutting down")
                })?;
                build().send().await
            };
            let response = match response {
                Ok(r) => r,
                Err(e) => {
                    let err = transport_error(&e, host, self.settings.request_timeout);
                    // A reset or refused connection may be a passing blip;
                    // every request we make is safe to repeat. A timeout has
                    // already cost its full budget and is not repeated.
                    let wait = backoff(attempt);
                    if err.kind == ErrorKind::Unreachable
                        && attempt < self.settings.max_retries
                        && started.elapsed() + wait < self.settings.total_budget
                    {
                        tracing::info!(host, error = %err, "connection to Microsoft failed; retrying");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(err);
                }
            };
            let status = response.status();
            let retryable = status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::SERVICE_UNAVAILABLE
                || status == StatusCode::BAD_GATEWAY
                || status == StatusCode::GATEWAY_TIMEOUT;
            if !retryable {
                return Ok(response);
            }
            let retry_after = retry_after(&response);
            let wait = retry_after.unwrap_or_else(|| backoff(attempt));
            if attempt >= self.settings.max_retries
                || wait > self.settings.max_retry_wait
                || started.elapsed() + wait >= self.settings.total_budget
            {
                let kind = if status == StatusCode::TOO_MANY_REQUESTS {
                    ErrorKind::Throttled { retry_after }
                } else {
                    ErrorKind::Unavailable { retry_after }
                };
                let what = if status == StatusCode::TOO_MANY_REQUESTS {
                    "is throttling requests"
                } else {
                    "is unavailable"
                };
                return Err(M365Error::new(
                    kind,
                    format!(
                        "{host} {what} (HTTP {}) after {} attempt(s)",
                        status.as_u16(),
                        attempt + 1
                    ),
                ));
            }
            tracing::info!(
                host,
                status = status.as_u16(),
                wait_ms = wait.as_millis() as u64,
                "Microsoft asked us to wait; retrying"
            );
            self.pause_for(wait).await;
            attempt += 1;
        }
    }

    async fn wait_out_pause(&self) {
        let until = *self.paused_until.lock().await;
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }

    async fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        {
            let mut paused = self.paused_until.lock().await;
            if paused.is_none_or(|p| p < until) {
                *paused = Some(until);
            }
        }
        tokio::time::sleep_until(until).await;
    }
}

/// `Retry-After` in seconds (Microsoft never sends the HTTP-date form).
fn retry_after(response: &Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Exponential backoff with up to 25 % jitter, so retries of many clients
/// spread out.
fn backoff(attempt: u32) -> Duration {
    let base = FIRST_BACKOFF.saturating_mul(1u32 << attempt.min(6));
    base + base.mul_f64(rand::random::<f64>() * 0.25)
}

/// A response and the limit slots held until its body has been read.
pub(crate) struct Held {
    pub response: Response,
    pub permit: Permit,
}

impl M365Client {
    /// Sends a Graph request in `lane`: waits for the lane's limits (see
    /// `limits`), retries throttling, 5xx, resets and (for background work)
    /// timeouts within the lane's bounded total, honouring `Retry-After` by
    /// pausing only the mailbox or tenant that was told to wait.
    pub(crate) async fn send_in(
        &self,
        lane: &Lane,
        host: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Held, M365Error> {
        let settings = &self.settings;
        let background = lane.priority == Priority::Background;
        let (max_retries, total_budget, max_wait) = if background {
            (
                settings.background_max_retries,
                settings.background_total_budget,
                settings.background_total_budget,
            )
        } else {
            (
                settings.max_retries,
                settings.total_budget,
                settings.max_retry_wait,
            )
        };
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            let permit = self.limits.acquire(lane).await;
            let sent = build().send().await;
            let response = match sent {
                Ok(response) => response,
                Err(e) => {
                    drop(permit);
                    let err = transport_error(&e, host, settings.request_timeout);
                    // Every request we make is safe to repeat. A timeout has
                    // cost its full budget already: only background work,
                    // which nobody watches, tries again.
                    let repeatable = err.kind == ErrorKind::Unreachable
                        || (background && err.kind == ErrorKind::Timeout);
                    let wait = backoff(attempt);
                    if repeatable
                        && attempt < max_retries
                        && started.elapsed() + wait < total_budget
                    {
                        tracing::info!(host, error = %err, attempt, "request to Microsoft failed; retrying");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(err);
                }
            };
            let status = response.status();
            let retryable = matches!(status.as_u16(), 429 | 502 | 503 | 504)
                || (background && status == StatusCode::INTERNAL_SERVER_ERROR);
            if !retryable {
                return Ok(Held { response, permit });
            }
            drop(permit);
            let retry_after = retry_after(&response);
            let wait = retry_after.unwrap_or_else(|| backoff(attempt));
            if attempt >= max_retries || wait > max_wait || started.elapsed() + wait >= total_budget
            {
                let kind = if status == StatusCode::TOO_MANY_REQUESTS {
                    ErrorKind::Throttled { retry_after }
                } else {
                    ErrorKind::Unavailable { retry_after }
                };
                let what = match status.as_u16() {
                    429 => "is throttling requests",
                    500 => "is failing",
                    _ => "is unavailable",
                };
                return Err(M365Error::new(
                    kind,
                    format!(
                        "{host} {what} (HTTP {}) after {} attempt(s)",
                        status.as_u16(),
                        attempt + 1
                    ),
                ));
            }
            tracing::info!(
                host,
                status = status.as_u16(),
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "Microsoft asked us to wait; retrying"
            );
            if retry_after.is_some() {
                self.limits.pause(lane, wait);
            } else {
                tokio::time::sleep(wait).await;
            }
            attempt += 1;
        }
    }
}
