//! Backup jobs: the schedule policy, runs (sessions and their log), the
//! scheduler, and the unit of work the runs hand to a queue.

pub mod policy;
pub mod protected;
pub mod runner;
pub mod scheduler;
pub mod service;
pub mod work;

pub use policy::{parse_policy, policy_json, stored_schedule, SchedulePolicyInput};
pub use protected::{group_users, BackupTimes, OrganizationUsage, ProtectedUser};
pub use runner::{next_run, JobRunner, Resolved, SelectionResolver, StopReason, INTERRUPTED};
pub use scheduler::{Pass, Scheduler};
pub use service::{job_item, JobInput, JobService};
pub use work::{
    NoEvents, ResourceTarget, UnitControl, UnitEvents, UnitOfWork, UnitOrigin, UnitReport,
    UnitStatus, WorkQueue,
};
