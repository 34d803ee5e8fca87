//! Restore sessions: a view of an organization as it was at a point in time, and the actions
//! taken through it (browse, save, restore), each recorded as an event.
//!
//! - [`options`]: what `explore` accepts (the lenient dates real clients send, the type);
//! - [`session`]: the session, its states and its events;
//! - [`resolve`]: which restore point shows each resource at the asked time;
//! - [`service`]: the live sessions (create, list, stop, idle expiry on the injected clock);
//! - [`browse`]: mailboxes, folders and items of a session, from the catalog;
//! - [`content`]: the port to backed-up content, and the catalog filled from it on first use;
//! - [`credentials`]: whose sign-in a restore writes with (the request's account, or the stored one);
//! - [`mail`]: messages put back into a mailbox (original or another);
//! - [`drive`]: files put back into a OneDrive or document library (original or another);
//! - [`writers`]: the ports those restores write to Microsoft 365 through.

pub mod browse;
pub mod content;
pub mod credentials;
pub mod drive;
pub mod ids;
pub mod mail;
pub mod options;
pub mod resolve;
pub mod service;
pub mod session;
pub mod writers;

pub use browse::{BrowsePage, FolderFilter};
pub use ids::{RestoreEventId, RestoreSessionId};
pub use options::{parse_lenient_time, ExploreOptions, RestoreKind};
pub use resolve::ChosenResource;
pub use service::{RestoreSessions, SessionPageQuery};
pub use session::{
    EventStatus, EventType, NewEvent, RestoreEvent, RestoreSession, SessionResult, SessionState,
};
