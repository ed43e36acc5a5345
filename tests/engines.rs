//! Several Docker engines in one drill, against two real engines: the
//! first (`scripts/ensure-docker`) and a second one (`scripts/second-engine`,
//! its address in `SECOND_DOCKER_HOST`). Never skipped: without
//! `SECOND_DOCKER_HOST` the tests start the second engine themselves, and
//! fail saying how when they cannot. One test kills the second engine
//! mid-drill, so the tests of this file run one at a time.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use common::{drill_file, firedrill, free_port, shipped_drill, step};
use serde_json::Value;

const TOKEN: &str = "engines-test-token";

/// One test at a time: the kill test takes the second engine away.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/second-engine")
}

/// The second engine's address: `SECOND_DOCKER_HOST`, or the one
/// `scripts/second-engine start` prints after starting it.
fn second_engine() -> String {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        if let Ok(host) = std::env::var("SECOND_DOCKER_HOST") {
            if !host.is_empty() {
                return host;
            }
        }
        start_second_engine()
    })
    .clone()
}

fn start_second_engine() -> String {
    let output = Command::new(script())
        .arg("start")
        .output()
        .expect("running scripts/second-engine");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the second engine did not start; start it by hand with \
         `scripts/second-engine start && eval export $(scripts/second-engine env)` \
         (needs root and dockerd):\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("SECOND_DOCKER_HOST="))
        .expect("scripts/second-engine prints SECOND_DOCKER_HOST=…")
        .to_string()
}

/// Where the second engine's dockerd writes its pid: beside its socket.
fn second_pidfile() -> PathBuf {
    let host = second_engine();
    let socket = PathBuf::from(host.trim_start_matches("unix://"));
    socket.with_file_name("dockerd.pid")
}

/// Builds demo-app:1 and demo-app:2 once.
fn images() {
    common::build_demo_images();
}

/// The docker CLI on an engine (`None`: the first one).
fn docker(host: Option<&str>, args: &[&str]) -> String {
    let mut command = Command::new("docker");
    if let Some(host) = host {
        command.env("DOCKER_HOST", host);
    }
    let output = command.args(args).output().expect("the docker CLI");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Containers and volumes still labelled with this run, on an engine.
fn labelled(host: Option<&str>, run_id: &str) -> String {
    let filter = format!("label=firedrill.run={run_id}");
    let containers = docker(host, &["ps", "-aq", "--filter", &filter]);
    let volumes = docker(host, &["volume", "ls", "-q", "--filter", &filter]);
    format!("{containers}{volumes}")
}

/// Runs a drill with both engines' addresses; (exit code, stdout, record).
fn run(drill: &std::path::Path, envs: &[(&str, &str)]) -> (i32, String, Value) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("record.json");
    let mut cmd = firedrill();
    cmd.timeout(Duration::from_secs(300))
        .env("SAFE_DOCKER_HOST", second_engine())
        .env("DEMO_ADMIN_TOKEN", TOKEN)
        .envs(envs.iter().copied());
    common::run_to_record(cmd, drill, &report)
}

#[test]
fn a_drill_runs_a_container_on_each_engine_and_the_sweep_clears_both() {
    let _one = one_at_a_time();
    images();
    let safe = second_engine();
    let (port, safe_port) = (free_port().to_string(), free_port().to_string());
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(
        dir.path(),
        "engines/two",
        &[("PORT", &port), ("SAFE_PORT", &safe_port)],
    );
    let (code, stdout, record) = run(&drill, &[]);
    assert_eq!(code, 0, "{stdout}");
    let versions = &record["docker_versions"];
    let first_version = docker(None, &["version", "--format", "{{.Server.Version}}"]);
    assert_eq!(versions["primary"].as_str(), Some(first_version.as_str()));
    let second_version = docker(Some(&safe), &["version", "--format", "{{.Server.Version}}"]);
    assert_eq!(versions["safe"].as_str(), Some(second_version.as_str()));
    assert_eq!(
        record["docker_version"], versions["primary"],
        "docker_version stays the default engine's"
    );
    let run_id = record["run_id"].as_str().unwrap();
    assert_eq!(
        labelled(None, run_id),
        "",
        "the sweep cleared the first engine"
    );
    assert_eq!(labelled(Some(&safe), run_id), "", "and the second");
    assert_eq!(step(&record, "Sweep")["outcome"], "passed");
}

#[test]
fn copy_image_streams_demo_app_to_the_second_engine_and_it_runs_there() {
    let _one = one_at_a_time();
    images();
    let safe = second_engine();
    let safe_port = free_port().to_string();
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "engines/copy", &[("SAFE_PORT", &safe_port)]);
    let (code, stdout, record) = run(&drill, &[]);
    assert_eq!(code, 1, "only the missing image fails:\n{stdout}");
    let copy = step(&record, "Copy the image");
    assert_eq!(copy["outcome"], "passed", "{stdout}");
    let bytes = copy["captures"]["copied_bytes"].as_u64().unwrap();
    assert!(bytes > 1_000_000, "demo-app's image is a few MB: {bytes}");
    eprintln!(
        "copy_image: {bytes} bytes in {} ms",
        copy["duration_ms"].as_u64().unwrap()
    );
    assert_eq!(
        step(&record, "Version 1 answers on safe")["outcome"],
        "passed"
    );
    let missing = step(&record, "A missing image is named with its engine");
    assert_eq!(
        missing["error"],
        format!(
            "image `fd-no-such-image:404` is not on the Docker engine `safe` at {safe}: build or load it there first (firedrill never pulls)"
        )
    );
    let run_id = record["run_id"].as_str().unwrap();
    assert_eq!(labelled(Some(&safe), run_id), "");
}

#[test]
fn an_unknown_engine_is_a_located_error_with_did_you_mean() {
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "engines/unknown", &[]);
    let output = firedrill().arg("check").arg(&drill).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unknown.yaml:6:30: no engine `saef` in `engines:`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `safe`?"), "{stderr}");
}

#[test]
fn an_unreachable_engine_fails_its_step_in_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "engines/gone", &[]);
    let (code, stdout, record) = run(&drill, &[]);
    assert_eq!(code, 1, "{stdout}");
    let error = step(&record, "On safe")["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.starts_with("cannot reach the Docker engine `safe` at unix:///nonexistent/fd.sock: "),
        "{error}"
    );
    assert!(!error.contains('\n'), "one line: {error}");
}

/// Restarts the second engine after the kill, for the tests after it,
/// and removes the image the drill copied there (the killed engine could
/// not be swept) unless it was there before.
struct Restart {
    image_was_there: bool,
}

impl Drop for Restart {
    /// Never panics: a panic while the test already unwinds would abort
    /// and hide the test's own failure.
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").output();
        let started = Command::new(script()).arg("start").output();
        if !started.as_ref().is_ok_and(|o| o.status.success()) {
            eprintln!(
                "the second engine did not restart: {started:?}; restart it with `scripts/second-engine start`"
            );
        } else if !self.image_was_there {
            docker(Some(&second_engine()), &["rmi", "-f", "demo-app:1"]);
        }
    }
}

#[test]
fn the_second_engine_killed_mid_drill_fails_that_step_and_cleanup_sweeps_the_first() {
    let _one = one_at_a_time();
    images();
    let safe = second_engine();
    let pidfile = second_pidfile();
    let image_was_there = !docker(Some(&safe), &["images", "-q", "demo-app:1"]).is_empty();
    let _restart = Restart { image_was_there };
    let dir = tempfile::tempdir().unwrap();
    let pidfile = pidfile.display().to_string();
    let drill = drill_file(dir.path(), "engines/kill", &[("PIDFILE", &pidfile)]);
    let started = Instant::now();
    let (code, stdout, record) = run(&drill, &[]);
    let took = started.elapsed();
    assert_eq!(code, 1, "{stdout}");
    assert!(took < Duration::from_secs(60), "nothing hangs: {took:?}");
    let failed = step(&record, "Run on safe");
    assert_eq!(failed["outcome"], "failed", "{stdout}");
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.starts_with(&format!(
            "cannot reach the Docker engine `safe` at {safe}: "
        )),
        "{error}"
    );
    assert!(!error.contains('\n'), "one line: {error}");
    eprintln!("the step: {error}");
    let sweep = step(&record, "Sweep");
    eprintln!("the sweep: {}", sweep["error"]);
    assert!(
        sweep["error"]
            .as_str()
            .unwrap_or_default()
            .contains("`safe`"),
        "the sweep says which engine it could not reach: {sweep:#}"
    );
    let run_id = record["run_id"].as_str().unwrap();
    assert_eq!(
        labelled(None, run_id),
        "",
        "cleanup still swept the first engine"
    );
}

#[test]
fn restore_into_safe_env_passes_end_to_end() {
    let _one = one_at_a_time();
    images();
    let safe = second_engine();
    let (port, safe_port) = (free_port().to_string(), free_port().to_string());
    let check = firedrill()
        .arg("check")
        .arg(shipped_drill("restore-into-safe-env.yaml"))
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0));
    let (code, stdout, record) = run(
        &shipped_drill("restore-into-safe-env.yaml"),
        &[("DEMO_PORT", &port), ("SAFE_PORT", &safe_port)],
    );
    assert_eq!(code, 0, "{stdout}");
    for name in ["Safe serves the same tenant", "Safe has the same roles"] {
        assert_eq!(step(&record, name)["outcome"], "passed");
    }
    assert!(
        step(&record, "Copy the image to the safe engine")["captures"]["copied_bytes"]
            .as_u64()
            .is_some_and(|b| b > 0)
    );
    let versions = record["docker_versions"].as_object().unwrap();
    assert_eq!(versions.len(), 2, "{versions:?}");
    let run_id = record["run_id"].as_str().unwrap();
    assert_eq!(labelled(None, run_id), "");
    assert_eq!(labelled(Some(&safe), run_id), "");
    assert!(!stdout.contains(TOKEN), "the secret leaked: {stdout}");
}

#[test]
fn plan_and_runbook_say_which_engine_each_step_acts_on() {
    let drill = shipped_drill("restore-into-safe-env.yaml");
    let plan = firedrill()
        .env("SAFE_DOCKER_HOST", "unix:///tmp/safe.sock")
        .arg("plan")
        .arg(&drill)
        .output()
        .unwrap();
    let plan = String::from_utf8_lossy(&plan.stdout);
    for line in [
        "engine safe: unix:///tmp/safe.sock",
        "docker run demo-app:1 as demo-app-${run.id} on engine `primary`",
        "copy the image demo-app:1 from engine `primary` to engine `safe` (exported from one, loaded into the other, no registry)",
        "docker stop demo-app-${run.id} on engine `safe`",
        "docker: remove everything this run created, on every engine the run touched",
    ] {
        assert!(plan.contains(line), "{line:?} not in:\n{plan}");
    }
    let runbook = firedrill().arg("runbook").arg(&drill).output().unwrap();
    let runbook = String::from_utf8_lossy(&runbook.stdout);
    for line in [
        "on engine `primary` (the default)",
        "Copy the image ${image} from engine `primary` to engine `safe`",
        "Docker start ${app} on engine `safe`.",
    ] {
        assert!(runbook.contains(line), "{line:?} not in:\n{runbook}");
    }
}

#[test]
fn an_engine_address_that_resolves_to_nothing_is_located_before_any_step() {
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "engines/empty", &[]);
    let output = firedrill()
        .env("FD_EMPTY_SAFE", "")
        .arg("run")
        .arg(&drill)
        .arg("--report")
        .arg(dir.path().join("r.json"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("empty.yaml:2:58: engine `safe`: the address is empty"),
        "{stderr}"
    );
}
