//! The interface every step kind implements: [`Kind`] over the step as
//! written, [`Resolved`] over the action its templates resolve to.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::attempt::Attempt;
use super::check_context::CheckContext;
use super::context::StepContext;
use super::error::StepError;
use super::target::ResolvedTarget;
use crate::drill::model::Step;
use crate::drill::template::Renderer;
use crate::kind::StepKind;

/// Everything the crate does with one step kind. Implemented by a small
/// type over the kind's spec as written (`drill::model`);
/// [`with_kind`](super::with_kind) picks the implementation for a step.
pub(crate) trait Kind {
    /// Checks the kind's own fields, each error at its own line. The
    /// validator has checked what every step has (name, `when`, `retry`,
    /// `wait`) and checks `expect` and `capture` against [`Kind::results`].
    fn check(&self, ctx: &mut CheckContext<'_, '_>);

    /// The display name of a step without `name`, from what it does.
    fn auto_name(&self) -> String;

    /// What `expect` and `capture` may read of the step's result.
    fn results(&self) -> Results {
        Results::Nothing
    }

    /// Names the step defines for the steps after it, besides its captures.
    fn defines(&self) -> Vec<String> {
        Vec::new()
    }

    /// What the step does, as a runbook sentence with templates as written.
    fn describe_runbook(&self, step: &Step) -> String;

    /// Resolves the step's templates into the action the executor runs.
    /// Template errors land in `renderer.errors`; other problems (a
    /// `JSONPath` that only became invalid once rendered, say) are returned,
    /// as the kind's own error inside a [`StepError`].
    fn resolve(
        &self,
        step: &Step,
        renderer: &mut Renderer<'_>,
        target: &ResolvedTarget,
    ) -> Result<Action, StepError>;
}

/// What `expect` and `capture` may read of a step's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Results {
    /// An HTTP response: status, headers, JSON body.
    Response,
    /// A finished program: exit code, stdout, stderr.
    ProgramOutput,
    /// Nothing to expect or capture.
    Nothing,
}

impl Results {
    /// The kind named in messages: the one whose results these are (a
    /// docker exec expects "like exec steps"), or the step's own kind.
    pub(crate) fn kind_name(self, own: StepKind) -> &'static str {
        match self {
            Results::Response => StepKind::Http.as_str(),
            Results::ProgramOutput => StepKind::Exec.as_str(),
            Results::Nothing => own.as_str(),
        }
    }
}

/// A step with every template resolved, ready to run.
pub(crate) type Action = Box<dyn Resolved>;

/// A future of one attempt; boxed, so every kind's action has one type.
pub(crate) type AttemptFuture<'a> = Pin<Box<dyn Future<Output = Attempt> + Send + 'a>>;

/// A resolved step of some kind: what the executor runs and `plan` shows.
pub(crate) trait Resolved: fmt::Debug + Send + Sync {
    /// The kind's name, as in the drill file and the record.
    fn kind(&self) -> StepKind;

    /// A timeout the action itself asks for (`http.timeout`, `exec.timeout`).
    fn own_timeout(&self) -> Option<Duration> {
        None
    }

    /// Whether the action waits for a person, so it needs no machine
    /// timeout shorter than a person's patience, and no retries.
    fn is_manual(&self) -> bool {
        false
    }

    /// One line saying what the action does, for `plan` and logs.
    fn describe(&self) -> String;

    /// More lines `plan` shows under [`Resolved::describe`].
    fn plan_details(&self) -> Vec<String> {
        Vec::new()
    }

    /// Runs one attempt.
    fn attempt<'a>(&'a self, ctx: &'a StepContext<'_>) -> AttemptFuture<'a>;
}
