//! A Markdown summary of a run, made for a pull-request comment or
//! `$GITHUB_STEP_SUMMARY`: the outcome first, then what a reviewer asks —
//! how long (machine and human), which steps were slow or over budget, where
//! people stepped in and why, and how this run compares with the baseline.

use super::intervention_what;
use crate::history::{Comparison, MIN_REGRESSION_MS};
use crate::record::format::{duration_ms, when};
use crate::record::{InterventionKind, Outcome, Phase, RunOutcome, RunRecord, StepRecord};

/// How many of the slowest steps are listed.
pub(crate) const SLOWEST: usize = 5;

/// Renders a run (and, when given, its comparison with the baseline).
pub(crate) fn render(record: &RunRecord, comparison: Option<&Comparison>) -> String {
    let mut out = String::new();
    header(&mut out, record);
    totals(&mut out, record);
    slowest(&mut out, record, comparison);
    overruns(&mut out, record);
    interventions(&mut out, record);
    if let Some(c) = comparison {
        against_baseline(&mut out, c);
    }
    every_step(&mut out, record);
    out
}

/// The outcome as a title, then who ran what and when.
fn header(out: &mut String, record: &RunRecord) {
    let (icon, word) = match record.outcome {
        RunOutcome::Passed => ("✅", "passed"),
        RunOutcome::Failed => ("❌", "failed"),
        RunOutcome::Interrupted => ("⚠️", "interrupted"),
        RunOutcome::Crashed => ("💥", "crashed (incomplete record)"),
        RunOutcome::Running => ("⏳", "running (the steps so far)"),
    };
    out.push_str(&format!(
        "## {icon} firedrill · {}: {word}\n\n",
        cell(&record.drill)
    ));
    let mut facts = vec![format!("Run `{}`", record.run_id)];
    facts.push(format!("started {} UTC", when(&record.started_at)));
    if !record.operator.is_empty() {
        facts.push(format!("operator **{}**", cell(&record.operator)));
    }
    if !record.drill_file.is_empty() {
        facts.push(format!("drill `{}`", record.drill_file.replace('`', "'")));
    }
    out.push_str(&facts.join(" · "));
    out.push_str("\n\n");
}

/// The totals table, warnings, and why the run failed.
fn totals(out: &mut String, record: &RunRecord) {
    let ran = record
        .steps
        .iter()
        .filter(|s| s.started_at.is_some())
        .count();
    let failed = record
        .steps
        .iter()
        .filter(|s| s.outcome.is_failure())
        .count();
    let unplanned = unplanned(record).count();
    let budget = match record.budget_ms {
        Some(b) if record.over_budget => format!("**{} — over**", duration_ms(b)),
        Some(b) => duration_ms(b),
        None => "–".into(),
    };
    let mut steps_cell = format!("{} ({ran} ran", record.steps.len());
    if failed > 0 {
        steps_cell.push_str(&format!(", **{failed} failed**"));
    }
    steps_cell.push(')');
    out.push_str("| total | machine | human | budget | steps | unplanned interventions |\n");
    out.push_str("| ---: | ---: | ---: | ---: | --- | ---: |\n");
    out.push_str(&format!(
        "| **{}** | {} | {} | {budget} | {steps_cell} | {} |\n\n",
        duration_ms(record.duration_ms),
        duration_ms(record.machine_ms()),
        duration_ms(record.human_ms),
        if unplanned > 0 {
            format!("**{unplanned}**")
        } else {
            "0".into()
        },
    ));
    for warning in &record.warnings {
        out.push_str(&format!("> **Warning:** {}\n\n", cell(warning)));
    }
    if !record.reasons.is_empty() {
        let title = match record.outcome {
            RunOutcome::Passed => "Notes",
            RunOutcome::Crashed | RunOutcome::Running => "Why it is incomplete",
            _ => "Why it failed",
        };
        out.push_str(&format!("**{title}**\n\n"));
        for reason in &record.reasons {
            out.push_str(&format!("- {}\n", cell(reason)));
        }
        out.push('\n');
    }
}

/// The slowest steps, against the baseline when there is one.
fn slowest(out: &mut String, record: &RunRecord, comparison: Option<&Comparison>) {
    let mut slowest: Vec<&StepRecord> = record
        .steps
        .iter()
        .filter(|s| s.started_at.is_some())
        .collect();
    slowest.sort_by_key(|s| std::cmp::Reverse(s.duration_us.max(s.duration_ms * 1000)));
    slowest.truncate(SLOWEST);
    if !slowest.is_empty() {
        out.push_str("### Slowest steps\n\n");
        out.push_str("| step | outcome | duration | human | budget | vs baseline |\n");
        out.push_str("| --- | --- | ---: | ---: | ---: | ---: |\n");
        for step in slowest {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                step_name(step),
                outcome(step.outcome),
                duration_ms(step.duration_ms),
                if step.human_ms > 0 {
                    duration_ms(step.human_ms)
                } else {
                    "–".into()
                },
                step.budget_ms.map_or("–".into(), duration_ms),
                change(comparison, step),
            ));
        }
        out.push('\n');
    }
}

/// The steps (and the drill) that went over their budget.
fn overruns(out: &mut String, record: &RunRecord) {
    let over: Vec<&StepRecord> = record.steps.iter().filter(|s| s.over_budget).collect();
    out.push_str("### Budget overruns\n\n");
    if over.is_empty() && !record.over_budget {
        out.push_str("No step went over its budget.\n\n");
    } else {
        out.push_str("| step | took | budget | over by |\n| --- | ---: | ---: | ---: |\n");
        for step in over {
            let budget = step.budget_ms.unwrap_or(0);
            out.push_str(&format!(
                "| {} | {} | {} | +{} |\n",
                step_name(step),
                duration_ms(step.duration_ms),
                duration_ms(budget),
                duration_ms(step.duration_ms.saturating_sub(budget)),
            ));
        }
        if record.over_budget {
            let budget = record.budget_ms.unwrap_or(0);
            out.push_str(&format!(
                "| **the whole drill** | {} | {} | +{} |\n",
                duration_ms(record.duration_ms),
                duration_ms(budget),
                duration_ms(record.duration_ms.saturating_sub(budget)),
            ));
        }
        out.push('\n');
    }
}

/// Where people stepped in, planned or not, and what they noted.
fn interventions(out: &mut String, record: &RunRecord) {
    let people: Vec<&StepRecord> = record
        .steps
        .iter()
        .filter(|s| s.intervention.is_some())
        .collect();
    out.push_str("### Interventions and manual steps\n\n");
    if people.is_empty() {
        out.push_str("Nobody had to step in.\n\n");
    } else {
        out.push_str("| step | what | operator | help | human time | note |\n");
        out.push_str("| --- | --- | --- | --- | ---: | --- |\n");
        for step in people {
            let Some(i) = &step.intervention else {
                continue;
            };
            let what = match i.kind {
                InterventionKind::ManualStep => "manual step (planned)".to_string(),
                kind => format!("⚠️ **unplanned**: {}", intervention_what(kind)),
            };
            let help = match (&i.helped_by, i.needed_help) {
                (Some(by), _) => format!("**helped by {}**", cell(by)),
                (None, true) => "**needed help**".into(),
                (None, false) => "unaided".into(),
            };
            out.push_str(&format!(
                "| {} | {what} | {} | {help} | {} | {} |\n",
                step_name(step),
                if i.operator.is_empty() {
                    "–".into()
                } else {
                    cell(&i.operator)
                },
                duration_ms(step.human_ms),
                i.note.as_deref().map_or("–".into(), cell),
            ));
        }
        out.push('\n');
    }
}

/// The run against its baseline: the notable changes, every step folded
/// away below.
fn against_baseline(out: &mut String, c: &Comparison) {
    out.push_str("### Against the baseline\n\n");
    out.push_str(&format!(
        "{}; regressions above {} are flagged.\n\n",
        capitalise(&cell(&c.baseline)),
        c.threshold
    ));
    let rows = baseline_rows(c);
    if rows.is_empty() {
        out.push_str("Nothing to compare yet.\n\n");
    } else {
        let regressions = c.regressions().len();
        if regressions > 0 {
            out.push_str(&format!(
                "**⚠️ {regressions} regression{}.**\n\n",
                if regressions == 1 { "" } else { "s" }
            ));
        } else {
            out.push_str("No regression.\n\n");
        }
        // The total, and the steps whose change is more than jitter;
        // every step folded away below.
        let notable: Vec<&(String, &crate::history::Delta)> = rows
            .iter()
            .filter(|(name, d)| {
                name == "**total**"
                    || d.regression
                    || d.current_ms.abs_diff(d.baseline_ms) >= MIN_REGRESSION_MS
            })
            .collect();
        delta_table(out, notable.iter().copied());
        if notable.len() < rows.len() {
            out.push_str(&format!(
                "\n<details><summary>Every step against the baseline ({})</summary>\n\n",
                rows.len()
            ));
            delta_table(out, rows.iter());
            out.push_str("\n</details>\n");
        }
        out.push('\n');
    }
}

/// A row per compared step (cleanup marked), then the total.
fn baseline_rows(c: &Comparison) -> Vec<(String, &crate::history::Delta)> {
    c.steps
        .iter()
        .filter_map(|s| {
            let name = match s.phase {
                Phase::Steps => cell(&s.name),
                Phase::Cleanup => format!("{} (cleanup)", cell(&s.name)),
            };
            Some((name, s.delta.as_ref()?))
        })
        .chain(c.total.iter().map(|d| ("**total**".to_string(), d)))
        .collect()
}

/// Every step, folded away: a row each, then their errors.
fn every_step(out: &mut String, record: &RunRecord) {
    out.push_str(&format!(
        "<details><summary>All {} steps</summary>\n\n",
        record.steps.len()
    ));
    out.push_str(
        "| # | step | kind | outcome | duration | machine | human | attempts | budget | owner |\n",
    );
    out.push_str("| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n");
    for (n, step) in record.steps.iter().enumerate() {
        let ran = step.started_at.is_some();
        let time = |ms: u64| if ran { duration_ms(ms) } else { "–".into() };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {}{} | {} |\n",
            n + 1,
            step_name(step),
            cell(step.kind.as_str()),
            outcome(step.outcome),
            time(step.duration_ms),
            time(step.machine_ms()),
            time(step.human_ms),
            step.attempts,
            step.budget_ms.map_or("–".into(), duration_ms),
            if step.over_budget { " ⚠️" } else { "" },
            step.owner.as_deref().map_or("–".into(), cell),
        ));
    }
    errors(out, record);
    out.push_str("\n</details>\n");
    if !record.firedrill_version.is_empty() {
        out.push_str(&format!(
            "\n<sub>firedrill {}</sub>\n",
            record.firedrill_version
        ));
    }
}

/// The errors of every step that has one.
fn errors(out: &mut String, record: &RunRecord) {
    let errors: Vec<&StepRecord> = record.steps.iter().filter(|s| s.error.is_some()).collect();
    if !errors.is_empty() {
        out.push_str("\n**Errors**\n\n");
        for step in errors {
            out.push_str(&format!(
                "- {} ({}): {}\n",
                step_name(step),
                step.outcome.label(),
                cell(step.error.as_deref().unwrap_or(""))
            ));
        }
    }
}

fn delta_table<'a>(
    out: &mut String,
    rows: impl Iterator<Item = &'a (String, &'a crate::history::Delta)>,
) {
    out.push_str("| step | baseline | now | change |\n| --- | ---: | ---: | ---: |\n");
    for (name, d) in rows {
        let flag = if d.regression {
            " ⚠️ **regression**"
        } else {
            ""
        };
        out.push_str(&format!(
            "| {name} | {} | {} | {}{flag} |\n",
            duration_ms(d.baseline_ms),
            duration_ms(d.current_ms),
            d.change_detail(),
        ));
    }
}

fn unplanned(record: &RunRecord) -> impl Iterator<Item = &StepRecord> {
    record.steps.iter().filter(|s| {
        s.intervention
            .as_ref()
            .is_some_and(|i| i.kind != InterventionKind::ManualStep)
    })
}

fn step_name(step: &StepRecord) -> String {
    match step.phase {
        Phase::Steps => cell(&step.name),
        Phase::Cleanup => format!("{} (cleanup)", cell(&step.name)),
    }
}

fn outcome(outcome: Outcome) -> String {
    let icon = match outcome {
        Outcome::Passed | Outcome::ManualDone => "✅",
        Outcome::Failed => "❌",
        Outcome::TimedOut => "⏱️",
        Outcome::Skipped | Outcome::Cancelled => "⏭️",
        Outcome::Intervened => "⚠️",
    };
    format!("{icon} {}", outcome.label())
}

fn change(comparison: Option<&Comparison>, step: &StepRecord) -> String {
    let Some(d) = comparison.and_then(|c| {
        c.steps
            .iter()
            .find(|s| s.name == step.name && s.phase == step.phase)?
            .delta
            .as_ref()
    }) else {
        return "–".into();
    };
    if d.regression {
        format!("**{}** ⚠️", d.change_label())
    } else {
        d.change_label()
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Text made safe for a table cell: no column breaks, no line breaks, no
/// HTML (a response body in an error must not become markup).
pub(crate) fn cell(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace('\n', "<br>")
}
