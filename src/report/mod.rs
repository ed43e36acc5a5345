//! The run record and what renders it: the terminal, the journal on disk,
//! and logs.

pub mod journal;
pub mod record;
pub mod terminal;

use crate::run::event::{Event, Observer};

/// Sends every event to `tracing`, for `RUST_LOG=firedrill=debug`.
pub struct LogObserver;

impl Observer for LogObserver {
    fn on_event(&self, event: &Event<'_>) {
        match event {
            Event::RunStarted { drill, run_id, .. } => tracing::info!(drill, run_id, "run started"),
            Event::StepStarted { name, kind, .. } => {
                tracing::debug!(step = name, kind, "step started")
            }
            Event::AttemptFailed {
                name,
                attempt,
                error,
                ..
            } => {
                tracing::debug!(step = name, attempt, error, "attempt failed")
            }
            Event::WaitingForOperator { name } => {
                tracing::debug!(step = name, "waiting for the operator")
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

/// Lays out rows as aligned columns (two spaces apart); `right[i]` aligns
/// column `i` to the right. The first row is the header.
pub fn table(rows: &[Vec<String>], right: &[bool]) -> String {
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
