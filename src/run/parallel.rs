//! Parallel groups: branches run concurrently, at most `max` at once, each
//! with its own copy of the scope (`${item}` and its captures stay in it).
//!
//! A branch's steps are timed from the moment it gets a slot: the wait for
//! the slot is recorded apart (`queued_ms`), so a busy group never makes its
//! steps look slower than they were. Branches are started lazily, so a group
//! of ten thousand items holds only `max` of them in memory at once.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::context::Executor;
use super::event::Event;
use super::list::{ListRules, StepList};
use super::scope::Scope;
use super::step::StepClock;
use crate::drill::model::{LocatedStep, ParallelGroup, Spanned, StepSpec};
use crate::drill::template::{Renderer, to_text};
use crate::kind::StepKind;
use crate::record::format::millis;
use crate::record::{Outcome, Phase, StepRecord};

/// Branches run at once when a group gives no `max`.
pub(super) const DEFAULT_MAX: usize = 64;

struct Branch<'a> {
    index: usize,
    item: Option<Value>,
    steps: &'a [LocatedStep],
    /// The names of `steps`, in this branch.
    names: Vec<String>,
}

/// What every branch of one group shares.
#[derive(Clone, Copy)]
struct Slots<'a> {
    /// The group's name, each sub-step's `parent`.
    name: &'a str,
    phase: Phase,
    /// When the group started: a branch's wait for a slot counts from here.
    started: Instant,
    cancel: &'a CancellationToken,
    fail_fast: bool,
}

/// A branch's index, its records and its scope (for `collect`).
type BranchResult = (usize, Vec<StepRecord>, Scope);

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
        let clock = StepClock::start(step);
        let mut record = self.started_record(step, name, phase);
        record.attempts = 1;
        let items = self
            .resolve_step(step, scope, false, |renderer| {
                g.for_each
                    .as_ref()
                    .map(|for_each| items_of(renderer, for_each))
            })
            .and_then(|items| {
                items
                    .transpose()
                    .map_err(|err| (Outcome::Failed, err.to_string()))
            });
        let items = match items {
            Ok(items) => items,
            Err((outcome, error)) => {
                return (clock.close(record, outcome, Some(error)), Vec::new());
            }
        };
        let branches = branches_of(name, g, items);
        self.observers.emit(Event::GroupStarted {
            name,
            steps: branches.iter().map(|b| b.steps.len()).sum(),
        });
        let group_cancel = cancel.child_token();
        let timeout = step.timeout.as_ref().map(|t| t.value.0);
        let slots = Slots {
            name,
            phase,
            started: clock.started,
            cancel: &group_cancel,
            fail_fast: g.fail_fast.unwrap_or(true),
        };
        let (mut results, timed_out) = self.run_branches(g, branches, scope, &slots, timeout).await;
        results.sort_by_key(|(index, _, _)| *index);
        collect(g, &results, scope);
        let children: Vec<StepRecord> = results
            .into_iter()
            .flat_map(|(_, records, _)| records)
            .collect();
        let (outcome, error) = if timed_out {
            (
                Outcome::TimedOut,
                Some(format!(
                    "the group timed out after {}",
                    humantime::format_duration(timeout.unwrap_or(Duration::ZERO))
                )),
            )
        } else {
            group_outcome(&children, cancel)
        };
        (clock.close(record, outcome, error), children)
    }

    /// Every branch, at most `max` at once; on the group's `timeout`, stops
    /// them all and still collects what they recorded (their steps end as
    /// cancelled). Also says whether the timeout struck.
    async fn run_branches(
        &self,
        g: &ParallelGroup,
        branches: Vec<Branch<'_>>,
        scope: &Scope,
        slots: &Slots<'_>,
        timeout: Option<Duration>,
    ) -> (Vec<BranchResult>, bool) {
        let max = g
            .max
            .as_ref()
            .map_or(DEFAULT_MAX, |m| m.value as usize)
            .clamp(1, branches.len().max(1));
        let run_branches = futures_util::stream::iter(branches)
            .map(|branch| self.run_branch(branch, scope, slots))
            .buffer_unordered(max)
            .collect::<Vec<_>>();
        let Some(limit) = timeout else {
            return (run_branches.await, false);
        };
        tokio::pin!(run_branches);
        tokio::select! {
            results = &mut run_branches => (results, false),
            () = tokio::time::sleep(limit) => {
                slots.cancel.cancel();
                (run_branches.await, true)
            }
        }
    }

    /// One branch: wait for a slot, then its steps in order in its own scope.
    async fn run_branch(
        &self,
        branch: Branch<'_>,
        parent_scope: &Scope,
        slots: &Slots<'_>,
    ) -> BranchResult {
        let Slots {
            name: group,
            phase,
            started: group_started,
            cancel: group_cancel,
            fail_fast,
        } = *slots;
        // `buffer_unordered` starts this future when a slot is free.
        let queued = group_started.elapsed();
        let mut scope = parent_scope.clone();
        if let Some(item) = &branch.item {
            scope.set_item(item.clone());
        }
        let mut records = Vec::with_capacity(branch.steps.len());
        let list = StepList {
            steps: branch.steps,
            names: &branch.names,
            first: 0,
        };
        let stopped = || "not run: the group was stopped".to_string();
        let rules = ListRules {
            phase,
            cancel: group_cancel,
            stopped: &stopped,
            after_failure: Some("not run: an earlier step of its branch failed"),
            in_group: true,
        };
        let on_finished = |index: usize, record: &mut StepRecord| {
            record.parent = Some(group.to_string());
            if index == 0 {
                record.queued_ms = millis(queued);
            }
            if record.outcome.is_failure() && fail_fast {
                group_cancel.cancel();
            }
        };
        self.run_list(list, &rules, &mut scope, &mut records, on_finished)
            .await;
        (branch.index, records, scope)
    }
}

/// The branches of a group: one per item of `for_each` (all its steps,
/// each named after the item), else one per step.
fn branches_of<'a>(name: &str, g: &'a ParallelGroup, items: Option<Vec<Value>>) -> Vec<Branch<'a>> {
    let sub_names = crate::steps::step_names(&g.steps.value);
    match items {
        Some(items) => items
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
    }
}

/// `collect:` — each named list gets one capture per branch, in branch
/// order (null where a branch did not make it).
fn collect(g: &ParallelGroup, results: &[BranchResult], scope: &mut Scope) {
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
}

/// A group's outcome from its sub-steps: failed if any failed, cancelled
/// if the run stopped, passed otherwise.
fn group_outcome(children: &[StepRecord], cancel: &CancellationToken) -> (Outcome, Option<String>) {
    let failures: Vec<&StepRecord> = children.iter().filter(|c| c.outcome.is_failure()).collect();
    if let Some(first) = failures.first() {
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
    }
}

/// The items of `for_each`: a list, `{ range: [FROM, TO] }` (both ends
/// included), or a template that renders to a list.
fn items_of(
    renderer: &mut Renderer<'_>,
    for_each: &Spanned<Value>,
) -> Result<Vec<Value>, ForEachError> {
    if let Value::Object(map) = &for_each.value {
        if let Some(range) = map.get("range").and_then(Value::as_array) {
            return match range.as_slice() {
                [from, to] => match (from.as_i64(), to.as_i64()) {
                    (Some(from), Some(to)) if from <= to => {
                        Ok((from..=to).map(Value::from).collect())
                    }
                    _ => Err(ForEachError::BadRange),
                },
                _ => Err(ForEachError::BadRange),
            };
        }
    }
    match renderer.value(for_each) {
        Value::Array(items) => Ok(items),
        other => Err(ForEachError::NotAList(crate::steps::excerpt(
            &other.to_string(),
            80,
        ))),
    }
}

/// Why a group has no items to fan out over.
#[derive(Debug, thiserror::Error)]
enum ForEachError {
    #[error("`range` takes two whole numbers, lowest first")]
    BadRange,
    /// A template rendered to something else; an excerpt of it.
    #[error("`for_each` must be a list, but it is {0}")]
    NotAList(String),
}
