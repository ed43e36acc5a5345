//! The command line: [`args`] holds the raw clap arguments, `config` the
//! checked configuration `run` builds from them and the environment, and
//! each command has a file of its own. `main.rs` only maps the result to an
//! exit code.
//!
//! Layer: the top of the library. It may use everything below it (drill,
//! steps, run, report, history); nothing below imports it.

mod args;
mod check;
mod config;
mod history;
mod plan;
mod report;
mod run;
mod runbook;
mod signals;

use std::io::IsTerminal;

pub use args::Cli;
use args::{Command, CompareArgs, DrillArgs, HistoryArgs, ReportArgs, RunArgs, RunbookArgs};
pub use config::new_run_id;

use crate::drill::inputs::Inputs;
use crate::drill::{Diagnostics, LoadedDrill};

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

/// Runs a parsed command line; returns the exit code.
pub fn main(cli: Cli) -> i32 {
    match cli.command {
        Command::Check(args) => check::check(&args),
        Command::Plan(args) => plan::plan(&args),
        Command::Report(args) => report::report(&args),
        Command::History(args) => history::history(&args),
        Command::Runbook(args) => runbook::runbook(&args),
        Command::Run(args) => run::run(&args),
    }
}

/// Reads the vars and env files, then loads and checks the drill (names
/// the inputs define count as defined), printing located errors.
fn load(args: &DrillArgs) -> Result<(LoadedDrill, Inputs), i32> {
    let show = |diagnostics: Diagnostics| {
        eprint!("{}", diagnostics.render(std::io::stderr().is_terminal()));
        exit::INVALID
    };
    let inputs = Inputs::read(&args.vars_files, &args.env_files, &args.vars).map_err(show)?;
    let loaded = crate::steps::load(&args.drill, &inputs.names()).map_err(show)?;
    Ok((loaded, inputs))
}
