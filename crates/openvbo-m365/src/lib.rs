//! The Microsoft 365 connector: which hosts serve a national cloud, password
//! sign-in to Microsoft Entra ID (OAuth2 ROPC, v2.0 endpoint), and a small
//! Microsoft Graph client that pages, honours `Retry-After` and keeps its
//! bearer token to Graph's own host.
//!
//! It knows nothing of openvbo's domain: callers pass base URLs, so tests
//! point it at the `m365-sim` simulator and production at Microsoft.

mod client;
mod cloud;
mod directory;
pub mod drive;
mod error;
mod graph;
mod limits;
pub mod mail;
mod retry;
mod signin;

pub use client::{ConnectorSettings, M365Client, DEFAULT_CLIENT_ID};
pub use cloud::{Endpoints, NationalCloud};
pub use directory::{GraphDrive, GraphGroup, GraphMember, GraphSite, GraphUser};
pub use error::{ErrorKind, M365Error, SignInFailure};
pub use graph::{
    role_template, DirectoryRole, GraphSession, SignedInUser, TenantOrganization, VerifiedDomain,
};
pub use limits::{Lane, LimitSettings, Priority, Workload, MICROSOFT_MAILBOX_CONCURRENCY};
pub use url::Url;
