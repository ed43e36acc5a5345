//! Docker Swarm services, engine side: create, update, roll back, scale,
//! remove and sweep services, and wait for them to converge, through
//! bollard's service and task API.
//!
//! Plain resolved inputs in, typed results out: nothing here knows the
//! drill format, templates or the executor, so the `docker:` verbs
//! (`service_create`, `service_update`, `service_rollback`,
//! `service_scale`, `service_remove`, `wait: … until: converged |
//! rolled_back`, `sweep`) are thin wiring on top of it.
//!
//! Images are used as given: never resolved to a digest against a registry
//! (there is none in air-gapped clusters).

#[cfg(test)]
mod assess_tests;
mod converge;
mod error;
mod ops;
mod spec;
mod wait;

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

pub use converge::{DEFAULT_MONITOR, Failure, Progress, Snapshot, Streak, Until, Verdict, assess};
pub use error::SwarmError;
pub use ops::{Change, MAX_ATTEMPTS, Updated, create, remove, rollback, scale, sweep, update};
pub use spec::{
    FailureAction, Healthcheck, Mode, Order, Owner, Port, PublishMode, RestartCondition,
    RestartPolicy, ServiceInput, UpdatePolicy, to_spec,
};
pub use wait::{Convergence, DEFAULT_POLL, EngineUpdate, RollbackTiming, TaskFact, wait};
