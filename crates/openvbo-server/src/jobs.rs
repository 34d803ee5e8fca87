//! Assembles backup jobs: the engine (in-process work queue over the
//! repository service and the connector), the runner, the job service, and
//! the scheduler loop. Sessions a crash interrupted are failed first.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use openvbo_backup::engines::ServiceRepositories;
use openvbo_backup::graph::GraphSources;
use openvbo_backup::resolve::DiscoveryResolver;
use openvbo_backup::{InProcessQueue, Worker};
use openvbo_core::clock::SharedClock;
use openvbo_core::discovery::DiscoveryService;
use openvbo_core::jobs::{JobRunner, JobService, Scheduler};
use openvbo_core::repositories::RepositoryService;
use openvbo_core::store::Store;

/// How often the scheduler looks for due jobs, on the injected clock (a
/// test advancing a manual clock wakes it).
const SCHEDULER_TICK: Duration = Duration::from_secs(5);

pub(crate) async fn service(
    store: Arc<dyn Store>,
    repositories: RepositoryService,
    discovery: DiscoveryService,
    clock: SharedClock,
    drive_units_per_minute: Option<NonZeroU32>,
) -> JobService {
    let mut sources = GraphSources::new(discovery.clone());
    if let Some(units) = drive_units_per_minute {
        sources = sources.with_drive_units(units);
    }
    let worker = Worker::new(
        Arc::new(ServiceRepositories::new(repositories)),
        Arc::new(sources),
    );
    let queue = Arc::new(InProcessQueue::new(
        Arc::new(worker),
        InProcessQueue::default_concurrency(),
    ));
    let runner = JobRunner::new(
        store.clone(),
        queue,
        Arc::new(DiscoveryResolver::new(discovery)),
        clock.clone(),
    );
    match runner.recover().await {
        Ok(failed) if !failed.is_empty() => {
            tracing::warn!(
                sessions = failed.len(),
                "job sessions interrupted by the last stop were marked Failed"
            )
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not check for interrupted job sessions"),
    }
    let scheduler = Scheduler::new(runner.clone());
    tokio::spawn(async move {
        loop {
            if let Err(e) = scheduler.run_once(clock.now()).await {
                tracing::warn!(error = %e, "scheduler pass failed");
            }
            clock.sleep(SCHEDULER_TICK).await;
        }
    });
    JobService::new(store, runner)
}
