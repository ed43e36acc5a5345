//! `assess` on hand-built engine values, one rule per test.

use std::time::{Duration, Instant};

use bollard::models::{
    ContainerStatus, Node, NodeDescription, NodeSpec, NodeSpecAvailabilityEnum, NodeState,
    NodeStatus, Service, ServiceSpec, ServiceSpecUpdateConfig, ServiceUpdateStatus,
    ServiceUpdateStatusStateEnum as State, Task, TaskSpec, TaskSpecContainerSpec, TaskState,
    TaskStatus,
};

use super::converge::{Failure, Progress, Snapshot, Streak, Until, Verdict, assess};
use super::spec::{Mode, mode};

fn service(mode_: Mode, state: Option<(State, &str)>) -> Service {
    Service {
        id: Some("svc1".into()),
        spec: Some(ServiceSpec {
            name: Some("demo".into()),
            mode: Some(mode(mode_)),
            update_config: Some(ServiceSpecUpdateConfig {
                monitor: Some(1_000_000_000),
                ..Default::default()
            }),
            ..Default::default()
        }),
        update_status: state.map(|(state, message)| ServiceUpdateStatus {
            state: Some(state),
            message: Some(message.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn task(id: &str, slot: i64, node: &str, desired: TaskState, state: TaskState) -> Task {
    Task {
        id: Some(id.into()),
        slot: Some(slot),
        node_id: Some(node.into()),
        desired_state: Some(desired),
        spec: Some(TaskSpec {
            container_spec: Some(TaskSpecContainerSpec {
                image: Some("app:2".into()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        status: Some(TaskStatus {
            state: Some(state),
            timestamp: Some("2026-12-01T10:00:00.5Z".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn running(id: &str, slot: i64) -> Task {
    task(id, slot, "n1", TaskState::RUNNING, TaskState::RUNNING)
}

fn crashed(id: &str, slot: i64, code: i64) -> Task {
    let mut task = task(id, slot, "n1", TaskState::SHUTDOWN, TaskState::FAILED);
    let status = task.status.as_mut().unwrap();
    status.err = Some(format!("task: non-zero exit ({code})"));
    status.container_status = Some(ContainerStatus {
        exit_code: Some(code),
        ..Default::default()
    });
    task
}

fn node(id: &str, hostname: &str, availability: NodeSpecAvailabilityEnum, up: bool) -> Node {
    Node {
        id: Some(id.into()),
        spec: Some(NodeSpec {
            availability: Some(availability),
            ..Default::default()
        }),
        description: Some(NodeDescription {
            hostname: Some(hostname.into()),
            ..Default::default()
        }),
        status: Some(NodeStatus {
            state: Some(if up {
                NodeState::READY
            } else {
                NodeState::DOWN
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn one_node() -> Vec<Node> {
    vec![node("n1", "vm1", NodeSpecAvailabilityEnum::ACTIVE, true)]
}

fn look(service: &Service, tasks: &[Task], until: Until, streak: Streak, now: Instant) -> Progress {
    let nodes = one_node();
    let snap = Snapshot {
        service,
        tasks,
        up_to_date: tasks,
        nodes: &nodes,
    };
    assess(&snap, until, streak, now)
}

#[test]
fn converging_while_a_slot_is_still_starting() {
    let svc = service(
        Mode::Replicated(2),
        Some((State::UPDATING, "update in progress")),
    );
    let starting = task("t2", 2, "n1", TaskState::RUNNING, TaskState::STARTING);
    let p = look(
        &svc,
        &[running("t1", 1), starting],
        Until::Converged,
        Streak::default(),
        Instant::now(),
    );
    assert_eq!(
        (p.running, p.desired, p.verdict.clone()),
        (1, 2, Verdict::Waiting)
    );
    assert!(
        p.describe()
            .starts_with("1/2 tasks running, update state updating"),
        "{}",
        p.describe()
    );
}

#[test]
fn converged_only_after_the_monitor_window_with_no_new_failure() {
    let svc = service(Mode::Replicated(2), None);
    let t0 = Instant::now();
    let tasks = [running("t1", 1), running("t2", 2)];
    let p = look(&svc, &tasks, Until::Converged, Streak::default(), t0);
    assert_eq!(
        p.verdict,
        Verdict::Settling {
            remaining: Duration::from_secs(1)
        }
    );
    // a task of slot 2 crashed and was replaced between two looks
    let with_crash = [running("t1", 1), running("t3", 2), crashed("t2", 2, 3)];
    let half = t0 + Duration::from_millis(500);
    let p = look(&svc, &with_crash, Until::Converged, p.streak, half);
    assert_eq!(p.streak.since, Some(half), "the window restarts");
    let p = look(
        &svc,
        &with_crash,
        Until::Converged,
        p.streak,
        t0 + Duration::from_secs(1),
    );
    assert!(matches!(p.verdict, Verdict::Settling { .. }));
    let p = look(
        &svc,
        &with_crash,
        Until::Converged,
        p.streak,
        half + Duration::from_secs(1),
    );
    assert_eq!(p.verdict, Verdict::Done);
}

#[test]
fn a_completed_update_needs_no_second_window() {
    let svc = service(
        Mode::Replicated(2),
        Some((State::COMPLETED, "update completed")),
    );
    let p = look(
        &svc,
        &[running("t1", 1), running("t2", 2)],
        Until::Converged,
        Streak::default(),
        Instant::now(),
    );
    assert_eq!(p.verdict, Verdict::Done);
}

#[test]
fn a_removed_slot_still_running_is_not_converged() {
    let svc = service(
        Mode::Replicated(1),
        Some((State::COMPLETED, "update completed")),
    );
    let leaving = task("t2", 2, "n1", TaskState::SHUTDOWN, TaskState::RUNNING);
    let p = look(
        &svc,
        &[running("t1", 1), leaving],
        Until::Converged,
        Streak::default(),
        Instant::now(),
    );
    assert_eq!((p.running, p.verdict), (1, Verdict::Waiting));
}

#[test]
fn paused_fails_with_the_engine_message_and_the_task_error() {
    let message = "update paused due to failure or early termination of task t2";
    let svc = service(Mode::Replicated(2), Some((State::PAUSED, message)));
    let tasks = [running("t1", 1), crashed("t2", 2, 3), crashed("t0", 1, 1)];
    let p = look(
        &svc,
        &tasks,
        Until::Converged,
        Streak::default(),
        Instant::now(),
    );
    let Verdict::Failed(Failure::Paused {
        what,
        message: m,
        cause,
    }) = p.verdict
    else {
        panic!("{:?}", p.verdict)
    };
    assert_eq!((what, m.as_str()), ("update", message));
    assert_eq!(cause.as_deref(), Some("task demo.2 exited with code 3"));
}

#[test]
fn an_automatic_rollback_fails_a_wait_for_convergence() {
    let message = "update rolled back due to failure or early termination of task t2";
    let tasks = [running("t1", 1), running("t3", 2), crashed("t2", 2, 3)];
    let started = service(
        Mode::Replicated(2),
        Some((State::ROLLBACK_STARTED, message)),
    );
    let p = look(
        &started,
        &tasks,
        Until::Converged,
        Streak::default(),
        Instant::now(),
    );
    assert_eq!(p.verdict, Verdict::RollingBack);
    let done = service(
        Mode::Replicated(2),
        Some((State::ROLLBACK_COMPLETED, "rollback completed")),
    );
    let p = look(
        &done,
        &tasks,
        Until::Converged,
        Streak::default(),
        Instant::now(),
    );
    assert_eq!(
        p.verdict,
        Verdict::Failed(Failure::RolledBack {
            cause: "task demo.2 exited with code 3".into()
        })
    );
}

#[test]
fn rolled_back_is_satisfied_by_a_completed_rollback_on_every_slot() {
    let svc = service(
        Mode::Replicated(2),
        Some((State::ROLLBACK_COMPLETED, "rollback completed")),
    );
    let both = [running("t1", 1), running("t3", 2)];
    let p = look(
        &svc,
        &both,
        Until::RolledBack,
        Streak::default(),
        Instant::now(),
    );
    assert_eq!(p.verdict, Verdict::Done);
    let pending = task("t3", 2, "n1", TaskState::RUNNING, TaskState::PREPARING);
    let p = look(
        &svc,
        &[running("t1", 1), pending],
        Until::RolledBack,
        Streak::default(),
        Instant::now(),
    );
    assert_eq!(p.verdict, Verdict::Waiting);
    let kept = service(
        Mode::Replicated(2),
        Some((State::COMPLETED, "update completed")),
    );
    let p = look(
        &kept,
        &both,
        Until::RolledBack,
        Streak::default(),
        Instant::now(),
    );
    assert!(matches!(
        p.verdict,
        Verdict::Failed(Failure::NotRolledBack { .. })
    ));
    let rolling = service(Mode::Replicated(2), Some((State::ROLLBACK_STARTED, "x")));
    let p = look(
        &rolling,
        &both,
        Until::RolledBack,
        Streak::default(),
        Instant::now(),
    );
    assert_eq!(p.verdict, Verdict::Waiting);
}

#[test]
fn global_counts_one_task_per_schedulable_node() {
    use NodeSpecAvailabilityEnum::{ACTIVE, DRAIN};
    let svc = service(Mode::Global, Some((State::COMPLETED, "update completed")));
    let nodes = [
        node("n1", "a", ACTIVE, true),
        node("n2", "b", ACTIVE, true),
        node("n3", "c", DRAIN, true),
        node("n4", "d", ACTIVE, false),
    ];
    let on = |id: &str, node: &str, state| task(id, 0, node, TaskState::RUNNING, state);
    let cases: [(Vec<Task>, usize, bool); 3] = [
        (vec![], 0, false),
        (
            vec![
                on("a", "n1", TaskState::RUNNING),
                on("b", "n2", TaskState::STARTING),
            ],
            1,
            false,
        ),
        (
            vec![
                on("a", "n1", TaskState::RUNNING),
                on("b", "n2", TaskState::RUNNING),
                on("d", "n4", TaskState::RUNNING),
            ],
            2,
            true,
        ),
    ];
    for (tasks, running, done) in cases {
        let snap = Snapshot {
            service: &svc,
            tasks: &tasks,
            up_to_date: &tasks,
            nodes: &nodes,
        };
        let p = assess(&snap, Until::Converged, Streak::default(), Instant::now());
        assert_eq!((p.running, p.desired), (running, 2), "{tasks:?}");
        assert_eq!(p.verdict == Verdict::Done, done);
    }
}

#[test]
fn no_such_image_names_the_node_and_the_image() {
    let svc = service(
        Mode::Replicated(1),
        Some((State::UPDATING, "update in progress")),
    );
    let mut rejected = task("t1", 1, "n1", TaskState::READY, TaskState::REJECTED);
    rejected.status.as_mut().unwrap().err = Some("No such image: app:2".into());
    let p = look(
        &svc,
        &[rejected],
        Until::Converged,
        Streak::default(),
        Instant::now(),
    );
    let Verdict::Failed(failure) = p.verdict else {
        panic!("{:?}", p.verdict)
    };
    assert_eq!(
        failure,
        Failure::NoSuchImage {
            task: "demo.1".into(),
            node: "vm1".into(),
            image: "app:2".into(),
            err: "No such image: app:2".into(),
        }
    );
    let err = super::SwarmError::NoSuchImage {
        service: "demo".into(),
        task: "demo.1".into(),
        node: "vm1".into(),
        image: "app:2".into(),
        err: "No such image: app:2".into(),
    };
    assert_eq!(
        err.to_string(),
        "service demo: node vm1 has no image app:2 (task demo.1 rejected: No such image: app:2)"
    );
}

#[test]
fn the_last_task_error_keeps_the_engines_reason() {
    let svc = service(Mode::Replicated(1), None);
    let mut unhealthy = crashed("t1", 1, 143);
    unhealthy.status.as_mut().unwrap().err =
        Some("task: non-zero exit (143): dockerexec: unhealthy container".into());
    let p = look(
        &svc,
        &[unhealthy],
        Until::Converged,
        Streak::default(),
        Instant::now(),
    );
    assert_eq!(p.verdict, Verdict::Waiting);
    assert_eq!(
        p.describe(),
        "0/1 tasks running; last task error: task demo.1 exited with code 143 (dockerexec: unhealthy container)"
    );
}

#[test]
fn completed_is_not_converged_while_an_old_task_still_runs() {
    // start-first: the engine says `completed` once the new tasks run; the
    // old task of slot 2 was told to stop and still serves.
    let svc = service(
        Mode::Replicated(2),
        Some((State::COMPLETED, "update completed")),
    );
    let fresh = [running("t3", 1), running("t4", 2)];
    let old = task("t2", 2, "n1", TaskState::SHUTDOWN, TaskState::RUNNING);
    let all = [fresh[0].clone(), fresh[1].clone(), old];
    let nodes = one_node();
    let snap = Snapshot {
        service: &svc,
        tasks: &all,
        up_to_date: &fresh,
        nodes: &nodes,
    };
    let p = assess(&snap, Until::Converged, Streak::default(), Instant::now());
    assert_eq!(p.verdict, Verdict::Waiting);
    let snap = Snapshot {
        tasks: &fresh,
        ..snap
    };
    let p = assess(&snap, Until::Converged, Streak::default(), Instant::now());
    assert_eq!(p.verdict, Verdict::Done);
}
