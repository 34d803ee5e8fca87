//! The ports through which the domain reaches Microsoft 365: sign-in as a
//! token source ([`TokenSource`]: a password today, application credentials
//! later) and the directory reads discovery and verification make with the
//! session it returns ([`DirectorySession`]). Restore's writes have ports of
//! their own (`crate::restore::writers`) over the same sessions.
//!
//! Core owns these traits and their plain data types and does not link the
//! connector (`openvbo-m365`): it is adapted to them in `openvbo-backup`
//! (`directory_adapter.rs`: sign-in, directory; beside it: content), so the
//! domain's rules can be tested against a fake and a second connector can
//! replace the first.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

pub use crate::region::NationalCloud;

/// What to sign in with.
#[non_exhaustive]
pub enum Credential<'a> {
    /// A user's name and password (resource owner password credentials).
    Password {
        username: &'a str,
        password: &'a SecretString,
    },
}

/// One sign-in: where, into which tenant (an id or a verified domain), and
/// with what.
pub struct SignIn<'a> {
    pub cloud: NationalCloud,
    pub tenant: &'a str,
    pub credential: Credential<'a>,
}

/// Why Microsoft Entra ID refused a sign-in, by what the administrator has
/// to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignInRefusal {
    InvalidCredentials,
    UserNotFound,
    MfaRequired,
    AccountDisabled,
    AccountLocked,
    PasswordExpired,
    ConsentRequired,
    TenantNotFound,
    ConditionalAccess,
    /// The client application openvbo signs in as is not allowed to.
    ClientMisconfigured,
    /// The tenant is in another national cloud.
    WrongCloud,
    /// A refresh token was revoked or expired.
    GrantExpired,
    Other,
}

/// What went wrong, by what the caller can do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The sign-in was refused: the credentials, the account or the
    /// tenant's settings must change.
    SignInRefused(SignInRefusal),
    /// The session's token is no longer accepted: sign in again.
    TokenRejected,
    /// The account may not read this: its roles or permissions must change.
    Forbidden,
    /// No such object.
    NotFound,
    /// The name is taken at the destination (a write that must not replace).
    Conflict,
    /// Throttled or failing: retry later (after `retry_after`, if said).
    Retry { retry_after: Option<Duration> },
    /// No answer in time.
    Timeout,
    /// No connection could be made (name resolution, refused, TLS): retrying
    /// later may help.
    Unreachable,
    /// An answer that cannot be used.
    Unusable,
    /// A listing's sink refused to grow beyond what it can hold.
    TooLarge,
}

/// A failure of the connector. The message names the host and Microsoft's
/// codes, never a password or a token; `source` is the connector's own error
/// (and its causes), so a log line can show the whole chain.
#[derive(Clone, Debug)]
pub struct M365Failure {
    pub kind: FailureKind,
    pub message: String,
    // Shared rather than boxed: failures are cloned (a sink's refusal is
    // handed back through the connector) and the cause goes with each copy.
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl std::fmt::Display for M365Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for M365Failure {
    /// The connector's error itself (not the `Arc` holding it), so callers
    /// can walk and downcast the chain.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Two failures are the same when they say the same; their causes are the
/// connector's business.
impl PartialEq for M365Failure {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

impl Eq for M365Failure {}

impl M365Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// The same failure, caused by `source` (the connector's own error).
    pub fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// For a listing sink that refuses to grow beyond `max` items.
    pub fn too_large(max: usize) -> Self {
        Self::new(
            FailureKind::TooLarge,
            format!("the listing has more than {max} items"),
        )
    }

    /// Whether trying again later may succeed (throttled, failing, slow or
    /// unreachable), as opposed to an answer that will not change.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind,
            FailureKind::Retry { .. } | FailureKind::Timeout | FailureKind::Unreachable
        )
    }
}

/// The tenant a session signed in to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TenantRecord {
    pub id: String,
    pub display_name: Option<String>,
    /// The `*.onmicrosoft.com` domain the tenant was created with.
    pub initial_domain: Option<String>,
}

/// A directory role the signed-in account holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleRecord {
    /// The role's template id (the same in every tenant and cloud).
    pub template_id: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    pub display_name: Option<String>,
    pub user_principal_name: Option<String>,
    pub mail: Option<String>,
    pub account_enabled: Option<bool>,
    /// Holds at least one licence.
    pub licensed: bool,
    pub on_premises_sync_enabled: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupRecord {
    pub id: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub mail: Option<String>,
    pub mail_nickname: Option<String>,
    pub security_enabled: Option<bool>,
    /// A Microsoft 365 ("Unified") group.
    pub unified: bool,
    pub dynamic_membership: bool,
    /// The group backs a team.
    pub is_team: bool,
    pub on_premises_sync_enabled: Option<bool>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemberType {
    User,
    Group,
    #[default]
    Other,
}

/// A direct member of a group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberRecord {
    pub member_type: MemberType,
    pub id: String,
    pub display_name: Option<String>,
    pub user_principal_name: Option<String>,
    pub mail: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SiteRecord {
    pub id: String,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub web_url: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DriveRecord {
    pub id: String,
    pub name: Option<String>,
    pub web_url: Option<String>,
}

/// Receives a listing page by page; an error stops the listing.
pub type Sink<'a, T> = &'a mut (dyn FnMut(Vec<T>) -> Result<(), M365Failure> + Send);

/// What the ports' methods return (written out rather than generated, so
/// adapters need no macro).
pub type PortFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, M365Failure>> + Send + 'a>>;

/// Signs in to Microsoft 365.
pub trait TokenSource: Send + Sync {
    fn sign_in<'a>(&'a self, request: SignIn<'a>) -> PortFuture<'a, Arc<dyn DirectorySession>>;
}

/// A signed-in account's access to the directory, valid for
/// [`remaining`](Self::remaining).
pub trait DirectorySession: Send + Sync {
    /// How long the session's token is still valid.
    fn remaining(&self) -> Duration;
    /// A new session without the password; `None` if the connector cannot
    /// make one (then the caller signs in again).
    fn renew(&self) -> Option<PortFuture<'_, Arc<dyn DirectorySession>>>;

    fn tenant(&self) -> PortFuture<'_, TenantRecord>;
    /// The directory roles the signed-in account holds directly.
    fn roles(&self) -> PortFuture<'_, Vec<RoleRecord>>;

    fn users<'a>(&'a self, sink: Sink<'a, UserRecord>) -> PortFuture<'a, ()>;
    /// `id` is an object id or a user principal name; `None` if absent.
    fn user<'a>(&'a self, id: &'a str) -> PortFuture<'a, Option<UserRecord>>;
    fn groups<'a>(&'a self, sink: Sink<'a, GroupRecord>) -> PortFuture<'a, ()>;
    fn group<'a>(&'a self, id: &'a str) -> PortFuture<'a, Option<GroupRecord>>;
    fn group_members<'a>(&'a self, id: &'a str, sink: Sink<'a, MemberRecord>)
        -> PortFuture<'a, ()>;
    /// Groups that back a team.
    fn teams<'a>(&'a self, sink: Sink<'a, GroupRecord>) -> PortFuture<'a, ()>;
    fn sites<'a>(&'a self, sink: Sink<'a, SiteRecord>) -> PortFuture<'a, ()>;
    fn subsites<'a>(&'a self, id: &'a str, sink: Sink<'a, SiteRecord>) -> PortFuture<'a, ()>;
    fn site<'a>(&'a self, id: &'a str) -> PortFuture<'a, Option<SiteRecord>>;
    /// The user's OneDrive, `None` when the user has none.
    fn user_drive<'a>(&'a self, user_id: &'a str) -> PortFuture<'a, Option<DriveRecord>>;

    /// The connector's own session object, opaque to core: the content
    /// adapters of the same connector (backup's readers, restore's writers)
    /// unwrap it to read and write with this sign-in.
    fn connector_session(&self) -> Arc<dyn Any + Send + Sync>;
}

/// How services hold the token source.
pub type SharedTokenSource = Arc<dyn TokenSource>;
