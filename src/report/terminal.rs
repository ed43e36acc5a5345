//! What a person watching the run sees: a spinner per step on a terminal,
//! plain lines otherwise, and the closing summary.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::after_run::AfterRun;
use super::journal::Journal;
use crate::kind::StepKind;
use crate::record::format::duration_ms;
use crate::record::{Outcome, Phase, RunOutcome, RunRecord, StepRecord};
use crate::redact::redact;
use crate::run::event::{Event, Observer};

/// Live progress on stdout.
pub(crate) struct Progress {
    /// A spinner for the running step, when stdout is a terminal.
    spinner: Option<Mutex<Option<ProgressBar>>>,
    /// Inside a parallel group: its sub-steps count on one bar instead of
    /// a line each.
    in_group: std::sync::atomic::AtomicBool,
}

impl Progress {
    /// `interactive`: draw spinners (stdout is a terminal).
    pub(crate) fn new(interactive: bool) -> Self {
        Progress {
            spinner: interactive.then(|| Mutex::new(None)),
            in_group: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn print(&self, line: &str) {
        let line = redact(line);
        if let Some(slot) = &self.spinner {
            if let Ok(guard) = slot.lock() {
                if let Some(bar) = guard.as_ref() {
                    bar.println(line.as_ref());
                    return;
                }
            }
        }
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    fn clear_spinner(&self) {
        if let Some(slot) = &self.spinner {
            if let Ok(mut guard) = slot.lock() {
                if let Some(bar) = guard.take() {
                    bar.finish_and_clear();
                }
            }
        }
    }

    /// A parallel group: one bar counting its sub-steps.
    fn group_started(&self, name: &str, steps: usize) {
        self.in_group
            .store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(slot) = &self.spinner {
            let bar =
                ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stdout());
            let style = ProgressStyle::with_template(
                "  {spinner} {msg} [{bar:30}] {pos}/{len} {elapsed:.dim}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style.progress_chars("=> "));
            bar.set_message(name.to_string());
            bar.enable_steady_tick(Duration::from_millis(100));
            if let Ok(mut guard) = slot.lock() {
                if let Some(old) = guard.replace(bar) {
                    old.finish_and_clear();
                }
            }
        }
    }

    /// A spinner for the step, when stdout is a terminal.
    fn step_started(&self, name: &str, kind: &str) {
        if let Some(slot) = &self.spinner {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout());
            let style = ProgressStyle::with_template("  {spinner} {msg} {elapsed:.dim}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.set_message(format!("{name} ({kind})"));
            bar.enable_steady_tick(Duration::from_millis(100));
            if let Ok(mut guard) = slot.lock() {
                if let Some(old) = guard.replace(bar) {
                    old.finish_and_clear();
                }
            }
        }
    }

    /// The spinner says the attempt failed and when the next one starts.
    fn attempt_failed(&self, name: &str, attempt: u32, error: &str, retry_in: Duration) {
        if let Some(slot) = &self.spinner {
            if let Ok(guard) = slot.lock() {
                if let Some(bar) = guard.as_ref() {
                    bar.set_message(
                        redact(&format!(
                            "{name} — attempt {attempt} failed, retrying in {}: {}",
                            humantime::format_duration(retry_in),
                            crate::steps::excerpt(error, 80)
                        ))
                        .into_owned(),
                    );
                }
            }
        }
    }
}

impl Observer for Progress {
    fn on_event(&self, event: &Event<'_>) {
        match event {
            Event::RunStarted {
                drill,
                run_id,
                steps,
                cleanup,
                ..
            } => {
                let cleanup = if *cleanup > 0 {
                    format!(" + {cleanup} cleanup")
                } else {
                    String::new()
                };
                self.print(&format!(
                    "▶ {drill} · run {run_id} · {steps} steps{cleanup}"
                ));
            }
            Event::GroupStarted { name, steps } => self.group_started(name, *steps),
            Event::StepStarted { .. }
                if self.in_group.load(std::sync::atomic::Ordering::Relaxed) => {}
            Event::AttemptFailed { .. }
                if self.in_group.load(std::sync::atomic::Ordering::Relaxed) => {}
            Event::StepFinished { step } if step.parent.is_some() => {
                if let Some(slot) = &self.spinner {
                    if let Ok(guard) = slot.lock() {
                        if let Some(bar) = guard.as_ref() {
                            bar.inc(1);
                        }
                    }
                }
            }
            Event::StepStarted { name, kind, .. } => self.step_started(name, kind.as_str()),
            Event::AttemptFailed {
                name,
                attempt,
                error,
                retry_in,
            } => self.attempt_failed(name, *attempt, error, *retry_in),
            Event::WaitingForOperator { .. } => self.clear_spinner(),
            Event::OperatorAnswered { .. } => {}
            Event::CleanupStarted { interrupted } => {
                self.clear_spinner();
                let why = if *interrupted {
                    " (after an interrupt)"
                } else {
                    ""
                };
                self.print(&format!("▶ cleanup{why}"));
            }
            Event::StepFinished { step } => {
                self.in_group
                    .store(false, std::sync::atomic::Ordering::Relaxed);
                self.clear_spinner();
                self.print(&step_line(step));
            }
            Event::RunFinished { .. } => self.clear_spinner(),
            Event::Warning { .. } => {}
        }
    }
}

/// Warnings about the run (certificate checks off) on stderr, before it
/// starts.
pub(crate) struct Warnings;

impl Observer for Warnings {
    fn on_event(&self, event: &Event<'_>) {
        if let Event::Warning { message } = event {
            eprintln!("warning: {message}");
        }
    }
}

/// The closing table on stdout, with the comparison with the baseline,
/// once [`AfterRun`] has judged the run (it must observe first).
pub(crate) struct Summary {
    journal: Arc<Journal>,
    after_run: Arc<AfterRun>,
}

impl Summary {
    /// `journal` writes the record (it must observe first).
    pub(crate) fn new(journal: Arc<Journal>, after_run: Arc<AfterRun>) -> Self {
        Summary { journal, after_run }
    }

    /// Where the record is, or why it is not.
    fn record_lines(&self) -> String {
        let paths = self.journal.paths();
        if !self.journal.written() {
            return format!(
                "record: not written (see the error below); journal: {}\n",
                paths.journal().display()
            );
        }
        let mut out = format!("record: {}\n", paths.record.display());
        if let Some(copy) = &paths.store_copy {
            out.push_str(&format!("stored: {}\n", copy.display()));
        }
        out
    }
}

impl Observer for Summary {
    fn on_event(&self, event: &Event<'_>) {
        let Event::RunFinished { record } = event else {
            return;
        };
        self.after_run.with_verdict(|verdict| {
            let record = verdict.failed_record.as_ref().unwrap_or(record);
            print!(
                "{}{}{}",
                summary(record, None),
                self.record_lines(),
                super::history::comparison(&verdict.comparison)
            );
        });
    }
}

/// What people did: planned manual steps, unplanned interventions, and
/// their notes — where the runbook needed knowledge it does not contain.
pub(crate) fn people(record: &RunRecord) -> String {
    use crate::record::InterventionKind;
    let acted: Vec<&StepRecord> = record
        .steps
        .iter()
        .filter(|s| s.intervention.is_some())
        .collect();
    if acted.is_empty() {
        return String::new();
    }
    let planned = acted
        .iter()
        .filter(|s| {
            s.intervention
                .as_ref()
                .is_some_and(|i| i.kind == InterventionKind::ManualStep)
        })
        .count();
    let unplanned = acted.len() - planned;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut out = format!(
        "{} · {}\n",
        plural(planned, "planned manual step"),
        plural(unplanned, "unplanned intervention")
    );
    let noted: Vec<String> = acted
        .iter()
        .filter_map(|step| {
            let i = step.intervention.as_ref()?;
            if i.note.is_none() && !i.needed_help {
                return None;
            }
            let what = match i.kind {
                InterventionKind::ManualStep => "done",
                InterventionKind::RetriedAfterFix => "fixed and retried",
                InterventionKind::DoneByHand => "failed, then done by hand",
                InterventionKind::Skipped => "failed, then skipped",
            };
            let help = i.helped_by.as_deref().map_or_else(
                || {
                    if i.needed_help {
                        ", with help".into()
                    } else {
                        String::new()
                    }
                },
                |h| format!(", helped by {h}"),
            );
            let note = i
                .note
                .as_deref()
                .map(|n| format!(": \"{n}\""))
                .unwrap_or_default();
            Some(format!(
                "  - {} — {what} by {}{help}{note}\n",
                step.name, i.operator
            ))
        })
        .collect();
    if !noted.is_empty() {
        out.push_str("Where the runbook needed knowledge it does not contain:\n");
        for line in noted {
            out.push_str(&line);
        }
    }
    out
}

/// The symbol shown for an outcome.
pub(crate) fn symbol(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "✓",
        Outcome::Failed => "✗",
        Outcome::TimedOut => "⏱",
        Outcome::Skipped => "–",
        Outcome::Cancelled => "⊘",
        Outcome::ManualDone => "✓",
        Outcome::Intervened => "!",
    }
}

fn step_line(step: &StepRecord) -> String {
    let mut line = format!(
        "  {} {:<10} {:<32} {:>8}",
        symbol(step.outcome),
        step.outcome.label(),
        step.name,
        duration_ms(step.duration_ms)
    );
    if step.attempts > 1 {
        line.push_str(&format!("  ({} attempts)", step.attempts));
    }
    if step.over_budget {
        line.push_str(&format!(
            "  over budget {}",
            duration_ms(step.budget_ms.unwrap_or(0))
        ));
    }
    if let Some(error) = &step.error {
        line.push_str(&format!("\n      {error}"));
    }
    if let (Some(_), Some(source)) = (&step.error, &step.source) {
        line.push_str(&format!("\n      --> {source}"));
    }
    line
}

/// The closing table: step, outcome, duration, budget, flags; then totals,
/// the reasons for a failure and where the record is.
pub(crate) fn summary(record: &RunRecord, record_path: Option<&Path>) -> String {
    let mut out = String::from("\n");
    out.push_str(&aligned(&summary_rows(record)));
    out.push_str(&totals(record));
    for warning in &record.warnings {
        out.push_str(&format!("  warning: {warning}\n"));
    }
    for reason in &record.reasons {
        out.push_str(&format!("  - {reason}\n"));
    }
    out.push_str(&people(record));
    if let Some(path) = record_path {
        out.push_str(&format!("record: {}\n", path.display()));
    }
    redact(&out).into_owned()
}

/// A header, then a row per step. Sub-steps of parallel groups are summed
/// up on their group's row; only the first failing ones get rows of their
/// own.
fn summary_rows(record: &RunRecord) -> Vec<[String; 5]> {
    let mut rows = vec![[
        "STEP".to_string(),
        "OUTCOME".to_string(),
        "DURATION".to_string(),
        "BUDGET".to_string(),
        "FLAGS".to_string(),
    ]];
    let mut failed_children = 0;
    for step in &record.steps {
        if step.parent.is_some() {
            if !step.outcome.is_failure() || failed_children >= 5 {
                continue;
            }
            failed_children += 1;
        }
        let name = match step.phase {
            Phase::Steps => step.name.clone(),
            Phase::Cleanup => format!("{} (cleanup)", step.name),
        };
        rows.push([
            name,
            step.outcome.label().to_string(),
            if step.started_at.is_some() {
                duration_ms(step.duration_ms)
            } else {
                "-".to_string()
            },
            step.budget_ms.map(duration_ms).unwrap_or_default(),
            flags(record, step).join(", "),
        ]);
    }
    rows
}

/// What stands out about a step: a group's spread, overruns, retries,
/// human time, help.
fn flags(record: &RunRecord, step: &StepRecord) -> Vec<String> {
    let mut flags = Vec::new();
    if step.kind == StepKind::Parallel {
        flags.extend(group_spread(record, &step.name));
    }
    if step.over_budget {
        flags.push("over budget".to_string());
    }
    if step.attempts > 1 {
        flags.push(format!("{} attempts", step.attempts));
    }
    if step.human_ms > 0 {
        flags.push(format!("human {}", duration_ms(step.human_ms)));
    }
    if let Some(i) = &step.intervention {
        if i.needed_help {
            flags.push(match &i.helped_by {
                Some(by) => format!("helped by {by}"),
                None => "needed help".to_string(),
            });
        }
    }
    flags
}

/// How a group's sub-steps that ran spread out: count, median, slowest.
fn group_spread(record: &RunRecord, group: &str) -> Option<String> {
    let mut times: Vec<u64> = record
        .steps
        .iter()
        .filter(|c| c.parent.as_deref() == Some(group) && c.started_at.is_some())
        .map(|c| c.duration_ms)
        .collect();
    times.sort_unstable();
    let max = times.last()?;
    let p50 = times[times.len() / 2];
    Some(format!(
        "{} sub-steps, p50 {}, max {}",
        times.len(),
        duration_ms(p50),
        duration_ms(*max)
    ))
}

/// The rows as columns: text left, durations right.
fn aligned(rows: &[[String; 5]]) -> String {
    let widths: Vec<usize> = (0..5)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let line = format!(
            "{:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The verdict line: outcome, machine, human and total time, budget.
fn totals(record: &RunRecord) -> String {
    let verdict = match record.outcome {
        RunOutcome::Passed => "PASSED",
        RunOutcome::Failed => "FAILED",
        RunOutcome::Interrupted => "INTERRUPTED",
        RunOutcome::Crashed => "CRASHED (incomplete: rebuilt from the journal)",
        RunOutcome::Running => "RUNNING (the steps so far, read from the journal)",
    };
    let budget = match record.budget_ms {
        Some(b) if record.over_budget => format!(" (over its budget of {})", duration_ms(b)),
        Some(b) => format!(" (budget {})", duration_ms(b)),
        None => String::new(),
    };
    format!(
        "\n{verdict} · machine {} · human {} · total {}{budget}\n",
        duration_ms(record.machine_ms()),
        duration_ms(record.human_ms),
        duration_ms(record.duration_ms),
    )
}
