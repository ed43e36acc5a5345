//! Past runs on disk and comparisons between them: data only. How a
//! comparison or a history looks to people is `report`'s job.
//!
//! The run store is the runs directory: one `<drill>-<run id>.json` record
//! per finished run, and a `<…>.journal.jsonl` for a run that never wrote its
//! record: it is still going while its writer holds the journal's lock
//! (outcome `running`), else it crashed. A run is compared with the
//! *baseline*: per step, and for the total, the median of the previous runs
//! of the same drill — the median, so one odd run does not move it.

mod scan;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::record::files::{read_journal, read_record};
use crate::record::format::duration_ms;
use crate::record::{
    InterventionKind, Outcome, Phase, ReadError, RunOutcome, RunRecord, StepRecord,
};

pub(crate) use scan::baseline_in;

/// How many previous runs make a baseline unless told otherwise: enough
/// for a stable median, few enough to follow a real trend.
pub(crate) const BASELINE_WINDOW: usize = 10;

/// The default regression threshold of `run` and `history`.
pub(crate) const DEFAULT_THRESHOLD: &str = "20%";

/// A step slower by less than this is never a regression, whatever the
/// percentage: a 2ms step taking 3ms is jitter, not a trend.
pub(crate) const MIN_REGRESSION_MS: u64 = 50;

/// A regression threshold, in percent (`--regression 20%`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Threshold(pub f64);

/// A `--regression` value that is not a percentage.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("`{0}` is not a percentage (write it like `20%`)")]
pub struct NotAPercentage(String);

impl std::str::FromStr for Threshold {
    type Err = NotAPercentage;

    /// `20%`, `20` or `12.5%`.
    fn from_str(text: &str) -> Result<Self, NotAPercentage> {
        let number = text.trim().trim_end_matches('%').trim();
        match number.parse::<f64>() {
            Ok(p) if p.is_finite() && p >= 0.0 => Ok(Threshold(p)),
            _ => Err(NotAPercentage(text.to_string())),
        }
    }
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}%", self.0)
    }
}

/// One run found in the store.
#[derive(Clone, Debug)]
pub(crate) struct StoredRun {
    /// The record, or the journal of a crashed run.
    pub path: PathBuf,
    /// For a crashed run: rebuilt from the journal, outcome `crashed`.
    pub record: RunRecord,
}

/// Every run in a runs directory, oldest first.
#[derive(Clone, Debug, Default)]
pub(crate) struct Store {
    pub dir: PathBuf,
    pub runs: Vec<StoredRun>,
    /// Files that looked like runs but could not be read: shown, not fatal.
    pub problems: Vec<String>,
}

impl Store {
    /// Reads every record and every orphan journal in `dir`. A missing
    /// directory is an empty store: no run has happened yet.
    pub(crate) fn open(dir: &Path) -> Store {
        let mut store = Store {
            dir: dir.to_path_buf(),
            ..Store::default()
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return store;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in &paths {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if name.starts_with('.') || !path.is_file() {
                continue;
            }
            let (path, result) = if let Some(stem) = name.strip_suffix(".journal.jsonl") {
                // A journal beside its record is a finished run whose
                // journal is being (or could not be) removed: the record
                // wins, and is listed under its own name.
                let record = path.with_file_name(format!("{stem}.json"));
                if record.exists() {
                    continue;
                }
                match read_journal(path) {
                    // The run finished since the directory was listed: its
                    // record is there now, unless the listing has it.
                    Err(ReadError::Io { source, .. })
                        if source.kind() == std::io::ErrorKind::NotFound =>
                    {
                        if paths.contains(&record) || !record.exists() {
                            continue;
                        }
                        let read = read_record(&record);
                        (record, read)
                    }
                    read => (path.clone(), read),
                }
            } else if path.extension().is_some_and(|e| e == "json") {
                (path.clone(), read_record(path))
            } else {
                continue;
            };
            match result {
                Ok(record) => store.runs.push(StoredRun { path, record }),
                // Removed since it was listed: no run is lost by that.
                Err(ReadError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => store.problems.push(err.to_string()),
            }
        }
        store.runs.sort_by(|a, b| {
            (&a.record.started_at, &a.record.run_id).cmp(&(&b.record.started_at, &b.record.run_id))
        });
        store
    }

    /// The runs of one drill, oldest first.
    pub(crate) fn of_drill<'a>(
        &'a self,
        drill: &'a str,
    ) -> impl Iterator<Item = &'a StoredRun> + 'a {
        self.runs.iter().filter(move |r| r.record.drill == drill)
    }

    /// Drill names, in the order of their latest run.
    pub(crate) fn drills(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for run in self.runs.iter().rev() {
            if !names.contains(&run.record.drill) {
                names.push(run.record.drill.clone());
            }
        }
        names.reverse();
        names
    }

    /// The baseline of `current`: the last `window` runs of the same drill
    /// that started before it.
    pub(crate) fn baseline_for(&self, current: &RunRecord, window: usize) -> Baseline {
        let previous: Vec<&RunRecord> = self
            .of_drill(&current.drill)
            .map(|r| &r.record)
            .filter(|r| {
                r.run_id != current.run_id
                    && (&r.started_at, &r.run_id) < (&current.started_at, &current.run_id)
            })
            .collect();
        let previous = &previous[previous.len().saturating_sub(window)..];
        let description = match previous.len() {
            0 => format!(
                "no previous runs of `{}` in {}",
                current.drill,
                self.dir.display()
            ),
            1 => format!("the previous run of `{}`", current.drill),
            n => format!("median of the {n} previous runs of `{}`", current.drill),
        };
        Baseline::from_runs(previous, description)
    }
}

/// The median of some durations; the mean of the middle two for an even
/// count.
pub(crate) fn median(values: &mut [u64]) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]).div_ceil(2)
    })
}

/// Whether a step's time is a fair sample: it ran to its end, without a
/// rescue whose human time would skew it.
fn counts(step: &StepRecord) -> bool {
    counts_outcome(step.outcome)
}

/// [`counts`], by the step's outcome.
fn counts_outcome(outcome: Outcome) -> bool {
    matches!(outcome, Outcome::Passed | Outcome::ManualDone)
}

/// What a run is compared with: per step (by phase and name) and for the
/// total, the median of earlier runs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Baseline {
    /// Where it came from, in words.
    pub description: String,
    /// How many runs it is made of.
    pub runs: usize,
    /// Keyed by (is cleanup, name).
    steps: HashMap<(bool, String), Vec<u64>>,
    totals: Vec<u64>,
}

impl Baseline {
    /// A baseline from earlier runs. A step counts where it passed (or was
    /// done, if manual); the total counts where the run passed.
    pub(crate) fn from_runs(runs: &[&RunRecord], description: String) -> Baseline {
        let mut baseline = Baseline {
            description,
            ..Baseline::default()
        };
        for run in runs {
            let steps = run
                .steps
                .iter()
                .map(|s| (s.phase, s.outcome, s.name.as_str(), s.duration_ms));
            baseline.add_run(run.outcome, run.duration_ms, steps);
        }
        baseline
    }

    /// Adds one earlier run: its outcome, wall time and steps as
    /// `(phase, outcome, name, duration_ms)`.
    fn add_run<'a>(
        &mut self,
        outcome: RunOutcome,
        duration_ms: u64,
        steps: impl Iterator<Item = (Phase, Outcome, &'a str, u64)>,
    ) {
        self.runs += 1;
        for (phase, step_outcome, name, ms) in steps {
            if !counts_outcome(step_outcome) {
                continue;
            }
            let key = (phase == Phase::Cleanup, name.to_string());
            self.steps.entry(key).or_default().push(ms);
        }
        if outcome == RunOutcome::Passed {
            self.totals.push(duration_ms);
        }
    }

    /// A baseline of one chosen run (`--baseline RECORD`).
    pub(crate) fn from_record(record: &RunRecord, path: &Path) -> Baseline {
        Baseline::from_runs(
            &[record],
            format!("run {} ({})", record.run_id, path.display()),
        )
    }

    /// Compares `current` with this baseline; a change above `threshold`
    /// (and [`MIN_REGRESSION_MS`]) is a regression.
    pub(crate) fn compare(&self, current: &RunRecord, threshold: Threshold) -> Comparison {
        let steps = current
            .steps
            .iter()
            .map(|step| {
                let samples = self
                    .steps
                    .get(&(step.phase == Phase::Cleanup, step.name.clone()));
                StepDelta {
                    name: step.name.clone(),
                    phase: step.phase,
                    delta: samples
                        .filter(|_| counts(step))
                        .and_then(|s| Delta::new(s, step.duration_ms, threshold)),
                }
            })
            .collect();
        let total = (current.outcome == RunOutcome::Passed)
            .then(|| Delta::new(&self.totals, current.duration_ms, threshold))
            .flatten();
        Comparison {
            baseline: self.description.clone(),
            baseline_runs: self.runs,
            threshold,
            total,
            steps,
        }
    }
}

/// One duration against its baseline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Delta {
    /// The median of the baseline's samples.
    pub baseline_ms: u64,
    pub current_ms: u64,
    /// How many earlier runs the median is made of.
    pub samples: usize,
    /// `(current - baseline) / baseline` in percent; absent when the
    /// baseline is 0ms.
    pub change_pct: Option<f64>,
    pub regression: bool,
}

impl Delta {
    fn new(samples: &[u64], current_ms: u64, threshold: Threshold) -> Option<Delta> {
        let baseline_ms = median(&mut samples.to_vec())?;
        let change_pct = (baseline_ms > 0)
            .then(|| (current_ms as f64 - baseline_ms as f64) * 100.0 / baseline_ms as f64);
        let slower_by = current_ms.saturating_sub(baseline_ms);
        let regression =
            slower_by >= MIN_REGRESSION_MS && change_pct.is_none_or(|c| c > threshold.0);
        Some(Delta {
            baseline_ms,
            current_ms,
            samples: samples.len(),
            change_pct,
            regression,
        })
    }

    /// The change in time and in percent: `+1.2s (+48%)`, `-3ms (-12%)`.
    /// The time says whether a big percentage matters.
    pub(crate) fn change_detail(&self) -> String {
        let diff = self.current_ms.abs_diff(self.baseline_ms);
        let sign = if self.current_ms >= self.baseline_ms {
            '+'
        } else {
            '-'
        };
        if diff == 0 {
            return "±0ms".into();
        }
        format!("{sign}{} ({})", duration_ms(diff), self.change_label())
    }

    /// `+8%`, `-12%`, `±0%`, or `new` against a 0ms baseline.
    pub(crate) fn change_label(&self) -> String {
        match self.change_pct {
            None => "new".into(),
            Some(c) if c.round() == 0.0 => "±0%".into(),
            Some(c) => format!("{c:+.0}%"),
        }
    }
}

/// A step against its baseline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct StepDelta {
    pub name: String,
    pub phase: Phase,
    /// Absent when the baseline has no sample of this step, or this run's
    /// step did not run to its end.
    pub delta: Option<Delta>,
}

/// A run against its baseline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Comparison {
    /// What the baseline is, in words.
    pub baseline: String,
    pub baseline_runs: usize,
    pub threshold: Threshold,
    /// Absent unless this run passed and some baseline run passed.
    pub total: Option<Delta>,
    pub steps: Vec<StepDelta>,
}

impl Comparison {
    /// Whether there was anything to compare with.
    pub(crate) fn is_empty(&self) -> bool {
        self.total.is_none() && self.steps.iter().all(|s| s.delta.is_none())
    }

    /// Each regression in words, for the record's `reasons`.
    pub(crate) fn regressions(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .steps
            .iter()
            .filter_map(|s| {
                let d = s.delta.as_ref().filter(|d| d.regression)?;
                let phase = match s.phase {
                    Phase::Steps => "step",
                    Phase::Cleanup => "cleanup step",
                };
                Some(format!(
                    "regression: {phase} `{}` took {}, {} against its baseline of {} (threshold {})",
                    s.name,
                    duration_ms(d.current_ms),
                    d.change_label(),
                    duration_ms(d.baseline_ms),
                    self.threshold
                ))
            })
            .collect();
        if let Some(d) = self.total.as_ref().filter(|d| d.regression) {
            out.push(format!(
                "regression: the run took {}, {} against its baseline of {} (threshold {})",
                duration_ms(d.current_ms),
                d.change_label(),
                duration_ms(d.baseline_ms),
                self.threshold
            ));
        }
        out
    }
}

/// A run as a row of `firedrill history`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RunRow {
    pub drill: String,
    pub run_id: String,
    pub started_at: String,
    pub outcome: RunOutcome,
    pub duration_ms: u64,
    pub machine_ms: u64,
    pub human_ms: u64,
    /// Automated steps a person had to rescue (unplanned).
    pub interventions: usize,
    /// Steps where a person needed help.
    pub needed_help: usize,
    pub manual_steps: usize,
    pub steps: usize,
    pub path: PathBuf,
}

impl RunRow {
    fn new(run: &StoredRun) -> RunRow {
        let r = &run.record;
        let kinds = || r.steps.iter().filter_map(|s| s.intervention.as_ref());
        RunRow {
            drill: r.drill.clone(),
            run_id: r.run_id.clone(),
            started_at: r.started_at.clone(),
            outcome: r.outcome,
            duration_ms: r.duration_ms,
            machine_ms: r.machine_ms(),
            human_ms: r.human_ms,
            interventions: kinds()
                .filter(|i| i.kind != InterventionKind::ManualStep)
                .count(),
            needed_help: kinds().filter(|i| i.needed_help).count(),
            manual_steps: r
                .steps
                .iter()
                .filter(|s| s.kind == crate::kind::StepKind::Manual)
                .count(),
            steps: r.steps.len(),
            path: run.path.clone(),
        }
    }
}

/// One drill's trend: its latest run against the runs before it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Trend {
    pub drill: String,
    pub latest_run_id: String,
    pub latest_outcome: RunOutcome,
    pub comparison: Comparison,
}

/// What `firedrill history` shows, and prints with `--json`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct History {
    pub runs_dir: PathBuf,
    /// The drill asked for; all drills when absent.
    pub drill: Option<String>,
    /// The last runs, oldest first.
    pub runs: Vec<RunRow>,
    pub trends: Vec<Trend>,
    /// Files that could not be read.
    pub problems: Vec<String>,
}

impl History {
    /// The history of one drill (or all of them): its last `last` runs, and
    /// its latest run against the median of the `last` runs before it.
    pub(crate) fn new(
        store: &Store,
        drill: Option<&str>,
        last: usize,
        threshold: Threshold,
    ) -> History {
        let drills = match drill {
            Some(name) => vec![name.to_string()],
            None => store.drills(),
        };
        let chosen: Vec<&StoredRun> = store
            .runs
            .iter()
            .filter(|r| drills.contains(&r.record.drill))
            .collect();
        let runs = chosen[chosen.len().saturating_sub(last)..]
            .iter()
            .map(|r| RunRow::new(r))
            .collect();
        let trends = drills
            .iter()
            .filter_map(|name| {
                // A run still going is not yet a run to judge.
                let latest = &store
                    .of_drill(name)
                    .filter(|r| r.record.outcome != RunOutcome::Running)
                    .last()?
                    .record;
                Some(Trend {
                    drill: name.clone(),
                    latest_run_id: latest.run_id.clone(),
                    latest_outcome: latest.outcome,
                    comparison: store.baseline_for(latest, last).compare(latest, threshold),
                })
            })
            .collect();
        History {
            runs_dir: store.dir.clone(),
            drill: drill.map(str::to_string),
            runs,
            trends,
            problems: store.problems.clone(),
        }
    }
}

/// One drill's runs for the trend page: the last runs, oldest first, and
/// each step's time across them against its median.
#[derive(Clone, Debug)]
pub(crate) struct DrillTrend {
    pub drill: String,
    pub runs: Vec<TrendRun>,
    /// The drill's own steps (not a parallel group's sub-steps), in the
    /// order of the latest run, then any only older runs had.
    pub steps: Vec<StepSeries>,
    /// The median total of the runs that passed.
    pub median_total_ms: Option<u64>,
}

/// A run on the trend page.
#[derive(Clone, Debug)]
pub(crate) struct TrendRun {
    pub row: RunRow,
    /// The drill's budget when it ran.
    pub budget_ms: Option<u64>,
}

/// One step's time in each run of a [`DrillTrend`].
#[derive(Clone, Debug)]
pub(crate) struct StepSeries {
    pub name: String,
    pub phase: Phase,
    /// Per run (as [`DrillTrend::runs`]): its time, where it ran to its
    /// end (passed, or a manual step done); else absent.
    pub points: Vec<Option<u64>>,
    /// The median of the points.
    pub median_ms: Option<u64>,
}

impl DrillTrend {
    /// The trend of each drill asked for (all drills in the store when
    /// none is): its last `last` runs.
    pub(crate) fn of_store(store: &Store, drill: Option<&str>, last: usize) -> Vec<DrillTrend> {
        let drills = match drill {
            Some(name) => vec![name.to_string()],
            None => store.drills(),
        };
        drills
            .into_iter()
            .filter_map(|name| {
                let runs: Vec<&StoredRun> = store.of_drill(&name).collect();
                let runs = &runs[runs.len().saturating_sub(last)..];
                (!runs.is_empty()).then(|| DrillTrend::new(name.clone(), runs))
            })
            .collect()
    }

    fn new(drill: String, runs: &[&StoredRun]) -> DrillTrend {
        let mut keys: Vec<(Phase, String)> = Vec::new();
        for run in runs.iter().rev() {
            for step in run.record.steps.iter().filter(|s| s.parent.is_none()) {
                let key = (step.phase, step.name.clone());
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        let steps = keys
            .into_iter()
            .map(|(phase, name)| {
                let points: Vec<Option<u64>> = runs
                    .iter()
                    .map(|run| {
                        run.record
                            .steps
                            .iter()
                            .find(|s| s.phase == phase && s.name == name && s.parent.is_none())
                            .filter(|s| counts(s))
                            .map(|s| s.duration_ms)
                    })
                    .collect();
                let median_ms = median(&mut points.iter().flatten().copied().collect::<Vec<_>>());
                StepSeries {
                    name,
                    phase,
                    points,
                    median_ms,
                }
            })
            .collect();
        let median_total_ms = median(
            &mut runs
                .iter()
                .filter(|r| r.record.outcome == RunOutcome::Passed)
                .map(|r| r.record.duration_ms)
                .collect::<Vec<_>>(),
        );
        DrillTrend {
            drill,
            runs: runs
                .iter()
                .map(|r| TrendRun {
                    row: RunRow::new(r),
                    budget_ms: r.record.budget_ms,
                })
                .collect(),
            steps,
            median_total_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_is_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [5]), Some(5));
        assert_eq!(median(&mut [900, 100, 120]), Some(120));
        assert_eq!(median(&mut [100, 120, 130, 5000]), Some(125));
    }

    #[test]
    fn thresholds_read_as_percentages() {
        assert_eq!("20%".parse::<Threshold>(), Ok(Threshold(20.0)));
        assert_eq!("12.5".parse::<Threshold>(), Ok(Threshold(12.5)));
        assert!("fast".parse::<Threshold>().is_err());
        assert!("-5%".parse::<Threshold>().is_err());
    }

    #[test]
    fn a_regression_needs_the_threshold_and_the_floor() {
        let t = Threshold(20.0);
        // +50% but only 1ms: jitter.
        assert!(!Delta::new(&[2], 3, t).unwrap().regression);
        // +100% and 1s.
        assert!(Delta::new(&[1000, 900, 1100], 2000, t).unwrap().regression);
        // +10%: under the threshold.
        assert!(!Delta::new(&[1000], 1100, t).unwrap().regression);
        assert_eq!(Delta::new(&[1000], 1100, t).unwrap().change_label(), "+10%");
        assert_eq!(Delta::new(&[1000], 800, t).unwrap().change_label(), "-20%");
        assert_eq!(
            Delta::new(&[1000], 1500, t).unwrap().change_detail(),
            "+500ms (+50%)"
        );
        assert_eq!(Delta::new(&[7], 7, t).unwrap().change_detail(), "±0ms");
    }
}
