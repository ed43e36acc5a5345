//! What the executor tells the world. Progress bars, warnings, the journal,
//! logs, the after-run reports and the closing summary are observers; the
//! executor knows none of them.

use std::time::Duration;

use crate::kind::StepKind;
use crate::record::{Phase, RunRecord, StepRecord};

/// Something that happened during a run.
#[derive(Debug)]
pub enum Event<'a> {
    /// Something the operator should know before the run starts (TLS
    /// certificate checks off, say); also kept in the record.
    Warning {
        message: &'a str,
    },
    RunStarted {
        drill: &'a str,
        run_id: &'a str,
        started_at: &'a str,
        steps: usize,
        cleanup: usize,
    },
    StepStarted {
        phase: Phase,
        index: usize,
        name: &'a str,
        kind: StepKind,
    },
    /// A parallel group starts; its sub-steps follow, interleaved.
    GroupStarted {
        name: &'a str,
        steps: usize,
    },
    /// An attempt failed and the step will try again.
    AttemptFailed {
        name: &'a str,
        attempt: u32,
        error: &'a str,
        retry_in: Duration,
    },
    /// The run is about to wait for a person: progress output must get out
    /// of the way of the prompt.
    WaitingForOperator {
        name: &'a str,
    },
    /// The person answered.
    OperatorAnswered {
        name: &'a str,
    },
    StepFinished {
        step: &'a StepRecord,
    },
    /// Cleanup is starting (after success, failure or an interrupt).
    CleanupStarted {
        interrupted: bool,
    },
    RunFinished {
        record: &'a RunRecord,
    },
}

/// Receives every event, in order, on the executor's task. Observers must
/// be quick: they sit on the timed path.
pub trait Observer: Send + Sync {
    fn on_event(&self, event: &Event<'_>);
}

/// Several observers as one.
#[derive(Default, Clone)]
pub struct Observers(Vec<std::sync::Arc<dyn Observer>>);

impl Observers {
    pub fn push(&mut self, observer: std::sync::Arc<dyn Observer>) {
        self.0.push(observer);
    }

    pub fn emit(&self, event: Event<'_>) {
        for observer in &self.0 {
            observer.on_event(&event);
        }
    }
}
