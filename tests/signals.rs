//! Nothing hangs, nothing is lost: signals at different moments, a second
//! Ctrl-C during cleanup, the drill's timeout, cleanup's own deadline, the
//! grace period, and kill -9 followed by report and resume.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{DemoApp, drill_file, firedrill, read_record, send_signal, step, wait_exit};
use rexpect::process::WaitStatus;
use serde_json::json;

#[test]
fn sigterm_runs_cleanup_and_exits_143() {
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "list_users=60000")]);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let mut child = app.spawn_run(&drill_file(dir.path(), "signals/hung", &[]), &report, &[]);
    app.wait_in_flight(1);
    send_signal(&child, "TERM");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(15)), 143);
    let record = read_record(&report);
    assert_eq!(record["outcome"], "interrupted");
    assert_eq!(step(&record, "Hung")["outcome"], "cancelled");
    assert_eq!(step(&record, "Delete")["outcome"], "passed");
}

#[test]
fn a_second_ctrl_c_skips_the_rest_of_cleanup_and_still_writes_the_record() {
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "list_users=60000,get_tenant=60000")]);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let drill = drill_file(dir.path(), "signals/hung-cleanup", &[]);
    let mut child = app.spawn_run(&drill, &report, &[]);
    app.wait_in_flight(1);
    send_signal(&child, "INT");
    // The hung step gets its grace, then cleanup starts and hangs too.
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.stats()["by_endpoint"]["get_tenant"]
        .as_u64()
        .unwrap_or(0)
        == 0
    {
        assert!(Instant::now() < deadline, "cleanup never started");
        std::thread::sleep(Duration::from_millis(30));
    }
    let started = Instant::now();
    send_signal(&child, "INT");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(15)), 130);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    let record = read_record(&report);
    assert_eq!(record["outcome"], "interrupted");
    assert_eq!(step(&record, "Hung cleanup")["outcome"], "cancelled");
    assert_eq!(step(&record, "Delete")["outcome"], "cancelled");
    assert!(
        record["reasons"]
            .to_string()
            .contains("cleanup did not finish"),
        "{}",
        record["reasons"]
    );
}

#[test]
fn ctrl_c_at_a_manual_prompt_runs_cleanup() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("cleaned");
    let drill = drill_file(
        dir.path(),
        "signals/manual",
        &[("MARKER", &marker.display().to_string())],
    );
    let report = dir.path().join("r.json");
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("firedrill"));
    command
        .arg("run")
        .arg(&drill)
        .arg("--report")
        .arg(&report)
        .env("FIREDRILL_RUNS_DIR", common::shared_runs_dir())
        .env("TERM", "dumb");
    let mut p = rexpect::session::spawn_command(command, Some(20_000)).unwrap();
    p.exp_string("How did it go?").unwrap();
    p.send_control('c').unwrap();
    let _ = p.exp_eof();
    match p.process().wait() {
        Ok(WaitStatus::Exited(_, code)) => assert_eq!(code, 130),
        other => panic!("{other:?}"),
    }
    let record = read_record(&report);
    assert_eq!(record["outcome"], "interrupted");
    assert_eq!(step(&record, "Wait for a person")["outcome"], "cancelled");
    assert!(marker.exists(), "cleanup ran");
}

#[test]
fn the_drill_timeout_stops_the_steps_and_fails_the_run() {
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "list_users=60000")]);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let started = Instant::now();
    let output = app
        .firedrill(dir.path())
        .args(["run", "--timeout", "1s", "--grace", "100ms", "--report"])
        .arg(&report)
        .arg(drill_file(dir.path(), "signals/hung", &[]))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    let record = read_record(&report);
    assert_eq!(record["outcome"], "failed");
    assert_eq!(
        record["reasons"][0],
        "the drill went over its timeout of 1s"
    );
    assert_eq!(step(&record, "Hung")["outcome"], "cancelled");
    assert_eq!(step(&record, "Delete")["outcome"], "passed");
}

#[test]
fn cleanup_has_a_deadline_of_its_own() {
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "get_tenant=60000")]);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let drill = drill_file(dir.path(), "signals/cleanup", &[]);
    let started = Instant::now();
    let output = app
        .firedrill(dir.path())
        .args([
            "run",
            "--cleanup-timeout",
            "1s",
            "--grace",
            "100ms",
            "--report",
        ])
        .arg(&report)
        .arg(&drill)
        .output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(1));
    let record = read_record(&report);
    assert_eq!(step(&record, "Hung cleanup")["outcome"], "cancelled");
}

#[test]
fn a_step_that_finishes_within_the_grace_period_is_kept() {
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "health=700")]);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let drill = drill_file(dir.path(), "signals/grace", &[]);
    let mut child = app.spawn_run(&drill, &report, &["--grace", "3s"]);
    app.wait_in_flight(1);
    send_signal(&child, "INT");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(15)), 130);
    let record = read_record(&report);
    assert_eq!(
        step(&record, "Slow health")["outcome"],
        "passed",
        "it finished within its grace"
    );
    assert_eq!(step(&record, "Next")["outcome"], "cancelled");
}

/// The lines of a run's journal, parsed.
fn journal_lines(journal: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(journal)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The names of the finished steps in journal lines, in order.
fn step_names(lines: &[serde_json::Value]) -> Vec<&str> {
    lines
        .iter()
        .filter(|l| l["type"] == "step")
        .map(|l| l["name"].as_str().unwrap())
        .collect()
}

#[test]
fn after_kill_9_the_journal_keeps_every_finished_step_renders_and_resumes() {
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "list_users=60000")]);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let drill = drill_file(dir.path(), "signals/crash", &[]);
    let mut child = app.spawn_run(&drill, &report, &[]);
    // Not any request in flight: under load, creating the tenant (an
    // fsync) can be the one seen.
    app.wait_called("list_users");
    send_signal(&child, "KILL");
    let _ = child.wait();
    assert!(!report.exists(), "a killed run writes no record");
    let journal = dir.path().join("r.journal.jsonl");
    let lines = journal_lines(&journal);
    let finished = step_names(&lines);
    assert_eq!(
        finished,
        ["Create", "Admin", "Sleep"],
        "every finished step, none lost"
    );

    let rendered = firedrill()
        .args(["report", "--format", "markdown"])
        .arg(&journal)
        .output()
        .unwrap();
    assert_eq!(rendered.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&rendered.stdout).contains("Admin"));

    app.post("/admin/faults", json!({ "delay_ms": {} }));
    let resumed_report = dir.path().join("resumed.json");
    let output = app
        .firedrill(dir.path())
        .arg("run")
        .arg(&drill)
        .arg("--resume")
        .arg(&journal)
        .arg("--report")
        .arg(&resumed_report)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let resumed = read_record(&resumed_report);
    assert_eq!(step(&resumed, "Create")["carried_from"], lines[0]["run_id"]);
    assert_eq!(step(&resumed, "Dana is still admin")["outcome"], "passed");
    assert_eq!(app.stats()["by_endpoint"]["create_tenant"], 1);
}

/// A parallel group's sub-steps are written in batches, not with a write
/// each: one that finished reaches the journal within the flush interval
/// (20 ms) while its group still runs, and survives a kill -9.
#[test]
fn after_kill_9_a_running_groups_finished_sub_steps_are_in_the_journal() {
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "list_tenants=60000")]);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let drill = drill_file(dir.path(), "signals/group", &[]);
    let mut child = app.spawn_run(&drill, &report, &[]);
    app.wait_called("list_tenants");
    // Well past the flush interval, well before anything else happens.
    std::thread::sleep(Duration::from_millis(300));
    send_signal(&child, "KILL");
    let _ = child.wait();
    let lines = journal_lines(&dir.path().join("r.journal.jsonl"));
    assert_eq!(step_names(&lines), ["Fan / Quick"], "{lines:?}");
}

#[test]
fn a_crashed_runs_journal_holds_no_secret() {
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "list_tenants=60000")]);
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let drill = drill_file(dir.path(), "signals/leak", &[]);
    let mut child = app.spawn_run(&drill, &report, &[]);
    app.wait_in_flight(1);
    send_signal(&child, "KILL");
    let _ = child.wait();
    let journal = std::fs::read_to_string(dir.path().join("r.journal.jsonl")).unwrap();
    assert!(
        journal.contains("token=***"),
        "the failing step is in the journal, masked: {journal}"
    );
    assert!(
        !journal.contains(&app.token),
        "the secret leaked into the journal"
    );
}
