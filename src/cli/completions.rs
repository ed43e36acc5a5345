//! `firedrill completions SHELL`: a completion script, from the clap
//! definitions (so it never drifts from the command line).

use clap::CommandFactory;

use super::{Cli, CompletionsArgs, emit};

pub(super) fn completions(args: &CompletionsArgs) -> i32 {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "firedrill", &mut script);
    emit(None, &script)
}
