//! The one loop over a list of steps — the drill's steps, cleanup, a
//! branch of a parallel group: a step after a stop is not run, a step
//! after a failure is skipped (where the list says so), any other runs;
//! each is reported as it ends and kept in order.

use tokio_util::sync::CancellationToken;

use super::context::Executor;
use super::event::Event;
use super::scope::Scope;
use crate::drill::model::LocatedStep;
use crate::record::{Outcome, Phase, StepRecord};

/// Steps and their names, from `first` on (a resumed run starts later).
pub(super) struct StepList<'a> {
    pub steps: &'a [LocatedStep],
    pub names: &'a [String],
    pub first: usize,
}

/// How a list treats a stop and a failure.
pub(super) struct ListRules<'a> {
    pub phase: Phase,
    pub cancel: &'a CancellationToken,
    /// The error of a step not run because `cancel` fired (asked when it
    /// happens: the reason is known only then).
    pub stopped: &'a (dyn Fn() -> String + Sync),
    /// The error of a step skipped because an earlier one failed; `None`
    /// runs every step whatever failed (cleanup).
    pub after_failure: Option<&'a str>,
    /// A branch of a parallel group: its steps are sub-steps, which no one
    /// rescues and which stop at once, without a grace period.
    pub in_group: bool,
}

impl Executor<'_> {
    /// Runs `list` in order into `records` (a group's sub-steps follow its
    /// own record). `on_finished` sees each record before it is reported.
    pub(super) async fn run_list(
        &self,
        list: StepList<'_>,
        rules: &ListRules<'_>,
        scope: &mut Scope,
        records: &mut Vec<StepRecord>,
        mut on_finished: impl FnMut(usize, &mut StepRecord),
    ) {
        let mut failed = false;
        let steps = list.steps.iter().zip(list.names).enumerate();
        for (index, (step, name)) in steps.skip(list.first) {
            let (mut record, children) = match why_not_run(rules, failed) {
                Some((outcome, why)) => {
                    let record = self.not_run(&step.value, name, rules.phase, outcome, &why);
                    (record, Vec::new())
                }
                None => self.run_one(step, name, index, scope, rules).await,
            };
            if record.outcome.is_failure() {
                failed = true;
            }
            // Where a failure or an overrun is written, for the terminal
            // and CI annotations.
            if record.outcome.is_failure() || record.over_budget {
                record.source = Some(self.spot(step.referenced));
            }
            on_finished(index, &mut record);
            self.observers.emit(Event::StepFinished { step: &record });
            records.push(record);
            records.extend(children);
        }
    }

    /// A step of the list, a group or not: its record, and the records of
    /// a group's sub-steps (already reported as they finished).
    async fn run_one(
        &self,
        step: &LocatedStep,
        name: &str,
        index: usize,
        scope: &mut Scope,
        rules: &ListRules<'_>,
    ) -> (StepRecord, Vec<StepRecord>) {
        let (phase, cancel) = (rules.phase, rules.cancel);
        if rules.in_group {
            let record = self
                .run_step(step, name, phase, index, scope, cancel, false)
                .await;
            (record, Vec::new())
        } else if step.value.parallel.is_some() {
            self.run_group(step, name, phase, index, scope, cancel)
                .await
        } else {
            let record = self
                .run_step(step, name, phase, index, scope, cancel, true)
                .await;
            (record, Vec::new())
        }
    }
}

/// Why the next step of a list does not run, if it does not.
fn why_not_run(rules: &ListRules<'_>, failed: bool) -> Option<(Outcome, String)> {
    if rules.cancel.is_cancelled() {
        return Some((Outcome::Cancelled, (rules.stopped)()));
    }
    match rules.after_failure {
        Some(why) if failed => Some((Outcome::Skipped, why.to_string())),
        _ => None,
    }
}
