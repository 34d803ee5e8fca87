//! Logging administrators in, refreshing their tokens, and recognising
//! bearer tokens.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;
use uuid::Uuid;

use super::grant_cache::GrantCache;
use super::hashing::HashingPool;
use super::password::{generate_password, hash_password, verify_password, UNKNOWN_USER_HASH};
use super::throttle::{LoginThrottle, ThrottleSettings};
use super::token::{generate_token, hash_token};
use crate::clock;
use crate::error::CoreError;
use crate::store::{
    AccessGrant, AdminRecord, IssuedToken, NewSession, RefreshOutcome, Store, StoreError,
};

#[derive(Clone, Copy, Debug)]
pub struct AuthSettings {
    pub access_token_lifetime: Duration,
    pub refresh_token_lifetime: Duration,
    pub throttle: ThrottleSettings,
    /// How long a verified access token is trusted without a database read;
    /// zero reads it every time.
    pub grant_cache_ttl: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            access_token_lifetime: Duration::from_secs(60 * 60),
            refresh_token_lifetime: Duration::from_secs(14 * 24 * 60 * 60),
            throttle: ThrottleSettings::default(),
            grant_cache_ttl: Duration::from_secs(5),
        }
    }
}

/// What `POST /v6/Token` hands out.
#[derive(Debug)]
pub struct TokenGrant {
    pub access_token: SecretString,
    pub refresh_token: SecretString,
    pub user_name: String,
    pub issued: OffsetDateTime,
    pub expires: OffsetDateTime,
    pub expires_in: u64,
}

#[derive(Clone)]
pub struct AuthService {
    store: Arc<dyn Store>,
    settings: AuthSettings,
    throttle: Arc<LoginThrottle>,
    /// argon2 runs on one thread per core, so a login flood can take neither
    /// all the CPU nor unbounded memory.
    hashing: HashingPool,
    grants: Arc<GrantCache>,
}

impl AuthService {
    pub fn new(store: Arc<dyn Store>, settings: AuthSettings) -> Result<Self, CoreError> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Self {
            store,
            throttle: Arc::new(LoginThrottle::new(settings.throttle)),
            settings,
            hashing: HashingPool::new(cores)?,
            grants: Arc::new(GrantCache::new(settings.grant_cache_ttl, 100_000)),
        })
    }

    /// On an empty store, creates the first administrator. Returns the
    /// password if it had to be generated (the caller shows it once).
    pub async fn ensure_admin(
        &self,
        user_name: &str,
        password: Option<SecretString>,
    ) -> Result<Option<SecretString>, CoreError> {
        if self.store.admin_count().await? > 0 {
            return Ok(None);
        }
        let user_name = validate_user_name(user_name)?;
        let (password, generated) = match password {
            Some(p) if !p.expose_secret().is_empty() => (p, false),
            _ => (generate_password(), true),
        };
        let password_hash = self.hash(password.clone()).await?;
        match self
            .store
            .create_admin(&AdminRecord {
                user_name: user_name.to_owned(),
                password_hash,
            })
            .await
        {
            Ok(()) => {}
            // Another process created it first: fine, keep theirs.
            Err(StoreError::Conflict(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(user = user_name, generated, "administrator created");
        Ok(generated.then_some(password))
    }

    /// Sets a new password (generated if `None`) and signs the user out
    /// everywhere. Returns the password that was set.
    pub async fn reset_password(
        &self,
        user_name: &str,
        password: Option<SecretString>,
    ) -> Result<SecretString, CoreError> {
        let password = password
            .filter(|p| !p.expose_secret().is_empty())
            .unwrap_or_else(generate_password);
        let hash = self.hash(password.clone()).await?;
        let existed = self.store.set_admin_password(user_name, &hash).await?;
        self.grants.clear();
        if !existed {
            let user_name = validate_user_name(user_name)?;
            self.store
                .create_admin(&AdminRecord {
                    user_name: user_name.to_owned(),
                    password_hash: hash,
                })
                .await?;
        }
        Ok(password)
    }

    #[tracing::instrument(skip_all, fields(user = %user_name, client = %client))]
    pub async fn login(
        &self,
        user_name: &str,
        password: SecretString,
        client: IpAddr,
    ) -> Result<TokenGrant, CoreError> {
        if let Err(retry_after) = self.throttle.check(user_name, client) {
            tracing::warn!("sign-in refused: too many failed attempts");
            return Err(CoreError::TooManyAttempts { retry_after });
        }
        let admin = self.store.find_admin(user_name.trim()).await?;
        let hash = admin
            .as_ref()
            .map(|a| a.password_hash.clone())
            .unwrap_or_else(|| UNKNOWN_USER_HASH.to_owned());
        let ok = self.verify(password, hash).await? && admin.is_some();
        let Some(admin) = admin.filter(|_| ok) else {
            self.throttle.record_failure(user_name, client);
            tracing::warn!("sign-in failed: wrong user name or password");
            return Err(CoreError::InvalidGrant(
                "The user name or password is incorrect.".into(),
            ));
        };
        self.throttle.record_success(user_name, client);
        self.issue(admin.user_name).await
    }

    /// Exchanges a refresh token for a new pair; the old one is spent.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenGrant, CoreError> {
        let now = clock::now();
        let access = generate_token();
        let refresh = generate_token();
        let (access_issued, refresh_issued) = self.lifetimes(&access, &refresh, now);
        let outcome = self
            .store
            .rotate_refresh_token(
                &hash_token(refresh_token.expose_secret()),
                &access_issued,
                &refresh_issued,
                now,
            )
            .await?;
        match outcome {
            RefreshOutcome::Rotated { user_name } => {
                Ok(self.grant(access, refresh, user_name, now))
            }
            RefreshOutcome::Unknown => Err(CoreError::InvalidGrant(
                "The refresh token is invalid.".into(),
            )),
            RefreshOutcome::Expired => Err(CoreError::InvalidGrant(
                "The refresh token has expired; sign in again with a user name and password."
                    .into(),
            )),
            RefreshOutcome::Reused => {
                // The revoked session's access tokens must stop working now.
                self.grants.clear();
                tracing::warn!(
                    "a spent refresh token was presented again; its session was revoked"
                );
                Err(CoreError::InvalidGrant(
                    "The refresh token was already used; the session was revoked. Sign in again."
                        .into(),
                ))
            }
        }
    }

    /// Recognises a bearer token.
    pub async fn authenticate(&self, bearer: &str) -> Result<AccessGrant, CoreError> {
        let hash = hash_token(bearer);
        let now = clock::now();
        if let Some(grant) = self.grants.get(&hash, now) {
            return Ok(grant);
        }
        let grant = self
            .store
            .find_access_token(&hash, now)
            .await?
            .ok_or_else(|| {
                CoreError::Unauthenticated("The access token is invalid or has expired.".into())
            })?;
        self.grants.put(hash, grant.clone());
        Ok(grant)
    }

    /// Forgets tokens that can no longer be used.
    pub async fn purge_expired(&self) -> Result<u64, CoreError> {
        Ok(self.store.purge_expired_tokens(clock::now()).await?)
    }

    async fn issue(&self, user_name: String) -> Result<TokenGrant, CoreError> {
        let now = clock::now();
        let access = generate_token();
        let refresh = generate_token();
        let (access_issued, refresh_issued) = self.lifetimes(&access, &refresh, now);
        self.store
            .insert_session(&NewSession {
                session_id: Uuid::new_v4(),
                user_name: user_name.clone(),
                issued_at: now,
                access: access_issued,
                refresh: refresh_issued,
            })
            .await?;
        Ok(self.grant(access, refresh, user_name, now))
    }

    fn lifetimes(
        &self,
        access: &SecretString,
        refresh: &SecretString,
        now: OffsetDateTime,
    ) -> (IssuedToken, IssuedToken) {
        (
            IssuedToken {
                hash: hash_token(access.expose_secret()),
                expires_at: now + self.settings.access_token_lifetime,
            },
            IssuedToken {
                hash: hash_token(refresh.expose_secret()),
                expires_at: now + self.settings.refresh_token_lifetime,
            },
        )
    }

    fn grant(
        &self,
        access: SecretString,
        refresh: SecretString,
        user_name: String,
        now: OffsetDateTime,
    ) -> TokenGrant {
        TokenGrant {
            access_token: access,
            refresh_token: refresh,
            user_name,
            issued: now,
            expires: now + self.settings.access_token_lifetime,
            expires_in: self.settings.access_token_lifetime.as_secs(),
        }
    }

    async fn hash(&self, password: SecretString) -> Result<String, CoreError> {
        self.hashing.run(move || hash_password(&password)).await?
    }

    async fn verify(&self, password: SecretString, hash: String) -> Result<bool, CoreError> {
        self.hashing
            .run(move || verify_password(&password, &hash))
            .await
    }
}

fn validate_user_name(user_name: &str) -> Result<&str, CoreError> {
    let name = user_name.trim();
    if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
        return Err(CoreError::validation(
            "username",
            "the administrator user name must be 1 to 128 printable characters",
        ));
    }
    Ok(name)
}
