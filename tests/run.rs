//! `firedrill run` against the real demo-app over loopback, through the
//! real binary.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{DemoApp, drill_file, only_record, read_record, shipped_drill, step};
use predicates::prelude::*;

#[test]
fn quickstart_passes_and_records_every_step_with_durations() {
    let app = DemoApp::start();
    let runs = tempfile::tempdir().unwrap();
    let output = app
        .firedrill(runs.path())
        .args(["run"])
        .arg(shipped_drill("quickstart.yaml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("PASSED"), "{stdout}");
    assert!(stdout.contains("Dana is an admin again"), "{stdout}");

    let record = read_record(&only_record(runs.path()));
    assert_eq!(record["schema"], 1);
    assert_eq!(record["drill"], "quickstart");
    assert_eq!(record["outcome"], "passed");
    assert_eq!(record["operator"], "tester");
    let steps = record["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 10, "9 steps and 1 cleanup step");
    for s in steps {
        assert_eq!(s["outcome"], "passed", "{s:#}");
        assert!(s["started_at"].as_str().unwrap().ends_with('Z'));
        assert!(s["duration_us"].as_u64().unwrap() > 0, "{s:#}");
        assert!(s["attempts"].as_u64().unwrap() >= 1);
        assert_eq!(s["human_ms"], 0);
    }
    assert_eq!(step(&record, "Delete tenant")["phase"], "cleanup");
    assert_eq!(step(&record, "Create tenant")["budget_ms"], 2000);
    // The restore really put the role back, and cleanup really deleted.
    let (_, tenants) = app.get("/tenants");
    assert_eq!(tenants.as_array().map(Vec::len), Some(0), "{tenants}");
    // The journal is gone once the record is written.
    let leftovers: Vec<_> = std::fs::read_dir(runs.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            std::path::Path::new(n)
                .extension()
                .is_some_and(|e| e == "jsonl")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn fresh_environment_passes_within_its_budgets() {
    let app = DemoApp::start();
    let runs = tempfile::tempdir().unwrap();
    app.firedrill(runs.path())
        .arg("run")
        .arg(shipped_drill("fresh-environment.yaml"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("PASSED"));
    let record = read_record(&only_record(runs.path()));
    assert_eq!(record["budget_ms"], 30_000);
    assert_eq!(record["over_budget"], false);
}

#[test]
fn failing_expectation_names_the_step_the_expected_and_the_actual_value() {
    let app = DemoApp::start();
    let runs = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "run/fail", &[]);
    let output = app
        .firedrill(runs.path())
        .arg("run")
        .arg(&drill)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            r#"step `Version is three` failed: $.version: expected "3.0.0", got "1.0.0""#
        ),
        "{stdout}"
    );
    let record = read_record(&only_record(runs.path()));
    assert_eq!(record["outcome"], "failed");
    assert_eq!(step(&record, "Version is three")["outcome"], "failed");
    assert_eq!(step(&record, "Never reached")["outcome"], "skipped");
    assert_eq!(
        app.stats()["by_endpoint"]["health"],
        1,
        "the skipped step sent nothing"
    );
}

#[test]
fn retry_passes_against_a_flaky_endpoint_and_counts_the_attempts() {
    let app = DemoApp::start_with(&[("DEMO_FAIL_FIRST", "get_tenant=3")]);
    let runs = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "run/flaky", &[]);
    app.firedrill(runs.path())
        .arg("run")
        .arg(&drill)
        .assert()
        .code(0);
    let record = read_record(&only_record(runs.path()));
    let read = step(&record, "Read it back");
    assert_eq!(read["outcome"], "passed");
    assert_eq!(read["attempts"], 4, "three 503s, then a 200");
    assert_eq!(app.stats()["by_endpoint"]["get_tenant"], 4);
}

#[test]
fn retry_gives_up_when_its_attempts_run_out() {
    let app = DemoApp::start_with(&[("DEMO_FAIL_FIRST", "health=10")]);
    let runs = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "run/gives-up", &[]);
    app.firedrill(runs.path())
        .arg("run")
        .arg(&drill)
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("expected 200, got 503")
                .and(predicate::str::contains("after 3 attempts")),
        );
    assert_eq!(
        step(&read_record(&only_record(runs.path())), "Health")["attempts"],
        3
    );
}

#[test]
fn a_hung_endpoint_is_cut_at_the_step_timeout() {
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "list_tenants=60000")]);
    let runs = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "run/hung", &[]);
    let started = Instant::now();
    app.firedrill(runs.path())
        .arg("run")
        .arg(&drill)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("timed out after 700ms"));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    let record = read_record(&only_record(runs.path()));
    let s = step(&record, "List tenants");
    assert_eq!(s["outcome"], "timed_out");
    let ms = s["duration_ms"].as_u64().unwrap();
    assert!((700..2000).contains(&ms), "{ms}ms");
}

#[test]
fn cleanup_runs_after_a_failure() {
    let app = DemoApp::start();
    let runs = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "run/cleanup", &[]);
    app.firedrill(runs.path())
        .arg("run")
        .arg(&drill)
        .assert()
        .code(1);
    let record = read_record(&only_record(runs.path()));
    assert_eq!(step(&record, "Broken check")["outcome"], "failed");
    assert_eq!(step(&record, "Delete")["outcome"], "passed");
    assert_eq!(app.get("/tenants").1.as_array().map(Vec::len), Some(0));
}

#[test]
fn cleanup_skips_a_step_whose_capture_never_happened() {
    let app = DemoApp::start_with(&[("DEMO_BROKEN", "create_tenant")]);
    let runs = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "run/never", &[]);
    app.firedrill(runs.path())
        .arg("run")
        .arg(&drill)
        .assert()
        .code(1);
    let record = read_record(&only_record(runs.path()));
    let delete = step(&record, "Delete");
    assert_eq!(delete["outcome"], "skipped");
    assert!(
        delete["error"]
            .as_str()
            .unwrap()
            .contains("`id` was never captured"),
        "{delete}"
    );
}

#[test]
fn sigint_runs_cleanup_writes_an_interrupted_record_and_exits_130() {
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "list_users=60000")]);
    let runs = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "run/interrupt", &[]);
    let record_path = runs.path().join("interrupted.json");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("firedrill"))
        .args(["run"])
        .arg(&drill)
        .arg("--report")
        .arg(&record_path)
        .env("TARGET_URL", &app.url)
        .env("DEMO_ADMIN_TOKEN", &app.token)
        .env("FIREDRILL_RUNS_DIR", common::shared_runs_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the slow request is in flight, then interrupt.
    app.wait_in_flight(1);
    let started = Instant::now();
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it took {:?} to stop",
        started.elapsed()
    );
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert_eq!(status.code(), Some(130), "{stdout}");
    assert!(stdout.contains("INTERRUPTED"), "{stdout}");

    let record = read_record(&record_path);
    assert_eq!(record["outcome"], "interrupted");
    assert_eq!(step(&record, "Create")["outcome"], "passed");
    assert_eq!(step(&record, "Slow listing")["outcome"], "cancelled");
    assert_eq!(step(&record, "After")["outcome"], "cancelled");
    assert_eq!(step(&record, "Delete")["outcome"], "passed");
    assert_eq!(
        app.get("/tenants").1.as_array().map(Vec::len),
        Some(0),
        "cleanup deleted the tenant"
    );
}

#[test]
fn secrets_appear_nowhere_in_output_logs_or_the_record() {
    let app = DemoApp::start();
    let runs = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The token is echoed by a program, sent in headers, put in a failing
    // expectation and captured as a secret; none of it may leak.
    let drill = drill_file(dir.path(), "run/secret", &[]);
    let output = app
        .firedrill(runs.path())
        .env("RUST_LOG", "trace")
        .arg("run")
        .arg(&drill)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let record = std::fs::read_to_string(only_record(runs.path())).unwrap();
    assert!(stderr.len() > 1000, "trace logs were written");
    assert!(stdout.contains(r#"expected "***", got "ok""#), "{stdout}");
    for (what, text) in [
        ("stdout", &*stdout),
        ("stderr", &*stderr),
        ("record", &*record),
    ] {
        assert!(!text.contains(&app.token), "the secret leaked into {what}");
    }
}

#[test]
fn captured_objects_are_sent_back_whole() {
    let app = DemoApp::start();
    let runs = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "run/whole", &[]);
    let output = app
        .firedrill(runs.path())
        .arg("run")
        .arg(&drill)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}
