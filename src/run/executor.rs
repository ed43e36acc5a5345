//! The run from start to end: the drill's steps under its timeout, then
//! cleanup under its own deadline, then the record and why it failed.

use std::time::{Duration, Instant, SystemTime};

use tokio::task::JoinHandle;

use super::context::Executor;
use super::event::{Event, Observers};
use super::list::{ListRules, StepList};
use super::scope::Scope;
use super::{Cancellation, Prepared, RunOptions, Stop};
use crate::drill::LoadedDrill;
use crate::record::format::{millis, timestamp};
use crate::record::{Phase, RunOutcome, RunRecord, SCHEMA, StepRecord};

/// Runs a prepared drill to the end, cleanup included, and returns its
/// record. Never fails: every problem becomes part of the record.
///
/// Takes the drill: its model (megabytes for a 10,000-step drill) is freed
/// once the record is built, before the after-run reports and the summary
/// allocate theirs, which keeps the run's peak memory down.
pub async fn execute(
    loaded: LoadedDrill,
    prepared: Prepared,
    options: &RunOptions,
    http: reqwest::Client,
    observers: &Observers,
    cancel: &Cancellation,
) -> RunRecord {
    let Prepared { mut scope, target } = prepared;
    let started_at = scope.facts.started_at.clone();
    let clock = Instant::now();
    let drill = &loaded;
    let d = &drill.drill;
    let warnings = crate::steps::http::target_warnings(&d.target);
    for message in &warnings {
        observers.emit(Event::Warning { message });
    }
    observers.emit(Event::RunStarted {
        drill: &d.drill.value,
        run_id: &options.run_id,
        started_at: &started_at,
        steps: d.steps.value.len(),
        cleanup: d.cleanup.len(),
    });
    let executor = Executor {
        drill,
        options,
        observers,
        docker: crate::steps::docker::Engines::new(&target.engines, target.docker.clone()),
        target,
        http,
    };
    // Sized up front: a long drill's records would otherwise keep up to
    // twice the room they need.
    let mut steps = Vec::with_capacity(d.steps.value.len() + d.cleanup.len());
    executor.run_steps(&mut scope, cancel, &mut steps).await;
    let stopped = cancel.reason().cloned();
    executor
        .run_cleanup(&mut scope, cancel, stopped.is_some(), &mut steps)
        .await;
    let ended = Ended {
        started_at,
        duration: clock.elapsed(),
        stopped,
        warnings,
    };
    let record = executor.run_record(ended, steps, cancel);
    drop(executor);
    drop(loaded);
    observers.emit(Event::RunFinished { record: &record });
    record
}

/// How the run went, besides its steps: for its record.
struct Ended {
    started_at: String,
    duration: Duration,
    stopped: Option<Stop>,
    warnings: Vec<String>,
}

impl Executor<'_> {
    /// The drill's own steps: those an earlier run finished (`--resume`),
    /// then the rest, stopped as on Ctrl-C past the drill's `timeout`.
    async fn run_steps(
        &self,
        scope: &mut Scope,
        cancel: &Cancellation,
        records: &mut Vec<StepRecord>,
    ) {
        let deadline = self.drill_deadline(cancel);
        let carried = self
            .options
            .resume
            .as_ref()
            .map(|previous| super::resume::carried_steps(self.drill, previous))
            .unwrap_or_default();
        for done in &carried {
            for (capture, value) in &done.captures {
                scope.set(capture, value.clone());
            }
            self.observers.emit(Event::StepFinished { step: done });
            records.push(done.clone());
        }
        let list = StepList {
            steps: &self.drill.drill.steps.value,
            names: &self.drill.step_names,
            first: carried.len(),
        };
        let stopped = || cancel.not_run_message();
        let rules = ListRules {
            phase: Phase::Steps,
            cancel: &cancel.steps,
            stopped: &stopped,
            after_failure: Some("not run: an earlier step failed"),
            in_group: false,
        };
        self.run_list(list, &rules, scope, records, |_, _| {}).await;
        if let Some(deadline) = deadline {
            deadline.abort();
        }
    }

    /// A hard limit on the steps: past it they stop as on Ctrl-C, cleanup
    /// runs, and the run fails.
    fn drill_deadline(&self, cancel: &Cancellation) -> Option<JoinHandle<()>> {
        let drill_timeout =
            self.options
                .timeout
                .or(self.drill.drill.timeout.as_ref().map(|t| t.value.0));
        drill_timeout.map(|limit| {
            let cancel = cancel.clone();
            tokio::spawn(async move {
                tokio::time::sleep(limit).await;
                cancel.stop(Stop::TimedOut(format!(
                    "the drill went over its timeout of {}",
                    humantime::format_duration(limit)
                )));
            })
        })
    }

    /// Cleanup: every step runs whatever failed before, until the cleanup
    /// deadline or a second Ctrl-C.
    async fn run_cleanup(
        &self,
        scope: &mut Scope,
        cancel: &Cancellation,
        interrupted: bool,
        records: &mut Vec<StepRecord>,
    ) {
        if !self.drill.drill.cleanup.is_empty() {
            self.observers.emit(Event::CleanupStarted { interrupted });
        }
        // Cleanup has a deadline of its own, so a hung cleanup step cannot
        // keep the record from being written.
        let cleanup_deadline = {
            let cancel = cancel.clone();
            let limit = self.options.cleanup_timeout;
            tokio::spawn(async move {
                tokio::time::sleep(limit).await;
                cancel.stop_cleanup();
            })
        };
        let list = StepList {
            steps: &self.drill.drill.cleanup,
            names: &self.drill.cleanup_names,
            first: 0,
        };
        let stopped = || "not run: cleanup was interrupted".to_string();
        let rules = ListRules {
            phase: Phase::Cleanup,
            cancel: &cancel.cleanup,
            stopped: &stopped,
            after_failure: None,
            in_group: false,
        };
        self.run_list(list, &rules, scope, records, |_, _| {}).await;
        cleanup_deadline.abort();
    }

    /// The run's record: totals, budget, and why it failed, if it did.
    fn run_record(&self, ended: Ended, steps: Vec<StepRecord>, cancel: &Cancellation) -> RunRecord {
        let Ended {
            started_at,
            duration,
            stopped,
            warnings,
        } = ended;
        let d = &self.drill.drill;
        let options = self.options;
        let budget = d.budget.as_ref().map(|b| b.value.0);
        let origin = |r: &RunRecord| r.origin_run_id.clone().unwrap_or_else(|| r.run_id.clone());
        let mut record = RunRecord {
            schema: SCHEMA,
            drill: d.drill.value.clone(),
            run_id: options.run_id.clone(),
            outcome: RunOutcome::Passed,
            started_at,
            finished_at: Some(timestamp(SystemTime::now())),
            duration_ms: millis(duration),
            human_ms: steps.iter().map(|s| s.human_ms).sum(),
            operator: options.operator_name.clone(),
            docker_version: self.docker.default_engine().version(),
            docker_versions: self.docker.versions(),
            budget_ms: budget.map(millis),
            over_budget: budget.is_some_and(|b| duration > b),
            drill_file: self.drill.path.display().to_string(),
            firedrill_version: env!("CARGO_PKG_VERSION").to_string(),
            reasons: Vec::new(),
            resumed_from: options.resume.as_ref().map(|r| r.run_id.clone()),
            origin_run_id: options.resume.as_ref().map(origin),
            warnings,
            steps,
        };
        record.reasons = super::failure_reasons(&record, options.strict);
        if let Some(Stop::TimedOut(why)) = &stopped {
            record.reasons.insert(0, why.clone());
        }
        if cancel.cleanup.is_cancelled() {
            record
                .reasons
                .push("cleanup did not finish: it was stopped or went over its deadline".into());
        }
        record.outcome = if matches!(stopped, Some(Stop::Interrupted(_))) {
            RunOutcome::Interrupted
        } else if record.reasons.is_empty() {
            RunOutcome::Passed
        } else {
            RunOutcome::Failed
        };
        record
    }
}
