//! `firedrill plan`: the steps as they would run, with everything known
//! before the run resolved (env, vars, target) and the rest — captures,
//! the run id — left as `${name}`. Secrets show as `***`. Nothing runs.

use std::collections::HashMap;
use std::fmt::Write;

use serde_json::Value;

use crate::drill::LoadedDrill;
use crate::drill::inputs::{Environment, Inputs};
use crate::drill::model::{CaptureSpec, Expect, LocatedStep, Step};
use crate::drill::template::{Lookup, LookupError, Reference, Renderer, to_text};
use crate::redact::MASK;
use crate::steps::ResolvedTarget;

struct PlanLookup {
    values: HashMap<String, Value>,
    base_url: Option<String>,
    env: Environment,
}

impl Lookup for PlanLookup {
    fn lookup(&self, reference: &Reference) -> Result<Option<Value>, LookupError> {
        let symbolic = || Ok(Some(Value::String(format!("${{{}}}", reference.display()))));
        match reference {
            Reference::Env(name) => Ok(self.env.get(name).map(Value::String)),
            Reference::Secret(_) => Ok(Some(Value::String(MASK.into()))),
            Reference::Target(_) => match &self.base_url {
                Some(url) => Ok(Some(Value::String(url.clone()))),
                None => symbolic(),
            },
            Reference::Name { root, path } if path.is_empty() => match self.values.get(root) {
                Some(value) => Ok(Some(value.clone())),
                None => symbolic(),
            },
            _ => symbolic(),
        }
    }
}

/// The plan of a checked drill, as text.
pub fn plan(drill: &LoadedDrill, inputs: &Inputs) -> String {
    let d = &drill.drill;
    let mut lookup = PlanLookup {
        values: HashMap::new(),
        base_url: None,
        env: inputs.env.clone(),
    };
    let given: HashMap<&str, &Value> = inputs.vars.iter().map(|(k, v)| (k.as_str(), v)).collect();
    for (name, value) in &d.vars {
        let resolved = match given.get(name.as_str()) {
            Some(value) => (*value).clone(),
            None => Renderer::new(&lookup).value(value),
        };
        lookup.values.insert(name.clone(), resolved);
    }
    for (name, value) in given {
        lookup
            .values
            .entry(name.to_string())
            .or_insert_with(|| value.clone());
    }
    let mut target = ResolvedTarget::default();
    if let Some(url) = &d.target.base_url {
        target.base_url = Some(Renderer::new(&lookup).string(url));
    }
    for (name, value) in &d.target.headers {
        target
            .headers
            .push((name.clone(), Renderer::new(&lookup).string(value)));
    }
    lookup.base_url.clone_from(&target.base_url);
    target.engines = engines(d, &lookup);

    let mut out = String::new();
    let _ = writeln!(out, "drill: {}", d.drill.value);
    if let Some(description) = &d.description {
        let _ = writeln!(out, "  {}", description.trim());
    }
    if let Some(url) = &target.base_url {
        let _ = writeln!(out, "target: {url}");
    }
    write_engines(&mut out, &target.engines);
    if let Some(budget) = &d.budget {
        let _ = writeln!(
            out,
            "budget: {}",
            humantime::format_duration(budget.value.0)
        );
    }
    for (name, value) in &lookup.values {
        let _ = writeln!(out, "var {name} = {}", to_text(value));
    }
    let _ = writeln!(out, "\nsteps:");
    for (i, (step, name)) in d.steps.value.iter().zip(&drill.step_names).enumerate() {
        describe_step(
            &mut out,
            i + 1,
            name,
            step,
            &lookup,
            &target,
            d.owner.as_deref(),
        );
    }
    if !d.cleanup.is_empty() {
        let _ = writeln!(out, "\ncleanup (always runs):");
        for (i, (step, name)) in d.cleanup.iter().zip(&drill.cleanup_names).enumerate() {
            describe_step(
                &mut out,
                i + 1,
                name,
                step,
                &lookup,
                &target,
                d.owner.as_deref(),
            );
        }
    }
    crate::redact::redact(&out).into_owned()
}

/// The drill's `engines:` with what is known before the run resolved.
fn engines(d: &crate::drill::model::Drill, lookup: &PlanLookup) -> Vec<(String, String)> {
    d.engines.as_ref().map_or_else(Vec::new, |engines| {
        engines
            .value
            .iter()
            .map(|(name, address)| (name.clone(), Renderer::new(lookup).string(address)))
            .collect()
    })
}

/// One line per engine, the default one said.
fn write_engines(out: &mut String, engines: &[(String, String)]) {
    for (i, (name, address)) in engines.iter().enumerate() {
        let default = if i == 0 { " (default)" } else { "" };
        let address = if address.is_empty() {
            "(empty: set what `engines:` reads before running)"
        } else {
            address
        };
        let _ = writeln!(out, "engine {name}: {address}{default}");
    }
}

fn describe_step(
    out: &mut String,
    number: usize,
    name: &str,
    spanned: &LocatedStep,
    lookup: &PlanLookup,
    target: &ResolvedTarget,
    drill_owner: Option<&str>,
) {
    let step = &spanned.value;
    let mut renderer = Renderer::new(lookup);
    let action = crate::steps::resolve(step, &mut renderer, target);
    let kind = action.as_ref().map_or("?", |action| action.kind().as_str());
    let _ = writeln!(out, "  {number}. {name} [{kind}]");
    match &action {
        Ok(action) => {
            let _ = writeln!(out, "     {}", action.describe());
            for line in action.plan_details() {
                let _ = writeln!(out, "     {line}");
            }
        }
        Err(err) => {
            let _ = writeln!(out, "     (cannot resolve yet: {err})");
        }
    }
    if let Some(when) = &step.when {
        let _ = writeln!(out, "     when: {}", when.value);
    }
    if let Some(expect) = &step.expect {
        let parts = expectations(&expect.value, &mut renderer);
        if !parts.is_empty() {
            let _ = writeln!(out, "     expect: {}", parts.join("; "));
        }
    }
    if !step.capture.is_empty() {
        let _ = writeln!(out, "     capture: {}", captures(step).join(", "));
    }
    let facts = facts(step, drill_owner);
    if !facts.is_empty() {
        let _ = writeln!(out, "     {}", facts.join(" · "));
    }
}

/// What `expect` checks, in short.
fn expectations(e: &Expect, renderer: &mut Renderer<'_>) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(status) = &e.status {
        let codes: Vec<String> = status.value.codes().iter().map(u16::to_string).collect();
        parts.push(format!("status {}", codes.join("|")));
    }
    for (path, value) in &e.json {
        parts.push(format!("{path} = {}", renderer.value(value)));
    }
    for (header, value) in &e.headers {
        parts.push(format!("header {header} = {}", renderer.value(value)));
    }
    if let Some(text) = &e.body_contains {
        parts.push(format!("body contains {:?}", renderer.string(text)));
    }
    if let Some(code) = &e.exit_code {
        parts.push(format!("exit code {}", code.value));
    }
    if let Some(text) = &e.stdout_contains {
        parts.push(format!("stdout contains {:?}", renderer.string(text)));
    }
    if let Some(text) = &e.stderr_contains {
        parts.push(format!("stderr contains {:?}", renderer.string(text)));
    }
    if let Some(text) = &e.stdout_matches {
        parts.push(format!("stdout matches /{}/", text.value));
    }
    parts
}

/// Where each capture comes from.
fn captures(step: &Step) -> Vec<String> {
    step.capture
        .iter()
        .map(|(name, spec)| match &spec.value {
            CaptureSpec::Shorthand(source) => format!("{name} ← {source}"),
            CaptureSpec::Map(map) => {
                let source = map
                    .path
                    .clone()
                    .or(map.header.as_ref().map(|h| format!("header {h}")))
                    .or(map.stdout_regex.as_ref().map(|r| format!("stdout /{r}/")))
                    .unwrap_or_default();
                let secret = if map.secret { " (secret)" } else { "" };
                format!("{name} ← {source}{secret}")
            }
        })
        .collect()
}

/// Owner, budget, timeout, retry and wait, in a line.
fn facts(step: &Step, drill_owner: Option<&str>) -> Vec<String> {
    let mut facts = Vec::new();
    if let Some(owner) = step.owner.as_deref().or(drill_owner) {
        facts.push(format!("owner {owner}"));
    }
    if let Some(budget) = &step.budget {
        facts.push(format!(
            "budget {}",
            humantime::format_duration(budget.value.0)
        ));
    }
    if let Some(timeout) = &step.timeout {
        facts.push(format!(
            "timeout {}",
            humantime::format_duration(timeout.value.0)
        ));
    }
    if let Some(retry) = &step.retry {
        let r = &retry.value;
        let mut text = String::from("retry");
        if let Some(every) = r.every {
            text.push_str(&format!(" every {}", humantime::format_duration(every.0)));
        }
        if let Some(within) = r.within {
            text.push_str(&format!(" for {}", humantime::format_duration(within.0)));
        }
        if let Some(attempts) = r.attempts {
            text.push_str(&format!(" up to {attempts} attempts"));
        }
        facts.push(text);
    }
    if let Some(wait) = &step.wait {
        facts.push(format!(
            "then wait for {} (up to {})",
            wait.value.http.value,
            humantime::format_duration(wait.value.within.value.0)
        ));
    }
    facts
}
