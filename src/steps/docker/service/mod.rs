//! The `docker:` Swarm service verbs (`service_create`, `service_update`,
//! `service_rollback`, `service_scale`, `service_remove`, and `wait: NAME,
//! until: converged | rolled_back`): thin wiring of the drill's fields onto
//! the engine-side core in [`swarm`](super::swarm).
//!
//! create/update/scale wait `until: converged` unless `detach: true`;
//! `service_rollback` waits `until: rolled_back`, because the engine
//! reports a manual rollback with the same states as an automatic one.
//! An update the engine rolls back fails its step (the docker CLI exits 0
//! there: the trap a rehearsal must catch); `until: rolled_back` beside
//! `service_update`, or on a `wait`, is for a rehearsal that expects it.
//! Every wait is bounded by `for` (default 2m), and its facts go to the
//! step's record, also when it fails.

pub(crate) mod check;
mod describe;
mod facts;
pub(crate) mod resolve;
pub(crate) mod words;

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters as q;

use super::swarm::{self, Change, Owner, ServiceInput, SwarmError, Until};
use crate::steps::attempt::{Attempt, excerpt};
use crate::steps::context::StepContext;

/// A service action, then what to wait for.
#[derive(Debug)]
pub(crate) struct ServiceCommand {
    /// What to ask the engine.
    pub action: ServiceAction,
    /// `None`: `detach: true` (or `service_remove`), the step ends when
    /// the engine accepted the change.
    pub wait: Option<ServiceWait>,
}

/// One service action, every value resolved.
#[derive(Debug)]
pub(crate) enum ServiceAction {
    /// `service_create`.
    Create(Box<ServiceInput>),
    /// `service_update`: `change` applied to the inspected spec.
    Update {
        /// The service.
        name: String,
        /// What changes; the rest of the spec stays.
        change: Change,
    },
    /// `service_rollback`: the engine's rollback to the previous spec.
    Rollback {
        /// The service.
        name: String,
    },
    /// `service_scale`.
    Scale {
        /// The service.
        name: String,
        /// The replica count to reach.
        replicas: u64,
    },
    /// `service_remove`.
    Remove {
        /// The service.
        name: String,
    },
    /// Only the wait (`wait: NAME, until: converged`).
    Wait {
        /// The service.
        name: String,
    },
}

/// What a service step waits for after its action.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServiceWait {
    /// `converged`, or `rolled_back` (the engine undid the last update).
    pub until: Until,
    /// `for`: the wait fails past it, with the last state seen.
    pub within: Duration,
}

impl ServiceAction {
    /// The service the action is about.
    pub(crate) fn service(&self) -> &str {
        match self {
            ServiceAction::Create(input) => &input.name,
            ServiceAction::Update { name, .. }
            | ServiceAction::Rollback { name }
            | ServiceAction::Scale { name, .. }
            | ServiceAction::Remove { name }
            | ServiceAction::Wait { name } => name,
        }
    }
}

impl ServiceCommand {
    /// How long the step may take at least: its wait and some slack for the
    /// action itself.
    pub(crate) fn own_timeout(&self) -> Option<Duration> {
        self.wait.map(|w| w.within + Duration::from_secs(30))
    }

    /// Runs the action, then waits; the wait's facts go with the attempt,
    /// passed or failed.
    pub(crate) async fn run(&self, docker: &Docker, ctx: &StepContext<'_>) -> Attempt {
        if let Err(err) = self.act(docker, ctx).await {
            return Attempt::failed(err.to_string());
        }
        let Some(wait) = self.wait else {
            return Attempt::passed(Vec::new());
        };
        let name = self.action.service();
        let poll = swarm::DEFAULT_POLL;
        match swarm::wait(docker, name, wait.until, wait.within, poll).await {
            Ok(seen) => Attempt::passed(Vec::new()).with_service(Some(facts::record(&seen, poll))),
            Err(err) => {
                let seen = match &err {
                    SwarmError::RolledBack { facts, .. } => Some(facts::record(facts, poll)),
                    _ => None,
                };
                let mut why = err.to_string();
                if let Some(health) = last_failed_health_check(docker, name).await {
                    why.push_str(&format!("; last health check: {health}"));
                }
                Attempt::failed(why).with_service(seen)
            }
        }
    }

    async fn act(&self, docker: &Docker, ctx: &StepContext<'_>) -> Result<(), SwarmError> {
        match &self.action {
            ServiceAction::Create(input) => {
                let owner = Owner {
                    run_id: ctx.run_id.to_string(),
                    drill: ctx.drill.to_string(),
                };
                let (_, warnings) = swarm::create(docker, input, &owner).await?;
                log_warnings(&input.name, &warnings);
            }
            ServiceAction::Update { name, change } => {
                let updated = swarm::update(docker, name, change).await?;
                log_warnings(name, &updated.warnings);
            }
            ServiceAction::Rollback { name } => {
                swarm::rollback(docker, name).await?;
            }
            ServiceAction::Scale { name, replicas } => {
                swarm::scale(docker, name, *replicas).await?;
            }
            ServiceAction::Remove { name } => swarm::remove(docker, name).await?,
            ServiceAction::Wait { .. } => {}
        }
        Ok(())
    }
}

/// The output of the last failed health check of the service's newest
/// task container on this engine. A task stopped for being unhealthy ends
/// with no error text (`complete`, exit 0): the reason is only in its
/// container's health log.
async fn last_failed_health_check(docker: &Docker, service: &str) -> Option<String> {
    let filter = HashMap::from([(
        "label",
        vec![format!("com.docker.swarm.service.name={service}")],
    )]);
    let options = q::ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filter)
        .build();
    let containers = docker.list_containers(Some(options)).await.ok()?;
    for container in containers.into_iter().take(3) {
        let Some(id) = container.id else { continue };
        let Ok(inspected) = docker.inspect_container(&id, None).await else {
            continue;
        };
        let log = inspected.state.and_then(|s| s.health).and_then(|h| h.log);
        let failed = log
            .unwrap_or_default()
            .into_iter()
            .rev()
            .find(|entry| entry.exit_code.is_some_and(|code| code != 0));
        if let Some(output) = failed.and_then(|entry| entry.output) {
            let line = output.split_whitespace().collect::<Vec<_>>().join(" ");
            return Some(excerpt(&line, 200));
        }
    }
    None
}

/// The engine's warnings (an image it could not resolve on a registry, …)
/// are worth a log line, not a failure.
fn log_warnings(service: &str, warnings: &[String]) {
    for warning in warnings {
        tracing::info!(target: "firedrill::docker", service, "engine warning: {warning}");
    }
}
