//! What a kind's check works with: the drill layer's [`Checker`]
//! (templates, names, diagnostics), plus the checks that need this layer's
//! code (URLs, `JSONPaths`) and a way to check a nested step.

use std::ops::{Deref, DerefMut};

use super::json_path::compile_path;
use super::target::is_absolute;
use crate::drill::diagnostic::Diagnostic;
use crate::drill::model::{LocatedStep, Location, Spanned};
use crate::drill::validate::Checker;

/// How a step is checked as a whole; given by the walk (`steps::check`),
/// which sits above the kinds, so a parallel group can check its steps
/// without this layer's kinds importing the walk.
pub(crate) type CheckStep = fn(&mut CheckContext<'_, '_>, &LocatedStep);

/// The checker a kind's [`check`](super::Kind::check) gets.
pub(crate) struct CheckContext<'c, 'a> {
    checker: &'c mut Checker<'a>,
    check_step: CheckStep,
}

impl<'a> Deref for CheckContext<'_, 'a> {
    type Target = Checker<'a>;
    fn deref(&self) -> &Checker<'a> {
        self.checker
    }
}

impl DerefMut for CheckContext<'_, '_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.checker
    }
}

impl<'c, 'a> CheckContext<'c, 'a> {
    /// A context over `checker`; nested steps are checked with `check_step`.
    pub(crate) fn new(checker: &'c mut Checker<'a>, check_step: CheckStep) -> Self {
        CheckContext {
            checker,
            check_step,
        }
    }

    /// Checks a step nested in this one (a parallel group's).
    pub(crate) fn check_step(&mut self, step: &LocatedStep) {
        (self.check_step)(self, step);
    }

    /// A URL that is relative needs `target.base_url`.
    pub(crate) fn needs_base_url(&mut self, url: &Spanned<String>) {
        let absolute = is_absolute(&url.value) || url.value.starts_with("${");
        if !absolute && self.drill().target.base_url.is_none() {
            self.push(
                Diagnostic::new(
                    url.referenced,
                    format!(
                        "`{}` is relative, but the drill has no `target.base_url`",
                        url.value
                    ),
                )
                .with_help("add `target: { base_url: http://… }` or write an absolute URL"),
            );
        }
    }

    /// Checks a `JSONPath`'s syntax.
    pub(crate) fn check_json_path(&mut self, path: &str, at: Location) {
        if let Some(d) = json_path_problem(path, at) {
            self.push(d);
        }
    }

    /// A `JSONPath` written as a map key, its value at `at`.
    pub(crate) fn check_json_path_key(&mut self, path: &str, at: Location) {
        if let Some(d) = json_path_problem(path, at) {
            self.push(d.at_key(path));
        }
    }
}

/// What is wrong with a `JSONPath`, if anything (templated ones are known
/// only at run time).
fn json_path_problem(path: &str, at: Location) -> Option<Diagnostic> {
    if path.contains("${") {
        return None;
    }
    let err = compile_path(path).err()?;
    Some(
        Diagnostic::new(at, err.to_string())
            .with_help("JSONPath starts at `$`: `$.id`, `$.items[0].name`, `$[*].role` (RFC 9535)"),
    )
}
