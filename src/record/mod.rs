//! The ground floor: the run record and journal formats (types, reading,
//! writing) and the helpers every layer shares (atomic writes, time and
//! duration formatting). It imports nothing of firedrill but `redact`, so
//! every other layer may use it.

mod atomic;
pub mod files;
pub mod format;
pub mod journal;
pub mod live;
mod types;

use std::path::PathBuf;

pub use types::{
    EngineUpdateFacts, Intervention, InterventionKind, Outcome, Phase, RollbackFacts, RunOutcome,
    RunRecord, SCHEMA, ServiceFacts, ServiceTask, SourceSpot, StepRecord, record_schema,
};

/// Why a run could not be read back from disk.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {}: {source}", .path.display())]
    /// The file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    #[error("{} is not a firedrill run record: {source}", .path.display())]
    /// The file is not a run record.
    NotARecord {
        /// The file.
        path: PathBuf,
        /// Where the JSON went wrong.
        source: serde_json::Error,
    },
    #[error("{} is not a firedrill journal", .0.display())]
    /// The file does not start with a journal header.
    NotAJournal(PathBuf),
    #[error("{} has schema {schema}; this firedrill reads up to {SCHEMA}", .path.display())]
    /// A newer firedrill wrote it.
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// The schema it was written with.
        schema: u32,
    },
}

/// Why a run may not write its record where it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum RecordPathError {
    #[error("--report {} is a directory; give a file path", .0.display())]
    /// The path is a directory.
    Directory(PathBuf),
    #[error(
        "{} is the record of another run ({run}); firedrill never overwrites a run's record: choose another --report path, or pass --force",
        .path.display()
    )]
    /// Another run's record is there.
    AnotherRun {
        /// The record path asked for.
        path: PathBuf,
        /// The run whose record is there, in words.
        run: String,
    },
    #[error(
        "{} already exists and is not a run record; firedrill does not overwrite it: choose another --report path, or pass --force",
        .0.display()
    )]
    /// Some other file is there.
    NotARecord(PathBuf),
    #[error(
        "{} is the journal of a run that did not finish ({run}); it holds the steps that run measured: render it with `firedrill report {}`, move it away, or pass --force",
        .journal.display(),
        .journal.display()
    )]
    /// An unfinished run's journal is beside it.
    UnfinishedJournal {
        /// The journal beside the record path.
        journal: PathBuf,
        /// The run it belongs to, in words.
        run: String,
    },
}
