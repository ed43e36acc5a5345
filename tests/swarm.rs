//! Swarm service steps on the real single-node swarm. These never skip:
//! CI makes the engine a swarm manager (scripts/ensure-swarm), and a test
//! fails, saying how to fix it, when it is not.
//!
//! The images are this worktree's demo-app, tagged `fd-swarm-demo:1/2`
//! from the build context drills/build-images.yaml makes: other test runs
//! on the same engine re-tag `demo-app:1/2` at any time. Services run on
//! host networking with a port per slot (`${base}{{.Task.Slot}}`), each
//! test on its own base; every test removes its services (and their
//! volumes) even when it fails.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use common::{firedrill, read_record, shipped_drill, step, write_drill};
use serde_json::Value;

const TOKEN: &str = "swarm-test-token";
const IMAGE: &str = "fd-swarm-demo";

/// Panics with how to fix it when the engine is not a swarm manager.
fn swarm() {
    let info = Command::new("docker")
        .args([
            "info",
            "--format",
            "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}",
        ])
        .output()
        .expect("the docker CLI");
    let state = String::from_utf8_lossy(&info.stdout).trim().to_string();
    assert_eq!(
        state, "active true",
        "the Swarm tests need this engine to be a swarm manager: run scripts/ensure-swarm (docker swarm init --advertise-addr 127.0.0.1)"
    );
}

/// Builds demo-app (drills/build-images.yaml) once and tags this worktree's
/// build as fd-swarm-demo:1/2.
fn images() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        swarm();
        common::build_demo_images();
        for version in ["1", "2"] {
            let built = Command::new("docker")
                .args(["build", "-q", "--build-arg"])
                .arg(format!("VERSION={version}"))
                .args(["-t", &format!("{IMAGE}:{version}")])
                .arg("target/images/demo-app-context")
                .output()
                .unwrap();
            assert!(built.status.success(), "{built:?}");
        }
    });
}

/// Removes every service whose name starts with `prefix` (and the
/// containers and volumes named so) when dropped: also when the test
/// failed.
struct Cleanup {
    prefix: String,
}

impl Cleanup {
    fn new(what: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        Cleanup {
            prefix: format!("fdsw-{what}-{:x}-", nanos ^ std::process::id()),
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let containers = docker_lines(&["ps", "-aq", "--filter", &self.name_filter()]);
        if !containers.is_empty() {
            let _ = Command::new("docker")
                .args(["rm", "-f"])
                .args(&containers)
                .output();
        }
        let services = docker_lines(&["service", "ls", "-q", "--filter", &self.name_filter()]);
        if !services.is_empty() {
            let _ = Command::new("docker")
                .args(["service", "rm"])
                .args(&services)
                .output();
        }
        // Volumes are released once the tasks' containers are gone.
        for _ in 0..60 {
            let volumes = docker_lines(&["volume", "ls", "-q", "--filter", &self.name_filter()]);
            if volumes.is_empty() {
                return;
            }
            let _ = Command::new("docker")
                .args(["volume", "rm"])
                .args(&volumes)
                .output();
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Cleanup {
    fn name_filter(&self) -> String {
        format!("name={}", self.prefix)
    }
}

fn docker_lines(args: &[&str]) -> Vec<String> {
    let output = Command::new("docker").args(args).output().unwrap();
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Services still carrying the run's label.
fn labelled_services(run_id: &str) -> Vec<String> {
    docker_lines(&[
        "service",
        "ls",
        "-q",
        "--filter",
        &format!("label=firedrill.run={run_id}"),
    ])
}

/// Runs a drill; returns (exit code, stdout, record).
fn run(drill: &Path, envs: &[(&str, &str)]) -> (i32, String, Value) {
    let dir = drill.parent().unwrap();
    let report = dir.join(format!(
        "{}.json",
        drill.file_stem().unwrap().to_string_lossy()
    ));
    let mut cmd = firedrill();
    cmd.timeout(Duration::from_secs(300))
        .env("DEMO_ADMIN_TOKEN", TOKEN)
        .env("FIREDRILL_RUNS_DIR", dir.join("runs"))
        .envs(envs.iter().copied());
    common::run_to_record(cmd, drill, &report)
}

/// A drill around one service `${svc}` of fd-swarm-demo:1 on host
/// networking, slot N on port `{base}N`, with `update` as its update
/// policy; `body` follows its creation, the sweep is its cleanup.
fn service_drill(cleanup: &Cleanup, base: u16, update: &str, extra: &str, body: &str) -> String {
    format!(
        "drill: swarm-test\n\
         target: {{ base_url: \"http://127.0.0.1:{base}1\", headers: {{ Authorization: \"Bearer ${{secret.T}}\" }} }}\n\
         secrets: {{ T: {{ env: DEMO_ADMIN_TOKEN }} }}\n\
         vars: {{ svc: \"{prefix}svc\" }}\n\
         steps:\n\
         - name: Create\n  docker: {{ service_create: \"${{svc}}\", image: \"{IMAGE}:1\", replicas: 1, network: host, grace: 3s, {extra}env: {{ DEMO_ADMIN_TOKEN: \"${{secret.T}}\", DEMO_LISTEN: \"127.0.0.1:{base}{{{{.Task.Slot}}}}\" }}, update: {update}, rollback: {{ monitor: 1s, failure_action: pause }}, restart_policy: {{ condition: any, delay: 500ms }}, for: 1m }}\n\
         {body}\
         cleanup:\n\
         - name: Sweep\n  docker: {{ sweep: run }}\n",
        prefix = cleanup.prefix,
    )
}

const QUICK: &str = "{ parallelism: 1, order: stop-first, monitor: 1s, failure_action: pause }";

fn error_of(record: &Value, name: &str) -> String {
    step(record, name)["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// After every run: cleanup swept the run's services.
fn assert_swept(record: &Value) {
    assert_eq!(step(record, "Sweep")["outcome"], "passed", "cleanup ran");
    let run_id = record["run_id"].as_str().unwrap();
    assert_eq!(labelled_services(run_id), Vec::<String>::new(), "swept");
}

#[test]
fn every_service_action_works_on_a_real_service() {
    images();
    let cleanup = Cleanup::new("actions");
    let body = "- name: Version 1\n  http: { url: /health }\n  expect: { json: { \"$.version\": \"1.0.0\" } }\n\
         - name: Update image\n  docker: { service_update: \"${svc}\", image: \"fd-swarm-demo:2\" }\n\
         - name: Version 2\n  http: { url: /health }\n  expect: { json: { \"$.version\": \"2.0.0\" } }\n\
         - name: Roll back\n  docker: { service_rollback: \"${svc}\", for: 1m }\n\
         - name: Version 1 again\n  http: { url: /health }\n  expect: { json: { \"$.version\": \"1.0.0\" } }\n\
         - name: Env\n  docker: { service_update: \"${svc}\", env: { DEMO_SLOW_MS: \"1\" }, detach: true }\n\
         - name: Converged\n  docker: { wait: \"${svc}\", until: converged, for: 1m }\n\
         - name: Env removed\n  docker: { service_update: \"${svc}\", env_remove: [DEMO_SLOW_MS] }\n\
         - name: Forced\n  docker: { service_update: \"${svc}\", force: true }\n\
         - name: Scale\n  docker: { service_scale: \"${svc}\", replicas: 2 }\n\
         - name: Slot 2\n  http: { url: \"http://127.0.0.1:18722/health\" }\n  expect: { status: 200 }\n\
         - name: Remove\n  docker: { service_remove: \"${svc}\" }\n";
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(
        dir.path(),
        "actions.yaml",
        &service_drill(&cleanup, 1872, QUICK, "", body),
    );
    let (code, stdout, record) = run(&drill, &[]);
    assert_eq!(code, 0, "{stdout}");
    let update = &step(&record, "Update image")["service"];
    assert_eq!(update["until"], "converged");
    assert_eq!(update["engine"]["state"], "completed");
    assert_eq!(update["tasks_started"], 1, "{update}");
    assert_eq!(update["started"][0]["image"], "fd-swarm-demo:2");
    let rollback = &step(&record, "Roll back")["service"];
    assert_eq!(rollback["until"], "rolled_back");
    assert_eq!(rollback["engine"]["message"], "rollback completed");
    assert_eq!(step(&record, "Env")["service"], Value::Null, "detached");
    assert_eq!(step(&record, "Scale")["service"]["tasks_started"], 1);
    assert_convergence_time_agrees_with_the_engine(update);
    assert_swept(&record);
}

/// The record's convergence time against the engine's own `UpdateStatus`
/// timestamps (same host, same clock). The wait looks every 100 ms and
/// stamps a look when it starts; a look is four GETs to the manager
/// (10–40 ms idle, up to ~250 ms with other tests on the 2 shared cores).
/// So the deciding look starts at most one poll plus one look after the
/// engine's `completed_at`, and at most one look before it (the look
/// began before the engine wrote it, its answers came after).
fn assert_convergence_time_agrees_with_the_engine(facts: &Value) {
    let time = |v: &Value| humantime::parse_rfc3339(v.as_str().unwrap()).unwrap();
    let look = Duration::from_millis(250);
    let poll = Duration::from_millis(facts["poll_ms"].as_u64().unwrap());
    let completed = time(&facts["engine"]["completed_at"]);
    let decided = time(&facts["decided_at"]);
    assert!(
        decided + look >= completed && decided <= completed + poll + look,
        "decided at {decided:?}, the engine completed at {completed:?}: {facts}"
    );
    // The wait starts when the engine has accepted the update, as the
    // engine's update starts: the two durations differ by less than a
    // poll and a look.
    let converge = facts["converge_ms"].as_i64().unwrap();
    let took = facts["engine"]["took_ms"].as_i64().unwrap();
    let slack = (poll + look + look).as_millis() as i64;
    assert!(
        (converge - took).abs() <= slack,
        "converge_ms {converge} vs the engine's {took} ms: {facts}"
    );
}

#[test]
fn a_crashing_replica_pauses_the_update_with_the_tasks_error() {
    images();
    let cleanup = Cleanup::new("paused");
    let body = "- name: Bad\n  docker: { service_update: \"${svc}\", env: { DEMO_BROKEN: startup }, for: 1m }\n";
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(
        dir.path(),
        "paused.yaml",
        &service_drill(&cleanup, 1873, QUICK, "", body),
    );
    let (code, stdout, record) = run(&drill, &[]);
    assert_eq!(code, 1, "{stdout}");
    let error = error_of(&record, "Bad");
    assert!(
        error.contains("svc: the engine paused the update: update paused due to failure")
            && error.contains(".1 exited with code 3"),
        "{error}"
    );
    assert!(!error.contains('\n'), "one line: {error}");
    assert_swept(&record);
}

const ROLLBACK: &str =
    "{ parallelism: 1, order: stop-first, monitor: 2s, failure_action: rollback }";

#[test]
fn an_update_the_engine_rolls_back_fails_and_rolled_back_expects_it() {
    images();
    let cleanup = Cleanup::new("rollback");
    let dir = tempfile::tempdir().unwrap();
    let failing = "- name: Bad\n  docker: { service_update: \"${svc}\", env: { DEMO_BROKEN: startup }, for: 1m }\n";
    let drill = write_drill(
        dir.path(),
        "failing.yaml",
        &service_drill(&cleanup, 1874, ROLLBACK, "", failing),
    );
    let (code, stdout, record) = run(&drill, &[]);
    assert_eq!(code, 1, "{stdout}");
    let error = error_of(&record, "Bad");
    assert!(
        error.contains("svc: the engine rolled the update back: task ")
            && error.contains(" exited with code 3"),
        "{error}"
    );
    let facts = &step(&record, "Bad")["service"];
    assert!(
        facts["rollback"]["decided_after_ms"].as_u64().is_some(),
        "the failed step keeps the facts: {facts}"
    );
    assert_swept(&record);

    let expected = "- name: Bad release\n  docker: { service_update: \"${svc}\", env: { DEMO_BROKEN: startup }, detach: true }\n\
         - name: Rolled back\n  docker: { wait: \"${svc}\", until: rolled_back, for: 1m }\n\
         - name: Still serving\n  http: { url: /health }\n  expect: { status: 200 }\n  retry: { every: 200ms, for: 10s }\n";
    let drill = write_drill(
        dir.path(),
        "expected.yaml",
        &service_drill(&cleanup, 1874, ROLLBACK, "", expected),
    );
    let (code, stdout, record) = run(&drill, &[]);
    assert_eq!(code, 0, "{stdout}");
    let facts = &step(&record, "Rolled back")["service"];
    assert_eq!(facts["engine"]["state"], "rollback_completed", "{facts}");
    assert!(facts["rollback"]["rolled_back_after_ms"].as_u64().is_some());
    assert_swept(&record);
}

#[test]
fn a_healthcheck_that_never_passes_fails_the_bounded_wait_with_the_last_state() {
    images();
    let cleanup = Cleanup::new("health");
    let dir = tempfile::tempdir().unwrap();
    let text = service_drill(
        &cleanup,
        1875,
        QUICK,
        "healthcheck: { cmd: [/demo-app, --check-health], interval: 500ms, timeout: 2s, retries: 2 }, ",
        "",
    )
    .replace("DEMO_ADMIN_TOKEN: \"${secret.T}\",", "DEMO_ADMIN_TOKEN: \"${secret.T}\", DEMO_BROKEN: health,")
    .replace("for: 1m }", "for: 8s }");
    let drill = write_drill(dir.path(), "health.yaml", &text);
    let started = Instant::now();
    let (code, stdout, record) = run(&drill, &[]);
    assert_eq!(code, 1, "{stdout}");
    let error = error_of(&record, "Create");
    eprintln!("the bounded wait's error: {error}");
    assert!(
        error.contains("svc: not converged after 8s: 0/1 tasks running"),
        "{error}"
    );
    assert!(
        error.contains("; last health check: unhealthy: ")
            && error.contains("injected fault: health is broken"),
        "the health log says why: {error}"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_swept(&record);
}

#[test]
fn sigint_during_a_rolling_update_removes_the_service() {
    images();
    let cleanup = Cleanup::new("sigint");
    let dir = tempfile::tempdir().unwrap();
    // Two replicas, 20 s between them: the update is still rolling when
    // the signal comes.
    let slow = "{ parallelism: 1, delay: 20s, order: stop-first, monitor: 1s }";
    let body = "- name: Rolling update\n  docker: { service_update: \"${svc}\", image: \"fd-swarm-demo:2\", replicas: 2, for: 2m }\n";
    let drill = write_drill(
        dir.path(),
        "sigint.yaml",
        &service_drill(&cleanup, 1876, slow, "", body),
    );
    let report = dir.path().join("record.json");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("firedrill"))
        .arg("run")
        .arg(&drill)
        .arg("--report")
        .arg(&report)
        .env("DEMO_ADMIN_TOKEN", TOKEN)
        .env("FIREDRILL_RUNS_DIR", dir.path().join("runs"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let journal = dir.path().join("record.journal.jsonl");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&journal)
        .unwrap_or_default()
        .contains("\"name\":\"Create\"")
    {
        assert!(Instant::now() < deadline, "the service was never created");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let record = read_record(&report);
    assert_eq!(record["outcome"], "interrupted");
    assert_eq!(step(&record, "Rolling update")["outcome"], "cancelled");
    assert_swept(&record);
}

#[test]
fn the_swarm_rollout_showcase_passes_end_to_end() {
    images();
    let cleanup = Cleanup::new("rollout");
    let dir = tempfile::tempdir().unwrap();
    let drill = dir.path().join("swarm-rollout.yaml");
    std::fs::copy(shipped_drill("swarm-rollout.yaml"), &drill).unwrap();
    let (code, stdout, record) = run(
        &drill,
        &[
            ("SWARM_DEMO_IMAGE", IMAGE),
            ("SWARM_PORT_BASE", "1877"),
            ("SWARM_NAME_PREFIX", &cleanup.prefix),
        ],
    );
    assert_eq!(code, 0, "{stdout}");
    let bad = &step(&record, "A broken release is rolled back by the engine")["service"];
    let decided = bad["rollback"]["decided_after_ms"].as_u64().unwrap();
    let rolled_back = bad["rollback"]["rolled_back_after_ms"].as_u64().unwrap();
    assert!(decided <= rolled_back, "{bad}");
    eprintln!("bad release noticed after {decided} ms, rolled back after {rolled_back} ms");
    let run_id = record["run_id"].as_str().unwrap();
    assert_eq!(
        step(&record, "Remove everything this run created")["outcome"],
        "passed"
    );
    assert_eq!(labelled_services(run_id), Vec::<String>::new());
    let volumes = docker_lines(&[
        "volume",
        "ls",
        "-q",
        "--filter",
        &format!("label=firedrill.run={run_id}"),
    ]);
    assert_eq!(volumes, Vec::<String>::new(), "the sweep took the volume");
    assert!(!stdout.contains(TOKEN), "the secret leaked: {stdout}");
}

#[test]
fn bad_service_fields_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(
        dir.path(),
        "bad.yaml",
        "drill: bad\nsteps:\n\
         - docker: { service_create: demo, image: \"x:1\", update: { order: start-frist } }\n\
         - docker: { wait: demo, until: convergd }\n\
         - docker: { service_scale: demo }\n\
         - docker: { service_remove: demo, replicas: 2 }\n\
         - docker: { service_create: demo, image: \"x:1\", rollback: { failure_action: rollback } }\n",
    );
    let output = firedrill().arg("check").arg(&drill).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    for expected in [
        "bad.yaml:3:66: unknown `order: start-frist`",
        "did you mean `start-first`?",
        "bad.yaml:4:32: unknown `until: convergd`",
        "did you mean `converged`?",
        "bad.yaml:5:28: `service_scale` needs `replicas`",
        "bad.yaml:6:35: `replicas` does not go with `service_remove`",
        "bad.yaml:7:61: a rollback cannot itself roll back",
    ] {
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
    }
    let shipped = firedrill()
        .arg("check")
        .arg(shipped_drill("swarm-rollout.yaml"))
        .output()
        .unwrap();
    assert_eq!(shipped.status.code(), Some(0), "{shipped:?}");
}

#[test]
fn a_global_service_publishes_its_port_on_the_host() {
    images();
    let cleanup = Cleanup::new("global");
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "drill: swarm-global\n\
         secrets: {{ T: {{ env: DEMO_ADMIN_TOKEN }} }}\n\
         steps:\n\
         - name: Create\n  docker: {{ service_create: \"{prefix}svc\", image: \"{IMAGE}:1\", mode: global, ports: [\"18781:8080\"], publish: host, env: {{ DEMO_ADMIN_TOKEN: \"${{secret.T}}\" }}, update: {QUICK}, for: 1m }}\n\
         - name: Answers on the host\n  http: {{ url: \"http://127.0.0.1:18781/health\" }}\n  expect: {{ json: {{ \"$.version\": \"1.0.0\" }} }}\n  retry: {{ every: 200ms, for: 10s }}\n\
         - name: Update\n  docker: {{ service_update: \"{prefix}svc\", image: \"{IMAGE}:2\" }}\n\
         - name: Version 2\n  http: {{ url: \"http://127.0.0.1:18781/health\" }}\n  expect: {{ json: {{ \"$.version\": \"2.0.0\" }} }}\n\
         cleanup:\n\
         - name: Sweep\n  docker: {{ sweep: run }}\n",
        prefix = cleanup.prefix,
    );
    let drill = write_drill(dir.path(), "global.yaml", &text);
    let (code, stdout, record) = run(&drill, &[]);
    assert_eq!(code, 0, "{stdout}");
    let created = &step(&record, "Create")["service"];
    assert_eq!(
        created["tasks_started"], 1,
        "one task on the one node: {created}"
    );
    assert_swept(&record);
}
