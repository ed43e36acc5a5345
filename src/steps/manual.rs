//! `manual`: a planned step a person does. The operator (a terminal prompt,
//! an answers file or a policy) says how it went; the wait is human time.

use std::time::Instant;

use super::attempt::{Attempt, Verdict, shorten};
use super::check_context::CheckContext;
use super::context::StepContext;
use super::error::StepError;
use super::kind::{Action, AttemptFuture, Kind, Resolved};
use super::target::ResolvedTarget;
use crate::drill::model::{Spanned, Step};
use crate::drill::template::Renderer;
use crate::kind::StepKind;
use crate::operator::{ManualAnswer, ManualRequest, ManualResult};
use crate::record::{Intervention, InterventionKind};

/// A `manual:` step as written: the instructions.
pub(crate) struct ManualKind<'a>(pub &'a Spanned<String>);

impl Kind for ManualKind<'_> {
    fn check(&self, ctx: &mut CheckContext<'_, '_>) {
        ctx.render_string(self.0);
    }

    fn auto_name(&self) -> String {
        shorten(self.0.value.lines().next().unwrap_or("manual step"))
    }

    /// The instructions, quoted.
    fn describe_runbook(&self, _step: &Step) -> String {
        let quoted: Vec<String> = self
            .0
            .value
            .trim()
            .lines()
            .map(|l| format!("> {l}"))
            .collect();
        quoted.join("\n")
    }

    fn resolve(
        &self,
        _step: &Step,
        renderer: &mut Renderer<'_>,
        _target: &ResolvedTarget,
    ) -> Result<Action, StepError> {
        Ok(Box::new(ManualPrompt {
            instructions: renderer.string(self.0),
        }))
    }
}

/// A manual step ready to show.
#[derive(Debug)]
pub(crate) struct ManualPrompt {
    /// The instructions, with templates resolved.
    pub instructions: String,
}

impl ManualPrompt {
    /// Asks the operator and times the answer.
    pub(crate) async fn ask(&self, ctx: &StepContext<'_>) -> Attempt {
        let request = ManualRequest {
            step: ctx.step_name.to_string(),
            instructions: self.instructions.clone(),
            owner: ctx.owner.map(str::to_string),
            budget: ctx.budget,
        };
        let operator = ctx.operator.clone();
        let started = Instant::now();
        // Prompts block on a terminal read: keep them off the async workers.
        let answer = tokio::task::spawn_blocking(move || operator.manual(&request)).await;
        let human = started.elapsed();
        let answer =
            answer.unwrap_or_else(|err| ManualAnswer::failed(format!("the prompt crashed: {err}")));
        let intervention = |needed_help: bool| Intervention {
            kind: InterventionKind::ManualStep,
            operator: answer.operator.clone(),
            note: answer.note.clone(),
            needed_help,
            helped_by: answer.helped_by.clone(),
        };
        let (verdict, intervention) = match &answer.result {
            ManualResult::Done => (Verdict::ManualDone, Some(intervention(false))),
            ManualResult::Helped => (Verdict::ManualDone, Some(intervention(true))),
            ManualResult::Failed(why) => (Verdict::Failed(why.clone()), Some(intervention(false))),
            ManualResult::Skipped(why) => (Verdict::Skipped(why.clone()), None),
        };
        Attempt {
            verdict,
            captures: Vec::new(),
            human,
            intervention,
            service: None,
        }
    }
}

impl Resolved for ManualPrompt {
    fn kind(&self) -> StepKind {
        StepKind::Manual
    }

    fn is_manual(&self) -> bool {
        true
    }

    fn describe(&self) -> String {
        format!("ask a person: {}", self.instructions)
    }

    fn attempt<'a>(&'a self, ctx: &'a StepContext<'_>) -> AttemptFuture<'a> {
        Box::pin(self.ask(ctx))
    }
}

#[cfg(test)]
mod tests {
    use crate::steps::check::testing::problem;

    #[test]
    fn instructions_may_use_only_defined_names() {
        assert_eq!(
            problem("drill: d\nvars: { tenant: a }\nsteps:\n  - manual: \"Restore ${tenat}\"\n"),
            "4:22 `tenat` is not defined (did you mean `tenant`?)"
        );
    }
}
