//! Backup jobs: the unit of work and the queue that runs it.

pub mod work;

pub use work::{
    NoEvents, ResourceTarget, UnitControl, UnitEvents, UnitOfWork, UnitReport, UnitStatus,
    WorkQueue,
};
