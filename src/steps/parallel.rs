//! `parallel`: a group of steps the executor runs concurrently. The
//! executor schedules the group itself (`run::parallel`); this kind checks
//! it, names it and says what it defines. It resolves to no action.

use std::collections::HashMap;

use serde_json::Value;

use super::check_context::CheckContext;
use super::error::{NoKind, StepError};
use super::kind::{Action, Kind};
use super::target::ResolvedTarget;
use crate::drill::diagnostic::{Diagnostic, did_you_mean};
use crate::drill::model::{LocatedStep, Location, ParallelGroup, Spanned, Step, StepSpec};
use crate::drill::template::Renderer;
use crate::kind::StepKind;

/// A `parallel:` group as written.
pub(crate) struct ParallelKind<'a>(pub &'a Spanned<ParallelGroup>);

impl Kind for ParallelKind<'_> {
    fn check(&self, ctx: &mut CheckContext<'_, '_>) {
        let g = &self.0.value;
        if let Some(max) = &g.max {
            if max.value == 0 {
                ctx.error(max.referenced, "`max` must be at least 1");
            }
        }
        if let Some(for_each) = &g.for_each {
            check_for_each(ctx, for_each);
        }
        if g.steps.value.is_empty() {
            ctx.push(Diagnostic::new(
                g.steps.referenced,
                "a parallel group needs steps",
            ));
        }
        let branch_captures = check_branches(ctx, g);
        check_collect(ctx, g, &branch_captures);
    }

    fn auto_name(&self) -> String {
        format!("{} steps in parallel", self.0.value.steps.value.len())
    }

    /// The collected lists.
    fn defines(&self) -> Vec<String> {
        self.0.value.collect.keys().cloned().collect()
    }

    /// A group has no sentence of its own (its steps are not listed).
    fn describe_runbook(&self, _step: &Step) -> String {
        format!("({NoKind})")
    }

    /// The executor runs a group's steps itself: there is no one action.
    fn resolve(
        &self,
        _step: &Step,
        _renderer: &mut Renderer<'_>,
        _target: &ResolvedTarget,
    ) -> Result<Action, StepError> {
        Err(NoKind.into())
    }
}

fn check_for_each(ctx: &mut CheckContext<'_, '_>, for_each: &Spanned<Value>) {
    match &for_each.value {
        Value::Array(_) => ctx.render_value(for_each),
        Value::String(text) if text.trim_start().starts_with("${") => ctx.render_value(for_each),
        Value::Object(map) if map.len() == 1 && map.contains_key("range") => {
            let bounds = map["range"]
                .as_array()
                .map(|r| r.iter().map(Value::as_i64).collect::<Vec<_>>());
            match bounds.as_deref() {
                Some([Some(from), Some(to)]) if from <= to && to - from < 1_000_000 => {}
                _ => ctx.push(
                    Diagnostic::new(
                        for_each.referenced,
                        "`range` takes two whole numbers, lowest first: `range: [1, 20]`",
                    )
                    .with_help("at most a million items"),
                ),
            }
        }
        _ => ctx.push(Diagnostic::new(
            for_each.referenced,
            "`for_each` takes a list, `{ range: [FROM, TO] }` or `\"${a_captured_list}\"`",
        )),
    }
}

/// Checks the group's steps. Inside the group `item` is defined, and a
/// capture is defined for the later steps of its own branch only. Returns
/// every capture of the branches, for `collect`.
fn check_branches(ctx: &mut CheckContext<'_, '_>, g: &ParallelGroup) -> HashMap<String, Location> {
    let before = ctx.defined_names();
    if g.for_each.is_some() {
        ctx.define_in_scope("item");
    }
    let mut branch_captures = HashMap::new();
    for sub in &g.steps.value {
        refuse_inside_a_group(ctx, sub);
        ctx.check_step(sub);
        for (capture, spec) in &sub.value.capture {
            branch_captures.insert(capture.clone(), spec.referenced);
            if g.for_each.is_some() {
                ctx.define_in_scope(capture);
            }
        }
    }
    ctx.restore_defined(before);
    branch_captures
}

/// A person cannot be in several places, and groups do not nest.
fn refuse_inside_a_group(ctx: &mut CheckContext<'_, '_>, sub: &LocatedStep) {
    match sub.value.spec() {
        Some(StepSpec::Manual(manual)) => ctx.push(
            Diagnostic::new(manual.referenced, "a manual step cannot run in parallel")
                .at_key(StepKind::Manual.as_str())
                .with_help("a person does one thing at a time: put the manual step before or after the group"),
        ),
        Some(StepSpec::Parallel(group)) => ctx.push(
            Diagnostic::new(group.referenced, "parallel groups do not nest")
                .at_key(StepKind::Parallel.as_str())
                .with_help("use one group with `for_each`, or two groups one after the other"),
        ),
        _ => {}
    }
}

fn check_collect(
    ctx: &mut CheckContext<'_, '_>,
    g: &ParallelGroup,
    branch_captures: &HashMap<String, Location>,
) {
    for (list, capture) in &g.collect {
        ctx.check_name(list, capture.referenced, "collected list");
        if !branch_captures.contains_key(&capture.value) {
            let known: Vec<&str> = branch_captures.keys().map(String::as_str).collect();
            let mut d = Diagnostic::new(
                capture.referenced,
                format!("no step in the group captures `{}`", capture.value),
            );
            if let Some(meant) = did_you_mean(&capture.value, &known) {
                d = d.with_help(format!("did you mean `{meant}`?"));
            }
            ctx.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::steps::check::testing::{names, problem, problems};

    #[test]
    fn a_manual_step_cannot_run_in_a_group() {
        let yaml = "drill: d\nsteps:\n  - parallel:\n      steps:\n        - manual: do it\n";
        assert_eq!(
            problem(yaml),
            "5:11 a manual step cannot run in parallel (a person does one thing at a time: put the manual step before or after the group)"
        );
    }

    #[test]
    fn collect_names_a_capture_of_the_group() {
        let yaml = "drill: d\nsteps:\n  - parallel:\n      for_each: [1, 2]\n      collect: { all: outt }\n      steps:\n        - exec: { argv: [echo, \"${item}\"] }\n          capture: { out: stdout }\n";
        assert_eq!(
            problems(yaml),
            ["5:23 no step in the group captures `outt` (did you mean `out`?)"]
        );
    }

    #[test]
    fn a_group_is_named_by_its_size() {
        let yaml = "drill: d\nsteps:\n  - parallel:\n      steps:\n        - sleep: 1s\n        - sleep: 2s\n";
        assert_eq!(names(yaml), ["2 steps in parallel"]);
    }
}
