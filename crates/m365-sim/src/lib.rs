//! A Microsoft 365 tenant simulator: the Entra ID v2.0 token endpoint and the
//! Microsoft Graph v1.0 endpoints openvbo uses, served over plain HTTP.
//!
//! The product talks to it exactly as it talks to Microsoft, so wire formats,
//! status codes and error bodies follow Microsoft's (see
//! `docs/m365-protocol.md`). Everything outside Microsoft's namespace lives
//! under `/_sim/`.

mod aad_errors;
mod cloud;
mod control;
mod demo;
mod demo_files;
mod demo_mail;
mod directory;
mod download_url;
mod drive_content;
mod drive_control;
mod drive_delta;
mod drive_download;
mod drive_hashes;
mod drive_json;
mod drive_reads;
mod drive_routes;
mod drive_spec;
mod drive_store;
mod drive_writes;
mod error;
mod faults;
mod graph;
mod graph_auth;
mod graph_directory;
mod graph_drive;
mod graph_errors;
mod graph_filter;
mod graph_json;
mod graph_mail;
mod graph_mailbox;
mod graph_query;
mod graph_sites;
mod graph_teams;
mod ids;
mod mail_delta;
mod mail_json;
mod mail_spec;
mod mail_store;
mod mail_upload;
mod mail_writes;
mod mime_render;
mod options;
mod paging;
mod resource_units;
mod roles;
mod sharepoint;
mod simulator;
mod stats;
mod synthetic;
mod synthetic_files;
mod synthetic_mail;
mod tenant;
mod tenant_checks;
mod throttle;
mod token_endpoint;
mod tokens;
mod upload_session;
mod user;
mod wire_time;

pub use cloud::Region;
pub use demo::{demo_tenant, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_UPN, DEMO_TENANT_ID};
pub use drive_spec::{DriveItemSpec, SiteDriveSpec};
pub use error::SimError;
pub use mail_spec::{AttachmentSpec, MailFolderSpec, MessageSpec};
pub use options::{
    Budget, ContentOptions, ContentStats, Fault, SimOptions, SimStats, ThrottleOptions,
    ThrottleProfile, ThrottleStats, UserFlags,
};
pub use simulator::Simulator;
pub use synthetic::{synthetic_tenant, synthetic_tenants, SyntheticSpec, SYNTHETIC_PASSWORD};
pub use tenant::{load_tenant_file, Group, Site, Tenant};
pub use user::{AssignedLicense, MailboxType, User, UserType};
