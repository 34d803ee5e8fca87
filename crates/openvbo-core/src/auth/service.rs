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
use crate::clock::{self, SharedClock};
use crate::error::CoreError;
use crate::logsafe::{for_log, WarnLimiter};
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
    /// Sign-ins waiting for a hashing thread at most; beyond it they are
    /// refused at once (503 with `Retry-After`).
    pub hashing_queue: usize,
}

/// The longest token lifetime accepted: longer is a configuration mistake
/// (and an absurd one would overflow the expiry date).
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// Longer user names are refused before anything is hashed or remembered
/// (a UPN is at most 113 characters; administrators' names at most 128).
pub const MAX_USER_NAME_BYTES: usize = 256;
/// Longer passwords are refused before they are hashed.
pub const MAX_PASSWORD_BYTES: usize = 512;
/// The shortest administrator password accepted when one is set.
pub const MIN_ADMIN_PASSWORD_CHARS: usize = 12;

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            access_token_lifetime: Duration::from_secs(60 * 60),
            refresh_token_lifetime: Duration::from_secs(14 * 24 * 60 * 60),
            throttle: ThrottleSettings::default(),
            grant_cache_ttl: Duration::from_secs(5),
            hashing_queue: 64,
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
    clock: SharedClock,
    throttle: Arc<LoginThrottle>,
    /// Failed and refused sign-ins are logged, but not one line per guess.
    warnings: Arc<WarnLimiter>,
    /// argon2 runs on one thread per core, so a login flood can take neither
    /// all the CPU nor unbounded memory.
    hashing: HashingPool,
    grants: Arc<GrantCache>,
}

impl AuthService {
    pub fn new(store: Arc<dyn Store>, settings: AuthSettings) -> Result<Self, CoreError> {
        Self::with_clock(store, settings, clock::system())
    }

    /// Refuses settings that could not work (a lifetime of zero or beyond
    /// [`MAX_TOKEN_LIFETIME`]) here, at start-up, rather than at a login.
    pub fn with_clock(
        store: Arc<dyn Store>,
        settings: AuthSettings,
        clock: SharedClock,
    ) -> Result<Self, CoreError> {
        for (field, lifetime) in [
            ("access_token_lifetime", settings.access_token_lifetime),
            ("refresh_token_lifetime", settings.refresh_token_lifetime),
        ] {
            if lifetime.is_zero() || lifetime > MAX_TOKEN_LIFETIME {
                return Err(CoreError::validation(
                    field,
                    format!(
                        "{field} must be between 1 second and {} days",
                        MAX_TOKEN_LIFETIME.as_secs() / 86_400
                    ),
                ));
            }
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(Self {
            store,
            throttle: Arc::new(LoginThrottle::new(settings.throttle, clock.clone())),
            warnings: Arc::new(WarnLimiter::new(clock.clone(), Duration::from_secs(60), 20)),
            hashing: HashingPool::new(cores, settings.hashing_queue.max(1))?,
            grants: Arc::new(GrantCache::new(
                settings.grant_cache_ttl,
                100_000,
                clock.clone(),
            )),
            settings,
            clock,
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
            Some(p) if !p.expose_secret().is_empty() => (validate_new_password(p)?, false),
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
        let password = match password.filter(|p| !p.expose_secret().is_empty()) {
            Some(p) => validate_new_password(p)?,
            None => generate_password(),
        };
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

    /// A password sign-in from `client`. The order matters: lengths are
    /// checked before anything is kept, the attempt is counted before the
    /// password is hashed, and the hashing queue may refuse (503) rather
    /// than wait behind a flood.
    #[tracing::instrument(skip_all, fields(user = %for_log(user_name), client = %client))]
    pub async fn login(
        &self,
        user_name: &str,
        password: SecretString,
        client: IpAddr,
    ) -> Result<TokenGrant, CoreError> {
        if user_name.len() > MAX_USER_NAME_BYTES
            || password.expose_secret().len() > MAX_PASSWORD_BYTES
        {
            // No such administrator can exist, and no such password was set:
            // refuse without hashing, and without remembering the name.
            self.warn("sign-in refused: user name or password too long");
            return Err(wrong_credentials());
        }
        if let Err(retry_after) = self.throttle.begin(user_name, client) {
            self.warn("sign-in refused: too many attempts");
            return Err(CoreError::TooManyAttempts { retry_after });
        }
        let admin = self.store.find_admin(user_name.trim()).await?;
        let hash = admin
            .as_ref()
            .map(|a| a.password_hash.clone())
            .unwrap_or_else(|| UNKNOWN_USER_HASH.to_owned());
        let ok = self.verify(password, hash).await? && admin.is_some();
        let Some(admin) = admin.filter(|_| ok) else {
            self.warn("sign-in failed: wrong user name or password");
            return Err(wrong_credentials());
        };
        self.throttle.succeeded(user_name, client);
        self.issue(admin.user_name).await
    }

    /// A warning about a refused sign-in, rate-limited: a flood of guesses
    /// must not become a flood of log lines.
    fn warn(&self, what: &'static str) {
        if let Some(suppressed) = self.warnings.admit() {
            if suppressed > 0 {
                tracing::warn!(
                    suppressed,
                    "{what} (and {suppressed} sign-in warnings left out)"
                );
            } else {
                tracing::warn!("{what}");
            }
        }
    }

    /// Exchanges a refresh token for a new pair; the old one is spent.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenGrant, CoreError> {
        let now = self.clock.now();
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
        let now = self.clock.now();
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
        Ok(self.store.purge_expired_tokens(self.clock.now()).await?)
    }

    async fn issue(&self, user_name: String) -> Result<TokenGrant, CoreError> {
        let now = self.clock.now();
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
                expires_at: expiry(now, self.settings.access_token_lifetime),
            },
            IssuedToken {
                hash: hash_token(refresh.expose_secret()),
                expires_at: expiry(now, self.settings.refresh_token_lifetime),
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
            expires: expiry(now, self.settings.access_token_lifetime),
            expires_in: self.settings.access_token_lifetime.as_secs(),
        }
    }

    async fn hash(&self, password: SecretString) -> Result<String, CoreError> {
        self.hashing.run(move || hash_password(&password)).await?
    }

    async fn verify(&self, password: SecretString, hash: String) -> Result<bool, CoreError> {
        Ok(self
            .hashing
            .run(move || verify_password(&password, &hash))
            .await?)
    }
}

fn wrong_credentials() -> CoreError {
    CoreError::InvalidGrant("The user name or password is incorrect.".into())
}

/// `now + lifetime`; lifetimes are bounded at start-up, and saturate here
/// anyway rather than panic.
fn expiry(now: OffsetDateTime, lifetime: Duration) -> OffsetDateTime {
    time::Duration::try_from(lifetime)
        .ok()
        .and_then(|d| now.checked_add(d))
        .unwrap_or(now)
}

/// A password an operator chose for an administrator: long enough to resist
/// guessing, short enough to hash.
fn validate_new_password(password: SecretString) -> Result<SecretString, CoreError> {
    let text = password.expose_secret();
    let chars = text.chars().count();
    if chars < MIN_ADMIN_PASSWORD_CHARS || text.len() > MAX_PASSWORD_BYTES {
        return Err(CoreError::validation(
            "password",
            format!(
                "the administrator password must be {MIN_ADMIN_PASSWORD_CHARS} to {MAX_PASSWORD_BYTES} characters long"
            ),
        ));
    }
    let distinct = text
        .chars()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if distinct < 5 {
        return Err(CoreError::validation(
            "password",
            "the administrator password must use at least 5 different characters",
        ));
    }
    Ok(password)
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
