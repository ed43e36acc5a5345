//! The raw command line, as clap parses it: flags, defaults and help
//! text, nothing resolved. What a command runs with is built from these
//! (see `config`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::history::{BASELINE_WINDOW, DEFAULT_THRESHOLD, Threshold};
use crate::operator::ManualPolicy;
use crate::record::files::DEFAULT_RUNS_DIR;
use crate::report::Format;
use crate::report::metrics::DEFAULT_JOB;

/// Rehearse deployment operations as code: run a drill against a real
/// target, time every step, and record what people had to do.
#[derive(Debug, Parser)]
#[command(name = "firedrill", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 passed, 1 failed, 2 invalid drill or usage, 130 interrupted (143 on SIGTERM)."
)]
pub struct Cli {
    #[command(subcommand)]
    /// The command to run.
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a drill: every step timed, cleanup always, a JSON record written.
    Run(Box<RunArgs>),
    /// Check a drill without running anything: syntax, names, paths, regexes.
    Check(DrillArgs),
    /// Show the steps as they would run, without running anything.
    Plan(DrillArgs),
    /// Render a run record (or a crashed run's journal) as a report.
    Report(ReportArgs),
    /// Past runs: outcomes, times, and each step of the latest run against
    /// the median of the runs before it; `--html` for a trend page.
    History(HistoryArgs),
    /// Write the drill as a Markdown runbook for people (nothing runs).
    Runbook(RunbookArgs),
    /// Print the JSON Schema of the drill format (or of the run record),
    /// for editors and scripts.
    Schema(SchemaArgs),
    /// Print a shell completion script: bash, zsh, fish, elvish or
    /// powershell.
    Completions(CompletionsArgs),
    /// Print the man page (roff), for `man -l -` or a man directory.
    Man(ManArgs),
    /// Write a starter drill that passes `check` and runs against
    /// demo-app as written.
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The run record's schema instead of the drill format's.
    #[arg(long)]
    pub record: bool,
    /// Write the schema here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write the man page here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The drill's name; the file is NAME.yaml (or NAME itself when it
    /// ends in .yaml, .yml or .json).
    #[arg(default_value = "my-drill")]
    pub name: String,
    /// What the drill starts from.
    #[arg(long, short, value_enum, default_value = "http")]
    pub template: Template,
}

/// The starter drills of `firedrill init`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Template {
    /// HTTP steps against demo-app: a tenant, a role, a backup, cleanup.
    Http,
    /// demo-app in a container: run, check, restart, copy the data out, sweep.
    Docker,
    /// demo-app as a Swarm service: create, roll out version 2, sweep.
    Swarm,
    /// Manual steps between automated ones, with an answers file for CI.
    NewEngineer,
}

#[derive(Debug, Args)]
pub struct RunbookArgs {
    /// The drill file (YAML or JSON).
    pub drill: PathBuf,
    /// Write the runbook here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DrillArgs {
    /// The drill file (YAML or JSON).
    pub drill: PathBuf,
    /// Set a var: `--var tenant=acme` (repeatable; overrides `vars:`).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// Read vars from a YAML or JSON map, one file per environment
    /// (repeatable; later files win, `--var` wins over files).
    #[arg(long = "vars", value_name = "FILE")]
    pub vars_files: Vec<PathBuf>,
    /// Read `${env.NAME}` values from a dotenv file, for this run only
    /// (repeatable; later files win; a variable already in the environment
    /// wins over the files).
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools)] // each is a switch on the command line
pub struct RunArgs {
    #[command(flatten)]
    pub drill: DrillArgs,
    /// Where to write the run record (default: a new file under --runs-dir).
    /// The run store gets a copy too, unless --no-store.
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// With --report: keep no copy of the record in the run store, so
    /// `history` will not list this run.
    #[arg(long, requires = "report")]
    pub no_store: bool,
    /// Write the record at --report even over a file (another run's record)
    /// or beside an unfinished run's journal.
    #[arg(long)]
    pub force: bool,
    /// The run store: every run's record (a copy, with --report), and the
    /// journal of a run that is going or crashed.
    #[arg(long, value_name = "DIR", env = "FIREDRILL_RUNS_DIR", default_value = DEFAULT_RUNS_DIR)]
    pub runs_dir: PathBuf,
    /// What to do at manual steps when nobody is at a terminal.
    #[arg(long, value_enum, value_name = "POLICY")]
    pub manual: Option<ManualPolicy>,
    /// Who is running the drill (default: $`FIREDRILL_OPERATOR`, else the login name).
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,
    /// Also fail on any intervention, help needed or budget overrun.
    #[arg(long)]
    pub strict: bool,
    /// Script the operator: answers per step name (manual results and what
    /// to do on failure), for CI and tests.
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Continue an interrupted or aborted run (its record, or its journal
    /// after a crash) from its first unfinished step, with its captures.
    #[arg(long, value_name = "RECORD")]
    pub resume: Option<PathBuf>,
    /// Stop the steps after this long (overrides the drill's `timeout`).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// How long cleanup may take in all.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "5m")]
    pub cleanup_timeout: std::time::Duration,
    /// How long a running step may finish after Ctrl-C before it is cancelled.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "2s")]
    pub grace: std::time::Duration,
    /// Also write the run as `JUnit` XML, for a CI test tab.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write a Markdown summary (`$GITHUB_STEP_SUMMARY`, a PR comment).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Also write a self-contained HTML page with a timeline of the run.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    #[command(flatten)]
    pub compare: CompareArgs,
    /// Fail the run when a step or the total regressed past --regression.
    #[arg(long)]
    pub fail_on_regression: bool,
    #[command(flatten)]
    pub metrics: MetricsArgs,
}

/// Where the run's Prometheus metrics go.
#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Also write the run's metrics in the `OpenMetrics` text format (for
    /// `node_exporter`'s textfile collector).
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
    /// Push the run's metrics to this Prometheus Pushgateway when the run
    /// ends (passed, failed or interrupted), replacing the drill's group
    /// /metrics/job/JOB/drill/DRILL. A failed push is only a warning.
    #[arg(long, value_name = "URL", env = "FIREDRILL_PUSHGATEWAY")]
    pub pushgateway: Option<String>,
    /// The `job` label of the metrics (and of the Pushgateway group).
    #[arg(long, value_name = "NAME", env = "FIREDRILL_METRICS_JOB", default_value = DEFAULT_JOB)]
    pub metrics_job: String,
}

/// What a run is compared with.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Compare with this run (a record, or a crashed run's journal) instead
    /// of the median of the previous runs of the drill.
    #[arg(long, value_name = "RECORD")]
    pub baseline: Option<PathBuf>,
    /// How much slower than the baseline a step or the run may get before
    /// it is flagged as a regression.
    #[arg(long, value_name = "PERCENT", default_value = DEFAULT_THRESHOLD)]
    pub regression: Threshold,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run record, or the `.journal.jsonl` of a run that crashed.
    pub record: PathBuf,
    /// What to render.
    #[arg(long, short, value_enum, default_value = "terminal")]
    pub format: Format,
    /// Write here (atomically) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Where the previous runs are (default: the record's directory).
    #[arg(long, value_name = "DIR")]
    pub runs_dir: Option<PathBuf>,
    #[command(flatten)]
    pub compare: CompareArgs,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// A drill name (or drill file); all drills when absent.
    pub drill: Option<String>,
    /// How many runs to list, and how many runs before the latest make the
    /// median it is compared with.
    #[arg(long, value_name = "N", default_value_t = BASELINE_WINDOW, value_parser = parse_count)]
    pub last: usize,
    /// Print JSON, for scripts.
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML page: per drill, a trend chart of
    /// the runs (machine and human time, budget, outcomes, interventions)
    /// and each step against its median.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The run store: finished runs' records, and the journals of runs
    /// that are going (listed as running) or crashed.
    #[arg(long, value_name = "DIR", env = "FIREDRILL_RUNS_DIR", default_value = DEFAULT_RUNS_DIR)]
    pub runs_dir: PathBuf,
    /// How much slower than the median the latest run may get before it
    /// is flagged as a regression.
    #[arg(long, value_name = "PERCENT", default_value = DEFAULT_THRESHOLD)]
    pub regression: Threshold,
}

/// An argument value clap cannot take as it is.
#[derive(Debug, thiserror::Error)]
pub(super) enum ArgError {
    #[error("`{0}` is not a count of runs (1 or more)")]
    NotACount(String),
    #[error("`{0}` is not NAME=VALUE")]
    NotAVar(String),
}

fn parse_count(text: &str) -> Result<usize, ArgError> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ArgError::NotACount(text.to_string())),
    }
}

fn parse_var(text: &str) -> Result<(String, String), ArgError> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(ArgError::NotAVar(text.to_string())),
    }
}
