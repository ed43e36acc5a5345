//! `firedrill report` and the reports `run` writes: `JUnit` (parsed back),
//! Markdown and terminal (snapshots of a recorded run), JSON, HTML (loaded
//! in headless Chromium, with a screenshot), and a crashed run's journal.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{
    DemoApp, assert_self_contained, chromium, drill_file, firedrill, only_record, read_record, step,
};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus};
use serde_json::{Value, json};

/// The recorded run every snapshot is made from: a failed rollback
/// rehearsal with a manual step, a rescued step, budget overruns, a skipped
/// step and cleanup.
fn fixture() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/rollback.record.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A runs directory holding the fixture and three earlier, clean runs of
/// the same drill, in which `Backup finished` took about 3s (so the
/// fixture's 6.48s is a regression). Returns the fixture's path.
fn runs_with_history(dir: &Path) -> PathBuf {
    let current = fixture();
    for (n, day) in ["09", "10", "11"].iter().enumerate() {
        let mut earlier = current.clone();
        earlier["run_id"] = json!(format!("202603{day}-101500-000{n}"));
        earlier["started_at"] = json!(format!("2026-03-{day}T10:15:00.000Z"));
        earlier["outcome"] = json!("passed");
        earlier["reasons"] = json!([]);
        for s in earlier["steps"].as_array_mut().unwrap() {
            let manual = s["kind"] == "manual";
            s["outcome"] = json!(if manual { "manual_done" } else { "passed" });
            s["error"] = Value::Null;
            s["attempts"] = json!(1);
            s["over_budget"] = json!(false);
            if !manual {
                s["intervention"] = Value::Null;
                s["human_ms"] = json!(0);
            }
            let ms = match s["name"].as_str().unwrap() {
                "Backup finished" => 2900 + 100 * n as u64,
                "Roll back to 1.0" => 12_000,
                "Final health check" => 35,
                _ => s["duration_ms"].as_u64().unwrap() * (95 + 5 * n as u64) / 100,
            };
            s["duration_ms"] = json!(ms);
            s["duration_us"] = json!(ms * 1000);
        }
        write_json(
            &dir.join(format!("rollback-rehearsal-202603{day}.json")),
            &earlier,
        );
    }
    let path = dir.join("rollback-rehearsal-20260312-101500-7f3a.json");
    write_json(&path, &current);
    path
}

fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

fn report(record: &Path, format: &str) -> String {
    let output = firedrill()
        .args(["report", "--format", format])
        .arg(record)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "report --format {format}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn markdown_of_a_recorded_run_matches_its_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let record = runs_with_history(dir.path());
    let md = report(&record, "markdown");
    common::snapshot("rollback.md", &md);
    // What a reviewer must find, whatever the snapshot says.
    for needle in [
        "## ❌ firedrill · rollback-rehearsal: failed",
        "| **2m** | 40.71s | 1m 20s | 5m | 11 (10 ran, **1 failed**) | **1** |",
        r#"$[?@.user == 'dana'].role: expected "admin", got "viewer""#,
        "### Slowest steps",
        "| Roll back to 1.0 | ⚠️ intervened | 52.30s | 38.90s | 45s |",
        "| Backup finished | 6.48s | 5s | +1.48s |",
        "| Roll back to 1.0 | ⚠️ **unplanned**: fixed and retried | dana | **helped by lee** | 38.90s | old image was pruned; re-pulled it by hand |",
        "| Check the admin page by eye | manual step (planned) | dana | unaided | 41.15s | tenant listed |",
        "Median of the 3 previous runs of `rollback-rehearsal`",
        "| Backup finished | 3s | 6.48s | +3.48s (+116%) ⚠️ **regression** |",
    ] {
        assert!(md.contains(needle), "missing {needle:?} in:\n{md}");
    }
}

#[test]
fn terminal_report_matches_its_snapshot_and_flags_the_regression() {
    let dir = tempfile::tempdir().unwrap();
    let record = runs_with_history(dir.path());
    let text = report(&record, "terminal");
    common::snapshot("rollback.terminal.txt", &text);
    let line = text
        .lines()
        .find(|l| l.starts_with("Backup finished") && l.contains("3s"))
        .unwrap_or_else(|| panic!("no comparison line for Backup finished:\n{text}"));
    assert!(line.contains("▲ regression"), "{line}");
    let deploy = text.lines().rfind(|l| l.starts_with("Deploy 2.0")).unwrap();
    assert!(!deploy.contains("regression"), "{deploy}");
}

fn case<'a>(report: &'a Report, name: &str) -> &'a TestCase {
    report.test_suites[0]
        .test_cases
        .iter()
        .find(|c| c.name.as_str() == name)
        .unwrap_or_else(|| panic!("no test case {name:?}"))
}

fn property<'a>(case: &'a TestCase, name: &str) -> Option<&'a str> {
    case.properties
        .iter()
        .find(|p| p.name.as_str() == name)
        .map(|p| p.value.as_str())
}

#[test]
fn junit_of_a_recorded_run_matches_its_snapshot_and_parses_back() {
    let dir = tempfile::tempdir().unwrap();
    let record = runs_with_history(dir.path());
    let xml = report(&record, "junit");
    common::snapshot("rollback.junit.xml", &xml);
    let parsed = Report::deserialize_from_str(&xml).expect("valid JUnit XML");
    let suite = &parsed.test_suites[0];
    assert_eq!(suite.name.as_str(), "rollback-rehearsal");
    assert_eq!((suite.tests, suite.failures, suite.skipped), (11, 1, 1));
    assert_eq!(suite.time, Some(Duration::from_millis(120_760)));
    assert!(
        suite.timestamp.is_some(),
        "the run's start is the timestamp"
    );
    let rescued = case(&parsed, "Roll back to 1.0");
    assert!(matches!(rescued.status, TestCaseStatus::Success { .. }));
    assert_eq!(property(rescued, "intervention"), Some("retried_after_fix"));
    assert_eq!(property(rescued, "intervention.helped_by"), Some("lee"));
    assert_eq!(
        property(rescued, "intervention.note"),
        Some("old image was pruned; re-pulled it by hand")
    );
    let out = rescued.system_out.as_ref().unwrap().as_str();
    assert!(
        out.contains("UNPLANNED INTERVENTION: fixed and retried by dana, helped by lee"),
        "{out}"
    );
    assert!(out.contains("OVER BUDGET"), "{out}");
    assert_eq!(rescued.time, Some(Duration::from_millis(52_300)));
}

#[test]
fn json_report_is_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let record = runs_with_history(dir.path());
    let json: Value = serde_json::from_str(&report(&record, "json")).unwrap();
    // A record written before `warnings` existed reads with none.
    let mut expected = fixture();
    expected["warnings"] = serde_json::json!([]);
    assert_eq!(json, expected);
}

/// A drill that exercises every kind of line a report has, against
/// demo-app: http, exec, a manual step, a budget overrun, a failing
/// expectation, a step never reached, and cleanup.
fn report_drill(dir: &Path) -> PathBuf {
    drill_file(dir, "reports/report-demo", &[])
}

/// Runs the report drill with `--junit/--markdown/--html`; returns the
/// record and the three files.
fn run_with_reports(app: &DemoApp, work: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let runs = work.join("runs");
    let drill = report_drill(work);
    let (junit, markdown, html) = (
        work.join("out/junit.xml"),
        work.join("out/summary.md"),
        work.join("out/run.html"),
    );
    let output = app
        .firedrill(&runs)
        .args(["run", "--manual", "done"])
        .arg(&drill)
        .arg("--junit")
        .arg(&junit)
        .arg("--markdown")
        .arg(&markdown)
        .arg("--html")
        .arg(&html)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (only_record(&runs), junit, markdown, html)
}

#[test]
fn run_writes_junit_that_ci_reads_back_with_a_case_per_step() {
    let app = DemoApp::start();
    let work = tempfile::tempdir().unwrap();
    let (record_path, junit, markdown, _) = run_with_reports(&app, work.path());
    let record = read_record(&record_path);
    assert_eq!(
        step(&record, "Look at the admin page")["outcome"],
        "manual_done"
    );

    let xml = std::fs::read_to_string(&junit).unwrap();
    let parsed = Report::deserialize_from_str(&xml).expect("valid JUnit XML");
    assert_eq!(parsed.test_suites.len(), 1, "one suite per run");
    let suite = &parsed.test_suites[0];
    assert_eq!(suite.name.as_str(), "report-demo");
    assert_eq!(
        suite.test_cases.len(),
        7,
        "one case per step, cleanup included"
    );
    assert_eq!((suite.failures, suite.skipped, suite.errors), (1, 1, 0));
    for c in &suite.test_cases {
        assert_eq!(c.classname.as_ref().unwrap().as_str(), "report-demo");
    }

    let failed = case(&parsed, "Version is three");
    match &failed.status {
        TestCaseStatus::NonSuccess {
            kind: NonSuccessKind::Failure,
            message,
            ..
        } => assert!(
            message
                .as_ref()
                .unwrap()
                .as_str()
                .contains(r#"$.version: expected "3.0.0", got "1.0.0""#),
            "{message:?}"
        ),
        other => panic!("expected a failure, got {other:?}"),
    }
    assert!(matches!(
        case(&parsed, "Never reached").status,
        TestCaseStatus::Skipped { .. }
    ));

    let manual = case(&parsed, "Look at the admin page");
    assert!(matches!(manual.status, TestCaseStatus::Success { .. }));
    assert_eq!(property(manual, "manual"), Some("true"));
    assert_eq!(property(manual, "intervention"), Some("manual_step"));
    assert_eq!(property(manual, "intervention.operator"), Some("tester"));
    assert_eq!(property(manual, "owner"), Some("support"));
    let out = manual.system_out.as_ref().unwrap().as_str();
    assert!(out.contains("manual: manual step done by tester"), "{out}");

    let settle = case(&parsed, "Settle");
    assert!(
        settle.time.unwrap() >= Duration::from_millis(300),
        "{settle:?}"
    );
    assert_eq!(property(settle, "over_budget"), Some("true"));
    assert_eq!(property(case(&parsed, "Tidy up"), "phase"), Some("cleanup"));
    assert!(
        suite
            .test_cases
            .iter()
            .all(|c| c.name.as_str() != "drill outcome"),
        "a step failure needs no extra verdict case"
    );

    // `report` renders the same file from the record.
    assert_eq!(report(&record_path, "junit"), xml);

    let md = std::fs::read_to_string(&markdown).unwrap();
    for needle in [
        "## ❌ firedrill · report-demo: failed",
        "operator **tester**",
        "| Look at the admin page | manual step (planned) | tester | unaided |",
        r#"step `Version is three` failed: $.version: expected "3.0.0", got "1.0.0""#,
    ] {
        assert!(md.contains(needle), "missing {needle:?} in:\n{md}");
    }
    // The 300ms sleep over its 100ms budget, however loaded the machine.
    let overrun = regex::Regex::new(r"\| Settle \| [0-9.]+m?s \| 100ms \| \+").unwrap();
    assert!(
        overrun.is_match(&md),
        "no budget overrun row for Settle in:\n{md}"
    );
}

#[test]
fn reports_never_contain_a_secret() {
    let app = DemoApp::start();
    let work = tempfile::tempdir().unwrap();
    let drill = drill_file(work.path(), "reports/leak", &[]);
    let out = work.path().join("out");
    // The operator's name is the token too: it reaches the reports only
    // through their own rendering, which must mask it.
    let output = app
        .firedrill(&work.path().join("runs"))
        .arg("run")
        .arg(&drill)
        .args(["--operator", &app.token])
        .arg("--junit")
        .arg(out.join("j.xml"))
        .arg("--markdown")
        .arg(out.join("m.md"))
        .arg("--html")
        .arg(out.join("h.html"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    for name in ["j.xml", "m.md", "h.html"] {
        let text = std::fs::read_to_string(out.join(name)).unwrap();
        assert!(text.contains("Echo the token"), "{name} has the step");
        assert!(text.contains("***"), "{name} shows the masked value");
        assert!(!text.contains(&app.token), "the secret leaked into {name}");
    }
}

#[test]
fn a_crashed_runs_journal_renders_as_an_incomplete_run() {
    let dir = tempfile::tempdir().unwrap();
    let steps = fixture()["steps"].as_array().unwrap().clone();
    let mut journal = String::from(
        r#"{"type":"run","schema":1,"drill":"rollback-rehearsal","run_id":"20260313-101500-dead","started_at":"2026-03-12T10:15:00.000Z"}"#,
    );
    for s in &steps[..3] {
        let mut line = json!({"type": "step"});
        line.as_object_mut()
            .unwrap()
            .extend(s.as_object().unwrap().clone());
        journal.push('\n');
        journal.push_str(&line.to_string());
    }
    // The process died halfway through writing the fourth line.
    journal.push_str("\n{\"type\":\"step\",\"name\":\"Backup fin");
    let path = dir
        .path()
        .join("rollback-rehearsal-20260313-101500-dead.journal.jsonl");
    std::fs::write(&path, journal).unwrap();

    let json: Value = serde_json::from_str(&report(&path, "json")).unwrap();
    assert_eq!(json["outcome"], "crashed");
    assert_eq!(json["steps"].as_array().unwrap().len(), 3);
    assert_eq!(
        json["duration_ms"], 551,
        "to the end of the last finished step"
    );

    let text = report(&path, "terminal");
    assert!(text.contains("CRASHED (incomplete"), "{text}");
    assert!(text.contains("3 finished steps were read"), "{text}");
    assert!(text.contains("cut short"), "{text}");

    let md = report(&path, "markdown");
    assert!(
        md.contains("💥 firedrill · rollback-rehearsal: crashed"),
        "{md}"
    );

    let parsed = Report::deserialize_from_str(&report(&path, "junit")).unwrap();
    let verdict = case(&parsed, "drill outcome");
    assert!(
        matches!(&verdict.status, TestCaseStatus::NonSuccess { message: Some(m), .. }
            if m.as_str().contains("stopped without writing its record")),
        "{verdict:?}"
    );
}

#[test]
fn report_of_a_missing_or_foreign_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = dir.path().join("foreign.json");
    std::fs::write(&foreign, r#"{"hello": "world"}"#).unwrap();
    for path in [dir.path().join("nothing.json"), foreign] {
        firedrill()
            .args(["report", "--format", "markdown"])
            .arg(&path)
            .assert()
            .code(2);
    }
}

#[test]
fn html_report_loads_in_chromium_without_errors_and_is_screenshotted() {
    let dir = tempfile::tempdir().unwrap();
    let record = runs_with_history(dir.path());
    let page = dir.path().join("rollback.html");
    firedrill()
        .args(["report", "--format", "html", "-o"])
        .arg(&page)
        .arg(&record)
        .assert()
        .code(0);
    let html = std::fs::read_to_string(&page).unwrap();
    assert_self_contained(&html);
    assert!(
        html.contains("Timeline") && html.contains("class=\"row step"),
        "the Gantt is there"
    );
    assert_eq!(
        html.matches("class=\"row step").count(),
        11,
        "one bar row per step"
    );
    assert!(html.contains("class=\"human\""), "human time is shaded");
    assert!(html.contains("class=\"band\""), "cleanup is its own phase");
    assert!(
        html.contains("class=\"budget over\""),
        "budget overruns are marked"
    );
    assert!(
        html.contains("class=\"base regressed\""),
        "the regressed baseline is marked"
    );

    // The page's script runs cleanly; opening it on a step shows that
    // step's details (what a click does).
    let (dom, console) = chromium(&page, &["--dump-dom"], "#step=7");
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert!(
        dom.contains("<body data-ready=\"true\">"),
        "the script ran to its end"
    );
    assert!(dom.contains("data-step=\"7\""), "step 7 is selected");
    assert!(
        dom.contains("Unplanned intervention"),
        "its details are shown"
    );
    assert!(dom.contains("old image was pruned; re-pulled it by hand"));
    assert!(dom.contains("wait: GET /health did not answer 2xx within 30s"));

    // Without a fragment the page opens on the failed step.
    let (dom, console) = chromium(&page, &["--dump-dom"], "");
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert!(
        dom.contains("data-step=\"9\""),
        "the failed step is selected"
    );

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("firedrill-report.png");
    let _ = std::fs::remove_file(&shot);
    let (_, console) = chromium(
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,1300",
        ],
        "#step=7",
    );
    assert!(console.is_empty(), "console messages: {console:#?}");
    let png = std::fs::read(&shot).expect("chromium wrote the screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    assert!(
        png.len() > 30_000,
        "a page with content, not a blank one: {} bytes",
        png.len()
    );
    println!("screenshot: {}", shot.display());
}

#[test]
fn html_from_a_real_run_loads_in_chromium_without_errors() {
    let app = DemoApp::start();
    let work = tempfile::tempdir().unwrap();
    let (_, _, _, html) = run_with_reports(&app, work.path());
    let text = std::fs::read_to_string(&html).unwrap();
    assert_self_contained(&text);
    assert_eq!(text.matches("class=\"row step").count(), 7);
    let (dom, console) = chromium(&html, &["--dump-dom"], "");
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert!(dom.contains("<body data-ready=\"true\">"));
    assert!(dom.contains("data-step=\"5\""), "opens on the failed step");
    assert!(dom.contains(r#"$.version: expected "3.0.0", got "1.0.0""#));
}
