//! What every step of a run shares ([`Executor`]), and the one way a
//! step's record is made. The other files of `run/` add the executor's
//! jobs to it (`impl Executor` in list, step, attempts, rescue, parallel).

use std::time::SystemTime;

use super::RunOptions;
use super::event::Observers;
use crate::drill::LoadedDrill;
use crate::drill::diagnostic::{Diagnostic, Diagnostics};
use crate::drill::model::{Location, Step};
use crate::drill::template::TemplateError;
use crate::kind::StepKind;
use crate::record::format::{millis, timestamp};
use crate::record::{Outcome, Phase, SourceSpot, StepRecord};
use crate::steps::ResolvedTarget;

/// What every step of a run shares.
pub(crate) struct Executor<'a> {
    pub(super) drill: &'a LoadedDrill,
    pub(super) options: &'a RunOptions,
    pub(super) observers: &'a Observers,
    pub(super) target: ResolvedTarget,
    pub(super) http: reqwest::Client,
    pub(super) docker: crate::steps::docker::Engines,
}

impl Executor<'_> {
    pub(super) fn kind_of(step: &Step) -> StepKind {
        step.kind()
            .expect("a loaded drill is checked: each step has exactly one kind")
    }

    fn owner<'s>(&'s self, step: &'s Step) -> Option<&'s str> {
        step.owner.as_deref().or(self.drill.drill.owner.as_deref())
    }

    /// The one way a step's record is made: name, kind, owner and budget
    /// filled in, nothing run yet. The other fields are set as it runs.
    pub(super) fn new_record(&self, step: &Step, name: &str, phase: Phase) -> StepRecord {
        StepRecord {
            name: name.to_string(),
            kind: Self::kind_of(step),
            phase,
            outcome: Outcome::Passed,
            started_at: None,
            duration_ms: 0,
            human_ms: 0,
            attempts: 0,
            budget_ms: step.budget.as_ref().map(|b| millis(b.value.0)),
            over_budget: false,
            owner: self.owner(step).map(str::to_string),
            intervention: None,
            error: None,
            duration_us: 0,
            captures: std::collections::BTreeMap::new(),
            carried_from: None,
            parent: None,
            queued_ms: 0,
            source: None,
            service: None,
        }
    }

    /// The record of a step that starts now.
    pub(super) fn started_record(&self, step: &Step, name: &str, phase: Phase) -> StepRecord {
        StepRecord {
            started_at: Some(timestamp(SystemTime::now())),
            ..self.new_record(step, name, phase)
        }
    }

    /// The record of a step that never started, and why.
    pub(super) fn not_run(
        &self,
        step: &Step,
        name: &str,
        phase: Phase,
        outcome: Outcome,
        why: &str,
    ) -> StepRecord {
        StepRecord {
            outcome,
            error: Some(why.to_string()),
            ..self.new_record(step, name, phase)
        }
    }

    /// Where a step is written in the drill, for the record of its failure.
    pub(super) fn spot(&self, at: Location) -> SourceSpot {
        SourceSpot {
            file: self.drill.path.display().to_string(),
            line: at.line(),
            column: at.column(),
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

    /// Template errors as one located message.
    pub(super) fn template_failure(&self, errors: Vec<TemplateError>) -> String {
        errors
            .into_iter()
            .map(|e| format!("{}: {}", self.locate(e.at, e.near), e.message))
            .collect::<Vec<_>>()
            .join("; ")
    }
}
