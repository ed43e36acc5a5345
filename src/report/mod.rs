//! The reporters: what turns a run's events and its record into output —
//! the terminal, the journal on disk, logs, and the reports people share
//! (`JUnit`, Markdown, HTML). The record's format itself is `record`'s.
//!
//! Layer: above the executor; it may use `run::event`, `history`,
//! `record`, `kind` and `redact`, and only `cli` imports it.
//!
//! During `run` these are reporters: observers of the executor's events
//! (`run::event`). Warnings, progress, the journal, logs, the after-run
//! reports ([`after_run`]), the closing summary, the GitHub Actions
//! annotations ([`github`]) and the Prometheus metrics ([`metrics`]) each
//! watch the same stream; the executor calls none of them, and `cli` only reads the
//! verdict for the exit code.

pub(crate) mod after_run;
pub(crate) mod github;
pub(crate) mod history;
pub(crate) mod html;
pub(crate) mod journal;
pub(crate) mod junit;
pub(crate) mod markdown;
pub(crate) mod metrics;
pub(crate) mod terminal;
pub(crate) mod trend_html;

use std::path::Path;

use crate::history::Comparison;
use crate::record::files::{describe_run_file, write_atomically};
use crate::record::{Intervention, InterventionKind, Outcome, RunRecord};
use crate::redact::redact;
use crate::run::event::{Event, Observer};

/// What `firedrill report` renders a run as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The closing table of `run`, with the baseline comparison.
    Terminal,
    /// The run record itself (a crashed run's journal, as a record).
    Json,
    /// `JUnit` XML, for the test tab of a CI system.
    Junit,
    /// A summary for a pull-request comment or `$GITHUB_STEP_SUMMARY`.
    Markdown,
    /// One self-contained page with a timeline of the run.
    Html,
}

/// A report that could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RenderError {
    #[error("cannot encode the record as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot write JUnit XML: {0}")]
    Junit(#[from] quick_junit::SerializeError),
    /// Writing the finished report failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Renders a run in one format. `comparison` (the run against its
/// baseline) is shown by the formats made for people. Secrets are masked.
pub(crate) fn render(
    record: &RunRecord,
    format: Format,
    comparison: Option<&Comparison>,
) -> Result<String, RenderError> {
    let text = match format {
        Format::Terminal => {
            let mut text = terminal::summary(record, None);
            if let Some(c) = comparison {
                text.push_str(&history::comparison(c));
            }
            text
        }
        Format::Json => {
            let mut text = serde_json::to_string_pretty(record)?;
            text.push('\n');
            text
        }
        Format::Junit => junit::render(record)?,
        Format::Markdown => markdown::render(record, comparison),
        Format::Html => html::render(record, comparison),
    };
    Ok(redact(&text).into_owned())
}

/// Writes a report: atomically to a file (so CI never picks up half of
/// one), or to stdout for `-`.
pub(crate) fn write_report(path: &Path, text: &str) -> std::io::Result<()> {
    let text = redact(text);
    if path.as_os_str() == "-" {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        return out.flush();
    }
    if let Some(run) = describe_run_file(path) {
        return Err(std::io::Error::other(format!(
            "it is the record of a run ({run}); a report is never written over a run record"
        )));
    }
    write_atomically(path, text.as_bytes())
}

/// Lays out rows as aligned columns (two spaces apart); `right[i]` aligns
/// column `i` to the right. The first row is the header.
pub(crate) fn table(rows: &[Vec<String>], right: &[bool]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |cell| cell.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let pad = widths[c].saturating_sub(cell.chars().count());
            if right.get(c).copied().unwrap_or(false) {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Sends every event to `tracing`, for `RUST_LOG=firedrill=debug`.
pub(crate) struct LogObserver;

impl Observer for LogObserver {
    fn on_event(&self, event: &Event<'_>) {
        match event {
            Event::Warning { message } => tracing::debug!(message, "warning"),
            Event::RunStarted { drill, run_id, .. } => tracing::info!(drill, run_id, "run started"),
            Event::GroupStarted { name, steps } => {
                tracing::debug!(group = name, steps, "parallel group started");
            }
            Event::StepStarted { name, kind, .. } => {
                tracing::debug!(step = name, kind = kind.as_str(), "step started");
            }
            Event::AttemptFailed {
                name,
                attempt,
                error,
                ..
            } => {
                tracing::debug!(step = name, attempt, error, "attempt failed");
            }
            Event::WaitingForOperator { name } => {
                tracing::debug!(step = name, "waiting for the operator");
            }
            Event::OperatorAnswered { name } => tracing::debug!(step = name, "operator answered"),
            Event::StepFinished { step } => tracing::info!(
                step = step.name,
                outcome = step.outcome.label(),
                duration_ms = step.duration_ms,
                attempts = step.attempts,
                "step finished"
            ),
            Event::CleanupStarted { interrupted } => tracing::info!(interrupted, "cleanup started"),
            Event::RunFinished { record } => tracing::info!(
                outcome = ?record.outcome,
                duration_ms = record.duration_ms,
                "run finished"
            ),
        }
    }
}

/// A person's part in a step, in words: `done by hand by dana, helped by
/// lee — "needed the VPN"`.
pub(crate) fn describe_intervention(i: &Intervention) -> String {
    let mut text = intervention_what(i.kind).to_string();
    if !i.operator.is_empty() {
        text.push_str(&format!(" by {}", i.operator));
    }
    match (&i.helped_by, i.needed_help) {
        (Some(by), _) => text.push_str(&format!(", helped by {by}")),
        (None, true) => text.push_str(", needed help"),
        (None, false) => text.push_str(", unaided"),
    }
    if let Some(note) = i.note.as_deref().filter(|n| !n.trim().is_empty()) {
        text.push_str(&format!(" — “{}”", note.trim()));
    }
    text
}

/// What a person did, in a few words.
pub(crate) fn intervention_what(kind: InterventionKind) -> &'static str {
    use InterventionKind as K;
    match kind {
        K::ManualStep => "manual step done",
        K::RetriedAfterFix => "fixed and retried",
        K::DoneByHand => "done by hand",
        K::Skipped => "skipped by the operator",
    }
}

/// The `snake_case` name of an intervention kind, as in the record.
pub(crate) fn intervention_kind(kind: InterventionKind) -> &'static str {
    use InterventionKind as K;
    match kind {
        K::ManualStep => "manual_step",
        K::RetriedAfterFix => "retried_after_fix",
        K::DoneByHand => "done_by_hand",
        K::Skipped => "skipped",
    }
}

/// The `snake_case` name of a step outcome, as in the record.
pub(crate) fn outcome_key(outcome: Outcome) -> &'static str {
    use Outcome as O;
    match outcome {
        O::Passed => "passed",
        O::Failed => "failed",
        O::TimedOut => "timed_out",
        O::Skipped => "skipped",
        O::Cancelled => "cancelled",
        O::ManualDone => "manual_done",
        O::Intervened => "intervened",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::*;

    /// A record holding a secret everywhere a person's or a server's text
    /// can reach: whatever put it there, no report may show it.
    fn leaky(secret: &str) -> RunRecord {
        let step = StepRecord {
            name: format!("Log in as {secret}"),
            kind: crate::kind::StepKind::Http,
            phase: Phase::Steps,
            outcome: Outcome::Intervened,
            started_at: Some("2026-03-12T10:15:00.000Z".into()),
            duration_ms: 1200,
            human_ms: 1000,
            attempts: 2,
            budget_ms: Some(1000),
            over_budget: true,
            owner: Some(secret.into()),
            intervention: Some(Box::new(Intervention {
                kind: InterventionKind::DoneByHand,
                operator: secret.into(),
                note: Some(format!("pasted {secret} by hand")),
                needed_help: true,
                helped_by: Some(secret.into()),
            })),
            error: Some(format!("expected 200, got 401 for token {secret}")),
            duration_us: 1_200_000,
            captures: std::collections::BTreeMap::new(),
            carried_from: None,
            parent: None,
            queued_ms: 0,
            source: None,
            service: None,
        };
        RunRecord {
            schema: SCHEMA,
            drill: "leaky".into(),
            run_id: "20260312-101500-0000".into(),
            outcome: RunOutcome::Failed,
            started_at: "2026-03-12T10:15:00.000Z".into(),
            finished_at: None,
            duration_ms: 1200,
            human_ms: 1000,
            operator: secret.into(),
            docker_version: None,
            docker_versions: std::collections::BTreeMap::default(),
            budget_ms: None,
            over_budget: false,
            drill_file: format!("drills/{secret}.yaml"),
            firedrill_version: "0.1.0".into(),
            reasons: vec![format!("--strict: the token {secret} was seen")],
            resumed_from: None,
            origin_run_id: None,
            warnings: Vec::new(),
            steps: vec![step],
        }
    }

    #[test]
    fn no_format_shows_a_registered_secret() {
        let secret = "s3cret-report-value-42";
        crate::redact::register(secret);
        let record = leaky(secret);
        let baseline = crate::history::Baseline::from_runs(&[&record], "the same run".into());
        let comparison = baseline.compare(&record, crate::history::Threshold(20.0));
        for format in [
            Format::Terminal,
            Format::Json,
            Format::Junit,
            Format::Markdown,
            Format::Html,
        ] {
            let text = render(&record, format, Some(&comparison)).unwrap();
            assert!(
                !text.contains(secret),
                "{format:?} shows the secret:\n{text}"
            );
            assert!(text.contains(crate::redact::MASK), "{format:?} masks it");
        }
    }
}
