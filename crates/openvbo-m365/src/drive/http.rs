//! Sending drive requests: resource units first, then the client's polite
//! `send` (shared pause, retries), and Graph's error bodies turned into
//! typed errors that say whether retrying helps.

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use url::Url;

use super::resource_units::{Cost, ResourceUnits};
use crate::error::{transport_error, ErrorKind, M365Error};
use crate::graph::GraphSession;
use crate::signin::host_of;

/// Drive operations of one signed-in session, charged to one tenant's
/// resource units. Cheap; make one where needed.
pub struct DriveApi<'a> {
    pub(crate) session: &'a GraphSession,
    pub(crate) units: &'a ResourceUnits,
}

impl GraphSession {
    /// Drive reads and writes, charged to `units` (one per tenant).
    pub fn drives<'a>(&'a self, units: &'a ResourceUnits) -> DriveApi<'a> {
        DriveApi {
            session: self,
            units,
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
    /// each attempt.
    pub(crate) async fn graph_request(
        &self,
        method: Method,
        url: &Url,
        cost: Cost,
        body: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, M365Error> {
        self.units.acquire(cost).await;
        let (client, token) = self.session.http_parts();
        client
            .send(&host_of(url), || {
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
    ) -> Result<Response, M365Error> {
        self.units.acquire(cost).await;
        let (client, _) = self.session.http_parts();
        client
            .send(&host_of(url), || {
                build(client.http.request(method.clone(), url.clone()))
            })
            .await
    }

    /// The body of a successful answer as `T`, or the typed failure.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        response: Response,
        doing: &str,
    ) -> Result<T, M365Error> {
        let status = response.status();
        let host = response.url().host_str().unwrap_or_default().to_owned();
        let body = response.bytes().await.map_err(|e| {
            transport_error(
                &e,
                &host,
                self.session.http_parts().0.settings.request_timeout,
            )
        })?;
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
