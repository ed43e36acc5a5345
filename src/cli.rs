//! The command line: argument definitions and what each command does.
//! `main.rs` only maps the result to an exit code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use clap::{Args, Parser, Subcommand};

use crate::drill::LoadedDrill;
use crate::history::{BASELINE_WINDOW, Baseline, DEFAULT_THRESHOLD, History, Store, Threshold};
use crate::operator::{Answers, ManualPolicy, Operator, TerminalOperator, Unattended, login_name};
use crate::report::journal::{DEFAULT_RUNS_DIR, Journal, default_record_path};
use crate::report::record::{RunOutcome, timestamp};
use crate::report::{AfterRun, Format, LogObserver, terminal};
use crate::run::event::Observers;
use crate::run::{Cancellation, DEFAULT_MAX_BODY_BYTES, RunOptions, Stop};

/// Exit codes, as documented in the README.
pub mod exit {
    /// The drill passed.
    pub const PASSED: i32 = 0;
    /// The drill ran and failed.
    pub const FAILED: i32 = 1;
    /// The drill file or the command line is invalid.
    pub const INVALID: i32 = 2;
    /// Interrupted by Ctrl-C (SIGINT); cleanup ran.
    pub const INTERRUPTED: i32 = 130;
    /// Stopped by SIGTERM; cleanup ran.
    pub const TERMINATED: i32 = 143;
}

/// Rehearse deployment operations as code: run a drill against a real
/// target, time every step, and record what people had to do.
#[derive(Debug, Parser)]
#[command(name = "firedrill", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 passed, 1 failed, 2 invalid drill or usage, 130 interrupted (143 on SIGTERM)."
)]
pub struct Cli {
    #[command(subcommand)]
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
    /// the median of the runs before it.
    History(HistoryArgs),
    /// Write the drill as a Markdown runbook for people (nothing runs).
    Runbook(RunbookArgs),
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
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub drill: DrillArgs,
    /// Where to write the run record (default: a new file under --runs-dir).
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Write the record at --report even over a file (another run's record)
    /// or beside an unfinished run's journal.
    #[arg(long)]
    pub force: bool,
    /// Directory of run records.
    #[arg(long, value_name = "DIR", env = "FIREDRILL_RUNS_DIR", default_value = DEFAULT_RUNS_DIR)]
    pub runs_dir: PathBuf,
    /// What to do at manual steps when nobody is at a terminal.
    #[arg(long, value_enum, value_name = "POLICY")]
    pub manual: Option<ManualPolicy>,
    /// Who is running the drill (default: $FIREDRILL_OPERATOR, else the login name).
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
    /// Also write the run as JUnit XML, for a CI test tab.
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
    /// Directory of run records.
    #[arg(long, value_name = "DIR", env = "FIREDRILL_RUNS_DIR", default_value = DEFAULT_RUNS_DIR)]
    pub runs_dir: PathBuf,
    /// How much slower than the median the latest run may get before it
    /// is flagged as a regression.
    #[arg(long, value_name = "PERCENT", default_value = DEFAULT_THRESHOLD)]
    pub regression: Threshold,
}

fn parse_count(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{text}` is not a count of runs (1 or more)")),
    }
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("`{text}` is not NAME=VALUE")),
    }
}

/// Loads and checks a drill, printing located errors.
fn load(args: &DrillArgs) -> Result<LoadedDrill, i32> {
    let names: Vec<String> = args.vars.iter().map(|(k, _)| k.clone()).collect();
    crate::steps::load(&args.drill, &names).map_err(|diagnostics| {
        eprint!("{}", diagnostics.render(std::io::stderr().is_terminal()));
        exit::INVALID
    })
}

/// Runs a parsed command line; returns the exit code.
pub fn main(cli: Cli) -> i32 {
    match cli.command {
        Command::Check(args) => match load(&args) {
            Ok(loaded) => {
                println!(
                    "{}: ok ({} steps, {} cleanup)",
                    loaded.path.display(),
                    loaded.step_names.len(),
                    loaded.cleanup_names.len()
                );
                exit::PASSED
            }
            Err(code) => code,
        },
        Command::Plan(args) => match load(&args) {
            Ok(loaded) => {
                print!("{}", crate::plan::plan(&loaded, &args.vars));
                exit::PASSED
            }
            Err(code) => code,
        },
        Command::Report(args) => report(&args),
        Command::History(args) => history(&args),
        Command::Runbook(args) => runbook(&args),
        Command::Run(args) => match load(&args.drill) {
            Ok(loaded) => match crate::run::http_client(&loaded) {
                Ok(http) => run(&loaded, &args, http),
                Err(problem) => {
                    eprint!("{}", problem.render(std::io::stderr().is_terminal()));
                    exit::INVALID
                }
            },
            Err(code) => code,
        },
    }
}

/// `firedrill runbook`: the drill as a Markdown runbook.
fn runbook(args: &RunbookArgs) -> i32 {
    let loaded = match load(&DrillArgs {
        drill: args.drill.clone(),
        vars: Vec::new(),
    }) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let text = crate::runbook::runbook(&loaded);
    match &args.output {
        Some(path) => match crate::report::journal::write_atomically(path, text.as_bytes()) {
            Ok(()) => exit::PASSED,
            Err(err) => {
                eprintln!("error: cannot write {}: {err}", path.display());
                exit::FAILED
            }
        },
        None => {
            print!("{text}");
            exit::PASSED
        }
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

/// Reads `--baseline RECORD` when given; a bad file is a usage error.
fn fixed_baseline(compare: &CompareArgs) -> Result<Option<Baseline>, i32> {
    let Some(path) = &compare.baseline else {
        return Ok(None);
    };
    match crate::history::read_run(path) {
        Ok(record) => Ok(Some(Baseline::from_record(&record, path))),
        Err(err) => {
            eprintln!("error: --baseline: {err}");
            Err(exit::INVALID)
        }
    }
}

/// `firedrill report`: one run, rendered; compared with the runs beside it.
fn report(args: &ReportArgs) -> i32 {
    let record = match crate::history::read_run(&args.record) {
        Ok(record) => record,
        Err(err) => {
            eprintln!("error: {err}");
            return exit::INVALID;
        }
    };
    let baseline = match fixed_baseline(&args.compare) {
        Ok(Some(baseline)) => baseline,
        Ok(None) => {
            let dir = args.runs_dir.clone().unwrap_or_else(|| {
                args.record
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .map_or(PathBuf::from("."), PathBuf::from)
            });
            Store::open(&dir).baseline_for(&record, BASELINE_WINDOW)
        }
        Err(code) => return code,
    };
    let comparison = baseline.compare(&record, args.compare.regression);
    let text = match crate::report::render(&record, args.format, Some(&comparison)) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("error: cannot render the report: {err}");
            return exit::FAILED;
        }
    };
    let output = args.output.clone().unwrap_or_else(|| PathBuf::from("-"));
    match crate::report::write_report(&output, &text) {
        Ok(()) => exit::PASSED,
        Err(err) => {
            eprintln!("error: cannot write {}: {err}", output.display());
            exit::FAILED
        }
    }
}

/// `firedrill history`: the runs in the store, and the latest against the
/// median.
fn history(args: &HistoryArgs) -> i32 {
    let store = Store::open(&args.runs_dir);
    let drill = args.drill.as_deref().map(drill_name);
    let history = History::new(&store, drill.as_deref(), args.last, args.regression);
    if args.json {
        match serde_json::to_string_pretty(&history) {
            Ok(json) => println!("{}", crate::redact::redact(&json)),
            Err(err) => {
                eprintln!("error: {err}");
                return exit::FAILED;
            }
        }
    } else {
        print!("{}", history.terminal());
    }
    exit::PASSED
}

/// A drill named on the command line: a name, or a drill file whose
/// `drill:` is the name.
fn drill_name(arg: &str) -> String {
    let path = std::path::Path::new(arg);
    if path.is_file() {
        if let Ok(loaded) = crate::steps::load(path, &[]) {
            return loaded.drill.drill.value;
        }
    }
    arg.to_string()
}

fn run(loaded: &LoadedDrill, args: &RunArgs, http: reqwest::Client) -> i32 {
    let fixed_baseline = match fixed_baseline(&args.compare) {
        Ok(baseline) => baseline,
        Err(code) => return code,
    };
    let operator_name = args.operator.clone().unwrap_or_else(login_name);
    let answers = match &args.answers {
        Some(path) => match Answers::load(path, &loaded.step_names) {
            Ok(answers) => answers,
            Err(diagnostics) => {
                eprint!("{}", diagnostics.render(std::io::stderr().is_terminal()));
                return exit::INVALID;
            }
        },
        None => Answers::default(),
    };
    let resume = match &args.resume {
        Some(path) => match crate::history::read_run(path) {
            Ok(previous) if previous.drill == loaded.drill.drill.value => Some(previous),
            Ok(previous) => {
                eprintln!(
                    "error: --resume: {} is a run of `{}`, not of `{}`",
                    path.display(),
                    previous.drill,
                    loaded.drill.drill.value
                );
                return exit::INVALID;
            }
            Err(err) => {
                eprintln!("error: --resume: {err}");
                return exit::INVALID;
            }
        },
        None => None,
    };
    // A terminal makes the run interactive unless a policy says otherwise.
    let interactive = std::io::stdin().is_terminal() && args.manual.is_none();
    let operator: Arc<dyn Operator> = if interactive {
        Arc::new(TerminalOperator {
            name: operator_name.clone(),
            answers,
        })
    } else {
        Arc::new(Unattended {
            name: operator_name.clone(),
            policy: args.manual,
            answers,
        })
    };
    let options = RunOptions {
        run_id: new_run_id(),
        vars: args.drill.vars.clone(),
        operator,
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
    let started_at = timestamp(SystemTime::now());
    let prepared = match crate::run::prepare(loaded, &options, &started_at) {
        Ok(prepared) => prepared,
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render(std::io::stderr().is_terminal()));
            return exit::INVALID;
        }
    };
    let record_path = args.report.clone().unwrap_or_else(|| {
        default_record_path(&args.runs_dir, &loaded.drill.drill.value, &options.run_id)
    });
    let refused = match args.force {
        true => Ok(()),
        false => crate::report::journal::check_record_path(&record_path),
    };
    if let Err(why) = refused {
        eprintln!("error: {why}");
        return exit::INVALID;
    }
    let journal = Arc::new(Journal::new(record_path.clone()));
    let mut observers = Observers::default();
    observers.push(Arc::new(terminal::Progress::new(
        std::io::stdout().is_terminal(),
    )));
    observers.push(journal.clone());
    observers.push(Arc::new(LogObserver));

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return exit::FAILED;
        }
    };
    let cancel = Cancellation::default();
    let mut record = runtime.block_on(async {
        let signals = tokio::spawn(watch_signals(cancel.clone()));
        let record =
            crate::run::execute(loaded, prepared, &options, http, &observers, &cancel).await;
        signals.abort();
        record
    });
    // A prompt abandoned by Ctrl-C still blocks a thread on the terminal:
    // do not wait for it (the record is already written).
    runtime.shutdown_background();
    let baseline = fixed_baseline
        .unwrap_or_else(|| Store::open(&args.runs_dir).baseline_for(&record, BASELINE_WINDOW));
    let (comparison, problems) = AfterRun {
        record_path: journal.record_path(),
        baseline,
        threshold: args.compare.regression,
        fail_on_regression: args.fail_on_regression,
        junit: args.junit.as_deref(),
        markdown: args.markdown.as_deref(),
        html: args.html.as_deref(),
    }
    .apply(&mut record);
    print!(
        "{}{}",
        terminal::summary(&record, Some(journal.record_path())),
        comparison.terminal()
    );
    if let Some(problem) = journal.problem() {
        eprintln!("error: the run record is incomplete: {problem}");
        return exit::FAILED;
    }
    if !problems.is_empty() {
        for problem in problems {
            eprintln!("error: {problem}");
        }
        return exit::FAILED;
    }
    match record.outcome {
        RunOutcome::Passed => exit::PASSED,
        RunOutcome::Failed | RunOutcome::Crashed => exit::FAILED,
        RunOutcome::Interrupted => match LAST_SIGNAL.get() {
            Some(Signal::Terminate) => exit::TERMINATED,
            _ => exit::INTERRUPTED,
        },
    }
}

/// Which signal stopped the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Interrupt,
    Terminate,
}

/// First SIGINT/SIGTERM: stop the steps, run cleanup. Second: skip the rest
/// of cleanup. The record is written either way.
async fn watch_signals(cancel: Cancellation) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    loop {
        let got = tokio::select! {
            _ = interrupt.recv() => Signal::Interrupt,
            _ = terminate.recv() => Signal::Terminate,
        };
        if LAST_SIGNAL.set(got).is_ok() {
            eprintln!(
                "\ninterrupted: stopping the steps and running cleanup (press Ctrl-C again to skip cleanup)"
            );
            cancel.stop(Stop::Interrupted(format!("interrupted by {got:?}")));
        } else {
            eprintln!(
                "\ninterrupted again: skipping the rest of cleanup; the record will still be written"
            );
            cancel.stop_cleanup();
        }
    }
}

/// The first signal received, for the exit code.
static LAST_SIGNAL: std::sync::OnceLock<Signal> = std::sync::OnceLock::new();
