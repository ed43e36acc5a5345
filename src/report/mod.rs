//! The run record and what renders it: the terminal, the journal on disk,
//! and logs.

pub mod journal;
pub mod record;
pub mod terminal;

use crate::run::event::{Event, Observer};

/// Sends every event to `tracing`, for `RUST_LOG=firedrill=debug`.
pub struct LogObserver;

impl Observer for LogObserver {
    fn on_event(&self, event: &Event<'_>) {
        match event {
            Event::RunStarted { drill, run_id, .. } => tracing::info!(drill, run_id, "run started"),
            Event::StepStarted { name, kind, .. } => {
                tracing::debug!(step = name, kind, "step started")
            }
            Event::AttemptFailed {
                name,
                attempt,
                error,
                ..
            } => {
                tracing::debug!(step = name, attempt, error, "attempt failed")
            }
            Event::WaitingForOperator { name } => {
                tracing::debug!(step = name, "waiting for the operator")
            }
            Event::OperatorAnswered { name } => tracing::debug!(step = name, "operator answered"),
            Event::StepFinished { step } => tracing::info!(
                step = step.name,
                outcome = step.outcome.label(),
                duration_ms = step.duration_ms,
                attempts = step.attempts,
                "step finished"
            ),
            Event::CleanupStarted { interrupted } => tracing::info!(interrupted, "cleanup started"),
            Event::RunFinished { record } => tracing::info!(
                outcome = ?record.outcome,
                duration_ms = record.duration_ms,
                "run finished"
            ),
        }
    }
}
