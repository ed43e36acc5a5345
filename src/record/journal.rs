//! The journal format: one JSON line per finished step, written as the run
//! goes so that a crash loses no finished step. The first line says which
//! run it is; every other line is a step record behind `"type":"step"`.
//! Writing (the `Journal` reporter) and reading (`report`, `history`,
//! `--resume`) both go through this module, so the format lives in one
//! place.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ReadError;
use super::format::{offset_ms, parse_time};
use super::types::{RunOutcome, RunRecord, SCHEMA, StepRecord};

/// What begins every step line: the step record's own fields follow.
pub const STEP_LINE_PREFIX: &str = "{\"type\":\"step\",";

/// What begins a journal (and nothing else firedrill writes).
pub const HEADER_PREFIX: &str = "{\"type\":\"run\"";

/// The first journal line: what run this is.
#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    #[serde(rename = "type")]
    /// Always `run`: tells a header from a step line.
    pub kind: String,
    /// The record schema the step lines follow.
    pub schema: u32,
    /// The drill's name.
    pub drill: String,
    /// The run's id.
    pub run_id: String,
    /// When the run started (RFC 3339).
    pub started_at: String,
}

impl Header {
    /// The header of a run starting now.
    pub fn new(drill: &str, run_id: &str, started_at: &str) -> Header {
        Header {
            kind: "run".into(),
            schema: SCHEMA,
            drill: drill.into(),
            run_id: run_id.into(),
            started_at: started_at.into(),
        }
    }

    /// Reads a header line; `None` when the line is not one.
    pub fn parse(line: &str) -> Option<Header> {
        serde_json::from_str::<Header>(line)
            .ok()
            .filter(|h| h.kind == "run")
    }
}

/// What follows [`STEP_LINE_PREFIX`] on a step line: the step record's
/// JSON (`step_json`) without its opening brace. Spliced by hand because
/// `#[serde(flatten)]` costs more than the rest of the line.
pub fn step_line_fields(step_json: &str) -> &str {
    step_json.strip_prefix('{').unwrap_or(step_json)
}

/// `run.json` → `run.journal.jsonl`.
pub fn journal_path_for(record_path: &Path) -> PathBuf {
    let stem = record_path
        .file_stem()
        .map_or("run".into(), |s| s.to_string_lossy().into_owned());
    record_path.with_file_name(format!("{stem}.journal.jsonl"))
}

/// Whether `text` is a journal rather than a finished record.
pub fn is_journal(text: &str) -> bool {
    text.starts_with(HEADER_PREFIX)
}

/// Rebuilds a run from its journal, as a run with outcome `crashed` and
/// the steps that finished. `path` names the file in messages.
pub fn to_record(path: &Path, text: &str) -> Result<RunRecord, ReadError> {
    to_record_as(path, text, false)
}

/// Rebuilds a run from its journal: outcome `running` when `live` (its
/// writer still holds it, see `live`), else `crashed`. A last line cut
/// short is left out: for a live run it is being written.
pub fn to_record_as(path: &Path, text: &str, live: bool) -> Result<RunRecord, ReadError> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines
        .next()
        .and_then(Header::parse)
        .ok_or_else(|| ReadError::NotAJournal(path.to_path_buf()))?;
    if header.schema > SCHEMA {
        return Err(ReadError::NewerSchema {
            path: path.to_path_buf(),
            schema: header.schema,
        });
    }
    let mut steps: Vec<StepRecord> = Vec::new();
    let mut torn = false;
    for line in lines {
        match serde_json::from_str::<StepRecord>(line) {
            Ok(step) => steps.push(step),
            // The process died while writing this line.
            Err(_) => torn = true,
        }
    }
    let duration_ms = span_ms(&header.started_at, &steps);
    let (outcome, reasons) = if live {
        (RunOutcome::Running, running_reasons(path, &steps))
    } else {
        (RunOutcome::Crashed, crash_reasons(path, &steps, torn))
    };
    Ok(RunRecord {
        schema: header.schema,
        drill: header.drill,
        run_id: header.run_id,
        outcome,
        started_at: header.started_at,
        finished_at: None,
        duration_ms,
        human_ms: steps.iter().map(|s| s.human_ms).sum(),
        operator: String::new(),
        docker_version: None,
        docker_versions: std::collections::BTreeMap::default(),
        budget_ms: None,
        over_budget: false,
        drill_file: String::new(),
        firedrill_version: String::new(),
        reasons,
        resumed_from: None,
        origin_run_id: None,
        warnings: Vec::new(),
        steps,
    })
}

/// From the run's start to the end of its last finished step.
fn span_ms(started_at: &str, steps: &[StepRecord]) -> u64 {
    let start = parse_time(started_at);
    steps
        .iter()
        .filter_map(|s| {
            let offset = offset_ms(start, s.started_at.as_deref()?)?;
            Some(offset + s.duration_ms)
        })
        .max()
        .unwrap_or(0)
}

/// What a running run's journal says so far, in words.
fn running_reasons(path: &Path, steps: &[StepRecord]) -> Vec<String> {
    let mut reasons = vec![format!(
        "the run is still going; {} finished step{} so far, read from {}",
        steps.len(),
        if steps.len() == 1 { " was" } else { "s were" },
        path.display()
    )];
    reasons.extend(steps.iter().filter(|s| s.outcome.is_failure()).map(|s| {
        format!(
            "step `{}` {}: {}",
            s.name,
            s.outcome.label(),
            s.error.as_deref().unwrap_or("no detail")
        )
    }));
    reasons
}

/// Why a run rebuilt from its journal did not pass, in words.
fn crash_reasons(path: &Path, steps: &[StepRecord], torn: bool) -> Vec<String> {
    let mut reasons = vec![format!(
        "the run stopped without writing its record (it crashed); {} finished step{} read from {}",
        steps.len(),
        if steps.len() == 1 { " was" } else { "s were" },
        path.display()
    )];
    if torn {
        reasons.push("the journal's last line was cut short and is left out".into());
    }
    reasons.extend(steps.iter().filter(|s| s.outcome.is_failure()).map(|s| {
        format!(
            "step `{}` {}: {}",
            s.name,
            s.outcome.label(),
            s.error.as_deref().unwrap_or("no detail")
        )
    }));
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_written_is_a_header_read() {
        let header = Header::new("quickstart", "r1", "2026-12-01T00:00:00.000Z");
        let line = serde_json::to_string(&header).unwrap();
        assert!(is_journal(&line));
        let read = Header::parse(&line).unwrap();
        assert_eq!(
            (read.drill.as_str(), read.run_id.as_str()),
            ("quickstart", "r1")
        );
        assert!(Header::parse(r#"{"type":"step","name":"x"}"#).is_none());
    }

    #[test]
    fn a_torn_last_line_is_left_out_and_said() {
        let text = concat!(
            r#"{"type":"run","schema":1,"drill":"d","run_id":"r","started_at":"2026-12-01T00:00:00.000Z"}"#,
            "\n",
            r#"{"type":"step","name":"A","kind":"http","phase":"steps","outcome":"passed","started_at":"2026-12-01T00:00:00.100Z","duration_ms":50,"human_ms":0,"attempts":1,"budget_ms":null,"over_budget":false,"owner":null,"intervention":null,"error":null}"#,
            "\n{\"type\":\"step\",\"na"
        );
        let record = to_record(Path::new("x.journal.jsonl"), text).unwrap();
        assert_eq!(record.outcome, RunOutcome::Crashed);
        assert_eq!(record.steps.len(), 1);
        assert_eq!(record.duration_ms, 150);
        assert!(record.reasons.iter().any(|r| r.contains("cut short")));
    }
}
