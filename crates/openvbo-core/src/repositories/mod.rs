//! Backup repositories, object storage and encryption keys: the rules of the v6
//! resources that manage them, and the port to the engine that stores the data.

pub mod engine;

pub use engine::{
    EngineError, EngineErrorKind, EngineHandle, EngineLocation, EngineRestorePoint, EngineUnlock,
    RepositoryEngine, RepositoryEngines, S3Account, S3Bucket, Space,
};
