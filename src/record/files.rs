//! Run records on disk: where they go, reading them back (a crashed run's
//! journal included), and writing them so that no reader ever sees half a
//! file and no run overwrites what another left behind.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

pub use super::atomic::write_atomically;
use super::atomic::write_atomically_with;
use super::journal;
use super::types::RunRecord;
use super::{ReadError, RecordPathError};
use crate::redact::RedactingLines;

/// Where run records go unless `--report` says otherwise.
pub const DEFAULT_RUNS_DIR: &str = ".firedrill/runs";

/// The default record path of a run: by drill name and run id, so no run
/// overwrites another's.
pub fn default_record_path(runs_dir: &Path, drill: &str, run_id: &str) -> PathBuf {
    runs_dir.join(format!("{}-{run_id}.json", drill_file_stem(drill)))
}

/// A drill's name as the store writes it in file names.
pub(crate) fn drill_file_stem(drill: &str) -> String {
    drill
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The drill part of a file the store named (`<drill>-<YYYYMMDD>-<HHMMSS>-<hex4>`
/// then `.json` or `.journal.jsonl`); `None` for a file named otherwise.
pub(crate) fn stored_drill_stem(file_name: &str) -> Option<&str> {
    let stem = file_name
        .strip_suffix(".journal.jsonl")
        .or_else(|| file_name.strip_suffix(".json"))?;
    let (rest, random) = stem.rsplit_once('-')?;
    let (rest, time) = rest.rsplit_once('-')?;
    let (drill, date) = rest.rsplit_once('-')?;
    let digits =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    let hex = random.len() == 4 && random.bytes().all(|b| b.is_ascii_hexdigit());
    (digits(date, 8) && digits(time, 6) && hex && !drill.is_empty()).then_some(drill)
}

/// Reads a run from a record or, for a crashed run, from its journal.
pub fn read_run(path: &Path) -> Result<RunRecord, ReadError> {
    if path.to_string_lossy().ends_with(".jsonl") {
        read_journal(path)
    } else {
        read_record(path)
    }
}

/// Reads a finished run's record (or a journal given in its place).
pub fn read_record(path: &Path) -> Result<RunRecord, ReadError> {
    let text = read_text(path)?;
    if journal::is_journal(&text) {
        return journal::to_record_as(path, &text, super::live::journal_is_live(path));
    }
    serde_json::from_str(&text).map_err(|source| ReadError::NotARecord {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads the journal of a run that never wrote its record, as a run with
/// outcome `crashed` and the steps that finished.
/// A journal still held by its live writer reads as outcome `running`.
pub fn read_journal(path: &Path) -> Result<RunRecord, ReadError> {
    let live = super::live::journal_is_live(path);
    journal::to_record_as(path, &read_text(path)?, live)
}

fn read_text(path: &Path) -> Result<String, ReadError> {
    std::fs::read_to_string(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Which run a record or journal belongs to: its first JSON object.
#[derive(serde::Deserialize)]
struct RunIdentity {
    #[serde(default)]
    drill: String,
    run_id: String,
    #[serde(default)]
    started_at: String,
}

/// The run whose record (or journal) `path` is, in words, or `None` when
/// it is something else. Reads at most 64 MiB.
pub fn describe_run_file(path: &Path) -> Option<String> {
    let file = File::open(path).ok()?;
    let mut text = String::new();
    file.take(64 * 1024 * 1024).read_to_string(&mut text).ok()?;
    let first = text.lines().next().unwrap_or_default();
    let identity: RunIdentity = serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str(first))
        .ok()?;
    Some(format!(
        "run {} of drill `{}`, started {}",
        identity.run_id, identity.drill, identity.started_at
    ))
}

/// Checks that a run may write its record at `record_path`: nothing is
/// there yet, and no journal of an unfinished run is beside it. A run
/// never overwrites what another run left behind unless told to
/// (`--force`); the error says what is there.
pub fn check_record_path(record_path: &Path) -> Result<(), RecordPathError> {
    let path = record_path.to_path_buf();
    if record_path.is_dir() {
        return Err(RecordPathError::Directory(path));
    }
    if record_path.exists() {
        return Err(match describe_run_file(record_path) {
            Some(run) => RecordPathError::AnotherRun { path, run },
            None => RecordPathError::NotARecord(path),
        });
    }
    let journal = journal::journal_path_for(record_path);
    if journal.exists() {
        let run = describe_run_file(&journal).unwrap_or_else(|| "an unknown run".into());
        return Err(RecordPathError::UnfinishedJournal { journal, run });
    }
    Ok(())
}

/// Writes a record atomically: a temporary file beside it, then a rename,
/// so a reader never sees half a record. The JSON is streamed to the file
/// (masked line by line), never held whole: a 10,000-step record is
/// megabytes. Replaces a file at `path` (the run's own record, rewritten).
pub fn write_record(path: &Path, record: &RunRecord) -> std::io::Result<()> {
    write_record_as(path, record, true)
}

/// Writes a record atomically, as [`write_record`], but never over a file
/// already at `path`: that is an `AlreadyExists` error and the file stays
/// as it was.
pub fn write_new_record(path: &Path, record: &RunRecord) -> std::io::Result<()> {
    write_record_as(path, record, false)
}

fn write_record_as(path: &Path, record: &RunRecord, replace: bool) -> std::io::Result<()> {
    write_atomically_with(path, replace, |file| {
        let mut out = RedactingLines::new(BufWriter::new(file));
        serde_json::to_writer_pretty(&mut out, record).map_err(std::io::Error::other)?;
        out.finish()?.flush()
    })
}

/// Where a run's record goes: the record itself, with its journal beside
/// it while the run goes, and a copy in the run store when the record is
/// written elsewhere (`--report PATH`), so `history` misses no run.
#[derive(Clone, Debug)]
pub struct RecordPaths {
    /// `--report PATH`, else `<runs dir>/<drill>-<run id>.json`.
    pub record: PathBuf,
    /// The copy in the run store: with `--report`, unless `--no-store`.
    pub store_copy: Option<PathBuf>,
    /// `--force`: the record may replace a file at its path.
    pub replace: bool,
}

impl RecordPaths {
    /// The journal of the run, beside its record.
    pub fn journal(&self) -> PathBuf {
        journal::journal_path_for(&self.record)
    }

    /// Writes the record, then its store copy (never over another file).
    /// Each failure is said in words; the record's own comes first.
    pub fn write(&self, record: &RunRecord) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if let Err(err) = write_record_as(&self.record, record, self.replace) {
            problems.push(format!(
                "cannot write the run record {}: {err}",
                self.record.display()
            ));
        }
        if let Some(copy) = &self.store_copy {
            // The same bytes: copied from the record just written rather
            // than serialized and masked a second time.
            let written = if problems.is_empty() {
                write_atomically_with(copy, false, |file| {
                    std::io::copy(&mut File::open(&self.record)?, file).map(drop)
                })
            } else {
                write_new_record(copy, record)
            };
            if let Err(err) = written {
                problems.push(format!(
                    "cannot write the run store's copy of the record {}: {err}",
                    copy.display()
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Writes the record and its copy again, over the ones this run wrote
    /// (`--fail-on-regression`).
    pub fn rewrite(&self, record: &RunRecord) -> Result<(), RewriteError> {
        for path in std::iter::once(&self.record).chain(&self.store_copy) {
            write_record(path, record).map_err(|source| RewriteError {
                path: path.clone(),
                source,
            })?;
        }
        Ok(())
    }
}

/// A record written once that could not be written again.
#[derive(Debug, thiserror::Error)]
#[error("cannot rewrite the record {}: {source}", path.display())]
pub struct RewriteError {
    path: PathBuf,
    source: std::io::Error,
}
