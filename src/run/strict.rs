//! Why a run fails, in words: failed steps always, and with `--strict` the
//! new-engineer test — no interventions, no help, no overruns.

use std::time::Duration;

use crate::kind::StepKind;
use crate::record::{InterventionKind, Outcome, Phase, RunRecord, StepRecord};

/// Why a run fails, in words; empty when it passes. `strict` adds the
/// new-engineer test: no interventions, no help, no overruns.
pub(crate) fn failure_reasons(record: &RunRecord, strict: bool) -> Vec<String> {
    let mut reasons = Vec::new();
    for step in &record.steps {
        let phase = match step.phase {
            Phase::Steps => "step",
            Phase::Cleanup => "cleanup step",
        };
        if step.outcome.is_failure() {
            reasons.push(format!(
                "{phase} `{}` {}: {}",
                step.name,
                step.outcome.label(),
                step.error.as_deref().unwrap_or("no detail")
            ));
        }
        if strict {
            strict_step_reasons(step, phase, &mut reasons);
        }
    }
    if strict && record.over_budget {
        reasons.push(format!(
            "--strict: the drill went over its budget ({} > {})",
            show_ms(record.duration_ms),
            show_ms(record.budget_ms.unwrap_or(0))
        ));
    }
    reasons
}

/// What `--strict` holds against one step.
fn strict_step_reasons(step: &StepRecord, phase: &str, reasons: &mut Vec<String>) {
    let unplanned = step
        .intervention
        .as_ref()
        .is_some_and(|i| i.kind != InterventionKind::ManualStep);
    if step.outcome == Outcome::Intervened || unplanned {
        reasons.push(format!(
            "--strict: {phase} `{}` needed an intervention",
            step.name
        ));
    }
    if let Some(i) = &step.intervention {
        if i.needed_help {
            let by = i
                .helped_by
                .as_deref()
                .map(|h| format!(" from {h}"))
                .unwrap_or_default();
            reasons.push(format!("--strict: {phase} `{}` needed help{by}", step.name));
        }
    }
    if step.outcome == Outcome::Skipped && step.kind == StepKind::Manual {
        reasons.push(format!(
            "--strict: manual step `{}` was not done",
            step.name
        ));
    }
    if step.over_budget {
        reasons.push(format!(
            "--strict: {phase} `{}` went over its budget ({} > {})",
            step.name,
            show_ms(step.duration_ms),
            show_ms(step.budget_ms.unwrap_or(0))
        ));
    }
}

fn show_ms(ms: u64) -> String {
    humantime::format_duration(Duration::from_millis(ms)).to_string()
}
