//! The ground floor: the run record and journal formats (types, reading,
//! writing) and the helpers every layer shares (atomic writes, time and
//! duration formatting). It imports nothing of firedrill but `redact`, so
//! every other layer may use it.

pub mod files;
pub mod format;
pub mod journal;
mod types;

use std::path::PathBuf;

pub use types::{
    EngineUpdateFacts, Intervention, InterventionKind, Outcome, Phase, RollbackFacts, RunOutcome,
    RunRecord, SCHEMA, ServiceFacts, ServiceTask, SourceSpot, StepRecord,
};

/// Why a run could not be read back from disk.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a firedrill run record: {source}", .path.display())]
    NotARecord {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{} is not a firedrill journal", .0.display())]
    NotAJournal(PathBuf),
    #[error("{} has schema {schema}; this firedrill reads up to {SCHEMA}", .path.display())]
    NewerSchema { path: PathBuf, schema: u32 },
}

/// Why a run may not write its record where it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum RecordPathError {
    #[error("--report {} is a directory; give a file path", .0.display())]
    Directory(PathBuf),
    #[error(
        "{} is the record of another run ({run}); firedrill never overwrites a run's record: choose another --report path, or pass --force",
        .path.display()
    )]
    AnotherRun { path: PathBuf, run: String },
    #[error(
        "{} already exists and is not a run record; firedrill does not overwrite it: choose another --report path, or pass --force",
        .0.display()
    )]
    NotARecord(PathBuf),
    #[error(
        "{} is the journal of a run that did not finish ({run}); it holds the steps that run measured: render it with `firedrill report {}`, move it away, or pass --force",
        .journal.display(),
        .journal.display()
    )]
    UnfinishedJournal { journal: PathBuf, run: String },
}
