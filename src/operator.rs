//! How a person is asked: a terminal prompt when there is one, a policy or
//! an answers file when there is not. Unattended runs never wait.

use std::io::{BufRead, Write};
use std::time::Duration;

use crate::redact::redact;

/// What the executor asks at a manual step.
#[derive(Debug, Clone)]
pub struct ManualRequest {
    pub step: String,
    pub instructions: String,
    pub owner: Option<String>,
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

/// The operator's answer.
#[derive(Debug, Clone)]
pub struct ManualAnswer {
    pub result: ManualResult,
    pub operator: String,
    pub note: Option<String>,
    pub helped_by: Option<String>,
}

impl ManualAnswer {
    pub fn failed(reason: impl Into<String>) -> Self {
        ManualAnswer {
            result: ManualResult::Failed(reason.into()),
            operator: String::new(),
            note: None,
            helped_by: None,
        }
    }
}

/// Someone (or something) that answers for the person running the drill.
pub trait Operator: Send + Sync {
    /// Asks about a manual step; blocks until answered.
    fn manual(&self, request: &ManualRequest) -> ManualAnswer;
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

/// Answers without a person: by `--manual`, or fails with a message that
/// says how to answer.
pub struct Unattended {
    pub name: String,
    pub policy: Option<ManualPolicy>,
}

impl Operator for Unattended {
    fn manual(&self, _request: &ManualRequest) -> ManualAnswer {
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
}

/// Asks on the terminal: the instructions on stderr, the answer from stdin.
pub struct TerminalOperator {
    pub name: String,
}

impl Operator for TerminalOperator {
    fn manual(&self, request: &ManualRequest) -> ManualAnswer {
        let mut err = std::io::stderr().lock();
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
        let _ = writeln!(err, "\n── manual step: {}{facts}", request.step);
        for line in request.instructions.lines() {
            let _ = writeln!(err, "   {}", redact(line));
        }
        let _ = write!(
            err,
            "   Press Enter when it is done, or type n and Enter if you could not do it: "
        );
        let _ = err.flush();
        drop(err);
        let mut line = String::new();
        let read = std::io::stdin().lock().read_line(&mut line);
        let result = match read {
            Ok(0) | Err(_) => ManualResult::Failed("no answer: standard input closed".into()),
            Ok(_) if line.trim().eq_ignore_ascii_case("n") => {
                ManualResult::Failed("the operator could not do it".into())
            }
            Ok(_) => ManualResult::Done,
        };
        ManualAnswer {
            result,
            operator: self.name.clone(),
            note: None,
            helped_by: None,
        }
    }
}

/// The login name, for `--operator`'s default.
pub fn login_name() -> String {
    ["FIREDRILL_OPERATOR", "USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}
