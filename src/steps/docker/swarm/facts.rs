//! What a wait saw, as the step's record will carry it: tasks started and
//! stopped, the time to converge, the engine's own account of the update
//! and, after an automatic rollback, when the engine decided and finished.

use std::time::{Duration, SystemTime};

use super::converge::Until;

/// What a wait saw: the facts a step's record carries.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Convergence {
    pub service: String,
    pub until: Until,
    /// The wall clock at the start of the wait: `began + waited` is when
    /// the deciding look was taken, comparable with the engine's
    /// timestamps when the engine runs on this host (or its clock is
    /// synchronised).
    pub began: SystemTime,
    /// From the start of the wait to the look that saw the goal (or the
    /// failure): the time to converge.
    pub waited: Duration,
    /// From the start of the wait to the look from which every slot ran an
    /// up-to-date task (the start of the monitor window), if it came.
    pub all_running_after: Option<Duration>,
    pub polls: u32,
    /// Tasks the wait saw start (absent or not yet running at its first
    /// look), with their state at the end of the wait.
    pub started: Vec<TaskFact>,
    /// Tasks the wait saw stop (any terminal state, or deleted by the
    /// engine as `removed`).
    pub stopped: Vec<TaskFact>,
    /// The engine's `UpdateStatus` at the end, when it had one.
    pub engine: Option<EngineUpdate>,
    /// Set when the engine rolled back during the wait.
    pub rollback: Option<RollbackTiming>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskFact {
    pub id: String,
    /// `demo.2` (slot) or `demo.<node>` (global).
    pub name: String,
    pub image: String,
    /// The node's hostname.
    pub node: String,
    pub state: String,
    pub error: Option<String>,
    pub exit_code: Option<i64>,
}

/// The engine's own account of the last update, in its timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EngineUpdate {
    pub state: String,
    pub message: Option<String>,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    /// `completed_at - started_at`, by the engine's clock.
    pub took: Option<Duration>,
}

/// How long the engine took to give up on an update and to undo it,
/// measured from the start of the wait (right after the update was sent)
/// to the first look that saw `rollback_started` / `rollback_completed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RollbackTiming {
    pub decided_after: Duration,
    pub rolled_back_after: Option<Duration>,
}
