//! Watching a service until it converges (or rolls back), always bounded,
//! and the facts a step's record keeps about it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use bollard::Docker;
use bollard::models::{Node, Service, ServiceUpdateStatusStateEnum as State, Task, TaskState};
use bollard::query_parameters as q;
use tokio::time::MissedTickBehavior;

use super::SwarmError;
use super::converge::{
    Failure, Progress, Snapshot, Streak, Until, Verdict, assess, hostname, parse_time, task_image,
    task_name,
};
use super::error::engine_message;
use super::facts::{Convergence, EngineUpdate, RollbackTiming, TaskFact};
use super::ops::inspect;

/// How often `wait` looks at the engine: 100 ms. The docker CLI looks every
/// 200 ms; half that makes firedrill notice convergence (on average) 50 ms
/// sooner than the CLI, never later, and keeps the recorded time within
/// 100 ms of the engine's own `UpdateStatus` timestamps. A look is four
/// small GETs on the manager (service, its tasks twice, nodes), answered
/// from the manager's memory: ~40 requests a second is nothing next to what
/// a rolling update itself costs the engine, and going lower would only
/// measure our own request latency.
pub(crate) const DEFAULT_POLL: Duration = Duration::from_millis(100);

/// Waits until `name` reaches `until`, looking every `poll`, for at most
/// `deadline`. Start it right after the change (the times are measured
/// from here). After [`rollback`](super::rollback), wait with
/// [`Until::RolledBack`].
pub(crate) async fn wait(
    docker: &Docker,
    name: &str,
    until: Until,
    deadline: Duration,
    poll: Duration,
) -> Result<Convergence, SwarmError> {
    let mut watch = Watch::new(name, until);
    match tokio::time::timeout(deadline, watch.run(docker, poll)).await {
        Ok(result) => result,
        Err(_) => Err(watch.deadline(deadline)),
    }
}

/// Everything owned that one look fetched.
struct Look {
    service: Service,
    tasks: Vec<Task>,
    up_to_date: Vec<Task>,
    nodes: Vec<Node>,
}

impl Look {
    fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            service: &self.service,
            tasks: &self.tasks,
            up_to_date: &self.up_to_date,
            nodes: &self.nodes,
        }
    }
}

struct Watch {
    name: String,
    until: Until,
    start: Instant,
    began: SystemTime,
    streak: Streak,
    polls: u32,
    /// When the last look was taken, from the start of the wait.
    last_at: Duration,
    /// Each task's state at the first look. Whether a task started or
    /// stopped during the wait is judged against it, not against the
    /// engine's timestamps: the service's `UpdatedAt` also moves when the
    /// engine allocates its published ports, after the tasks are created.
    baseline: Option<HashMap<String, TaskState>>,
    rollback_started: Option<Duration>,
    rollback_completed: Option<Duration>,
    /// Every task seen during the wait, as last seen: the engine deletes
    /// the tasks of removed slots (scale down) once they stopped.
    seen: BTreeMap<String, Task>,
    /// Tasks that were live at one look and gone from the next.
    gone: HashSet<String>,
    last: Option<(Look, Progress)>,
}

impl Watch {
    fn new(name: &str, until: Until) -> Self {
        Watch {
            name: name.to_string(),
            until,
            start: Instant::now(),
            began: SystemTime::now(),
            streak: Streak::default(),
            polls: 0,
            last_at: Duration::ZERO,
            baseline: None,
            rollback_started: None,
            rollback_completed: None,
            seen: BTreeMap::new(),
            gone: HashSet::new(),
            last: None,
        }
    }

    async fn run(&mut self, docker: &Docker, poll: Duration) -> Result<Convergence, SwarmError> {
        let mut ticks = tokio::time::interval(poll);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = Instant::now();
            let look = fetch(docker, &self.name).await?;
            let progress = assess(&look.snapshot(), self.until, self.streak, now);
            self.note(&look, &progress, now);
            let verdict = progress.verdict.clone();
            self.last = Some((look, progress));
            match verdict {
                Verdict::Done => return Ok(self.facts()),
                Verdict::Failed(failure) => return Err(self.failure(failure)),
                _ => {}
            }
        }
    }

    fn note(&mut self, look: &Look, progress: &Progress, now: Instant) {
        self.polls += 1;
        self.streak = progress.streak;
        if self.baseline.is_none() {
            let states = look
                .tasks
                .iter()
                .filter_map(|t| Some((t.id.clone()?, state(t)?)));
            self.baseline = Some(states.collect());
        }
        let at = now - self.start;
        self.last_at = at;
        self.remember(&look.tasks);
        match progress.state {
            Some(State::ROLLBACK_STARTED | State::ROLLBACK_PAUSED) => {
                self.rollback_started.get_or_insert(at);
            }
            Some(State::ROLLBACK_COMPLETED) => {
                self.rollback_started.get_or_insert(at);
                self.rollback_completed.get_or_insert(at);
            }
            _ => {}
        }
    }

    fn remember(&mut self, tasks: &[Task]) {
        let present: HashSet<&str> = tasks.iter().filter_map(|t| t.id.as_deref()).collect();
        for (id, task) in &self.seen {
            if !present.contains(id.as_str()) && !stopped(task) {
                self.gone.insert(id.clone());
            }
        }
        for task in tasks {
            if let Some(id) = &task.id {
                self.seen.insert(id.clone(), task.clone());
            }
        }
    }

    fn facts(&self) -> Convergence {
        let waited = self.last_at;
        let mut facts = Convergence {
            service: self.name.clone(),
            until: self.until,
            began: self.began,
            waited,
            all_running_after: self.streak.since.map(|since| since - self.start),
            polls: self.polls,
            started: Vec::new(),
            stopped: Vec::new(),
            engine: None,
            rollback: self.rollback_started.map(|decided_after| RollbackTiming {
                decided_after,
                rolled_back_after: self.rollback_completed,
            }),
        };
        if let Some((look, _)) = &self.last {
            let tasks: Vec<&Task> = self.seen.values().collect();
            (facts.started, facts.stopped) =
                task_facts(&look.snapshot(), &tasks, &self.gone, self.baseline.as_ref());
            facts.engine = engine_update(&look.service);
        }
        facts
    }

    fn failure(&self, failure: Failure) -> SwarmError {
        let service = self.name.clone();
        match failure {
            Failure::Paused {
                what,
                message,
                cause,
            } => SwarmError::Paused {
                service,
                what,
                message,
                cause,
            },
            Failure::RolledBack { cause } => SwarmError::RolledBack {
                service,
                cause,
                facts: Box::new(self.facts()),
            },
            Failure::NotRolledBack { state } => SwarmError::NotRolledBack { service, state },
            Failure::NoSuchImage {
                task,
                node,
                image,
                err,
            } => SwarmError::NoSuchImage {
                service,
                task,
                node,
                image,
                err,
            },
        }
    }

    /// The deadline passed: the last state seen, or, if the engine had
    /// started rolling the update back, that (a failed update either way).
    fn deadline(&self, deadline: Duration) -> SwarmError {
        let last = match &self.last {
            Some((_, progress)) => progress.describe(),
            None => "the engine did not answer".into(),
        };
        if self.until == Until::Converged && self.rollback_started.is_some() {
            return SwarmError::RolledBack {
                service: self.name.clone(),
                cause: format!("{last} (the rollback was still running when the wait ended)"),
                facts: Box::new(self.facts()),
            };
        }
        SwarmError::Deadline {
            service: self.name.clone(),
            goal: self.until.goal(),
            waited: deadline,
            last,
        }
    }
}

/// One look: the service, then its tasks (all, and up-to-date) and the
/// nodes, the three lists fetched concurrently.
async fn fetch(docker: &Docker, name: &str) -> Result<Look, SwarmError> {
    let service = inspect(docker, name).await?;
    let id = service.id.clone().unwrap_or_else(|| name.to_string());
    let all = HashMap::from([("service".to_string(), vec![id.clone()])]);
    let mut fresh = all.clone();
    fresh.insert("_up-to-date".into(), vec!["true".into()]);
    let engine = |err: bollard::errors::Error| SwarmError::Engine {
        service: name.to_string(),
        action: "watch",
        message: engine_message(&err),
    };
    let (tasks, up_to_date, nodes) = tokio::join!(
        docker.list_tasks(Some(q::ListTasksOptions { filters: Some(all) })),
        docker.list_tasks(Some(q::ListTasksOptions {
            filters: Some(fresh)
        })),
        docker.list_nodes(None),
    );
    Ok(Look {
        service,
        tasks: tasks.map_err(engine)?,
        up_to_date: up_to_date.map_err(engine)?,
        nodes: nodes.map_err(engine)?,
    })
}

/// The tasks the wait saw start (absent, or not yet running, at the first
/// look) and stop (live at the first look or later, then in a terminal
/// state, or deleted by the engine: state `removed`).
fn task_facts(
    snap: &Snapshot,
    tasks: &[&Task],
    gone: &HashSet<String>,
    baseline: Option<&HashMap<String, TaskState>>,
) -> (Vec<TaskFact>, Vec<TaskFact>) {
    let at_first = |task: &Task| baseline.and_then(|b| b.get(task.id.as_deref()?)).copied();
    let mut started = Vec::new();
    let mut ended = Vec::new();
    for task in tasks {
        let first = at_first(task);
        let mut fact = fact(snap, task);
        if first.is_none_or(not_yet_running) {
            started.push(fact.clone());
        }
        let removed = task.id.as_ref().is_some_and(|id| gone.contains(id));
        if removed {
            fact.state = "removed".into();
        }
        let live_at_first = first.is_none_or(|state| !terminal(state));
        if live_at_first && (removed || stopped(task)) {
            ended.push(fact);
        }
    }
    started.sort_by(|a, b| a.name.cmp(&b.name));
    ended.sort_by(|a, b| a.name.cmp(&b.name));
    (started, ended)
}

fn state(task: &Task) -> Option<TaskState> {
    task.status.as_ref().and_then(|s| s.state)
}

fn not_yet_running(state: TaskState) -> bool {
    !terminal(state) && state != TaskState::RUNNING
}

fn terminal(state: TaskState) -> bool {
    !matches!(
        state,
        TaskState::NEW
            | TaskState::ALLOCATED
            | TaskState::PENDING
            | TaskState::ASSIGNED
            | TaskState::ACCEPTED
            | TaskState::PREPARING
            | TaskState::READY
            | TaskState::STARTING
            | TaskState::RUNNING
    )
}

/// In a terminal state (complete, shutdown, failed, rejected, …).
fn stopped(task: &Task) -> bool {
    state(task).is_some_and(terminal)
}

fn fact(snap: &Snapshot, task: &Task) -> TaskFact {
    let status = task.status.as_ref();
    TaskFact {
        id: task.id.clone().unwrap_or_default(),
        name: task_name(snap, task),
        image: task_image(task).unwrap_or_default(),
        node: hostname(snap.nodes, task),
        state: status
            .and_then(|s| s.state)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        error: status.and_then(|s| s.err.clone()),
        exit_code: status
            .and_then(|s| s.container_status.as_ref())
            .and_then(|c| c.exit_code),
    }
}

fn engine_update(service: &Service) -> Option<EngineUpdate> {
    let status = service.update_status.as_ref()?;
    let started = status.started_at.as_deref().and_then(parse_time);
    let completed = status.completed_at.as_deref().and_then(parse_time);
    Some(EngineUpdate {
        state: status.state.map(|s| s.to_string()).unwrap_or_default(),
        message: status.message.clone(),
        started_at: status.started_at.clone(),
        completed_at: status.completed_at.clone(),
        took: match (started, completed) {
            (Some(started), Some(completed)) => completed.duration_since(started).ok(),
            _ => None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{Service, ServiceSpec, TaskStatus};

    fn task(id: &str, slot: i64, state: TaskState) -> Task {
        Task {
            id: Some(id.into()),
            slot: Some(slot),
            status: Some(TaskStatus {
                state: Some(state),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn started_and_stopped_are_what_the_wait_saw_happen() {
        let service = Service {
            spec: Some(ServiceSpec {
                name: Some("demo".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut watch = Watch::new("demo", Until::Converged);
        // First look: an old task long gone, one running, one being started,
        // one running in a slot that is being removed.
        watch.remember(&[
            task("old", 1, TaskState::SHUTDOWN),
            task("a", 1, TaskState::RUNNING),
            task("b", 2, TaskState::PREPARING),
            task("c", 3, TaskState::RUNNING),
        ]);
        let first = watch
            .seen
            .values()
            .filter_map(|t| Some((t.id.clone()?, state(t)?)));
        watch.baseline = Some(first.collect());
        // Next look: a replaced by d, b running, c deleted by the engine.
        watch.remember(&[
            task("old", 1, TaskState::SHUTDOWN),
            task("a", 1, TaskState::SHUTDOWN),
            task("d", 1, TaskState::RUNNING),
            task("b", 2, TaskState::RUNNING),
        ]);
        let tasks: Vec<&Task> = watch.seen.values().collect();
        let snap = Snapshot {
            service: &service,
            tasks: &[],
            up_to_date: &[],
            nodes: &[],
        };
        let (started, stopped) = task_facts(&snap, &tasks, &watch.gone, watch.baseline.as_ref());
        let ids = |facts: &[TaskFact]| -> Vec<String> {
            let mut ids: Vec<String> = facts
                .iter()
                .map(|f| format!("{}:{}", f.id, f.state))
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(&started), ["b:running", "d:running"]);
        assert_eq!(ids(&stopped), ["a:shutdown", "c:removed"]);
        assert_eq!(stopped.iter().find(|f| f.id == "c").unwrap().name, "demo.3");
    }
}
