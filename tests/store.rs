//! The run store misses no run: a run with `--report` is stored too (not
//! with `--no-store`), simultaneous runs never overwrite one another, a
//! run still going is listed as running (never as a parse error), and a
//! disk that fills while the record is written costs nothing recorded.

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{drill_file, firedrill, read_record};
use serde_json::Value;

/// `firedrill history --json` of a store.
fn history_json(runs: &Path, drill: &str) -> Value {
    let output = firedrill()
        .args(["history", drill, "--json", "--runs-dir"])
        .arg(runs)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.is_empty(),
        "history says nothing on stderr: {stderr}"
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `firedrill history` as people see it.
fn history_text(runs: &Path, drill: &str) -> String {
    let output = firedrill()
        .args(["history", drill, "--runs-dir"])
        .arg(runs)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    String::from_utf8(output.stdout).unwrap()
}

/// The names in a directory, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Starts `firedrill run DRILL` in the background with `runs` as its store.
fn spawn(drill: &Path, runs: &Path, extra: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("firedrill"))
        .arg("run")
        .arg(drill)
        .args(extra)
        .env("FIREDRILL_RUNS_DIR", runs)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start firedrill")
}

/// Waits (up to 30 s) for a journal in `dir` with at least `lines` lines.
fn wait_for_journal(dir: &Path, lines: usize) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(
            Instant::now() < deadline,
            "no journal of {lines} lines in {}: {:?}",
            dir.display(),
            names(dir)
        );
        let found = names(dir)
            .into_iter()
            .find(|n| n.ends_with(".journal.jsonl") && !n.starts_with('.'));
        if let Some(name) = found {
            let path = dir.join(name);
            if let Ok(file) = std::fs::File::open(&path) {
                if std::io::BufReader::new(file).lines().count() >= lines {
                    return path;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn runs_with_report_are_stored_too_unless_no_store() {
    let work = tempfile::tempdir().unwrap();
    let runs = work.path().join("runs");
    let drill = drill_file(work.path(), "store/quick", &[]);
    let mut ids = Vec::new();
    for n in 1..=3 {
        let report = work.path().join(format!("out/run-{n}.json"));
        let output = firedrill()
            .env("FIREDRILL_RUNS_DIR", &runs)
            .arg("run")
            .arg(&drill)
            .arg("--report")
            .arg(&report)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{stdout}");
        let record = read_record(&report);
        let id = record["run_id"].as_str().unwrap().to_string();
        let copy = runs.join(format!("quick-{id}.json"));
        assert_eq!(
            read_record(&copy),
            record,
            "the store holds the same record"
        );
        assert!(
            stdout.contains(&format!("record: {}", report.display()))
                && stdout.contains(&format!("stored: {}", copy.display())),
            "{stdout}"
        );
        ids.push(id);
    }
    let history = history_json(&runs, "quick");
    let listed: Vec<&str> = history["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids, "history lists the three runs");

    // --no-store opts out: the record is written, the store is untouched.
    let report = work.path().join("out/private.json");
    firedrill()
        .env("FIREDRILL_RUNS_DIR", &runs)
        .arg("run")
        .arg(&drill)
        .args(["--no-store", "--report"])
        .arg(&report)
        .assert()
        .code(0);
    assert!(report.exists());
    assert_eq!(names(&runs).len(), 3, "{:?}", names(&runs));
    assert_eq!(
        history_json(&runs, "quick")["runs"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Without --report a run that is not stored would keep no record.
    let output = firedrill()
        .env("FIREDRILL_RUNS_DIR", &runs)
        .arg("run")
        .arg(&drill)
        .arg("--no-store")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--report"));
}

#[test]
fn eight_simultaneous_runs_of_one_drill_are_all_stored() {
    let work = tempfile::tempdir().unwrap();
    let runs = work.path().join("runs");
    let drill = drill_file(work.path(), "store/quick", &[]);
    // Half of them also write a report of their own.
    let children: Vec<Child> = (0..8)
        .map(|n| {
            let report = work.path().join(format!("report-{n}.json"));
            let report = report.to_str().unwrap().to_string();
            let extra: Vec<&str> = if n % 2 == 0 {
                vec!["--report", &report]
            } else {
                vec![]
            };
            spawn(&drill, &runs, &extra)
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let files = names(&runs);
    assert_eq!(files.len(), 8, "eight records, nothing else: {files:?}");
    assert!(
        files
            .iter()
            .all(|n| n.starts_with("quick-")
                && Path::new(n).extension().is_some_and(|e| e == "json"))
    );
    let history = history_json(&runs, "quick");
    let mut ids: Vec<&str> = history["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["outcome"], "passed");
            r["run_id"].as_str().unwrap()
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 8, "eight distinct runs: {ids:?}");
}

#[test]
fn a_run_still_going_is_listed_as_running_then_as_what_it_became() {
    let work = tempfile::tempdir().unwrap();
    let runs = work.path().join("runs");
    let go = work.path().join("go");
    let drill = drill_file(work.path(), "store/waits", &[("GO", go.to_str().unwrap())]);
    let child = spawn(&drill, &runs, &[]);
    let journal = wait_for_journal(&runs, 2);

    let text = history_text(&runs, "waits");
    let row = text
        .lines()
        .find(|l| l.starts_with("20"))
        .unwrap_or_else(|| panic!("the run is listed:\n{text}"));
    assert!(row.contains("running"), "{text}");
    assert!(
        !text.contains("crashed") && !text.contains("warning"),
        "{text}"
    );
    let json = history_json(&runs, "waits");
    assert_eq!(json["runs"][0]["outcome"], "running");
    assert_eq!(json["runs"][0]["steps"], 1);
    // `report` says the same, and `--resume` will not take a live journal.
    let md = firedrill()
        .args(["report", "--format", "markdown"])
        .arg(&journal)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&md.stdout).contains("⏳ firedrill · waits: running"));
    firedrill()
        .env("FIREDRILL_RUNS_DIR", &runs)
        .arg("run")
        .arg(&drill)
        .arg("--resume")
        .arg(&journal)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("still going"));

    std::fs::write(&go, "").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let json = history_json(&runs, "waits");
    assert_eq!(json["runs"].as_array().unwrap().len(), 1);
    assert_eq!(json["runs"][0]["outcome"], "passed");
}

#[test]
fn a_journal_with_a_torn_last_line_reads_as_running_while_locked() {
    let runs = tempfile::tempdir().unwrap();
    let journal = runs.path().join("torn-20260301-100000-0001.journal.jsonl");
    std::fs::write(
        &journal,
        concat!(
            r#"{"type":"run","schema":1,"drill":"torn","run_id":"20260301-100000-0001","started_at":"2026-03-01T10:00:00.000Z"}"#,
            "\n",
            r#"{"type":"step","name":"A","kind":"exec","phase":"steps","outcome":"passed","started_at":"2026-03-01T10:00:00.100Z","duration_ms":50,"human_ms":0,"attempts":1,"budget_ms":null,"over_budget":false,"owner":null,"intervention":null,"error":null}"#,
            "\n{\"type\":\"step\",\"name\":\"B\",\"ki"
        ),
    )
    .unwrap();
    // A writer that holds the journal, as a live run does.
    let mut writer = Command::new("flock")
        .args(["--exclusive", "--no-fork"])
        .arg(&journal)
        .args(["sleep", "60"])
        .spawn()
        .expect("flock(1) from util-linux");
    let deadline = Instant::now() + Duration::from_secs(10);
    while history_json(runs.path(), "torn")["runs"][0]["outcome"] != "running" {
        assert!(
            Instant::now() < deadline,
            "the locked journal never read as running"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = history_text(runs.path(), "torn");
    assert!(
        !text.contains("warning") && !text.contains("error"),
        "{text}"
    );
    assert!(text.starts_with("torn · last 1 run"), "{text}");
    writer.kill().unwrap();
    writer.wait().unwrap();
    let text = history_text(runs.path(), "torn");
    assert!(text.contains("crashed (incomplete)"), "{text}");
}

#[test]
fn history_read_over_and_over_while_runs_write_never_fails() {
    let work = tempfile::tempdir().unwrap();
    let runs = work.path().join("runs");
    let drill = drill_file(work.path(), "store/long", &[]);
    let children: Vec<Child> = (0..2).map(|_| spawn(&drill, &runs, &[])).collect();
    let mut seen_running = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let json = history_json(&runs, "long");
        assert_eq!(json["problems"], serde_json::json!([]), "{json:#}");
        let outcomes: Vec<&str> = json["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["outcome"].as_str().unwrap())
            .collect();
        assert!(
            outcomes.iter().all(|o| ["running", "passed"].contains(o)),
            "{outcomes:?}"
        );
        seen_running |= outcomes.contains(&"running");
        if outcomes == ["passed", "passed"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the runs never finished: {outcomes:?}"
        );
    }
    assert!(seen_running, "history saw the runs while they went");
    for child in children {
        assert_eq!(child.wait_with_output().unwrap().status.code(), Some(0));
    }
}

/// A small tmpfs mounted in a temporary directory, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .expect("run mount(8)");
        assert!(
            output.status.success(),
            "this test needs to mount a small tmpfs (run it as root, or where mounting is allowed): {}",
            String::from_utf8_lossy(&output.stderr)
        );
        SmallDisk { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the disk, leaving exactly one page free.
    fn fill_but_one_page(&self) {
        let pad = self.path().join("pad");
        std::fs::write(&pad, vec![0u8; 4096]).unwrap();
        let _ = Command::new("dd")
            .arg("if=/dev/zero")
            .arg(format!("of={}", self.path().join("filler").display()))
            .arg("bs=4096")
            .stderr(Stdio::null())
            .status()
            .unwrap();
        std::fs::remove_file(pad).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_disk_that_fills_while_the_record_is_written_loses_nothing_recorded() {
    let disk = SmallDisk::mount("1m");
    let runs = disk.path().join("runs");
    let work = tempfile::tempdir().unwrap();
    let go = work.path().join("go");
    let drill = drill_file(
        work.path(),
        "store/filling",
        &[("GO", go.to_str().unwrap())],
    );
    let child = spawn(&drill, &runs, &[]);
    // Twenty steps are in the journal; the last one waits.
    let journal = wait_for_journal(&runs, 21);
    disk.fill_but_one_page();
    std::fs::write(&go, "").unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "one clear error: {stderr}");
    assert!(
        errors[0].starts_with("error: cannot write the run record")
            && errors[0].contains("No space left on device")
            && errors[0].contains(&format!("firedrill report {}", journal.display())),
        "{stderr}"
    );
    assert_eq!(
        names(&runs),
        [journal.file_name().unwrap().to_string_lossy()],
        "the journal stays, no half record or temporary file"
    );

    // The journal holds every step, the last included.
    let text = firedrill()
        .args(["report", "--format", "json"])
        .arg(&journal)
        .output()
        .unwrap();
    let record: Value = serde_json::from_slice(&text.stdout).unwrap();
    assert_eq!(record["outcome"], "crashed");
    assert_eq!(record["steps"].as_array().unwrap().len(), 21);
    assert_eq!(record["steps"][20]["name"], "Wait for the disk to fill");
    let json = history_json(&runs, "filling");
    assert_eq!(json["runs"][0]["outcome"], "crashed");

    // With room again, --resume continues from it.
    std::fs::remove_file(disk.path().join("filler")).unwrap();
    let output = firedrill()
        .env("FIREDRILL_RUNS_DIR", &runs)
        .arg("run")
        .arg(&drill)
        .arg("--resume")
        .arg(&journal)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let json = history_json(&runs, "filling");
    assert_eq!(json["runs"].as_array().unwrap().len(), 2);
    assert_eq!(json["runs"][1]["outcome"], "passed");
}
