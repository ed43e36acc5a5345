//! The reporter that writes the journal and the final record. One JSON line
//! per finished step as the run goes (the format is `record::journal`'s),
//! so a crash loses no finished step; the record is written atomically at
//! the end, then the journal is removed.
//!
//! A step of the drill's list is written as it finishes. The sub-steps of
//! a parallel group reach the file within [`FLUSH_EVERY`], from a small
//! flusher thread, not with a write each: a fan-out of ten thousand
//! requests would otherwise spend a tenth of its time in `write`. What a
//! `kill -9` can lose is the last few milliseconds of a group's sub-steps.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::record::RunRecord;
use crate::record::files::write_record;
use crate::record::journal::{Header, STEP_LINE_PREFIX, journal_path_for, step_line_fields};
use crate::redact::redact;
use crate::run::event::{Event, Observer};

/// How long a journal line may wait in memory before it is written.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(20);

/// Writes the journal and the record of one run.
pub(crate) struct Journal {
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

impl Journal {
    pub(crate) fn new(record_path: PathBuf) -> Self {
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

    /// The first write problem, if any: the run goes on, but the user must
    /// be told the record is incomplete.
    pub(crate) fn problem(&self) -> Option<String> {
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

    fn start(&self, header: &Header) {
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
        let mut flusher = self
            .flusher
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
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
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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
        let result = guard.as_mut().map_or(Ok(()), std::io::Write::flush);
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
            } => self.start(&Header::new(drill, run_id, started_at)),
            Event::StepFinished { step } => {
                match serde_json::to_string(step) {
                    Ok(json) => {
                        self.append_line(STEP_LINE_PREFIX, step_line_fields(&json));
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
