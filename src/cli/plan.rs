//! `firedrill plan`: the steps as they would run, nothing run.

use super::{DrillArgs, exit, load};

pub(super) fn plan(args: &DrillArgs) -> i32 {
    match load(args) {
        Ok((loaded, inputs)) => {
            print!("{}", crate::plan::plan(&loaded, &inputs));
            exit::PASSED
        }
        Err(code) => code,
    }
}
