//! The one list of step kinds in this layer: which [`Kind`] handles a
//! step, and the calls the planner, the runbook and the executor make
//! through it.

use super::docker::DockerKind;
use super::error::{NoKind, StepError};
use super::exec::ExecKind;
use super::http::HttpKind;
use super::kind::{Action, Kind};
use super::manual::ManualKind;
use super::parallel::ParallelKind;
use super::sleep::SleepKind;
use super::target::ResolvedTarget;
use crate::drill::model::{Step, StepSpec};
use crate::drill::template::Renderer;

/// The one list of kinds: runs `f` with the [`Kind`] that handles `spec`.
pub(crate) fn with_kind<R>(spec: StepSpec<'_>, f: impl FnOnce(&dyn Kind) -> R) -> R {
    match spec {
        StepSpec::Http(spec) => f(&HttpKind(spec)),
        StepSpec::Exec(spec) => f(&ExecKind(spec)),
        StepSpec::Manual(spec) => f(&ManualKind(spec)),
        StepSpec::Sleep(spec) => f(&SleepKind(spec)),
        StepSpec::Docker(spec) => f(&DockerKind(spec)),
        StepSpec::Parallel(spec) => f(&ParallelKind(spec)),
    }
}

/// Resolves a step through its kind: see [`Kind::resolve`].
pub(crate) fn resolve(
    step: &Step,
    renderer: &mut Renderer<'_>,
    target: &ResolvedTarget,
) -> Result<Action, StepError> {
    match step.spec() {
        Some(spec) => with_kind(spec, |kind| kind.resolve(step, renderer, target)),
        None => Err(NoKind.into()),
    }
}

/// What a step does, as a runbook sentence: see [`Kind::describe_runbook`].
pub(crate) fn describe_runbook(step: &Step) -> String {
    match step.spec() {
        Some(spec) => with_kind(spec, |kind| kind.describe_runbook(step)),
        None => format!("({NoKind})"),
    }
}
