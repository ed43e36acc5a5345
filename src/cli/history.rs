//! `firedrill history`: the runs in the store, and the latest against the
//! median of the ones before it.

use super::{HistoryArgs, exit};
use crate::history::{DrillTrend, History, Store};

pub(super) fn history(args: &HistoryArgs) -> i32 {
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
        print!("{}", crate::report::history::history(&history));
    }
    if let Some(path) = &args.html {
        let trends = DrillTrend::of_store(&store, drill.as_deref(), args.last);
        let page = crate::report::trend_html::render(&trends, &args.runs_dir, args.regression);
        if let Err(err) = crate::report::write_report(path, &page) {
            eprintln!("error: cannot write {}: {err}", path.display());
            return exit::FAILED;
        }
        if !args.json {
            println!("history page: {}", path.display());
        }
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
