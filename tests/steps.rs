//! exec, sleep, manual (unattended) and `when`, through the real binary.

mod common;

use std::time::{Duration, Instant};

use common::{firedrill, read_record, step, write_drill};
use predicates::prelude::*;
use serde_json::Value;

/// Runs a drill with no target; returns (exit code, stdout, record).
fn run(text: &str, args: &[&str]) -> (i32, String, Value) {
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(dir.path(), "drill.yaml", text);
    let report = dir.path().join("record.json");
    let output = firedrill()
        .arg("run")
        .arg(&drill)
        .arg("--report")
        .arg(&report)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let code = output.status.code().unwrap_or(-1);
    (code, stdout, read_record(&report))
}

#[test]
fn exec_argv_never_goes_through_a_shell() {
    let (code, stdout, _) = run(
        "drill: argv\nvars: { evil: \"$(echo pwned); echo also-pwned\" }\nsteps:\n\
         - exec: { argv: [echo, \"${evil}\"] }\n  expect: { stdout_contains: \"$(echo pwned); echo also-pwned\" }\n  capture: { out: stdout }\n\
         - exec: { argv: [test, \"${out}\", \"=\", \"$(echo pwned); echo also-pwned\"] }\n",
        &[],
    );
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn exec_shell_runs_only_when_asked_and_captures_output() {
    let (code, stdout, record) = run(
        "drill: shell\nsteps:\n\
         - name: Pipeline\n  exec: { shell: \"printf 'version 2.4.1\\\\nok' | tr a-z A-Z\" }\n  expect: { stdout_matches: \"^VERSION [0-9.]+\\nOK$\" }\n  capture: { version: { stdout_regex: \"VERSION (\\\\S+)\" } }\n\
         - name: Use the capture\n  exec: { argv: [test, \"${version}\", \"=\", \"2.4.1\"] }\n",
        &[],
    );
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(step(&record, "Pipeline")["outcome"], "passed");
}

#[test]
fn exec_exit_code_and_stderr_expectations_report_what_happened() {
    let (code, stdout, record) = run(
        "drill: exits\nsteps:\n\
         - name: Expected failure\n  exec: { shell: \"echo boom >&2; exit 3\" }\n  expect: { exit_code: 3, stderr_contains: boom }\n\
         - name: Unexpected failure\n  exec: { argv: [sh, -c, \"echo nope >&2; exit 4\"] }\n",
        &[],
    );
    assert_eq!(code, 1);
    assert_eq!(step(&record, "Expected failure")["outcome"], "passed");
    assert!(
        stdout.contains("exit code: expected 0, got 4; stdout: ; stderr: nope"),
        "{stdout}"
    );
}

#[test]
fn exec_env_and_cwd_are_applied() {
    let (code, stdout, _) = run(
        "drill: env\nsteps:\n\
         - exec: { argv: [sh, -c, \"test \\\"$GREETING\\\" = hi && test \\\"$(pwd)\\\" = /tmp\"], env: { GREETING: hi }, cwd: /tmp }\n",
        &[],
    );
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn a_program_that_hangs_is_killed_at_its_timeout() {
    let started = Instant::now();
    let (code, stdout, record) = run(
        "drill: hang\nsteps:\n- name: Hang\n  exec: { argv: [sleep, \"30\"] }\n  timeout: 300ms\n",
        &[],
    );
    assert_eq!(code, 1);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(stdout.contains("timed out after 300ms"), "{stdout}");
    assert_eq!(step(&record, "Hang")["outcome"], "timed_out");
}

#[test]
fn a_missing_program_is_a_clear_failure() {
    let (code, stdout, _) = run(
        "drill: missing\nsteps:\n- exec: { argv: [no-such-program-xyz] }\n",
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stdout.contains("cannot start `no-such-program-xyz`"),
        "{stdout}"
    );
}

#[test]
fn sleep_takes_its_time() {
    let (code, _, record) = run("drill: nap\nsteps:\n- name: Nap\n  sleep: 200ms\n", &[]);
    assert_eq!(code, 0);
    let ms = step(&record, "Nap")["duration_ms"].as_u64().unwrap();
    assert!((200..400).contains(&ms), "{ms}ms");
}

#[test]
fn when_skips_steps_whose_condition_is_false() {
    let (code, stdout, record) = run(
        "drill: when\nvars: { mode: quick, enabled: false }\nsteps:\n\
         - name: Only in full mode\n  when: \"${mode} == full\"\n  exec: { argv: [\"false\"] }\n\
         - name: Only when not full\n  when: \"${mode} != full\"\n  exec: { argv: [\"true\"] }\n\
         - name: Disabled\n  when: \"${enabled}\"\n  exec: { argv: [\"false\"] }\n",
        &[],
    );
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(step(&record, "Only in full mode")["outcome"], "skipped");
    assert_eq!(step(&record, "Only when not full")["outcome"], "passed");
    assert_eq!(step(&record, "Disabled")["outcome"], "skipped");
    let (_, _, record) = run(
        "drill: when\nvars: { mode: quick }\nsteps:\n- name: Full\n  when: \"${mode} == full\"\n  exec: { argv: [\"true\"] }\n",
        &["--var", "mode=full"],
    );
    assert_eq!(
        step(&record, "Full")["outcome"],
        "passed",
        "--var overrides vars"
    );
}

const MANUAL: &str = "drill: manual\nbudget: 1m\nsteps:\n\
    - name: Check the dashboard\n  manual: Open the dashboard and confirm run ${run.id} is green.\n  owner: sre\n";

#[test]
fn unattended_manual_step_without_a_policy_fails_clearly_instead_of_hanging() {
    let (code, stdout, record) = run(MANUAL, &[]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("pass --manual done|skip|fail or --answers FILE"),
        "{stdout}"
    );
    assert_eq!(step(&record, "Check the dashboard")["outcome"], "failed");
}

#[test]
fn manual_policies_done_skip_and_fail() {
    let (code, _, record) = run(MANUAL, &["--manual", "done", "--operator", "dana"]);
    assert_eq!(code, 0);
    let s = step(&record, "Check the dashboard");
    assert_eq!(s["outcome"], "manual_done");
    assert_eq!(s["kind"], "manual");
    assert_eq!(s["owner"], "sre");
    assert_eq!(s["intervention"]["kind"], "manual_step");
    assert_eq!(s["intervention"]["operator"], "dana");
    assert_eq!(record["operator"], "dana");

    let (code, _, record) = run(MANUAL, &["--manual", "skip"]);
    assert_eq!(code, 0, "a skipped manual step does not fail a normal run");
    assert_eq!(step(&record, "Check the dashboard")["outcome"], "skipped");

    let (code, stdout, _) = run(MANUAL, &["--manual", "skip", "--strict"]);
    assert_eq!(code, 1, "--strict fails on a manual step not done");
    assert!(
        stdout.contains("--strict: manual step `Check the dashboard` was not done"),
        "{stdout}"
    );

    let (code, _, record) = run(MANUAL, &["--manual", "fail"]);
    assert_eq!(code, 1);
    assert_eq!(step(&record, "Check the dashboard")["outcome"], "failed");
}

#[test]
fn budgets_are_flagged_and_strict_fails_on_them() {
    let drill =
        "drill: slow\nbudget: 50ms\nsteps:\n- name: Slow\n  sleep: 150ms\n  budget: 100ms\n";
    let (code, stdout, record) = run(drill, &[]);
    assert_eq!(code, 0, "a budget is soft: {stdout}");
    assert_eq!(step(&record, "Slow")["over_budget"], true);
    assert_eq!(record["over_budget"], true);
    assert!(stdout.contains("over budget"), "{stdout}");
    let (code, stdout, _) = run(drill, &["--strict"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("--strict: step `Slow` went over its budget"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--strict: the drill went over its budget"),
        "{stdout}"
    );
}

#[test]
fn a_missing_secret_is_a_located_error_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(
        dir.path(),
        "secret.yaml",
        "drill: s\nsecrets:\n  TOKEN: { env: FIREDRILL_TEST_UNSET_TOKEN }\nsteps:\n- exec: { argv: [echo, \"${secret.TOKEN}\"] }\n",
    );
    firedrill()
        .env_remove("FIREDRILL_TEST_UNSET_TOKEN")
        .arg("run")
        .arg(&drill)
        .arg("--report")
        .arg(dir.path().join("r.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("secret.yaml:3:10: secret `TOKEN`: the environment variable `FIREDRILL_TEST_UNSET_TOKEN` is not set"));
    assert!(
        !dir.path().join("r.json").exists(),
        "nothing ran, no record"
    );
}
