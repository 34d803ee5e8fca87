//! Browsing an organization's objects in Microsoft 365 (users, groups and
//! members, sites, teams, OneDrives) to choose what to back up.
//!
//! Listings come live from Graph with the organization's stored
//! credentials. The first page of a listing fetches it whole (streamed page
//! by page from Graph) into a cached set; later pages name the set
//! (`setId`) and are served from it without calling Microsoft.

mod cache;
mod mapping;
mod model;
mod query;
mod service;
mod sessions;

pub use cache::CacheSettings;
pub use model::{
    DirectoryGroup, DirectorySite, DirectoryUser, GroupKind, GroupMember, Location, MemberKind,
    OneDrive, Team, UserKind,
};
pub use query::{
    GroupFilter, LocationFilter, Needle, Page, PageRequest, SiteFilter, UserFilter, MAX_LIMIT,
};
pub use service::DiscoveryService;
