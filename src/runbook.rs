//! `firedrill runbook`: the drill as a Markdown runbook for people. Written
//! from the drill itself, so the human runbook can never drift from what
//! the drill checks: each step in order, what it does in plain words, what
//! must be true afterwards, who owns it, its budget, and the instructions of
//! manual steps. Templates stay as written (`${tenant_id}`): a runbook is
//! for any run, not one.

use std::fmt::Write;

use serde_json::Value;

use crate::drill::LoadedDrill;
use crate::drill::model::{CaptureSpec, Expect, LocatedStep, Retry, Step};
use crate::kind::StepKind;
use crate::steps::plain;

/// The runbook of a checked drill, as Markdown.
// The runbook's sections in the order they are printed.
#[allow(clippy::too_many_lines)]
pub(crate) fn runbook(drill: &LoadedDrill) -> String {
    let d = &drill.drill;
    let mut out = String::new();
    let _ = writeln!(out, "# Runbook: {}\n", d.drill.value);
    if let Some(description) = &d.description {
        let _ = writeln!(out, "{}\n", description.trim());
    }
    let _ = writeln!(
        out,
        "_Generated from `{}` by `firedrill runbook`. Change the drill, not this file: the drill is what gets rehearsed._\n",
        drill.path.display()
    );
    let mut facts = Vec::new();
    if let Some(owner) = &d.owner {
        facts.push(("Owner", owner.clone()));
    }
    if let Some(budget) = &d.budget {
        facts.push((
            "Time budget",
            humantime::format_duration(budget.value.0).to_string(),
        ));
    }
    if let Some(url) = &d.target.base_url {
        facts.push(("Target", format!("`{}`", url.value)));
    }
    if let Some(docker) = &d.target.docker {
        facts.push(("Docker engine", format!("`{}`", docker.value)));
    }
    if !d.secrets.is_empty() {
        let secrets: Vec<String> = d
            .secrets
            .iter()
            .map(
                |(name, source)| match (&source.value.env, &source.value.file) {
                    (Some(var), _) => format!("`{name}` (environment variable `{var}`)"),
                    (None, Some(file)) => format!("`{name}` (file `{file}`)"),
                    _ => format!("`{name}`"),
                },
            )
            .collect();
        facts.push(("Secrets you need", secrets.join(", ")));
    }
    let manual = d
        .steps
        .value
        .iter()
        .chain(&d.cleanup)
        .filter(|s| s.value.kind() == Some(StepKind::Manual))
        .count();
    facts.push((
        "Steps",
        format!(
            "{} ({} by hand), plus {} cleanup",
            d.steps.value.len(),
            manual,
            d.cleanup.len()
        ),
    ));
    let _ = writeln!(out, "| | |\n|---|---|");
    for (key, value) in facts {
        let _ = writeln!(out, "| {key} | {} |", cell(&value));
    }
    if !d.vars.is_empty() {
        let _ = writeln!(out, "\n**Values used below**\n");
        for (name, value) in &d.vars {
            let _ = writeln!(out, "- `${{{name}}}` = `{}`", plain(&value.value));
        }
    }
    let _ = writeln!(out, "\n## Steps\n");
    for (i, (step, name)) in d.steps.value.iter().zip(&drill.step_names).enumerate() {
        describe(&mut out, i + 1, name, step, d.owner.as_deref());
    }
    if !d.cleanup.is_empty() {
        let _ = writeln!(
            out,
            "## Cleanup\n\nAlways done at the end — after success, after a failure, and after an interruption.\n"
        );
        for (i, (step, name)) in d.cleanup.iter().zip(&drill.cleanup_names).enumerate() {
            describe(&mut out, i + 1, name, step, d.owner.as_deref());
        }
    }
    out
}

fn describe(
    out: &mut String,
    number: usize,
    name: &str,
    spanned: &LocatedStep,
    drill_owner: Option<&str>,
) {
    let step = &spanned.value;
    let kind = step.kind();
    let by_hand = if kind == Some(StepKind::Manual) {
        " ✋ by hand"
    } else {
        ""
    };
    let _ = writeln!(out, "### {number}. {name}{by_hand}\n");
    let mut facts = vec![kind.map_or("step", StepKind::as_str).to_string()];
    if let Some(owner) = step.owner.as_deref().or(drill_owner) {
        facts.push(format!("owner **{owner}**"));
    }
    if let Some(budget) = &step.budget {
        facts.push(format!(
            "budget {}",
            humantime::format_duration(budget.value.0)
        ));
    }
    if let Some(timeout) = &step.timeout {
        facts.push(format!(
            "gives up after {}",
            humantime::format_duration(timeout.value.0)
        ));
    }
    let _ = writeln!(out, "_{}_\n", facts.join(" · "));
    if let Some(when) = &step.when {
        let _ = writeln!(out, "Only when `{}`.\n", when.value);
    }
    let _ = writeln!(out, "{}\n", crate::steps::describe_runbook(step));
    if let Some(expect) = &step.expect {
        let checks = checks(&expect.value);
        if !checks.is_empty() {
            let _ = writeln!(out, "**Check that** {}.\n", checks.join("; "));
        }
    }
    if let Some(retry) = &step.retry {
        let _ = writeln!(out, "{}.\n", retry_sentence(&retry.value));
    }
    if let Some(wait) = &step.wait {
        let _ = writeln!(
            out,
            "Then wait until `{}` answers (up to {}).\n",
            wait.value.http.value,
            humantime::format_duration(wait.value.within.value.0)
        );
    }
    if !step.capture.is_empty() {
        let _ = writeln!(out, "**Note down** {}.\n", notes(step).join(", "));
    }
}

/// What must be true after the step, in words.
fn checks(e: &Expect) -> Vec<String> {
    let mut checks = Vec::new();
    if let Some(status) = &e.status {
        let codes: Vec<String> = status.value.codes().iter().map(u16::to_string).collect();
        checks.push(format!("the status is {}", codes.join(" or ")));
    }
    for (path, value) in &e.json {
        checks.push(format!("`{path}` {}", expectation(&value.value)));
    }
    for (header, value) in &e.headers {
        checks.push(format!(
            "the `{header}` header {}",
            expectation(&value.value)
        ));
    }
    if let Some(part) = &e.body_contains {
        checks.push(format!("the body contains `{}`", part.value));
    }
    if let Some(code) = &e.exit_code {
        checks.push(format!("it exits with {}", code.value));
    }
    if let Some(part) = &e.stdout_contains {
        checks.push(format!("its output contains `{}`", part.value));
    }
    if let Some(part) = &e.stderr_contains {
        checks.push(format!("its error output contains `{}`", part.value));
    }
    if let Some(pattern) = &e.stdout_matches {
        checks.push(format!("its output matches `/{}/`", pattern.value));
    }
    checks
}

/// When and how often to try again.
fn retry_sentence(r: &Retry) -> String {
    let mut text = String::from("Not there yet? Try again");
    if let Some(every) = r.every {
        text.push_str(&format!(" every {}", humantime::format_duration(every.0)));
    }
    if let Some(within) = r.within {
        text.push_str(&format!(
            " for up to {}",
            humantime::format_duration(within.0)
        ));
    }
    if let Some(attempts) = r.attempts {
        text.push_str(&format!(", at most {attempts} times"));
    }
    text
}

/// What to write down, and from where.
fn notes(step: &Step) -> Vec<String> {
    step.capture
        .iter()
        .map(|(name, spec)| match &spec.value {
            CaptureSpec::Shorthand(source) => {
                format!("`${{{name}}}` from {}", source_words(source))
            }
            CaptureSpec::Map(map) => {
                let from = map
                    .path
                    .as_deref()
                    .map(source_words)
                    .or(map.header.as_ref().map(|h| format!("the `{h}` header")))
                    .or(map
                        .stdout_regex
                        .as_ref()
                        .map(|r| format!("the output matching `/{r}/`")))
                    .unwrap_or_default();
                let secret = if map.secret {
                    " (a secret: never write it down)"
                } else {
                    ""
                };
                format!("`${{{name}}}` from {from}{secret}")
            }
        })
        .collect()
}

fn expectation(value: &Value) -> String {
    if let Value::Object(map) = value {
        if let (1, Some((matcher, arg))) = (map.len(), map.iter().next()) {
            let arg = plain(arg);
            return match matcher.as_str() {
                "exists" if arg == "false" => "is absent".into(),
                "exists" => "is present".into(),
                "contains" => format!("contains `{arg}`"),
                "matches" => format!("matches `/{arg}/`"),
                "lt" => format!("is below {arg}"),
                "le" => format!("is at most {arg}"),
                "gt" => format!("is above {arg}"),
                "ge" => format!("is at least {arg}"),
                "ne" => format!("is not `{arg}`"),
                "length" => format!("has {arg} entries"),
                "one_of" => format!("is one of `{arg}`"),
                _ => format!("is `{arg}`"),
            };
        }
    }
    format!("is `{}`", plain(value))
}

fn source_words(source: &str) -> String {
    match source {
        "status" => "the status code".into(),
        "stdout" => "the output".into(),
        "stderr" => "the error output".into(),
        "exit_code" => "the exit code".into(),
        "$" => "the whole response".into(),
        path => format!("`{path}` of the response"),
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}
