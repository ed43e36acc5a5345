//! People in the loop: manual steps and rescues through a real
//! pseudo-terminal, answers files and policies without one, --strict, and
//! --resume.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{DemoApp, drill_file, firedrill, read_record, shipped_drill, step, write_drill};
use rexpect::process::WaitStatus;
use rexpect::session::{PtySession, spawn_command};
use serde_json::{Value, json};

/// firedrill on a real pseudo-terminal: stdin and stdout are the terminal.
fn on_terminal(drill: &Path, report: &Path, app: Option<&DemoApp>, extra: &[&str]) -> PtySession {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("firedrill"));
    command
        .arg("run")
        .arg(drill)
        .arg("--report")
        .arg(report)
        .args(extra)
        .env("FIREDRILL_OPERATOR", "dana")
        .env("FIREDRILL_RUNS_DIR", common::shared_runs_dir())
        .env("TERM", "dumb")
        .env_remove("RUST_LOG");
    if let Some(app) = app {
        command
            .env("TARGET_URL", &app.url)
            .env("DEMO_ADMIN_TOKEN", &app.token);
    }
    spawn_command(command, Some(30_000)).expect("spawn on a pty")
}

fn exit_code(session: &mut PtySession) -> i32 {
    let _ = session.exp_eof();
    match session.process().wait() {
        Ok(WaitStatus::Exited(_, code)) => code,
        other => panic!("firedrill did not exit normally: {other:?}"),
    }
}

const MANUAL: &str = "drill: manual-on-a-terminal\nsteps:\n\
    - name: Check the dashboard\n  manual: Open the dashboard and confirm run ${run.id} is green.\n  owner: sre\n  budget: 1m\n";

#[test]
fn a_manual_step_done_unaided_records_the_human_time() {
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(dir.path(), "manual.yaml", MANUAL);
    let report = dir.path().join("r.json");
    let mut p = on_terminal(&drill, &report, None, &[]);
    p.exp_string("manual step: Check the dashboard (owner sre, budget 1m)")
        .unwrap();
    p.exp_string("Open the dashboard and confirm run").unwrap();
    p.exp_string("[d] done unaided").unwrap();
    std::thread::sleep(Duration::from_millis(600));
    p.send_line("d").unwrap();
    p.exp_string("Note for the runbook").unwrap();
    p.send_line("").unwrap();
    assert_eq!(exit_code(&mut p), 0);
    let record = read_record(&report);
    let s = step(&record, "Check the dashboard");
    assert_eq!(s["outcome"], "manual_done");
    assert!(s["human_ms"].as_u64().unwrap() >= 600, "{s}");
    assert_eq!(s["intervention"]["kind"], "manual_step");
    assert_eq!(s["intervention"]["operator"], "dana");
    assert_eq!(s["intervention"]["needed_help"], false);
    assert_eq!(record["human_ms"], s["human_ms"]);
}

#[test]
fn a_manual_step_done_with_help_records_who_helped_and_the_note() {
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(dir.path(), "manual.yaml", MANUAL);
    let report = dir.path().join("r.json");
    let mut p = on_terminal(&drill, &report, None, &["--strict"]);
    p.exp_string("[h] done with help").unwrap();
    p.send_line("h").unwrap();
    p.exp_string("Who helped?").unwrap();
    p.send_line("lee").unwrap();
    p.exp_string("Note for the runbook").unwrap();
    p.send_line("the dashboard URL is not in the runbook")
        .unwrap();
    p.exp_string("--strict: step `Check the dashboard` needed help from lee")
        .unwrap();
    p.exp_string("Where the runbook needed knowledge it does not contain")
        .unwrap();
    p.exp_string("the dashboard URL is not in the runbook")
        .unwrap();
    assert_eq!(exit_code(&mut p), 1, "--strict fails when help was needed");
    let s = step(&read_record(&report), "Check the dashboard").clone();
    assert_eq!(s["outcome"], "manual_done");
    assert_eq!(s["intervention"]["needed_help"], true);
    assert_eq!(s["intervention"]["helped_by"], "lee");
    assert_eq!(
        s["intervention"]["note"],
        "the dashboard URL is not in the runbook"
    );
}

fn rescue_drill(dir: &Path) -> std::path::PathBuf {
    drill_file(dir, "operator/rescue", &[])
}

#[test]
fn a_failing_step_fixed_by_the_operator_and_retried_is_intervened() {
    let app = DemoApp::start_with(&[("DEMO_BROKEN", "list_tenants")]);
    let dir = tempfile::tempdir().unwrap();
    let drill = rescue_drill(dir.path());
    let report = dir.path().join("r.json");
    let mut p = on_terminal(&drill, &report, Some(&app), &[]);
    p.exp_string("step failed: List tenants").unwrap();
    p.exp_string("status: expected 200, got 500").unwrap();
    p.exp_string("[r] retry").unwrap();
    // The operator fixes the target, which takes a while, then retries.
    let at_prompt = Instant::now();
    let (status, _) = app.post("/admin/faults", json!({ "broken": [] }));
    assert_eq!(status, 200);
    std::thread::sleep(Duration::from_millis(800));
    p.send_line("r").unwrap();
    p.exp_string("Did someone help?").unwrap();
    p.send_line("").unwrap();
    p.exp_string("Note for the runbook").unwrap();
    p.send_line("cleared the broken endpoint").unwrap();
    let waited = at_prompt.elapsed();
    assert_eq!(exit_code(&mut p), 0);
    let record = read_record(&report);
    let s = step(&record, "List tenants");
    assert_eq!(s["outcome"], "intervened");
    assert_eq!(s["attempts"], 2);
    assert_eq!(s["intervention"]["kind"], "retried_after_fix");
    assert_eq!(s["intervention"]["note"], "cleared the broken endpoint");
    let human = s["human_ms"].as_u64().unwrap();
    assert!(
        human >= 800 && human <= waited.as_millis() as u64 + 500,
        "human {human}ms, at the prompt {waited:?}"
    );
    assert!(
        s["duration_ms"].as_u64().unwrap() >= human,
        "duration includes human time"
    );
    assert_eq!(step(&record, "After")["outcome"], "passed");
}

#[test]
fn abort_stops_the_drill_and_still_runs_cleanup() {
    let app = DemoApp::start_with(&[("DEMO_BROKEN", "list_tenants")]);
    let dir = tempfile::tempdir().unwrap();
    let drill = rescue_drill(dir.path());
    let report = dir.path().join("r.json");
    let mut p = on_terminal(&drill, &report, Some(&app), &[]);
    p.exp_string("[a] abort").unwrap();
    p.send_line("a").unwrap();
    p.exp_string("Note for the runbook").unwrap();
    p.send_line("").unwrap();
    assert_eq!(exit_code(&mut p), 1);
    let record = read_record(&report);
    assert!(
        step(&record, "List tenants")["error"]
            .as_str()
            .unwrap()
            .starts_with("aborted by dana")
    );
    assert_eq!(step(&record, "After")["outcome"], "skipped");
    assert_eq!(step(&record, "Delete")["outcome"], "passed", "cleanup ran");
    app.post("/admin/faults", json!({ "broken": [] }));
    assert_eq!(app.get("/tenants").1.as_array().map(Vec::len), Some(0));
}

/// Runs without a terminal; returns (code, stdout, record).
fn unattended(drill: &Path, app: Option<&DemoApp>, args: &[&str]) -> (i32, String, Value) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let mut cmd = firedrill();
    if let Some(app) = app {
        cmd.env("TARGET_URL", &app.url)
            .env("DEMO_ADMIN_TOKEN", &app.token);
    }
    let output = cmd
        .arg("run")
        .arg(drill)
        .arg("--report")
        .arg(&report)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let record = if report.exists() {
        read_record(&report)
    } else {
        json!({ "stderr": stderr })
    };
    (output.status.code().unwrap_or(-1), stdout, record)
}

#[test]
fn an_answers_file_scripts_manual_steps_and_rescues() {
    let app = DemoApp::start_with(&[("DEMO_FAIL_FIRST", "list_tenants=1")]);
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "operator/scripted", &[]);
    let answers = write_drill(
        dir.path(),
        "answers.yaml",
        "\"Announce\": { result: done, note: \"posted in #ops\" }\n\
         \"Ask the DBA\": { result: helped, helped_by: sam, note: needed DB access }\n\
         \"List tenants\": { on_failure: retry, note: restarted the worker }\n\
         \"Health by hand\": { on_failure: by_hand, note: checked with curl }\n\
         \"Optional check\": { on_failure: skip }\n",
    );
    let (code, stdout, record) = unattended(
        &drill,
        Some(&app),
        &["--answers", answers.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        step(&record, "Announce")["intervention"]["note"],
        "posted in #ops"
    );
    assert_eq!(
        step(&record, "Ask the DBA")["intervention"]["helped_by"],
        "sam"
    );
    let list = step(&record, "List tenants");
    assert_eq!(list["outcome"], "intervened");
    assert_eq!(list["intervention"]["kind"], "retried_after_fix");
    assert_eq!(
        step(&record, "Health by hand")["intervention"]["kind"],
        "done_by_hand"
    );
    assert_eq!(step(&record, "Optional check")["outcome"], "skipped");
    assert_eq!(
        step(&record, "Optional check")["intervention"]["kind"],
        "skipped"
    );
    assert!(
        stdout.contains("2 planned manual steps · 3 unplanned interventions"),
        "{stdout}"
    );
    assert!(
        stdout.contains("List tenants — fixed and retried by tester: \"restarted the worker\""),
        "{stdout}"
    );

    // The same run under --strict fails, and says why.
    let (code, stdout, _) = unattended(
        &drill,
        Some(&app),
        &["--answers", answers.to_str().unwrap(), "--strict"],
    );
    assert_eq!(code, 1);
    for reason in [
        "--strict: step `Ask the DBA` needed help from sam",
        "--strict: step `Health by hand` needed an intervention",
        "--strict: step `Optional check` needed an intervention",
    ] {
        assert!(stdout.contains(reason), "missing {reason:?} in {stdout}");
    }
}

#[test]
fn an_answer_for_an_unknown_step_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(dir.path(), "manual.yaml", MANUAL);
    let answers = write_drill(
        dir.path(),
        "answers.yaml",
        "\"Check the dashbord\": { result: done }\n",
    );
    let (code, _, record) = unattended(&drill, None, &["--answers", answers.to_str().unwrap()]);
    assert_eq!(code, 2);
    let stderr = record["stderr"].as_str().unwrap();
    assert!(
        stderr.contains("answers.yaml:1:2: no step is named `Check the dashbord`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("did you mean `Check the dashboard`?"),
        "{stderr}"
    );
}

#[test]
fn strict_fails_on_a_budget_overrun_and_passes_a_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let slow = write_drill(
        dir.path(),
        "slow.yaml",
        "drill: slow\nsteps:\n- name: Slow\n  sleep: 120ms\n  budget: 50ms\n",
    );
    let (code, stdout, _) = unattended(&slow, None, &["--strict"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("--strict: step `Slow` went over its budget"),
        "{stdout}"
    );
    let clean = write_drill(dir.path(), "clean.yaml", MANUAL);
    let answers = write_drill(
        dir.path(),
        "answers.yaml",
        "\"Check the dashboard\": { result: done }\n",
    );
    let (code, stdout, _) = unattended(
        &clean,
        None,
        &["--strict", "--answers", answers.to_str().unwrap()],
    );
    assert_eq!(
        code, 0,
        "a planned manual step done unaided passes --strict: {stdout}"
    );
}

#[test]
fn resume_after_sigint_finishes_with_the_earlier_captures_and_names() {
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "list_users=60000")]);
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "operator/resume", &[]);
    let first = dir.path().join("first.json");
    let mut child = app.spawn_run(&drill, &first, &[]);
    app.wait_in_flight(1);
    common::send_signal(&child, "INT");
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let interrupted = read_record(&first);
    assert_eq!(interrupted["outcome"], "interrupted");

    app.post("/admin/faults", json!({ "delay_ms": {} }));
    let (code, stdout, resumed) =
        unattended(&drill, Some(&app), &["--resume", first.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(resumed["resumed_from"], interrupted["run_id"]);
    assert_eq!(resumed["origin_run_id"], interrupted["run_id"]);
    assert_ne!(resumed["run_id"], interrupted["run_id"]);
    let create = step(&resumed, "Create");
    assert_eq!(
        create["carried_from"], interrupted["run_id"],
        "not run again"
    );
    assert_eq!(step(&resumed, "Slow listing")["outcome"], "passed");
    assert_eq!(
        step(&resumed, "Same tenant")["outcome"],
        "passed",
        "same capture, same ${{run.id}}"
    );
    assert_eq!(
        app.stats()["by_endpoint"]["create_tenant"],
        1,
        "the tenant was created once"
    );
}

#[test]
fn resume_refuses_a_record_of_another_drill() {
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(dir.path(), "a.yaml", "drill: a\nsteps:\n- sleep: 1ms\n");
    let (_, _, record) = unattended(&drill, None, &[]);
    let old = dir.path().join("old.json");
    std::fs::write(&old, serde_json::to_string(&record).unwrap()).unwrap();
    let other = write_drill(dir.path(), "b.yaml", "drill: b\nsteps:\n- sleep: 1ms\n");
    let (code, _, out) = unattended(&other, None, &["--resume", old.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        out["stderr"]
            .as_str()
            .unwrap()
            .contains("is a run of `a`, not of `b`")
    );
}

#[test]
fn the_new_engineer_drill_passes_strict_when_nobody_needed_help() {
    let app = DemoApp::start();
    let (code, stdout, record) = unattended(
        &shipped_drill("new-engineer.yaml"),
        Some(&app),
        &["--manual", "done", "--strict"],
    );
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        step(&record, "Confirm the tenant by eye")["outcome"],
        "manual_done"
    );
    assert!(
        stdout.contains("3 planned manual steps · 0 unplanned interventions"),
        "{stdout}"
    );
}

#[test]
fn runbooks_are_generated_from_the_drills() {
    for (drill, snapshot) in [
        ("new-engineer.yaml", "runbook-new-engineer.md"),
        ("rollback-rehearsal.yaml", "runbook-rollback-rehearsal.md"),
    ] {
        let output = firedrill()
            .arg("runbook")
            .arg(shipped_drill(drill))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0));
        let text = String::from_utf8_lossy(&output.stdout);
        common::snapshot(snapshot, &text.replace(env!("CARGO_MANIFEST_DIR"), "."));
    }
}
