//! The on-disk journal and the final record. One JSON line per finished
//! step as the run goes, so a crash loses no finished step; the record is
//! written atomically at the end, then the journal is removed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use super::record::RunRecord;
use crate::redact::redact;
use crate::run::event::{Event, Observer};

/// Where run records go unless `--report` says otherwise.
pub const DEFAULT_RUNS_DIR: &str = ".firedrill/runs";

/// Writes the journal and the record of one run.
pub struct Journal {
    record_path: PathBuf,
    journal_path: PathBuf,
    file: Mutex<Option<BufWriter<File>>>,
    problem: Mutex<Option<String>>,
}

/// The first journal line: what run this is.
#[derive(Serialize)]
struct Header<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    schema: u32,
    drill: &'a str,
    run_id: &'a str,
    started_at: &'a str,
}

impl Journal {
    pub fn new(record_path: PathBuf) -> Self {
        let journal_path = journal_path_for(&record_path);
        Journal {
            record_path,
            journal_path,
            file: Mutex::new(None),
            problem: Mutex::new(None),
        }
    }

    pub fn record_path(&self) -> &Path {
        &self.record_path
    }

    pub fn journal_path(&self) -> &Path {
        &self.journal_path
    }

    /// The first write problem, if any: the run goes on, but the user must
    /// be told the record is incomplete.
    pub fn problem(&self) -> Option<String> {
        self.problem.lock().ok().and_then(|p| p.clone())
    }

    fn fail(&self, what: &str, err: impl std::fmt::Display) {
        if let Ok(mut problem) = self.problem.lock() {
            problem.get_or_insert_with(|| format!("{what}: {err}"));
        }
        tracing::error!("{what}: {err}");
    }

    fn append(&self, line: &impl Serialize) {
        match serde_json::to_string(line) {
            Ok(text) => self.append_text(&text),
            Err(err) => self.fail("cannot encode a journal line", err),
        }
    }

    fn append_text(&self, text: &str) {
        let Ok(mut guard) = self.file.lock() else {
            return;
        };
        let Some(file) = guard.as_mut() else { return };
        let result = file
            .write_all(redact(text).as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.flush());
        if let Err(err) = result {
            drop(guard);
            self.fail(
                &format!("cannot write the journal {}", self.journal_path.display()),
                err,
            );
        }
    }

    fn start(&self, header: &Header<'_>) {
        if let Some(dir) = self
            .journal_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            if let Err(err) = std::fs::create_dir_all(dir) {
                return self.fail(&format!("cannot create {}", dir.display()), err);
            }
        }
        match File::create(&self.journal_path) {
            Ok(file) => {
                if let Ok(mut guard) = self.file.lock() {
                    *guard = Some(BufWriter::new(file));
                }
                self.append(header);
            }
            Err(err) => self.fail(
                &format!("cannot create the journal {}", self.journal_path.display()),
                err,
            ),
        }
    }

    fn finish(&self, record: &RunRecord) {
        if let Ok(mut guard) = self.file.lock() {
            guard.take();
        }
        match write_record(&self.record_path, record) {
            Ok(()) => {
                let _ = std::fs::remove_file(&self.journal_path);
            }
            Err(err) => self.fail(
                &format!("cannot write the record {}", self.record_path.display()),
                err,
            ),
        }
    }
}

impl Observer for Journal {
    fn on_event(&self, event: &Event<'_>) {
        match event {
            Event::RunStarted {
                drill,
                run_id,
                started_at,
                ..
            } => self.start(&Header {
                kind: "run",
                schema: super::record::SCHEMA,
                drill,
                run_id,
                started_at,
            }),
            Event::StepFinished { step } => {
                // `{"type":"step", …the step record…}`, spliced by hand:
                // `#[serde(flatten)]` costs more than the rest of the line.
                let mut line = Vec::with_capacity(384);
                line.extend_from_slice(b"{\"type\":\"step\",");
                match serde_json::to_writer(&mut line, step) {
                    Ok(()) => {
                        line.remove(15); // the record's own `{`
                        self.append_text(&String::from_utf8_lossy(&line));
                    }
                    Err(err) => self.fail("cannot encode a journal line", err),
                }
            }
            Event::RunFinished { record } => self.finish(record),
            _ => {}
        }
    }
}

/// `run.json` → `run.journal.jsonl`.
pub fn journal_path_for(record_path: &Path) -> PathBuf {
    let stem = record_path
        .file_stem()
        .map_or("run".into(), |s| s.to_string_lossy().into_owned());
    record_path.with_file_name(format!("{stem}.journal.jsonl"))
}

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

/// What a file holds, when it is a run's record or journal.
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
    use std::io::Read;
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
/// (`--force`); the message says what is there.
pub fn check_record_path(record_path: &Path) -> Result<(), String> {
    if record_path.is_dir() {
        return Err(format!(
            "--report {} is a directory; give a file path",
            record_path.display()
        ));
    }
    if record_path.exists() {
        return Err(match describe_run_file(record_path) {
            Some(run) => format!(
                "{} is the record of another run ({run}); firedrill never overwrites a run's record: choose another --report path, or pass --force",
                record_path.display()
            ),
            None => format!(
                "{} already exists and is not a run record; firedrill does not overwrite it: choose another --report path, or pass --force",
                record_path.display()
            ),
        });
    }
    let journal = journal_path_for(record_path);
    if journal.exists() {
        let run = describe_run_file(&journal).unwrap_or_else(|| "an unknown run".into());
        return Err(format!(
            "{} is the journal of a run that did not finish ({run}); it holds the steps that run measured: render it with `firedrill report {}`, move it away, or pass --force",
            journal.display(),
            journal.display()
        ));
    }
    Ok(())
}

/// Writes a record atomically: a temporary file beside it, then a rename,
/// so a reader never sees half a record.
pub fn write_record(path: &Path, record: &RunRecord) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(record).map_err(std::io::Error::other)?;
    write_atomically(path, redact(&text).as_bytes())
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp, path)
}
