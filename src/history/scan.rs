//! The baseline of a run that just finished, read from the run store
//! without holding the store in memory.
//!
//! [`Store::open`](super::Store::open) keeps every record of every drill
//! whole: right for `history`, but at the end of a run it held the
//! previous runs of a 10,000-step drill (and of every other drill) beside
//! the run's own record, megabytes each. Here each record is read twice,
//! streamed: once for which run it is, then — for the last `window` runs of
//! the same drill only — for the few fields of each step a baseline needs,
//! folded in one run at a time. Which runs count is decided as
//! `Store::open` then `baseline_for` decide it.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::Baseline;
use crate::record::files::{drill_file_stem, read_journal, read_record, stored_drill_stem};
use crate::record::{Outcome, Phase, ReadError, RunOutcome, RunRecord};

/// Which run a file holds, and when it started: what choosing the window
/// needs. `steps` is skipped without being kept.
#[derive(Deserialize)]
struct Identity {
    drill: String,
    run_id: String,
    started_at: String,
    #[serde(rename = "steps")]
    _steps: IgnoredAny,
}

/// What a baseline reads of a run.
#[derive(Deserialize)]
struct Slim {
    outcome: RunOutcome,
    duration_ms: u64,
    steps: Vec<SlimStep>,
}

/// What a baseline reads of a step.
#[derive(Deserialize)]
struct SlimStep {
    name: String,
    phase: Phase,
    outcome: Outcome,
    duration_ms: u64,
}

/// A run file of the store: a record, or the journal of a run that never
/// wrote one (read whole: they are rare, and only those carry a crash).
enum RunFile {
    Record(PathBuf),
    Journal(Box<RunRecord>),
}

/// The baseline of `current` in the run store `dir`: the last `window`
/// runs of the same drill that started before it.
pub(crate) fn baseline_in(dir: &Path, current: &RunRecord, window: usize) -> Baseline {
    let mut previous: Vec<(String, String, RunFile)> =
        run_files(dir, &current.drill, &current.run_id)
            .into_iter()
            .filter_map(|file| identify(file, &current.drill))
            .filter(|(started_at, run_id, _)| {
                *run_id != current.run_id
                    && (started_at, run_id) < (&current.started_at, &current.run_id)
            })
            .collect();
    previous.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let previous = previous.split_off(previous.len().saturating_sub(window));
    let description = match previous.len() {
        0 => format!(
            "no previous runs of `{}` in {}",
            current.drill,
            dir.display()
        ),
        1 => format!("the previous run of `{}`", current.drill),
        n => format!("median of the {n} previous runs of `{}`", current.drill),
    };
    let mut baseline = Baseline {
        description,
        ..Baseline::default()
    };
    for (_, _, file) in previous {
        let run = match file {
            RunFile::Journal(record) => Slim::from(*record),
            // Unreadable since it was listed: it counts as absent.
            RunFile::Record(path) => match read_slim(&path) {
                Some(run) => run,
                None => continue,
            },
        };
        let steps = run
            .steps
            .iter()
            .map(|s| (s.phase, s.outcome, s.name.as_str(), s.duration_ms));
        baseline.add_run(run.outcome, run.duration_ms, steps);
    }
    baseline
}

/// The store's run files, as `Store::open` lists them: records, and the
/// journals of runs whose record is not beside them. A file the store
/// named for another drill (`<other>-<run id>.json`) is not opened, so a
/// run's baseline costs what its own drill's history costs, not the whole
/// store's; a file named otherwise (a `--report` path in the store) is.
/// The current run's own files are not opened either: reading a 10,000-step
/// record back only to learn it is this run's took longer than the rest of
/// the baseline.
fn run_files(dir: &Path, drill: &str, run_id: &str) -> Vec<RunFile> {
    let own = drill_file_stem(drill);
    let this_run = format!("{own}-{run_id}.");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let mut files = Vec::new();
    for path in &paths {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let other_drill = stored_drill_stem(name).is_some_and(|stem| stem != own);
        let this_runs = stored_drill_stem(name).is_some() && name.starts_with(&this_run);
        if name.starts_with('.') || other_drill || this_runs || !path.is_file() {
            continue;
        }
        if let Some(stem) = name.strip_suffix(".journal.jsonl") {
            let record = path.with_file_name(format!("{stem}.json"));
            if record.exists() {
                continue;
            }
            match read_journal(path) {
                Ok(run) => files.push(RunFile::Journal(Box::new(run))),
                // Finished since the listing: its record is read instead,
                // unless the listing has it already.
                Err(ReadError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound
                        && !paths.contains(&record)
                        && record.exists() =>
                {
                    files.push(RunFile::Record(record));
                }
                Err(_) => {}
            }
        } else if path.extension().is_some_and(|e| e == "json") {
            files.push(RunFile::Record(path.clone()));
        }
    }
    files
}

/// `(started_at, run_id)` of a run file of `drill`; `None` for another
/// drill's run or a file that is no record.
fn identify(file: RunFile, drill: &str) -> Option<(String, String, RunFile)> {
    let whole = |record: Box<RunRecord>| {
        (record.drill == drill).then(|| {
            let key = (record.started_at.clone(), record.run_id.clone());
            (key.0, key.1, RunFile::Journal(record))
        })
    };
    match file {
        RunFile::Journal(record) => whole(record),
        RunFile::Record(path) => match read_streamed::<Identity>(&path) {
            Some(identity) => (identity.drill == drill).then_some((
                identity.started_at,
                identity.run_id,
                RunFile::Record(path),
            )),
            // A journal given a record's name, say: read as `history`
            // reads it.
            None => whole(Box::new(read_record(&path).ok()?)),
        },
    }
}

/// The slim run of a record file (a journal in its place is read whole).
fn read_slim(path: &Path) -> Option<Slim> {
    read_streamed::<Slim>(path).or_else(|| Some(Slim::from(read_record(path).ok()?)))
}

impl From<RunRecord> for Slim {
    /// What a baseline keeps of a run read whole.
    fn from(record: RunRecord) -> Self {
        Slim {
            outcome: record.outcome,
            duration_ms: record.duration_ms,
            steps: record
                .steps
                .into_iter()
                .map(|s| SlimStep {
                    name: s.name,
                    phase: s.phase,
                    outcome: s.outcome,
                    duration_ms: s.duration_ms,
                })
                .collect(),
        }
    }
}

fn read_streamed<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    let file = File::open(path).ok()?;
    serde_json::from_reader(BufReader::new(file)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run's baseline opens only its own drill's files (and files the
    /// store did not name), never the rest of the store, and not the run's
    /// own record or journal.
    #[test]
    fn a_drills_baseline_lists_only_its_own_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "other-20261201-101010-abcd.json",
            "mine-too-20261201-101010-abcd.json",
            "mine-20261201-101010-abcd.json",
            "mine-20261201-121212-beef.json",
            "mine-20261201-121212-beef.journal.jsonl",
            "custom.json",
        ] {
            std::fs::write(dir.path().join(name), "{}").unwrap();
        }
        let mut listed: Vec<String> = run_files(dir.path(), "mine", "20261201-121212-beef")
            .into_iter()
            .filter_map(|file| match file {
                RunFile::Record(path) => Some(path.file_name()?.to_string_lossy().into_owned()),
                RunFile::Journal(_) => None,
            })
            .collect();
        listed.sort();
        assert_eq!(listed, ["custom.json", "mine-20261201-101010-abcd.json"]);
    }
}
