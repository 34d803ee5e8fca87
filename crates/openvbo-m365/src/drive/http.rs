//! Sending drive requests: resource units first, then the tenant's
//! SharePoint lane (the tenant's SharePoint `Retry-After` pause, apart from
//! mail's; the lane's concurrency slots and retry budget), and Graph's error bodies turned into typed errors that say
//! whether retrying helps.

use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use url::Url;

use super::resource_units::{Cost, ResourceUnits};
use crate::error::{transport_error, ErrorKind, M365Error};
use crate::graph::GraphSession;
use crate::limits::Lane;
use crate::retry::Held;
use crate::signin::host_of;

/// Drive operations of one signed-in session, charged to one tenant's
/// resource units, sent in one of the tenant's lanes. Cheap; make one
/// where needed.
pub struct DriveApi<'a> {
    pub(crate) session: &'a GraphSession,
    pub(crate) units: &'a ResourceUnits,
    pub(crate) lane: Lane,
}

impl GraphSession {
    /// Drive reads and writes, charged to `units` (one per tenant), in the
    /// tenant's background lane: backup and restore jobs, which nobody
    /// watches request by request, so they wait out any `Retry-After`
    /// within the background budget (15 minutes by default) instead of
    /// failing files when SharePoint's resource units run out. A person
    /// browsing wants [`DriveApi::interactive`].
    pub fn drives<'a>(&'a self, units: &'a ResourceUnits) -> DriveApi<'a> {
        DriveApi {
            session: self,
            units,
            lane: Lane::background(self.tenant_key()).sharepoint(),
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(rename = "innerError", alias = "innererror", default)]
    inner: Option<Box<ErrorDetail>>,
}

impl ErrorDetail {
    fn most_specific_code(&self) -> &str {
        match &self.inner {
            Some(inner) if !inner.most_specific_code().is_empty() => inner.most_specific_code(),
            _ => &self.code,
        }
    }
}

/// A failed answer: its status, Microsoft's code, and a message naming
/// what we were doing (never a URL's query, which may hold a credential).
pub(crate) fn failure(status: StatusCode, body: &[u8], host: &str, doing: &str) -> M365Error {
    let (code, message) = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => (b.error.most_specific_code().to_owned(), b.error.message),
        Err(_) => (String::new(), String::new()),
    };
    let kind = match status.as_u16() {
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 | 410 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        429 => ErrorKind::Throttled { retry_after: None },
        s if s >= 500 => ErrorKind::Unavailable { retry_after: None },
        _ => ErrorKind::Protocol,
    };
    let code = if code.is_empty() {
        String::new()
    } else {
        format!(" {code}")
    };
    let message = if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    };
    M365Error::new(
        kind,
        format!(
            "{host} answered {doing} with HTTP {}{code}{message}",
            status.as_u16()
        ),
    )
}

pub(crate) fn protocol(message: impl Into<String>) -> M365Error {
    M365Error::new(ErrorKind::Protocol, message)
}

impl<'a> DriveApi<'a> {
    /// The same operations in the tenant's interactive lane, for a person
    /// waiting on the answer: its own concurrency slots (background work
    /// cannot take them), and a `Retry-After` longer than the interactive
    /// wait (10 s by default) is reported at once as `Throttled` or
    /// `Unavailable` instead of holding the person's request open.
    pub fn interactive(self) -> DriveApi<'a> {
        DriveApi {
            lane: Lane::interactive(self.session.tenant_key()).sharepoint(),
            ..self
        }
    }

    /// A copy for a reader that outlives this borrow of `self`.
    pub(crate) fn clone_api(&self) -> DriveApi<'a> {
        DriveApi {
            session: self.session,
            units: self.units,
            lane: self.lane.clone(),
        }
    }
}

impl DriveApi<'_> {
    pub(crate) fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Url, M365Error> {
        self.session.graph_url(segments, query)
    }

    /// A link Graph sent us, accepted only on Graph's own origin (our
    /// bearer token goes with it).
    pub(crate) fn graph_link(&self, link: &str) -> Result<Url, M365Error> {
        let url =
            Url::parse(link).map_err(|_| protocol("Microsoft Graph sent a malformed link"))?;
        if url.origin() != self.session.endpoints().graph.origin() {
            return Err(protocol(format!(
                "Microsoft Graph sent a link to another host ({}); not following it",
                host_of(&url)
            )));
        }
        Ok(url)
    }

    /// A request to Graph with the bearer token; `body` builds the body on
    /// each attempt. The lane's slots stay held (in [`Held`]) until the
    /// answer's body has been read.
    pub(crate) async fn graph_request(
        &self,
        method: Method,
        url: &Url,
        cost: Cost,
        body: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Held, M365Error> {
        let (client, token) = self.session.http_parts();
        self.send(url, cost, || {
            body(
                client
                    .http
                    .request(method.clone(), url.clone())
                    .bearer_auth(token)
                    .header("Accept", "application/json"),
            )
        })
        .await
    }

    /// A request to a pre-authenticated SharePoint URL: never our token.
    pub(crate) async fn plain_request(
        &self,
        method: Method,
        url: &Url,
        cost: Cost,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Held, M365Error> {
        let (client, _) = self.session.http_parts();
        self.send(url, cost, || {
            build(client.http.request(method.clone(), url.clone()))
        })
        .await
    }

    /// Charges `cost` (waiting for the units), then sends in the lane. Every
    /// retry is charged too, since SharePoint charges refused requests as
    /// well: our count stays what Microsoft's is.
    async fn send(
        &self,
        url: &Url,
        cost: Cost,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Held, M365Error> {
        self.units.acquire(cost).await;
        let first = AtomicBool::new(true);
        let (client, _) = self.session.http_parts();
        client
            .send_in(&self.lane, &host_of(url), || {
                if !first.swap(false, Ordering::Relaxed) {
                    self.units.charge_retry(cost);
                }
                build()
            })
            .await
    }

    /// The body of an answer (ending its hold on the lane's slots); an
    /// unreadable body reads as empty, for error answers.
    pub(crate) async fn error_body(&self, held: Held) -> Bytes {
        let Held { response, permit } = held;
        let body = response.bytes().await.unwrap_or_default();
        drop(permit);
        body
    }

    /// The body of a successful answer as `T`, or the typed failure.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        held: Held,
        doing: &str,
    ) -> Result<T, M365Error> {
        let Held { response, permit } = held;
        let status = response.status();
        let host = response.url().host_str().unwrap_or_default().to_owned();
        let body = response.bytes().await.map_err(|e| {
            transport_error(
                &e,
                &host,
                self.session.http_parts().0.settings.request_timeout,
            )
        })?;
        drop(permit);
        if !status.is_success() {
            return Err(failure(status, &body, &host, doing));
        }
        serde_json::from_slice(&body).map_err(|e| {
            protocol(format!(
                "{host} answered {doing} with an unexpected body: {e}"
            ))
        })
    }
}
