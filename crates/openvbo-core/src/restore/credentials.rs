//! Whose sign-in a restore writes with.
//!
//! v6 restore bodies may carry an account and its password (`userName`/`userPassword`, or
//! `officeUsername`/`officeUserpassword` in bulk bodies). When they do, the account is
//! signed in to the organization's own tenant (its national cloud, its initial domain)
//! before anything is written, and the restore writes as that account: Microsoft's audit log
//! then names the person who restored. A refused sign-in is the caller's mistake (4xx), its
//! message names the account and never the password.
//!
//! Without credentials the organization's stored account is used (an openvbo extension: the
//! organizations openvbo adds with basic authentication already hold one per service).
//! Device codes and application certificates are not signed in with yet: they are refused
//! with a message saying so rather than ignored.

use std::sync::Arc;

use secrecy::SecretString;

use super::writers::{DriveWriter, MailWriter, RestoreConnector};
use crate::discovery::DiscoveryService;
use crate::microsoft365::{Credential, DirectorySession, FailureKind, SignIn, SignInRefusal};
use crate::organization::{OrganizationService, Service};
use crate::{CoreError, OrganizationId, Upn, ValidationError};

/// An account a restore request names, with its password.
pub struct RestoreCredentials {
    pub account: Upn,
    password: SecretString,
}

impl std::fmt::Debug for RestoreCredentials {
    // The password never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestoreCredentials")
            .field("account", &self.account.as_str())
            .finish_non_exhaustive()
    }
}

/// The credential fields of a restore body, as sent (field names for the messages).
#[derive(Default)]
pub struct CredentialFields<'a> {
    pub user_name: Option<(&'static str, &'a str)>,
    pub password: Option<(&'static str, &'a str)>,
    /// Another kind of credential was given (a device code, an application): its field.
    pub other: Option<&'static str>,
}

impl RestoreCredentials {
    /// `None`: no account given, restore with the stored one.
    pub fn from_fields(fields: CredentialFields<'_>) -> Result<Option<Self>, CoreError> {
        if let Some(name) = fields.other {
            return Err(CoreError::NotSupported(format!(
                "restoring with {name} (a device code or an application) is not implemented yet; \
                 send an account and its password, or neither to restore with the organization's stored account"
            )));
        }
        let user = fields.user_name.filter(|(_, v)| !v.trim().is_empty());
        let password = fields.password.filter(|(_, v)| !v.is_empty());
        match (user, password) {
            (None, None) => Ok(None),
            (Some((user_field, _)), None) => Err(ValidationError::field(
                user_field,
                format!("{user_field} was given without its password"),
            )
            .into()),
            (None, Some((password_field, _))) => Err(ValidationError::field(
                password_field,
                format!("{password_field} was given without the account it belongs to"),
            )
            .into()),
            (Some((user_field, user)), Some((_, password))) => {
                let account = Upn::parse(user.trim()).map_err(|why| {
                    ValidationError::field(
                        user_field,
                        format!("{user_field} must be a user principal name: {why}"),
                    )
                })?;
                Ok(Some(Self {
                    account,
                    password: SecretString::from(password.to_owned()),
                }))
            }
        }
    }
}

/// Signs restores in and hands out the writers they write through: mail as the
/// organization's Exchange account, files as its SharePoint account (drives are SharePoint's,
/// OneDrives included), or as the account a request names.
#[derive(Clone)]
pub struct RestoreAccess {
    organizations: OrganizationService,
    discovery: DiscoveryService,
    connector: Arc<dyn RestoreConnector>,
}

impl RestoreAccess {
    pub fn new(
        organizations: OrganizationService,
        discovery: DiscoveryService,
        connector: Arc<dyn RestoreConnector>,
    ) -> Self {
        Self {
            organizations,
            discovery,
            connector,
        }
    }

    /// A writer into the mailboxes of `organization`.
    pub async fn mail(
        &self,
        organization: OrganizationId,
        credentials: Option<&RestoreCredentials>,
    ) -> Result<Arc<dyn MailWriter>, CoreError> {
        let session = self
            .session(organization, Service::Exchange, credentials)
            .await?;
        self.connector
            .mail_writer(session)
            .map_err(|e| unusable_session(&e.message))
    }

    /// A writer into the drives of `organization`; `units_per_minute` sizes the
    /// organization's restore budget when it is first made (`None`: the connector's default).
    pub async fn drive(
        &self,
        organization: OrganizationId,
        credentials: Option<&RestoreCredentials>,
        units_per_minute: Option<u32>,
    ) -> Result<Arc<dyn DriveWriter>, CoreError> {
        let session = self
            .session(organization, Service::SharePoint, credentials)
            .await?;
        self.connector
            .drive_writer(session, organization, units_per_minute)
            .map_err(|e| unusable_session(&e.message))
    }

    /// `credentials` signed in to the organization's tenant, or the stored account of
    /// `service` (discovery's shared session).
    async fn session(
        &self,
        organization: OrganizationId,
        service: Service,
        credentials: Option<&RestoreCredentials>,
    ) -> Result<Arc<dyn DirectorySession>, CoreError> {
        let Some(credentials) = credentials else {
            return self.discovery.session(organization, service).await;
        };
        let org = self.organizations.get(organization).await?;
        let account = &credentials.account;
        self.organizations
            .token_source()
            .sign_in(SignIn {
                cloud: org.region.cloud(),
                // The organization's own tenant: an account of another tenant cannot sign in
                // there, so a restore never writes through a stranger's sign-in.
                tenant: &org.name,
                credential: Credential::Password {
                    username: account.as_str(),
                    password: &credentials.password,
                },
            })
            .await
            .map_err(|e| match &e.kind {
                FailureKind::SignInRefused(why) => CoreError::Refused(match why {
                    SignInRefusal::InvalidCredentials | SignInRefusal::UserNotFound => format!(
                        "Microsoft 365 refused the restore credentials: {account} could not sign in to organization {} with the password given (the user name or password is incorrect); nothing was restored",
                        org.name
                    ),
                    _ => format!(
                        "Microsoft 365 refused the sign-in of {account} to organization {} ({}); nothing was restored",
                        org.name, e.message
                    ),
                }),
                _ => crate::organization::upstream(e, "signing in with the restore credentials"),
            })
    }
}

/// The token source and the restore connector do not fit together: a defect of the
/// assembly, not of the request.
fn unusable_session(why: &str) -> CoreError {
    CoreError::Internal(format!(
        "the signed-in session cannot be written through ({why}); nothing was restored"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(user: Option<&'a str>, password: Option<&'a str>) -> CredentialFields<'a> {
        CredentialFields {
            user_name: user.map(|u| ("userName", u)),
            password: password.map(|p| ("userPassword", p)),
            other: None,
        }
    }

    #[test]
    fn credentials_need_both_halves_and_never_show_the_password() {
        assert!(matches!(
            RestoreCredentials::from_fields(fields(None, None)),
            Ok(None)
        ));
        assert!(matches!(
            RestoreCredentials::from_fields(fields(Some("  "), Some(""))),
            Ok(None)
        ));
        let err = RestoreCredentials::from_fields(fields(Some("a@b.com"), None))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("without its password"), "{err}");
        let err = RestoreCredentials::from_fields(fields(None, Some("Secret-1")))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("without the account"), "{err}");
        assert!(!err.contains("Secret-1"), "{err}");
        let err = RestoreCredentials::from_fields(fields(Some("nobody"), Some("Secret-1")))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("user principal name"), "{err}");
        let ok = RestoreCredentials::from_fields(fields(Some(" a@b.com "), Some("Secret-1")));
        let shown = format!("{ok:?}");
        assert!(
            shown.contains("a@b.com") && !shown.contains("Secret-1"),
            "{shown}"
        );
        let other = RestoreCredentials::from_fields(CredentialFields {
            other: Some("userCode"),
            ..CredentialFields::default()
        });
        assert!(matches!(other, Err(CoreError::NotSupported(_))));
    }
}
