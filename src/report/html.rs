//! One self-contained HTML page for a run, to attach to a ticket or send to
//! a reviewer: a Gantt timeline of the steps (coloured by outcome, human
//! time shaded apart from machine time, budgets and the baseline marked,
//! cleanup as its own phase), hover and click for a step's details, and
//! the totals. Everything is inline — CSS, script, data — so the page opens
//! from a file, offline, and fetches nothing.

use serde::Serialize;

use super::{intervention_what, outcome_key};
use crate::history::{Comparison, Delta};
use crate::kind::StepKind;
use crate::record::format::{duration_ms, offset_ms, parse_time, when};
use crate::record::{InterventionKind, Outcome, Phase, RunOutcome, RunRecord, StepRecord};

/// What the page's script knows about a step (already formatted).
#[derive(Serialize)]
struct StepData {
    n: usize,
    name: String,
    kind: StepKind,
    phase: &'static str,
    outcome: &'static str,
    outcome_label: &'static str,
    started: String,
    duration: String,
    machine: String,
    human: String,
    human_ms: u64,
    attempts: u32,
    budget: Option<String>,
    over_budget: bool,
    owner: Option<String>,
    error: Option<String>,
    intervention: Option<InterventionData>,
    baseline: Option<BaselineData>,
}

#[derive(Serialize)]
struct InterventionData {
    what: &'static str,
    planned: bool,
    operator: String,
    help: String,
    note: Option<String>,
}

#[derive(Serialize)]
struct BaselineData {
    median: String,
    change: String,
    regression: bool,
    samples: usize,
}

/// Where a step sits on the timeline, in milliseconds from the run's start.
struct Placed<'a> {
    step: &'a StepRecord,
    start: Option<u64>,
    delta: Option<&'a Delta>,
}

/// Renders a run (and, when given, its comparison with the baseline).
pub(crate) fn render(record: &RunRecord, comparison: Option<&Comparison>) -> String {
    let placed = place(record, comparison);
    let span = scale(record, &placed);
    let tick = tick_for(span);
    let mut html = String::with_capacity(32 * 1024);
    head(&mut html, record);
    header(&mut html, record);
    cards(&mut html, record, comparison);
    reasons(&mut html, record);
    timeline(&mut html, record, &placed, span, tick);
    html.push_str(
        "<section class=\"panel\" id=\"details\" aria-live=\"polite\"><h2>Step details</h2>\
         <p class=\"hint\">Hover a bar for a summary; click a bar or a row for everything about the step.</p></section>\n",
    );
    steps_table(&mut html, &placed);
    footer(&mut html, record);
    step_data_script(&mut html, &placed);
    html.push_str("</body>\n</html>\n");
    html
}

/// Each step on the timeline, with its baseline when there is one.
fn place<'a>(record: &'a RunRecord, comparison: Option<&'a Comparison>) -> Vec<Placed<'a>> {
    let run_start = parse_time(&record.started_at);
    let mut cursor = 0u64;
    record
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let start = step.started_at.as_deref().map(|at| {
                // A step whose clock cannot be read follows the one before.
                offset_ms(run_start, at).unwrap_or(cursor)
            });
            if let Some(s) = start {
                cursor = cursor.max(s + step.duration_ms);
            }
            let delta = comparison
                .and_then(|c| c.steps.get(i))
                .filter(|d| d.name == step.name && d.phase == step.phase)
                .and_then(|d| d.delta.as_ref());
            Placed { step, start, delta }
        })
        .collect()
}

/// How far the scale goes, in milliseconds: the end of the run, stretched
/// to show budgets and baselines a little past it.
fn scale(record: &RunRecord, placed: &[Placed<'_>]) -> u64 {
    let end = placed
        .iter()
        .filter_map(|p| Some(p.start? + p.step.duration_ms))
        .chain([record.duration_ms])
        .max()
        .unwrap_or(0)
        .max(1);
    // Budgets and baselines a little past the end stretch the scale so
    // they can be seen; far ones are only hinted at.
    let reach = end + end * 3 / 10;
    placed
        .iter()
        .filter_map(|p| {
            let start = p.start?;
            let budget = p.step.budget_ms.map(|b| start + b);
            let base = p.delta.map(|d| start + d.baseline_ms);
            Some(budget.into_iter().chain(base))
        })
        .flatten()
        .chain(record.budget_ms)
        .filter(|at| *at <= reach)
        .fold(end, u64::max)
}

/// The document head, the style sheet inline.
fn head(html: &mut String, record: &RunRecord) {
    html.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str(&format!(
        "<title>firedrill · {} · {}</title>\n",
        esc(&record.drill),
        record.outcome.label()
    ));
    html.push_str("<style>\n\n");
    html.push_str(CSS);
    html.push_str("</style>\n</head>\n<body>\n<main>\n");
}

/// Why the run failed (or notes on a passed one).
fn reasons(html: &mut String, record: &RunRecord) {
    if record.reasons.is_empty() {
        return;
    }
    let title = match record.outcome {
        RunOutcome::Passed => "Notes",
        RunOutcome::Crashed | RunOutcome::Running => "Why this run is incomplete",
        _ => "Why it failed",
    };
    html.push_str(&format!(
        "<section class=\"panel reasons\"><h2>{title}</h2><ul>"
    ));
    for reason in &record.reasons {
        html.push_str(&format!("<li>{}</li>", esc(reason)));
    }
    html.push_str("</ul></section>\n");
}

fn footer(html: &mut String, record: &RunRecord) {
    html.push_str(&format!(
        "<footer>firedrill {} · a self-contained page: it loads nothing from the network · times in UTC</footer>\n",
        esc(if record.firedrill_version.is_empty() {
            env!("CARGO_PKG_VERSION")
        } else {
            &record.firedrill_version
        })
    ));
    html.push_str("</main>\n<div id=\"tip\" class=\"tip\" role=\"tooltip\" hidden></div>\n");
}

/// The steps as JSON for the script, then the script.
fn step_data_script(html: &mut String, placed: &[Placed<'_>]) {
    let data: Vec<StepData> = placed
        .iter()
        .enumerate()
        .map(|(n, p)| step_data(n, p))
        .collect();
    let json = serde_json::to_string(&data)
        .unwrap_or_else(|_| "[]".into())
        // Keeps `</script>` in a step's text from closing the element.
        .replace('<', "\\u003c");
    html.push_str(&format!(
        "<script type=\"application/json\" id=\"fd-data\">{json}</script>\n<script>\n{SCRIPT}</script>\n"
    ));
}

fn header(html: &mut String, record: &RunRecord) {
    let outcome = record.outcome.label();
    html.push_str(&format!(
        "<header><div class=\"title\"><span class=\"badge run-{outcome}\">{}</span><h1>{}</h1></div>",
        esc(&outcome.to_uppercase()),
        esc(&record.drill)
    ));
    let mut meta = vec![format!("run <code>{}</code>", esc(&record.run_id))];
    meta.push(format!("started {} UTC", esc(&when(&record.started_at))));
    if !record.operator.is_empty() {
        meta.push(format!("operator <b>{}</b>", esc(&record.operator)));
    }
    if !record.drill_file.is_empty() {
        meta.push(format!("drill <code>{}</code>", esc(&record.drill_file)));
    }
    if record.docker_versions.is_empty() {
        if let Some(docker) = &record.docker_version {
            meta.push(format!("Docker {}", esc(docker)));
        }
    } else {
        let engines: Vec<String> = record
            .docker_versions
            .iter()
            .map(|(name, version)| format!("{} {}", esc(name), esc(version)))
            .collect();
        meta.push(format!("Docker engines: {}", engines.join(", ")));
    }
    html.push_str(&format!(
        "<p class=\"meta\">{}</p></header>\n",
        meta.join(" · ")
    ));
}

/// The cards at the top: total, machine and human time, steps,
/// interventions, and the change against the baseline.
fn cards(html: &mut String, record: &RunRecord, comparison: Option<&Comparison>) {
    html.push_str("<section class=\"cards\">");
    total_card(html, record);
    time_cards(html, record);
    steps_card(html, record);
    interventions_card(html, record);
    baseline_card(html, comparison);
    html.push_str("</section>\n");
}

/// The run's total time, with a meter of its budget.
fn total_card(html: &mut String, record: &RunRecord) {
    let budget = match record.budget_ms {
        Some(b) => {
            let used = (record.duration_ms as f64 * 100.0 / b.max(1) as f64).min(100.0);
            format!(
                "<div class=\"meter{}\"><span style=\"width:{used:.1}%\"></span></div><div class=\"sub\">{} of a {} budget</div>",
                if record.over_budget { " over" } else { "" },
                if record.over_budget {
                    "over".to_string()
                } else {
                    format!("{used:.0}%")
                },
                duration_ms(b)
            )
        }
        None => "<div class=\"sub\">no budget set</div>".to_string(),
    };
    card(
        html,
        "Total",
        &duration_ms(record.duration_ms),
        &budget,
        if record.over_budget { "warn" } else { "" },
    );
}

/// Machine and human time, each as a share of the run.
fn time_cards(html: &mut String, record: &RunRecord) {
    let share = |ms: u64| {
        if record.duration_ms == 0 {
            String::new()
        } else {
            format!(
                "<div class=\"sub\">{:.0}% of the run</div>",
                ms as f64 * 100.0 / record.duration_ms as f64
            )
        }
    };
    card(
        html,
        "Machine time",
        &duration_ms(record.machine_ms()),
        &share(record.machine_ms()),
        "",
    );
    card(
        html,
        "Human time",
        &duration_ms(record.human_ms),
        &share(record.human_ms),
        if record.human_ms > 0 { "human" } else { "" },
    );
}

fn count_steps(record: &RunRecord, f: impl Fn(&StepRecord) -> bool) -> usize {
    record.steps.iter().filter(|s| f(s)).count()
}

/// How many steps, and how many passed, failed or did not run.
fn steps_card(html: &mut String, record: &RunRecord) {
    let failed = count_steps(record, |s| s.outcome.is_failure());
    let not_run = count_steps(record, |s| {
        matches!(s.outcome, Outcome::Skipped | Outcome::Cancelled)
    });
    let mut sub = vec![format!(
        "{} passed",
        count_steps(record, |s| matches!(
            s.outcome,
            Outcome::Passed | Outcome::ManualDone | Outcome::Intervened
        ))
    )];
    if failed > 0 {
        sub.push(format!("<b class=\"bad\">{failed} failed</b>"));
    }
    if not_run > 0 {
        sub.push(format!("{not_run} not run"));
    }
    card(
        html,
        "Steps",
        &record.steps.len().to_string(),
        &format!("<div class=\"sub\">{}</div>", sub.join(" · ")),
        if failed > 0 { "bad" } else { "" },
    );
}

/// Unplanned interventions, manual steps, and who needed help.
fn interventions_card(html: &mut String, record: &RunRecord) {
    let unplanned = count_steps(record, |s| {
        s.intervention
            .as_ref()
            .is_some_and(|i| i.kind != InterventionKind::ManualStep)
    });
    let manual = count_steps(record, |s| s.kind == StepKind::Manual);
    let helped = count_steps(record, |s| {
        s.intervention.as_ref().is_some_and(|i| i.needed_help)
    });
    let mut sub = vec![
        "unplanned".to_string(),
        format!("{manual} manual step{}", if manual == 1 { "" } else { "s" }),
    ];
    if helped > 0 {
        sub.push(format!("<b class=\"warn\">{helped} needed help</b>"));
    }
    card(
        html,
        "Interventions",
        &unplanned.to_string(),
        &format!("<div class=\"sub\">{}</div>", sub.join(" · ")),
        if unplanned > 0 { "warn" } else { "" },
    );
}

/// The change against the baseline, and how many regressions.
fn baseline_card(html: &mut String, comparison: Option<&Comparison>) {
    match comparison {
        Some(c) => {
            let regressions = c.regressions().len();
            let value = match (&c.total, regressions) {
                (Some(d), _) => d.change_label(),
                (None, 0) => "–".into(),
                (None, n) => format!("▲ {n}"),
            };
            let mut sub = esc(&c.baseline);
            if c.total.is_none() && c.baseline_runs > 0 {
                sub.push_str(" · total not compared: this run did not pass");
            }
            if regressions > 0 {
                sub.push_str(&format!(
                    " · <b class=\"bad\">{regressions} regression{}</b>",
                    if regressions == 1 { "" } else { "s" }
                ));
            }
            card(
                html,
                "Against the baseline",
                &value,
                &format!("<div class=\"sub\">{sub}</div>"),
                if regressions > 0 { "bad" } else { "" },
            );
        }
        None => card(
            html,
            "Against the baseline",
            "–",
            "<div class=\"sub\">no baseline</div>",
            "",
        ),
    }
}

fn card(html: &mut String, label: &str, value: &str, sub: &str, class: &str) {
    html.push_str(&format!(
        "<div class=\"card {class}\"><div class=\"label\">{}</div><div class=\"value\">{}</div>{sub}</div>",
        esc(label),
        esc(value)
    ));
}

fn pct(ms: u64, span: u64) -> f64 {
    (ms as f64 * 100.0 / span as f64).clamp(0.0, 100.0)
}

fn timeline(html: &mut String, record: &RunRecord, placed: &[Placed<'_>], span: u64, tick: u64) {
    html.push_str("<section class=\"panel\"><div class=\"panel-head\"><h2>Timeline</h2>");
    html.push_str(LEGEND);
    html.push_str("</div>\n");
    let band = cleanup_band(record, placed, span);
    axis(html, span, tick);
    let run_budget = record
        .budget_ms
        .filter(|b| *b <= span)
        .map(|b| pct(b, span));
    let mut phase = None;
    for (i, p) in placed.iter().enumerate() {
        if phase != Some(p.step.phase) {
            phase = Some(p.step.phase);
            phase_row(html, p.step.phase, band);
        }
        step_row(html, i, p, span, band, run_budget);
    }
    html.push_str("</div></section>\n");
}

/// Where the cleanup phase sits on the scale, in percent, if it ran.
fn cleanup_band(record: &RunRecord, placed: &[Placed<'_>], span: u64) -> Option<(f64, f64)> {
    let cleanup: Vec<(u64, u64)> = placed
        .iter()
        .filter(|p| p.step.phase == Phase::Cleanup)
        .filter_map(|p| Some((p.start?, p.start? + p.step.duration_ms)))
        .collect();
    cleanup.iter().map(|c| c.0).min().map(|start| {
        let end = cleanup
            .iter()
            .map(|c| c.1)
            .chain([record.duration_ms])
            .max()
            .unwrap_or(start);
        (pct(start, span), pct(end, span))
    })
}

/// Opens the chart and draws its time axis.
fn axis(html: &mut String, span: u64, tick: u64) {
    let tick_pct = pct(tick, span);
    html.push_str(&format!(
        "<div class=\"gantt\" style=\"--tick:{tick_pct:.4}%\">\n"
    ));
    html.push_str("<div class=\"row axis\"><div class=\"lbl\"></div><div class=\"track\">");
    let mut at = 0;
    while at <= span {
        let p = pct(at, span);
        let label = if at == 0 {
            "0".to_string()
        } else {
            duration_ms(at)
        };
        html.push_str(&format!(
            "<span class=\"tick{}\" style=\"left:{p:.4}%\">{}</span>",
            if p > 97.0 { " end" } else { "" },
            esc(&label)
        ));
        at += tick;
    }
    html.push_str("</div></div>\n");
}

/// The heading row of a phase.
fn phase_row(html: &mut String, phase: Phase, band: Option<(f64, f64)>) {
    let (name, class) = match phase {
        Phase::Steps => ("Steps", "steps"),
        Phase::Cleanup => ("Cleanup", "cleanup"),
    };
    html.push_str(&format!(
        "<div class=\"row phase {class}\"><div class=\"lbl\">{name}</div><div class=\"track\">"
    ));
    phase_band(html, band);
    html.push_str("</div></div>\n");
}

/// One step's row: its name, then its bar (or why it did not run).
fn step_row(
    html: &mut String,
    i: usize,
    p: &Placed<'_>,
    span: u64,
    band: Option<(f64, f64)>,
    run_budget: Option<f64>,
) {
    let step = p.step;
    let key = outcome_key(step.outcome);
    let over = if step.over_budget { " over" } else { "" };
    html.push_str(&format!(
        "<div class=\"row step o-{key}{over}\" data-i=\"{i}\" tabindex=\"0\">\
         <div class=\"lbl\"><span class=\"dot\"></span><span class=\"name\">{}</span><span class=\"kind\">{}</span></div>\
         <div class=\"track\">",
        esc(&step.name),
        esc(step.kind.as_str())
    ));
    phase_band(html, band);
    if let Some(b) = run_budget {
        html.push_str(&format!(
            "<span class=\"run-budget\" style=\"left:{b:.4}%\"></span>"
        ));
    }
    match p.start {
        Some(start) => bar(html, p, start, span),
        None => html.push_str(&format!(
            "<span class=\"notrun\">{} — not run</span>",
            esc(step.outcome.label())
        )),
    }
    html.push_str("</div></div>\n");
}

/// A step's bar, human time shaded, with its budget and baseline marks
/// and its duration label.
fn bar(html: &mut String, p: &Placed<'_>, start: u64, span: u64) {
    let step = p.step;
    let left = pct(start, span);
    let width = pct(step.duration_ms, span).min(100.0 - left);
    let human = if step.duration_ms > 0 {
        (step.human_ms as f64 * 100.0 / step.duration_ms as f64).min(100.0)
    } else {
        0.0
    };
    html.push_str(&format!(
        "<span class=\"bar\" style=\"left:{left:.4}%;width:{width:.4}%\">"
    ));
    if human > 0.0 {
        html.push_str(&format!(
            "<span class=\"human\" style=\"width:{human:.2}%\"></span>"
        ));
    }
    html.push_str("</span>");
    // Where the duration label may start: after the bar and any mark
    // close behind it.
    let label_at = marks(html, p, start, span, left + width);
    duration_label(html, p, left, width, label_at);
}

/// The step's budget and baseline marks; returns where its duration label
/// may start (`label_at`, pushed past a mark close behind it).
fn marks(html: &mut String, p: &Placed<'_>, start: u64, span: u64, mut label_at: f64) -> f64 {
    let step = p.step;
    let over = if step.over_budget { " over" } else { "" };
    if let Some(budget) = step.budget_ms {
        let end = start + budget;
        if end <= span {
            let at = pct(end, span);
            html.push_str(&format!(
                "<span class=\"budget{over}\" style=\"left:{at:.4}%\" title=\"budget {}\"></span>",
                duration_ms(budget)
            ));
            if at - label_at < 12.0 {
                label_at = label_at.max(at + 0.3);
            }
        } else {
            html.push_str(&format!(
                "<span class=\"budget-off\" title=\"budget {} (off the scale)\">▸</span>",
                duration_ms(budget)
            ));
        }
    }
    if let Some(d) = p.delta {
        let end = start + d.baseline_ms;
        if end <= span {
            let at = pct(end, span);
            html.push_str(&format!(
                "<span class=\"base{}\" style=\"left:{at:.4}%\" title=\"baseline {}\"></span>",
                if d.regression { " regressed" } else { "" },
                duration_ms(d.baseline_ms)
            ));
            if at - label_at < 12.0 {
                label_at = label_at.max(at + 0.3);
            }
        }
    }
    label_at
}

/// The duration label: after the bar when there is room, else before it,
/// else on it.
fn duration_label(html: &mut String, p: &Placed<'_>, left: f64, width: f64, label_at: f64) {
    let step = p.step;
    let mut label = duration_ms(step.duration_ms);
    if step.attempts > 1 {
        label.push_str(&format!(" · {} attempts", step.attempts));
    }
    if let Some(d) = p.delta.filter(|d| d.regression) {
        label.push_str(&format!(" · {}", d.change_label()));
    }
    if label_at <= 80.0 {
        html.push_str(&format!(
            "<span class=\"dur\" style=\"left:calc({label_at:.4}% + 6px)\">{}</span>",
            esc(&label)
        ));
    } else if left >= 20.0 {
        // No room after the bar: the label goes before it.
        html.push_str(&format!(
            "<span class=\"dur inside\" style=\"right:calc({:.4}% + 6px)\">{}</span>",
            100.0 - left,
            esc(&label)
        ));
    } else {
        // A bar across most of the scale carries its label.
        html.push_str(&format!(
            "<span class=\"dur onbar\" style=\"right:calc({:.4}% + 8px)\">{}</span>",
            100.0 - (left + width),
            esc(&label)
        ));
    }
}

/// The cleanup phase, shaded behind every row.
fn phase_band(html: &mut String, band: Option<(f64, f64)>) {
    if let Some((start, end)) = band {
        html.push_str(&format!(
            "<span class=\"band\" style=\"left:{start:.4}%;width:max(4px, {:.4}%)\"></span>",
            end - start
        ));
    }
}

fn steps_table(html: &mut String, placed: &[Placed<'_>]) {
    html.push_str(
        "<section class=\"panel\"><h2>Steps</h2><table class=\"steps\"><thead><tr>\
         <th>#</th><th>Step</th><th>Kind</th><th>Outcome</th><th class=\"num\">Starts</th>\
         <th class=\"num\">Duration</th><th class=\"num\">Machine</th><th class=\"num\">Human</th>\
         <th class=\"num\">Attempts</th><th class=\"num\">Budget</th><th class=\"num\">vs baseline</th><th>Owner</th>\
         </tr></thead><tbody>\n",
    );
    let mut phase = None;
    for (i, p) in placed.iter().enumerate() {
        let step = p.step;
        if phase != Some(step.phase) {
            phase = Some(step.phase);
            let name = match step.phase {
                Phase::Steps => "Steps",
                Phase::Cleanup => "Cleanup",
            };
            html.push_str(&format!(
                "<tr class=\"group\"><td colspan=\"12\">{name}</td></tr>\n"
            ));
        }
        let ran = p.start.is_some();
        let time = |ms: u64| {
            if ran { duration_ms(ms) } else { "–".into() }
        };
        let mut flags = String::new();
        if let Some(i) = &step.intervention {
            if i.kind != InterventionKind::ManualStep {
                flags.push_str(" <span class=\"flag warn\">intervention</span>");
            }
            if i.needed_help {
                flags.push_str(" <span class=\"flag warn\">help</span>");
            }
        }
        let baseline = match p.delta {
            Some(d) if d.regression => format!("<b class=\"bad\">{} ▲</b>", esc(&d.change_label())),
            Some(d) => esc(&d.change_label()),
            None => "–".into(),
        };
        html.push_str(&format!(
            "<tr data-i=\"{i}\" tabindex=\"0\"><td class=\"num\">{}</td><td>{}{flags}</td><td>{}</td>\
             <td><span class=\"pill o-{}\">{}</span></td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num{}\">{}</td>\
             <td class=\"num\">{baseline}</td><td>{}</td></tr>\n",
            i + 1,
            esc(&step.name),
            esc(step.kind.as_str()),
            outcome_key(step.outcome),
            esc(step.outcome.label()),
            p.start.map_or("–".into(), |s| format!("+{}", duration_ms(s))),
            time(step.duration_ms),
            time(step.machine_ms()),
            time(step.human_ms),
            step.attempts,
            if step.over_budget { " bad" } else { "" },
            step.budget_ms.map_or("–".into(), duration_ms),
            esc(step.owner.as_deref().unwrap_or("–")),
        ));
    }
    html.push_str("</tbody></table></section>\n");
}

fn step_data(n: usize, p: &Placed<'_>) -> StepData {
    let step = p.step;
    StepData {
        n: n + 1,
        name: step.name.clone(),
        kind: step.kind,
        phase: match step.phase {
            Phase::Steps => "steps",
            Phase::Cleanup => "cleanup",
        },
        outcome: outcome_key(step.outcome),
        outcome_label: step.outcome.label(),
        started: match (p.start, &step.started_at) {
            (Some(offset), Some(at)) => format!("+{} ({} UTC)", duration_ms(offset), when(at)),
            _ => "not run".into(),
        },
        duration: duration_ms(step.duration_ms),
        machine: duration_ms(step.machine_ms()),
        human: duration_ms(step.human_ms),
        human_ms: step.human_ms,
        attempts: step.attempts,
        budget: step.budget_ms.map(duration_ms),
        over_budget: step.over_budget,
        owner: step.owner.clone(),
        error: step.error.clone(),
        intervention: step.intervention.as_ref().map(|i| InterventionData {
            what: intervention_what(i.kind),
            planned: i.kind == InterventionKind::ManualStep,
            operator: i.operator.clone(),
            help: match (&i.helped_by, i.needed_help) {
                (Some(by), _) => format!("helped by {by}"),
                (None, true) => "needed help".into(),
                (None, false) => "unaided".into(),
            },
            note: i.note.clone(),
        }),
        baseline: p.delta.map(|d| BaselineData {
            median: duration_ms(d.baseline_ms),
            change: d.change_label(),
            regression: d.regression,
            samples: d.samples,
        }),
    }
}

/// A tick interval that puts 5 to 10 labels on the axis.
pub(crate) fn tick_for(span: u64) -> u64 {
    const NICE: [u64; 22] = [
        1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000,
        120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000,
    ];
    NICE.iter()
        .copied()
        .find(|t| span / t <= 8)
        .unwrap_or_else(|| span.div_ceil(8))
}

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const LEGEND: &str = "<div class=\"legend\">\
<span><i class=\"sw o-passed\"></i>passed</span>\
<span><i class=\"sw o-failed\"></i>failed</span>\
<span><i class=\"sw o-timed_out\"></i>timed out</span>\
<span><i class=\"sw o-manual_done\"></i>manual</span>\
<span><i class=\"sw o-intervened\"></i>intervened</span>\
<span><i class=\"sw o-skipped\"></i>skipped / cancelled</span>\
<span><i class=\"sw hum\"></i>human time</span>\
<span><i class=\"lg-budget\"></i>budget</span>\
<span><i class=\"lg-base\"></i>baseline median</span>\
<span><i class=\"sw lg-band\"></i>cleanup phase</span>\
</div>";

/// The page's style sheet, inline: the page loads nothing.
const CSS: &str = include_str!("html/report.css");

/// The page's script: tooltips, step details, keyboard navigation.
const SCRIPT: &str = include_str!("html/report.js");
