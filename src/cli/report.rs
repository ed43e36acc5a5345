//! `firedrill report`: one run rendered, compared with the runs beside it.

use std::path::PathBuf;

use super::config::fixed_baseline;
use super::{ReportArgs, exit};
use crate::history::{BASELINE_WINDOW, Store};

pub(super) fn report(args: &ReportArgs) -> i32 {
    let record = match crate::record::files::read_run(&args.record) {
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
