//! One self-contained HTML page for a run, to attach to a ticket or send to
//! a reviewer: a Gantt timeline of the steps (coloured by outcome, human
//! time shaded apart from machine time, budgets and the baseline marked,
//! cleanup as its own phase), hover and click for a step's details, and
//! the totals. Everything is inline — CSS, script, data — so the page opens
//! from a file, offline, and fetches nothing.

use serde::Serialize;

use super::record::{
    InterventionKind, Outcome, Phase, RunOutcome, RunRecord, StepKind, StepRecord,
};
use super::terminal::duration_ms;
use super::{intervention_what, outcome_key};
use crate::history::{Comparison, Delta, offset_ms, parse_time, when};

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
pub fn render(record: &RunRecord, comparison: Option<&Comparison>) -> String {
    let run_start = parse_time(&record.started_at);
    let mut cursor = 0u64;
    let placed: Vec<Placed<'_>> = record
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
        .collect();
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
    let span = placed
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
        .fold(end, u64::max);
    let tick = tick_for(span);

    let mut html = String::with_capacity(32 * 1024);
    html.push_str("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str(&format!(
        "<title>firedrill · {} · {}</title>\n",
        esc(&record.drill),
        record.outcome.label()
    ));
    html.push_str("<style>\n");
    html.push_str(CSS);
    html.push_str("</style>\n</head>\n<body>\n<main>\n");

    header(&mut html, record);
    cards(&mut html, record, comparison);
    if !record.reasons.is_empty() {
        let title = match record.outcome {
            RunOutcome::Passed => "Notes",
            RunOutcome::Crashed => "Why this run is incomplete",
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
    timeline(&mut html, record, &placed, span, tick);
    html.push_str(
        "<section class=\"panel\" id=\"details\" aria-live=\"polite\"><h2>Step details</h2>\
         <p class=\"hint\">Hover a bar for a summary; click a bar or a row for everything about the step.</p></section>\n",
    );
    steps_table(&mut html, &placed);
    html.push_str(&format!(
        "<footer>firedrill {} · a self-contained page: it loads nothing from the network · times in UTC</footer>\n",
        esc(if record.firedrill_version.is_empty() {
            env!("CARGO_PKG_VERSION")
        } else {
            &record.firedrill_version
        })
    ));
    html.push_str("</main>\n<div id=\"tip\" class=\"tip\" role=\"tooltip\" hidden></div>\n");

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
    html.push_str("</body>\n</html>\n");
    html
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
    if let Some(docker) = &record.docker_version {
        meta.push(format!("Docker {}", esc(docker)));
    }
    html.push_str(&format!(
        "<p class=\"meta\">{}</p></header>\n",
        meta.join(" · ")
    ));
}

fn cards(html: &mut String, record: &RunRecord, comparison: Option<&Comparison>) {
    html.push_str("<section class=\"cards\">");
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
    let count = |f: &dyn Fn(&StepRecord) -> bool| record.steps.iter().filter(|s| f(s)).count();
    let failed = count(&|s| s.outcome.is_failure());
    let not_run = count(&|s| matches!(s.outcome, Outcome::Skipped | Outcome::Cancelled));
    let mut sub = vec![format!(
        "{} passed",
        count(&|s| matches!(
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
    let unplanned = count(&|s| {
        s.intervention
            .as_ref()
            .is_some_and(|i| i.kind != InterventionKind::ManualStep)
    });
    let manual = count(&|s| s.kind == StepKind::Manual);
    let helped = count(&|s| s.intervention.as_ref().is_some_and(|i| i.needed_help));
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
    html.push_str("</section>\n");
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
    let tick_pct = pct(tick, span);
    let cleanup: Vec<(u64, u64)> = placed
        .iter()
        .filter(|p| p.step.phase == Phase::Cleanup)
        .filter_map(|p| Some((p.start?, p.start? + p.step.duration_ms)))
        .collect();
    let band = cleanup.iter().map(|c| c.0).min().map(|start| {
        let end = cleanup
            .iter()
            .map(|c| c.1)
            .chain([record.duration_ms])
            .max()
            .unwrap_or(start);
        (pct(start, span), pct(end, span))
    });
    html.push_str(&format!(
        "<div class=\"gantt\" style=\"--tick:{tick_pct:.4}%\">\n"
    ));
    // Axis.
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

    let run_budget = record
        .budget_ms
        .filter(|b| *b <= span)
        .map(|b| pct(b, span));
    let mut phase = None;
    for (i, p) in placed.iter().enumerate() {
        if phase != Some(p.step.phase) {
            phase = Some(p.step.phase);
            let (name, class) = match p.step.phase {
                Phase::Steps => ("Steps", "steps"),
                Phase::Cleanup => ("Cleanup", "cleanup"),
            };
            html.push_str(&format!(
                "<div class=\"row phase {class}\"><div class=\"lbl\">{name}</div><div class=\"track\">"
            ));
            phase_band(html, band);
            html.push_str("</div></div>\n");
        }
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
            Some(start) => {
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
                // Where the duration label may start: after the bar and
                // any mark close behind it.
                let mut label_at = left + width;
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
            None => html.push_str(&format!(
                "<span class=\"notrun\">{} — not run</span>",
                esc(step.outcome.label())
            )),
        }
        html.push_str("</div></div>\n");
    }
    html.push_str("</div></section>\n");
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
fn tick_for(span: u64) -> u64 {
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
pub fn esc(text: &str) -> String {
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

const CSS: &str = r#"
:root {
  --bg: #f6f7f9; --panel: #fff; --ink: #1f2328; --mute: #656d76; --line: #d8dee4; --grid: #eef1f4;
  --passed: #2da44e; --failed: #cf222e; --timed_out: #d4610b; --skipped: #afb8c1; --cancelled: #8c959f;
  --manual_done: #0969da; --intervened: #8250df; --cleanup: #fff8e6; --budget: #1f2328; --base: #656d76;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", "Liberation Sans", sans-serif; }
main { max-width: 1360px; margin: 0 auto; padding: 24px 28px 40px; }
header { margin-bottom: 18px; }
.title { display: flex; align-items: center; gap: 14px; }
h1 { font-size: 26px; margin: 0; letter-spacing: -0.01em; }
h2 { font-size: 15px; margin: 0 0 12px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--mute); }
.meta { color: var(--mute); margin: 8px 0 0; }
code { font: 12.5px ui-monospace, "DejaVu Sans Mono", monospace; background: #eaeef2; padding: 1px 5px; border-radius: 4px; }
.badge { font-weight: 700; font-size: 12px; letter-spacing: 0.08em; padding: 5px 10px; border-radius: 999px; color: #fff; }
.run-passed { background: var(--passed); } .run-failed { background: var(--failed); }
.run-interrupted { background: var(--timed_out); } .run-crashed { background: #57606a; }
.cards { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 12px; margin-bottom: 16px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; border-top: 3px solid var(--line); }
.card.warn { border-top-color: var(--timed_out); } .card.bad { border-top-color: var(--failed); }
.card.human { border-top-color: var(--manual_done); }
.card .label { color: var(--mute); font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; }
.card .value { font-size: 24px; font-weight: 650; margin: 2px 0 4px; font-variant-numeric: tabular-nums; }
.card .sub { color: var(--mute); font-size: 12.5px; }
.meter { height: 6px; background: var(--grid); border-radius: 3px; overflow: hidden; margin: 4px 0 6px; }
.meter span { display: block; height: 100%; background: var(--passed); }
.meter.over span { background: var(--failed); }
b.bad, .bad { color: var(--failed); } b.warn { color: var(--timed_out); }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; margin-bottom: 16px; }
.panel-head { display: flex; justify-content: space-between; align-items: baseline; gap: 16px; flex-wrap: wrap; }
.reasons { border-left: 4px solid var(--failed); }
.reasons ul { margin: 0; padding-left: 20px; } .reasons li { margin: 3px 0; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 14px; color: var(--mute); font-size: 12px; margin-bottom: 10px; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
.sw { display: inline-block; width: 14px; height: 10px; border-radius: 2px; background: var(--c); }
.sw.hum { background: var(--manual_done); background-image: repeating-linear-gradient(135deg, rgba(255,255,255,.55) 0 2px, transparent 2px 5px); }
.sw.lg-band { background: var(--cleanup); border: 1px solid #e3b341; }
.lg-budget, .lg-base { display: inline-block; width: 2px; height: 12px; }
.lg-budget { background: var(--budget); } .lg-base { border-left: 2px dotted var(--base); }
.o-passed { --c: var(--passed); } .o-failed { --c: var(--failed); } .o-timed_out { --c: var(--timed_out); }
.o-skipped { --c: var(--skipped); } .o-cancelled { --c: var(--cancelled); }
.o-manual_done { --c: var(--manual_done); } .o-intervened { --c: var(--intervened); }
.gantt { --tick: 10%; border-top: 1px solid var(--line); }
.row { display: grid; grid-template-columns: minmax(200px, 300px) 1fr; min-height: 30px; }
.row .lbl { display: flex; align-items: center; gap: 8px; padding: 0 12px 0 4px; border-right: 1px solid var(--line); min-width: 0; }
.row .track { position: relative;
  background-image: linear-gradient(to right, var(--grid) 1px, transparent 1px);
  background-size: var(--tick) 100%; background-repeat: repeat-x; }
.row.axis { min-height: 26px; border-bottom: 1px solid var(--line); }
.tick { position: absolute; top: 6px; transform: translateX(-50%); font-size: 11px; color: var(--mute); white-space: nowrap; font-variant-numeric: tabular-nums; }
.tick:first-child { transform: none; padding-left: 3px; }
.tick.end { transform: translateX(-100%); }
.row.phase { min-height: 26px; }
.row.phase .lbl { font-size: 11px; font-weight: 700; letter-spacing: 0.08em; text-transform: uppercase; color: var(--mute); }
.row.phase.cleanup .lbl { color: #9a6700; }
.row.step { cursor: pointer; border-bottom: 1px solid #f3f4f6; outline: none; }
.row.step:hover, .row.step.selected, .row.step:focus-visible { background: #f6f8fa; }
.row.step.selected .lbl { box-shadow: inset 3px 0 0 var(--c); }
.row.step .name { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.row.step .kind { margin-left: auto; font-size: 11px; color: var(--mute); background: #eef1f4; border-radius: 4px; padding: 0 6px; }
.dot { width: 9px; height: 9px; border-radius: 50%; background: var(--c); flex: none; }
.band { position: absolute; top: 0; bottom: 0; background: var(--cleanup); border-left: 1px dashed #e3b341; border-right: 1px dashed #e3b341; }
.bar { position: absolute; top: 7px; height: 16px; min-width: 3px; border-radius: 4px; background: var(--c); overflow: hidden;
  box-shadow: 0 1px 0 rgba(27,31,36,.12); }
.row.step.selected .bar { box-shadow: 0 0 0 2px #fff, 0 0 0 4px var(--c); }
.bar .human { position: absolute; top: 0; bottom: 0; right: 0;
  background-image: repeating-linear-gradient(135deg, rgba(255,255,255,.55) 0 3px, transparent 3px 7px);
  border-left: 1px solid rgba(255,255,255,.8); }
.budget { position: absolute; top: 3px; bottom: 3px; width: 2px; margin-left: -1px; background: var(--budget); border-radius: 1px; }
.budget::after { content: ""; position: absolute; top: -1px; left: -3px; border: 4px solid transparent; border-top-color: var(--budget); }
.budget.over { background: var(--failed); } .budget.over::after { border-top-color: var(--failed); }
.budget-off { position: absolute; right: 2px; top: 6px; font-size: 12px; color: var(--mute); }
.base { position: absolute; top: 4px; bottom: 4px; margin-left: -1px; border-left: 2px dotted var(--base); }
.base.regressed { border-left-color: var(--failed); }
.run-budget { position: absolute; top: 0; bottom: 0; border-left: 2px dashed rgba(207,34,46,.55); }
.dur { position: absolute; top: 7px; font-size: 12px; color: var(--ink); white-space: nowrap; font-variant-numeric: tabular-nums; }
.dur.inside { color: var(--mute); }
.dur.onbar { color: #fff; font-weight: 600; top: 8px; font-size: 11.5px; text-shadow: 0 1px 1px rgba(0,0,0,.25); }
.notrun { position: absolute; left: 6px; top: 6px; font-size: 12px; color: var(--mute); font-style: italic; }
.hint { color: var(--mute); margin: 0; }
.detail { display: grid; grid-template-columns: minmax(260px, 360px) 1fr; gap: 18px; }
.detail h3 { margin: 0 0 10px; font-size: 18px; display: flex; align-items: center; gap: 10px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 0; }
dl.facts dt { color: var(--mute); } dl.facts dd { margin: 0; font-variant-numeric: tabular-nums; }
.box { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; margin-bottom: 10px; }
.box h4 { margin: 0 0 6px; font-size: 12px; text-transform: uppercase; letter-spacing: 0.05em; color: var(--mute); }
.box.err { border-color: #ffcecb; background: #fff8f7; } .box.err h4 { color: var(--failed); }
.box.int { border-color: #d8ccf5; background: #fbf9ff; } .box.int h4 { color: var(--intervened); }
.box.int.planned { border-color: #b6d4fb; background: #f5f9ff; } .box.int.planned h4 { color: var(--manual_done); }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; font: 12.5px/1.5 ui-monospace, "DejaVu Sans Mono", monospace; }
.pill { display: inline-block; font-size: 12px; padding: 1px 8px; border-radius: 999px; color: #fff; background: var(--c); white-space: nowrap; }
.pill.o-skipped { color: #24292f; }
table.steps { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.steps th { text-align: left; font-size: 12px; color: var(--mute); font-weight: 600; border-bottom: 1px solid var(--line); padding: 6px 8px; }
table.steps td { padding: 6px 8px; border-bottom: 1px solid #f0f2f4; }
table.steps .num { text-align: right; }
table.steps tr[data-i] { cursor: pointer; }
table.steps tr[data-i]:hover, table.steps tr.selected { background: #f6f8fa; }
table.steps tr.group td { font-size: 11px; font-weight: 700; letter-spacing: 0.08em; text-transform: uppercase; color: var(--mute); background: #fafbfc; }
.flag { font-size: 11px; border-radius: 4px; padding: 0 5px; margin-left: 4px; }
.flag.warn { background: #fff1e5; color: #9a4d00; }
.tip { position: fixed; z-index: 10; max-width: 420px; background: #1f2328; color: #f6f8fa; border-radius: 8px; padding: 10px 12px;
  font-size: 12.5px; box-shadow: 0 8px 24px rgba(0,0,0,.25); pointer-events: none; }
.tip b { color: #fff; } .tip .t-err { color: #ffaba8; margin-top: 6px; white-space: pre-wrap; }
.tip .t-row { color: #c9d1d9; }
footer { color: var(--mute); font-size: 12px; text-align: center; margin-top: 8px; }
@media (max-width: 1000px) { .cards { grid-template-columns: repeat(3, minmax(0, 1fr)); } .detail { grid-template-columns: 1fr; } }
"#;

const SCRIPT: &str = r##"(function () {
  "use strict";
  var steps = JSON.parse(document.getElementById("fd-data").textContent);
  var tip = document.getElementById("tip");
  var details = document.getElementById("details");
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function pill(s) { return '<span class="pill o-' + s.outcome + '">' + esc(s.outcome_label) + "</span>"; }
  function facts(s) {
    var rows = [["Outcome", pill(s)], ["Kind", esc(s.kind) + (s.phase === "cleanup" ? " · cleanup" : "")],
      ["Started", esc(s.started)], ["Duration", esc(s.duration)],
      ["Machine", esc(s.machine)], ["Human", esc(s.human)], ["Attempts", String(s.attempts)]];
    if (s.budget) rows.push(["Budget", esc(s.budget) + (s.over_budget ? ' <b class="bad">over budget</b>' : "")]);
    if (s.baseline) rows.push(["Baseline", esc(s.baseline.median) + " median of " + s.baseline.samples +
      " · " + (s.baseline.regression ? '<b class="bad">' + esc(s.baseline.change) + " regression</b>" : esc(s.baseline.change))]);
    rows.push(["Owner", esc(s.owner || "–")]);
    return rows;
  }
  function tipHtml(s) {
    var h = "<b>" + s.n + ". " + esc(s.name) + "</b> " + pill(s);
    h += '<div class="t-row">' + esc(s.duration) + " (machine " + esc(s.machine) + ", human " + esc(s.human) + ")";
    if (s.attempts > 1) h += " · " + s.attempts + " attempts";
    if (s.budget) h += " · budget " + esc(s.budget) + (s.over_budget ? " — over" : "");
    h += "</div>";
    if (s.intervention) h += '<div class="t-row">' + (s.intervention.planned ? "" : "unplanned: ") +
      esc(s.intervention.what) + (s.intervention.operator ? " by " + esc(s.intervention.operator) : "") +
      ", " + esc(s.intervention.help) + (s.intervention.note ? " — “" + esc(s.intervention.note) + "”" : "") + "</div>";
    if (s.error) h += '<div class="t-err">' + esc(s.error.length > 400 ? s.error.slice(0, 400) + "…" : s.error) + "</div>";
    return h + '<div class="t-row">click for details</div>';
  }
  function detailHtml(s) {
    var h = '<h2>Step details</h2><div class="detail"><div><h3>' + s.n + ". " + esc(s.name) + "</h3><dl class=\"facts\">";
    facts(s).forEach(function (r) { h += "<dt>" + r[0] + "</dt><dd>" + r[1] + "</dd>"; });
    h += "</dl></div><div>";
    if (s.intervention) {
      var i = s.intervention;
      h += '<div class="box int' + (i.planned ? " planned" : "") + '"><h4>' + (i.planned ? "Manual step" : "Unplanned intervention") +
        "</h4><div>" + esc(i.what) + (i.operator ? " by <b>" + esc(i.operator) + "</b>" : "") + " · " + esc(i.help) + "</div>" +
        (i.note ? "<div>Note: “" + esc(i.note) + "”</div>" : "") + "</div>";
    }
    if (s.error) h += '<div class="box err"><h4>Error</h4><pre>' + esc(s.error) + "</pre></div>";
    if (!s.intervention && !s.error) h += '<p class="hint">No error and no intervention: the step did what it should.</p>';
    return h + "</div></div>";
  }
  function select(i) {
    var s = steps[i];
    if (!s) return;
    document.querySelectorAll("[data-i]").forEach(function (el) {
      el.classList.toggle("selected", el.getAttribute("data-i") === String(i));
    });
    details.innerHTML = detailHtml(s);
    details.setAttribute("data-step", String(s.n));
  }
  function place(e) {
    var x = e.clientX + 14, y = e.clientY + 14, r = tip.getBoundingClientRect();
    if (x + r.width > window.innerWidth - 8) x = e.clientX - r.width - 14;
    if (y + r.height > window.innerHeight - 8) y = e.clientY - r.height - 14;
    tip.style.left = Math.max(8, x) + "px";
    tip.style.top = Math.max(8, y) + "px";
  }
  document.querySelectorAll("[data-i]").forEach(function (el) {
    var i = Number(el.getAttribute("data-i"));
    if (el.classList.contains("row")) {
      el.addEventListener("mouseenter", function (e) { tip.innerHTML = tipHtml(steps[i]); tip.hidden = false; place(e); });
      el.addEventListener("mousemove", place);
      el.addEventListener("mouseleave", function () { tip.hidden = true; });
    }
    el.addEventListener("click", function () {
      select(i);
      try { history.replaceState(null, "", "#step=" + (i + 1)); } catch (err) { /* a file: URL may refuse */ }
    });
    el.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(i); }
    });
  });
  var m = /^#step=(\d+)$/.exec(location.hash);
  var first = -1;
  if (m) first = Number(m[1]) - 1;
  else {
    steps.some(function (s, i) { if (s.outcome === "failed" || s.outcome === "timed_out") { first = i; return true; } return false; });
    if (first < 0) steps.some(function (s, i) { if (s.intervention && !s.intervention.planned) { first = i; return true; } return false; });
  }
  if (first >= 0) select(first);
  document.body.setAttribute("data-ready", "true");
})();
"##;
