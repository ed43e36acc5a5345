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
        /// The warning, in words.
        message: &'a str,
    },
    /// The run begins.
    RunStarted {
        /// The drill's name.
        drill: &'a str,
        /// This run's id.
        run_id: &'a str,
        /// When it started (RFC 3339).
        started_at: &'a str,
        /// How many steps the drill has.
        steps: usize,
        /// How many cleanup steps.
        cleanup: usize,
    },
    /// A step begins.
    StepStarted {
        /// Which list it is in.
        phase: Phase,
        /// Its place in that list.
        index: usize,
        /// Its display name.
        name: &'a str,
        /// Its kind.
        kind: StepKind,
    },
    /// A parallel group starts; its sub-steps follow, interleaved.
    GroupStarted {
        /// The group's display name.
        name: &'a str,
        /// How many sub-steps it will run in all.
        steps: usize,
    },
    /// An attempt failed and the step will try again.
    AttemptFailed {
        /// The step's display name.
        name: &'a str,
        /// Which attempt failed (1 is the first).
        attempt: u32,
        /// Why it failed.
        error: &'a str,
        /// How long until the next attempt.
        retry_in: Duration,
    },
    /// The run is about to wait for a person: progress output must get out
    /// of the way of the prompt.
    WaitingForOperator {
        /// The step waiting for a person.
        name: &'a str,
    },
    /// The person answered.
    OperatorAnswered {
        /// The step the person answered for.
        name: &'a str,
    },
    /// A step ended, as its record says.
    StepFinished {
        /// The step's record.
        step: &'a StepRecord,
    },
    /// Cleanup is starting (after success, failure or an interrupt).
    CleanupStarted {
        /// Whether the steps were stopped early.
        interrupted: bool,
    },
    /// The run ended; its record is final.
    RunFinished {
        /// The run's record.
        record: &'a RunRecord,
    },
}

/// Receives every event, in order, on the executor's task. Observers must
/// be quick: they sit on the timed path.
pub trait Observer: Send + Sync {
    /// Called for each event, in order.
    fn on_event(&self, event: &Event<'_>);
}

/// Several observers as one.
#[derive(Default, Clone)]
pub struct Observers(Vec<std::sync::Arc<dyn Observer>>);

impl Observers {
    /// Adds an observer; events reach observers in the order they were added.
    pub fn push(&mut self, observer: std::sync::Arc<dyn Observer>) {
        self.0.push(observer);
    }

    /// Sends an event to every observer.
    #[allow(clippy::needless_pass_by_value)] // events are built at the call: by value keeps each call short
    pub fn emit(&self, event: Event<'_>) {
        for observer in &self.0 {
            observer.on_event(&event);
        }
    }
}
