//! How a person is asked: a terminal prompt when there is one, an answers
//! file or a `--manual` policy when there is not. Unattended runs never wait.
//!
//! Two questions exist: how a planned manual step went, and what to do about
//! an automated step that failed (retry after a fix, did it by hand, skip,
//! abort). Every answer carries the operator's name and an optional note:
//! the notes are where the runbook needed knowledge it does not contain.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;

use crate::drill::diagnostic::{Diagnostic, Diagnostics, did_you_mean};
use crate::drill::model::Spanned;
use crate::redact::redact;

/// What the executor asks at a manual step.
#[derive(Debug, Clone)]
pub struct ManualRequest {
    /// The step's display name.
    pub step: String,
    /// What the person is asked to do, templates rendered.
    pub instructions: String,
    /// Who owns the step, if the drill says.
    pub owner: Option<String>,
    /// The step's soft budget, shown so the person knows the pace.
    pub budget: Option<Duration>,
}

/// How a manual step went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManualResult {
    /// Done, unaided.
    Done,
    /// Done, with help.
    Helped,
    /// Could not be done; the reason.
    Failed(String),
    /// Not attempted, by policy; the reason.
    Skipped(String),
}

/// The operator's answer at a manual step.
#[derive(Debug, Clone)]
pub struct ManualAnswer {
    /// How it went.
    pub result: ManualResult,
    /// Who answered.
    pub operator: String,
    /// What the runbook should have said, in the person's words.
    pub note: Option<String>,
    /// Who helped, when someone did.
    pub helped_by: Option<String>,
}

impl ManualAnswer {
    /// A manual step that could not be done, and why.
    pub fn failed(reason: impl Into<String>) -> Self {
        ManualAnswer {
            result: ManualResult::Failed(reason.into()),
            operator: String::new(),
            note: None,
            helped_by: None,
        }
    }
}

/// What the executor asks when an automated step failed.
#[derive(Debug, Clone)]
pub struct FailureRequest {
    /// The failed step's display name.
    pub step: String,
    /// Why it failed, expected against actual.
    pub error: String,
    /// How many attempts it made.
    pub attempts: u32,
}

/// What the operator chose to do about a failed step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureChoice {
    /// Fixed something; run the step again.
    Retry,
    /// Did it by hand; count the step as done.
    ByHand,
    /// Leave it; go on with the next step.
    Skip,
    /// Stop the drill (cleanup still runs).
    Abort,
}

/// The operator's answer to a failure.
#[derive(Debug, Clone)]
pub struct FailureAnswer {
    /// What the person chose.
    pub choice: FailureChoice,
    /// Who answered.
    pub operator: String,
    /// What they did, in their words.
    pub note: Option<String>,
    /// Who helped, when someone did.
    pub helped_by: Option<String>,
}

/// Someone (or something) that answers for the person running the drill.
/// Both calls block: the executor runs them off the async workers.
pub trait Operator: Send + Sync {
    /// How a manual step went.
    fn manual(&self, request: &ManualRequest) -> ManualAnswer;

    /// What to do about a failed step; `None` lets the failure stand
    /// (unattended runs without an answer for it).
    fn on_failure(&self, request: &FailureRequest) -> Option<FailureAnswer>;
}

/// What unattended runs do at manual steps (`--manual`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ManualPolicy {
    /// Record the step as skipped.
    Skip,
    /// Fail the step.
    Fail,
    /// Record the step as done.
    Done,
}

/// Answers without a person: from an answers file, then by `--manual`,
/// else fails the manual step with a message that says how to answer.
pub struct Unattended {
    /// The operator's name, for the record.
    pub name: String,
    /// `--manual`: what to do at manual steps no answer covers.
    pub policy: Option<ManualPolicy>,
    /// `--answers`: scripted answers by step name.
    pub answers: Answers,
}

impl Operator for Unattended {
    fn manual(&self, request: &ManualRequest) -> ManualAnswer {
        if let Some(answer) = self.answers.manual(&request.step, &self.name) {
            return answer;
        }
        let result = match self.policy {
            Some(ManualPolicy::Done) => ManualResult::Done,
            Some(ManualPolicy::Skip) => ManualResult::Skipped("skipped by --manual skip".into()),
            Some(ManualPolicy::Fail) => ManualResult::Failed("failed by --manual fail".into()),
            None => ManualResult::Failed(
                "this manual step needs a person, and the run is not on a terminal: \
                 pass --manual done|skip|fail or --answers FILE"
                    .into(),
            ),
        };
        ManualAnswer {
            result,
            operator: self.name.clone(),
            note: match self.policy {
                Some(ManualPolicy::Done) => Some("marked done by --manual done".into()),
                _ => None,
            },
            helped_by: None,
        }
    }

    fn on_failure(&self, request: &FailureRequest) -> Option<FailureAnswer> {
        self.answers.on_failure(&request.step, &self.name)
    }
}

/// Asks on the terminal: questions on stderr, answers from stdin. An answers
/// file, when given, answers first.
pub struct TerminalOperator {
    /// The operator's name, for the record.
    pub name: String,
    /// `--answers`: answers that come before asking.
    pub answers: Answers,
}

// `ask` and `say` are methods so every use reads as the operator speaking.
#[allow(clippy::unused_self)]
impl TerminalOperator {
    fn ask(&self, question: &str) -> Option<String> {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{question}");
        let _ = err.flush();
        drop(err);
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim().to_string()),
        }
    }

    fn say(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}", redact(text));
    }

    fn note(&self) -> Option<String> {
        self.ask("   Note for the runbook (what was missing? Enter for none): ")
            .filter(|n| !n.is_empty())
    }
}

impl Operator for TerminalOperator {
    fn manual(&self, request: &ManualRequest) -> ManualAnswer {
        if let Some(answer) = self.answers.manual(&request.step, &self.name) {
            return answer;
        }
        let mut facts = Vec::new();
        if let Some(owner) = &request.owner {
            facts.push(format!("owner {owner}"));
        }
        if let Some(budget) = request.budget {
            facts.push(format!("budget {}", humantime::format_duration(budget)));
        }
        let facts = if facts.is_empty() {
            String::new()
        } else {
            format!(" ({})", facts.join(", "))
        };
        self.say(&format!("\n── manual step: {}{facts}", request.step));
        for line in request.instructions.lines() {
            self.say(&format!("   {line}"));
        }
        let answer = loop {
            let Some(reply) = self.ask(
                "   How did it go? [d] done unaided, [h] done with help, [n] could not do it: ",
            ) else {
                break None;
            };
            match reply.to_ascii_lowercase().as_str() {
                "d" | "done" | "" => break Some(ManualResult::Done),
                "h" | "help" | "helped" => break Some(ManualResult::Helped),
                "n" | "no" | "failed" => {
                    break Some(ManualResult::Failed("the operator could not do it".into()));
                }
                _ => self.say("   Please answer d, h or n."),
            }
        };
        let Some(result) = answer else {
            return ManualAnswer {
                result: ManualResult::Failed("no answer: standard input closed".into()),
                operator: self.name.clone(),
                note: None,
                helped_by: None,
            };
        };
        let helped_by = if result == ManualResult::Helped {
            self.ask("   Who helped? ").filter(|h| !h.is_empty())
        } else {
            None
        };
        ManualAnswer {
            result,
            operator: self.name.clone(),
            note: self.note(),
            helped_by,
        }
    }

    fn on_failure(&self, request: &FailureRequest) -> Option<FailureAnswer> {
        if let Some(answer) = self.answers.on_failure(&request.step, &self.name) {
            return Some(answer);
        }
        self.say(&format!(
            "\n── step failed: {} (after {} attempt{})",
            request.step,
            request.attempts,
            if request.attempts == 1 { "" } else { "s" }
        ));
        self.say(&format!("   {}", request.error));
        let choice = loop {
            let reply = self.ask(
                "   What now? [r] retry (I fixed something), [b] I did it by hand, [s] skip it, [a] abort the drill: ",
            )?;
            match reply.to_ascii_lowercase().as_str() {
                "r" | "retry" => break FailureChoice::Retry,
                "b" | "by hand" | "hand" => break FailureChoice::ByHand,
                "s" | "skip" => break FailureChoice::Skip,
                "a" | "abort" => break FailureChoice::Abort,
                _ => self.say("   Please answer r, b, s or a."),
            }
        };
        let helped_by = if matches!(choice, FailureChoice::Retry | FailureChoice::ByHand) {
            self.ask("   Did someone help? (their name, or Enter): ")
                .filter(|h| !h.is_empty())
        } else {
            None
        };
        Some(FailureAnswer {
            choice,
            operator: self.name.clone(),
            note: self.note(),
            helped_by,
        })
    }
}

/// One entry of an answers file, keyed by step name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    /// For a manual step: done, helped or failed.
    #[serde(default)]
    pub result: Option<ScriptedResult>,
    /// For a failed step: retry, `by_hand`, skip or abort.
    #[serde(default)]
    pub on_failure: Option<FailureChoice>,
    #[serde(default)]
    /// What the person would have written.
    pub note: Option<String>,
    #[serde(default)]
    /// Who helped, for `helped` answers.
    pub helped_by: Option<String>,
    /// Who answered; the run's operator when absent.
    #[serde(default)]
    pub operator: Option<String>,
}

/// A scripted manual result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScriptedResult {
    /// Done unaided.
    Done,
    /// Done with help.
    Helped,
    /// Could not be done.
    Failed,
}

/// An answers file (`--answers FILE`): scripts the operator for CI and
/// tests. A failure answer is used once per step, so a scripted retry that
/// fails again lets the failure stand instead of looping.
#[derive(Debug, Default)]
pub struct Answers {
    by_step: HashMap<String, Answer>,
    used_failures: Mutex<Vec<String>>,
}

impl Answers {
    /// Reads an answers file and checks every key names a step of the drill.
    pub fn load(path: &Path, step_names: &[String]) -> Result<Self, Diagnostics> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            Diagnostics::new(
                path,
                "".into(),
                vec![Diagnostic::whole_file(format!(
                    "cannot read the answers file: {err}"
                ))],
            )
        })?;
        let parsed: HashMap<String, Spanned<Answer>> = crate::drill::parse::parse_any(&text)
            .map_err(|d| Diagnostics::new(path, text.as_str().into(), vec![d]))?;
        let names: Vec<&str> = step_names.iter().map(String::as_str).collect();
        let mut problems = Vec::new();
        for (name, answer) in &parsed {
            if !step_names.contains(name) {
                let mut d =
                    Diagnostic::new(answer.referenced, format!("no step is named `{name}`"))
                        .at_key(name.clone());
                d.help = Some(match did_you_mean(name, &names) {
                    Some(meant) => format!("did you mean `{meant}`?"),
                    None => "answers are keyed by step name".into(),
                });
                problems.push(d);
            }
            if answer.value.result.is_none() && answer.value.on_failure.is_none() {
                problems.push(
                    Diagnostic::new(answer.referenced, format!("the answer for `{name}` says nothing"))
                        .with_help("give `result: done|helped|failed` for a manual step, or `on_failure: retry|by_hand|skip|abort`"),
                );
            }
        }
        if !problems.is_empty() {
            return Err(Diagnostics::new(path, text.as_str().into(), problems));
        }
        Ok(Answers {
            by_step: parsed.into_iter().map(|(k, v)| (k, v.value)).collect(),
            used_failures: Mutex::new(Vec::new()),
        })
    }

    fn manual(&self, step: &str, operator: &str) -> Option<ManualAnswer> {
        let answer = self.by_step.get(step)?;
        let result = match answer.result? {
            ScriptedResult::Done => ManualResult::Done,
            ScriptedResult::Helped => ManualResult::Helped,
            ScriptedResult::Failed => ManualResult::Failed(
                answer
                    .note
                    .clone()
                    .unwrap_or_else(|| "the operator could not do it".into()),
            ),
        };
        Some(ManualAnswer {
            result,
            operator: answer
                .operator
                .clone()
                .unwrap_or_else(|| operator.to_string()),
            note: answer.note.clone(),
            helped_by: answer.helped_by.clone(),
        })
    }

    fn on_failure(&self, step: &str, operator: &str) -> Option<FailureAnswer> {
        let answer = self.by_step.get(step)?;
        let choice = answer.on_failure?;
        let mut used = self.used_failures.lock().ok()?;
        if used.iter().any(|s| s == step) {
            return None;
        }
        used.push(step.to_string());
        Some(FailureAnswer {
            choice,
            operator: answer
                .operator
                .clone()
                .unwrap_or_else(|| operator.to_string()),
            note: answer.note.clone(),
            helped_by: answer.helped_by.clone(),
        })
    }
}

/// The login name, for `--operator`'s default.
pub fn login_name() -> String {
    ["FIREDRILL_OPERATOR", "USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}
