//! Run records on disk: where they go, reading them back (a crashed run's
//! journal included), and writing them so that no reader ever sees half a
//! file and no run overwrites what another left behind.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::journal;
use super::types::RunRecord;
use super::{ReadError, RecordPathError};
use crate::redact::RedactingLines;

/// Where run records go unless `--report` says otherwise.
pub const DEFAULT_RUNS_DIR: &str = ".firedrill/runs";

/// The default record path of a run: by drill name and run id, so no run
/// overwrites another's.
pub fn default_record_path(runs_dir: &Path, drill: &str, run_id: &str) -> PathBuf {
    let safe: String = drill
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    runs_dir.join(format!("{safe}-{run_id}.json"))
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
        return journal::to_record(path, &text);
    }
    serde_json::from_str(&text).map_err(|source| ReadError::NotARecord {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads the journal of a run that never wrote its record, as a run with
/// outcome `crashed` and the steps that finished.
pub fn read_journal(path: &Path) -> Result<RunRecord, ReadError> {
    journal::to_record(path, &read_text(path)?)
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
/// megabytes.
pub fn write_record(path: &Path, record: &RunRecord) -> std::io::Result<()> {
    write_atomically_with(path, |file| {
        let mut out = RedactingLines::new(BufWriter::new(file));
        serde_json::to_writer_pretty(&mut out, record).map_err(std::io::Error::other)?;
        out.finish()?.flush()
    })
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically_with(path, |file| file.write_all(bytes))
}

/// Lets `write` fill a temporary file beside `path`, syncs it and renames it
/// over `path`; on failure the temporary file is removed.
fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map_or("record".into(), |n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut file = File::create(&temp)?;
    let written = write(&mut file).and_then(|()| file.sync_all());
    drop(file);
    match written {
        Ok(()) => std::fs::rename(&temp, path),
        Err(err) => {
            let _ = std::fs::remove_file(&temp);
            Err(err)
        }
    }
}
