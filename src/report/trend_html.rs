//! The history of drills as one self-contained HTML page
//! (`firedrill history --html`): per drill, a trend chart of its runs —
//! machine and human time stacked per run, the budget, the median, each
//! run's outcome and its interventions — and each step's time across the
//! runs, a sparkline against its median. The SVG is drawn here; the page
//! has no script and fetches nothing. The numbers come from `history`.
//!
//! Every run's group in the chart carries its numbers as data attributes
//! (`data-total-ms`, …) and the chart its scale (`data-max-ms`,
//! `data-plot-height`), so a test can check the drawing against the
//! records.

use std::fmt::Write as _;
use std::path::Path;

use super::html::{esc, tick_for};
use crate::history::{DrillTrend, MIN_REGRESSION_MS, StepSeries, Threshold, TrendRun};
use crate::record::Phase;
use crate::record::format::{duration_ms, when};
use crate::redact::redact;

/// The trend chart's size, in SVG units.
const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 96.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 40.0;

/// A sparkline's size.
const SPARK_W: f64 = 240.0;
const SPARK_H: f64 = 54.0;
const SPARK_PAD: f64 = 6.0;

/// Renders the page for `trends` (read from `runs_dir`); a step whose
/// latest time is over its median by more than `threshold` is flagged.
pub(crate) fn render(trends: &[DrillTrend], runs_dir: &Path, threshold: Threshold) -> String {
    let mut html = String::with_capacity(64 * 1024);
    html.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    html.push_str("<title>firedrill history</title><style>");
    html.push_str(CSS);
    html.push_str("</style></head>\n<body><main>\n<header><h1>firedrill history</h1>");
    let _ = writeln!(
        html,
        "<p class=\"meta\">{} drill{} · runs from <code>{}</code> · steps flagged above {} over their median</p></header>",
        trends.len(),
        if trends.len() == 1 { "" } else { "s" },
        esc(&runs_dir.display().to_string()),
        threshold
    );
    if trends.is_empty() {
        html.push_str("<section class=\"panel\"><p>No runs yet.</p></section>\n");
    }
    for trend in trends {
        drill_section(&mut html, trend, threshold);
    }
    html.push_str("</main></body></html>\n");
    redact(&html).into_owned()
}

fn drill_section(html: &mut String, trend: &DrillTrend, threshold: Threshold) {
    let latest = trend.runs.last().map(|r| &r.row);
    let _ = write!(
        html,
        "<section class=\"panel drill\" data-drill=\"{}\"><div class=\"panel-head\"><h2>{}</h2><p class=\"meta\">{} run{}",
        esc(&trend.drill),
        esc(&trend.drill),
        trend.runs.len(),
        if trend.runs.len() == 1 { "" } else { "s" },
    );
    if let Some(latest) = latest {
        let _ = write!(
            html,
            " · latest {} <b class=\"o-{}\">{}</b> in {}",
            esc(&when(&latest.started_at)),
            latest.outcome.label(),
            latest.outcome.label(),
            duration_ms(latest.duration_ms)
        );
    }
    if let Some(median) = trend.median_total_ms {
        let _ = write!(html, " · median of the passed runs {}", duration_ms(median));
    }
    html.push_str("</p></div>\n");
    html.push_str(LEGEND);
    trend_chart(html, trend);
    html.push_str("<h3>Each step against its median</h3><div class=\"steps\">\n");
    for series in &trend.steps {
        sparkline(html, series, threshold);
    }
    html.push_str("</div></section>\n");
}

/// The chart's vertical scale: its top, in milliseconds, and the tick.
fn scale(trend: &DrillTrend) -> (u64, u64) {
    let highest = trend
        .runs
        .iter()
        .map(|r| r.row.duration_ms.max(r.budget_ms.unwrap_or(0)))
        .chain(trend.median_total_ms)
        .max()
        .unwrap_or(0)
        .max(1);
    let tick = tick_for(highest + highest / 10).max(1);
    let top = (highest + highest / 20).div_ceil(tick) * tick;
    (top.max(tick), tick)
}

/// Where a run's bar sits: its centre and width.
fn slot(i: usize, n: usize) -> (f64, f64) {
    let slot = (WIDTH - LEFT - RIGHT) / n as f64;
    (LEFT + slot * (i as f64 + 0.5), (slot * 0.62).min(46.0))
}

fn trend_chart(html: &mut String, trend: &DrillTrend) {
    let (top, tick) = scale(trend);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |ms: u64| TOP + plot_h - ms as f64 / top as f64 * plot_h;
    let _ = write!(
        html,
        "<svg class=\"trend\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"Time per run of {}\" \
         data-max-ms=\"{top}\" data-plot-top=\"{TOP}\" data-plot-height=\"{plot_h}\">",
        esc(&trend.drill)
    );
    let mut at = 0;
    while at <= top {
        let _ = write!(
            html,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text class=\"axis\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 8.0,
            y(at) + 4.0,
            duration_ms(at),
            y = y(at)
        );
        at += tick;
    }
    let n = trend.runs.len();
    budget_line(html, &trend.runs, &y);
    if let Some(median) = trend.median_total_ms {
        let _ = write!(
            html,
            "<line class=\"median\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{m:.1}\" y2=\"{m:.1}\"/><text class=\"median-label\" x=\"{}\" y=\"{:.1}\">median {}</text>",
            WIDTH - RIGHT,
            WIDTH - RIGHT + 4.0,
            y(median) + 4.0,
            duration_ms(median),
            m = y(median)
        );
    }
    let every = n.div_ceil(12).max(1);
    for (i, run) in trend.runs.iter().enumerate() {
        run_bar(html, run, i, n, &y);
        if i % every == 0 || i + 1 == n {
            let (x, _) = slot(i, n);
            let label: String = when(&run.row.started_at).chars().skip(5).take(11).collect();
            let _ = write!(
                html,
                "<text class=\"axis\" x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                HEIGHT - BOTTOM + 18.0,
                esc(&label)
            );
        }
    }
    total_line(html, &trend.runs, &y);
    html.push_str("</svg>\n");
}

/// One run: machine time below, human time stacked on it, its total as a
/// point coloured by outcome, and a flag for each unplanned intervention.
fn run_bar(html: &mut String, run: &TrendRun, index: usize, count: usize, y: &impl Fn(u64) -> f64) {
    let row = &run.row;
    let (x, width) = slot(index, count);
    let outcome = row.outcome.label();
    let _ = write!(
        html,
        "<g class=\"run o-{outcome}\" data-run-id=\"{}\" data-outcome=\"{outcome}\" data-total-ms=\"{}\" \
         data-machine-ms=\"{}\" data-human-ms=\"{}\" data-interventions=\"{}\"><title>{} · {} · {}\n\
         total {} = machine {} + human {}{}</title>",
        esc(&row.run_id),
        row.duration_ms,
        row.machine_ms,
        row.human_ms,
        row.interventions,
        esc(&row.run_id),
        esc(&when(&row.started_at)),
        outcome,
        duration_ms(row.duration_ms),
        duration_ms(row.machine_ms),
        duration_ms(row.human_ms),
        match row.interventions {
            0 => String::new(),
            k => format!(
                " · {k} unplanned intervention{}",
                if k == 1 { "" } else { "s" }
            ),
        }
    );
    let (base, mid, top) = (y(0), y(row.machine_ms), y(row.duration_ms));
    let _ = write!(
        html,
        "<rect class=\"machine\" x=\"{:.1}\" y=\"{mid:.1}\" width=\"{width:.1}\" height=\"{:.1}\"/>\
         <rect class=\"human\" x=\"{:.1}\" y=\"{top:.1}\" width=\"{width:.1}\" height=\"{:.1}\"/>\
         <circle class=\"point\" cx=\"{x:.1}\" cy=\"{top:.1}\" r=\"5\"/>",
        x - width / 2.0,
        base - mid,
        x - width / 2.0,
        mid - top,
    );
    if row.interventions > 0 {
        let _ = write!(
            html,
            "<text class=\"intervention\" x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">⚑{}</text>",
            top - 10.0,
            row.interventions
        );
    }
    html.push_str("</g>");
}

/// The budget of each run, as a step line across the runs.
fn budget_line(html: &mut String, runs: &[TrendRun], y: &impl Fn(u64) -> f64) {
    let n = runs.len();
    let slot_w = (WIDTH - LEFT - RIGHT) / n.max(1) as f64;
    let mut path = String::new();
    let mut last = None;
    for (i, run) in runs.iter().enumerate() {
        let Some(budget) = run.budget_ms else {
            last = None;
            continue;
        };
        let (x, _) = slot(i, n);
        let (x0, x1, by) = (x - slot_w / 2.0, x + slot_w / 2.0, y(budget));
        let verb = if last.is_some() { 'L' } else { 'M' };
        let _ = write!(path, "{verb}{x0:.1} {by:.1} L{x1:.1} {by:.1} ");
        last = Some(budget);
    }
    if let Some(budget) = last.or_else(|| runs.iter().rev().find_map(|r| r.budget_ms)) {
        let _ = write!(
            html,
            "<path class=\"budget\" d=\"{}\"/><text class=\"budget-label\" x=\"{}\" y=\"{:.1}\">budget {}</text>",
            path.trim_end(),
            WIDTH - RIGHT + 4.0,
            y(budget) - 4.0,
            duration_ms(budget)
        );
    }
}

/// A thin line through the runs' totals, under their points.
fn total_line(html: &mut String, runs: &[TrendRun], y: &impl Fn(u64) -> f64) {
    if runs.len() < 2 {
        return;
    }
    let points: Vec<String> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| format!("{:.1},{:.1}", slot(i, runs.len()).0, y(r.row.duration_ms)))
        .collect();
    let _ = write!(
        html,
        "<polyline class=\"total\" points=\"{}\"/>",
        points.join(" ")
    );
}

/// One step: its time in each run where it ran to its end, the median
/// dashed across, the latest point ringed (red when it regressed).
fn sparkline(html: &mut String, series: &StepSeries, threshold: Threshold) {
    let n = series.points.len();
    let latest = series.points.last().copied().flatten();
    let regressed = match (latest, series.median_ms) {
        (Some(now), Some(median)) => {
            now >= median + MIN_REGRESSION_MS
                && (median == 0 || (now - median) as f64 * 100.0 / median as f64 > threshold.0)
        }
        _ => false,
    };
    let name = match series.phase {
        Phase::Steps => esc(&series.name),
        Phase::Cleanup => format!("{} <i>(cleanup)</i>", esc(&series.name)),
    };
    let _ = write!(
        html,
        "<figure class=\"step{}\" data-step=\"{}\" data-median-ms=\"{}\"><figcaption><span class=\"name\">{name}</span>\
         <span class=\"now\">{}</span><span class=\"med\">median {}</span></figcaption>",
        if regressed { " regressed" } else { "" },
        esc(&series.name),
        series.median_ms.map_or(String::new(), |m| m.to_string()),
        latest.map_or("–".into(), duration_ms),
        series.median_ms.map_or("–".into(), duration_ms),
    );
    let high = series
        .points
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let x = |i: usize| SPARK_PAD + (SPARK_W - 2.0 * SPARK_PAD) * (i as f64 + 0.5) / n.max(1) as f64;
    let y = |ms: u64| SPARK_H - SPARK_PAD - (SPARK_H - 2.0 * SPARK_PAD) * ms as f64 / high as f64;
    let _ = write!(html, "<svg viewBox=\"0 0 {SPARK_W} {SPARK_H}\">");
    if let Some(median) = series.median_ms {
        let _ = write!(
            html,
            "<line class=\"median\" x1=\"0\" x2=\"{SPARK_W}\" y1=\"{m:.1}\" y2=\"{m:.1}\"/>",
            m = y(median)
        );
    }
    let line: Vec<String> = (0..n)
        .filter_map(|i| series.points[i].map(|ms| format!("{:.1},{:.1}", x(i), y(ms))))
        .collect();
    let _ = write!(html, "<polyline points=\"{}\"/>", line.join(" "));
    for (i, point) in series.points.iter().enumerate() {
        let Some(ms) = point else { continue };
        let class = if i + 1 == n { "pt last" } else { "pt" };
        let _ = write!(
            html,
            "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{}\" data-ms=\"{ms}\"><title>{}</title></circle>",
            x(i),
            y(*ms),
            if i + 1 == n { 3.5 } else { 2.2 },
            duration_ms(*ms)
        );
    }
    html.push_str("</svg></figure>\n");
}

const LEGEND: &str = "<div class=\"legend\">\
<span><i class=\"sw machine\"></i>machine time</span>\
<span><i class=\"sw human\"></i>human time</span>\
<span><i class=\"dot o-passed\"></i>passed</span>\
<span><i class=\"dot o-failed\"></i>failed</span>\
<span><i class=\"dot o-interrupted\"></i>interrupted</span>\
<span><i class=\"dot o-crashed\"></i>crashed</span>\
<span><i class=\"dot o-running\"></i>running</span>\
<span>⚑ unplanned interventions</span>\
<span><i class=\"lg-budget\"></i>budget</span>\
<span><i class=\"lg-median\"></i>median of the passed runs</span>\
</div>\n";

/// The page's style sheet, inline: the page loads nothing.
const CSS: &str = include_str!("html/history.css");
