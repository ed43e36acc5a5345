//! What `run` does once the record is written: compare it with its
//! baseline, fail it on a regression when asked, and write the reports
//! asked for (`--junit`, `--markdown`, `--html`). An observer of the run's
//! last event, so the command line only reads the verdict.

use std::path::PathBuf;
use std::sync::Mutex;

use super::{Format, RenderError, render, write_report};
use crate::history::{BASELINE_WINDOW, Baseline, Comparison, Threshold};
use crate::record::files::RecordPaths;
use crate::record::{RunOutcome, RunRecord};
use crate::run::event::{Event, Observer};

/// Where the after-run reports go and what a run is compared with.
pub(crate) struct AfterRunSettings {
    /// The record on disk (and its store copy), rewritten when a
    /// regression fails the run.
    pub paths: RecordPaths,
    /// `--baseline`; else the median of the previous runs in `runs_dir`.
    pub baseline: Option<Baseline>,
    pub runs_dir: PathBuf,
    pub threshold: Threshold,
    pub fail_on_regression: bool,
    pub junit: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    pub html: Option<PathBuf>,
}

/// What came of the run once compared and reported.
pub(crate) struct Verdict {
    /// The record failed by `--fail-on-regression`, when it came to that
    /// (kept apart: a long run's record is not copied otherwise).
    pub failed_record: Option<RunRecord>,
    pub comparison: Comparison,
    /// Problems met writing the record or the reports; each fails the
    /// run's exit code.
    pub problems: Vec<String>,
}

/// Compares, judges and writes the reports when the run finishes.
pub(crate) struct AfterRun {
    settings: AfterRunSettings,
    verdict: Mutex<Option<Verdict>>,
}

impl AfterRun {
    pub(crate) fn new(settings: AfterRunSettings) -> Self {
        AfterRun {
            settings,
            verdict: Mutex::new(None),
        }
    }

    /// The verdict, once the run has finished.
    pub(crate) fn verdict(&self) -> Option<Verdict> {
        self.verdict.lock().ok().and_then(|mut v| v.take())
    }

    /// Runs `see` on the verdict, once the run has finished.
    pub(crate) fn with_verdict(&self, see: impl FnOnce(&Verdict)) {
        if let Ok(verdict) = self.verdict.lock() {
            if let Some(verdict) = verdict.as_ref() {
                see(verdict);
            }
        }
    }

    fn baseline(&self, record: &RunRecord) -> Baseline {
        // Streamed from the store: the previous runs of a long drill are
        // never all in memory beside this one's record.
        self.settings.baseline.clone().unwrap_or_else(|| {
            crate::history::baseline_in(&self.settings.runs_dir, record, BASELINE_WINDOW)
        })
    }

    /// Compares `record`, fails it on a regression if asked, and writes
    /// the reports.
    fn apply(&self, record: &RunRecord) -> Verdict {
        let settings = &self.settings;
        let comparison = self.baseline(record).compare(record, settings.threshold);
        let mut problems = Vec::new();
        let failed_record = self.fail_on_regression(record, &comparison, &mut problems);
        let judged = failed_record.as_ref().unwrap_or(record);
        for (path, format) in [
            (&settings.junit, Format::Junit),
            (&settings.markdown, Format::Markdown),
            (&settings.html, Format::Html),
        ] {
            let Some(path) = path else { continue };
            let written = render(judged, format, Some(&comparison))
                .and_then(|text| write_report(path, &text).map_err(RenderError::from));
            if let Err(err) = written {
                problems.push(format!("cannot write {}: {err}", path.display()));
            }
        }
        Verdict {
            failed_record,
            comparison,
            problems,
        }
    }

    /// `--fail-on-regression`: the record failed and rewritten, when the
    /// run finished (passed or failed) slower than its baseline.
    fn fail_on_regression(
        &self,
        record: &RunRecord,
        comparison: &Comparison,
        problems: &mut Vec<String>,
    ) -> Option<RunRecord> {
        let settings = &self.settings;
        let regressions = comparison.regressions();
        if !settings.fail_on_regression
            || regressions.is_empty()
            || !matches!(record.outcome, RunOutcome::Passed | RunOutcome::Failed)
        {
            return None;
        }
        let mut failed = record.clone();
        failed.reasons.extend(
            regressions
                .iter()
                .map(|r| format!("--fail-on-regression: {r}")),
        );
        failed.outcome = RunOutcome::Failed;
        if let Err(problem) = settings.paths.rewrite(&failed) {
            problems.push(problem.to_string());
        }
        Some(failed)
    }
}

impl Observer for AfterRun {
    fn on_event(&self, event: &Event<'_>) {
        if let Event::RunFinished { record } = event {
            let verdict = self.apply(record);
            if let Ok(mut slot) = self.verdict.lock() {
                *slot = Some(verdict);
            }
        }
    }
}
