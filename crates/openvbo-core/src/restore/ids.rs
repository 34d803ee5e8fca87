//! Typed ids of restore sessions and their events.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::ids::{truncate_for_message, MalformedId};

macro_rules! restore_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = MalformedId;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|_| MalformedId(truncate_for_message(s)))
            }
        }
    };
}

restore_id!(
    /// A restore session (`RESTRestoreSession.id`).
    RestoreSessionId
);
restore_id!(
    /// An event of a restore session (`RESTRestoreSessionEvent.id`).
    RestoreEventId
);
