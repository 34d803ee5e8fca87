//! Sending mail requests in a mailbox's lane and classifying Graph's
//! answers into error kinds callers can act on.

use bytes::Bytes;
use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use url::Url;

use crate::error::{transport_error, ErrorKind, M365Error};
use crate::graph::GraphSession;
use crate::limits::Lane;
use crate::retry::Held;
use crate::signin::host_of;

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

/// Codes that mean "this delta token is no longer any good".
const INVALID_DELTA: [&str; 3] = ["syncstatenotfound", "resyncrequired", "syncstateinvalid"];

/// Every code in the error body, outermost first, lower-cased.
fn codes(detail: &ErrorDetail) -> Vec<String> {
    let mut out = vec![detail.code.to_ascii_lowercase()];
    if let Some(inner) = &detail.inner {
        out.extend(codes(inner));
    }
    out
}

/// Microsoft's answer as an error whose kind says what to do.
pub(crate) fn classify(status: u16, body: &[u8], host: &str, what: &str) -> M365Error {
    let (codes, code, message) = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => (codes(&b.error), b.error.code, b.error.message),
        Err(_) => (Vec::new(), String::new(), String::new()),
    };
    let has = |list: &[&str]| codes.iter().any(|c| list.contains(&c.as_str()));
    let kind = if status == 410 || has(&INVALID_DELTA) {
        ErrorKind::Gone
    } else if status == 409 || has(&["errorfolderexists", "namealreadyexists"]) {
        ErrorKind::Conflict
    } else {
        match status {
            401 => ErrorKind::Unauthorized,
            403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            429 => ErrorKind::Throttled { retry_after: None },
            s if s >= 500 => ErrorKind::Unavailable { retry_after: None },
            _ => ErrorKind::Protocol,
        }
    };
    let detail = match (code.is_empty(), message.is_empty()) {
        (true, _) => String::new(),
        (false, true) => format!(" {code}"),
        (false, false) => format!(" {code}: {message}"),
    };
    M365Error::new(
        kind,
        format!("Microsoft Graph ({host}) answered {what} with HTTP {status}{detail}"),
    )
}

/// What to send.
pub(crate) enum Payload {
    None,
    Json(serde_json::Value),
}

impl GraphSession {
    /// One request in `lane`; errors are classified, the permit comes back
    /// with a successful response so the caller can stream its body.
    pub(crate) async fn mail_send(
        &self,
        lane: &Lane,
        method: Method,
        url: &Url,
        payload: &Payload,
        prefer: Option<&str>,
    ) -> Result<Held, M365Error> {
        let host = host_of(url);
        let build = || -> RequestBuilder {
            let mut request = self
                .authorize(self.client().http.request(method.clone(), url.clone()))
                .header("Accept", "application/json")
                .timeout(self.client().settings.content_timeout);
            if let Some(prefer) = prefer {
                request = request.header("Prefer", prefer);
            }
            match payload {
                Payload::None => request,
                Payload::Json(value) => request.json(value),
            }
        };
        let held = self.client().send_in(lane, &host, build).await?;
        let status = held.response.status();
        if status.is_success() {
            return Ok(held);
        }
        let body = self.read_body(held, &host).await.unwrap_or_default();
        Err(classify(status.as_u16(), &body, &host, url.path()))
    }

    pub(crate) async fn read_body(&self, held: Held, host: &str) -> Result<Bytes, M365Error> {
        let timeout = self.client().settings.content_timeout;
        let body = held
            .response
            .bytes()
            .await
            .map_err(|e| transport_error(&e, host, timeout))?;
        drop(held.permit);
        Ok(body)
    }

    /// A JSON answer, parsed.
    pub(crate) async fn mail_json<T: DeserializeOwned>(
        &self,
        lane: &Lane,
        method: Method,
        url: &Url,
        payload: &Payload,
        prefer: Option<&str>,
    ) -> Result<T, M365Error> {
        let held = self.mail_send(lane, method, url, payload, prefer).await?;
        let host = host_of(url);
        let body = self.read_body(held, &host).await?;
        serde_json::from_slice(&body).map_err(|e| {
            M365Error::new(
                ErrorKind::Protocol,
                format!(
                    "Microsoft Graph answered {} with an unexpected body: {e}",
                    url.path()
                ),
            )
        })
    }

    pub(crate) fn mail_lane(&self, mailbox: &str) -> Lane {
        Lane::mailbox(self.tenant_key(), mailbox)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_decide_the_kind_at_any_depth() {
        let gone = br#"{"error":{"code":"x","innerError":{"code":"SyncStateNotFound"}}}"#;
        assert_eq!(classify(400, gone, "h", "/p").kind, ErrorKind::Gone);
        assert_eq!(classify(410, b"", "h", "/p").kind, ErrorKind::Gone);
        let exists = br#"{"error":{"code":"ErrorFolderExists","message":"exists"}}"#;
        let error = classify(400, exists, "h", "/p");
        assert_eq!(error.kind, ErrorKind::Conflict);
        assert!(error.message.contains("ErrorFolderExists: exists"));
        assert_eq!(classify(404, b"{}", "h", "/p").kind, ErrorKind::NotFound);
        assert!(classify(503, b"", "h", "/p").is_transient());
        assert!(!classify(403, b"", "h", "/p").is_transient());
    }
}
