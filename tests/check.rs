//! `firedrill check` and `firedrill plan`: located errors for malformed
//! drills, and nothing sent to the target.

mod common;

use std::path::Path;

use common::{DemoApp, firedrill, shipped_drill};
use predicates::prelude::*;

/// Each file in tests/malformed says on its first line (or in a
/// `.expect` file beside it) where its error is and what it says:
/// `# error: LINE:COL words of the message`.
#[test]
fn every_malformed_drill_gets_a_located_error_and_exit_2() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "the corpus has {} drills", files.len());
    for file in files {
        let sidecar = file.with_extension(format!(
            "{}.expect",
            file.extension().unwrap().to_string_lossy()
        ));
        let expectation = if sidecar.exists() {
            std::fs::read_to_string(&sidecar).unwrap()
        } else {
            let text = std::fs::read_to_string(&file).unwrap();
            text.lines()
                .next()
                .and_then(|l| l.strip_prefix("# error: "))
                .unwrap_or_else(|| panic!("{} has no `# error:` line", file.display()))
                .to_string()
        };
        let (position, words) = expectation.trim().split_once(' ').unwrap();
        let output = firedrill().arg("check").arg(&file).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let name = file.file_name().unwrap().to_string_lossy();
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name} panicked: {stderr}");
        let located = format!("{name}:{position}: ");
        let first = stderr
            .lines()
            .find(|l| l.contains(" × ") || l.contains("×"))
            .unwrap_or("");
        assert!(
            first.contains(&located) && first.contains(words),
            "{name}: expected `{located}…{words}` in the first error, got:\n{stderr}"
        );
        // The source line is shown with a caret under the spot.
        assert!(
            stderr.contains(&format!("[{}:{position}]", file.display())),
            "{name}: {stderr}"
        );
        assert!(
            stderr.contains("help:") || !words.contains("unknown field"),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn unknown_fields_suggest_what_was_meant() {
    let output = firedrill()
        .arg("check")
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/malformed/01-unknown-step-field.yaml"),
        )
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("did you mean `http`?"));
}

#[test]
fn check_and_plan_send_nothing_to_the_target() {
    let app = DemoApp::start();
    let runs = tempfile::tempdir().unwrap();
    for drill in ["quickstart.yaml", "fresh-environment.yaml"] {
        app.firedrill(runs.path())
            .arg("check")
            .arg(shipped_drill(drill))
            .assert()
            .code(0)
            .stdout(predicate::str::contains(": ok ("));
        app.firedrill(runs.path())
            .arg("plan")
            .arg(shipped_drill(drill))
            .assert()
            .code(0);
    }
    assert_eq!(
        app.stats()["total"],
        0,
        "demo-app saw requests: {}",
        app.stats()
    );
    assert_eq!(
        std::fs::read_dir(runs.path()).unwrap().count(),
        0,
        "no record written"
    );
}

#[test]
fn plan_resolves_what_it_can_and_masks_secrets() {
    let app = DemoApp::start();
    let runs = tempfile::tempdir().unwrap();
    let output = app
        .firedrill(runs.path())
        .arg("plan")
        .arg(shipped_drill("quickstart.yaml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(&format!("target: {}", app.url)), "{stdout}");
    assert!(
        stdout.contains(&format!("POST {}/tenants", app.url)),
        "{stdout}"
    );
    assert!(
        stdout.contains("${tenant_id}"),
        "captures stay symbolic: {stdout}"
    );
    assert!(stdout.contains("capture: backup_id ← $.id"), "{stdout}");
    assert!(!stdout.contains(&app.token), "{stdout}");
}

#[test]
fn var_flags_define_names_for_check() {
    let dir = tempfile::tempdir().unwrap();
    let drill = common::write_drill(
        dir.path(),
        "vars.yaml",
        "drill: v\nsteps:\n  - exec: { argv: [echo, \"${who}\"] }\n",
    );
    firedrill().arg("check").arg(&drill).assert().code(2);
    firedrill()
        .args(["check", "--var", "who=me"])
        .arg(&drill)
        .assert()
        .code(0);
    firedrill()
        .args(["run", "--var", "who=me", "--report"])
        .arg(dir.path().join("r.json"))
        .arg(&drill)
        .assert()
        .code(0);
}

#[test]
fn usage_errors_exit_2() {
    firedrill().arg("run").assert().code(2);
    firedrill()
        .args(["check", "/nonexistent/drill.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read the drill"));
}
