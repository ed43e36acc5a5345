//! Checking `expect` and `capture` against what a step's result offers: an
//! HTTP response, a program's output (exec, and docker exec), or nothing.
//! The kind says which ([`Kind::results`](super::Kind::results)); this
//! module knows the fields of each.

use serde_json::Value;

use super::check_context::CheckContext;
use super::kind::Results;
use super::matchers::MATCHERS;
use crate::drill::diagnostic::{Diagnostic, did_you_mean};
use crate::drill::model::{CaptureSpec, Expect, Location, Spanned};

/// The fields of `expect` that belong to one kind of result, with where
/// each is written.
fn response_fields(e: &Expect) -> [(&'static str, Option<Location>); 4] {
    [
        ("status", e.status.as_ref().map(|v| v.referenced)),
        ("headers", e.headers.values().next().map(|v| v.referenced)),
        ("json", e.json.values().next().map(|v| v.referenced)),
        (
            "body_contains",
            e.body_contains.as_ref().map(|v| v.referenced),
        ),
    ]
}

fn program_fields(e: &Expect) -> [(&'static str, Option<Location>); 4] {
    let at = |v: &Option<Box<Spanned<String>>>| v.as_ref().map(|v| v.referenced);
    [
        ("exit_code", e.exit_code.as_ref().map(|v| v.referenced)),
        ("stdout_contains", at(&e.stdout_contains)),
        ("stderr_contains", at(&e.stderr_contains)),
        ("stdout_matches", at(&e.stdout_matches)),
    ]
}

/// Checks a step's `expect`: fields of the right result, matchers,
/// `JSONPaths`, regexes and templates.
pub(crate) fn check_expect(
    ctx: &mut CheckContext<'_, '_>,
    results: Results,
    kind: &str,
    expect: &Spanned<Expect>,
) {
    let e = &expect.value;
    let (foreign, own_list) = match results {
        Results::Response => (program_fields(e), "status, headers, json, body_contains"),
        Results::ProgramOutput => (
            response_fields(e),
            "exit_code, stdout_contains, stderr_contains, stdout_matches",
        ),
        Results::Nothing => {
            ctx.push(
                Diagnostic::new(expect.referenced, format!("a {kind} step has no `expect`"))
                    .with_help("expectations apply to http and exec steps"),
            );
            return;
        }
    };
    for (field, at) in foreign {
        if let Some(at) = at {
            ctx.push(
                Diagnostic::new(
                    at,
                    format!("`{field}` is not an expectation of {kind} steps"),
                )
                .at_key(field)
                .with_help(format!("{kind} steps expect: {own_list}")),
            );
        }
    }
    check_expected_values(ctx, e);
}

fn check_expected_values(ctx: &mut CheckContext<'_, '_>, e: &Expect) {
    for (path, value) in &e.json {
        ctx.check_json_path_key(path, value.referenced);
        check_matcher(ctx, value);
    }
    for value in e.headers.values() {
        check_matcher(ctx, value);
    }
    if let Some(text) = &e.body_contains {
        ctx.render_string(text);
    }
    for text in [&e.stdout_contains, &e.stderr_contains]
        .into_iter()
        .flatten()
    {
        ctx.render_string(text);
    }
    if let Some(pattern) = &e.stdout_matches {
        ctx.render_string(pattern);
        ctx.check_regex(&pattern.value, pattern.referenced);
    }
}

/// Checks an expected value: a literal, or a known matcher with the right
/// kind of argument (an unknown one close to a matcher's name is a typo).
fn check_matcher(ctx: &mut CheckContext<'_, '_>, value: &Spanned<Value>) {
    ctx.render_value(value);
    let Value::Object(map) = &value.value else {
        return;
    };
    if map.len() != 1 {
        return;
    }
    let Some((key, arg)) = map.iter().next() else {
        return;
    };
    if !MATCHERS.contains(&key.as_str()) {
        if let Some(meant) = did_you_mean(key, MATCHERS) {
            ctx.push(
                Diagnostic::new(value.referenced, format!("unknown matcher `{key}`"))
                    .near(key.clone())
                    .with_help(format!(
                        "did you mean `{meant}`? (matchers: {})",
                        MATCHERS.join(", ")
                    )),
            );
        }
        return;
    }
    match key.as_str() {
        "matches" => match arg {
            Value::String(pattern) => ctx.check_regex(pattern, value.referenced),
            _ => ctx.error(
                value.referenced,
                "`matches` takes a regular expression string",
            ),
        },
        "lt" | "le" | "gt" | "ge" | "length" => {
            let templated = matches!(arg, Value::String(s) if s.contains("${"));
            if !arg.is_number() && !templated {
                ctx.error(value.referenced, format!("`{key}` takes a number"));
            }
        }
        "exists" if !arg.is_boolean() => {
            ctx.error(value.referenced, "`exists` takes true or false");
        }
        "one_of" if !arg.is_array() => {
            ctx.error(value.referenced, "`one_of` takes a list");
        }
        _ => {}
    }
}

/// Checks one capture against what the step's result offers.
pub(crate) fn check_capture(
    ctx: &mut CheckContext<'_, '_>,
    results: Results,
    kind: &str,
    name: &str,
    capture: &Spanned<CaptureSpec>,
) {
    let at = capture.referenced;
    match (results, &capture.value) {
        (Results::Response, CaptureSpec::Shorthand(text)) => {
            if text != "status" {
                ctx.check_json_path(text, at);
            }
        }
        (Results::Response, CaptureSpec::Map(map)) => {
            match (&map.path, &map.header, &map.stdout_regex) {
                (Some(path), None, None) => ctx.check_json_path(path, at),
                (None, Some(_), None) => {}
                _ => ctx.push(
                    Diagnostic::new(at, format!("capture `{name}` of an http step needs exactly one of `path` or `header`"))
                        .with_help("for example `{ path: \"$.token\", secret: true }` or `{ header: Location }`"),
                ),
            }
        }
        (Results::ProgramOutput, CaptureSpec::Shorthand(text)) => {
            if !["stdout", "stderr", "exit_code"].contains(&text.as_str()) {
                ctx.push(
                    Diagnostic::new(
                        at,
                        format!("capture `{name}` of an exec step cannot read `{text}`"),
                    )
                    .with_help("use `stdout`, `stderr`, `exit_code` or `{ stdout_regex: \"…\" }`"),
                );
            }
        }
        (Results::ProgramOutput, CaptureSpec::Map(map)) => {
            match (&map.stdout_regex, &map.path, &map.header) {
                (Some(pattern), None, None) => ctx.check_regex(pattern, at),
                _ => ctx.push(
                    Diagnostic::new(
                        at,
                        format!("capture `{name}` of an exec step takes `stdout_regex`"),
                    )
                    .with_help("for example `{ stdout_regex: \"version (\\\\S+)\" }`"),
                ),
            }
        }
        (Results::Nothing, _) => ctx.push(
            Diagnostic::new(at, format!("a {kind} step captures nothing"))
                .with_help("captures apply to http and exec steps"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::steps::check::testing::problem;

    const HTTP: &str = "drill: d\nsteps:\n  - http: { url: \"http://x\" }\n";

    #[test]
    fn a_misspelt_matcher_gets_a_did_you_mean() {
        let yaml = format!("{HTTP}    expect: {{ json: {{ \"$.a\": {{ containz: b }} }} }}\n");
        assert!(
            problem(&yaml).contains("unknown matcher `containz` (did you mean `contains`?"),
            "{}",
            problem(&yaml)
        );
    }

    #[test]
    fn an_http_capture_needs_one_source() {
        let yaml = format!("{HTTP}    capture: {{ t: {{ path: \"$.a\", header: X }} }}\n");
        assert!(
            problem(&yaml)
                .contains("capture `t` of an http step needs exactly one of `path` or `header`")
        );
    }
}
