//! CI integrations: GitHub Actions workflow commands and step summary (by
//! setting the runner's variables), and Prometheus metrics pushed to a
//! real Pushgateway (`scripts/ensure-pushgateway start`, then
//! `FIREDRILL_TEST_PUSHGATEWAY`) and written as an `OpenMetrics` file.
// The values are compared exactly: each is printed as the shortest decimal
// that reads back as the same f64, so "equal to the record" means equal.
#![allow(clippy::float_cmp)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{DemoApp, drill_file, free_port, read_record, send_signal, step, wait_exit};
use serde_json::Value;

/// `firedrill run DRILL --report REPORT EXTRA…` with `cmd`'s environment:
/// the exit code, stdout and the record.
fn run_to_record(
    mut cmd: assert_cmd::Command,
    drill: &Path,
    report: &Path,
    extra: &[&std::ffi::OsStr],
) -> (i32, String, Value) {
    let output = cmd
        .arg("run")
        .arg(drill)
        .arg("--report")
        .arg(report)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(report.exists(), "no record; stderr:\n{stderr}");
    (
        output.status.code().unwrap_or(-1),
        stdout,
        read_record(report),
    )
}

/// The workflow-command escaping of a message, written again here.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// …and of a property value.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The 1-based line where `- name: <name>` is written in the drill.
fn line_of(drill: &Path, name: &str) -> usize {
    let text = std::fs::read_to_string(drill).unwrap();
    text.lines()
        .position(|l| l.trim_start().starts_with("- name:") && l.contains(name))
        .unwrap_or_else(|| panic!("no step {name:?} in {}", drill.display()))
        + 1
}

/// A work directory with `drills/annotated.yaml` in it.
fn annotated_drill() -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let drills = work.path().join("drills");
    std::fs::create_dir(&drills).unwrap();
    let drill = drill_file(&drills, "ci/annotated", &[]);
    (work, drill)
}

#[test]
fn github_actions_gets_an_error_at_each_failed_steps_line_and_a_warning_per_overrun() {
    let app = DemoApp::start();
    let (work, drill) = annotated_drill();
    let summary = work.path().join("step-summary.md");
    std::fs::write(&summary, "earlier step's summary\n").unwrap();
    let mut cmd = app.firedrill(&work.path().join("runs"));
    cmd.current_dir(work.path())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary);
    let (code, stdout, record) = run_to_record(
        cmd,
        Path::new("drills/annotated.yaml"),
        &work.path().join("r.json"),
        &[],
    );
    assert_eq!(code, 1, "{stdout}");
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("::")).collect();

    let create = step(&record, "Create tenant, 100%: the first");
    let line = line_of(&drill, "Create tenant");
    assert_eq!(create["source"]["line"], line);
    let expected = format!(
        "::error file=drills/annotated.yaml,line={line},col=5,title={}::{}",
        property("Create tenant, 100%: the first"),
        data(create["error"].as_str().unwrap())
    );
    assert_eq!(
        expected,
        "::error file=drills/annotated.yaml,line=15,col=5,title=Create tenant%2C 100%25%3A the first::status: expected 201, got 400; body: {\"error\":\"plan must be one of free, basic, pro, enterprise; got \\\"no-such-plan\\\"\"}",
        "the expected line itself"
    );
    assert!(
        lines.contains(&expected.as_str()),
        "{expected}\nnot in:\n{stdout}"
    );

    // The cleanup step failed with the secret in its output: masked.
    let echo_line = line_of(&drill, "Echo the token");
    let echo =
        format!("::error file=drills/annotated.yaml,line={echo_line},col=5,title=Echo the token::");
    let echo = lines
        .iter()
        .find(|l| l.starts_with(&echo))
        .unwrap_or_else(|| panic!("no {echo} in:\n{stdout}"));
    assert!(echo.contains("stdout: ***"), "{echo}");
    assert!(!stdout.contains(&app.token), "the secret leaked:\n{stdout}");

    let slow = line_of(&drill, "Slow but fine");
    let warning = format!(
        "::warning file=drills/annotated.yaml,line={slow},col=5,title=Slow but fine went over its budget::took "
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with(&warning) && l.ends_with("over its budget of 10ms")),
        "{warning}… not in:\n{stdout}"
    );
    assert_eq!(lines.len(), 3, "one annotation each: {lines:#?}");

    // The summary is appended, masked.
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.starts_with("earlier step's summary\n## "), "{text}");
    assert!(text.contains("firedrill · annotated: failed"), "{text}");
    assert!(text.contains("Create tenant, 100%: the first"), "{text}");
    assert!(
        !text.contains(&app.token),
        "the secret leaked into the summary"
    );
}

#[test]
fn outside_github_actions_there_are_no_workflow_commands() {
    let app = DemoApp::start();
    let (work, _) = annotated_drill();
    let summary = work.path().join("step-summary.md");
    let mut cmd = app.firedrill(&work.path().join("runs"));
    cmd.current_dir(work.path())
        .env("GITHUB_STEP_SUMMARY", &summary);
    let (code, stdout, _) = run_to_record(
        cmd,
        Path::new("drills/annotated.yaml"),
        &work.path().join("r.json"),
        &[],
    );
    assert_eq!(code, 1);
    assert!(!stdout.lines().any(|l| l.starts_with("::")), "{stdout}");
    assert!(!summary.exists());
}

#[test]
fn an_absolute_drill_path_is_annotated_relative_to_the_workspace_and_strict_reasons_too() {
    let app = DemoApp::start();
    let work = tempfile::tempdir().unwrap();
    let drills = work.path().join("drills");
    std::fs::create_dir(&drills).unwrap();
    let drill = drill_file(&drills, "ci/passing", &[("DRILL", "strict-annotated")]);
    let text = std::fs::read_to_string(&drill)
        .unwrap()
        .replace("    sleep: 30ms\n", "    sleep: 30ms\n    budget: 5ms\n");
    std::fs::write(&drill, text).unwrap();
    let mut cmd = app.firedrill(&work.path().join("runs"));
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", work.path());
    let (code, stdout, _) = run_to_record(
        cmd,
        &drill,
        &work.path().join("r.json"),
        &["--strict".as_ref()],
    );
    assert_eq!(code, 1, "{stdout}");
    let line = line_of(&drill, "A pause");
    let warning = format!(
        "::warning file=drills/passing.yaml,line={line},col=5,title=A pause went over its budget::"
    );
    assert!(stdout.contains(&warning), "{warning} not in:\n{stdout}");
    let error = "::error file=drills/passing.yaml,title=drill strict-annotated failed::--strict: step `A pause` went over its budget (";
    assert!(stdout.contains(error), "{error} not in:\n{stdout}");
}

/// The Pushgateway the tests push to: `FIREDRILL_TEST_PUSHGATEWAY`, or one
/// `scripts/ensure-pushgateway start` starts (and leaves running for the
/// next test). One that does not answer fails the test; it is never skipped.
fn pushgateway() -> String {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let url = URL
        .get_or_init(|| match std::env::var("FIREDRILL_TEST_PUSHGATEWAY") {
            Ok(url) if !url.is_empty() => url,
            _ => start_pushgateway(),
        })
        .clone();
    let ready = client().get(format!("{url}/-/ready")).send();
    assert!(
        ready.as_ref().is_ok_and(|r| r.status().is_success()),
        "the Pushgateway at {url} (FIREDRILL_TEST_PUSHGATEWAY) does not answer: {ready:?}; \
         run `scripts/ensure-pushgateway start`"
    );
    url
}

/// Starts the Pushgateway with `scripts/ensure-pushgateway` (which installs
/// Debian's package if needed) and returns its URL.
fn start_pushgateway() -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ensure-pushgateway");
    let run = |verb: &str| {
        let output = std::process::Command::new(&script)
            .arg(verb)
            .output()
            .expect("running scripts/ensure-pushgateway");
        assert!(
            output.status.success(),
            "scripts/ensure-pushgateway {verb} failed; the metrics tests need a real Pushgateway \
             (start it by hand: `scripts/ensure-pushgateway start`):\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    run("start");
    run("env")
        .lines()
        .find_map(|l| l.strip_prefix("FIREDRILL_TEST_PUSHGATEWAY="))
        .expect("scripts/ensure-pushgateway env prints FIREDRILL_TEST_PUSHGATEWAY=…")
        .to_string()
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A drill name no other test (or earlier test run) pushes.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// The samples of one drill's group on the Pushgateway's `/metrics`.
fn pushed(gateway: &str, drill: &str) -> Vec<prometheus_parse::Sample> {
    let text = client()
        .get(format!("{gateway}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    scrape
        .samples
        .into_iter()
        .filter(|s| s.labels.get("drill") == Some(drill))
        .collect()
}

fn value(sample: &prometheus_parse::Sample) -> f64 {
    match sample.value {
        prometheus_parse::Value::Gauge(v) => v,
        ref other => panic!("{} is not a gauge: {other:?}", sample.metric),
    }
}

/// The one sample named `metric` (with `step` = `step`, if given).
fn sample(samples: &[prometheus_parse::Sample], metric: &str, step: Option<&str>) -> f64 {
    let found: Vec<_> = samples
        .iter()
        .filter(|s| s.metric == metric && s.labels.get("step") == step)
        .collect();
    assert_eq!(found.len(), 1, "{metric} {step:?} in {samples:#?}");
    value(found[0])
}

/// Every metric of a run equals the record's numbers.
fn assert_matches_record(samples: &[prometheus_parse::Sample], record: &Value, job: &str) {
    for s in samples {
        assert_eq!(s.labels.get("job"), Some(job), "{s:?}");
    }
    let ms = |key: &str| record[key].as_u64().unwrap() as f64 / 1000.0;
    assert_eq!(
        sample(samples, "firedrill_run_duration_seconds", None),
        ms("duration_ms")
    );
    assert_eq!(
        sample(samples, "firedrill_run_machine_seconds", None),
        (record["duration_ms"].as_u64().unwrap() - record["human_ms"].as_u64().unwrap()) as f64
            / 1000.0
    );
    assert_eq!(
        sample(samples, "firedrill_run_human_seconds", None),
        ms("human_ms")
    );
    let passed = if record["outcome"] == "passed" {
        1.0
    } else {
        0.0
    };
    assert_eq!(sample(samples, "firedrill_run_passed", None), passed);
    assert_eq!(sample(samples, "firedrill_interventions_total", None), 0.0);
    let mut ran = 0;
    for s in record["steps"].as_array().unwrap() {
        if s["started_at"].is_null() {
            continue;
        }
        ran += 1;
        let seconds = s["duration_us"].as_u64().unwrap() as f64 / 1e6;
        let name = s["name"].as_str().unwrap();
        assert_eq!(
            sample(samples, "firedrill_step_duration_seconds", Some(name)),
            seconds,
            "{name}"
        );
    }
    let series = samples
        .iter()
        .filter(|s| s.metric == "firedrill_step_duration_seconds")
        .count();
    assert_eq!(series, ran, "one series per step that ran");
}

#[test]
fn a_passing_then_a_failing_run_are_pushed_and_the_group_is_replaced() {
    let gateway = pushgateway();
    let app = DemoApp::start();
    let work = tempfile::tempdir().unwrap();
    let name = unique("metrics-push");
    let runs = work.path().join("runs");

    let drill = drill_file(work.path(), "ci/passing", &[("DRILL", &name)]);
    let cmd = app.firedrill(&runs);
    let extra = ["--pushgateway".as_ref(), gateway.as_ref()];
    let (code, stdout, record) = run_to_record(cmd, &drill, &work.path().join("pass.json"), &extra);
    assert_eq!(code, 0, "{stdout}");
    let samples = pushed(&gateway, &name);
    assert_matches_record(&samples, &record, "firedrill");
    assert!(
        samples
            .iter()
            .any(|s| s.labels.get("step") == Some("Only when passing")),
        "{samples:#?}"
    );

    // The same drill name, failing, through the environment variable:
    // the group is replaced, its stale step series gone.
    let drill = drill_file(work.path(), "ci/failing", &[("DRILL", &name)]);
    let mut cmd = app.firedrill(&runs);
    cmd.env("FIREDRILL_PUSHGATEWAY", &gateway);
    let (code, stdout, record) = run_to_record(cmd, &drill, &work.path().join("fail.json"), &[]);
    assert_eq!(code, 1, "{stdout}");
    let samples = pushed(&gateway, &name);
    assert_matches_record(&samples, &record, "firedrill");
    assert_eq!(sample(&samples, "firedrill_run_passed", None), 0.0);
    assert!(
        !samples
            .iter()
            .any(|s| s.labels.get("step") == Some("Only when passing")),
        "a stale series is left: {samples:#?}"
    );
}

#[test]
fn the_metrics_file_parses_and_the_pushgateway_accepts_it() {
    let gateway = pushgateway();
    let app = DemoApp::start();
    let work = tempfile::tempdir().unwrap();
    let name = unique("metrics-file");
    let drill = drill_file(work.path(), "ci/passing", &[("DRILL", &name)]);
    let file = work.path().join("firedrill.prom");
    let cmd = app.firedrill(&work.path().join("runs"));
    let extra = [
        "--metrics".as_ref(),
        file.as_os_str(),
        "--metrics-job".as_ref(),
        "nightly".as_ref(),
    ];
    let (code, stdout, record) = run_to_record(cmd, &drill, &work.path().join("r.json"), &extra);
    assert_eq!(code, 0, "{stdout}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let sample_lines = text.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(
        scrape.samples.len(),
        sample_lines,
        "every sample line parsed"
    );
    for s in &scrape.samples {
        assert_eq!(s.labels.get("drill"), Some(name.as_str()));
    }
    assert_matches_record(&scrape.samples, &record, "nightly");

    // The Pushgateway's own parser (the classic text format, as
    // node_exporter's textfile collector reads it) takes the file as it is.
    let group = format!("{gateway}/metrics/job/nightly/drill/{name}");
    let response = client()
        .put(&group)
        .header("Content-Type", "text/plain; version=0.0.4")
        .body(text)
        .send()
        .unwrap();
    let status = response.status();
    assert!(
        status.is_success(),
        "{status}: {}",
        response.text().unwrap()
    );
    assert_matches_record(&pushed(&gateway, &name), &record, "nightly");
    client().delete(&group).send().unwrap();
}

#[test]
fn a_pushgateway_that_is_down_is_a_warning_and_the_run_still_passes() {
    let app = DemoApp::start();
    let work = tempfile::tempdir().unwrap();
    let drill = drill_file(work.path(), "ci/passing", &[("DRILL", "metrics-down")]);
    let port = free_port();
    let output = app
        .firedrill(&work.path().join("runs"))
        .arg("run")
        .arg(&drill)
        .args(["--pushgateway", &format!("http://127.0.0.1:{port}")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let warning = format!(
        "warning: cannot push the metrics to http://127.0.0.1:{port}/metrics/job/firedrill/drill/metrics-down: "
    );
    assert!(stderr.contains(&warning), "{warning} not in:\n{stderr}");
    assert!(stderr.contains("Connection refused"), "{stderr}");
}

#[test]
fn an_interrupted_run_is_pushed_too() {
    let gateway = pushgateway();
    let app = DemoApp::start_with(&[("DEMO_DELAY_MS", "list_users=60000")]);
    let work = tempfile::tempdir().unwrap();
    let name = unique("metrics-interrupted");
    let drill = drill_file(work.path(), "ci/hung", &[("DRILL", &name)]);
    let report = work.path().join("r.json");
    let mut child = app.spawn_run(&drill, &report, &["--pushgateway", &gateway]);
    app.wait_in_flight(1);
    send_signal(&child, "INT");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(20)), 130);
    let record = read_record(&report);
    assert_eq!(record["outcome"], "interrupted");
    assert_matches_record(&pushed(&gateway, &name), &record, "firedrill");
}
