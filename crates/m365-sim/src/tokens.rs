//! Issued tokens. They are opaque random strings; what they stand for lives
//! only here, keyed by the token itself.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::ids::random_token;

/// Expired access tokens are kept this long so Graph can still say
/// "expired" (rather than "malformed") to a client holding one.
const EXPIRED_RETENTION: Duration = Duration::from_secs(3600);
const PRUNE_EVERY: u64 = 1024;

#[derive(Clone, Copy)]
pub(crate) struct AccessGrant {
    pub tenant: usize,
    pub user: usize,
    pub expires_at: Instant,
}

#[derive(Clone)]
pub(crate) struct RefreshGrant {
    pub tenant: usize,
    pub user: usize,
    /// The user's credential epoch at sign-in; a later password change
    /// revokes the grant.
    pub credential_epoch: u64,
    pub scope: String,
    pub issued_at: OffsetDateTime,
}

#[derive(Default)]
pub(crate) struct TokenStore {
    access: HashMap<String, AccessGrant>,
    refresh: HashMap<String, RefreshGrant>,
    /// Issued since the last prune.
    issued: u64,
}

pub(crate) enum AccessCheck {
    Valid(AccessGrant),
    Expired,
    Unknown,
}

impl TokenStore {
    pub(crate) fn issue_access(
        &mut self,
        tenant: usize,
        user: usize,
        lifetime: Duration,
    ) -> String {
        self.issued += 1;
        if self.issued >= PRUNE_EVERY {
            self.issued = 0;
            self.prune();
        }
        let token = random_token();
        let expires_at = Instant::now() + lifetime;
        self.access.insert(
            token.clone(),
            AccessGrant {
                tenant,
                user,
                expires_at,
            },
        );
        token
    }

    /// Microsoft keeps a refresh token usable after it has been redeemed
    /// (each redemption also returns a new one), so old ones stay valid
    /// until revoked.
    pub(crate) fn issue_refresh(&mut self, grant: RefreshGrant) -> String {
        let token = random_token();
        self.refresh.insert(token.clone(), grant);
        token
    }

    pub(crate) fn check_access(&self, token: &str) -> AccessCheck {
        match self.access.get(token) {
            Some(grant) if Instant::now() < grant.expires_at => AccessCheck::Valid(*grant),
            Some(_) => AccessCheck::Expired,
            None => AccessCheck::Unknown,
        }
    }

    pub(crate) fn refresh_grant(&self, token: &str) -> Option<RefreshGrant> {
        self.refresh.get(token).cloned()
    }

    pub(crate) fn revoke_refresh(&mut self, token: &str) {
        self.refresh.remove(token);
    }

    fn prune(&mut self) {
        let now = Instant::now();
        self.access
            .retain(|_, grant| grant.expires_at + EXPIRED_RETENTION > now);
    }
}
