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
            let lifetime = Duration::from_secs(token.expires_in.unwrap_or(3600));
            return Ok(GraphSession::new(
                self.clone(),
                endpoints.clone(),
                tenant.to_owned(),
                SecretString::from(token.access_token),
                token.refresh_token.map(SecretString::from),
                started + lifetime,
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

pub(crate) fn host_of(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => url.as_str().to_owned(),
    }
}
