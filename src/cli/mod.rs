//! The command line: [`args`] holds the raw clap arguments, `config` the
//! checked configuration `run` builds from them and the environment, and
//! each command has a file of its own. `main.rs` only maps the result to an
//! exit code.
//!
//! Layer: the top of the library. It may use everything below it (drill,
//! steps, run, report, history); nothing below imports it.

mod args;
mod check;
mod completions;
mod config;
mod history;
mod init;
mod man;
mod plan;
mod report;
mod run;
mod runbook;
mod schema;
mod signals;

use std::io::IsTerminal;

pub use args::Cli;
use args::{
    Command, CompareArgs, CompletionsArgs, DrillArgs, HistoryArgs, InitArgs, ManArgs, ReportArgs,
    RunArgs, RunbookArgs, SchemaArgs, Template,
};
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
        Command::Schema(args) => schema::schema(&args),
        Command::Completions(args) => completions::completions(&args),
        Command::Man(args) => man::man(&args),
        Command::Init(args) => init::init(&args),
    }
}

/// Writes `text` to `output` (atomically) or to standard output.
fn emit(output: Option<&std::path::Path>, text: &[u8]) -> i32 {
    use std::io::Write;
    if let Some(path) = output {
        return match crate::record::files::write_atomically(path, text) {
            Ok(()) => exit::PASSED,
            Err(err) => {
                eprintln!("error: cannot write {}: {err}", path.display());
                exit::FAILED
            }
        };
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text).and_then(|()| out.flush()) {
        Ok(()) => exit::PASSED,
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => exit::PASSED,
        Err(err) => {
            eprintln!("error: cannot write to standard output: {err}");
            exit::FAILED
        }
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
