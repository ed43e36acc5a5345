//! The kind-independent checks that run before anything touches a target:
//! the drill's name, secrets, vars and target; a step's name, `when` and
//! `retry`; undefined names (a capture exists only after its step).
//!
//! [`Checker`] is also the context the step kinds check their own fields
//! with. The kinds live above this layer (`crate::steps`), so this module
//! never calls them: `steps::check` walks the steps and asks each kind.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::diagnostic::{Diagnostic, did_you_mean};
use super::model::{Drill, Location, Retry, Spanned, Step};
use super::template::{Lookup, LookupError, Reference, Renderer};

/// The schemes bollard connects with.
const ENGINE_SCHEMES: &[&str] = &[
    "unix://", "tcp://", "http://", "https://", "ssh://", "npipe://",
];

/// What an engine address should look like.
pub(crate) const ENGINE_ADDRESS_HELP: &str = "an engine address looks like unix:///var/run/docker.sock, tcp://10.0.0.5:2376 or ssh://user@host";

/// What is wrong with an engine's address (written, or resolved at the
/// start of a run), if anything.
pub(crate) fn engine_address_problem(address: &str) -> Option<String> {
    let address = address.trim();
    if address.is_empty() {
        return Some("the address is empty".into());
    }
    if !ENGINE_SCHEMES.iter().any(|s| address.starts_with(s)) {
        return Some(format!(
            "`{address}` is not an engine address (it needs one of {})",
            ENGINE_SCHEMES.join(" ")
        ));
    }
    None
}

/// Fields of `run.*`.
pub(crate) const RUN_FIELDS: &[&str] = &["id", "drill", "started_at"];

/// What the checks know at one point of the drill, and what they found.
pub(crate) struct Checker<'a> {
    drill: &'a Drill,
    diagnostics: Vec<Diagnostic>,
    /// Names that have a value at this point of the drill.
    defined: HashSet<String>,
    /// Capture name → the step that captures it, for "runs after this one".
    captured_later: HashMap<String, String>,
    /// The var whose value is being checked: vars resolve in order.
    current_var: Option<&'a str>,
    /// Step name → where it is first written: names must be unique.
    seen_names: HashMap<String, Location>,
}

impl<'a> Checker<'a> {
    /// A checker for `drill`; `extra_vars` are names given with `--var`.
    pub(crate) fn new(drill: &'a Drill, extra_vars: &[String]) -> Self {
        Checker {
            drill,
            diagnostics: Vec::new(),
            defined: extra_vars.iter().cloned().collect(),
            captured_later: HashMap::new(),
            current_var: None,
            seen_names: HashMap::new(),
        }
    }

    /// The drill being checked.
    pub(crate) fn drill(&self) -> &'a Drill {
        self.drill
    }

    /// What the checks found.
    pub(crate) fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }

    /// Checks everything above the steps: the drill's name, secrets, vars
    /// (which defines them), target, and that there are steps.
    pub(crate) fn check_drill(&mut self) {
        let drill = self.drill;
        if drill.drill.value.trim().is_empty() {
            self.error(drill.drill.referenced, "the drill needs a name");
        }
        self.check_secrets();
        for (name, value) in &drill.vars {
            self.check_name(name, value.referenced, "var");
            self.current_var = Some(name);
            self.render_value(value);
            self.current_var = None;
            self.defined.insert(name.clone());
        }
        self.check_target();
        if drill.steps.value.is_empty() {
            self.push(
                Diagnostic::new(drill.steps.referenced, "the drill has no steps")
                    .with_help("add at least one step under `steps:`"),
            );
        }
    }

    fn check_secrets(&mut self) {
        for (name, source) in &self.drill.secrets {
            let s = &source.value;
            match (&s.env, &s.file) {
                (Some(_), None) | (None, Some(_)) => {}
                _ => self.push(
                    Diagnostic::new(
                        source.referenced,
                        format!("secret `{name}` needs exactly one source"),
                    )
                    .with_help(format!(
                        "write `{name}: {{ env: VARIABLE }}` or `{name}: {{ file: path }}`"
                    )),
                ),
            }
        }
    }

    fn check_target(&mut self) {
        let target = &self.drill.target;
        if let Some(base_url) = &target.base_url {
            self.render_string(base_url);
        }
        for header in target.headers.values() {
            self.render_string(header);
        }
        if let Some(docker) = &target.docker {
            self.render_string(docker);
        }
        self.check_engines();
        if let (Some(ca_file), true) = (&target.ca_file, target.is_insecure()) {
            self.push(
                Diagnostic::new(
                    ca_file.referenced,
                    "`ca_file` is unused: `insecure: true` turns certificate checks off",
                )
                .at_key("ca_file")
                .with_help("keep `ca_file` and remove `insecure`: the CA file is the safe way to trust a private certificate"),
            );
        }
    }

    /// `engines:`: at least one, each address templated or well-formed,
    /// and not beside `target.docker` (two places for the one default
    /// engine would let them disagree).
    fn check_engines(&mut self) {
        let Some(engines) = &self.drill.engines else {
            return;
        };
        if engines.value.is_empty() {
            self.push(
                Diagnostic::new(engines.referenced, "`engines:` names no engine").with_help(
                    "write `engines: { primary: \"unix:///var/run/docker.sock\" }`, or remove it",
                ),
            );
        }
        if let Some(docker) = &self.drill.target.docker {
            self.push(
                Diagnostic::new(
                    docker.referenced,
                    "`target.docker` and `engines:` both say where Docker is",
                )
                .at_key("docker")
                .with_help("keep one: list this address under `engines:` (the first engine is the default), or remove `engines:`"),
            );
        }
        for (name, address) in &engines.value {
            self.render_string(address);
            if address.value.contains("${") {
                continue;
            }
            if let Some(problem) = engine_address_problem(&address.value) {
                self.push(
                    Diagnostic::new(address.referenced, format!("engine `{name}`: {problem}"))
                        .with_help(ENGINE_ADDRESS_HELP),
                );
            }
        }
    }

    /// The names of the drill's `engines:`, in order (empty without it).
    pub(crate) fn engine_names(&self) -> Vec<&'a str> {
        self.drill
            .engines
            .as_ref()
            .map(|e| e.value.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// Checks what every step has, whatever its kind: a unique name,
    /// `when` and `retry`.
    pub(crate) fn check_common(&mut self, step: &Step) {
        if let Some(name) = &step.name {
            self.check_step_name(name);
        }
        if let Some(when) = &step.when {
            self.render_string(when);
        }
        if let Some(retry) = &step.retry {
            self.check_retry(retry);
        }
    }

    fn check_step_name(&mut self, name: &Spanned<String>) {
        if name.value.trim().is_empty() {
            self.error(name.referenced, "a step name cannot be empty");
        } else if let Some(first) = self.seen_names.get(&name.value) {
            let d = Diagnostic::new(
                name.referenced,
                format!("duplicate step name `{}`", name.value),
            )
            .with_help(format!(
                "the first step with this name is at line {}; names key the answers file and history, so they must be unique",
                first.line()
            ));
            self.push(d);
        } else {
            self.seen_names.insert(name.value.clone(), name.referenced);
        }
    }

    fn check_retry(&mut self, retry: &Spanned<Retry>) {
        let r = &retry.value;
        if r.attempts == Some(0) {
            self.error(retry.referenced, "`attempts` must be at least 1");
        }
        if r.every.is_some_and(|e| e.0.is_zero()) {
            self.error(retry.referenced, "`every` must be longer than zero");
        }
        if r.within.is_none() && r.attempts.is_none() {
            self.push(
                Diagnostic::new(retry.referenced, "a retry needs a limit")
                    .with_help("add `for: 60s` or `attempts: 5`, so the step cannot retry forever"),
            );
        }
    }

    /// `name` will be captured by `step` (described for messages), which
    /// runs later than the steps checked before it.
    pub(crate) fn captured_later(&mut self, name: &str, step: String) {
        self.captured_later.entry(name.to_string()).or_insert(step);
    }

    /// Cleanup may use any capture: a missing one skips that cleanup step.
    pub(crate) fn forget_captured_later(&mut self) {
        self.captured_later.clear();
    }

    /// `name` has a value from here on.
    pub(crate) fn define(&mut self, name: &str) {
        self.defined.insert(name.to_string());
        self.captured_later.remove(name);
    }

    /// `name` has a value inside the current scope (a parallel group), which
    /// [`Checker::restore_defined`] ends.
    pub(crate) fn define_in_scope(&mut self, name: &str) {
        self.defined.insert(name.to_string());
    }

    /// The names defined at this point, to restore after a scope (the
    /// inside of a parallel group) that defines more.
    pub(crate) fn defined_names(&self) -> HashSet<String> {
        self.defined.clone()
    }

    /// Back to the names of [`Checker::defined_names`].
    pub(crate) fn restore_defined(&mut self, defined: HashSet<String>) {
        self.defined = defined;
    }

    /// Checks that a var, capture or list name is usable in templates.
    pub(crate) fn check_name(&mut self, name: &str, at: Location, what: &str) {
        if !usable_name(name) {
            self.push(
                Diagnostic::new(at, format!("`{name}` cannot be a {what} name"))
                    .with_help("use letters, digits, `_` and `-`; env, secret, run, target and item are reserved"),
            );
        }
    }

    /// Checks a regular expression, unless templates make it known only
    /// at run time.
    pub(crate) fn check_regex(&mut self, pattern: &str, at: Location) {
        if pattern.contains("${") {
            return;
        }
        if let Err(err) = regex::Regex::new(pattern) {
            let detail = err.to_string();
            let last = detail.lines().last().unwrap_or(&detail).trim().to_string();
            self.push(Diagnostic::new(
                at,
                format!("invalid regular expression `{pattern}`: {last}"),
            ));
        }
    }

    /// Checks the names a templated string uses.
    pub(crate) fn render_string(&mut self, text: &Spanned<String>) {
        let mut renderer = Renderer::new(self);
        renderer.string(text);
        let errors = std::mem::take(&mut renderer.errors);
        self.diagnostics.extend(errors.into_iter().map(Into::into));
    }

    /// Checks the names a templated value uses.
    pub(crate) fn render_value(&mut self, value: &Spanned<Value>) {
        let mut renderer = Renderer::new(self);
        renderer.value(value);
        let errors = std::mem::take(&mut renderer.errors);
        self.diagnostics.extend(errors.into_iter().map(Into::into));
    }

    /// Checks the names templated values use, all located at `at`.
    pub(crate) fn render_values_at<'v>(
        &mut self,
        values: impl IntoIterator<Item = &'v Value>,
        at: Location,
    ) {
        let mut renderer = Renderer::new(self);
        for value in values {
            renderer.value_at(value, &at);
        }
        let errors = std::mem::take(&mut renderer.errors);
        self.diagnostics.extend(errors.into_iter().map(Into::into));
    }

    /// Reports a problem without help text.
    pub(crate) fn error(&mut self, at: Location, message: impl Into<String>) {
        self.push(Diagnostic::new(at, message));
    }

    /// Reports a problem.
    pub(crate) fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }
}

impl Lookup for Checker<'_> {
    fn lookup(&self, reference: &Reference) -> Result<Option<Value>, LookupError> {
        let placeholder = || Ok(Some(Value::String(format!("${{{}}}", reference.display()))));
        match reference {
            Reference::Env(_) => placeholder(),
            Reference::Secret(name) => {
                if self.drill.secrets.contains_key(name) {
                    return placeholder();
                }
                let declared: Vec<&str> = self.drill.secrets.keys().map(String::as_str).collect();
                let err = LookupError::new(format!("secret `{name}` is not declared"));
                Err(match did_you_mean(name, &declared) {
                    Some(meant) => err.with_help(format!("did you mean `secret.{meant}`?")),
                    None => err.with_help(format!(
                        "declare it: `secrets: {{ {name}: {{ env: VARIABLE }} }}`"
                    )),
                })
            }
            Reference::Run(field) => {
                if RUN_FIELDS.contains(&field.as_str()) {
                    placeholder()
                } else {
                    Err(LookupError::new(format!("`run.{field}` does not exist"))
                        .with_help(format!("available: run.{}", RUN_FIELDS.join(", run."))))
                }
            }
            Reference::Target(field) => {
                if field == "base_url" && self.drill.target.base_url.is_some() {
                    placeholder()
                } else {
                    Err(
                        LookupError::new(format!("`target.{field}` is not set")).with_help(
                            "only `target.base_url` can be referenced, when the drill sets it",
                        ),
                    )
                }
            }
            Reference::Name { root, .. } => self.lookup_name(reference, root),
        }
    }
}

impl Checker<'_> {
    /// A var or capture: defined by now, captured later, or unknown.
    fn lookup_name(&self, reference: &Reference, root: &str) -> Result<Option<Value>, LookupError> {
        let placeholder = || Ok(Some(Value::String(format!("${{{}}}", reference.display()))));
        if self.defined.contains(root) {
            return placeholder();
        }
        if let Some(step) = self.captured_later.get(root) {
            return Err(LookupError::new(format!(
                "`{root}` is captured by {step}, which runs after this one"
            ))
            .with_help("move this step after the one that captures it"));
        }
        if root == "item" {
            return Err(LookupError::new("`item` is defined only inside `for_each`"));
        }
        if let Some(current) = self.current_var {
            if current == root {
                return Err(LookupError::new(format!("var `{root}` refers to itself"))
                    .with_help("a var cannot be defined in terms of itself: give it a value, or use another var defined above it"));
            }
            if let Some(later) = self.drill.vars.get(root) {
                let line = later.referenced.line();
                if refers_to(&later.value, current) {
                    return Err(LookupError::new(format!(
                        "vars `{current}` and `{root}` refer to each other"
                    ))
                    .with_help(format!(
                        "vars resolve in order, so neither can come first: give one of them a value (`{root}` is at line {line})"
                    )));
                }
                return Err(
                    LookupError::new(format!("`{root}` is defined later, at line {line}"))
                        .with_help(format!(
                            "vars resolve in order, top to bottom: move `{root}` above `{current}`"
                        )),
                );
            }
        }
        let known: Vec<&str> = self.defined.iter().map(String::as_str).collect();
        let err = LookupError::new(format!("`{root}` is not defined"));
        Err(match did_you_mean(root, &known) {
            Some(meant) => err.with_help(format!("did you mean `{meant}`?")),
            None => err.with_help(
                "define it under `vars:`, capture it in an earlier step, pass `--var NAME=VALUE`, or use `${env.NAME}`",
            ),
        })
    }
}

/// Whether a var's value uses `${name}` (or `${name.field}`) anywhere.
fn refers_to(value: &Value, name: &str) -> bool {
    match value {
        Value::String(text) => super::template::expressions(text)
            .iter()
            .any(|expr| matches!(&expr.reference, Reference::Name { root, .. } if root == name)),
        Value::Array(items) => items.iter().any(|v| refers_to(v, name)),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| refers_to(&Value::String(k.clone()), name) || refers_to(v, name)),
        _ => false,
    }
}

/// Whether `name` can be a var, capture or list name: letters, digits, `_`
/// and `-`, and none of the reserved roots of `${…}`.
pub(crate) fn usable_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !["env", "secret", "run", "target", "item"].contains(&name)
}
