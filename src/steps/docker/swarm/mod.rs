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
//! How the verbs map onto it (the wiring left to do):
//! - `service_create` → [`create`], then [`wait`] with [`Until::Converged`]
//!   unless `detach: true`; `service_update` → [`update`] (and
//!   `service_scale` → [`scale`]), then the same wait;
//! - `service_rollback` → [`rollback`], then [`wait`] with
//!   [`Until::RolledBack`]: the engine reports a manual rollback with the
//!   same states as an automatic one, so only the caller knows it asked;
//! - `wait: NAME, until: converged | rolled_back, for: 2m` → [`wait`];
//! - `sweep: run` → [`sweep`] before volumes are removed (tasks hold them).
//!
//! A failed wait's [`SwarmError::RolledBack`] still carries the
//! [`Convergence`] facts, so the record shows how long the engine took to
//! notice a bad release and to roll it back.
//!
//! Images are used as given: never resolved to a digest against a registry
//! (there is none in air-gapped clusters).

#[cfg(test)]
mod assess_tests;
mod converge;
mod error;
mod facts;
mod ops;
mod spec;
mod wait;

#[cfg(test)]
mod testkit;
#[cfg(test)]
mod tests;

pub(crate) use converge::Until;
pub(crate) use error::SwarmError;
pub(crate) use facts::{Convergence, TaskFact};
pub(crate) use ops::{Change, create, remove, rollback, scale, sweep, update};
pub(crate) use spec::{
    FailureAction, Healthcheck, Mode, Order, Owner, Port, PublishMode, RestartCondition,
    RestartPolicy, ServiceInput, UpdatePolicy,
};
pub(crate) use wait::{DEFAULT_POLL, wait};
// What only the tests of this module reach through `super::*`.
#[cfg(test)]
use facts::EngineUpdate;
