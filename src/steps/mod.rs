//! One module per step kind. A kind resolves its templates into a concrete
//! action, then runs one attempt of it; scheduling, retries, timeouts and
//! cancellation belong to the executor, not here.
//!
//! Adding a kind: a new file here, a field in `drill::model::Step`, and one
//! arm in [`Action`].

pub mod docker;
pub mod exec;
pub mod http;
pub mod manual;
pub mod matchers;
pub mod poll;
pub mod sleep;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::drill::model::Step;
use crate::drill::template::Renderer;
use crate::operator::Operator;
use crate::record::Intervention;

/// What every step kind may use while it runs.
pub struct StepContext<'a> {
    pub http: &'a reqwest::Client,
    /// The Docker engine, connected on first use.
    pub docker: &'a docker::Engine,
    pub operator: &'a Arc<dyn Operator>,
    /// Labels what Docker steps create, so a sweep finds it.
    pub run_id: &'a str,
    pub drill: &'a str,
    pub step_name: &'a str,
    pub owner: Option<&'a str>,
    pub budget: Option<Duration>,
    /// Responses and program output larger than this are cut with an error.
    pub max_body_bytes: usize,
}

/// The target as resolved at the start of the run.
#[derive(Debug, Clone, Default)]
pub struct ResolvedTarget {
    pub base_url: Option<String>,
    pub headers: Vec<(String, String)>,
    /// `target.docker`, resolved; `None` falls back to `DOCKER_HOST`.
    pub docker: Option<String>,
    /// `base_url` and `headers` parsed once, on first use, for every
    /// request of the run.
    parsed: std::sync::OnceLock<http::ParsedTarget>,
}

impl ResolvedTarget {
    /// The base URL and headers in the form requests are built from.
    pub fn parsed(&self) -> &http::ParsedTarget {
        self.parsed
            .get_or_init(|| http::ParsedTarget::new(self.base_url.as_deref(), &self.headers))
    }
}

/// A step with every template resolved, ready to run.
#[derive(Debug)]
pub enum Action {
    Http(Box<http::HttpRequest>),
    Exec(exec::ExecCommand),
    Manual(manual::ManualPrompt),
    Sleep(sleep::Sleep),
    Docker(docker::DockerCommand),
}

impl Action {
    /// Resolves a step. Template errors land in `renderer.errors`; other
    /// problems (a JSONPath that only became invalid once rendered, say) are
    /// returned.
    pub fn resolve(
        step: &Step,
        renderer: &mut Renderer<'_>,
        target: &ResolvedTarget,
    ) -> Result<Action, String> {
        if let Some(spec) = &step.http {
            return http::HttpRequest::resolve(&spec.value, step, renderer, target)
                .map(|request| Action::Http(Box::new(request)));
        }
        if let Some(spec) = &step.exec {
            return exec::ExecCommand::resolve(&spec.value, step, renderer).map(Action::Exec);
        }
        if let Some(text) = &step.manual {
            return Ok(Action::Manual(manual::ManualPrompt {
                instructions: renderer.string(text),
            }));
        }
        if let Some(duration) = &step.sleep {
            return Ok(Action::Sleep(sleep::Sleep(duration.value.0)));
        }
        if let Some(spec) = &step.docker {
            return docker::DockerCommand::resolve(&spec.value, step, renderer).map(Action::Docker);
        }
        Err("the step has no kind".into())
    }

    /// The kind's name, as in the drill file and the record.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Http(_) => "http",
            Action::Exec(_) => "exec",
            Action::Manual(_) => "manual",
            Action::Sleep(_) => "sleep",
            Action::Docker(_) => "docker",
        }
    }

    /// A timeout the action itself asks for (`http.timeout`, `exec.timeout`).
    pub fn own_timeout(&self) -> Option<Duration> {
        match self {
            Action::Http(request) => request.timeout,
            Action::Exec(command) => command.timeout,
            Action::Docker(command) => command.own_timeout(),
            _ => None,
        }
    }

    /// Whether the action waits for a person, so it needs no machine timeout
    /// shorter than a person's patience.
    pub fn is_manual(&self) -> bool {
        matches!(self, Action::Manual(_))
    }

    /// Runs one attempt.
    pub async fn attempt(&self, ctx: &StepContext<'_>) -> Attempt {
        match self {
            Action::Http(request) => request.attempt(ctx).await,
            Action::Exec(command) => command.attempt(ctx).await,
            Action::Manual(prompt) => prompt.attempt(ctx).await,
            Action::Sleep(sleep) => sleep.attempt().await,
            // Boxed: the Docker future is large, and it would otherwise make
            // every step's future (and every parallel branch) that large.
            Action::Docker(command) => Box::pin(command.attempt(ctx)).await,
        }
    }

    /// One line saying what the action does, for `plan` and logs.
    pub fn describe(&self) -> String {
        match self {
            Action::Http(request) => request.describe(),
            Action::Exec(command) => command.describe(),
            Action::Manual(prompt) => format!("ask a person: {}", prompt.instructions),
            Action::Sleep(sleep) => format!("wait {}", humantime::format_duration(sleep.0)),
            Action::Docker(command) => command.describe(),
        }
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Passed,
    /// Expected against actual, in words.
    Failed(String),
    /// A person completed a planned manual step.
    ManualDone,
    /// Nobody did it, on purpose (`--manual skip`).
    Skipped(String),
}

/// A value taken from a step's result.
#[derive(Debug, Clone)]
pub struct Captured {
    pub name: String,
    pub value: Value,
}

/// The result of one attempt.
#[derive(Debug)]
pub struct Attempt {
    pub verdict: Verdict,
    pub captures: Vec<Captured>,
    /// Time spent waiting for a person during this attempt.
    pub human: Duration,
    pub intervention: Option<Intervention>,
}

impl Attempt {
    pub fn passed(captures: Vec<Captured>) -> Self {
        Attempt {
            verdict: Verdict::Passed,
            captures,
            human: Duration::ZERO,
            intervention: None,
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Attempt {
            verdict: Verdict::Failed(message.into()),
            captures: Vec::new(),
            human: Duration::ZERO,
            intervention: None,
        }
    }
}

/// Registers a captured value marked `secret: true` with the redactor.
pub fn register_secret_capture(name: &str, value: &Value) -> Result<(), String> {
    let text = crate::drill::template::to_text(value);
    if text.chars().count() < crate::redact::MIN_SECRET_LEN {
        return Err(format!(
            "captured secret `{name}` is shorter than {} characters: firedrill cannot keep it out of output safely",
            crate::redact::MIN_SECRET_LEN
        ));
    }
    crate::redact::register(&text);
    Ok(())
}

/// The first `max` characters of a text, for error messages.
pub fn excerpt(text: &str, max: usize) -> String {
    let text = text.trim();
    let cut = match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    };
    // A target's bytes reach the terminal through this: control characters
    // (an escape sequence that clears the screen or retitles the window)
    // are shown escaped, never sent as they are.
    let mut out = String::with_capacity(cut.len());
    for c in cut.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if cut.len() < text.len() {
        out.push('…');
    }
    out
}
