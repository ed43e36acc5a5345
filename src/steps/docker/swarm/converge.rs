//! Deciding, from one look at the engine, whether a service has converged.
//!
//! The counting is what `docker service update --detach=false` does
//! (docker/cli `cli/command/service/progress`): take the service's
//! up-to-date tasks (the `_up-to-date` filter), keep one per slot for a
//! replicated service (one per node for a global one), preferring the task
//! with the lowest desired state, then the lowest observed state; count the
//! ones `running` whose desired state is not terminal; when the count is
//! reached, hold it for the update's `monitor` window.
//!
//! What the CLI gets wrong, and this does not:
//! - it exits 0 after the engine **rolled back** an update; here
//!   `rollback_started`/`rollback_completed` fail a wait for convergence;
//! - `paused` / `rollback_paused` fail with the engine's message and the
//!   failing task's error (the CLI does this too, without the task);
//! - a task rejected for "No such image" fails at once, naming the node
//!   and the image (the CLI keeps waiting, forever);
//! - a new task failure during the monitor window restarts the window even
//!   when the slot is running again by the next look;
//! - tasks still running in removed slots (scale down) count as not
//!   converged yet;
//! - so do tasks of the previous spec that still run: with `start-first`
//!   the engine says `completed` once the new tasks run, while the old
//!   task of the last slot is still stopping (and, on a shared port, still
//!   answering requests with the old version);
//! - a global service counts one task per schedulable node, not one per
//!   node that happens to have a task already (zero tasks is not
//!   "converged");
//! - when the engine's update state is `completed`, the engine's own monitor
//!   window already passed for every updated task: no second window.
//!
//! Everything here is pure (the snapshot and the clock are inputs) so each
//! rule is unit-tested with hand-built engine values; `wait` does the I/O.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use bollard::models::{
    Node, NodeSpecAvailabilityEnum, NodeState, Service, ServiceUpdateStatusStateEnum as State,
    Task, TaskState,
};

/// The engine's default update `monitor` when the spec does not set one.
pub(crate) const DEFAULT_MONITOR: Duration = Duration::from_secs(5);

/// What a wait waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Until {
    /// The last change sticks: every slot runs an up-to-date task, the
    /// monitor window passed, and the engine neither paused nor rolled back.
    Converged,
    /// The engine undid the last update (its automatic rollback, or the one
    /// `rollback` asked for): `rollback_completed` with the previous spec
    /// running on every slot. Use it after `rollback` too: the engine
    /// reports a manual rollback with the same states as an automatic one.
    RolledBack,
}

impl Until {
    pub(crate) fn goal(self) -> &'static str {
        match self {
            Until::Converged => "converged",
            Until::RolledBack => "rolled back",
        }
    }
}

/// One look at the engine: the service, all of its tasks (old ones too),
/// its up-to-date tasks, and the swarm's nodes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot<'a> {
    pub service: &'a Service,
    pub tasks: &'a [Task],
    pub up_to_date: &'a [Task],
    pub nodes: &'a [Node],
}

/// Since when every slot has run (the start of the monitor window), and how
/// many up-to-date tasks had failed then; carried from one look to the next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Streak {
    pub since: Option<Instant>,
    pub failures: usize,
}

/// The assessment of one look.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Progress {
    pub running: usize,
    pub desired: usize,
    pub state: Option<State>,
    pub message: Option<String>,
    pub verdict: Verdict,
    /// Pass it to the next `assess`.
    pub streak: Streak,
    /// The most recent task failure, for the deadline's message.
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    Waiting,
    /// Every slot runs; the monitor window still has `remaining` to go.
    Settling {
        remaining: Duration,
    },
    /// Waiting for convergence, the engine decided to roll back: the wait
    /// follows the rollback to its end, then fails.
    RollingBack,
    Done,
    Failed(Failure),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    Paused {
        what: &'static str,
        message: String,
        cause: Option<String>,
    },
    RolledBack {
        cause: String,
    },
    NotRolledBack {
        state: String,
    },
    NoSuchImage {
        task: String,
        node: String,
        image: String,
        err: String,
    },
}

impl Progress {
    /// The state in a few words, for the deadline's message.
    pub(crate) fn describe(&self) -> String {
        let mut text = format!("{}/{} tasks running", self.running, self.desired);
        match (&self.state, &self.message) {
            (Some(state), Some(message)) if *state != State::EMPTY => {
                text.push_str(&format!(", update state {state} ({message})"));
            }
            (Some(state), None) if *state != State::EMPTY => {
                text.push_str(&format!(", update state {state}"));
            }
            _ => {}
        }
        if let Verdict::Settling { remaining } = self.verdict {
            text.push_str(&format!(
                ", monitor window {}ms to go",
                remaining.as_millis()
            ));
        }
        if let Some(error) = &self.last_error {
            text.push_str(&format!("; last task error: {error}"));
        }
        text
    }
}

/// Assesses one look. `streak` is the previous look's (default at first);
/// `now` is when this look was taken.
pub(crate) fn assess(snap: &Snapshot, until: Until, streak: Streak, now: Instant) -> Progress {
    let count = count(snap);
    let failures = snap.up_to_date.iter().filter(|t| failed(t)).count();
    let ok = count.running == count.desired && count.stopping == 0 && outdated_running(snap) == 0;
    let since = match streak.since {
        Some(since) if ok && failures <= streak.failures => Some(since),
        _ if ok => Some(now),
        _ => None,
    };
    let status = snap.service.update_status.as_ref();
    let state = status.and_then(|s| s.state);
    let message = status.and_then(|s| s.message.clone());
    let verdict = match until {
        Until::Converged => converged(snap, state, ok, since, now),
        Until::RolledBack => rolled_back(snap, state, ok),
    };
    Progress {
        running: count.running,
        desired: count.desired,
        state,
        message,
        verdict,
        streak: Streak { since, failures },
        last_error: latest_failure(snap.tasks).map(|t| task_failure(snap, t)),
    }
}

fn converged(
    snap: &Snapshot,
    state: Option<State>,
    ok: bool,
    since: Option<Instant>,
    now: Instant,
) -> Verdict {
    match state {
        Some(State::PAUSED) => return paused(snap, "update"),
        Some(State::ROLLBACK_PAUSED) => return paused(snap, "rollback"),
        Some(State::ROLLBACK_STARTED) => return Verdict::RollingBack,
        Some(State::ROLLBACK_COMPLETED) => {
            return Verdict::Failed(Failure::RolledBack {
                cause: rollback_cause(snap),
            });
        }
        _ => {}
    }
    if let Some(failure) = no_such_image(snap) {
        return Verdict::Failed(failure);
    }
    match (state, since) {
        (Some(State::UPDATING), _) | (_, None) => Verdict::Waiting,
        (Some(State::COMPLETED), Some(_)) if ok => Verdict::Done,
        (_, Some(since)) => {
            let remaining = monitor(snap.service).saturating_sub(now - since);
            if remaining.is_zero() {
                Verdict::Done
            } else {
                Verdict::Settling { remaining }
            }
        }
    }
}

fn rolled_back(snap: &Snapshot, state: Option<State>, ok: bool) -> Verdict {
    match state {
        Some(State::ROLLBACK_COMPLETED) if ok => Verdict::Done,
        Some(State::COMPLETED) => Verdict::Failed(Failure::NotRolledBack {
            state: "the update completed".into(),
        }),
        Some(State::PAUSED) => paused(snap, "update"),
        Some(State::ROLLBACK_PAUSED) => paused(snap, "rollback"),
        _ => Verdict::Waiting,
    }
}

fn paused(snap: &Snapshot, what: &'static str) -> Verdict {
    let status = snap.service.update_status.as_ref();
    Verdict::Failed(Failure::Paused {
        what,
        message: status
            .and_then(|s| s.message.clone())
            .unwrap_or_else(|| "no message".into()),
        cause: named_task(snap).map(|task| task_failure(snap, task)),
    })
}

/// Why the engine rolled back: the task its message names, else the most
/// recent failed task, else the engine's message.
fn rollback_cause(snap: &Snapshot) -> String {
    match named_task(snap) {
        Some(task) => task_failure(snap, task),
        None => snap
            .service
            .update_status
            .as_ref()
            .and_then(|s| s.message.clone())
            .unwrap_or_else(|| "no reason given".into()),
    }
}

/// The task the engine's update message names ("… of task <id>"), else the
/// most recent failed one.
fn named_task<'a>(snap: &Snapshot<'a>) -> Option<&'a Task> {
    let message = snap.service.update_status.as_ref()?.message.as_deref()?;
    let id = message.split_once(" of task ").map(|(_, id)| id.trim());
    id.and_then(|id| snap.tasks.iter().find(|t| t.id.as_deref() == Some(id)))
        .or_else(|| latest_failure(snap.tasks))
}

fn latest_failure(tasks: &[Task]) -> Option<&Task> {
    tasks
        .iter()
        .filter(|t| failed(t))
        .max_by_key(|t| status_time(t).unwrap_or(std::time::UNIX_EPOCH))
}

/// "task demo.2 exited with code 3", or the engine's error for the task.
pub(crate) fn task_failure(snap: &Snapshot, task: &Task) -> String {
    let name = task_name(snap, task);
    let status = task.status.as_ref();
    let code = status
        .and_then(|s| s.container_status.as_ref())
        .and_then(|c| c.exit_code)
        .filter(|code| *code != 0);
    let err = status.and_then(|s| s.err.clone());
    // "task: non-zero exit (143): dockerexec: unhealthy container": keep
    // what follows the exit code, it says why.
    let detail = err
        .as_deref()
        .filter(|err| err.starts_with("task: non-zero exit ("))
        .and_then(|err| err.split_once("): "))
        .map(|(_, detail)| detail.to_string());
    match (code, err) {
        (Some(code), _) => match detail {
            Some(detail) => format!("task {name} exited with code {code} ({detail})"),
            None => format!("task {name} exited with code {code}"),
        },
        (None, Some(err)) => format!("task {name}: {err}"),
        (None, None) => format!("task {name} failed"),
    }
}

/// `service.slot` for replicated services, `service.node` for global ones,
/// as the docker CLI names tasks.
pub(crate) fn task_name(snap: &Snapshot, task: &Task) -> String {
    let service = service_name(snap.service);
    match task.slot {
        Some(slot) if slot > 0 => format!("{service}.{slot}"),
        _ => format!("{service}.{}", hostname(snap.nodes, task)),
    }
}

pub(crate) fn hostname(nodes: &[Node], task: &Task) -> String {
    let id = task.node_id.as_deref().unwrap_or("(unassigned)");
    nodes
        .iter()
        .find(|n| n.id.as_deref() == Some(id))
        .and_then(|n| n.description.as_ref()?.hostname.clone())
        .unwrap_or_else(|| id.to_string())
}

fn no_such_image(snap: &Snapshot) -> Option<Failure> {
    let task = snap.up_to_date.iter().find(|t| {
        let status = t.status.as_ref();
        status.and_then(|s| s.state) == Some(TaskState::REJECTED)
            && status
                .and_then(|s| s.err.as_deref())
                .is_some_and(|err| err.contains("No such image"))
    })?;
    Some(Failure::NoSuchImage {
        task: task_name(snap, task),
        node: hostname(snap.nodes, task),
        image: task_image(task).unwrap_or_default(),
        err: task.status.as_ref()?.err.clone()?,
    })
}

pub(crate) fn task_image(task: &Task) -> Option<String> {
    task.spec.as_ref()?.container_spec.as_ref()?.image.clone()
}

pub(crate) fn status_time(task: &Task) -> Option<std::time::SystemTime> {
    parse_time(task.status.as_ref()?.timestamp.as_deref()?)
}

/// The engine's RFC 3339 timestamps; Go's zero time (year 1) is `None`.
pub(crate) fn parse_time(text: &str) -> Option<std::time::SystemTime> {
    humantime::parse_rfc3339(text).ok()
}

fn failed(task: &Task) -> bool {
    matches!(
        task.status.as_ref().and_then(|s| s.state),
        Some(TaskState::FAILED | TaskState::REJECTED)
    )
}

fn monitor(service: &Service) -> Duration {
    service
        .spec
        .as_ref()
        .and_then(|spec| spec.update_config.as_ref()?.monitor)
        .filter(|nanos| *nanos > 0)
        .map_or(DEFAULT_MONITOR, |nanos| Duration::from_nanos(nanos as u64))
}

/// Tasks of an older spec (not up to date) still running: told to stop,
/// not yet stopped.
fn outdated_running(snap: &Snapshot) -> usize {
    let fresh: std::collections::HashSet<&str> = snap
        .up_to_date
        .iter()
        .filter_map(|t| t.id.as_deref())
        .collect();
    snap.tasks
        .iter()
        .filter(|t| state_of(t) == Some(TaskState::RUNNING))
        .filter(|t| t.id.as_deref().is_some_and(|id| !fresh.contains(id)))
        .count()
}

struct Count {
    running: usize,
    desired: usize,
    /// Up-to-date tasks told to stop (a removed slot) that still run.
    stopping: usize,
}

fn count(snap: &Snapshot) -> Count {
    let active = active_nodes(snap.nodes);
    let spec = snap.service.spec.as_ref();
    let mode = spec.and_then(|s| s.mode.as_ref());
    let global = mode.is_some_and(|m| m.global.is_some());
    let picked: Vec<&Task> = if global {
        pick(snap.up_to_date, &active, |t| {
            t.node_id.clone().unwrap_or_default()
        })
    } else {
        pick(snap.up_to_date, &active, |t| {
            t.slot.unwrap_or(0).to_string()
        })
    };
    let running = |t: &&&Task| state_of(t) == Some(TaskState::RUNNING);
    let live = |t: &&&Task| !terminal(t.desired_state);
    let running_count = picked.iter().filter(live).filter(running).count();
    let stopping = picked.iter().filter(|t| !live(t)).filter(running).count();
    let desired = if !global {
        mode.and_then(|m| m.replicated.as_ref()?.replicas)
            .unwrap_or(0) as usize
    } else if constrained(snap.service) {
        picked.iter().filter(live).count().max(1)
    } else {
        schedulable_nodes(snap.nodes).max(1)
    };
    Count {
        running: running_count,
        desired,
        stopping,
    }
}

/// One task per key (slot or node), as the docker CLI picks it: the lowest
/// desired state wins, then the lowest observed state; tasks on nodes that
/// are down are left out, tasks in states the CLI does not know too.
fn pick<'a>(
    tasks: &'a [Task],
    active: &HashSet<&str>,
    key: impl Fn(&Task) -> String,
) -> Vec<&'a Task> {
    let mut by_key: HashMap<String, &Task> = HashMap::new();
    for task in tasks {
        let (Some(desired), Some(observed)) = (rank(task.desired_state), rank(state_of(task)))
        else {
            continue;
        };
        if let Some(existing) = by_key.get(&key(task)) {
            let existing_desired = rank(existing.desired_state).unwrap_or(0);
            let existing_observed = rank(state_of(existing)).unwrap_or(0);
            if existing_desired < desired
                || (existing_desired == desired && existing_observed <= observed)
            {
                continue;
            }
        }
        if let Some(node) = task.node_id.as_deref().filter(|n| !n.is_empty())
            && !active.contains(node)
        {
            continue;
        }
        by_key.insert(key(task), task);
    }
    by_key.into_values().collect()
}

fn state_of(task: &Task) -> Option<TaskState> {
    task.status.as_ref().and_then(|s| s.state)
}

/// The CLI's `numberedStates`.
fn rank(state: Option<TaskState>) -> Option<u8> {
    use TaskState::{
        ACCEPTED, ALLOCATED, ASSIGNED, COMPLETE, FAILED, NEW, ORPHANED, PENDING, PREPARING, READY,
        REJECTED, REMOVE, RUNNING, SHUTDOWN, STARTING,
    };
    Some(match state? {
        NEW => 1,
        ALLOCATED => 2,
        PENDING => 3,
        ASSIGNED => 4,
        ACCEPTED => 5,
        PREPARING => 6,
        READY => 7,
        STARTING => 8,
        RUNNING => 9,
        COMPLETE => 10,
        SHUTDOWN => 11,
        FAILED => 12,
        REJECTED => 13,
        REMOVE => 14,
        ORPHANED => 15,
    })
}

fn terminal(state: Option<TaskState>) -> bool {
    rank(state).is_some_and(|rank| rank > 9)
}

/// Nodes that are not down, as the CLI counts them.
fn active_nodes(nodes: &[Node]) -> HashSet<&str> {
    nodes
        .iter()
        .filter(|n| n.status.as_ref().and_then(|s| s.state) != Some(NodeState::DOWN))
        .filter_map(|n| n.id.as_deref())
        .collect()
}

/// Nodes a global service without constraints runs a task on: not down,
/// and available (not paused or drained).
fn schedulable_nodes(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .filter(|n| n.status.as_ref().and_then(|s| s.state) != Some(NodeState::DOWN))
        .filter(|n| {
            let availability = n.spec.as_ref().and_then(|s| s.availability);
            matches!(availability, None | Some(NodeSpecAvailabilityEnum::ACTIVE))
        })
        .count()
}

fn constrained(service: &Service) -> bool {
    service
        .spec
        .as_ref()
        .and_then(|s| {
            s.task_template
                .as_ref()?
                .placement
                .as_ref()?
                .constraints
                .as_ref()
        })
        .is_some_and(|c| !c.is_empty())
}

/// The service's name, or its id when the spec has none.
pub(crate) fn service_name(service: &Service) -> String {
    service
        .spec
        .as_ref()
        .and_then(|spec| spec.name.clone())
        .or_else(|| service.id.clone())
        .unwrap_or_default()
}
