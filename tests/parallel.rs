//! Parallel groups against the real demo-app: bounded concurrency, `for_each`
//! with collected captures, `fail_fast`, timing truth, Ctrl-C.

mod common;

use std::time::{Duration, Instant};

use common::{DemoApp, drill_file, firedrill, read_record, step, write_drill};
use serde_json::Value;

/// Runs `tests/drills/NAME.yaml` with `vars` put in: exit code, stdout, record.
fn run(app: &DemoApp, name: &str, vars: &[(&str, &str)]) -> (i32, String, Value) {
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), name, vars);
    let report = dir.path().join("r.json");
    common::run_to_record(app.firedrill(dir.path()), &drill, &report)
}

fn children<'a>(record: &'a Value, group: &str) -> Vec<&'a Value> {
    record["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["parent"] == group)
        .collect()
}

#[test]
fn max_bounds_the_requests_in_flight_and_captures_are_collected() {
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "create_tenant=100")]);
    let (code, stdout, record) = run(&app, "parallel/fan-out", &[]);
    assert_eq!(code, 0, "{stdout}");
    let stats = app.stats();
    let peak = stats["max_in_flight"].as_u64().unwrap();
    assert!(peak <= 12, "{stats}");
    let creates = children(&record, "Create 12 tenants");
    assert_eq!(creates.len(), 24, "every sub-step is in the record");
    assert!(creates.iter().all(|c| c["outcome"] == "passed"));
    assert_eq!(
        step(&record, "Create 12 tenants [7] / POST /tenants")["parent"],
        "Create 12 tenants"
    );
    assert_eq!(
        app.get("/tenants").1.as_array().map(Vec::len),
        Some(0),
        "all deleted"
    );
    assert!(stdout.contains("24 sub-steps"), "{stdout}");
}

#[test]
fn demo_app_never_sees_more_than_max_requests_at_once() {
    let app = DemoApp::start_with(&[("DEMO_SLOW_MS", "50")]);
    let (code, stdout, _) = run(&app, "parallel/bounded", &[]);
    assert_eq!(code, 0, "{stdout}");
    let stats = app.stats();
    let peak = stats["max_in_flight"].as_u64().unwrap();
    assert!(
        (2..=4).contains(&peak),
        "max 4, demo-app saw {peak} at once: {stats}"
    );
    assert_eq!(stats["by_endpoint"]["health"], 40);
}

#[test]
fn durations_exclude_the_wait_for_a_slot() {
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "health=200")]);
    let (code, stdout, record) = run(&app, "parallel/queued", &[]);
    assert_eq!(code, 0, "{stdout}");
    let subs = children(&record, "Slow");
    assert_eq!(subs.len(), 6);
    for sub in &subs {
        let ms = sub["duration_ms"].as_u64().unwrap();
        assert!(
            (195..350).contains(&ms),
            "a step's time is its own request only: {sub}"
        );
    }
    let waited = subs
        .iter()
        .map(|s| s["queued_ms"].as_u64().unwrap_or(0))
        .max()
        .unwrap();
    assert!(
        waited >= 350,
        "the last branches waited for a slot: {waited}ms"
    );
    let group = step(&record, "Slow")["duration_ms"].as_u64().unwrap();
    assert!(group >= 590, "three rounds of two: {group}ms");
}

#[test]
fn fail_fast_cancels_the_siblings() {
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "health=2000")]);
    let started = Instant::now();
    let (code, stdout, record) = run(&app, "parallel/fail-fast", &[("FAIL_FAST", "true")]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        started.elapsed() < Duration::from_millis(1800),
        "siblings were not waited for: {:?}",
        started.elapsed()
    );
    let group = step(&record, "Group");
    assert_eq!(group["outcome"], "failed");
    assert!(
        group["error"]
            .as_str()
            .unwrap()
            .contains("Group [3] / test ${item} != 3"),
        "{group}"
    );
    let subs = children(&record, "Group");
    assert_eq!(subs.len(), 20);
    let cancelled = subs.iter().filter(|s| s["outcome"] == "cancelled").count();
    assert!(
        cancelled >= 9,
        "the running requests were cancelled: {cancelled}"
    );
}

#[test]
fn without_fail_fast_the_siblings_finish() {
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "health=300")]);
    let (code, _, record) = run(&app, "parallel/fail-fast", &[("FAIL_FAST", "false")]);
    assert_eq!(code, 1);
    let subs = children(&record, "Group");
    let passed = subs.iter().filter(|s| s["outcome"] == "passed").count();
    assert_eq!(passed, 18, "nine branches ran both steps");
    assert_eq!(
        step(&record, "Group [3] / GET /health")["outcome"],
        "skipped"
    );
}

#[test]
fn sigint_in_a_parallel_group_still_runs_cleanup() {
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "health=60000")]);
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "parallel/interrupt", &[]);
    let report = dir.path().join("r.json");
    let mut child = app.spawn_run(&drill, &report, &[]);
    app.wait_in_flight(5);
    common::send_signal(&child, "INT");
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let record = read_record(&report);
    assert_eq!(record["outcome"], "interrupted");
    assert_eq!(step(&record, "Hung group")["outcome"], "cancelled");
    assert_eq!(children(&record, "Hung group").len(), 5);
    assert_eq!(step(&record, "Delete")["outcome"], "passed");
}

#[test]
fn parallel_groups_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(
        dir.path(),
        "bad.yaml",
        "drill: bad\nsteps:\n\
         - parallel:\n    max: 0\n    collect: { ids: idd }\n    steps:\n\
         \x20     - manual: Do it by hand\n\
         \x20     - exec: { argv: [echo, \"${item}\"] }\n        capture: { id: stdout }\n",
    );
    let output = firedrill().arg("check").arg(&drill).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("bad.yaml:4:10: `max` must be at least 1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("a manual step cannot run in parallel"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`item` is defined only inside `for_each`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no step in the group captures `idd`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `id`?"), "{stderr}");
}
