//! Restore sessions: a view of an organization as it was at a point in time, and the actions
//! taken through it (browse, save, restore), each recorded as an event.
//!
//! - [`options`]: what `explore` accepts (the lenient dates real clients send, the type);
//! - [`session`]: the session, its states and its events;
//! - [`resolve`]: which restore point shows each resource at the asked time;
//! - [`service`]: the live sessions (create, list, stop, idle expiry on the injected clock);
//! - [`browse`]: mailboxes, folders and items of a session, from the catalog.

pub mod browse;
pub mod ids;
pub mod options;
pub mod resolve;
pub mod service;
pub mod session;

pub use browse::{BrowsePage, FolderFilter};
pub use ids::{RestoreEventId, RestoreSessionId};
pub use options::{parse_lenient_time, ExploreOptions, RestoreKind};
pub use resolve::ChosenResource;
pub use service::{RestoreSessions, SessionPageQuery};
pub use session::{
    EventStatus, EventType, NewEvent, RestoreEvent, RestoreSession, SessionResult, SessionState,
};
