//! Parallel groups: branches run concurrently, at most `max` at once, each
//! with its own copy of the scope (`${item}` and its captures stay in it).
//!
//! A branch's steps are timed from the moment it gets a slot: the wait for
//! the slot is recorded apart (`queued_ms`), so a busy group never makes its
//! steps look slower than they were. Branches are started lazily, so a group
//! of ten thousand items holds only `max` of them in memory at once.

use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::event::Event;
use super::scope::Scope;
use super::{Executor, close, evaluate_when};
use crate::drill::model::{LocatedStep, Spanned, StepSpec};
use crate::drill::template::{Renderer, to_text};
use crate::kind::StepKind;
use crate::report::record::{Outcome, Phase, StepRecord, millis, timestamp};

/// Branches run at once when a group gives no `max`.
pub const DEFAULT_MAX: usize = 64;

struct Branch<'a> {
    index: usize,
    item: Option<Value>,
    steps: &'a [LocatedStep],
    /// The names of `steps`, in this branch.
    names: Vec<String>,
}

impl Executor<'_> {
    /// Runs a parallel group; returns its own record and every sub-step's
    /// (branch order, then step order). Sub-steps are reported as they
    /// finish, so the journal keeps them even if the run crashes.
    pub(crate) async fn run_group(
        &self,
        spanned: &LocatedStep,
        name: &str,
        phase: Phase,
        index: usize,
        scope: &mut Scope,
        cancel: &CancellationToken,
    ) -> (StepRecord, Vec<StepRecord>) {
        let step = &spanned.value;
        let Some(StepSpec::Parallel(group)) = step.spec() else {
            unreachable!("run_group is only called for parallel steps");
        };
        let g = &group.value;
        self.observers.emit(Event::StepStarted {
            phase,
            index,
            name,
            kind: StepKind::Parallel,
        });
        let started_at = timestamp(SystemTime::now());
        let clock = Instant::now();
        let budget = step.budget.as_ref().map(|b| b.value.0);
        let mut record = self.not_run(spanned, name, phase, Outcome::Passed, "");
        record.error = None;
        record.started_at = Some(started_at);
        record.attempts = 1;
        let finish = |record: StepRecord, outcome: Outcome, error: Option<String>| {
            close(record, clock, budget, outcome, error)
        };

        let mut renderer = Renderer::new(scope);
        let condition = step
            .when
            .as_ref()
            .map(|when| evaluate_when(&mut renderer, when));
        let items = g
            .for_each
            .as_ref()
            .map(|for_each| items_of(&mut renderer, for_each));
        let errors = std::mem::take(&mut renderer.errors);
        if !errors.is_empty() {
            let message = self.template_failure(errors);
            return (finish(record, Outcome::Failed, Some(message)), Vec::new());
        }
        if condition == Some(false) {
            let why = format!(
                "not run: `when: {}` is false",
                step.when.as_ref().map_or("", |w| w.value.as_str())
            );
            return (finish(record, Outcome::Skipped, Some(why)), Vec::new());
        }
        let sub_names = crate::steps::step_names(&g.steps.value);
        let branches: Vec<Branch<'_>> = match items {
            Some(Err(err)) => return (finish(record, Outcome::Failed, Some(err)), Vec::new()),
            Some(Ok(items)) => items
                .into_iter()
                .enumerate()
                .map(|(i, item)| Branch {
                    index: i,
                    names: sub_names
                        .iter()
                        .map(|sub| format!("{name} [{}] / {sub}", to_text(&item)))
                        .collect(),
                    item: Some(item),
                    steps: &g.steps.value,
                })
                .collect(),
            None => g
                .steps
                .value
                .iter()
                .enumerate()
                .map(|(i, _)| Branch {
                    index: i,
                    item: None,
                    steps: &g.steps.value[i..=i],
                    names: vec![format!("{name} / {}", sub_names[i])],
                })
                .collect(),
        };
        let branch_count = branches.len();
        self.observers.emit(Event::GroupStarted {
            name,
            steps: branches.iter().map(|b| b.steps.len()).sum(),
        });
        let max = g
            .max
            .as_ref()
            .map_or(DEFAULT_MAX, |m| m.value as usize)
            .clamp(1, branch_count.max(1));
        let fail_fast = g.fail_fast.unwrap_or(true);
        let group_cancel = cancel.child_token();
        let parent_scope = &*scope;
        let run_branches = futures_util::stream::iter(branches)
            .map(|branch| {
                self.run_branch(
                    branch,
                    parent_scope,
                    name,
                    phase,
                    clock,
                    &group_cancel,
                    fail_fast,
                )
            })
            .buffer_unordered(max)
            .collect::<Vec<_>>();
        let timeout = step.timeout.as_ref().map(|t| t.value.0);
        let mut timed_out = false;
        let mut results = match timeout {
            Some(limit) => {
                // On timeout, stop every branch and still collect what they
                // recorded (their steps end as cancelled).
                tokio::pin!(run_branches);
                tokio::select! {
                    results = &mut run_branches => results,
                    _ = tokio::time::sleep(limit) => {
                        timed_out = true;
                        group_cancel.cancel();
                        run_branches.await
                    }
                }
            }
            None => run_branches.await,
        };
        results.sort_by_key(|(index, _, _)| *index);

        for (list, capture) in &g.collect {
            let values: Vec<Value> = results
                .iter()
                .map(|(_, _, branch_scope)| {
                    branch_scope
                        .get(&capture.value)
                        .cloned()
                        .unwrap_or(Value::Null)
                })
                .collect();
            scope.set(list, Value::Array(values));
        }
        let children: Vec<StepRecord> = results
            .into_iter()
            .flat_map(|(_, records, _)| records)
            .collect();
        let failures: Vec<&StepRecord> =
            children.iter().filter(|c| c.outcome.is_failure()).collect();
        let (outcome, error) = if timed_out {
            (
                Outcome::TimedOut,
                Some(format!(
                    "the group timed out after {}",
                    humantime::format_duration(timeout.unwrap_or(Duration::ZERO))
                )),
            )
        } else if let Some(first) = failures.first() {
            (
                Outcome::Failed,
                Some(format!(
                    "{} of {} steps failed; first: {}: {}",
                    failures.len(),
                    children.len(),
                    first.name,
                    first.error.as_deref().unwrap_or("no detail")
                )),
            )
        } else if cancel.is_cancelled() {
            (
                Outcome::Cancelled,
                Some("cancelled: the run was interrupted".into()),
            )
        } else {
            (Outcome::Passed, None)
        };
        (finish(record, outcome, error), children)
    }

    /// One branch: wait for a slot, then its steps in order in its own scope.
    #[allow(clippy::too_many_arguments)]
    async fn run_branch(
        &self,
        branch: Branch<'_>,
        parent_scope: &Scope,
        group: &str,
        phase: Phase,
        group_started: Instant,
        group_cancel: &CancellationToken,
        fail_fast: bool,
    ) -> (usize, Vec<StepRecord>, Scope) {
        // `buffer_unordered` starts this future when a slot is free.
        let queued = group_started.elapsed();
        let mut scope = parent_scope.clone();
        if let Some(item) = &branch.item {
            scope.set_item(item.clone());
        }
        let mut records = Vec::with_capacity(branch.steps.len());
        let mut failed = false;
        for (i, (sub, name)) in branch.steps.iter().zip(&branch.names).enumerate() {
            let mut record = if group_cancel.is_cancelled() {
                self.not_run(
                    sub,
                    name,
                    phase,
                    Outcome::Cancelled,
                    "not run: the group was stopped",
                )
            } else if failed {
                self.not_run(
                    sub,
                    name,
                    phase,
                    Outcome::Skipped,
                    "not run: an earlier step of its branch failed",
                )
            } else {
                self.run_step(sub, name, phase, i, &mut scope, group_cancel, false)
                    .await
            };
            record.parent = Some(group.to_string());
            if i == 0 {
                record.queued_ms = millis(queued);
            }
            if record.outcome.is_failure() {
                failed = true;
                if fail_fast {
                    group_cancel.cancel();
                }
            }
            self.observers.emit(Event::StepFinished { step: &record });
            records.push(record);
        }
        (branch.index, records, scope)
    }
}

/// The items of `for_each`: a list, `{ range: [FROM, TO] }` (both ends
/// included), or a template that renders to a list.
fn items_of(renderer: &mut Renderer<'_>, for_each: &Spanned<Value>) -> Result<Vec<Value>, String> {
    if let Value::Object(map) = &for_each.value {
        if let Some(range) = map.get("range").and_then(Value::as_array) {
            return match range.as_slice() {
                [from, to] => match (from.as_i64(), to.as_i64()) {
                    (Some(from), Some(to)) if from <= to => {
                        Ok((from..=to).map(Value::from).collect())
                    }
                    _ => Err("`range` takes two whole numbers, lowest first".into()),
                },
                _ => Err("`range` takes two whole numbers, lowest first".into()),
            };
        }
    }
    match renderer.value(for_each) {
        Value::Array(items) => Ok(items),
        other => Err(format!(
            "`for_each` must be a list, but it is {}",
            crate::steps::excerpt(&other.to_string(), 80)
        )),
    }
}
