//! Reading a drill and running every check: the drill layer's
//! kind-independent ones ([`Checker`]), then, step by step, the common
//! fields, the step's kind ([`Kind::check`](super::Kind::check)) and its
//! `expect` and `capture` against what the kind's result offers.
//!
//! This walk lives here, above the drill layer, because it calls the kinds.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::check_context::CheckContext;
use super::expect::{check_capture, check_expect};
use super::kinds::with_kind;
use crate::drill::diagnostic::{Diagnostic, Diagnostics};
use crate::drill::model::{Drill, LocatedStep, Step, StepSpec};
use crate::drill::validate::Checker;
use crate::drill::{LoadedDrill, parse};
use crate::kind::StepKind;

/// Reads, parses and checks a drill. `extra_vars` are the names given with
/// `--var`, which count as defined.
pub fn load(path: &Path, extra_vars: &[String]) -> Result<LoadedDrill, Diagnostics> {
    let (drill, source) = parse::read(path)?;
    checked(path, drill, source, extra_vars)
}

/// [`load`] for a drill already in memory, named `path` in messages.
pub fn load_bytes(
    path: &Path,
    bytes: Vec<u8>,
    extra_vars: &[String],
) -> Result<LoadedDrill, Diagnostics> {
    let (drill, source) = parse::parse_bytes(path, bytes)?;
    checked(path, drill, source, extra_vars)
}

fn checked(
    path: &Path,
    drill: Drill,
    source: Arc<str>,
    extra_vars: &[String],
) -> Result<LoadedDrill, Diagnostics> {
    let items = validate(&drill, extra_vars);
    if !items.is_empty() {
        return Err(Diagnostics::new(path, source, items));
    }
    Ok(LoadedDrill {
        path: path.to_path_buf(),
        source,
        step_names: step_names(&drill.steps.value),
        cleanup_names: step_names(&drill.cleanup),
        drill,
    })
}

/// Every check of a parsed drill. `extra_vars` are names given with `--var`.
pub(crate) fn validate(drill: &Drill, extra_vars: &[String]) -> Vec<Diagnostic> {
    let mut checker = Checker::new(drill, extra_vars);
    checker.check_drill();
    let main_names = step_names(&drill.steps.value);
    for (step, name) in drill.steps.value.iter().zip(&main_names) {
        for capture in &defines(&step.value) {
            let by = format!("step `{name}` (line {})", step.referenced.line());
            checker.captured_later(capture, by);
        }
    }
    let mut ctx = CheckContext::new(&mut checker, check_step);
    for step in &drill.steps.value {
        check_step(&mut ctx, step);
        for capture in defines(&step.value) {
            ctx.define(&capture);
        }
    }
    ctx.forget_captured_later();
    for step in &drill.cleanup {
        check_step(&mut ctx, step);
        for capture in defines(&step.value) {
            ctx.define(&capture);
        }
    }
    checker.into_diagnostics()
}

/// The display name of every step, in order: its `name`, or one made from
/// what it does. Steps without a name that would collide get ` #2`, ` #3`.
pub(crate) fn step_names(steps: &[LocatedStep]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    steps
        .iter()
        .map(|step| {
            let step = &step.value;
            if let Some(name) = &step.name {
                return name.value.clone();
            }
            let base = auto_name(step);
            let count = seen.entry(base.clone()).or_default();
            *count += 1;
            if *count == 1 {
                base
            } else {
                format!("{base} #{count}")
            }
        })
        .collect()
}

fn auto_name(step: &Step) -> String {
    step.spec().map_or_else(
        || "step".to_string(),
        |spec| with_kind(spec, |kind| kind.auto_name()),
    )
}

/// The names a step defines for the steps after it: its captures, and
/// what its kind defines (a parallel group's collected lists).
pub(crate) fn defines(step: &Step) -> Vec<String> {
    let mut names: Vec<String> = step.capture.keys().cloned().collect();
    if let Some(spec) = step.spec() {
        names.extend(with_kind(spec, |kind| kind.defines()));
    }
    names
}

/// Checks one step: exactly one kind, the common fields, the kind's
/// own, then `expect` and `capture` against what its result offers.
fn check_step(ctx: &mut CheckContext<'_, '_>, located: &LocatedStep) {
    let step = &located.value;
    let Some(spec) = only_kind(ctx, located) else {
        return;
    };
    ctx.check_common(step);
    if let Some(wait) = &step.wait {
        ctx.render_string(&wait.value.http);
        ctx.needs_base_url(&wait.value.http);
    }
    let results = with_kind(spec, |kind| {
        kind.check(ctx);
        kind.results()
    });
    let kind_name = results.kind_name(spec.kind());
    if let Some(expect) = &step.expect {
        check_expect(ctx, results, kind_name, expect);
    }
    for (name, capture) in &step.capture {
        ctx.check_name(name, capture.referenced, "capture");
        check_capture(ctx, results, kind_name, name, capture);
    }
}

/// The step's one kind, or a located error.
fn only_kind<'s>(ctx: &mut CheckContext<'_, '_>, located: &'s LocatedStep) -> Option<StepSpec<'s>> {
    let specs = located.value.specs();
    match specs.as_slice() {
        [] => {
            let kinds: Vec<&str> = StepKind::ALL.map(StepKind::as_str).to_vec();
            ctx.push(
                Diagnostic::new(located.referenced, "this step has no kind")
                    .with_help(format!("give it exactly one of: {}", kinds.join(", "))),
            );
            None
        }
        [one] => Some(*one),
        [first, second, ..] => {
            ctx.push(
                Diagnostic::new(
                    second.at(),
                    format!(
                        "a step has exactly one kind; this one has `{}` and `{}`",
                        first.kind(),
                        second.kind()
                    ),
                )
                .at_key(second.kind().as_str())
                .with_help("split it into two steps"),
            );
            None
        }
    }
}

/// Test helpers: the problems a drill in memory is refused with.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::Path;

    /// Each problem of a refused drill as `line:column message (help)`.
    pub(crate) fn problems(yaml: &str) -> Vec<String> {
        let refused = super::load_bytes(Path::new("test.yaml"), yaml.as_bytes().to_vec(), &[])
            .expect_err("the drill should be refused");
        refused
            .items
            .iter()
            .map(|d| {
                let (line, column) = refused.position(d).map_or((0, 0), |p| (p.line, p.column));
                let help = d.help.as_deref().unwrap_or_default();
                format!("{line}:{column} {} ({help})", d.message)
            })
            .collect()
    }

    /// The one problem of a drill refused for exactly one reason.
    pub(crate) fn problem(yaml: &str) -> String {
        let all = problems(yaml);
        assert_eq!(all.len(), 1, "{all:#?}");
        all.into_iter().next().unwrap_or_default()
    }

    /// A checked drill's display step names.
    pub(crate) fn names(yaml: &str) -> Vec<String> {
        super::load_bytes(Path::new("test.yaml"), yaml.as_bytes().to_vec(), &[])
            .unwrap_or_else(|d| panic!("{}", d.render(false)))
            .step_names
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{names, problem};

    #[test]
    fn a_step_without_a_kind_is_told_every_kind() {
        assert_eq!(
            problem("drill: d\nsteps:\n  - name: nothing\n"),
            "3:5 this step has no kind (give it exactly one of: http, exec, docker, manual, sleep, parallel)"
        );
    }

    #[test]
    fn a_step_with_two_kinds_is_pointed_at_the_second_in_field_order() {
        assert_eq!(
            problem("drill: d\nsteps:\n  - sleep: 1s\n    manual: do it\n"),
            "3:5 a step has exactly one kind; this one has `manual` and `sleep` (split it into two steps)"
        );
    }

    #[test]
    fn unnamed_steps_are_named_by_their_kind_and_numbered_when_they_collide() {
        let yaml = "drill: d\nsteps:\n  - sleep: 1s\n  - sleep: 1s\n  - manual: \"Restart it\\nthen wait\"\n  - name: mine\n    sleep: 2s\n";
        assert_eq!(
            names(yaml),
            ["sleep 1s", "sleep 1s #2", "Restart it", "mine"]
        );
    }
}
