//! The `docker` step as written: automatic name, what its result offers,
//! runbook sentence, and the resolving into a [`DockerCommand`]. Its checks
//! are in [`check`](super::check).

use super::DockerCommand;
use crate::drill::model::{DockerAction, Spanned, Step};
use crate::drill::template::{AsWritten, Renderer};
use crate::steps::check_context::CheckContext;
use crate::steps::error::StepError;
use crate::steps::kind::{Action, Kind, Results};
use crate::steps::target::ResolvedTarget;

/// A `docker:` step.
pub(crate) struct DockerKind<'a>(pub &'a Spanned<DockerAction>);

impl Kind for DockerKind<'_> {
    fn check(&self, ctx: &mut CheckContext<'_, '_>) {
        super::check::check(ctx, self.0);
    }

    fn auto_name(&self) -> String {
        match self.0.value.verbs().first() {
            Some((verb, subject)) => format!("docker {verb} {}", subject.value),
            None => "step".to_string(),
        }
    }

    /// A docker exec expects and captures like a local exec.
    fn results(&self) -> Results {
        if self.0.value.exec.is_some() {
            Results::ProgramOutput
        } else {
            Results::Nothing
        }
    }

    /// `copy_image` captures how many bytes it moved.
    fn defines(&self) -> Vec<String> {
        if self.0.value.copy_image.is_some() {
            vec![super::copy_image::COPIED_BYTES.to_string()]
        } else {
            Vec::new()
        }
    }

    /// The action's own description, templates left as written.
    fn describe_runbook(&self, step: &Step) -> String {
        let mut renderer = Renderer::new(&AsWritten);
        match self.resolve(step, &mut renderer, &ResolvedTarget::default()) {
            Ok(action) => {
                let mut words = action.describe();
                if let Some(first) = words.get(..1) {
                    words = first.to_uppercase() + &words[1..];
                }
                format!("{words}.")
            }
            Err(err) => format!("({err})"),
        }
    }

    fn resolve(
        &self,
        step: &Step,
        renderer: &mut Renderer<'_>,
        target: &ResolvedTarget,
    ) -> Result<Action, StepError> {
        DockerCommand::resolve(&self.0.value, step, renderer, target)
            .map(|command| Box::new(command) as Action)
            .map_err(StepError::from)
    }
}
