//! `firedrill check`: load and check a drill, run nothing.

use super::{DrillArgs, exit, load};

pub(super) fn check(args: &DrillArgs) -> i32 {
    match load(args) {
        Ok((loaded, _)) => {
            println!(
                "{}: ok ({} steps, {} cleanup)",
                loaded.path.display(),
                loaded.step_names.len(),
                loaded.cleanup_names.len()
            );
            exit::PASSED
        }
        Err(code) => code,
    }
}
