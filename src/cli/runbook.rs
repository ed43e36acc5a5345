//! `firedrill runbook`: the drill as a Markdown runbook for people.

use super::{DrillArgs, RunbookArgs, exit, load};

pub(super) fn runbook(args: &RunbookArgs) -> i32 {
    let loaded = match load(&DrillArgs {
        drill: args.drill.clone(),
        vars: Vec::new(),
        vars_files: Vec::new(),
        env_files: Vec::new(),
    }) {
        Ok((loaded, _)) => loaded,
        Err(code) => return code,
    };
    let text = crate::runbook::runbook(&loaded);
    if let Some(path) = &args.output {
        match crate::record::files::write_atomically(path, text.as_bytes()) {
            Ok(()) => exit::PASSED,
            Err(err) => {
                eprintln!("error: cannot write {}: {err}", path.display());
                exit::FAILED
            }
        }
    } else {
        print!("{text}");
        exit::PASSED
    }
}
