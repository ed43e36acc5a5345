//! The run record: what scripts, CI and later runs read. Its top-level keys
//! are stable; `schema` changes when a key changes meaning.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) use crate::kind::StepKind;

/// Version of the record's shape.
pub const SCHEMA: u32 = 1;

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Ran, and every expectation held.
    Passed,
    /// Ran, and an expectation did not hold (or it could not run).
    Failed,
    /// Cut at its timeout.
    TimedOut,
    /// Not run: an earlier step failed, `when` was false, or a person skipped it.
    Skipped,
    /// Not run, or stopped: the run was interrupted.
    Cancelled,
    /// A planned manual step a person completed.
    ManualDone,
    /// An automated step that failed and a person fixed or did by hand.
    Intervened,
}

impl Outcome {
    /// Whether this outcome fails the drill.
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::TimedOut)
    }

    /// The word shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed out",
            Outcome::Skipped => "skipped",
            Outcome::Cancelled => "cancelled",
            Outcome::ManualDone => "done",
            Outcome::Intervened => "intervened",
        }
    }
}

/// How the whole run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// No step failed.
    Passed,
    /// A step failed, or a `--strict` or regression rule did.
    Failed,
    /// Stopped by Ctrl-C or SIGTERM; cleanup ran.
    Interrupted,
    /// The process died before writing the record: rebuilt from its
    /// journal by `report` and `history`. A live run never writes it.
    Crashed,
    /// Still going: its journal is locked by the live process that writes
    /// it. Read from the journal by `report` and `history`; never written.
    Running,
}

impl RunOutcome {
    /// The word shown to people.
    pub fn label(self) -> &'static str {
        match self {
            RunOutcome::Passed => "passed",
            RunOutcome::Failed => "failed",
            RunOutcome::Interrupted => "interrupted",
            RunOutcome::Crashed => "crashed",
            RunOutcome::Running => "running",
        }
    }
}

/// Which list a step came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The drill's `steps`.
    Steps,
    /// The drill's `cleanup`, which runs after success, failure or Ctrl-C.
    Cleanup,
}

/// What a person did at a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InterventionKind {
    /// A planned manual step.
    ManualStep,
    /// A failed step that a person fixed, then retried.
    RetriedAfterFix,
    /// A failed step that a person did by hand.
    DoneByHand,
    /// A failed step that a person chose to skip.
    Skipped,
}

/// A person's part in a step: planned (a manual step) or not (a rescue).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Intervention {
    /// What the person did.
    pub kind: InterventionKind,
    /// Who it was.
    pub operator: String,
    /// Their note: what the runbook should have said.
    pub note: Option<String>,
    /// Whether they needed someone's help.
    pub needed_help: bool,
    /// Who helped.
    pub helped_by: Option<String>,
}

/// One step as it ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StepRecord {
    /// The step's display name (its `name`, or one made from what it does).
    pub name: String,
    /// The step's kind.
    pub kind: StepKind,
    /// Which list it came from.
    pub phase: Phase,
    /// How it ended.
    pub outcome: Outcome,
    /// RFC 3339; absent for a step that never started.
    pub started_at: Option<String>,
    /// Wall time of the step, human time included.
    pub duration_ms: u64,
    /// Time spent waiting for a person.
    pub human_ms: u64,
    /// Attempts made, retries and rescues included.
    pub attempts: u32,
    /// The step's soft budget.
    pub budget_ms: Option<u64>,
    /// Whether it took longer than its budget.
    pub over_budget: bool,
    /// Who owns the step.
    pub owner: Option<String>,
    // Boxed, as `service`: most steps have none, and a 10,000-step run
    // keeps every record until its end.
    /// What a person did, planned or not.
    pub intervention: Option<Box<Intervention>>,
    /// Why it failed or did not run, expected against actual.
    pub error: Option<String>,
    /// Microsecond wall time, for timing comparisons finer than a millisecond.
    #[serde(default)]
    pub duration_us: u64,
    /// Values this step captured (secret ones are never stored), so that
    /// `--resume` can continue with them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub captures: std::collections::BTreeMap<String, serde_json::Value>,
    /// Set when the step ran in an earlier run that this one resumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried_from: Option<String>,
    /// The parallel group this step ran in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Time spent waiting for a free slot in its parallel group, before the
    /// step started: not part of `duration_ms`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub queued_ms: u64,
    /// Where a step that failed or went over its budget is written in the
    /// drill, so the terminal, reports and CI annotations can point at its
    /// line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceSpot>,
    /// What a Swarm service step saw while it waited for the service: also
    /// on failure (an update the engine rolled back keeps how long the
    /// engine took to decide and to undo it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Box<ServiceFacts>>,
}

/// A Swarm service's convergence, as a step saw it. Times in `*_ms` are
/// measured from the start of the wait, right after the engine accepted
/// the change; `wait_started_at` and `decided_at` are wall-clock times
/// comparable with the engine's own `engine.started_at/completed_at`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceFacts {
    /// The service's name.
    pub service: String,
    /// `converged` or `rolled_back`.
    pub until: String,
    /// RFC 3339 (microseconds): when the wait began.
    pub wait_started_at: String,
    /// RFC 3339 (microseconds): the look that saw the goal, or the failure.
    pub decided_at: String,
    /// The time to converge (or to fail): from the start of the wait to
    /// the deciding look.
    pub converge_ms: u64,
    /// When every slot first ran an up-to-date task (the monitor window's
    /// start), if it came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_running_ms: Option<u64>,
    /// How many looks the wait took.
    pub polls: u32,
    /// How often it looked.
    pub poll_ms: u64,
    /// How many tasks the wait saw start.
    pub tasks_started: usize,
    /// How many tasks the wait saw stop (or the engine delete).
    pub tasks_stopped: usize,
    /// The tasks it saw start, as they were at the end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub started: Vec<ServiceTask>,
    /// The tasks it saw stop.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stopped: Vec<ServiceTask>,
    /// The engine's `UpdateStatus` at the end, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<EngineUpdateFacts>,
    /// Set when the engine rolled back during the wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<RollbackFacts>,
}

/// One task a service wait saw start or stop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceTask {
    /// `demo.2` (slot) or `demo.<node>` (global service).
    pub name: String,
    /// The image its spec names.
    pub image: String,
    /// The node's hostname.
    pub node: String,
    /// The task's state (`running`, `failed`, `shutdown`, `removed`, …).
    pub state: String,
    /// The engine's error for the task, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its container's exit code, when not 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
}

/// The engine's own account of the last update, in its own timestamps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EngineUpdateFacts {
    /// `updating`, `completed`, `paused`, `rollback_started`,
    /// `rollback_paused` or `rollback_completed`.
    pub state: String,
    /// The engine's message ("update rolled back due to failure …").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// RFC 3339, the engine's clock: when the update started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// RFC 3339, the engine's clock: when it completed (or rolled back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
    /// `completed_at - started_at`, by the engine's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub took_ms: Option<u64>,
}

/// How long the engine took to give up on an update and to undo it, from
/// the start of the wait to the first look that saw `rollback_started` /
/// `rollback_completed`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RollbackFacts {
    /// Until the engine decided to roll back (`rollback_started`).
    pub decided_after_ms: u64,
    /// Until the rollback was complete, if the wait saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolled_back_after_ms: Option<u64>,
}

/// A place in a drill file: `drills/x.yaml:42:5`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SourceSpot {
    /// The drill file, as named on the command line.
    pub file: String,
    /// One-based line.
    pub line: u32,
    /// One-based column.
    pub column: u32,
}

impl std::fmt::Display for SourceSpot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl StepRecord {
    /// Machine time: the step's wall time less the time a person took.
    pub fn machine_ms(&self) -> u64 {
        self.duration_ms.saturating_sub(self.human_ms)
    }
}

/// One run of a drill.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunRecord {
    /// The record's shape ([`SCHEMA`]).
    pub schema: u32,
    /// The drill's name: runs of one name are compared.
    pub drill: String,
    /// This run's id.
    pub run_id: String,
    /// How the run ended.
    pub outcome: RunOutcome,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended; absent for a run rebuilt from its journal.
    pub finished_at: Option<String>,
    /// Wall time, human time included.
    pub duration_ms: u64,
    /// Time spent waiting for people.
    pub human_ms: u64,
    /// Who ran it.
    pub operator: String,
    /// The version of the default engine (the first of `engines:`, or
    /// the only one), as the record has always had it.
    pub docker_version: Option<String>,
    /// Each named engine's version (`engines:`), for a drill with several;
    /// absent otherwise, and in records written before it existed.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub docker_versions: std::collections::BTreeMap<String, String>,
    /// The drill's soft budget.
    pub budget_ms: Option<u64>,
    /// Whether the run took longer than its budget.
    pub over_budget: bool,
    /// The drill file, as named on the command line.
    pub drill_file: String,
    /// The firedrill that ran it.
    pub firedrill_version: String,
    /// Why the run failed, in words (failed steps, `--strict` reasons).
    #[serde(default)]
    pub reasons: Vec<String>,
    /// The run this one resumed (`--resume`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed_from: Option<String>,
    /// The first run of a resumed chain: `${run.id}` and Docker labels keep
    /// its id, so names and sweeps stay the same across resumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_run_id: Option<String>,
    /// What this run did less safely than it should, in words (TLS
    /// certificate checks turned off by `target.insecure`).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Every step as it ran, cleanup and parallel sub-steps included.
    pub steps: Vec<StepRecord>,
}

/// The run record's JSON Schema (draft 2020-12), as records are written
/// (`firedrill schema --record`).
pub fn record_schema() -> schemars::Schema {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<RunRecord>();
    schema.insert("title".into(), "firedrill run record".into());
    schema
}

impl RunRecord {
    /// Wall time less human time.
    pub fn machine_ms(&self) -> u64 {
        self.duration_ms.saturating_sub(self.human_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step line as records have always stored it: `kind` a plain string.
    const OLD_STEP: &str = r#"{"name":"Restore","kind":"manual","phase":"steps","outcome":"manual_done","started_at":"2026-11-02T10:00:00.000Z","duration_ms":1200,"human_ms":1100,"attempts":1,"budget_ms":null,"over_budget":false,"owner":null,"intervention":null,"error":null,"duration_us":1200000}"#;

    /// A run record from before `docker_versions`: it loads, and one
    /// engine's record is written as it always was.
    #[test]
    fn a_record_without_docker_versions_loads_and_one_engine_writes_none() {
        let old = format!(
            r#"{{"schema":1,"drill":"d","run_id":"r","outcome":"passed","started_at":"t","finished_at":null,"duration_ms":1,"human_ms":0,"operator":"o","docker_version":"20.10","budget_ms":null,"over_budget":false,"drill_file":"d.yaml","firedrill_version":"0.1.0","steps":[{OLD_STEP}]}}"#
        );
        let record: RunRecord = serde_json::from_str(&old).unwrap();
        assert!(record.docker_versions.is_empty());
        let written = serde_json::to_string(&record).unwrap();
        assert!(!written.contains("docker_versions"), "{written}");
        let mut two = record;
        two.docker_versions.insert("safe".into(), "20.10".into());
        let written = serde_json::to_string(&two).unwrap();
        assert!(
            written.contains(r#""docker_versions":{"safe":"20.10"}"#),
            "{written}"
        );
    }

    #[test]
    fn an_old_step_record_round_trips_with_its_kind_as_a_string() {
        let step: StepRecord = serde_json::from_str(OLD_STEP).unwrap();
        assert_eq!(step.kind, StepKind::Manual);
        assert_eq!(serde_json::to_string(&step).unwrap(), OLD_STEP);
        for kind in StepKind::ALL {
            let line = OLD_STEP.replace(r#""manual""#, &format!("\"{kind}\""));
            let step: StepRecord = serde_json::from_str(&line).unwrap();
            assert_eq!(step.kind, kind);
            assert_eq!(serde_json::to_string(&step).unwrap(), line);
        }
    }
}
