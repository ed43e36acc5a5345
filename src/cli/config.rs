//! What `run` runs with, resolved from its arguments and the environment
//! (the operator's name, whether a person is at the terminal) and checked
//! before anything runs: the raw arguments stay in `args`.

use std::fs::File;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::args::MetricsArgs;
use super::{CompareArgs, RunArgs, exit};
use crate::drill::LoadedDrill;
use crate::drill::inputs::Inputs;
use crate::history::Baseline;
use crate::operator::{Answers, Operator, TerminalOperator, Unattended, login_name};
use crate::record::RecordPathError;
use crate::record::files::{RecordPaths, default_record_path, describe_run_file};
use crate::record::format::timestamp;
use crate::record::journal::{Header, journal_path_for};
use crate::record::live::{claim_journal, journal_is_live};
use crate::record::{RunOutcome, RunRecord};
use crate::report::after_run::AfterRunSettings;
use crate::report::github::GithubSettings;
use crate::report::metrics::MetricsSettings;
use crate::run::{DEFAULT_MAX_BODY_BYTES, RunOptions};

/// A run, configured: how to run it, where its record goes (in
/// `after_run.paths`), and what to do once it is written.
pub(super) struct RunConfig {
    pub options: RunOptions,
    /// `--force`: write the record even over another run's.
    pub force: bool,
    pub after_run: AfterRunSettings,
    /// GitHub Actions annotations, when `GITHUB_ACTIONS=true`.
    pub github: Option<GithubSettings>,
    /// `--metrics` and `--pushgateway`.
    pub metrics: MetricsSettings,
    /// `--report`, and whether the run store gets a copy (not `--no-store`).
    report: Option<PathBuf>,
    store: bool,
    drill: String,
}

impl RunConfig {
    /// Reads `--baseline`, `--answers` and `--resume` and picks the
    /// operator. A problem is printed; its exit code is returned.
    pub(super) fn resolve(
        args: &RunArgs,
        loaded: &LoadedDrill,
        inputs: Inputs,
    ) -> Result<Self, i32> {
        let baseline = fixed_baseline(&args.compare)?;
        let metrics = metrics(&args.metrics)?;
        let operator_name = args.operator.clone().unwrap_or_else(login_name);
        let answers = answers(args, loaded)?;
        let resume = resume(args, loaded)?;
        let options = RunOptions {
            run_id: new_run_id(),
            vars: inputs.vars,
            env: inputs.env,
            operator: operator(args, operator_name.clone(), answers),
            operator_name,
            strict: args.strict,
            max_body_bytes: loaded
                .drill
                .max_response()
                .unwrap_or(DEFAULT_MAX_BODY_BYTES),
            resume,
            timeout: args.timeout,
            cleanup_timeout: args.cleanup_timeout,
            grace: args.grace,
        };
        let drill = loaded.drill.drill.value.clone();
        let paths = record_paths(
            args.report.as_ref(),
            !args.no_store,
            &args.runs_dir,
            &drill,
            &options.run_id,
            args.force,
        );
        let after_run = AfterRunSettings {
            paths,
            baseline,
            runs_dir: args.runs_dir.clone(),
            threshold: args.compare.regression,
            fail_on_regression: args.fail_on_regression,
            junit: args.junit.clone(),
            markdown: args.markdown.clone(),
            html: args.html.clone(),
        };
        Ok(RunConfig {
            options,
            force: args.force,
            after_run,
            github: github(),
            metrics,
            report: args.report.clone(),
            store: !args.no_store,
            drill,
        })
    }

    /// Where the record goes.
    pub(super) fn paths(&self) -> &RecordPaths {
        &self.after_run.paths
    }

    /// Claims the run's journal — created new with its header, locked
    /// until the record is written — so no other run can take its name.
    /// A name taken in the run store (a run of the same drill started in
    /// the same second with the same random suffix, or a file left there)
    /// gets the run a new id; a `--report` journal taken is a usage error.
    /// A problem is printed; its exit code is returned.
    pub(super) fn claim_journal(&mut self, started_at: &str) -> Result<File, i32> {
        for _ in 0..100 {
            if self.store_name_taken() {
                self.new_run_id();
                continue;
            }
            let journal = self.paths().journal();
            let replace = self.paths().replace;
            if replace && journal_is_live(&journal) {
                eprintln!(
                    "error: {} is the journal of a run that is still going; --force does not write over it",
                    journal.display()
                );
                return Err(exit::INVALID);
            }
            let header = Header::new(&self.drill, &self.options.run_id, started_at);
            let line = serde_json::to_string(&header).unwrap_or_default();
            match claim_journal(&journal, &line, replace) {
                Ok(file) => return Ok(file),
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                    if self.report.is_some() {
                        let run = describe_run_file(&journal).unwrap_or_else(|| "a run".into());
                        let why = RecordPathError::UnfinishedJournal { journal, run };
                        eprintln!("error: {why}");
                        return Err(exit::INVALID);
                    }
                    self.new_run_id();
                }
                Err(err) => {
                    eprintln!(
                        "error: cannot create the journal {}: {err}",
                        journal.display()
                    );
                    return Err(exit::FAILED);
                }
            }
        }
        eprintln!(
            "error: no free run id in {}",
            self.after_run.runs_dir.display()
        );
        Err(exit::FAILED)
    }

    /// Whether the run store already has a record (or, for a copy, a
    /// journal) under this run's name.
    fn store_name_taken(&self) -> bool {
        let paths = self.paths();
        match &paths.store_copy {
            Some(copy) => copy.exists() || journal_path_for(copy).exists(),
            None => self.report.is_none() && paths.record.exists(),
        }
    }

    /// Gives the run a new id, and its record the name that goes with it.
    fn new_run_id(&mut self) {
        self.options.run_id = new_run_id();
        self.after_run.paths = record_paths(
            self.report.as_ref(),
            self.store,
            &self.after_run.runs_dir,
            &self.drill,
            &self.options.run_id,
            self.force,
        );
    }
}

/// Where a run's record goes: `--report PATH` or the run store, and with
/// `--report` a copy in the store unless `--no-store`. `--force` lets only
/// a `--report` record replace a file: a name in the store is never reused.
fn record_paths(
    report: Option<&PathBuf>,
    store: bool,
    runs_dir: &Path,
    drill: &str,
    run_id: &str,
    force: bool,
) -> RecordPaths {
    let in_store = default_record_path(runs_dir, drill, run_id);
    RecordPaths {
        record: report.cloned().unwrap_or_else(|| in_store.clone()),
        store_copy: (report.is_some() && store).then_some(in_store),
        replace: force && report.is_some(),
    }
}

/// `--metrics`, `--pushgateway` and `--metrics-job`, checked: a URL that
/// is not one is a usage error before anything runs.
fn metrics(args: &MetricsArgs) -> Result<MetricsSettings, i32> {
    let job = args.metrics_job.trim();
    if job.is_empty() {
        eprintln!("error: --metrics-job: the job label cannot be empty");
        return Err(exit::INVALID);
    }
    let pushgateway = match args.pushgateway.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => match reqwest::Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url),
            _ => {
                eprintln!(
                    "error: --pushgateway: `{text}` is not an http:// or https:// URL (e.g. http://127.0.0.1:9091)"
                );
                return Err(exit::INVALID);
            }
        },
    };
    Ok(MetricsSettings {
        file: args.metrics.clone(),
        pushgateway,
        job: job.to_string(),
    })
}

/// GitHub Actions, when its runner says so (`GITHUB_ACTIONS=true`).
fn github() -> Option<GithubSettings> {
    if std::env::var("GITHUB_ACTIONS").ok().as_deref() != Some("true") {
        return None;
    }
    let path = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    Some(GithubSettings {
        step_summary: path("GITHUB_STEP_SUMMARY"),
        workspace: path("GITHUB_WORKSPACE"),
    })
}

/// Reads `--baseline RECORD` when given; a bad file is a usage error.
pub(super) fn fixed_baseline(compare: &CompareArgs) -> Result<Option<Baseline>, i32> {
    let Some(path) = &compare.baseline else {
        return Ok(None);
    };
    match crate::record::files::read_run(path) {
        Ok(record) => Ok(Some(Baseline::from_record(&record, path))),
        Err(err) => {
            eprintln!("error: --baseline: {err}");
            Err(exit::INVALID)
        }
    }
}

/// `--answers FILE`, checked against the drill's step names.
fn answers(args: &RunArgs, loaded: &LoadedDrill) -> Result<Answers, i32> {
    let Some(path) = &args.answers else {
        return Ok(Answers::default());
    };
    Answers::load(path, &loaded.step_names).map_err(|diagnostics| {
        eprint!("{}", diagnostics.render(std::io::stderr().is_terminal()));
        exit::INVALID
    })
}

/// `--resume RECORD`: an earlier run of this same drill.
fn resume(args: &RunArgs, loaded: &LoadedDrill) -> Result<Option<RunRecord>, i32> {
    let Some(path) = &args.resume else {
        return Ok(None);
    };
    match crate::record::files::read_run(path) {
        Ok(previous) if previous.outcome == RunOutcome::Running => {
            eprintln!(
                "error: --resume: {} is the journal of a run that is still going; resume it once it has stopped",
                path.display()
            );
            Err(exit::INVALID)
        }
        Ok(previous) if previous.drill == loaded.drill.drill.value => Ok(Some(previous)),
        Ok(previous) => {
            eprintln!(
                "error: --resume: {} is a run of `{}`, not of `{}`",
                path.display(),
                previous.drill,
                loaded.drill.drill.value
            );
            Err(exit::INVALID)
        }
        Err(err) => {
            eprintln!("error: --resume: {err}");
            Err(exit::INVALID)
        }
    }
}

/// A terminal makes the run interactive unless `--manual` says otherwise.
fn operator(args: &RunArgs, name: String, answers: Answers) -> Arc<dyn Operator> {
    let interactive = std::io::stdin().is_terminal() && args.manual.is_none();
    if interactive {
        Arc::new(TerminalOperator { name, answers })
    } else {
        Arc::new(Unattended {
            name,
            policy: args.manual,
            answers,
        })
    }
}

/// A run id: sortable by time, unique enough to name tenants and files.
pub fn new_run_id() -> String {
    let now = timestamp(SystemTime::now());
    let digits: String = now.chars().filter(char::is_ascii_digit).take(14).collect();
    let mut random = [0u8; 2];
    let _ = getrandom::fill(&mut random);
    format!(
        "{}-{}-{:02x}{:02x}",
        &digits[..8.min(digits.len())],
        &digits[8.min(digits.len())..],
        random[0],
        random[1]
    )
}
