//! `sleep`: wait a fixed time, e.g. for a cache to expire.

use std::time::Duration;

use super::attempt::Attempt;
use super::check_context::CheckContext;
use super::context::StepContext;
use super::error::StepError;
use super::kind::{Action, AttemptFuture, Kind, Resolved};
use super::target::ResolvedTarget;
use crate::drill::model::{HumanDuration, Spanned, Step};
use crate::drill::template::Renderer;
use crate::kind::StepKind;

/// A `sleep:` step as written: the duration.
pub(crate) struct SleepKind<'a>(pub &'a Spanned<HumanDuration>);

impl Kind for SleepKind<'_> {
    /// A duration is checked when it is parsed: nothing is left to check.
    fn check(&self, _ctx: &mut CheckContext<'_, '_>) {}

    fn auto_name(&self) -> String {
        format!("sleep {}", humantime::format_duration(self.0.value.0))
    }

    fn describe_runbook(&self, _step: &Step) -> String {
        format!("Wait {}.", humantime::format_duration(self.0.value.0))
    }

    fn resolve(
        &self,
        _step: &Step,
        _renderer: &mut Renderer<'_>,
        _target: &ResolvedTarget,
    ) -> Result<Action, StepError> {
        Ok(Box::new(Sleep(self.0.value.0)))
    }
}

/// A fixed wait.
#[derive(Debug)]
pub(crate) struct Sleep(pub Duration);

impl Resolved for Sleep {
    fn kind(&self) -> StepKind {
        StepKind::Sleep
    }

    fn describe(&self) -> String {
        format!("wait {}", humantime::format_duration(self.0))
    }

    /// Sleeps; the executor cancels it like any other step.
    fn attempt<'a>(&'a self, _ctx: &'a StepContext<'_>) -> AttemptFuture<'a> {
        Box::pin(async move {
            tokio::time::sleep(self.0).await;
            Attempt::passed(Vec::new())
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::steps::check::testing::{names, problem};

    #[test]
    fn a_sleep_is_named_by_its_duration_and_needs_a_unit() {
        assert_eq!(
            names("drill: d\nsteps:\n  - sleep: 1m 30s\n"),
            ["sleep 1m 30s"]
        );
        assert!(problem("drill: d\nsteps:\n  - sleep: 5\n").contains("a duration needs a unit"));
    }
}
