//! What `run` runs with, resolved from its arguments and the environment
//! (the operator's name, whether a person is at the terminal) and checked
//! before anything runs: the raw arguments stay in `args`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use super::args::MetricsArgs;
use super::{CompareArgs, RunArgs, exit};
use crate::drill::LoadedDrill;
use crate::drill::inputs::Inputs;
use crate::history::Baseline;
use crate::operator::{Answers, Operator, TerminalOperator, Unattended, login_name};
use crate::record::RunRecord;
use crate::record::files::default_record_path;
use crate::record::format::timestamp;
use crate::report::after_run::AfterRunSettings;
use crate::report::github::GithubSettings;
use crate::report::metrics::MetricsSettings;
use crate::run::{DEFAULT_MAX_BODY_BYTES, RunOptions};

/// A run, configured: how to run it, where its record goes, and what to do
/// once it is written.
pub(super) struct RunConfig {
    pub options: RunOptions,
    pub record_path: PathBuf,
    /// `--force`: write the record even over another run's.
    pub force: bool,
    pub after_run: AfterRunSettings,
    /// GitHub Actions annotations, when `GITHUB_ACTIONS=true`.
    pub github: Option<GithubSettings>,
    /// `--metrics` and `--pushgateway`.
    pub metrics: MetricsSettings,
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
        let record_path = args.report.clone().unwrap_or_else(|| {
            default_record_path(&args.runs_dir, &loaded.drill.drill.value, &options.run_id)
        });
        let after_run = AfterRunSettings {
            record_path: record_path.clone(),
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
            record_path,
            force: args.force,
            after_run,
            github: github(),
            metrics,
        })
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
