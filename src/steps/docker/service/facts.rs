//! The core's [`Convergence`] as the step record keeps it.

use std::time::Duration;

use crate::record::format::millis;
use crate::record::{EngineUpdateFacts, RollbackFacts, ServiceFacts, ServiceTask};
use crate::steps::docker::swarm::{Convergence, TaskFact, Until};

/// The record's facts of one wait that looked every `poll`.
pub(super) fn record(seen: &Convergence, poll: Duration) -> ServiceFacts {
    ServiceFacts {
        service: seen.service.clone(),
        until: match seen.until {
            Until::Converged => "converged",
            Until::RolledBack => "rolled_back",
        }
        .to_string(),
        wait_started_at: micros(seen.began),
        decided_at: micros(seen.began + seen.waited),
        converge_ms: millis(seen.waited),
        all_running_ms: seen.all_running_after.map(millis),
        polls: seen.polls,
        poll_ms: millis(poll),
        tasks_started: seen.started.len(),
        tasks_stopped: seen.stopped.len(),
        started: seen.started.iter().map(task).collect(),
        stopped: seen.stopped.iter().map(task).collect(),
        engine: seen.engine.as_ref().map(|engine| EngineUpdateFacts {
            state: engine.state.clone(),
            message: engine.message.clone(),
            started_at: engine.started_at.clone(),
            completed_at: engine.completed_at.clone(),
            took_ms: engine.took.map(millis),
        }),
        rollback: seen.rollback.map(|timing| RollbackFacts {
            decided_after_ms: millis(timing.decided_after),
            rolled_back_after_ms: timing.rolled_back_after.map(millis),
        }),
    }
}

/// Microseconds: the engine's timestamps are finer than the record's
/// usual milliseconds, and the two are compared.
fn micros(at: std::time::SystemTime) -> String {
    humantime::format_rfc3339_micros(at).to_string()
}

fn task(fact: &TaskFact) -> ServiceTask {
    ServiceTask {
        name: fact.name.clone(),
        image: fact.image.clone(),
        node: fact.node.clone(),
        state: fact.state.clone(),
        error: fact.error.clone().filter(|e| !e.is_empty()),
        exit_code: fact.exit_code.filter(|code| *code != 0),
    }
}
