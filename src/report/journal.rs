//! The on-disk journal and the final record. One JSON line per finished
//! step as the run goes, so a crash loses no finished step; the record is
//! written atomically at the end, then the journal is removed.
//!
//! A step of the drill's list is written as it finishes. The sub-steps of
//! a parallel group reach the file within [`FLUSH_EVERY`], from a small
//! flusher thread, not with a write each: a fan-out of ten thousand
//! requests would otherwise spend a tenth of its time in `write`. What a
//! `kill -9` can lose is the last few milliseconds of a group's sub-steps.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use super::record::RunRecord;
use crate::redact::{RedactingLines, redact};
use crate::run::event::{Event, Observer};

/// Where run records go unless `--report` says otherwise.
pub const DEFAULT_RUNS_DIR: &str = ".firedrill/runs";

/// How long a journal line may wait in memory before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);

/// Writes the journal and the record of one run.
pub struct Journal {
    record_path: PathBuf,
    shared: Arc<Shared>,
    flusher: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// What the run and the flusher thread share.
struct Shared {
    journal_path: PathBuf,
    file: Mutex<Option<BufWriter<File>>>,
    problem: Mutex<Option<String>>,
    /// Lines are waiting in the buffer.
    dirty: AtomicBool,
    /// The run is over: the flusher stops.
    done: AtomicBool,
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
            shared: Arc::new(Shared {
                journal_path,
                file: Mutex::new(None),
                problem: Mutex::new(None),
                dirty: AtomicBool::new(false),
                done: AtomicBool::new(false),
            }),
            flusher: Mutex::new(None),
        }
    }

    pub fn record_path(&self) -> &Path {
        &self.record_path
    }

    pub fn journal_path(&self) -> &Path {
        &self.shared.journal_path
    }

    /// The first write problem, if any: the run goes on, but the user must
    /// be told the record is incomplete.
    pub fn problem(&self) -> Option<String> {
        self.shared.problem.lock().ok().and_then(|p| p.clone())
    }

    fn fail(&self, what: &str, err: impl std::fmt::Display) {
        self.shared.fail(what, err);
    }

    fn append(&self, line: &impl Serialize) {
        match serde_json::to_string(line) {
            Ok(text) => self.append_line("", &text),
            Err(err) => self.fail("cannot encode a journal line", err),
        }
    }

    /// Buffers a line, `prefix` (firedrill's own words) then `text` with
    /// secrets masked; the flusher writes it within [`FLUSH_EVERY`].
    fn append_line(&self, prefix: &str, text: &str) {
        let Ok(mut guard) = self.shared.file.lock() else {
            return;
        };
        let Some(file) = guard.as_mut() else { return };
        let result = file
            .write_all(prefix.as_bytes())
            .and_then(|()| file.write_all(redact(text).as_bytes()))
            .and_then(|()| file.write_all(b"\n"));
        drop(guard);
        match result {
            Ok(()) => self.shared.dirty.store(true, Ordering::Release),
            Err(err) => self.shared.write_failed(err),
        }
    }

    fn start(&self, header: &Header<'_>) {
        let journal_path = &self.shared.journal_path;
        if let Some(dir) = journal_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Err(err) = std::fs::create_dir_all(dir) {
                return self.fail(&format!("cannot create {}", dir.display()), err);
            }
        }
        match File::create(journal_path) {
            Ok(file) => {
                if let Ok(mut guard) = self.shared.file.lock() {
                    *guard = Some(BufWriter::new(file));
                }
                self.append(header);
                self.shared.flush();
            }
            Err(err) => self.fail(
                &format!("cannot create the journal {}", journal_path.display()),
                err,
            ),
        }
    }

    /// Starts the flusher thread, once, when the first parallel group
    /// starts: only sub-steps wait for it.
    fn start_flusher(&self) {
        let mut flusher = self.flusher.lock().unwrap_or_else(|e| e.into_inner());
        if flusher.is_some() || self.shared.done.load(Ordering::Acquire) {
            return;
        }
        let shared = self.shared.clone();
        let spawned = std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || {
                while !shared.done.load(Ordering::Acquire) {
                    std::thread::park_timeout(FLUSH_EVERY);
                    shared.flush();
                }
            });
        match spawned {
            Ok(handle) => *flusher = Some(handle),
            Err(err) => {
                drop(flusher);
                self.fail("cannot start the journal's writer thread", err);
            }
        }
    }

    /// Stops the flusher and writes what is left of the journal.
    fn close_journal(&self) {
        self.shared.done.store(true, Ordering::Release);
        let flusher = self
            .flusher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(handle) = flusher {
            handle.thread().unpark();
            let _ = handle.join();
        }
        self.shared.flush();
        if let Ok(mut guard) = self.shared.file.lock() {
            guard.take();
        }
    }

    fn finish(&self, record: &RunRecord) {
        self.close_journal();
        match write_record(&self.record_path, record) {
            Ok(()) => {
                let _ = std::fs::remove_file(&self.shared.journal_path);
            }
            Err(err) => self.fail(
                &format!("cannot write the record {}", self.record_path.display()),
                err,
            ),
        }
    }
}

impl Drop for Journal {
    /// A run that ends without its last event still leaves every line it
    /// buffered on disk.
    fn drop(&mut self) {
        self.close_journal();
    }
}

impl Shared {
    fn fail(&self, what: &str, err: impl std::fmt::Display) {
        if let Ok(mut problem) = self.problem.lock() {
            problem.get_or_insert_with(|| format!("{what}: {err}"));
        }
        tracing::error!("{what}: {err}");
    }

    fn write_failed(&self, err: std::io::Error) {
        self.fail(
            &format!("cannot write the journal {}", self.journal_path.display()),
            err,
        );
    }

    /// Writes buffered lines, if any.
    fn flush(&self) {
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return;
        }
        let Ok(mut guard) = self.file.lock() else {
            return;
        };
        let result = guard.as_mut().map_or(Ok(()), |file| file.flush());
        drop(guard);
        if let Err(err) = result {
            self.write_failed(err);
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
                match serde_json::to_string(step) {
                    Ok(record) => {
                        let fields = record.strip_prefix('{').unwrap_or(&record);
                        self.append_line("{\"type\":\"step\",", fields);
                        // A step of the drill's own list is on disk before
                        // the next one starts; a group's sub-steps follow
                        // within FLUSH_EVERY.
                        if step.parent.is_none() {
                            self.shared.flush();
                        }
                    }
                    Err(err) => self.fail("cannot encode a journal line", err),
                }
            }
            Event::GroupStarted { .. } => self.start_flusher(),
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
