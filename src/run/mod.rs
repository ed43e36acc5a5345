//! The executor: runs a checked drill step by step — timeouts, retries,
//! `when`, cancellation and cleanup — and reports through [`event`]s. It
//! knows nothing about terminals or files.

pub mod event;
mod parallel;
pub mod scope;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::drill::LoadedDrill;
use crate::drill::diagnostic::{Diagnostic, Diagnostics};
use crate::drill::model::{CaptureSpec, LocatedStep, Location, Spanned, Step};
use crate::drill::template::{Renderer, TemplateError, to_text};
use crate::kind::StepKind;
use crate::operator::Operator;
use crate::operator::{FailureChoice, FailureRequest};
use crate::report::record::{
    Intervention, InterventionKind, Outcome, Phase, RunOutcome, RunRecord, SCHEMA, StepRecord,
    millis, timestamp,
};
use crate::steps::{Action, ResolvedTarget, StepContext, Verdict};
use event::{Event, Observers};
use scope::{NEVER_CAPTURED, RunFacts, Scope};

/// A step without its own timeout, in a drill without `defaults.timeout`,
/// is cut after this: nothing may hang.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a manual step may wait for a person unless it says otherwise.
pub const DEFAULT_MANUAL_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Responses and program output larger than this are cut.
pub const DEFAULT_MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// How a run is to be done.
pub struct RunOptions {
    pub run_id: String,
    /// `--var NAME=VALUE`, overriding or adding to `vars:`.
    pub vars: Vec<(String, String)>,
    pub operator: Arc<dyn Operator>,
    pub operator_name: String,
    /// `--strict`: interventions, help and budget overruns fail the run.
    pub strict: bool,
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
    pub steps: CancellationToken,
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

/// How long a running step may finish after the run is stopped, before it
/// is cancelled.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(2);

/// How long cleanup may take in all.
pub const DEFAULT_CLEANUP_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// A drill with its secrets read, vars resolved and target known: ready to
/// run, or to show in `plan`.
pub struct Prepared {
    pub scope: Scope,
    pub target: ResolvedTarget,
}

/// Reads secrets, resolves vars and the target. Problems are located in the
/// drill file, like `check`'s.
pub fn prepare(
    drill: &LoadedDrill,
    options: &RunOptions,
    started_at: &str,
) -> Result<Prepared, Diagnostics> {
    let d = &drill.drill;
    let mut problems: Vec<Diagnostic> = Vec::new();
    let origin = options
        .resume
        .as_ref()
        .map(|r| r.origin_run_id.clone().unwrap_or_else(|| r.run_id.clone()));
    let mut scope = Scope::new(RunFacts {
        id: origin.unwrap_or_else(|| options.run_id.clone()),
        drill: d.drill.value.clone(),
        started_at: started_at.to_string(),
        base_url: None,
    });
    for (name, source) in &d.secrets {
        match read_secret(&source.value) {
            Ok(value) if value.chars().count() < crate::redact::MIN_SECRET_LEN => problems.push(
                Diagnostic::new(
                    source.referenced,
                    format!(
                        "secret `{name}` is shorter than {} characters: firedrill cannot keep it out of output safely",
                        crate::redact::MIN_SECRET_LEN
                    ),
                ),
            ),
            Ok(value) => {
                crate::redact::register(&value);
                scope.set_secret(name, value);
            }
            Err(why) => problems.push(Diagnostic::new(source.referenced, format!("secret `{name}`: {why}"))),
        }
    }
    let overrides: std::collections::HashMap<&str, &str> = options
        .vars
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for (name, value) in &d.vars {
        let resolved = match overrides.get(name.as_str()) {
            Some(text) => Value::String(text.to_string()),
            None => {
                let mut renderer = Renderer::new(&scope);
                let resolved = renderer.value(value);
                problems.extend(renderer.errors.into_iter().map(Diagnostic::from));
                resolved
            }
        };
        scope.set(name, resolved);
    }
    for (name, value) in &options.vars {
        if !d.vars.contains_key(name) {
            scope.set(name, Value::String(value.clone()));
        }
    }
    let mut target = ResolvedTarget::default();
    {
        let mut renderer = Renderer::new(&scope);
        if let Some(base_url) = &d.target.base_url {
            let url = renderer.string(base_url);
            if let Err(err) = reqwest::Url::parse(&url) {
                problems.push(Diagnostic::new(
                    base_url.referenced,
                    format!("target.base_url `{url}` is not a valid URL: {err}"),
                ));
            }
            target.base_url = Some(url);
        }
        for (name, value) in &d.target.headers {
            target.headers.push((name.clone(), renderer.string(value)));
        }
        target.docker = d
            .target
            .docker
            .as_ref()
            .map(|address| renderer.string(address));
        problems.extend(renderer.errors.into_iter().map(Diagnostic::from));
    }
    Arc::make_mut(&mut scope.facts).base_url = target.base_url.clone();
    if problems.is_empty() {
        Ok(Prepared { scope, target })
    } else {
        Err(Diagnostics::new(
            &drill.path,
            drill.source.clone(),
            problems,
        ))
    }
}

fn read_secret(source: &crate::drill::model::SecretSource) -> Result<String, String> {
    if let Some(var) = &source.env {
        return match std::env::var(var) {
            Ok(value) if !value.is_empty() => Ok(value),
            _ => Err(format!("the environment variable `{var}` is not set")),
        };
    }
    if let Some(path) = &source.file {
        return std::fs::read_to_string(path)
            .map(|text| text.trim_end_matches(['\n', '\r']).to_string())
            .map_err(|err| format!("cannot read `{path}`: {err}"));
    }
    Err("no source".into())
}

/// The HTTP client every step shares: one connection pool, keep-alive,
/// TLS as the drill's target says (`ca_file`, `insecure`). Called when a
/// run starts: prints the target's warnings (certificate checks off) on
/// stderr. A bad `ca_file` is a located error.
pub fn http_client(drill: &LoadedDrill) -> Result<reqwest::Client, Diagnostics> {
    for warning in crate::steps::http::target_warnings(&drill.drill.target) {
        eprintln!("warning: {warning}");
    }
    crate::steps::http::client(&drill.drill.target)
        .map_err(|problem| Diagnostics::new(&drill.path, drill.source.clone(), vec![problem]))
}

/// Runs a prepared drill to the end, cleanup included, and returns its
/// record. Never fails: every problem becomes part of the record.
pub async fn execute(
    drill: &LoadedDrill,
    prepared: Prepared,
    options: &RunOptions,
    http: reqwest::Client,
    observers: &Observers,
    cancel: &Cancellation,
) -> RunRecord {
    let Prepared { mut scope, target } = prepared;
    let started_at = scope.facts.started_at.clone();
    let clock = Instant::now();
    let d = &drill.drill;
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
        docker: crate::steps::docker::Engine::new(target.docker.clone()),
        target,
        http,
    };
    // Sized up front: a long drill's records would otherwise keep up to
    // twice the room they need.
    let mut steps = Vec::with_capacity(d.steps.value.len() + d.cleanup.len());
    let mut failed = false;
    // A hard limit on the steps: past it they stop as on Ctrl-C, cleanup
    // runs, and the run fails.
    let drill_timeout = options.timeout.or(d.timeout.as_ref().map(|t| t.value.0));
    let deadline = drill_timeout.map(|limit| {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(limit).await;
            cancel.stop(Stop::TimedOut(format!(
                "the drill went over its timeout of {}",
                humantime::format_duration(limit)
            )));
        })
    });
    let carried = options
        .resume
        .as_ref()
        .map(|previous| carried_steps(drill, previous))
        .unwrap_or_default();
    for (index, step) in d.steps.value.iter().enumerate() {
        let name = &drill.step_names[index];
        if let Some(done) = carried.get(index) {
            for (capture, value) in &done.captures {
                scope.set(capture, value.clone());
            }
            observers.emit(Event::StepFinished { step: done });
            steps.push(done.clone());
            continue;
        }
        let record = if cancel.steps.is_cancelled() {
            executor.not_run(
                step,
                name,
                Phase::Steps,
                Outcome::Cancelled,
                &cancel.not_run_message(),
            )
        } else if failed {
            executor.not_run(
                step,
                name,
                Phase::Steps,
                Outcome::Skipped,
                "not run: an earlier step failed",
            )
        } else {
            let (record, children) = executor
                .run_any(step, name, Phase::Steps, index, &mut scope, &cancel.steps)
                .await;
            failed |= record.outcome.is_failure();
            observers.emit(Event::StepFinished { step: &record });
            steps.push(record);
            steps.extend(children);
            continue;
        };
        failed |= record.outcome.is_failure();
        observers.emit(Event::StepFinished { step: &record });
        steps.push(record);
    }
    if let Some(deadline) = deadline {
        deadline.abort();
    }
    let stopped = cancel.reason().cloned();
    let interrupted = matches!(stopped, Some(Stop::Interrupted(_)));
    if !d.cleanup.is_empty() {
        observers.emit(Event::CleanupStarted {
            interrupted: stopped.is_some(),
        });
    }
    // Cleanup has a deadline of its own, so a hung cleanup step cannot keep
    // the record from being written.
    let cleanup_deadline = {
        let cancel = cancel.clone();
        let limit = options.cleanup_timeout;
        tokio::spawn(async move {
            tokio::time::sleep(limit).await;
            cancel.stop_cleanup();
        })
    };
    for (index, step) in d.cleanup.iter().enumerate() {
        let name = &drill.cleanup_names[index];
        let record = if cancel.cleanup.is_cancelled() {
            executor.not_run(
                step,
                name,
                Phase::Cleanup,
                Outcome::Cancelled,
                "not run: cleanup was interrupted",
            )
        } else {
            let (record, children) = executor
                .run_any(
                    step,
                    name,
                    Phase::Cleanup,
                    index,
                    &mut scope,
                    &cancel.cleanup,
                )
                .await;
            observers.emit(Event::StepFinished { step: &record });
            steps.push(record);
            steps.extend(children);
            continue;
        };
        observers.emit(Event::StepFinished { step: &record });
        steps.push(record);
    }
    cleanup_deadline.abort();
    let duration = clock.elapsed();
    let budget = d.budget.as_ref().map(|b| b.value.0);
    let human_ms = steps.iter().map(|s| s.human_ms).sum();
    let mut record = RunRecord {
        schema: SCHEMA,
        drill: d.drill.value.clone(),
        run_id: options.run_id.clone(),
        outcome: RunOutcome::Passed,
        started_at,
        finished_at: Some(timestamp(SystemTime::now())),
        duration_ms: millis(duration),
        human_ms,
        operator: options.operator_name.clone(),
        docker_version: executor.docker.version(),
        budget_ms: budget.map(millis),
        over_budget: budget.is_some_and(|b| duration > b),
        drill_file: drill.path.display().to_string(),
        firedrill_version: env!("CARGO_PKG_VERSION").to_string(),
        reasons: Vec::new(),
        resumed_from: options.resume.as_ref().map(|r| r.run_id.clone()),
        origin_run_id: options
            .resume
            .as_ref()
            .map(|r| r.origin_run_id.clone().unwrap_or_else(|| r.run_id.clone())),
        warnings: crate::steps::http::target_warnings(&d.target),
        steps,
    };
    record.reasons = failure_reasons(&record, options.strict);
    if let Some(Stop::TimedOut(why)) = &stopped {
        record.reasons.insert(0, why.clone());
    }
    if cancel.cleanup.is_cancelled() {
        record
            .reasons
            .push("cleanup did not finish: it was stopped or went over its deadline".into());
    }
    record.outcome = if interrupted {
        RunOutcome::Interrupted
    } else if record.reasons.is_empty() {
        RunOutcome::Passed
    } else {
        RunOutcome::Failed
    };
    observers.emit(Event::RunFinished { record: &record });
    record
}

/// Why a run fails, in words; empty when it passes. `strict` adds the
/// new-engineer test: no interventions, no help, no overruns.
pub fn failure_reasons(record: &RunRecord, strict: bool) -> Vec<String> {
    let mut reasons = Vec::new();
    for step in &record.steps {
        let phase = match step.phase {
            Phase::Steps => "step",
            Phase::Cleanup => "cleanup step",
        };
        if step.outcome.is_failure() {
            reasons.push(format!(
                "{phase} `{}` {}: {}",
                step.name,
                step.outcome.label(),
                step.error.as_deref().unwrap_or("no detail")
            ));
        }
        if !strict {
            continue;
        }
        let unplanned = step
            .intervention
            .as_ref()
            .is_some_and(|i| i.kind != InterventionKind::ManualStep);
        if step.outcome == Outcome::Intervened || unplanned {
            reasons.push(format!(
                "--strict: {phase} `{}` needed an intervention",
                step.name
            ));
        }
        if let Some(i) = &step.intervention {
            if i.needed_help {
                let by = i
                    .helped_by
                    .as_deref()
                    .map(|h| format!(" from {h}"))
                    .unwrap_or_default();
                reasons.push(format!("--strict: {phase} `{}` needed help{by}", step.name));
            }
        }
        if step.outcome == Outcome::Skipped && step.kind == StepKind::Manual {
            reasons.push(format!(
                "--strict: manual step `{}` was not done",
                step.name
            ));
        }
        if step.over_budget {
            reasons.push(format!(
                "--strict: {phase} `{}` went over its budget ({} > {})",
                step.name,
                show_ms(step.duration_ms),
                show_ms(step.budget_ms.unwrap_or(0))
            ));
        }
    }
    if strict && record.over_budget {
        reasons.push(format!(
            "--strict: the drill went over its budget ({} > {})",
            show_ms(record.duration_ms),
            show_ms(record.budget_ms.unwrap_or(0))
        ));
    }
    reasons
}

fn show_ms(ms: u64) -> String {
    humantime::format_duration(Duration::from_millis(ms)).to_string()
}

pub(crate) struct Executor<'a> {
    drill: &'a LoadedDrill,
    options: &'a RunOptions,
    observers: &'a Observers,
    target: ResolvedTarget,
    http: reqwest::Client,
    docker: crate::steps::docker::Engine,
}

impl Executor<'_> {
    fn kind_of(step: &Step) -> StepKind {
        step.kind()
            .expect("a loaded drill is checked: each step has exactly one kind")
    }

    fn owner<'s>(&'s self, step: &'s Step) -> Option<&'s str> {
        step.owner.as_deref().or(self.drill.drill.owner.as_deref())
    }

    fn not_run(
        &self,
        step: &LocatedStep,
        name: &str,
        phase: Phase,
        outcome: Outcome,
        why: &str,
    ) -> StepRecord {
        let step = &step.value;
        StepRecord {
            name: name.to_string(),
            kind: Self::kind_of(step),
            phase,
            outcome,
            started_at: None,
            duration_ms: 0,
            human_ms: 0,
            attempts: 0,
            budget_ms: step.budget.as_ref().map(|b| millis(b.value.0)),
            over_budget: false,
            owner: self.owner(step).map(str::to_string),
            intervention: None,
            error: Some(why.to_string()),
            duration_us: 0,
            captures: Default::default(),
            carried_from: None,
            parent: None,
            queued_ms: 0,
        }
    }

    /// Where a template error sits, as `file:line:col`.
    fn locate(&self, at: Location, near: Option<String>) -> String {
        let diagnostics = Diagnostics::new(&self.drill.path, self.drill.source.clone(), Vec::new());
        diagnostics.locate(&Diagnostic {
            at: Some(at),
            near,
            message: String::new(),
            help: None,
            near_is_key: false,
        })
    }

    fn template_failure(&self, errors: Vec<TemplateError>) -> String {
        errors
            .into_iter()
            .map(|e| format!("{}: {}", self.locate(e.at, e.near), e.message))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Runs a top-level step, a parallel group or not: its record, and the
    /// records of a group's sub-steps (already reported as they finished).
    async fn run_any(
        &self,
        step: &LocatedStep,
        name: &str,
        phase: Phase,
        index: usize,
        scope: &mut Scope,
        cancel: &CancellationToken,
    ) -> (StepRecord, Vec<StepRecord>) {
        if step.value.kind() == Some(StepKind::Parallel) {
            self.run_group(step, name, phase, index, scope, cancel)
                .await
        } else {
            let record = self
                .run_step(step, name, phase, index, scope, cancel, true)
                .await;
            (record, Vec::new())
        }
    }

    /// Runs one step (not a group). `rescuable`: a standalone step, which a
    /// person may rescue when it fails and which gets a grace period when
    /// the run is stopped (neither happens inside a parallel group).
    #[allow(clippy::too_many_arguments)]
    async fn run_step(
        &self,
        spanned: &LocatedStep,
        name: &str,
        phase: Phase,
        index: usize,
        scope: &mut Scope,
        cancel: &CancellationToken,
        rescuable: bool,
    ) -> StepRecord {
        let step = &spanned.value;
        let kind = Self::kind_of(step);
        self.observers.emit(Event::StepStarted {
            phase,
            index,
            name,
            kind,
        });
        let started_at = timestamp(SystemTime::now());
        let clock = Instant::now();
        let budget = step.budget.as_ref().map(|b| b.value.0);
        let mut record = StepRecord {
            name: name.to_string(),
            kind,
            phase,
            outcome: Outcome::Passed,
            started_at: Some(started_at),
            duration_ms: 0,
            human_ms: 0,
            attempts: 0,
            budget_ms: budget.map(millis),
            over_budget: false,
            owner: self.owner(step).map(str::to_string),
            intervention: None,
            error: None,
            duration_us: 0,
            captures: Default::default(),
            carried_from: None,
            parent: None,
            queued_ms: 0,
        };
        let finish = |record: StepRecord, outcome: Outcome, error: Option<String>| {
            close(record, clock, budget, outcome, error)
        };

        // `when`, then templates: both may refer to captures that never
        // happened, which skips a cleanup step rather than failing it.
        let mut renderer = Renderer::new(scope);
        let condition = step
            .when
            .as_ref()
            .map(|when| (when, evaluate_when(&mut renderer, when)));
        let action = crate::steps::resolve(step, &mut renderer, &self.target);
        let errors = std::mem::take(&mut renderer.errors);
        if !errors.is_empty() {
            let missing_capture = errors.iter().all(|e| e.message.contains(NEVER_CAPTURED));
            let message = self.template_failure(errors);
            return if phase == Phase::Cleanup && missing_capture {
                finish(
                    record,
                    Outcome::Skipped,
                    Some(format!("not run: {message}")),
                )
            } else {
                finish(record, Outcome::Failed, Some(message))
            };
        }
        if let Some((when, false)) = condition {
            return finish(
                record,
                Outcome::Skipped,
                Some(format!("not run: `when: {}` is false", when.value)),
            );
        }
        let action = match action {
            Ok(action) => action,
            Err(err) => return finish(record, Outcome::Failed, Some(err)),
        };

        let defaults = &self.drill.drill.defaults;
        let timeout = step
            .timeout
            .as_ref()
            .map(|t| t.value.0)
            .or(action.own_timeout())
            .or(if action.is_manual() {
                Some(DEFAULT_MANUAL_TIMEOUT)
            } else {
                defaults.timeout.as_ref().map(|t| t.value.0)
            })
            .unwrap_or(DEFAULT_TIMEOUT);
        let retry = if action.is_manual() {
            None
        } else {
            step.retry
                .as_ref()
                .or(defaults.retry.as_ref())
                .map(|r| r.value.clone())
        };
        let wait = step.wait.as_ref().map(|wait| {
            let mut renderer = Renderer::new(scope);
            let path = renderer.string(&wait.value.http);
            let every = wait
                .value
                .every
                .as_ref()
                .map_or(Duration::from_millis(250), |e| e.value.0);
            (
                crate::steps::target::join_url(self.target.base_url.as_deref(), &path),
                wait.value.within.value.0,
                every,
            )
        });
        let ctx = StepContext {
            http: &self.http,
            docker: &self.docker,
            operator: &self.options.operator,
            run_id: &scope.facts.id,
            drill: &self.drill.drill.drill.value,
            step_name: name,
            owner: record.owner.as_deref(),
            budget,
            max_body_bytes: self.options.max_body_bytes,
        };
        let plan = TryPlan {
            action: &action,
            ctx: &ctx,
            timeout,
            retry: retry.as_ref(),
            wait: wait.as_ref(),
            cancel,
            // Inside a parallel group a stop is the group's own decision
            // (fail_fast): siblings stop at once.
            grace: if rescuable {
                self.options.grace
            } else {
                Duration::ZERO
            },
        };

        // Try; when it fails, a person may fix it and retry, do it by hand,
        // skip it or abort. Their time at the prompt is human time.
        let mut progress = Progress::default();
        let mut rescue: Option<Intervention> = None;
        let tried = loop {
            let tried = self.try_step(&plan, &mut progress).await;
            let failed = matches!(tried.outcome, Outcome::Failed | Outcome::TimedOut);
            if !failed || action.is_manual() || !rescuable {
                break tried;
            }
            let request = FailureRequest {
                step: name.to_string(),
                error: crate::redact::redact(tried.error.as_deref().unwrap_or("failed"))
                    .into_owned(),
                attempts: progress.attempts,
            };
            self.observers.emit(Event::WaitingForOperator { name });
            let asked = Instant::now();
            let operator = self.options.operator.clone();
            let answer = tokio::select! {
                biased;
                _ = cancel.cancelled() => Err(()),
                answer = tokio::task::spawn_blocking(move || operator.on_failure(&request)) => Ok(answer.ok().flatten()),
            };
            progress.human += asked.elapsed();
            self.observers.emit(Event::OperatorAnswered { name });
            let Ok(answer) = answer else {
                break Tried::stop(
                    Outcome::Cancelled,
                    "cancelled while waiting for the operator",
                );
            };
            let Some(answer) = answer else {
                break tried;
            };
            let intervention = |kind| Intervention {
                kind,
                operator: answer.operator.clone(),
                note: answer.note.clone(),
                needed_help: answer.helped_by.is_some(),
                helped_by: answer.helped_by.clone(),
            };
            match answer.choice {
                FailureChoice::Retry => {
                    rescue = Some(intervention(InterventionKind::RetriedAfterFix));
                }
                FailureChoice::ByHand => {
                    break Tried {
                        outcome: Outcome::Intervened,
                        error: tried.error,
                        captures: Vec::new(),
                        intervention: Some(intervention(InterventionKind::DoneByHand)),
                    };
                }
                FailureChoice::Skip => {
                    break Tried {
                        outcome: Outcome::Skipped,
                        error: tried
                            .error
                            .map(|e| format!("skipped by {} after: {e}", answer.operator)),
                        captures: Vec::new(),
                        intervention: Some(intervention(InterventionKind::Skipped)),
                    };
                }
                FailureChoice::Abort => {
                    break Tried {
                        outcome: tried.outcome,
                        error: tried
                            .error
                            .map(|e| format!("aborted by {}: {e}", answer.operator)),
                        captures: Vec::new(),
                        intervention: None,
                    };
                }
            }
        };
        let (outcome, intervention) = match (tried.outcome, rescue) {
            (Outcome::Passed, Some(rescue)) => (Outcome::Intervened, Some(rescue)),
            (outcome, Some(rescue))
                if tried.intervention.is_none() && outcome != Outcome::Cancelled =>
            {
                (outcome, Some(rescue))
            }
            (outcome, _) => (outcome, tried.intervention),
        };
        record.attempts = progress.attempts;
        record.human_ms = millis(progress.human);
        record.intervention = intervention;
        let secret = |capture: &str| {
            step.capture
                .get(capture)
                .is_some_and(|c| matches!(&c.value, CaptureSpec::Map(m) if m.secret))
        };
        for captured in tried.captures {
            if !secret(&captured.name) {
                record
                    .captures
                    .insert(captured.name.clone(), captured.value.clone());
            }
            scope.set(&captured.name, captured.value);
        }
        finish(record, outcome, tried.error)
    }

    /// One try of a step: attempts under its retry policy, then `wait`.
    async fn try_step(&self, plan: &TryPlan<'_>, progress: &mut Progress) -> Tried {
        let started = Instant::now();
        let every = plan
            .retry
            .and_then(|r| r.every)
            .map_or(Duration::from_secs(1), |e| e.0);
        let max_attempts = match plan.retry {
            None => 1,
            Some(r) => r.attempts.unwrap_or(u32::MAX),
        };
        let deadline = plan.retry.and_then(|r| r.within).map(|w| started + w.0);
        let name = plan.ctx.step_name;
        let action = plan.action;
        let mut attempts = 0u32;
        let tried = loop {
            attempts += 1;
            progress.attempts += 1;
            let attempt_timeout = match deadline {
                Some(deadline) => plan.timeout.min(
                    deadline
                        .saturating_duration_since(Instant::now())
                        .max(Duration::from_millis(1)),
                ),
                None => plan.timeout,
            };
            if action.is_manual() {
                self.observers.emit(Event::WaitingForOperator { name });
            }
            let result = tokio::select! {
                biased;
                _ = after_grace(plan.cancel, plan.grace) => None,
                result = tokio::time::timeout(attempt_timeout, action.attempt(plan.ctx)) => Some(result),
            };
            if action.is_manual() {
                self.observers.emit(Event::OperatorAnswered { name });
            }
            let (failure, timed_out) = match result {
                None => {
                    break Tried::stop(Outcome::Cancelled, "cancelled: the run was interrupted");
                }
                Some(Err(_)) => (
                    format!(
                        "timed out after {}",
                        humantime::format_duration(attempt_timeout)
                    ),
                    true,
                ),
                Some(Ok(attempt)) => {
                    progress.human += attempt.human;
                    let done = |outcome, error| Tried {
                        outcome,
                        error,
                        captures: Vec::new(),
                        intervention: attempt.intervention.clone(),
                    };
                    match attempt.verdict {
                        Verdict::Passed => {
                            break Tried {
                                outcome: Outcome::Passed,
                                error: None,
                                captures: attempt.captures,
                                intervention: attempt.intervention,
                            };
                        }
                        Verdict::ManualDone => break done(Outcome::ManualDone, None),
                        Verdict::Skipped(why) => break done(Outcome::Skipped, Some(why)),
                        Verdict::Failed(why) if action.is_manual() => {
                            break done(Outcome::Failed, Some(why));
                        }
                        Verdict::Failed(why) => (why, false),
                    }
                }
            };
            let next_try = Instant::now() + every;
            let can_retry = plan.retry.is_some()
                && attempts < max_attempts
                && deadline.is_none_or(|d| next_try < d);
            if !can_retry {
                let outcome = if timed_out {
                    Outcome::TimedOut
                } else {
                    Outcome::Failed
                };
                let failure = if attempts > 1 {
                    format!(
                        "{failure} (after {attempts} attempts in {})",
                        humantime::format_duration(round_ms(started.elapsed()))
                    )
                } else {
                    failure
                };
                break Tried::stop(outcome, failure);
            }
            let shown = crate::redact::redact(&failure);
            self.observers.emit(Event::AttemptFailed {
                name,
                attempt: attempts,
                error: &shown,
                retry_in: every,
            });
            tokio::select! {
                biased;
                _ = plan.cancel.cancelled() => break Tried::stop(Outcome::Cancelled, format!("cancelled while retrying; last error: {failure}")),
                _ = tokio::time::sleep(every) => {}
            }
        };
        if tried.outcome != Outcome::Passed {
            return tried;
        }
        if let Some((url, within, every)) = plan.wait {
            let waited = match url {
                Ok(url) => wait_until_up(&self.http, url, *within, *every, plan.cancel).await,
                Err(err) => Err(err.clone()),
            };
            if let Err(err) = waited {
                let outcome = if plan.cancel.is_cancelled() {
                    Outcome::Cancelled
                } else {
                    Outcome::Failed
                };
                return Tried::stop(outcome, err);
            }
        }
        tried
    }
}

/// What a try of a step needs.
struct TryPlan<'a> {
    action: &'a Action,
    ctx: &'a StepContext<'a>,
    timeout: Duration,
    retry: Option<&'a crate::drill::model::Retry>,
    wait: Option<&'a (Result<String, String>, Duration, Duration)>,
    cancel: &'a CancellationToken,
    /// How long the attempt may go on after `cancel` fires.
    grace: Duration,
}

/// Counts across the tries of one step.
#[derive(Default)]
struct Progress {
    attempts: u32,
    human: Duration,
}

/// How one try of a step ended.
struct Tried {
    outcome: Outcome,
    error: Option<String>,
    captures: Vec<crate::steps::Captured>,
    intervention: Option<Intervention>,
}

impl Tried {
    fn stop(outcome: Outcome, error: impl Into<String>) -> Self {
        Tried {
            outcome,
            error: Some(error.into()),
            captures: Vec::new(),
            intervention: None,
        }
    }
}

/// The steps of `previous` a resumed run keeps, by index: every step up to
/// the first one that did not finish. A step whose captures were secret
/// (never stored) is run again, and so is everything after it.
fn carried_steps(drill: &LoadedDrill, previous: &RunRecord) -> Vec<StepRecord> {
    let mut carried = Vec::new();
    for (index, step) in drill.drill.steps.value.iter().enumerate() {
        let Some(done) = previous
            .steps
            .iter()
            .find(|s| s.phase == Phase::Steps && s.name == drill.step_names[index])
        else {
            break;
        };
        let finished = done.started_at.is_some()
            && matches!(
                done.outcome,
                Outcome::Passed | Outcome::ManualDone | Outcome::Intervened | Outcome::Skipped
            );
        let secret_capture = step
            .value
            .capture
            .values()
            .any(|c| matches!(&c.value, CaptureSpec::Map(m) if m.secret));
        if !finished || secret_capture {
            break;
        }
        let mut kept = done.clone();
        kept.carried_from
            .get_or_insert_with(|| previous.run_id.clone());
        carried.push(kept);
    }
    carried
}

/// Closes a step's record: its outcome, its error (secrets masked), its
/// time since `clock` and whether that went over `budget`.
fn close(
    mut record: StepRecord,
    clock: Instant,
    budget: Option<Duration>,
    outcome: Outcome,
    error: Option<String>,
) -> StepRecord {
    let elapsed = clock.elapsed();
    record.outcome = outcome;
    record.error = error.map(|e| crate::redact::redact(&e).into_owned());
    record.duration_ms = millis(elapsed);
    record.duration_us = elapsed.as_micros() as u64;
    record.over_budget = budget.is_some_and(|b| elapsed > b);
    record
}

/// Resolves `grace` after `cancel` fires: a running step gets that long to
/// finish before it is cancelled.
async fn after_grace(cancel: &CancellationToken, grace: Duration) {
    cancel.cancelled().await;
    tokio::time::sleep(grace).await;
}

fn round_ms(duration: Duration) -> Duration {
    Duration::from_millis(millis(duration))
}

/// `when: "${x}"` is true unless empty, `false`, `0`, `no` or null;
/// `when: "${a} == b"` and `!=` compare text.
fn evaluate_when(renderer: &mut Renderer<'_>, when: &Spanned<String>) -> bool {
    let text = &when.value;
    for (operator, equal) in [(" == ", true), (" != ", false)] {
        if let Some((left, right)) = text.split_once(operator) {
            let left = renderer.text_at(left.trim(), &when.referenced);
            let right = renderer.text_at(right.trim(), &when.referenced);
            return (left == right) == equal;
        }
    }
    let value = renderer.string(when);
    truthy(&Value::String(value))
}

fn truthy(value: &Value) -> bool {
    let text = to_text(value);
    !matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "" | "false" | "0" | "no" | "null"
    )
}

/// Polls `url` until it answers 2xx, for `wait:` after a deploy.
async fn wait_until_up(
    http: &reqwest::Client,
    url: &str,
    within: Duration,
    every: Duration,
    cancel: &CancellationToken,
) -> Result<(), String> {
    let deadline = Instant::now() + within;
    let mut last = String::from("no answer yet");
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(format!(
                "wait: {url} did not answer 2xx within {}; last: {last}",
                humantime::format_duration(within)
            ));
        }
        let request = http
            .get(url)
            .timeout(remaining.min(Duration::from_secs(5)))
            .send();
        let result = tokio::select! {
            _ = cancel.cancelled() => return Err("cancelled while waiting for the service".into()),
            result = request => result,
        };
        match result {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => last = format!("status {}", response.status().as_u16()),
            Err(err) => last = crate::steps::http::describe_send_error(url, &err),
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err("cancelled while waiting for the service".into()),
            _ = tokio::time::sleep(every.min(deadline.saturating_duration_since(Instant::now()))) => {}
        }
    }
}
