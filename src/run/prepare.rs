//! Before the first step: secrets read, vars resolved, the target known,
//! the HTTP client built. Every problem is located in the drill file, as
//! `check`'s are, so nothing runs when one is found.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::RunOptions;
use super::scope::{RunFacts, Scope};
use crate::drill::LoadedDrill;
use crate::drill::diagnostic::{Diagnostic, Diagnostics};
use crate::drill::inputs::Environment;
use crate::drill::model::SecretSource;
use crate::drill::template::Renderer;
use crate::drill::validate::{ENGINE_ADDRESS_HELP, engine_address_problem};
use crate::steps::ResolvedTarget;

/// A drill with its secrets read, vars resolved and target known: ready to
/// run, or to show in `plan`.
pub struct Prepared {
    pub(crate) scope: Scope,
    pub(crate) target: ResolvedTarget,
}

/// Reads secrets, resolves vars and the target. Problems are located in the
/// drill file, like `check`'s.
pub fn prepare(
    drill: &LoadedDrill,
    options: &RunOptions,
    started_at: &str,
) -> Result<Prepared, Diagnostics> {
    let mut problems: Vec<Diagnostic> = Vec::new();
    let mut scope = Scope::new(run_facts(drill, options, started_at));
    read_secrets(drill, &options.env, &mut scope, &mut problems);
    resolve_vars(drill, &options.vars, &mut scope, &mut problems);
    let target = resolve_target(drill, &scope, &mut problems);
    Arc::make_mut(&mut scope.facts)
        .base_url
        .clone_from(&target.base_url);
    if problems.is_empty() {
        Ok(Prepared { scope, target })
    } else {
        Err(Diagnostics::new(
            &drill.path,
            drill.source.clone(),
            problems,
        ))
    }
}

/// `${run.id}` stays the first run's id across resumes, so names made from
/// it (tenants, containers) are the same ones.
fn run_facts(drill: &LoadedDrill, options: &RunOptions, started_at: &str) -> RunFacts {
    let origin = options
        .resume
        .as_ref()
        .map(|r| r.origin_run_id.clone().unwrap_or_else(|| r.run_id.clone()));
    RunFacts {
        id: origin.unwrap_or_else(|| options.run_id.clone()),
        drill: drill.drill.drill.value.clone(),
        started_at: started_at.to_string(),
        base_url: None,
        env: options.env.clone(),
    }
}

/// Reads every secret and registers it with the redactor; one too short to
/// mask safely is refused.
fn read_secrets(
    drill: &LoadedDrill,
    env: &Environment,
    scope: &mut Scope,
    problems: &mut Vec<Diagnostic>,
) {
    for (name, source) in &drill.drill.secrets {
        match read_secret(&source.value, env) {
            Ok(value) if value.chars().count() < crate::redact::MIN_SECRET_LEN => problems.push(
                Diagnostic::new(
                    source.referenced,
                    format!(
                        "secret `{name}` is shorter than {} characters: firedrill cannot keep it out of output safely",
                        crate::redact::MIN_SECRET_LEN
                    ),
                ),
            ),
            Ok(value) => {
                crate::redact::register(&value);
                scope.set_secret(name, value);
            }
            Err(why) => problems.push(Diagnostic::new(source.referenced, format!("secret `{name}`: {why}"))),
        }
    }
}

/// Why a secret has no value.
#[derive(Debug, thiserror::Error)]
enum SecretError {
    #[error("the environment variable `{0}` is not set")]
    EnvUnset(String),
    #[error("cannot read `{path}`: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error("no source")]
    NoSource,
}

fn read_secret(source: &SecretSource, env: &Environment) -> Result<String, SecretError> {
    if let Some(var) = &source.env {
        return match env.get(var) {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(SecretError::EnvUnset(var.clone())),
        };
    }
    if let Some(path) = &source.file {
        return std::fs::read_to_string(path)
            .map(|text| text.trim_end_matches(['\n', '\r']).to_string())
            .map_err(|source| SecretError::Unreadable {
                path: path.clone(),
                source,
            });
    }
    Err(SecretError::NoSource)
}

/// `vars:` in order (each may use the ones before it), `--var` winning over
/// the file and adding vars the file does not declare.
fn resolve_vars(
    drill: &LoadedDrill,
    vars: &[(String, Value)],
    scope: &mut Scope,
    problems: &mut Vec<Diagnostic>,
) {
    let declared = &drill.drill.vars;
    let overrides: HashMap<&str, &Value> = vars.iter().map(|(k, v)| (k.as_str(), v)).collect();
    for (name, value) in declared {
        let resolved = if let Some(given) = overrides.get(name.as_str()) {
            (*given).clone()
        } else {
            let mut renderer = Renderer::new(scope);
            let resolved = renderer.value(value);
            problems.extend(renderer.errors.into_iter().map(Diagnostic::from));
            resolved
        };
        scope.set(name, resolved);
    }
    for (name, value) in &overrides {
        if !declared.contains_key(*name) {
            scope.set(name, (*value).clone());
        }
    }
}

/// `target:` with its templates resolved; a `base_url` that is no URL is a
/// located problem.
fn resolve_target(
    drill: &LoadedDrill,
    scope: &Scope,
    problems: &mut Vec<Diagnostic>,
) -> ResolvedTarget {
    let declared = &drill.drill.target;
    let mut target = ResolvedTarget::default();
    let mut renderer = Renderer::new(scope);
    if let Some(base_url) = &declared.base_url {
        let url = renderer.string(base_url);
        if let Err(err) = reqwest::Url::parse(&url) {
            problems.push(Diagnostic::new(
                base_url.referenced,
                format!("target.base_url `{url}` is not a valid URL: {err}"),
            ));
        }
        target.base_url = Some(url);
    }
    for (name, value) in &declared.headers {
        target.headers.push((name.clone(), renderer.string(value)));
    }
    target.docker = declared
        .docker
        .as_ref()
        .map(|address| renderer.string(address));
    target.engines = resolve_engines(drill, &mut renderer, problems);
    problems.extend(renderer.errors.into_iter().map(Diagnostic::from));
    target
}

/// `engines:` resolved; an address that resolves to nothing usable (an
/// unset `${env.X}`) is a located problem, before any step runs.
fn resolve_engines(
    drill: &LoadedDrill,
    renderer: &mut Renderer<'_>,
    problems: &mut Vec<Diagnostic>,
) -> Vec<(String, String)> {
    let Some(engines) = &drill.drill.engines else {
        return Vec::new();
    };
    let mut resolved = Vec::with_capacity(engines.value.len());
    for (name, address) in &engines.value {
        let known_errors = renderer.errors.len();
        let text = renderer.string(address);
        // An unset `${env.X}` is already reported, at the same place.
        let unresolved = renderer.errors.len() > known_errors;
        if let Some(problem) = engine_address_problem(&text).filter(|_| !unresolved) {
            problems.push(
                Diagnostic::new(address.referenced, format!("engine `{name}`: {problem}"))
                    .with_help(ENGINE_ADDRESS_HELP),
            );
        }
        resolved.push((name.clone(), text.trim().to_string()));
    }
    resolved
}

/// The HTTP client every step shares: one connection pool, keep-alive,
/// TLS as the drill's target says (`ca_file`, `insecure`). A bad
/// `ca_file` is a located error. The target's warnings (certificate checks
/// off) are events of the run, emitted when it starts.
pub fn http_client(drill: &LoadedDrill) -> Result<reqwest::Client, Diagnostics> {
    crate::steps::http::client(&drill.drill.target)
        .map_err(|problem| Diagnostics::new(&drill.path, drill.source.clone(), vec![problem]))
}
