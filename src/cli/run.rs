//! `firedrill run`: load, configure, prepare, then run the drill with its
//! reporters watching, and turn the verdict into an exit code.

use std::fs::File;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::SystemTime;

use super::config::RunConfig;
use super::signals::{interrupted_exit_code, watch_signals};
use super::{RunArgs, exit, load};
use crate::drill::LoadedDrill;
use crate::record::format::timestamp;
use crate::record::{RunOutcome, RunRecord};
use crate::report::after_run::{AfterRun, AfterRunSettings};
use crate::report::github::{Github, GithubSettings};
use crate::report::journal::Journal;
use crate::report::metrics::{Metrics, MetricsSettings};
use crate::report::{LogObserver, terminal};
use crate::run::event::Observers;
use crate::run::{Cancellation, Prepared, RunOptions};

pub(super) fn run(args: &RunArgs) -> i32 {
    let (loaded, inputs) = match load(&args.drill) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let http = match crate::run::http_client(&loaded) {
        Ok(http) => http,
        Err(problem) => {
            eprint!("{}", problem.render(std::io::stderr().is_terminal()));
            return exit::INVALID;
        }
    };
    let mut config = match RunConfig::resolve(args, &loaded, inputs) {
        Ok(config) => config,
        Err(code) => return code,
    };
    if !config.force {
        if let Err(why) = crate::record::files::check_record_path(&config.paths().record) {
            eprintln!("error: {why}");
            return exit::INVALID;
        }
    }
    let started_at = timestamp(SystemTime::now());
    let journal = match config.claim_journal(&started_at) {
        Ok(journal) => journal,
        Err(code) => return code,
    };
    let prepared = match crate::run::prepare(&loaded, &config.options, &started_at) {
        Ok(prepared) => prepared,
        Err(diagnostics) => {
            drop(journal);
            let _ = std::fs::remove_file(config.paths().journal());
            eprint!("{}", diagnostics.render(std::io::stderr().is_terminal()));
            return exit::INVALID;
        }
    };
    let RunConfig {
        options,
        after_run,
        github,
        metrics,
        ..
    } = config;
    let reporters = Reporters::new(journal, after_run, github, metrics);
    run_prepared(loaded, prepared, &options, &reporters, http)
}

/// The reporters of a run, in the order they see each event: warnings,
/// progress, the journal, logs, then (once the run ends) the after-run
/// reports, the summary, which prints their verdict, the GitHub Actions
/// annotations and the metrics (pushed once the run is over).
struct Reporters {
    observers: Observers,
    journal: Arc<Journal>,
    after_run: Arc<AfterRun>,
    metrics: Arc<Metrics>,
}

impl Reporters {
    /// `journal` is the run's journal, claimed.
    fn new(
        journal: File,
        settings: AfterRunSettings,
        github: Option<GithubSettings>,
        metrics: MetricsSettings,
    ) -> Self {
        let journal = Arc::new(Journal::new(settings.paths.clone(), journal));
        let after_run = Arc::new(AfterRun::new(settings));
        let metrics = Arc::new(Metrics::new(metrics, after_run.clone()));
        let mut observers = Observers::default();
        observers.push(Arc::new(terminal::Warnings));
        observers.push(Arc::new(terminal::Progress::new(
            std::io::stdout().is_terminal(),
        )));
        observers.push(journal.clone());
        observers.push(Arc::new(LogObserver));
        observers.push(after_run.clone());
        observers.push(Arc::new(terminal::Summary::new(
            journal.clone(),
            after_run.clone(),
        )));
        if let Some(github) = github {
            observers.push(Arc::new(Github::new(github, after_run.clone())));
        }
        observers.push(metrics.clone());
        Reporters {
            observers,
            journal,
            after_run,
            metrics,
        }
    }
}

/// Runs the drill on a runtime of its own, watching for signals.
fn run_prepared(
    loaded: LoadedDrill,
    prepared: Prepared,
    options: &RunOptions,
    reporters: &Reporters,
    http: reqwest::Client,
) -> i32 {
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
    let observers = &reporters.observers;
    let record = runtime.block_on(async {
        let signals = tokio::spawn(watch_signals(cancel.clone()));
        let record = crate::run::execute(loaded, prepared, options, http, observers, &cancel).await;
        signals.abort();
        // Also after a failure or an interrupt; a further Ctrl-C gives up
        // the push rather than wait for its timeout.
        tokio::select! {
            () = reporters.metrics.push() => {}
            _ = tokio::signal::ctrl_c() => eprintln!("warning: the metrics were not pushed (interrupted)"),
        }
        record
    });
    // A prompt abandoned by Ctrl-C still blocks a thread on the terminal:
    // do not wait for it (the record is already written).
    runtime.shutdown_background();
    exit_code(reporters, &record)
}

/// The exit code: a record or report that could not be written fails the
/// run whatever its outcome.
fn exit_code(reporters: &Reporters, record: &RunRecord) -> i32 {
    let (outcome, problems) = match reporters.after_run.verdict() {
        Some(verdict) => (
            verdict.failed_record.map_or(record.outcome, |r| r.outcome),
            verdict.problems,
        ),
        None => (record.outcome, Vec::new()),
    };
    if let Some(problem) = reporters.journal.problem() {
        eprintln!("error: {problem}");
        return exit::FAILED;
    }
    let problems: Vec<String> = problems
        .into_iter()
        .chain(reporters.metrics.problem())
        .collect();
    if !problems.is_empty() {
        for problem in problems {
            eprintln!("error: {problem}");
        }
        return exit::FAILED;
    }
    match outcome {
        RunOutcome::Passed => exit::PASSED,
        RunOutcome::Failed | RunOutcome::Crashed | RunOutcome::Running => exit::FAILED,
        RunOutcome::Interrupted => interrupted_exit_code(),
    }
}
