//! Runs against their baseline, and the history of a drill, as the terminal
//! shows them. The numbers come from `history`; this is only how they look.

use super::table;
use crate::history::{Comparison, Delta, History};
use crate::record::format::{duration_ms, when};
use crate::record::{Phase, RunOutcome};
use crate::redact::redact;

/// The comparison for the end of a run and `report --format terminal`.
pub(crate) fn comparison(this: &Comparison) -> String {
    let mut out = format!("\nvs baseline: {}", this.baseline);
    if this.is_empty() {
        out.push_str(" — nothing to compare yet\n");
        return redact(&out).into_owned();
    }
    out.push_str(&format!(
        " · regressions above {} are flagged\n",
        this.threshold
    ));
    let mut rows = vec![vec![
        "STEP".to_string(),
        "BASELINE".to_string(),
        "NOW".to_string(),
        "CHANGE".to_string(),
        String::new(),
    ]];
    let row = |name: String, d: &Delta| {
        vec![
            name,
            duration_ms(d.baseline_ms),
            duration_ms(d.current_ms),
            d.change_detail(),
            if d.regression {
                "▲ regression".to_string()
            } else {
                String::new()
            },
        ]
    };
    for step in &this.steps {
        let name = match step.phase {
            Phase::Steps => step.name.clone(),
            Phase::Cleanup => format!("{} (cleanup)", step.name),
        };
        match &step.delta {
            Some(d) => rows.push(row(name, d)),
            None => rows.push(vec![
                name,
                "-".into(),
                "-".into(),
                String::new(),
                String::new(),
            ]),
        }
    }
    if let Some(total) = &this.total {
        rows.push(row("TOTAL".into(), total));
    }
    out.push_str(&table(&rows, &[false, true, true, false, false]));
    let count = this.regressions().len();
    if count > 0 {
        out.push_str(&format!(
            "▲ {count} regression{} above {}\n",
            if count == 1 { "" } else { "s" },
            this.threshold
        ));
    }
    redact(&out).into_owned()
}

/// The first line of the table: which drills, how many runs, where.
/// Whether the runs are of several drills.
fn title(out: &mut String, this: &History) -> bool {
    let mut drills: Vec<&str> = this.runs.iter().map(|r| r.drill.as_str()).collect();
    drills.sort_unstable();
    drills.dedup();
    let what = match drills.as_slice() {
        [one] => (*one).to_string(),
        _ => format!("{} drills", drills.len()),
    };
    out.push_str(&format!(
        "{what} · last {} run{} in {}\n",
        this.runs.len(),
        if this.runs.len() == 1 { "" } else { "s" },
        this.runs_dir.display()
    ));
    drills.len() > 1
}

/// What `firedrill history` prints: the last runs, then each drill's trend.
pub(crate) fn history(this: &History) -> String {
    let mut out = String::new();
    if this.runs.is_empty() {
        let of = this
            .drill
            .as_ref()
            .map(|d| format!(" of `{d}`"))
            .unwrap_or_default();
        out.push_str(&format!("no runs{of} in {}\n", this.runs_dir.display()));
    } else {
        let several = title(&mut out, this);
        let mut rows = vec![vec![
            "WHEN (UTC)".to_string(),
            "DRILL".into(),
            "RUN".into(),
            "OUTCOME".into(),
            "TOTAL".into(),
            "MACHINE".into(),
            "HUMAN".into(),
            "INTERVENTIONS".into(),
        ]];
        for run in &this.runs {
            let mut interventions = match run.interventions {
                0 => "-".to_string(),
                n => n.to_string(),
            };
            if run.needed_help > 0 {
                interventions.push_str(&format!(" ({} needed help)", run.needed_help));
            }
            let outcome = match run.outcome {
                RunOutcome::Crashed => "crashed (incomplete)".to_string(),
                RunOutcome::Running => "running".to_string(),
                other => other.label().to_string(),
            };
            rows.push(vec![
                when(&run.started_at),
                run.drill.clone(),
                run.run_id.clone(),
                outcome,
                duration_ms(run.duration_ms),
                duration_ms(run.machine_ms),
                duration_ms(run.human_ms),
                interventions,
            ]);
        }
        if !several {
            for row in &mut rows {
                row.remove(1);
            }
        }
        let align: Vec<bool> = if several {
            vec![false, false, false, false, true, true, true, false]
        } else {
            vec![false, false, false, true, true, true, false]
        };
        out.push_str(&table(&rows, &align));
    }
    for trend in &this.trends {
        out.push_str(&format!(
            "\n{} · latest run {} ({})",
            trend.drill,
            trend.latest_run_id,
            trend.latest_outcome.label()
        ));
        out.push_str(&comparison(&trend.comparison));
    }
    for problem in &this.problems {
        out.push_str(&format!("warning: {problem}\n"));
    }
    redact(&out).into_owned()
}
