//! One step, not a group: `when` and its templates, its timeout, retry and
//! `wait` settings, then its tries (see `attempts` and `rescue`), and the
//! record it leaves, captures included.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::attempts::{TryPlan, WaitPlan};
use super::context::Executor;
use super::event::Event;
use super::scope::{NEVER_CAPTURED, Scope};
use super::{DEFAULT_MANUAL_TIMEOUT, DEFAULT_TIMEOUT};
use crate::drill::model::{CaptureSpec, LocatedStep, Retry, Spanned, Step};
use crate::drill::template::{Renderer, to_text};
use crate::record::format::millis;
use crate::record::{Outcome, Phase, StepRecord};
use crate::steps::{Action, Captured, StepContext};

/// When a step started and what it may take: closes its record.
pub(super) struct StepClock {
    pub(super) started: Instant,
    budget: Option<Duration>,
}

impl StepClock {
    pub(super) fn start(step: &Step) -> Self {
        StepClock {
            started: Instant::now(),
            budget: step.budget.as_ref().map(|b| b.value.0),
        }
    }

    /// Closes a step's record: its outcome, its error (secrets masked),
    /// its time so far and whether that went over its budget.
    pub(super) fn close(
        &self,
        mut record: StepRecord,
        outcome: Outcome,
        error: Option<String>,
    ) -> StepRecord {
        let elapsed = self.started.elapsed();
        record.outcome = outcome;
        record.error = error.map(|e| crate::redact::redact(&e).into_owned());
        record.duration_ms = millis(elapsed);
        record.duration_us = elapsed.as_micros() as u64;
        record.over_budget = self.budget.is_some_and(|b| elapsed > b);
        record
    }
}

impl Executor<'_> {
    /// Runs one step (not a group). `rescuable`: a standalone step, which a
    /// person may rescue when it fails and which gets a grace period when
    /// the run is stopped (neither happens inside a parallel group).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn run_step(
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
        let clock = StepClock::start(step);
        let mut record = self.started_record(step, name, phase);
        let skip_missing = phase == Phase::Cleanup;
        let resolved = self
            .resolve_step(step, scope, skip_missing, |renderer| {
                crate::steps::resolve(step, renderer, &self.target)
            })
            // The record keeps the error as its words.
            .and_then(|action| action.map_err(|err| (Outcome::Failed, err.to_string())));
        let action = match resolved {
            Ok(action) => action,
            Err((outcome, error)) => return clock.close(record, outcome, Some(error)),
        };
        let ctx = StepContext {
            http: &self.http,
            engines: &self.docker,
            operator: &self.options.operator,
            run_id: &scope.facts.id,
            drill: &self.drill.drill.drill.value,
            step_name: name,
            owner: record.owner.as_deref(),
            budget: clock.budget,
            max_body_bytes: self.options.max_body_bytes,
        };
        let retry = self.retry_for(step, &action);
        let wait = self.wait_for(step, scope);
        let plan = TryPlan {
            action: &action,
            ctx: &ctx,
            timeout: self.timeout_for(step, &action),
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
        let rescued = self.try_and_rescue(&plan, rescuable).await;
        record.attempts = rescued.attempts;
        record.human_ms = millis(rescued.human);
        record.intervention = rescued.intervention.map(Box::new);
        record.service = rescued.service.map(Box::new);
        keep_captures(step, rescued.captures, &mut record, scope);
        clock.close(record, rescued.outcome, rescued.error)
    }

    /// Resolves a step's `when` and its templates (`resolve`) together:
    /// both may refer to captures that never happened, which, when
    /// `skip_missing`, skips the step (a cleanup step) rather than failing
    /// it. `Err` is how the step ends without running.
    pub(super) fn resolve_step<T>(
        &self,
        step: &Step,
        scope: &Scope,
        skip_missing: bool,
        resolve: impl FnOnce(&mut Renderer<'_>) -> T,
    ) -> Result<T, (Outcome, String)> {
        let mut renderer = Renderer::new(scope);
        let condition = step
            .when
            .as_ref()
            .map(|when| (when, evaluate_when(&mut renderer, when)));
        let resolved = resolve(&mut renderer);
        let errors = std::mem::take(&mut renderer.errors);
        if !errors.is_empty() {
            let missing_capture = errors.iter().all(|e| e.message.contains(NEVER_CAPTURED));
            let message = self.template_failure(errors);
            return Err(if skip_missing && missing_capture {
                (Outcome::Skipped, format!("not run: {message}"))
            } else {
                (Outcome::Failed, message)
            });
        }
        match condition {
            Some((when, false)) => Err((
                Outcome::Skipped,
                format!("not run: `when: {}` is false", when.value),
            )),
            _ => Ok(resolved),
        }
    }

    /// The step's `timeout`, else the kind's own, else the default (an hour
    /// for a person, `defaults.timeout` or 30s for a machine).
    fn timeout_for(&self, step: &Step, action: &Action) -> Duration {
        let defaults = &self.drill.drill.defaults;
        step.timeout
            .as_ref()
            .map(|t| t.value.0)
            .or(action.own_timeout())
            .or(if action.is_manual() {
                Some(DEFAULT_MANUAL_TIMEOUT)
            } else {
                defaults.timeout.as_ref().map(|t| t.value.0)
            })
            .unwrap_or(DEFAULT_TIMEOUT)
    }

    /// The step's `retry`, else `defaults.retry`; a person is never retried.
    fn retry_for(&self, step: &Step, action: &Action) -> Option<Retry> {
        if action.is_manual() {
            return None;
        }
        step.retry
            .as_deref()
            .or(self.drill.drill.defaults.retry.as_ref())
            .map(|r| r.value.clone())
    }

    /// The step's `wait:`, its URL resolved against the target.
    fn wait_for(&self, step: &Step, scope: &Scope) -> Option<WaitPlan> {
        step.wait.as_ref().map(|wait| {
            let mut renderer = Renderer::new(scope);
            let path = renderer.string(&wait.value.http);
            WaitPlan {
                url: crate::steps::target::join_url(self.target.base_url.as_deref(), &path),
                within: wait.value.within.value.0,
                every: wait
                    .value
                    .every
                    .as_ref()
                    .map_or(Duration::from_millis(250), |e| e.value.0),
            }
        })
    }
}

/// Sets the captures in the scope and keeps them in the record, except the
/// secret ones, which are never stored.
fn keep_captures(step: &Step, captures: Vec<Captured>, record: &mut StepRecord, scope: &mut Scope) {
    let secret = |capture: &str| {
        step.capture
            .get(capture)
            .is_some_and(|c| matches!(&c.value, CaptureSpec::Map(m) if m.secret))
    };
    for captured in captures {
        if !secret(&captured.name) {
            record
                .captures
                .insert(captured.name.clone(), captured.value.clone());
        }
        scope.set(&captured.name, captured.value);
    }
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
