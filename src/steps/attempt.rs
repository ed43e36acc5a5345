//! How one attempt of a step ends, and the small helpers every kind uses to
//! say so in words. The bottom of the steps layer: it imports no kind.

use std::time::Duration;

use serde_json::Value;

use crate::record::{Intervention, ServiceFacts};

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
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
pub(crate) struct Captured {
    pub name: String,
    pub value: Value,
}

/// The result of one attempt.
#[derive(Debug)]
pub(crate) struct Attempt {
    pub verdict: Verdict,
    pub captures: Vec<Captured>,
    /// Time spent waiting for a person during this attempt.
    pub human: Duration,
    pub intervention: Option<Intervention>,
    /// What a Swarm service step saw (passed or not): the executor copies
    /// it into the step's record.
    pub service: Option<ServiceFacts>,
}

impl Attempt {
    pub(crate) fn passed(captures: Vec<Captured>) -> Self {
        Attempt {
            verdict: Verdict::Passed,
            captures,
            human: Duration::ZERO,
            intervention: None,
            service: None,
        }
    }

    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Attempt {
            verdict: Verdict::Failed(message.into()),
            captures: Vec::new(),
            human: Duration::ZERO,
            intervention: None,
            service: None,
        }
    }

    /// The same attempt, carrying a service's convergence facts.
    pub(crate) fn with_service(mut self, facts: Option<ServiceFacts>) -> Self {
        self.service = facts;
        self
    }
}

/// A captured secret too short to mask without mangling output.
#[derive(Debug, thiserror::Error)]
#[error(
    "captured secret `{0}` is shorter than {min} characters: firedrill cannot keep it out of output safely",
    min = crate::redact::MIN_SECRET_LEN
)]
pub(crate) struct SecretTooShort(String);

/// Registers a captured value marked `secret: true` with the redactor.
pub(crate) fn register_secret_capture(name: &str, value: &Value) -> Result<(), SecretTooShort> {
    let text = crate::drill::template::to_text(value);
    if text.chars().count() < crate::redact::MIN_SECRET_LEN {
        return Err(SecretTooShort(name.to_string()));
    }
    crate::redact::register(&text);
    Ok(())
}

/// The first `max` characters of a text, for error messages.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
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

/// A value as a person reads it: strings without quotes.
pub(crate) fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// At most 60 characters of a text, for automatic step names.
pub(crate) fn shorten(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= 60 {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(59).collect::<String>())
    }
}

/// The innermost cause of an error, which is where the useful words are.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut innermost = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        innermost = cause.to_string();
        source = cause.source();
    }
    innermost
}
