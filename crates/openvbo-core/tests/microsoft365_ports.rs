//! Organizations and discovery against a fake Microsoft 365 behind core's
//! ports (no connector, no HTTP), on a manual clock and a real SQLite store:
//! what the domain does with sign-ins, sessions and cached sets.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    unreachable_pub
)]

use std::any::Any;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use openvbo_core::clock::ManualClock;
use openvbo_core::crypto::{MasterKey, Sealer};
use openvbo_core::discovery::{CacheSettings, DiscoveryService, PageRequest, UserFilter};
use openvbo_core::microsoft365::{
    Credential, DirectorySession, DriveRecord, FailureKind, GroupRecord, M365Failure, MemberRecord,
    NationalCloud, PortFuture, RoleRecord, SignIn, SignInRefusal, Sink, SiteRecord, TenantRecord,
    TokenSource, UserRecord,
};
use openvbo_core::organization::{
    AccountSettings, OrganizationRequest, OrganizationService, PerService, Service, ServiceRequest,
};
use openvbo_core::restore::credentials::{CredentialFields, RestoreAccess, RestoreCredentials};
use openvbo_core::restore::writers::{DriveWriter, MailWriter, RestoreConnector};
use openvbo_core::{CoreError, OrganizationId, Region};
use openvbo_store::SqliteStore;
use secrecy::{ExposeSecret, SecretString};

const PASSWORD: &str = "Tenant-Password-1";
const GLOBAL_ADMINISTRATOR: &str = "62e90394-69f5-4237-9190-012177145e10";
/// What the fake's tokens live for.
const LIFETIME: Duration = Duration::from_secs(3600);

#[derive(Default)]
struct Tenant {
    password: Mutex<String>,
    sign_ins: AtomicUsize,
    renewals: AtomicUsize,
    listings: AtomicUsize,
    clouds: Mutex<Vec<NationalCloud>>,
    /// The next directory read answers "token rejected".
    reject_next: AtomicBool,
    /// The last session handed out, to see whether anyone still holds it.
    last: Mutex<Option<Weak<FakeSession>>>,
}

#[derive(Clone)]
struct Fake(Arc<Tenant>);

struct FakeSession(Arc<Tenant>);

fn new_session(tenant: &Arc<Tenant>) -> Arc<dyn DirectorySession> {
    let session = Arc::new(FakeSession(tenant.clone()));
    *tenant.last.lock().unwrap() = Some(Arc::downgrade(&session));
    session
}

impl TokenSource for Fake {
    fn sign_in<'a>(&'a self, request: SignIn<'a>) -> PortFuture<'a, Arc<dyn DirectorySession>> {
        Box::pin(async move {
            self.0.sign_ins.fetch_add(1, Ordering::SeqCst);
            self.0.clouds.lock().unwrap().push(request.cloud);
            let Credential::Password { username, password } = request.credential else {
                unreachable!("only passwords exist")
            };
            assert_eq!(request.tenant, "fabrikam.onmicrosoft.com");
            if username != "admin@fabrikam.onmicrosoft.com"
                || password.expose_secret() != *self.0.password.lock().unwrap()
            {
                return Err(M365Failure::new(
                    FailureKind::SignInRefused(SignInRefusal::InvalidCredentials),
                    "AADSTS50126: invalid username or password",
                ));
            }
            Ok(new_session(&self.0))
        })
    }
}

fn users() -> Vec<UserRecord> {
    (1..=5)
        .map(|n| UserRecord {
            id: format!("u{n}"),
            display_name: Some(format!("User {n}")),
            user_principal_name: Some(format!("user{n}@fabrikam.onmicrosoft.com")),
            licensed: n % 2 == 1,
            ..UserRecord::default()
        })
        .collect()
}

impl FakeSession {
    fn read(&self) -> Result<(), M365Failure> {
        if self.0.reject_next.swap(false, Ordering::SeqCst) {
            return Err(M365Failure::new(
                FailureKind::TokenRejected,
                "HTTP 401 InvalidAuthenticationToken",
            ));
        }
        Ok(())
    }
}

impl DirectorySession for FakeSession {
    fn remaining(&self) -> Duration {
        LIFETIME
    }

    fn renew(&self) -> Option<PortFuture<'_, Arc<dyn DirectorySession>>> {
        Some(Box::pin(async move {
            self.0.renewals.fetch_add(1, Ordering::SeqCst);
            Ok(new_session(&self.0))
        }))
    }

    fn tenant(&self) -> PortFuture<'_, TenantRecord> {
        Box::pin(async move {
            Ok(TenantRecord {
                id: "tenant-1".into(),
                display_name: Some("Fabrikam".into()),
                initial_domain: Some("fabrikam.onmicrosoft.com".into()),
            })
        })
    }

    fn roles(&self) -> PortFuture<'_, Vec<RoleRecord>> {
        Box::pin(async move {
            Ok(vec![RoleRecord {
                template_id: Some(GLOBAL_ADMINISTRATOR.into()),
                display_name: Some("Global Administrator".into()),
            }])
        })
    }

    fn users<'a>(&'a self, sink: Sink<'a, UserRecord>) -> PortFuture<'a, ()> {
        Box::pin(async move {
            self.read()?;
            self.0.listings.fetch_add(1, Ordering::SeqCst);
            for page in users().chunks(2) {
                sink(page.to_vec())?;
            }
            Ok(())
        })
    }

    fn user<'a>(&'a self, id: &'a str) -> PortFuture<'a, Option<UserRecord>> {
        Box::pin(async move {
            self.read()?;
            Ok(users().into_iter().find(|u| u.id == id))
        })
    }

    fn groups<'a>(&'a self, _sink: Sink<'a, GroupRecord>) -> PortFuture<'a, ()> {
        Box::pin(async move { Ok(()) })
    }

    fn group<'a>(&'a self, _id: &'a str) -> PortFuture<'a, Option<GroupRecord>> {
        Box::pin(async move { Ok(None) })
    }

    fn group_members<'a>(
        &'a self,
        _id: &'a str,
        _sink: Sink<'a, MemberRecord>,
    ) -> PortFuture<'a, ()> {
        Box::pin(async move { Ok(()) })
    }

    fn teams<'a>(&'a self, _sink: Sink<'a, GroupRecord>) -> PortFuture<'a, ()> {
        Box::pin(async move { Ok(()) })
    }

    fn sites<'a>(&'a self, _sink: Sink<'a, SiteRecord>) -> PortFuture<'a, ()> {
        Box::pin(async move { Ok(()) })
    }

    fn subsites<'a>(&'a self, _id: &'a str, _sink: Sink<'a, SiteRecord>) -> PortFuture<'a, ()> {
        Box::pin(async move { Ok(()) })
    }

    fn site<'a>(&'a self, _id: &'a str) -> PortFuture<'a, Option<SiteRecord>> {
        Box::pin(async move { Ok(None) })
    }

    fn user_drive<'a>(&'a self, _user_id: &'a str) -> PortFuture<'a, Option<DriveRecord>> {
        Box::pin(async move { Ok(None) })
    }

    fn connector_session(&self) -> Arc<dyn Any + Send + Sync> {
        Arc::new(())
    }
}

struct Env {
    _dir: tempfile::TempDir,
    tenant: Arc<Tenant>,
    clock: Arc<ManualClock>,
    organizations: OrganizationService,
    discovery: DiscoveryService,
    org: OrganizationId,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(&dir.path().join("openvbo.db"))
            .await
            .unwrap(),
    );
    let tenant = Arc::new(Tenant::default());
    *tenant.password.lock().unwrap() = PASSWORD.into();
    let clock = ManualClock::new();
    let sealer = Arc::new(Sealer::new(&MasterKey::generate()));
    let organizations = OrganizationService::new(
        store,
        Arc::new(Fake(tenant.clone())),
        sealer.clone(),
        clock.clone(),
    );
    let discovery = DiscoveryService::new(
        organizations.clone(),
        sealer,
        CacheSettings {
            ttl: Duration::from_secs(900),
            max_items: 1000,
        },
        clock.clone(),
    );
    let settings = || AccountSettings {
        account: Some("admin@fabrikam.onmicrosoft.com".into()),
        password: Some(SecretString::from(PASSWORD)),
        ..AccountSettings::default()
    };
    let input = OrganizationRequest {
        region: Some(Region::USGovernment),
        is_teams_online: Some(false),
        services: PerService::from_fn(|_| ServiceRequest {
            enabled: Some(true),
            settings: Some(settings()),
        }),
    };
    let added = organizations.add(input).await.unwrap();
    assert_eq!(added.organization.name, "fabrikam.onmicrosoft.com");
    assert_eq!(added.organization.tenant_id, "tenant-1");
    // One account for both services: one sign-in, in the region's cloud.
    assert_eq!(tenant.sign_ins.load(Ordering::SeqCst), 1);
    assert_eq!(
        *tenant.clouds.lock().unwrap(),
        vec![NationalCloud::UsGovHigh]
    );
    Env {
        _dir: dir,
        org: added.organization.id,
        tenant,
        clock,
        organizations,
        discovery,
    }
}

fn page(offset: i64, limit: i64, set_id: Option<uuid::Uuid>) -> PageRequest {
    PageRequest::new(Some(offset), Some(limit), set_id).unwrap()
}

impl Env {
    fn count(&self, what: &AtomicUsize) -> usize {
        what.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn sets_and_sessions_age_on_the_injected_clock() {
    let e = env().await;
    let filter = UserFilter::default();
    let first = e
        .discovery
        .users(e.org, page(0, 2, None), &filter)
        .await
        .unwrap();
    assert_eq!(first.total_count, 5);
    let names: Vec<_> = first.results.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(names, ["u1", "u2"]);
    assert_eq!(e.count(&e.tenant.sign_ins), 2, "discovery signs in once");
    assert_eq!(e.count(&e.tenant.listings), 1);

    // A set answers for its whole lifetime without calling Microsoft…
    e.clock.advance(Duration::from_secs(899));
    let later = e
        .discovery
        .users(e.org, page(4, 2, Some(first.set_id)), &filter)
        .await
        .unwrap();
    assert_eq!(later.results.len(), 1);
    assert_eq!(later.results[0].id, "u5");
    assert_eq!(e.count(&e.tenant.listings), 1);
    // …and not a moment longer.
    e.clock.advance(Duration::from_secs(1));
    let err = e
        .discovery
        .users(e.org, page(2, 2, Some(first.set_id)), &filter)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::NotFound(ref m) if m.contains("expired")),
        "{err}"
    );

    // The session is reused until 5 minutes before its token expires
    // (3600 s), then renewed without the password.
    e.clock.advance(Duration::from_secs(3300 - 900 - 1));
    e.discovery
        .users(e.org, page(0, 1, None), &filter)
        .await
        .unwrap();
    assert_eq!(e.count(&e.tenant.renewals), 0);
    e.clock.advance(Duration::from_secs(1));
    e.discovery
        .users(e.org, page(0, 1, None), &filter)
        .await
        .unwrap();
    assert_eq!(e.count(&e.tenant.renewals), 1);
    assert_eq!(
        e.count(&e.tenant.sign_ins),
        2,
        "renewed, not signed in again"
    );
}

#[tokio::test]
async fn removing_an_organization_forgets_its_sessions_and_sets() {
    let e = env().await;
    let listed = e
        .discovery
        .users(e.org, page(0, 1, None), &UserFilter::default())
        .await
        .unwrap();
    let session = e.tenant.last.lock().unwrap().clone().unwrap();
    assert!(session.upgrade().is_some(), "discovery keeps its session");
    e.organizations.remove(e.org).await.unwrap();
    assert!(
        session.upgrade().is_none(),
        "the removed organization's session is dropped"
    );
    let err = e
        .discovery
        .users(
            e.org,
            page(1, 1, Some(listed.set_id)),
            &UserFilter::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::NotFound(_)), "{err}");
}

#[tokio::test]
async fn a_rejected_token_is_replaced_once_by_a_new_sign_in() {
    let e = env().await;
    e.discovery.user(e.org, "u1").await.unwrap();
    assert_eq!(e.count(&e.tenant.sign_ins), 2);
    e.tenant.reject_next.store(true, Ordering::SeqCst);
    let user = e.discovery.user(e.org, "u3").await.unwrap();
    assert_eq!(user.id, "u3");
    assert!(user.licensed);
    assert_eq!(e.count(&e.tenant.sign_ins), 3);
}

#[tokio::test]
async fn refused_stored_credentials_name_the_organization_not_an_http_call() {
    let e = env().await;
    *e.tenant.password.lock().unwrap() = "Changed-1".into();
    let err = e
        .discovery
        .users(e.org, page(0, 1, None), &UserFilter::default())
        .await
        .unwrap_err();
    let CoreError::StoredCredentials {
        organization,
        message,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(*organization, e.org);
    assert!(
        message.contains("admin@fabrikam.onmicrosoft.com"),
        "{message}"
    );
    assert!(message.contains("AADSTS50126"), "{message}");
    assert!(
        !message.contains("/v6") && !message.contains("PUT"),
        "{message}"
    );
    assert!(!message.contains(PASSWORD) && !message.contains("Changed-1"));
}

/// A connector that makes no writers, and remembers which sessions it was asked to write
/// through.
#[derive(Default)]
struct Connector {
    given: Mutex<Vec<Arc<dyn DirectorySession>>>,
}

impl Connector {
    fn refuse(&self, session: Arc<dyn DirectorySession>) -> M365Failure {
        self.given.lock().unwrap().push(session);
        M365Failure::new(FailureKind::Unusable, "not this connector's session")
    }
}

impl RestoreConnector for Connector {
    fn mail_writer(
        &self,
        session: Arc<dyn DirectorySession>,
    ) -> Result<Arc<dyn MailWriter>, M365Failure> {
        Err(self.refuse(session))
    }

    fn drive_writer(
        &self,
        session: Arc<dyn DirectorySession>,
        _organization: OrganizationId,
        _units_per_minute: Option<u32>,
    ) -> Result<Arc<dyn DriveWriter>, M365Failure> {
        Err(self.refuse(session))
    }
}

fn same(a: &Arc<dyn DirectorySession>, b: &Arc<dyn DirectorySession>) -> bool {
    std::ptr::eq(Arc::as_ptr(a).cast::<()>(), Arc::as_ptr(b).cast::<()>())
}

#[tokio::test]
async fn restores_write_through_the_stored_session_or_the_requests_own_sign_in() {
    let e = env().await;
    let connector = Arc::new(Connector::default());
    let access = RestoreAccess::new(
        e.organizations.clone(),
        e.discovery.clone(),
        connector.clone(),
    );
    // Without credentials: discovery's shared session of the service's account.
    let shared = e.discovery.session(e.org, Service::Exchange).await.unwrap();
    let signed_in = e.count(&e.tenant.sign_ins);
    let err = access.mail(e.org, None).await.err().unwrap();
    // A session the connector cannot write through is the assembly's defect.
    assert!(matches!(err, CoreError::Internal(_)), "{err}");
    assert!(
        err.to_string().contains("not this connector's session"),
        "{err}"
    );
    assert!(access.drive(e.org, None, None).await.is_err());
    assert_eq!(e.count(&e.tenant.sign_ins), signed_in);
    {
        let given = connector.given.lock().unwrap();
        assert_eq!(given.len(), 2);
        assert!(same(&given[0], &shared));
    }
    // With credentials: a sign-in of that account, not the stored session.
    let fields = |password: &'static str| CredentialFields {
        user_name: Some(("userName", "admin@fabrikam.onmicrosoft.com")),
        password: Some(("userPassword", password)),
        other: None,
    };
    let right = RestoreCredentials::from_fields(fields(PASSWORD))
        .unwrap()
        .unwrap();
    assert!(access.mail(e.org, Some(&right)).await.is_err());
    assert_eq!(e.count(&e.tenant.sign_ins), signed_in + 1);
    {
        let given = connector.given.lock().unwrap();
        assert_eq!(given.len(), 3);
        assert!(!same(&given[2], &shared));
    }
    // A wrong password is refused before any writer is asked for, without echoing it.
    let wrong = RestoreCredentials::from_fields(fields("Wrong-Password-9"))
        .unwrap()
        .unwrap();
    let err = access.drive(e.org, Some(&wrong), None).await.err().unwrap();
    assert!(matches!(err, CoreError::Refused(_)), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("admin@fabrikam.onmicrosoft.com") && !message.contains("Wrong-Password-9"),
        "{message}"
    );
    assert_eq!(connector.given.lock().unwrap().len(), 3);
}
