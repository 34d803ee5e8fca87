//! Password sign-in (OAuth2 resource owner password credentials) at the
//! Microsoft identity platform v2.0 token endpoint.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::time::Instant;

use crate::client::M365Client;
use crate::cloud::Endpoints;
use crate::error::{ErrorKind, M365Error, SignInFailure};
use crate::graph::GraphSession;

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// The error body of the token endpoint. `error` varies across Microsoft's
/// fleet; `error_codes` is what to branch on.
#[derive(Deserialize)]
struct TokenErrorResponse {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_codes: Vec<u32>,
    #[serde(default)]
    error_description: String,
}

impl M365Client {
    /// Signs in as `username` in `tenant` (a tenant id, a verified domain or
    /// `organizations`) and returns a Graph session for that user.
    #[tracing::instrument(skip_all, fields(tenant = tenant))]
    pub async fn sign_in_with_password(
        &self,
        endpoints: &Endpoints,
        tenant: &str,
        username: &str,
        password: &SecretString,
    ) -> Result<GraphSession, M365Error> {
        let scope = format!("{}/.default offline_access", endpoints.graph_resource);
        self.request_token(
            endpoints,
            tenant,
            username,
            &[
                ("grant_type", "password"),
                ("scope", scope.as_str()),
                ("username", username),
                ("password", password.expose_secret()),
            ],
        )
        .await
    }

    /// A new session from the refresh token of `session`, without the
    /// password. `None` if Microsoft gave no refresh token.
    #[tracing::instrument(skip_all, fields(tenant = %session.tenant))]
    pub async fn refresh(&self, session: &GraphSession) -> Option<Result<GraphSession, M365Error>> {
        let refresh = session.refresh_token.as_ref()?;
        let scope = format!(
            "{}/.default offline_access",
            session.endpoints().graph_resource
        );
        Some(
            self.request_token(
                session.endpoints(),
                &session.tenant,
                "the refresh token",
                &[
                    ("grant_type", "refresh_token"),
                    ("scope", scope.as_str()),
                    ("refresh_token", refresh.expose_secret()),
                ],
            )
            .await,
        )
    }

    async fn request_token(
        &self,
        endpoints: &Endpoints,
        tenant: &str,
        who: &str,
        grant: &[(&str, &str)],
    ) -> Result<GraphSession, M365Error> {
        let mut url = endpoints.login.clone();
        url.path_segments_mut()
            .map_err(|_| M365Error::new(ErrorKind::Protocol, "the login URL cannot be a base"))?
            .pop_if_empty()
            .extend([tenant, "oauth2", "v2.0", "token"]);
        let host = host_of(&url);
        let mut form: Vec<(&str, &str)> = vec![("client_id", self.settings.client_id.as_str())];
        form.extend_from_slice(grant);
        let response = self
            .send(&host, || self.http.post(url.clone()).form(&form))
            .await?;
        let started = Instant::now();
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| crate::error::transport_error(&e, &host, self.settings.request_timeout))?;

        if status.is_success() {
            let token: TokenResponse = serde_json::from_slice(&body).map_err(|_| {
                M365Error::new(
                    ErrorKind::Protocol,
                    format!("{host} answered the sign-in with a body that is not a token response"),
                )
            })?;
            return Ok(GraphSession::new(
                self.clone(),
                endpoints.clone(),
                tenant.to_owned(),
                SecretString::from(token.access_token),
                token.refresh_token.map(SecretString::from),
                session_deadline(started, token.expires_in),
            ));
        }

        match serde_json::from_slice::<TokenErrorResponse>(&body) {
            Ok(err) if status.is_client_error() => {
                let failure = SignInFailure::from_codes(&err.error_codes, &err.error);
                // Only the first line: the rest is trace and correlation ids.
                let summary = err.error_description.lines().next().unwrap_or_default();
                Err(M365Error::new(
                    ErrorKind::SignIn(failure),
                    format!("{host} refused the sign-in of {who}: {summary}"),
                ))
            }
            _ => Err(M365Error::new(
                ErrorKind::Protocol,
                format!("{host} answered the sign-in with HTTP {}", status.as_u16()),
            )),
        }
    }
}

/// Microsoft's access tokens live about an hour, never more than a day. A
/// longer `expires_in` is not believed (it would keep a revoked token in
/// use), and an absurd one must not overflow the deadline's addition.
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// When a session signed in at `started` must be renewed.
fn session_deadline(started: Instant, expires_in: Option<u64>) -> Instant {
    let lifetime = Duration::from_secs(expires_in.unwrap_or(3600)).min(MAX_TOKEN_LIFETIME);
    started.checked_add(lifetime).unwrap_or(started)
}

pub(crate) fn host_of(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => url.as_str().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A deterministic stream of u64s spread over the whole range
    /// (xorshift64*), so the sweep below covers every order of magnitude.
    fn spread(mut x: u64) -> impl Iterator<Item = u64> {
        std::iter::from_fn(move || {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            Some(x.wrapping_mul(0x2545_F491_4F6C_DD1D))
        })
    }

    #[test]
    fn any_expires_in_gives_a_deadline_within_a_day_without_panicking() {
        let started = Instant::now();
        let edges = [
            0,
            1,
            3599,
            86_400,
            86_401,
            i64::MAX as u64,
            u64::MAX / 2,
            u64::MAX,
        ];
        for expires_in in edges.into_iter().chain(spread(0x9E37_79B9).take(10_000)) {
            let deadline = session_deadline(started, Some(expires_in));
            let lifetime = deadline - started;
            assert!(lifetime <= MAX_TOKEN_LIFETIME, "{expires_in}: {lifetime:?}");
            assert_eq!(
                lifetime,
                Duration::from_secs(expires_in).min(MAX_TOKEN_LIFETIME),
                "{expires_in}"
            );
        }
        assert_eq!(
            session_deadline(started, None) - started,
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn absurd_token_responses_parse_or_fail_without_panicking() {
        let started = Instant::now();
        let bodies = [
            r#"{"access_token":"a","expires_in":18446744073709551615}"#.to_owned(),
            r#"{"access_token":"a","expires_in":18446744073709551616}"#.to_owned(),
            r#"{"access_token":"a","expires_in":-1}"#.to_owned(),
            r#"{"access_token":"a","expires_in":1e300}"#.to_owned(),
            r#"{"access_token":"a","expires_in":"3600"}"#.to_owned(),
            r#"{"access_token":"a","expires_in":null}"#.to_owned(),
        ];
        let mut parsed = 0;
        for body in bodies.iter().cloned().chain(
            spread(7)
                .take(1000)
                .map(|n| format!(r#"{{"access_token":"a","expires_in":{n}}}"#)),
        ) {
            if let Ok(token) = serde_json::from_str::<TokenResponse>(&body) {
                parsed += 1;
                let lifetime = session_deadline(started, token.expires_in) - started;
                assert!(lifetime <= MAX_TOKEN_LIFETIME, "{body}");
            }
        }
        // The u64::MAX and null bodies and the 1000 generated ones parse;
        // the others are refused as not a token response.
        assert_eq!(parsed, 1002);
    }
}
