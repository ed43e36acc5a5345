//! The executor: runs a checked drill step by step — timeouts, retries,
//! `when`, cancellation and cleanup — and reports through [`event`]s.
//!
//! Layer: it may use the drill model (`drill`), the step kinds (`steps`),
//! the operator and the record types; it knows nothing about terminals or
//! files, and nothing in `report` or `cli` is imported here. Reporters
//! observe its [`event::Event`]s.
//!
//! One file per job: [`prepare`](prepare()) reads secrets and resolves vars
//! and the target; `executor` runs the lists of steps and builds the
//! record; `list` is the one loop over a list of steps; `step` runs one
//! step (`attempts` its retries and `wait`, `rescue` the operator's help
//! after a failure); `parallel` runs groups; `strict` says why a run
//! failed; `resume` keeps what an earlier run finished.

mod attempts;
mod context;
pub mod event;
mod executor;
mod list;
mod parallel;
mod prepare;
mod rescue;
mod resume;
pub(crate) mod scope;
mod step;
mod strict;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::operator::Operator;
use crate::record::RunRecord;

pub use executor::execute;
pub use prepare::{Prepared, http_client, prepare};
pub(crate) use strict::failure_reasons;

/// A step without its own timeout, in a drill without `defaults.timeout`,
/// is cut after this: nothing may hang.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a manual step may wait for a person unless it says otherwise.
pub const DEFAULT_MANUAL_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Responses and program output larger than this are cut.
pub const DEFAULT_MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// How long a running step may finish after the run is stopped, before it
/// is cancelled.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(2);

/// How long cleanup may take in all.
pub const DEFAULT_CLEANUP_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// How a run is to be done.
pub struct RunOptions {
    /// This run's id (new for each run, also a resumed one).
    pub run_id: String,
    /// `--vars FILE` then `--var NAME=VALUE`, overriding or adding to
    /// `vars:` (a later one wins).
    pub vars: Vec<(String, serde_json::Value)>,
    /// What `${env.NAME}` and `env:` secrets read: the process environment,
    /// then `--env-file` values.
    pub env: crate::drill::inputs::Environment,
    /// Who answers at manual steps and failures.
    pub operator: Arc<dyn Operator>,
    /// The operator's name, for the record.
    pub operator_name: String,
    /// `--strict`: interventions, help and budget overruns fail the run.
    pub strict: bool,
    /// Responses and program output larger than this are cut.
    pub max_body_bytes: usize,
    /// `--resume`: the earlier run to continue.
    pub resume: Option<RunRecord>,
    /// `--timeout`: overrides the drill's `timeout`.
    pub timeout: Option<Duration>,
    /// How long cleanup may take in all.
    pub cleanup_timeout: Duration,
    /// How long a running step may finish after a stop.
    pub grace: Duration,
}

/// Stops a run from outside (Ctrl-C, SIGTERM) or when it runs out of time.
/// Stopping the steps moves on to cleanup; stopping cleanup too skips what
/// is left of it. The record is written either way.
#[derive(Clone, Default)]
pub struct Cancellation {
    /// Cancelled when the steps must stop.
    pub steps: CancellationToken,
    /// Cancelled when cleanup must stop too.
    pub cleanup: CancellationToken,
    why: Arc<std::sync::OnceLock<Stop>>,
}

/// Why the steps were stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// A person or a supervisor stopped the run (SIGINT, SIGTERM).
    Interrupted(String),
    /// The drill went over its `timeout`.
    TimedOut(String),
}

impl Cancellation {
    /// Stops the steps (cleanup still runs). The first reason wins.
    pub fn stop(&self, why: Stop) {
        let _ = self.why.set(why);
        self.steps.cancel();
    }

    /// Also skips what is left of cleanup.
    pub fn stop_cleanup(&self) {
        self.cleanup.cancel();
    }

    /// Why the steps were stopped, if they were.
    pub fn reason(&self) -> Option<&Stop> {
        self.why.get()
    }

    fn not_run_message(&self) -> String {
        match self.reason() {
            Some(Stop::TimedOut(why)) => format!("not run: {why}"),
            _ => "not run: the run was interrupted".to_string(),
        }
    }
}
