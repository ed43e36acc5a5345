//! Every service action and wait on the real single-node swarm.

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use bollard::models::{Service, Task};
use bollard::query_parameters as q;

use super::testkit::{BROKEN, DEADLINE, IMAGE_1, IMAGE_2, Run, engine};
use super::*;
use crate::steps::docker::RUN_LABEL;

async fn create_and_converge(docker: &Docker, run: &Run, input: &ServiceInput) -> Convergence {
    create(docker, input, &run.owner).await.unwrap();
    wait(
        docker,
        &input.name,
        Until::Converged,
        DEADLINE,
        DEFAULT_POLL,
    )
    .await
    .unwrap()
}

async fn inspect(docker: &Docker, name: &str) -> Service {
    docker.inspect_service(name, None).await.unwrap()
}

/// The images the service's up-to-date running tasks run.
async fn running_images(docker: &Docker, name: &str) -> Vec<String> {
    let filters = HashMap::from([
        ("service".to_string(), vec![name.to_string()]),
        ("_up-to-date".to_string(), vec!["true".to_string()]),
        ("desired-state".to_string(), vec!["running".to_string()]),
    ]);
    let tasks: Vec<Task> = docker
        .list_tasks(Some(q::ListTasksOptions {
            filters: Some(filters),
        }))
        .await
        .unwrap();
    let mut images: Vec<String> = tasks
        .iter()
        .filter(|t| {
            t.status.as_ref().and_then(|s| s.state) == Some(bollard::models::TaskState::RUNNING)
        })
        .filter_map(|t| t.spec.as_ref()?.container_spec.as_ref()?.image.clone())
        .collect();
    images.sort();
    images
}

/// The images running on the service's slots once they settle: a
/// rollback reads as completed while its last task may still be starting.
async fn settled_images(docker: &Docker, name: &str, want: &[&str]) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let images = running_images(docker, name).await;
        if images == want || std::time::Instant::now() > deadline {
            return images;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn env_of(service: &Service) -> Vec<String> {
    service
        .spec
        .as_ref()
        .unwrap()
        .task_template
        .as_ref()
        .unwrap()
        .container_spec
        .as_ref()
        .unwrap()
        .env
        .clone()
        .unwrap_or_default()
}

fn image_update(image: &str) -> Change {
    Change {
        image: Some(image.into()),
        ..Change::default()
    }
}

#[tokio::test]
async fn create_converges_with_labels_env_mounts_and_healthcheck() {
    let docker = engine().await;
    let run = Run::new();
    let mut input = run.input("create", IMAGE_1, 2);
    input.env = vec![("SLOT_PORT".into(), "1810{{.Task.Slot}}".into())];
    input.command = Some(vec!["/app".into()]);
    input.labels = vec![("team".into(), "sre".into())];
    input.networks = vec!["host".into()];
    input.mounts = vec![format!("{}:/data", run.name("data"))];
    input.healthcheck = Some(Healthcheck {
        cmd: vec!["/ok".into()],
        interval: Some(Duration::from_millis(200)),
        retries: Some(2),
        ..Default::default()
    });
    let facts = create_and_converge(&docker, &run, &input).await;
    let names: Vec<&str> = facts.started.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [format!("{}.1", input.name), format!("{}.2", input.name)]
    );
    assert!(
        facts
            .started
            .iter()
            .all(|t| t.image == IMAGE_1 && t.state == "running")
    );
    assert!(facts.engine.is_none(), "a new service has no update status");
    assert!(
        facts.waited >= Duration::from_secs(1),
        "the monitor window is held"
    );
    let service = inspect(&docker, &input.name).await;
    let labels = service.spec.as_ref().unwrap().labels.clone().unwrap();
    assert_eq!(labels[RUN_LABEL], run.owner.run_id);
    assert_eq!(labels["team"], "sre");
    assert_eq!(env_of(&service), ["SLOT_PORT=1810{{.Task.Slot}}"]);
    // The spec names the swarm's own view of `host` (another id than the
    // local network's), which inspects as `host`.
    let template = service.spec.as_ref().unwrap().task_template.as_ref();
    let target = template.unwrap().networks.as_ref().unwrap()[0]
        .target
        .clone();
    let network = docker
        .inspect_network(&target.unwrap(), None)
        .await
        .unwrap();
    assert_eq!(network.name.as_deref(), Some("host"));
    let filters = HashMap::from([("label", vec![format!("{RUN_LABEL}={}", run.owner.run_id)])]);
    let volumes = docker
        .list_volumes(Some(
            q::ListVolumesOptionsBuilder::new()
                .filters(&filters)
                .build(),
        ))
        .await
        .unwrap();
    let volumes: Vec<String> = volumes
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(
        volumes,
        [run.name("data")],
        "the engine labels the volume it creates"
    );
}

#[tokio::test]
async fn a_global_service_with_a_host_port_converges_on_the_node() {
    let docker = engine().await;
    let run = Run::new();
    let mut input = run.input("global", IMAGE_1, 1);
    input.mode = Mode::Global;
    input.ports = vec![Port {
        published: run.port(),
        target: 80,
        mode: PublishMode::Host,
    }];
    let facts = create_and_converge(&docker, &run, &input).await;
    let hostname = docker.info().await.unwrap().name.unwrap();
    assert_eq!(facts.started.len(), 1);
    assert_eq!(facts.started[0].name, format!("{}.{hostname}", input.name));
    assert_eq!(facts.started[0].node, hostname);
}

/// The engine runs on this host: its clock is ours. The look that saw the
/// update completed came within one poll interval of the engine's own
/// `completed_at`, and the time to converge is the engine's update time
/// plus the engine's reaction to the request, within one poll interval.
fn assert_agrees_with_the_engine(facts: &Convergence, engine: &EngineUpdate) {
    let completed = humantime::parse_rfc3339(engine.completed_at.as_deref().unwrap()).unwrap();
    let seen = facts.began + facts.waited;
    let lag = seen
        .duration_since(completed)
        .unwrap_or_else(|early| early.duration());
    let took = engine.took.expect("started_at and completed_at");
    eprintln!(
        "firedrill saw convergence after {:?} ({lag:?} from completed_at), the engine took {took:?}",
        facts.waited
    );
    assert!(
        lag <= DEFAULT_POLL,
        "seen {lag:?} from the engine's completed_at"
    );
    let started = humantime::parse_rfc3339(engine.started_at.as_deref().unwrap()).unwrap();
    let reaction = started.duration_since(facts.began).unwrap_or_default();
    let gap = facts.waited.abs_diff(took + reaction);
    assert!(
        gap <= DEFAULT_POLL,
        "waited {:?}, engine {took:?} + {reaction:?}",
        facts.waited
    );
}

#[tokio::test]
async fn an_update_converges_in_the_time_the_engine_reports() {
    let docker = engine().await;
    let run = Run::new();
    let input = run.input("update", IMAGE_1, 2);
    create_and_converge(&docker, &run, &input).await;
    let change = Change {
        image: Some(IMAGE_2.into()),
        env: vec![("RELEASE".into(), "2".into())],
        ..Change::default()
    };
    let updated = update(&docker, &input.name, &change).await.unwrap();
    assert_eq!(updated.attempts, 1);
    let facts = wait(
        &docker,
        &input.name,
        Until::Converged,
        DEADLINE,
        DEFAULT_POLL,
    )
    .await
    .unwrap();
    let engine = facts
        .engine
        .clone()
        .expect("an update has an update status");
    assert_eq!(engine.state, "completed");
    assert_eq!(
        running_images(&docker, &input.name).await,
        [IMAGE_2, IMAGE_2]
    );
    let started: Vec<&str> = facts.started.iter().map(|t| t.image.as_str()).collect();
    let stopped: Vec<&str> = facts.stopped.iter().map(|t| t.image.as_str()).collect();
    assert_eq!(
        (started, stopped),
        (vec![IMAGE_2, IMAGE_2], vec![IMAGE_1, IMAGE_1])
    );
    assert_agrees_with_the_engine(&facts, &engine);

    // A rehearsal that expected a rollback fails on an update that stuck.
    let err = wait(
        &docker,
        &input.name,
        Until::RolledBack,
        DEADLINE,
        DEFAULT_POLL,
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "service {}: expected the engine to roll the update back, but the update completed",
            input.name
        )
    );
}

#[tokio::test]
async fn the_engines_automatic_rollback_fails_converged_and_passes_rolled_back() {
    let docker = engine().await;
    let run = Run::new();
    let input = run.input("auto", IMAGE_1, 2);
    create_and_converge(&docker, &run, &input).await;

    update(&docker, &input.name, &image_update(BROKEN))
        .await
        .unwrap();
    let err = wait(
        &docker,
        &input.name,
        Until::Converged,
        DEADLINE,
        DEFAULT_POLL,
    )
    .await
    .unwrap_err();
    let line = err.to_string();
    let prefix = format!(
        "service {0}: the engine rolled the update back: task {0}.",
        input.name
    );
    assert!(
        line.starts_with(&prefix) && line.ends_with(" exited with code 3"),
        "{line}"
    );
    let SwarmError::RolledBack { facts, .. } = err else {
        unreachable!()
    };
    let timing = facts.rollback.expect("rollback timing");
    assert!(
        timing.rolled_back_after.unwrap() >= timing.decided_after,
        "{timing:?}"
    );
    assert_eq!(facts.engine.unwrap().state, "rollback_completed");
    assert_eq!(
        settled_images(&docker, &input.name, &[IMAGE_1, IMAGE_1]).await,
        [IMAGE_1, IMAGE_1]
    );

    // The same bad release, this time expected to be rolled back.
    update(&docker, &input.name, &image_update(BROKEN))
        .await
        .unwrap();
    let facts = wait(
        &docker,
        &input.name,
        Until::RolledBack,
        DEADLINE,
        DEFAULT_POLL,
    )
    .await
    .unwrap();
    let timing = facts.rollback.expect("rollback timing");
    eprintln!(
        "engine decided after {:?}, rolled back after {:?}",
        timing.decided_after, timing.rolled_back_after
    );
    assert!(timing.rolled_back_after.is_some());
    assert!(
        facts
            .stopped
            .iter()
            .any(|t| t.image == BROKEN && t.exit_code == Some(3)),
        "{facts:?}"
    );
    assert_eq!(
        running_images(&docker, &input.name).await,
        [IMAGE_1, IMAGE_1]
    );

    // The engine dropped the previous spec when it rolled back.
    let err = rollback(&docker, &input.name).await.unwrap_err();
    assert!(matches!(err, SwarmError::NoPreviousSpec { .. }), "{err}");
}

#[tokio::test]
async fn a_manual_rollback_swaps_back_and_forth() {
    let docker = engine().await;
    let run = Run::new();
    let input = run.input("manual", IMAGE_1, 1);
    create_and_converge(&docker, &run, &input).await;
    let err = rollback(&docker, &input.name).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "service {} has no previous spec to roll back to (never updated, or already rolled back)",
            input.name
        )
    );

    update(&docker, &input.name, &image_update(IMAGE_2))
        .await
        .unwrap();
    wait(
        &docker,
        &input.name,
        Until::Converged,
        DEADLINE,
        DEFAULT_POLL,
    )
    .await
    .unwrap();
    rollback(&docker, &input.name).await.unwrap();
    let facts = wait(
        &docker,
        &input.name,
        Until::RolledBack,
        DEADLINE,
        DEFAULT_POLL,
    )
    .await
    .unwrap();
    assert_eq!(
        facts.engine.unwrap().message.as_deref(),
        Some("rollback completed")
    );
    assert_eq!(running_images(&docker, &input.name).await, [IMAGE_1]);
    // A second rollback re-applies the update.
    rollback(&docker, &input.name).await.unwrap();
    wait(
        &docker,
        &input.name,
        Until::RolledBack,
        DEADLINE,
        DEFAULT_POLL,
    )
    .await
    .unwrap();
    assert_eq!(running_images(&docker, &input.name).await, [IMAGE_2]);
}

#[tokio::test]
async fn an_update_the_engine_pauses_fails_with_the_task_error() {
    let docker = engine().await;
    let run = Run::new();
    let mut input = run.input("paused", IMAGE_1, 1);
    input.update.as_mut().unwrap().failure_action = Some(FailureAction::Pause);
    create_and_converge(&docker, &run, &input).await;
    update(&docker, &input.name, &image_update(BROKEN))
        .await
        .unwrap();
    let err = wait(
        &docker,
        &input.name,
        Until::Converged,
        DEADLINE,
        DEFAULT_POLL,
    )
    .await
    .unwrap_err()
    .to_string();
    let prefix = format!(
        "service {}: the engine paused the update: update paused due to failure",
        input.name
    );
    assert!(err.starts_with(&prefix), "{err}");
    assert!(
        err.ends_with(&format!("(task {}.1 exited with code 3)", input.name)),
        "{err}"
    );
}

#[tokio::test]
async fn scaling_up_and_down_converges() {
    let docker = engine().await;
    let run = Run::new();
    let input = run.input("scale", IMAGE_1, 1);
    create_and_converge(&docker, &run, &input).await;
    scale(&docker, &input.name, 3).await.unwrap();
    let facts = wait(
        &docker,
        &input.name,
        Until::Converged,
        DEADLINE,
        DEFAULT_POLL,
    )
    .await
    .unwrap();
    assert_eq!(facts.started.len(), 2, "{facts:?}");
    assert_eq!(running_images(&docker, &input.name).await.len(), 3);
    scale(&docker, &input.name, 1).await.unwrap();
    let facts = wait(
        &docker,
        &input.name,
        Until::Converged,
        DEADLINE,
        DEFAULT_POLL,
    )
    .await
    .unwrap();
    assert_eq!(
        (facts.started.len(), facts.stopped.len()),
        (0, 2),
        "{facts:?}"
    );
    assert_eq!(running_images(&docker, &input.name).await.len(), 1);
}

#[tokio::test]
async fn concurrent_updates_are_retried_when_out_of_sequence() {
    let docker = engine().await;
    let run = Run::new();
    let input = run.input("race", IMAGE_1, 1);
    create_and_converge(&docker, &run, &input).await;
    let name = input.name.as_str();

    // An update based on a version another update already moved past.
    let stale = inspect(&docker, name).await;
    let first = Change {
        env: vec![("A".into(), "1".into())],
        ..Change::default()
    };
    update(&docker, name, &first).await.unwrap();
    let late = super::ops::submit(&docker, name, None, Some(stale), |spec| {
        let container = spec
            .task_template
            .as_mut()
            .unwrap()
            .container_spec
            .as_mut()
            .unwrap();
        container
            .env
            .get_or_insert_with(Vec::new)
            .push("B=2".into());
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(late.attempts, 2, "the first try was out of sequence");
    assert_eq!(env_of(&inspect(&docker, name).await), ["A=1", "B=2"]);

    // Two at once: both land, neither change is lost.
    let c = Change {
        env: vec![("C".into(), "3".into())],
        ..Change::default()
    };
    let d = Change {
        env: vec![("D".into(), "4".into())],
        ..Change::default()
    };
    let (one, two) = tokio::join!(update(&docker, name, &c), update(&docker, name, &d));
    eprintln!(
        "concurrent attempts: {} and {}",
        one.as_ref().unwrap().attempts,
        two.as_ref().unwrap().attempts
    );
    let mut env = env_of(&inspect(&docker, name).await);
    env.sort();
    assert_eq!(env, ["A=1", "B=2", "C=3", "D=4"]);
    wait(&docker, name, Until::Converged, DEADLINE, DEFAULT_POLL)
        .await
        .unwrap();
}

#[tokio::test]
async fn remove_then_the_service_is_gone() {
    let docker = engine().await;
    let run = Run::new();
    let input = run.input("remove", IMAGE_1, 1);
    create(&docker, &input, &run.owner).await.unwrap();
    let err = create(&docker, &input, &run.owner).await.unwrap_err();
    let SwarmError::Engine { action, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(*action, "create");
    assert!(
        err.to_string()
            .starts_with(&format!("service {}: create failed: ", input.name)),
        "{err}"
    );
    remove(&docker, &input.name).await.unwrap();
    let err = remove(&docker, &input.name).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("service {} does not exist on this engine", input.name)
    );
    let err = wait(
        &docker,
        &input.name,
        Until::Converged,
        DEADLINE,
        DEFAULT_POLL,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SwarmError::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn sweep_removes_only_this_runs_services() {
    let docker = engine().await;
    let mine = Run::new();
    let other = Run::new();
    let mut created = Vec::new();
    for what in ["sweep-a", "sweep-b"] {
        let input = mine.input(what, IMAGE_1, 1);
        create(&docker, &input, &mine.owner).await.unwrap();
        created.push(input.name);
    }
    let theirs = other.input("sweep-other", IMAGE_1, 1);
    create(&docker, &theirs, &other.owner).await.unwrap();
    let mut removed = sweep(&docker, &mine.owner.run_id).await.unwrap();
    removed.sort();
    assert_eq!(removed, created);
    assert_eq!(
        inspect(&docker, &theirs.name)
            .await
            .spec
            .unwrap()
            .name
            .unwrap(),
        theirs.name
    );
    assert_eq!(
        sweep(&docker, &mine.owner.run_id).await.unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn a_missing_image_fails_naming_the_node_and_the_image() {
    let docker = engine().await;
    let run = Run::new();
    let input = run.input("noimage", "fd-swarm-test:missing", 1);
    create(&docker, &input, &run.owner).await.unwrap();
    let err = wait(
        &docker,
        &input.name,
        Until::Converged,
        DEADLINE,
        DEFAULT_POLL,
    )
    .await
    .unwrap_err()
    .to_string();
    let hostname = docker.info().await.unwrap().name.unwrap();
    let expected = format!(
        "service {0}: node {hostname} has no image fd-swarm-test:missing (task {0}.1 rejected: No such image: fd-swarm-test:missing)",
        input.name
    );
    assert_eq!(err, expected);
}

#[tokio::test]
async fn a_healthcheck_that_never_passes_ends_at_the_deadline_with_the_last_state() {
    let docker = engine().await;
    let run = Run::new();
    let mut input = run.input("unhealthy", IMAGE_1, 1);
    input.healthcheck = Some(Healthcheck {
        cmd: vec!["/fail".into()],
        interval: Some(Duration::from_millis(200)),
        retries: Some(1),
        ..Default::default()
    });
    create(&docker, &input, &run.owner).await.unwrap();
    let deadline = Duration::from_secs(4);
    let err = wait(
        &docker,
        &input.name,
        Until::Converged,
        deadline,
        DEFAULT_POLL,
    )
    .await
    .unwrap_err()
    .to_string();
    let prefix = format!(
        "service {}: not converged after 4s: 0/1 tasks running",
        input.name
    );
    assert!(err.starts_with(&prefix), "{err}");
    assert!(err.ends_with("(dockerexec: unhealthy container)"), "{err}");
}
