//! The reporter that writes the journal and the final record. One JSON line
//! per finished step as the run goes (the format is `record::journal`'s),
//! so a crash loses no finished step; the record (and its copy in the run
//! store) is written atomically at the end, then the journal is removed.
//! The journal was claimed before the run started (`record::live`): it
//! stays locked until then, so `history` shows the run as running.
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

use crate::record::RunRecord;
use crate::record::files::RecordPaths;
use crate::record::journal::{STEP_LINE_PREFIX, step_line_fields};
use crate::redact::redact;
use crate::run::event::{Event, Observer};

/// How long a journal line may wait in memory before it is written.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(20);

/// Writes the journal and the record of one run.
pub(crate) struct Journal {
    paths: RecordPaths,
    shared: Arc<Shared>,
    flusher: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The journal's lock, held until the record is written (a clone of
    /// the journal's file: the lock lives as long as one is open).
    lock: Mutex<Option<File>>,
    /// The record and its copy are written.
    written: AtomicBool,
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
    /// The journal of a run whose record goes to `paths`: `claimed` is the
    /// journal, its header written and its lock held (`claim_journal`).
    pub(crate) fn new(paths: RecordPaths, claimed: File) -> Self {
        let journal_path = paths.journal();
        let lock = claimed.try_clone().ok();
        Journal {
            paths,
            shared: Arc::new(Shared {
                journal_path,
                file: Mutex::new(Some(BufWriter::new(claimed))),
                problem: Mutex::new(None),
                dirty: AtomicBool::new(false),
                done: AtomicBool::new(false),
            }),
            flusher: Mutex::new(None),
            lock: Mutex::new(lock),
            written: AtomicBool::new(false),
        }
    }

    /// Where the record goes.
    pub(crate) fn paths(&self) -> &RecordPaths {
        &self.paths
    }

    /// Whether the record was written (once the run has finished).
    pub(crate) fn written(&self) -> bool {
        self.written.load(Ordering::Acquire)
    }

    /// The first write problem, if any: the run goes on, but the user must
    /// be told the record is incomplete.
    pub(crate) fn problem(&self) -> Option<String> {
        self.shared.problem.lock().ok().and_then(|p| p.clone())
    }

    fn fail(&self, what: &str, err: impl std::fmt::Display) {
        self.shared.fail(what, err);
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
                self.fail("cannot start the journal's writer thread: ", err);
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

    /// Writes the record and its store copy, then removes the journal —
    /// unless the record could not be written: then the journal stays,
    /// with every finished step, for `report` and `--resume`.
    fn finish(&self, record: &RunRecord) {
        self.close_journal();
        match self.paths.write(record) {
            Ok(()) => {
                self.written.store(true, Ordering::Release);
                let _ = std::fs::remove_file(&self.shared.journal_path);
            }
            Err(problems) => {
                let journal = self.shared.journal_path.display();
                let kept = if std::path::Path::new(&self.paths.record).exists() {
                    String::new()
                } else {
                    format!(
                        "; nothing is lost: the journal {journal} keeps every finished step \
                         (`firedrill report {journal}` renders it, `firedrill run DRILL --resume {journal}` \
                         continues the run)"
                    )
                };
                self.fail(&problems.join("; "), kept);
            }
        }
        self.release();
    }

    /// Lets go of the journal's lock: the run is over.
    fn release(&self) {
        if let Ok(mut lock) = self.lock.lock() {
            lock.take();
        }
    }
}

impl Drop for Journal {
    /// A run that ends without its last event still leaves every line it
    /// buffered on disk.
    fn drop(&mut self) {
        self.close_journal();
        self.release();
    }
}

impl Shared {
    /// Keeps the first problem, which the run prints as its one error
    /// (so it is not logged as well).
    fn fail(&self, what: &str, err: impl std::fmt::Display) {
        tracing::debug!("{what}{err}");
        if let Ok(mut problem) = self.problem.lock() {
            problem.get_or_insert_with(|| format!("{what}{err}"));
        }
    }

    fn write_failed(&self, err: std::io::Error) {
        self.fail(
            &format!(
                "the run record is incomplete: cannot write the journal {}: ",
                self.journal_path.display()
            ),
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
                    Err(err) => self.fail("cannot encode a journal line: ", err),
                }
            }
            Event::GroupStarted { .. } => self.start_flusher(),
            Event::RunFinished { record } => self.finish(record),
            _ => {}
        }
    }
}
