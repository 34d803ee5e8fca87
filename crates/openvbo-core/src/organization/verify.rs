//! Asking Microsoft 365 whether an organization's accounts work: sign in
//! with each, read the tenant, and check the directory roles.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use super::model::Service;
use super::per_service::PerService;
use crate::error::{CoreError, UpstreamFailure};
use crate::microsoft365::{
    Credential as SignInCredential, FailureKind, M365Failure, RoleRecord, SignIn, SignInRefusal,
    TokenSource,
};
use crate::{Region, Upn};

/// A directory role of Microsoft Entra ID. Roles are matched by template
/// id, which is the same in every tenant and cloud; the display name is
/// only a fallback.
struct Role {
    template_id: &'static str,
    display_name: &'static str,
}

const GLOBAL_ADMINISTRATOR: Role = Role {
    template_id: "62e90394-69f5-4237-9190-012177145e10",
    display_name: "Global Administrator",
};
const TEAMS_ADMINISTRATOR: Role = Role {
    template_id: "69091246-20e8-4a56-aa4d-066075b2a7a8",
    display_name: "Teams Administrator",
};
/// The role that covers each service, besides Global Administrator.
static SERVICE_ADMINISTRATOR: PerService<Role> = PerService {
    exchange: Role {
        template_id: "29232cdf-9323-42fd-ade2-1d097af3e4de",
        display_name: "Exchange Administrator",
    },
    sharepoint: Role {
        template_id: "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
        display_name: "SharePoint Administrator",
    },
};

fn holds(record: &RoleRecord, role: &Role) -> bool {
    match &record.template_id {
        Some(t) => t.eq_ignore_ascii_case(role.template_id),
        None => record
            .display_name
            .as_deref()
            .is_some_and(|d| d.eq_ignore_ascii_case(role.display_name)),
    }
}

/// What Microsoft told us about the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VerifiedTenant {
    pub tenant_id: String,
    pub initial_domain: String,
    pub display_name: String,
}

/// An account to verify and the services it must cover.
pub(crate) struct Credential<'a> {
    pub services: Vec<Service>,
    pub account: &'a Upn,
    pub password: &'a SecretString,
}

/// Signs in with every credential (concurrently), checks they all belong to
/// one tenant and hold the roles their services need.
pub(crate) async fn verify(
    connector: &Arc<dyn TokenSource>,
    region: Region,
    credentials: &[Credential<'_>],
    teams: bool,
) -> Result<VerifiedTenant, CoreError> {
    let checks = credentials
        .iter()
        .map(|c| verify_one(connector.as_ref(), region, c));
    let results = futures::future::join_all(checks).await;
    let mut tenant: Option<(VerifiedTenant, &Credential<'_>)> = None;
    let mut all_roles: Vec<RoleRecord> = Vec::new();
    for (credential, result) in credentials.iter().zip(results) {
        let (found, roles) = result?;
        if let Some((first, first_credential)) = &tenant {
            if first.tenant_id != found.tenant_id {
                return Err(CoreError::Refused(format!(
                    "{}.account ({}) and {}.account ({}) belong to different Microsoft 365 organizations ({} and {}); both services of one organization must use accounts of that organization",
                    field(first_credential), first_credential.account, field(credential), credential.account,
                    first.initial_domain, found.initial_domain
                )));
            }
        } else {
            tenant = Some((found, credential));
        }
        check_service_roles(credential, &roles)?;
        all_roles.extend(roles);
    }
    if teams && !covers(&all_roles, Need::Teams) {
        let accounts: Vec<String> = credentials.iter().map(|c| c.account.to_string()).collect();
        return Err(CoreError::Refused(format!(
            "isTeamsOnline is true but no account ({}) holds the Teams Administrator or Global Administrator role in Microsoft Entra ID; assign the role, or set isTeamsOnline to false",
            accounts.join(", ")
        )));
    }
    tenant
        .map(|(t, _)| t)
        .ok_or_else(|| CoreError::Internal("no credential to verify".into()))
}

async fn verify_one(
    connector: &dyn TokenSource,
    region: Region,
    credential: &Credential<'_>,
) -> Result<(VerifiedTenant, Vec<RoleRecord>), CoreError> {
    let account = credential.account;
    let session = connector
        .sign_in(SignIn {
            cloud: region.cloud(),
            tenant: account.domain(),
            credential: SignInCredential::Password {
                username: account.as_str(),
                password: credential.password,
            },
        })
        .await
        .map_err(|e| sign_in_error(e, credential, region))?;
    let org = session
        .tenant()
        .await
        .map_err(|e| graph_error(e, credential))?;
    let roles = session
        .roles()
        .await
        .map_err(|e| graph_error(e, credential))?;
    let initial_domain = org.initial_domain.clone().ok_or_else(|| {
        CoreError::Upstream {
            failure: UpstreamFailure::Unusable,
            message: "Microsoft Graph reported no initial (*.onmicrosoft.com) domain for the organization".into(),
            retry_after: None,
            source: None,
        }
    })?;
    Ok((
        VerifiedTenant {
            display_name: org
                .display_name
                .clone()
                .unwrap_or_else(|| initial_domain.clone()),
            tenant_id: org.id,
            initial_domain,
        },
        roles,
    ))
}

#[derive(Clone, Copy)]
enum Need {
    Service(Service),
    Teams,
}

fn covers(roles: &[RoleRecord], need: Need) -> bool {
    let role = match need {
        Need::Service(service) => &SERVICE_ADMINISTRATOR[service],
        Need::Teams => &TEAMS_ADMINISTRATOR,
    };
    roles
        .iter()
        .any(|r| holds(r, &GLOBAL_ADMINISTRATOR) || holds(r, role))
}

fn check_service_roles(credential: &Credential<'_>, roles: &[RoleRecord]) -> Result<(), CoreError> {
    for service in &credential.services {
        if !covers(roles, Need::Service(*service)) {
            let role = SERVICE_ADMINISTRATOR[*service].display_name;
            return Err(CoreError::Refused(format!(
                "{}.account ({}) does not hold a directory role that covers {}: it needs Global Administrator or {role} in Microsoft Entra ID. Assign the role, or use another account",
                service.settings_field(),
                credential.account,
                service.display_name(),
            )));
        }
    }
    Ok(())
}

fn field(credential: &Credential<'_>) -> &'static str {
    credential
        .services
        .first()
        .map(|s| s.settings_field())
        .unwrap_or("exchangeOnlineSettings")
}

/// Turns Microsoft's refusal into what the administrator should do.
fn sign_in_error(err: M365Failure, credential: &Credential<'_>, region: Region) -> CoreError {
    let f = field(credential);
    let upn = credential.account;
    let domain = upn.domain();
    let message = match &err.kind {
        FailureKind::SignInRefused(failure) => match failure {
            SignInRefusal::InvalidCredentials => format!(
                "Microsoft 365 rejected the credentials of {upn}: the user name or password is incorrect. Check {f}.account and {f}.password"
            ),
            SignInRefusal::UserNotFound => format!(
                "the account {upn} does not exist in the Microsoft 365 organization {domain}. Check {f}.account"
            ),
            SignInRefusal::MfaRequired => format!(
                "multi-factor authentication is enforced for {upn}, so basic authentication cannot sign in. Use modern authentication (an Azure AD application), or use an account without MFA"
            ),
            SignInRefusal::AccountDisabled => format!(
                "the account {upn} is disabled in Microsoft 365. Enable it, or use another account in {f}.account"
            ),
            SignInRefusal::AccountLocked => format!(
                "the account {upn} is locked in Microsoft 365 (too many failed sign-ins). Wait and retry later, or unlock it in the Microsoft 365 admin center"
            ),
            SignInRefusal::PasswordExpired => format!(
                "the password of {upn} has expired. Change it in Microsoft 365, then send the new one in {f}.password"
            ),
            SignInRefusal::TenantNotFound => format!(
                "no Microsoft 365 organization was found for the domain {domain} in the {} cloud. Check {f}.account and region",
                region.as_str()
            ),
            SignInRefusal::WrongCloud => format!(
                "the organization of {upn} is not in the {} cloud. Check region",
                region.as_str()
            ),
            SignInRefusal::ConsentRequired => format!(
                "Microsoft 365 requires an administrator's consent before {upn} can sign in to openvbo's client application. Grant consent in Microsoft Entra ID, or configure another client application (m365_client_id)"
            ),
            SignInRefusal::ConditionalAccess => format!(
                "a Conditional Access policy of the organization blocks the sign-in of {upn}. Exclude the account from the policy, or use modern authentication"
            ),
            SignInRefusal::ClientMisconfigured => format!(
                "Microsoft 365 refused openvbo's client application for password sign-in ({}). Check m365_client_id: the application must allow public client flows",
                err.message
            ),
            SignInRefusal::GrantExpired | SignInRefusal::Other => format!(
                "Microsoft 365 refused the sign-in of {upn}: {}",
                err.message
            ),
        },
        _ => return upstream(err, "signing in to Microsoft 365"),
    };
    CoreError::Refused(message)
}

fn graph_error(err: M365Failure, credential: &Credential<'_>) -> CoreError {
    match err.kind {
        FailureKind::Forbidden => CoreError::Refused(format!(
            "Microsoft Graph refused to read the organization with {}: {}. The account needs permission to read the directory",
            credential.account, err.message
        )),
        _ => upstream(err, "reading the organization from Microsoft Graph"),
    }
}

/// Microsoft could not be used right now: nothing the administrator typed is wrong.
pub(crate) fn upstream(err: M365Failure, doing: &str) -> CoreError {
    let (failure, retry_after) = match err.kind {
        FailureKind::Timeout => (UpstreamFailure::Timeout, None),
        FailureKind::Retry { retry_after } => (
            UpstreamFailure::Unavailable,
            retry_after.or(Some(Duration::from_secs(30))),
        ),
        _ => (UpstreamFailure::Unusable, None),
    };
    CoreError::Upstream {
        failure,
        message: format!(
            "Microsoft 365 could not be used while {doing}: {}; nothing was changed",
            err.message
        ),
        retry_after,
        // Kept whole (with the connector's error behind it) for the log line
        // of the 5xx; the message above is what the caller reads.
        source: Some(err),
    }
}
