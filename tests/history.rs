//! `firedrill history` over stored records, and the comparison with the
//! baseline at the end of `run`: regressions flagged, `--fail-on-regression`,
//! `--baseline`, and crashed runs (journals without a record).

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{
    DemoApp, assert_self_contained, chromium, drill_file, firedrill, read_record, write_drill,
};
use serde_json::{Value, json};

/// A run record with controlled durations; a step named in `failed` failed.
fn record(drill: &str, day: u32, outcome: &str, steps: &[(&str, u64)], failed: &[&str]) -> Value {
    let mut at = 0;
    let steps: Vec<Value> = steps
        .iter()
        .map(|(name, ms)| {
            let failure = failed.contains(name);
            let step = json!({
                "name": name, "kind": "exec", "phase": "steps",
                "outcome": if failure { "failed" } else { "passed" },
                "started_at": format!("2026-03-{day:02}T10:00:{:02}.{:03}Z", at / 1000, at % 1000),
                "duration_ms": ms, "human_ms": 0, "attempts": 1, "budget_ms": null,
                "over_budget": false, "owner": null, "intervention": null,
                "error": if failure { json!("exit code 1, expected 0") } else { Value::Null },
                "duration_us": ms * 1000,
            });
            at += ms;
            step
        })
        .collect();
    json!({
        "schema": 1, "drill": drill, "run_id": run_id(day), "outcome": outcome,
        "started_at": format!("2026-03-{day:02}T10:00:00.000Z"),
        "finished_at": null, "duration_ms": at + 5, "human_ms": 0, "operator": "ci",
        "docker_version": null, "budget_ms": null, "over_budget": false,
        "drill_file": format!("drills/{drill}.yaml"), "firedrill_version": "0.1.0",
        "reasons": [], "steps": steps,
    })
}

fn run_id(day: u32) -> String {
    format!("202603{day:02}-100000-00{day:02}")
}

fn store(dir: &Path, record: &Value) -> PathBuf {
    let path = dir.join(format!(
        "{}-{}.json",
        record["drill"].as_str().unwrap(),
        record["run_id"].as_str().unwrap()
    ));
    std::fs::write(&path, serde_json::to_string_pretty(record).unwrap()).unwrap();
    path
}

/// Seven runs of `setup` — five earlier ones (one failed), a crashed one
/// (a journal, no record) and the latest, whose `Provision` took twice its
/// usual second — and one run of `other`.
fn setup_history(dir: &Path) {
    let provision = [1000, 950, 1050, 1000, 980];
    let configure = [200, 210, 190, 205, 200];
    for day in 1..=5u32 {
        let i = day as usize - 1;
        let (outcome, failed): (&str, &[&str]) = if day == 2 {
            ("failed", &["Check"])
        } else {
            ("passed", &[])
        };
        store(
            dir,
            &record(
                "setup",
                day,
                outcome,
                &[
                    ("Provision", provision[i]),
                    ("Configure", configure[i]),
                    ("Check", 20),
                ],
                failed,
            ),
        );
    }
    store(dir, &record("other", 4, "passed", &[("Only", 10)], &[]));
    // Day 6 crashed after its first step: only the journal is left.
    let crashed = record("setup", 6, "passed", &[("Provision", 1000)], &[]);
    let mut journal = json!({
        "type": "run", "schema": 1, "drill": "setup", "run_id": run_id(6),
        "started_at": crashed["started_at"],
    })
    .to_string();
    let mut line = json!({"type": "step"});
    line.as_object_mut()
        .unwrap()
        .extend(crashed["steps"][0].as_object().unwrap().clone());
    journal.push('\n');
    journal.push_str(&line.to_string());
    journal.push('\n');
    std::fs::write(
        dir.join(format!("setup-{}.journal.jsonl", run_id(6))),
        journal,
    )
    .unwrap();
    store(
        dir,
        &record(
            "setup",
            7,
            "passed",
            &[("Provision", 2100), ("Configure", 205), ("Check", 21)],
            &[],
        ),
    );
}

/// The record of the run the test made, beside the stored fixtures.
fn new_record(runs: &Path) -> PathBuf {
    let made: Vec<PathBuf> = runs
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            std::path::Path::new(&name)
                .extension()
                .is_some_and(|e| e == "json")
                && !name.contains("-100000-00")
        })
        .collect();
    assert_eq!(made.len(), 1, "{made:?}");
    made.into_iter().next().unwrap()
}

fn history(dir: &Path, args: &[&str]) -> String {
    let output = firedrill()
        .arg("history")
        .args(args)
        .arg("--runs-dir")
        .arg(dir)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The last line that starts with `start`.
fn line<'a>(text: &'a str, start: &str) -> &'a str {
    text.lines()
        .rfind(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start:?} in:\n{text}"))
}

#[test]
fn history_lists_the_runs_shows_the_crashed_one_and_flags_the_regression() {
    let dir = tempfile::tempdir().unwrap();
    setup_history(dir.path());
    let text = history(dir.path(), &["setup"]);

    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("2026-03-")).collect();
    assert_eq!(rows.len(), 7, "seven runs of setup, none of other:\n{text}");
    let crashed = line(&text, "2026-03-06");
    assert!(crashed.contains(&run_id(6)), "{crashed}");
    assert!(crashed.contains("crashed (incomplete)"), "{crashed}");
    assert!(line(&text, "2026-03-02").contains("failed"));
    let latest = line(&text, "2026-03-07");
    assert!(
        latest.contains("passed") && latest.contains("2.33s"),
        "when, outcome, total: {latest}"
    );

    assert!(
        text.contains(&format!("setup · latest run {} (passed)", run_id(7))),
        "{text}"
    );
    assert!(
        text.contains("median of the 6 previous runs of `setup`"),
        "{text}"
    );
    let provision = line(&text, "Provision");
    assert!(
        provision.contains("1s") && provision.contains("2.10s"),
        "{provision}"
    );
    assert!(provision.contains("+1.10s (+110%)"), "{provision}");
    assert!(provision.contains("▲ regression"), "{provision}");
    let configure = line(&text, "Configure");
    assert!(!configure.contains("regression"), "{configure}");
    assert!(line(&text, "TOTAL").contains("▲ regression"), "{text}");
    assert!(text.contains("▲ 2 regressions above 20%"), "{text}");
}

#[test]
fn history_json_gives_scripts_the_runs_medians_and_regressions() {
    let dir = tempfile::tempdir().unwrap();
    setup_history(dir.path());
    let json: Value = serde_json::from_str(&history(dir.path(), &["setup", "--json"])).unwrap();
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 7);
    assert!(runs.iter().all(|r| r["drill"] == "setup"));
    assert_eq!(runs[5]["run_id"], run_id(6));
    assert_eq!(runs[5]["outcome"], "crashed");
    assert_eq!(runs[5]["steps"], 1);
    assert_eq!(runs[1]["outcome"], "failed");
    assert_eq!(runs[6]["duration_ms"], 2331);

    let trends = json["trends"].as_array().unwrap();
    assert_eq!(trends.len(), 1);
    let comparison = &trends[0]["comparison"];
    assert_eq!(comparison["baseline_runs"], 6);
    assert_eq!(comparison["threshold"], 20.0);
    let step = |name: &str| {
        comparison["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["delta"]
            .clone()
    };
    // Provision: 950, 980, 1000, 1000, 1000 (the crashed run's), 1050.
    assert_eq!(step("Provision")["baseline_ms"], 1000);
    assert_eq!(step("Provision")["samples"], 6);
    assert_eq!(step("Provision")["current_ms"], 2100);
    assert_eq!(step("Provision")["regression"], true);
    assert_eq!(step("Configure")["baseline_ms"], 200);
    assert_eq!(step("Configure")["regression"], false);
    // The failed run's failed step is no sample.
    assert_eq!(step("Check")["samples"], 4);
    // Totals come from the runs that passed: 1225, 1265, 1230, 1205.
    assert_eq!(comparison["total"]["samples"], 4);
    assert_eq!(comparison["total"]["baseline_ms"], 1228);
    assert_eq!(comparison["total"]["regression"], true);
}

#[test]
fn history_last_n_limits_the_table_and_the_median() {
    let dir = tempfile::tempdir().unwrap();
    setup_history(dir.path());
    let text = history(dir.path(), &["setup", "--last", "3"]);
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("2026-03-")).collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(rows[0].starts_with("2026-03-05"), "{text}");
    assert!(text.contains("median of the 3 previous runs"), "{text}");
    // A higher threshold lets the same change pass.
    let lenient = history(dir.path(), &["setup", "--regression", "150%"]);
    assert!(!lenient.contains("▲"), "{lenient}");
    firedrill()
        .args(["history", "--last", "0"])
        .assert()
        .code(2);
}

#[test]
fn history_without_a_drill_shows_every_drill_and_a_drill_file_names_its_drill() {
    let dir = tempfile::tempdir().unwrap();
    setup_history(dir.path());
    let text = history(dir.path(), &[]);
    assert!(text.starts_with("2 drills · last 8 runs in "), "{text}");
    assert!(line(&text, "WHEN").contains("DRILL"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("2026-03-")).count(),
        8
    );
    assert!(text.contains("other · latest run"), "{text}");
    assert!(text.contains("setup · latest run"), "{text}");

    let files = tempfile::tempdir().unwrap();
    let drill = write_drill(
        files.path(),
        "setup.yaml",
        "drill: setup\nsteps:\n  - name: Provision\n    exec: { argv: [\"true\"] }\n",
    );
    let by_file = history(dir.path(), &[drill.to_str().unwrap()]);
    assert_eq!(
        by_file
            .lines()
            .filter(|l| l.starts_with("2026-03-"))
            .count(),
        7,
        "{by_file}"
    );

    let empty = tempfile::tempdir().unwrap();
    assert!(history(empty.path(), &["setup"]).contains("no runs of `setup`"));
}

/// A drill of a quick HTTP step and a 400ms sleep, with three earlier
/// runs on record in which the sleep took 100ms.
fn compare_setup(runs: &Path, work: &Path) -> PathBuf {
    std::fs::create_dir_all(runs).unwrap();
    for day in 1..=3 {
        store(
            runs,
            &record(
                "compare",
                day,
                "passed",
                &[("Health", 2), ("Wait", 100)],
                &[],
            ),
        );
    }
    drill_file(work, "history/compare", &[])
}

#[test]
fn run_compares_each_step_and_the_total_with_the_median_of_previous_runs() {
    let app = DemoApp::start();
    let work = tempfile::tempdir().unwrap();
    let runs = work.path().join("runs");
    let drill = compare_setup(&runs, work.path());
    let output = app
        .firedrill(&runs)
        .arg("run")
        .arg(&drill)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "a regression alone does not fail: {stdout}"
    );
    assert!(
        stdout.contains("vs baseline: median of the 3 previous runs of `compare`"),
        "{stdout}"
    );
    let wait = line(&stdout, "Wait");
    assert!(
        wait.contains("100ms") && wait.contains("▲ regression"),
        "{wait}"
    );
    assert!(
        !line(&stdout, "Health").contains("regression"),
        "jitter of a few ms is no regression: {stdout}"
    );
    assert!(line(&stdout, "TOTAL").contains("▲ regression"), "{stdout}");

    let record_path = new_record(&runs);
    let record = read_record(&record_path);
    assert_eq!(record["outcome"], "passed");
    assert_eq!(record["reasons"], json!([]));
}

#[test]
fn fail_on_regression_fails_the_run_and_says_why_in_the_record_and_the_reports() {
    let app = DemoApp::start();
    let work = tempfile::tempdir().unwrap();
    let runs = work.path().join("runs");
    let drill = compare_setup(&runs, work.path());
    let junit = work.path().join("junit.xml");
    let output = app
        .firedrill(&runs)
        .arg("run")
        .arg(&drill)
        .args(["--fail-on-regression", "--regression", "50%", "--junit"])
        .arg(&junit)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAILED"), "{stdout}");
    assert!(
        stdout.contains("--fail-on-regression: regression: step `Wait` took"),
        "{stdout}"
    );
    assert!(stdout.contains("(threshold 50%)"), "{stdout}");

    let record_path = new_record(&runs);
    let record = read_record(&record_path);
    assert_eq!(record["outcome"], "failed");
    let reasons = record["reasons"].as_array().unwrap();
    assert!(
        reasons
            .iter()
            .any(|r| r.as_str().unwrap().contains("step `Wait` took")),
        "{reasons:?}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    let verdict = parsed.test_suites[0]
        .test_cases
        .iter()
        .find(|c| c.name.as_str() == "drill outcome")
        .expect("a verdict case carries the regression");
    assert!(matches!(
        verdict.status,
        quick_junit::TestCaseStatus::NonSuccess { .. }
    ));
}

#[test]
fn an_explicit_baseline_record_replaces_the_median() {
    let app = DemoApp::start();
    let work = tempfile::tempdir().unwrap();
    let runs = work.path().join("runs");
    let drill = compare_setup(&runs, work.path());
    let slow = store(
        work.path(),
        &record(
            "compare",
            9,
            "passed",
            &[("Health", 2), ("Wait", 1000)],
            &[],
        ),
    );
    let output = app
        .firedrill(&runs)
        .arg("run")
        .arg(&drill)
        .arg("--fail-on-regression")
        .arg("--baseline")
        .arg(&slow)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "vs baseline: run {} ({})",
            run_id(9),
            slow.display()
        )),
        "{stdout}"
    );
    let wait = line(&stdout, "Wait");
    assert!(wait.contains("1s") && wait.contains("(-6"), "{wait}");
    assert!(!stdout.contains("▲"), "{stdout}");

    // A baseline that cannot be read is a usage error, found before
    // anything runs.
    let before = runs.read_dir().unwrap().count();
    app.firedrill(&runs)
        .arg("run")
        .arg(&drill)
        .arg("--baseline")
        .arg(work.path().join("missing.json"))
        .assert()
        .code(2);
    assert_eq!(runs.read_dir().unwrap().count(), before, "nothing ran");
}

#[test]
fn a_killed_run_is_listed_as_crashed_and_its_journal_still_renders() {
    let app = DemoApp::start();
    let work = tempfile::tempdir().unwrap();
    let runs = work.path().join("runs");
    let drill = drill_file(work.path(), "history/crashy", &[]);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("firedrill"))
        .arg("run")
        .arg(&drill)
        .env("TARGET_URL", &app.url)
        .env("DEMO_ADMIN_TOKEN", &app.token)
        .env("FIREDRILL_RUNS_DIR", &runs)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the journal to hold the header and the two quick steps.
    let deadline = Instant::now() + Duration::from_secs(30);
    let journal = loop {
        assert!(Instant::now() < deadline, "the journal never had two steps");
        let found = runs.read_dir().ok().and_then(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .find(|p| p.to_string_lossy().ends_with(".journal.jsonl"))
        });
        if let Some(path) = found {
            let file = std::fs::File::open(&path).unwrap();
            if std::io::BufReader::new(file).lines().count() >= 3 {
                break path;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    child.kill().unwrap(); // SIGKILL: no cleanup, no record.
    child.wait().unwrap();
    assert!(
        runs.read_dir()
            .unwrap()
            .all(|e| !e.unwrap().path().to_string_lossy().ends_with(".json")),
        "a killed run writes no record"
    );

    let text = history(&runs, &["crashy"]);
    let row = line(&text, "20");
    assert!(row.contains("crashed (incomplete)"), "{text}");
    let json: Value = serde_json::from_str(&history(&runs, &["crashy", "--json"])).unwrap();
    assert_eq!(json["runs"][0]["outcome"], "crashed");
    assert_eq!(json["runs"][0]["steps"], 2);

    let md = firedrill()
        .args(["report", "--format", "markdown"])
        .arg(&journal)
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.contains("💥 firedrill · crashy: crashed"), "{md}");
    assert!(md.contains("| 2 | Echo | exec | ✅ passed"), "{md}");
}

/// Gives the stored runs of `setup` a 2s budget, and day 3's `Configure`
/// a person's rescue: 400ms of human time and an unplanned intervention.
fn add_budgets_and_a_rescue(dir: &Path) {
    for day in 1..=7u32 {
        let path = dir.join(format!("setup-{}.json", run_id(day)));
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // day 6 crashed: a journal
        };
        let mut record: Value = serde_json::from_str(&text).unwrap();
        record["budget_ms"] = json!(2000);
        if day == 3 {
            record["steps"][1]["human_ms"] = json!(400);
            record["steps"][1]["duration_ms"] = json!(590);
            record["steps"][1]["outcome"] = json!("intervened");
            record["steps"][1]["intervention"] = json!({
                "kind": "retried_after_fix", "operator": "dana", "note": "restarted the agent",
                "needed_help": false, "helped_by": null,
            });
            record["human_ms"] = json!(400);
            record["duration_ms"] = json!(1625);
        }
        std::fs::write(&path, serde_json::to_string_pretty(&record).unwrap()).unwrap();
    }
}

/// Each `<g class="run …">` of the page's chart of `drill`: its attributes
/// by name.
fn chart_runs(html: &str, drill: &str) -> Vec<std::collections::HashMap<String, String>> {
    let start = html
        .find(&format!("data-drill=\"{drill}\""))
        .unwrap_or_else(|| panic!("no section for {drill}"));
    let section = &html[start..];
    let section = &section[..section.find("</section>").unwrap()];
    let group = regex::Regex::new(r#"<g class="run [^"]*"([^>]*)>"#).unwrap();
    let attr = regex::Regex::new(r#"(data-[a-z-]+)="([^"]*)""#).unwrap();
    group
        .captures_iter(section)
        .map(|g| {
            attr.captures_iter(&g[1])
                .map(|a| (a[1].to_string(), a[2].to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn history_html_charts_every_run_and_step_and_renders_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    setup_history(dir.path());
    add_budgets_and_a_rescue(dir.path());
    let page = dir.path().join("history.html");
    let text = history(dir.path(), &["--html", page.to_str().unwrap()]);
    assert!(
        text.contains(&format!("history page: {}", page.display())),
        "{text}"
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert_self_contained(&html);
    assert!(
        !html.contains("<script"),
        "the page draws itself: no script"
    );

    // The chart's runs are the records', in order, with their numbers.
    let expected: Vec<Value> =
        serde_json::from_str::<Value>(&history(dir.path(), &["setup", "--json"])).unwrap()["runs"]
            .as_array()
            .unwrap()
            .clone();
    assert_chart_matches(&html, &page, &expected);
    let day3 = &chart_runs(&html, "setup")[2];
    assert_eq!(day3["data-human-ms"], "400");
    assert_eq!(day3["data-interventions"], "1");

    assert_points_on_scale(&html);
    assert!(
        html.contains("class=\"budget\"") && html.contains("budget 2s"),
        "the budget line"
    );
    assert!(html.contains("⚑1"), "the intervention is marked");

    // Per step: a sparkline against its median; Provision regressed.
    let provision = regex::Regex::new(
        r#"<figure class="step( regressed)?" data-step="Provision" data-median-ms="(\d+)""#,
    )
    .unwrap();
    let caps = provision
        .captures(&html)
        .expect("a sparkline for Provision");
    assert!(
        caps.get(1).is_some(),
        "Provision's 2.10s is flagged against its median"
    );
    assert_eq!(&caps[2], "1000");
    // 200, 210, 205, 200 and 205: day 3's rescued run is no sample.
    assert!(
        html.contains("data-step=\"Configure\" data-median-ms=\"205\""),
        "Configure's median"
    );

    screenshot(&page);
}

/// The page's chart of `setup` (in the file, and in Chromium's DOM) has a
/// run per row of `history --json`, with its numbers.
fn assert_chart_matches(html: &str, page: &Path, expected: &[Value]) {
    for (source, name) in [
        (html.to_string(), "page"),
        (chromium(page, &["--dump-dom"], "").0, "DOM"),
    ] {
        let runs = chart_runs(&source, "setup");
        assert_eq!(runs.len(), 7, "{name}: one bar per run of setup");
        for (run, row) in runs.iter().zip(expected) {
            assert_eq!(
                run["data-run-id"],
                row["run_id"].as_str().unwrap(),
                "{name}"
            );
            assert_eq!(
                run["data-outcome"],
                row["outcome"].as_str().unwrap(),
                "{name}"
            );
            for key in ["total", "machine", "human"] {
                let field = if key == "total" {
                    "duration_ms".to_string()
                } else {
                    format!("{key}_ms")
                };
                assert_eq!(
                    run[&format!("data-{key}-ms")],
                    row[&field].to_string(),
                    "{name}: {key} of {}",
                    row["run_id"]
                );
            }
        }
        assert_eq!(chart_runs(&source, "other").len(), 1, "{name}");
    }
}

/// Each point of `setup`'s chart sits where its total says, on the
/// chart's own scale.
fn assert_points_on_scale(html: &str) {
    let svg = regex::Regex::new(
        r#"data-max-ms="(\d+)" data-plot-top="([\d.]+)" data-plot-height="([\d.]+)""#,
    )
    .unwrap();
    let section = &html[html.find("data-drill=\"setup\"").unwrap()..];
    let scale = svg.captures(section).expect("the chart says its scale");
    let (max, top, height): (f64, f64, f64) = (
        scale[1].parse().unwrap(),
        scale[2].parse().unwrap(),
        scale[3].parse().unwrap(),
    );
    let point = regex::Regex::new(
        r#"(?s)data-total-ms="(\d+)"[^>]*>.*?<circle class="point" cx="[\d.]+" cy="([\d.]+)""#,
    )
    .unwrap();
    let points: Vec<(f64, f64)> = point
        .captures_iter(&section[..section.find("</svg>").unwrap()])
        .map(|c| (c[1].parse().unwrap(), c[2].parse().unwrap()))
        .collect();
    assert_eq!(points.len(), 7);
    for (total, cy) in points {
        let expected = top + height - total / max * height;
        assert!(
            (cy - expected).abs() < 0.11,
            "total {total}: cy {cy}, expected {expected}"
        );
    }
}

/// A screenshot of the page in headless Chromium: not blank.
fn screenshot(page: &Path) {
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("firedrill-history.png");
    let _ = std::fs::remove_file(&shot);
    let (_, console) = chromium(
        page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,1500",
        ],
        "",
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
