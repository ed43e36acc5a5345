//! Docker steps on the real Docker engine. These never skip: CI makes sure
//! an engine runs (scripts/ensure-docker), and a test fails when it is gone.
//! The demo-app images are built once per test run by drills/build-images.yaml.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{firedrill, free_port, read_record, shipped_drill, step, write_drill};
use serde_json::Value;

/// Builds demo-app:1 and demo-app:2 once.
fn images() {
    common::build_demo_images();
}

/// Containers still carrying this run's label.
fn labelled_containers(run_id: &str) -> String {
    let output = Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=firedrill.run={run_id}"),
        ])
        .output()
        .expect("the docker CLI");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Runs a drill; returns (exit code, stdout, record).
fn run(drill: &std::path::Path, envs: &[(&str, &str)]) -> (i32, String, Value) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("record.json");
    let mut cmd = firedrill();
    cmd
        // Building the firedrill image compiles a static release binary.
        .timeout(Duration::from_secs(1800))
        .envs(envs.iter().copied());
    common::run_to_record(cmd, drill, &report)
}

const TOKEN: &str = "docker-test-token";

#[test]
fn the_rollback_rehearsal_passes_end_to_end() {
    images();
    let port = free_port().to_string();
    let (code, stdout, record) = run(
        &shipped_drill("rollback-rehearsal.yaml"),
        &[("DEMO_ADMIN_TOKEN", TOKEN), ("DEMO_PORT", &port)],
    );
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(record["outcome"], "passed");
    let engine = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .unwrap();
    assert_eq!(
        record["docker_version"].as_str(),
        Some(String::from_utf8_lossy(&engine.stdout).trim()),
        "the record names the engine's version"
    );
    assert_eq!(
        step(&record, "Version 1 refuses the migrated data")["outcome"],
        "passed"
    );
    assert_eq!(
        step(&record, "The tenant and its roles survived the rollback")["outcome"],
        "passed"
    );
    assert_eq!(
        step(&record, "Remove everything this run created")["outcome"],
        "passed"
    );
    let run_id = record["run_id"].as_str().unwrap();
    assert_eq!(
        labelled_containers(run_id),
        "",
        "the sweep removed the run's containers"
    );
    assert!(!stdout.contains(TOKEN), "the secret leaked: {stdout}");
}

/// A drill header for demo-app in a container on `port`.
fn container_drill(port: &str, body: &str) -> String {
    format!(
        "drill: docker-actions\n\
         target: {{ base_url: \"http://127.0.0.1:{port}\", headers: {{ Authorization: \"Bearer ${{secret.T}}\" }} }}\n\
         secrets: {{ T: {{ env: DEMO_ADMIN_TOKEN }} }}\n\
         vars: {{ app: \"fd-test-${{run.id}}\" }}\n\
         steps:\n\
         - name: Run\n  docker: {{ run: \"demo-app:1\", name: \"${{app}}\", env: {{ DEMO_ADMIN_TOKEN: \"${{secret.T}}\" }}, ports: [\"127.0.0.1:{port}:8080\"], volumes: [\"fd-test-${{run.id}}:/data\"], labels: {{ team: sre }}, healthcheck: {{ http: /health, for: 20s }} }}\n\
         {body}\
         cleanup:\n\
         - name: Sweep\n  docker: {{ sweep: run }}\n"
    )
}

#[test]
fn each_action_works_on_a_real_container() {
    images();
    let port = free_port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("data.tar");
    let body = format!(
        "- name: Serving\n  http: {{ url: /health }}\n  expect: {{ json: {{ \"$.version\": \"1.0.0\" }} }}\n\
         - name: Exec\n  docker: {{ exec: \"${{app}}\", argv: [/demo-app, --help] }}\n  expect: {{ stdout_contains: multi-tenant }}\n  capture: {{ help: stdout }}\n\
         - name: Create tenant\n  http: {{ method: POST, url: /tenants, json: {{ name: kept, plan: pro }} }}\n  expect: {{ status: 201 }}\n\
         - name: Stop\n  docker: {{ stop: \"${{app}}\", grace: 5s }}\n\
         - name: Stopped\n  docker: {{ wait: \"${{app}}\", until: exited, exit_code: 0, for: 10s }}\n\
         - name: Copy out\n  docker: {{ copy_out: \"${{app}}\", path: /data, to: \"{archive}\" }}\n\
         - name: Copy in while stopped\n  docker: {{ copy_in: \"${{app}}\", from: \"{archive}\", path: / }}\n\
         - name: Start\n  docker: {{ start: \"${{app}}\", healthcheck: {{ http: /health }} }}\n\
         - name: Running\n  docker: {{ wait: \"${{app}}\", until: running, for: 10s }}\n\
         - name: Logged twice\n  docker: {{ wait: \"${{app}}\", log: \"listening on\", times: 2, for: 10s }}\n\
         - name: Data kept\n  http: {{ url: /tenants }}\n  expect: {{ json: {{ \"$[0].name\": kept }} }}\n\
         - name: Restart\n  docker: {{ restart: \"${{app}}\", grace: 5s, healthcheck: {{ http: /health }} }}\n\
         - name: Replace\n  docker: {{ replace: \"${{app}}\", image: \"demo-app:2\", healthcheck: {{ http: /health }} }}\n\
         - name: Version two with the same config\n  http: {{ url: /tenants }}\n  expect: {{ json: {{ \"$[0].name\": kept }} }}\n\
         - name: Remove\n  docker: {{ remove: \"${{app}}\", volumes: true }}\n",
        archive = archive.display()
    );
    let drill = write_drill(dir.path(), "actions.yaml", &container_drill(&port, &body));
    let (code, stdout, record) = run(&drill, &[("DEMO_ADMIN_TOKEN", TOKEN)]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        archive.metadata().unwrap().len() > 1024,
        "copy_out wrote a tar"
    );
    let tar = Command::new("tar")
        .arg("tf")
        .arg(&archive)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&tar.stdout).contains("data/FORMAT"),
        "the archive holds the data dir"
    );
    assert_eq!(step(&record, "Exec")["outcome"], "passed");
    let run_id = record["run_id"].as_str().unwrap();
    assert_eq!(labelled_containers(run_id), "");
    let volume = Command::new("docker")
        .args([
            "volume",
            "ls",
            "-q",
            "--filter",
            &format!("name=fd-test-{run_id}"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&volume.stdout).trim(),
        "",
        "remove took the volume"
    );
}

/// Runs a one-step failing docker drill (after a container is up) and
/// returns the failed step's error.
fn failure(body: &str) -> String {
    images();
    let port = free_port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(dir.path(), "fail.yaml", &container_drill(&port, body));
    let (code, stdout, record) = run(&drill, &[("DEMO_ADMIN_TOKEN", TOKEN)]);
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(step(&record, "Sweep")["outcome"], "passed", "cleanup ran");
    assert_eq!(labelled_containers(record["run_id"].as_str().unwrap()), "");
    step(&record, "Bad")["error"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_missing_image_is_never_pulled() {
    let error =
        failure("- name: Bad\n  docker: { run: \"no-such-image:9\", name: \"x-${run.id}\" }\n");
    assert!(
        error.contains("image `no-such-image:9` is not on the engine, and firedrill never pulls"),
        "{error}"
    );
}

#[test]
fn a_taken_name_is_a_clear_failure() {
    let error = failure("- name: Bad\n  docker: { run: \"demo-app:1\", name: \"${app}\" }\n");
    assert!(error.contains("already exists"), "{error}");
}

#[test]
fn a_missing_container_is_a_clear_failure() {
    let error = failure("- name: Bad\n  docker: { stop: \"no-such-container-${run.id}\" }\n");
    assert!(
        error.contains("container `no-such-container-") && error.contains("not found"),
        "{error}"
    );
}

#[test]
fn a_failing_exec_reports_its_exit_code() {
    let error =
        failure("- name: Bad\n  docker: { exec: \"${app}\", argv: [/demo-app, --no-such-flag] }\n");
    assert!(error.contains("exit code: expected 0, got 2"), "{error}");
}

#[test]
fn a_wait_past_its_deadline_fails() {
    let started = Instant::now();
    let error = failure("- name: Bad\n  docker: { wait: \"${app}\", until: exited, for: 1s }\n");
    assert!(
        error.contains("did not get there within 1s (state: running"),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn healthy_needs_a_healthcheck() {
    let error = failure("- name: Bad\n  docker: { wait: \"${app}\", until: healthy, for: 5s }\n");
    assert!(error.contains("has no healthcheck"), "{error}");
}

#[test]
fn sigint_still_sweeps_what_the_run_created() {
    images();
    let port = free_port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(
        dir.path(),
        "interrupt.yaml",
        &container_drill(&port, "- name: Long wait\n  sleep: 60s\n"),
    );
    let report = dir.path().join("record.json");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("firedrill"))
        .arg("run")
        .arg(&drill)
        .arg("--report")
        .arg(&report)
        .env("DEMO_ADMIN_TOKEN", TOKEN)
        .env("FIREDRILL_RUNS_DIR", common::shared_runs_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the container is up (the journal has the first step).
    let journal = dir.path().join("record.journal.jsonl");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&journal)
        .unwrap_or_default()
        .contains("\"name\":\"Run\"")
    {
        assert!(Instant::now() < deadline, "the container never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let record = read_record(&report);
    assert_eq!(record["outcome"], "interrupted");
    assert_eq!(step(&record, "Sweep")["outcome"], "passed");
    assert_eq!(
        labelled_containers(record["run_id"].as_str().unwrap()),
        "",
        "no labelled container left"
    );
}

#[test]
fn an_unreachable_engine_is_one_clear_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(
        dir.path(),
        "down.yaml",
        "drill: engine-down\nsteps:\n- name: Start\n  docker: { start: app }\n",
    );
    let (code, stdout, record) = run(
        &drill,
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
    );
    assert_eq!(code, 1);
    let error = step(&record, "Start")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.starts_with("cannot reach the Docker engine at unix:///nonexistent/docker.sock: "),
        "{error}"
    );
    assert!(!error.contains('\n'), "one line: {error}");
    assert!(
        !error.to_lowercase().contains("hyper"),
        "no raw hyper error: {error}"
    );
    assert!(
        stdout.contains("cannot reach the Docker engine"),
        "{stdout}"
    );
    assert_eq!(record["docker_version"], Value::Null);
}

#[test]
fn invalid_docker_fields_are_located() {
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(
        dir.path(),
        "bad.yaml",
        "drill: bad\nsteps:\n- docker: { stop: app, image: \"demo-app:2\" }\n- docker: { replace: app }\n- docker: { wait: app, until: sleeping }\n",
    );
    let output = firedrill().arg("check").arg(&drill).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("bad.yaml:3:24: `image` does not go with `stop`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad.yaml:4:22: `replace` needs `image`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad.yaml:5:31: unknown `until: sleeping`"),
        "{stderr}"
    );
}

/// The firedrill image builds offline and runs drills from inside a
/// container against the host's engine.
#[test]
fn the_firedrill_image_runs_a_drill_from_a_container() {
    images();
    let dir = tempfile::tempdir().unwrap();
    let tag = "firedrill:test";
    let (code, stdout, _) = run(
        &shipped_drill("firedrill-image.yaml"),
        &[("FIREDRILL_IMAGE_TAG", tag)],
    );
    assert_eq!(code, 0, "{stdout}");
    let version = Command::new("docker")
        .args(["run", "--rm", tag, "--version"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("firedrill {}", env!("CARGO_PKG_VERSION"))
    );
    let port = free_port().to_string();
    write_drill(
        dir.path(),
        "inside.yaml",
        &container_drill(
            &port,
            "- name: Serving\n  http: { url: /health }\n  expect: { json: { \"$.status\": ok } }\n",
        ),
    );
    let output = Command::new("docker")
        .args([
            "run",
            "--rm",
            "--network",
            "host",
            "-e",
            &format!("DEMO_ADMIN_TOKEN={TOKEN}"),
        ])
        .args(["-v", "/var/run/docker.sock:/var/run/docker.sock"])
        .arg("-v")
        .arg(format!("{}:/drills", dir.path().display()))
        .args([
            tag,
            "run",
            "/drills/inside.yaml",
            "--report",
            "/drills/inside.json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let record = read_record(&dir.path().join("inside.json"));
    assert_eq!(record["outcome"], "passed");
    assert!(record["docker_version"].is_string());
}
