//! `JUnit` XML, so CI systems show a drill in their test tab: one test suite
//! per run, one test case per step.
//!
//! Failed and timed-out steps are failures carrying the error (which says
//! what was expected and what came back); skipped and cancelled steps are
//! skipped; manual steps and interventions are properties and system-out
//! text, since they pass but a reader must see them. When the run fails for
//! a reason no step case shows (`--strict`, a regression, an interrupt, a
//! crash), one more case, [`VERDICT_CASE`], fails with that reason, so the
//! test tab is red exactly when the exit code is.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::{describe_intervention, intervention_kind, outcome_key};
use crate::record::format::duration_ms;
use crate::record::{Outcome, Phase, RunOutcome, RunRecord, StepRecord};

/// The name of the case that carries run-level failure reasons.
pub(crate) const VERDICT_CASE: &str = "drill outcome";

/// Renders a run as `JUnit` XML.
pub(crate) fn render(record: &RunRecord) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new("firedrill");
    report.set_time(Duration::from_millis(record.duration_ms));
    let mut suite = TestSuite::new(record.drill.as_str());
    suite.set_time(Duration::from_millis(record.duration_ms));
    if valid_timestamp(&record.started_at) {
        suite
            .extra
            .insert("timestamp".into(), record.started_at.as_str().into());
    }
    let mut properties = vec![
        Property::new("run_id", record.run_id.as_str()),
        Property::new("outcome", record.outcome.label()),
        Property::new("machine_ms", record.machine_ms().to_string()),
        Property::new("human_ms", record.human_ms.to_string()),
    ];
    for (name, value) in [
        ("operator", record.operator.as_str()),
        ("drill_file", record.drill_file.as_str()),
        ("firedrill_version", record.firedrill_version.as_str()),
    ] {
        if !value.is_empty() {
            properties.push(Property::new(name, value));
        }
    }
    if let Some(budget) = record.budget_ms {
        properties.push(Property::new("budget_ms", budget.to_string()));
        properties.push(Property::new("over_budget", record.over_budget.to_string()));
    }
    suite.add_properties(properties);

    for step in &record.steps {
        suite.add_test_case(step_case(record, step));
    }
    if let Some(verdict) = verdict_case(record) {
        suite.add_test_case(verdict);
    }
    suite.set_system_out(super::terminal::summary(record, None));
    report.add_test_suite(suite);
    report.to_string()
}

fn step_case(record: &RunRecord, step: &StepRecord) -> TestCase {
    let error = step.error.as_deref().unwrap_or("");
    let status = match step.outcome {
        Outcome::Failed | Outcome::TimedOut => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_type(outcome_key(step.outcome))
                .set_message(first_line(error, step.outcome.label()))
                .set_description(format!(
                    "{error}\nattempts: {}\nduration: {}",
                    step.attempts,
                    duration_ms(step.duration_ms)
                ));
            status
        }
        Outcome::Skipped | Outcome::Cancelled => {
            let mut status = TestCaseStatus::skipped();
            status
                .set_type(outcome_key(step.outcome))
                .set_message(first_line(error, step.outcome.label()));
            status
        }
        Outcome::Passed | Outcome::ManualDone | Outcome::Intervened => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(step.name.as_str(), status);
    case.set_classname(record.drill.as_str());
    case.set_time(if step.duration_us > 0 {
        Duration::from_micros(step.duration_us)
    } else {
        Duration::from_millis(step.duration_ms)
    });
    if let Some(at) = step.started_at.as_deref().filter(|t| valid_timestamp(t)) {
        case.extra.insert("timestamp".into(), at.into());
    }
    let mut properties = vec![
        Property::new("phase", phase_key(step.phase)),
        Property::new("kind", step.kind.as_str()),
        Property::new("outcome", outcome_key(step.outcome)),
        Property::new("attempts", step.attempts.to_string()),
        Property::new("machine_ms", step.machine_ms().to_string()),
        Property::new("human_ms", step.human_ms.to_string()),
    ];
    if let Some(budget) = step.budget_ms {
        properties.push(Property::new("budget_ms", budget.to_string()));
        properties.push(Property::new("over_budget", step.over_budget.to_string()));
    }
    if let Some(owner) = &step.owner {
        properties.push(Property::new("owner", owner.as_str()));
    }
    if step.kind == crate::kind::StepKind::Manual {
        properties.push(Property::new("manual", "true"));
    }
    if let Some(i) = &step.intervention {
        properties.push(Property::new("intervention", intervention_kind(i.kind)));
        properties.push(Property::new(
            "intervention.planned",
            (i.kind == crate::record::InterventionKind::ManualStep).to_string(),
        ));
        if !i.operator.is_empty() {
            properties.push(Property::new("intervention.operator", i.operator.as_str()));
        }
        properties.push(Property::new(
            "intervention.needed_help",
            i.needed_help.to_string(),
        ));
        if let Some(by) = &i.helped_by {
            properties.push(Property::new("intervention.helped_by", by.as_str()));
        }
        if let Some(note) = &i.note {
            properties.push(Property::new("intervention.note", note.as_str()));
        }
    }
    case.add_properties(properties);
    case.set_system_out(step_text(step));
    case
}

/// What a reader of the CI log wants to know about a step, in lines.
fn step_text(step: &StepRecord) -> String {
    let mut lines = vec![format!(
        "{} {} step `{}`: {}",
        super::terminal::symbol(step.outcome),
        step.kind,
        step.name,
        step.outcome.label()
    )];
    if step.started_at.is_some() {
        lines.push(format!(
            "duration: {} (machine {}, human {})",
            duration_ms(step.duration_ms),
            duration_ms(step.machine_ms()),
            duration_ms(step.human_ms)
        ));
    }
    if step.attempts > 1 {
        lines.push(format!("attempts: {}", step.attempts));
    }
    if let Some(budget) = step.budget_ms {
        lines.push(format!(
            "budget: {}{}",
            duration_ms(budget),
            if step.over_budget {
                " — OVER BUDGET"
            } else {
                ""
            }
        ));
    }
    if let Some(owner) = &step.owner {
        lines.push(format!("owner: {owner}"));
    }
    if let Some(i) = &step.intervention {
        let label = if i.kind == crate::record::InterventionKind::ManualStep {
            "manual"
        } else {
            "UNPLANNED INTERVENTION"
        };
        lines.push(format!("{label}: {}", describe_intervention(i)));
    }
    if let Some(error) = &step.error {
        lines.push(format!("error: {error}"));
    }
    lines.join("\n") + "\n"
}

/// A failing case for the reasons of a failed run that no step case shows.
fn verdict_case(record: &RunRecord) -> Option<TestCase> {
    if record.outcome == RunOutcome::Passed {
        return None;
    }
    let shown: Vec<String> = record
        .steps
        .iter()
        .filter(|s| s.outcome.is_failure())
        .map(|s| {
            let phase = match s.phase {
                Phase::Steps => "step",
                Phase::Cleanup => "cleanup step",
            };
            format!(
                "{phase} `{}` {}: {}",
                s.name,
                s.outcome.label(),
                s.error.as_deref().unwrap_or("no detail")
            )
        })
        .collect();
    let mut reasons: Vec<&str> = record
        .reasons
        .iter()
        .map(String::as_str)
        .filter(|r| !shown.iter().any(|s| s == r))
        .collect();
    match record.outcome {
        RunOutcome::Failed if reasons.is_empty() => return None,
        RunOutcome::Interrupted => reasons.insert(0, "the run was interrupted"),
        _ => {}
    }
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status
        .set_type(record.outcome.label())
        .set_message(first_line(
            reasons.first().copied().unwrap_or(""),
            record.outcome.label(),
        ))
        .set_description(reasons.join("\n"));
    let mut case = TestCase::new(VERDICT_CASE, status);
    case.set_classname(record.drill.as_str());
    case.set_time(Duration::ZERO);
    Some(case)
}

fn first_line(text: &str, fallback: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        fallback.to_string()
    } else {
        line.to_string()
    }
}

fn phase_key(phase: Phase) -> &'static str {
    match phase {
        Phase::Steps => "steps",
        Phase::Cleanup => "cleanup",
    }
}

/// `JUnit` readers reject a malformed timestamp, so only a real one is
/// written.
fn valid_timestamp(text: &str) -> bool {
    humantime::parse_rfc3339(text).is_ok()
}
