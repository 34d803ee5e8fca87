//! The Microsoft 365 connector (`openvbo-m365`) behind core's ports
//! (`openvbo_core::microsoft365`): password sign-in as the token source, and
//! Graph's directory reads as the directory session.
//!
//! The adapter is only translation (clouds, records; error kinds come from
//! [`crate::connector`], shared with the content adapters beside it); the
//! endpoint overrides (the simulator) are configuration the composition root
//! (`openvbo-server`) hands in.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use crate::connector::failure;
use openvbo_core::microsoft365::{
    Credential, DirectorySession, DriveRecord, FailureKind, GroupRecord, M365Failure, MemberRecord,
    MemberType, NationalCloud, PortFuture, RoleRecord, SignIn, SignInRefusal, Sink, SiteRecord,
    TenantRecord, TokenSource, UserRecord,
};
use openvbo_m365::{
    DirectoryRole, Endpoints, GraphDrive, GraphGroup, GraphMember, GraphSession, GraphSite,
    GraphUser, M365Client, M365Error, TenantOrganization, Url,
};

/// Signs in with the connector, to Microsoft's hosts or the overrides.
pub struct M365TokenSource {
    client: M365Client,
    login: Option<Url>,
    graph: Option<Url>,
}

impl M365TokenSource {
    /// `login` and `graph` replace Microsoft's base URLs (the simulator).
    pub fn new(client: M365Client, login: Option<Url>, graph: Option<Url>) -> Self {
        Self {
            client,
            login,
            graph,
        }
    }

    fn endpoints(&self, cloud: NationalCloud) -> Endpoints {
        Endpoints::with_overrides(cloud_of(cloud), self.login.as_ref(), self.graph.as_ref())
    }
}

fn cloud_of(cloud: NationalCloud) -> openvbo_m365::NationalCloud {
    use openvbo_m365::NationalCloud as C;
    match cloud {
        NationalCloud::Global => C::Global,
        NationalCloud::UsGovHigh => C::UsGovHigh,
        NationalCloud::UsGovDod => C::UsGovDod,
        NationalCloud::China => C::China,
        NationalCloud::Germany => C::Germany,
    }
}

impl TokenSource for M365TokenSource {
    fn sign_in<'a>(&'a self, request: SignIn<'a>) -> PortFuture<'a, Arc<dyn DirectorySession>> {
        Box::pin(async move {
            let endpoints = self.endpoints(request.cloud);
            let graph = match request.credential {
                Credential::Password { username, password } => self
                    .client
                    .sign_in_with_password(&endpoints, request.tenant, username, password)
                    .await
                    .map_err(failure)?,
                _ => return Err(M365Failure::new(
                    FailureKind::SignInRefused(SignInRefusal::Other),
                    "this kind of credential is not supported by the Microsoft 365 connector yet",
                )),
            };
            Ok(session(self.client.clone(), graph))
        })
    }
}

fn session(client: M365Client, graph: GraphSession) -> Arc<dyn DirectorySession> {
    Arc::new(M365Session {
        client,
        graph: Arc::new(graph),
    })
}

/// A Graph session as a directory session.
struct M365Session {
    client: M365Client,
    graph: Arc<GraphSession>,
}

/// Streams a connector listing into a core sink. A sink's refusal travels
/// through the connector as a stop signal and comes back as it was.
struct Relay<'a, T> {
    sink: Sink<'a, T>,
    refused: Option<M365Failure>,
}

impl<'a, T> Relay<'a, T> {
    fn new(sink: Sink<'a, T>) -> Self {
        Self {
            sink,
            refused: None,
        }
    }

    fn forward<'s, G: 's>(
        &'s mut self,
        convert: fn(G) -> T,
    ) -> impl FnMut(Vec<G>) -> Result<(), M365Error> + Send + use<'a, 's, G, T> {
        move |page: Vec<G>| {
            (self.sink)(page.into_iter().map(convert).collect()).map_err(|e| {
                self.refused = Some(e);
                M365Error::too_large(0)
            })
        }
    }

    fn finish(self, result: Result<(), M365Error>) -> Result<(), M365Failure> {
        match self.refused {
            Some(refusal) => Err(refusal),
            None => result.map_err(failure),
        }
    }
}

impl DirectorySession for M365Session {
    fn remaining(&self) -> Duration {
        self.graph
            .expires_at()
            .saturating_duration_since(tokio::time::Instant::now())
    }

    fn renew(&self) -> Option<PortFuture<'_, Arc<dyn DirectorySession>>> {
        if !self.graph.has_refresh_token() {
            return None;
        }
        Some(Box::pin(async move {
            match self.client.refresh(&self.graph).await {
                Some(Ok(graph)) => Ok(session(self.client.clone(), graph)),
                Some(Err(e)) => Err(failure(e)),
                None => Err(M365Failure::new(
                    FailureKind::TokenRejected,
                    "the session has no refresh token",
                )),
            }
        }))
    }

    fn tenant(&self) -> PortFuture<'_, TenantRecord> {
        Box::pin(async move { self.graph.organization().await.map(tenant).map_err(failure) })
    }

    fn roles(&self) -> PortFuture<'_, Vec<RoleRecord>> {
        Box::pin(async move {
            let roles = self.graph.directory_roles().await.map_err(failure)?;
            Ok(roles.into_iter().map(role).collect())
        })
    }

    fn users<'a>(&'a self, sink: Sink<'a, UserRecord>) -> PortFuture<'a, ()> {
        Box::pin(async move {
            let mut relay = Relay::new(sink);
            let result = self.graph.users(&mut relay.forward(user)).await;
            relay.finish(result)
        })
    }

    fn user<'a>(&'a self, id: &'a str) -> PortFuture<'a, Option<UserRecord>> {
        Box::pin(async move {
            let found = self.graph.user(id).await.map_err(failure)?;
            Ok(found.map(user))
        })
    }

    fn groups<'a>(&'a self, sink: Sink<'a, GroupRecord>) -> PortFuture<'a, ()> {
        Box::pin(async move {
            let mut relay = Relay::new(sink);
            let result = self.graph.groups(&mut relay.forward(group)).await;
            relay.finish(result)
        })
    }

    fn group<'a>(&'a self, id: &'a str) -> PortFuture<'a, Option<GroupRecord>> {
        Box::pin(async move {
            let found = self.graph.group(id).await.map_err(failure)?;
            Ok(found.map(group))
        })
    }

    fn group_members<'a>(
        &'a self,
        id: &'a str,
        sink: Sink<'a, MemberRecord>,
    ) -> PortFuture<'a, ()> {
        Box::pin(async move {
            let mut relay = Relay::new(sink);
            let result = self
                .graph
                .group_members(id, &mut relay.forward(member))
                .await;
            relay.finish(result)
        })
    }

    fn teams<'a>(&'a self, sink: Sink<'a, GroupRecord>) -> PortFuture<'a, ()> {
        Box::pin(async move {
            let mut relay = Relay::new(sink);
            let result = self.graph.teams(&mut relay.forward(group)).await;
            relay.finish(result)
        })
    }

    fn sites<'a>(&'a self, sink: Sink<'a, SiteRecord>) -> PortFuture<'a, ()> {
        Box::pin(async move {
            let mut relay = Relay::new(sink);
            let result = self.graph.sites(&mut relay.forward(site)).await;
            relay.finish(result)
        })
    }

    fn subsites<'a>(&'a self, id: &'a str, sink: Sink<'a, SiteRecord>) -> PortFuture<'a, ()> {
        Box::pin(async move {
            let mut relay = Relay::new(sink);
            let result = self.graph.subsites(id, &mut relay.forward(site)).await;
            relay.finish(result)
        })
    }

    fn site<'a>(&'a self, id: &'a str) -> PortFuture<'a, Option<SiteRecord>> {
        Box::pin(async move {
            let found = self.graph.site(id).await.map_err(failure)?;
            Ok(found.map(site))
        })
    }

    fn user_drive<'a>(&'a self, user_id: &'a str) -> PortFuture<'a, Option<DriveRecord>> {
        Box::pin(async move {
            let found = self.graph.user_drive(user_id).await.map_err(failure)?;
            Ok(found.map(drive))
        })
    }

    fn connector_session(&self) -> Arc<dyn Any + Send + Sync> {
        self.graph.clone()
    }
}

fn tenant(org: TenantOrganization) -> TenantRecord {
    TenantRecord {
        initial_domain: org.initial_domain().map(str::to_owned),
        id: org.id,
        display_name: org.display_name,
    }
}

fn role(r: DirectoryRole) -> RoleRecord {
    RoleRecord {
        template_id: r.role_template_id,
        display_name: r.display_name,
    }
}

fn user(u: GraphUser) -> UserRecord {
    UserRecord {
        licensed: !u.assigned_licenses.is_empty(),
        id: u.id,
        display_name: u.display_name,
        user_principal_name: u.user_principal_name,
        mail: u.mail,
        account_enabled: u.account_enabled,
        on_premises_sync_enabled: u.on_premises_sync_enabled,
    }
}

fn group(g: GraphGroup) -> GroupRecord {
    let has_type = |name: &str| g.group_types.iter().any(|t| t.eq_ignore_ascii_case(name));
    GroupRecord {
        unified: has_type("Unified"),
        dynamic_membership: has_type("DynamicMembership"),
        is_team: g.is_team(),
        id: g.id,
        display_name: g.display_name,
        description: g.description,
        mail: g.mail,
        mail_nickname: g.mail_nickname,
        security_enabled: g.security_enabled,
        on_premises_sync_enabled: g.on_premises_sync_enabled,
    }
}

fn member(m: GraphMember) -> MemberRecord {
    let member_type = if m.is_user() {
        MemberType::User
    } else if m.is_group() {
        MemberType::Group
    } else {
        MemberType::Other
    };
    MemberRecord {
        member_type,
        id: m.id,
        display_name: m.display_name,
        user_principal_name: m.user_principal_name,
        mail: m.mail,
    }
}

fn site(s: GraphSite) -> SiteRecord {
    SiteRecord {
        id: s.id,
        name: s.name,
        display_name: s.display_name,
        web_url: s.web_url,
    }
}

fn drive(d: GraphDrive) -> DriveRecord {
    DriveRecord {
        id: d.id,
        name: d.name,
        web_url: d.web_url,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_sinks_refusal_comes_back_as_it_was_sent() {
        let mut seen = 0;
        let mut sink = |page: Vec<SiteRecord>| {
            seen += page.len();
            Err(M365Failure::too_large(1))
        };
        let mut relay = Relay::new(&mut sink);
        let stopped = (relay.forward(site))(vec![GraphSite {
            id: "s".into(),
            name: None,
            display_name: None,
            web_url: None,
        }]);
        assert!(stopped.is_err());
        let back = relay.finish(stopped).unwrap_err();
        assert_eq!(back, M365Failure::too_large(1));
        assert_eq!(seen, 1);
    }

    #[test]
    fn every_cloud_has_its_hosts() {
        let source = M365TokenSource::new(
            M365Client::new(openvbo_m365::ConnectorSettings::default()).unwrap(),
            None,
            None,
        );
        let dod = source.endpoints(NationalCloud::UsGovDod);
        assert_eq!(dod.graph.as_str(), "https://dod-graph.microsoft.us/");
        let cn = source.endpoints(NationalCloud::China);
        assert_eq!(cn.login.host_str(), Some("login.chinacloudapi.cn"));
    }
}
