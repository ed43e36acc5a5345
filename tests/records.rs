//! A run never overwrites what another run left behind: `--report PATH`
//! refuses an existing file (another run's record, or anything else) and
//! an unfinished run's journal unless `--force` is given, and reports are
//! never written over a run record.

mod common;

use std::path::Path;

use common::{firedrill, read_record, write_drill};

const DRILL: &str = "drill: records\nsteps:\n  - sleep: 1ms\n";

fn run(drill: &Path, report: &Path, extra: &[&str]) -> (i32, String) {
    let output = firedrill()
        .arg("run")
        .arg(drill)
        .arg("--report")
        .arg(report)
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn report_refuses_another_runs_record_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(dir.path(), "drill.yaml", DRILL);
    let report = dir.path().join("record.json");
    let (code, stderr) = run(&drill, &report, &[]);
    assert_eq!(code, 0, "{stderr}");
    let first = std::fs::read_to_string(&report).unwrap();
    let first_id = read_record(&report)["run_id"].clone();

    let (code, stderr) = run(&drill, &report, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "is the record of another run (run {} of drill `records`",
            first_id.as_str().unwrap()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("pass --force"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&report).unwrap(), first);
    assert!(!dir.path().join("record.journal.jsonl").exists());

    let (code, stderr) = run(&drill, &report, &["--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert_ne!(read_record(&report)["run_id"], first_id);
}

#[test]
fn report_refuses_a_file_that_is_not_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(dir.path(), "drill.yaml", DRILL);
    // A slip of the keyboard: the drill itself as the record.
    let (code, stderr) = run(&drill, &drill, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("already exists and is not a run record"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&drill).unwrap(), DRILL);

    let (code, stderr) = run(&drill, dir.path(), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is a directory"), "{stderr}");
}

#[test]
fn report_refuses_to_clobber_an_unfinished_runs_journal() {
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(dir.path(), "drill.yaml", DRILL);
    let report = dir.path().join("crashed.json");
    let journal = dir.path().join("crashed.journal.jsonl");
    let text = "{\"type\":\"run\",\"schema\":1,\"drill\":\"records\",\"run_id\":\"20260101-000000-dead\",\"started_at\":\"2026-01-01T00:00:00.000Z\"}\n";
    std::fs::write(&journal, text).unwrap();
    let (code, stderr) = run(&drill, &report, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("is the journal of a run that did not finish (run 20260101-000000-dead"),
        "{stderr}"
    );
    assert!(stderr.contains("firedrill report"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&journal).unwrap(), text);
    assert!(!report.exists());
}

#[test]
fn reports_are_never_written_over_a_run_record() {
    let dir = tempfile::tempdir().unwrap();
    let drill = write_drill(dir.path(), "drill.yaml", DRILL);
    let record = dir.path().join("record.json");
    let (code, stderr) = run(&drill, &record, &[]);
    assert_eq!(code, 0, "{stderr}");
    let before = std::fs::read_to_string(&record).unwrap();

    let output = firedrill()
        .args(["report", "--format", "html", "-o"])
        .arg(&record)
        .arg(&record)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("a report is never written over a run record"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&record).unwrap(), before);

    // A second run whose JUnit file would land on the first run's record.
    let second = dir.path().join("second.json");
    let (code, stderr) = run(&drill, &second, &["--junit", record.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("a report is never written over a run record"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&record).unwrap(), before);
    assert!(second.exists());
}
