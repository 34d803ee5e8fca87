//! Typed ids of the backup records: one UUID newtype each, so that a job id
//! can never be passed where a repository id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{truncate_for_message, MalformedId};

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(value: Uuid) -> Self {
                Self(value)
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
                Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|_| MalformedId(truncate_for_message(s)))
            }
        }
    };
}

uuid_id!(
    /// A backup proxy (`RESTProxy.id`).
    ProxyId
);
uuid_id!(
    /// A backup repository (`RESTBackupRepository.id`).
    RepositoryId
);
uuid_id!(
    /// An object storage repository (`RESTObjectStorageRepositoryComposed.id`).
    ObjectStorageId
);
uuid_id!(
    /// An object storage account (`RESTCredential.id`).
    AccountId
);
uuid_id!(
    /// An encryption key (`RESTEncryptionKey.id`).
    EncryptionKeyId
);
uuid_id!(
    /// A backup job (`RESTJob.id`).
    JobId
);
uuid_id!(
    /// One run of a job (`RESTJobSession.id`).
    JobSessionId
);
uuid_id!(
    /// A line of a job session's log (`RESTLogItem.id`).
    LogItemId
);
uuid_id!(
    /// A restore point (`RESTRestorePoint.id`; a string on the wire).
    RestorePointId
);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ids_parse_their_own_display_and_refuse_garbage() {
        let id = JobId::new_random();
        assert_eq!(id.to_string().parse::<JobId>().unwrap(), id);
        let err = "x".repeat(500).parse::<RepositoryId>().unwrap_err();
        assert!(err.to_string().len() < 200);
    }
}
