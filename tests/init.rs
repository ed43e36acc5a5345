//! `firedrill init`: every template passes `check` and really runs as
//! written — the HTTP and new-engineer ones against demo-app, the Docker
//! one on the engine, the Swarm one on the swarm — and init never writes
//! over a file.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{DemoApp, firedrill, step};
use serde_json::Value;

const TEMPLATES: &[&str] = &["http", "docker", "swarm", "new-engineer"];

/// `firedrill init ARGS…` in `dir`: exit code, stdout, stderr.
fn init(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = firedrill()
        .current_dir(dir)
        .arg("init")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Writes the template as `NAME.yaml` in `dir` and returns its path.
fn starter(dir: &Path, name: &str, template: &str) -> PathBuf {
    let (code, stdout, stderr) = init(dir, &[name, "--template", template]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains(&format!("wrote {name}.yaml")), "{stdout}");
    dir.join(format!("{name}.yaml"))
}

/// Every step of the record passed (or, manual, was done).
fn assert_all_passed(record: &Value, stdout: &str) {
    for step in record["steps"].as_array().unwrap() {
        let outcome = step["outcome"].as_str().unwrap();
        assert!(
            outcome == "passed" || outcome == "manual_done",
            "{} ended {outcome}: {}\n{stdout}",
            step["name"],
            step["error"]
        );
    }
}

#[test]
fn every_template_passes_check() {
    let dir = tempfile::tempdir().unwrap();
    for template in TEMPLATES {
        let name = format!("starter-{template}");
        let drill = starter(dir.path(), &name, template);
        let text = std::fs::read_to_string(&drill).unwrap();
        assert!(text.contains(&format!("drill: {name}\n")), "{text}");
        assert!(!text.contains("__"), "a placeholder is left:\n{text}");
        let output = firedrill()
            .env("DEMO_ADMIN_TOKEN", "t")
            .arg("check")
            .arg(&drill)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{template}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn the_http_template_runs_against_demo_app() {
    let app = DemoApp::start();
    let dir = tempfile::tempdir().unwrap();
    let drill = starter(dir.path(), "smoke", "http");
    let report = dir.path().join("smoke.json");
    let (code, stdout, record) = common::run_to_record(app.firedrill(dir.path()), &drill, &report);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(record["drill"], "smoke");
    assert_all_passed(&record, &stdout);
    assert_eq!(step(&record, "Delete tenant")["phase"], "cleanup");
    assert_eq!(app.get("/tenants").1.as_array().map(Vec::len), Some(0));
}

#[test]
fn the_new_engineer_template_runs_with_its_answers_file() {
    let app = DemoApp::start();
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = init(dir.path(), &["onboarding", "-t", "new-engineer"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("wrote onboarding.answers.yaml"), "{stdout}");
    let drill = dir.path().join("onboarding.yaml");
    let answers = dir.path().join("onboarding.answers.yaml");
    let text = std::fs::read_to_string(&drill).unwrap();
    assert!(text.contains("--answers onboarding.answers.yaml"), "{text}");
    assert!(text.contains("manual:"), "{text}");
    let run = |report: &Path, strict: bool| {
        let mut cmd = app.firedrill(dir.path());
        cmd.arg("run")
            .arg(&drill)
            .arg("--report")
            .arg(report)
            .arg("--answers")
            .arg(&answers);
        if strict {
            cmd.arg("--strict");
        }
        let output = cmd.output().unwrap();
        (
            output.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let report = dir.path().join("onboarding.json");
    let (code, stdout) = run(&report, false);
    assert_eq!(code, 0, "{stdout}");
    let record = common::read_record(&report);
    assert_all_passed(&record, &stdout);
    let helped = step(&record, "Record the backup in the ticket");
    assert_eq!(helped["intervention"]["needed_help"], true);
    assert_eq!(helped["intervention"]["helped_by"], "dana");
    // With --strict, the help the answers file says was needed fails the run.
    let (code, stdout) = run(&dir.path().join("strict.json"), true);
    assert_eq!(code, 1, "{stdout}");
}

#[test]
fn the_docker_template_runs_on_the_engine() {
    common::build_demo_images();
    let dir = tempfile::tempdir().unwrap();
    let drill = starter(dir.path(), "in-a-container", "docker");
    let report = dir.path().join("docker.json");
    let mut cmd = firedrill();
    cmd.env("FIREDRILL_RUNS_DIR", dir.path())
        .env("DEMO_ADMIN_TOKEN", "init-docker-token")
        .env("DEMO_PORT", common::free_port().to_string())
        .env("TMPDIR", dir.path());
    let (code, stdout, record) = common::run_to_record(cmd, &drill, &report);
    assert_eq!(code, 0, "{stdout}");
    assert_all_passed(&record, &stdout);
    let run_id = record["run_id"].as_str().unwrap();
    let left = Command::new("docker")
        .args(["ps", "-aq", "--filter"])
        .arg(format!("label=firedrill.run={run_id}"))
        .output()
        .unwrap();
    assert!(left.stdout.is_empty(), "containers left behind");
}

#[test]
fn the_swarm_template_runs_on_the_swarm() {
    let info = Command::new("docker")
        .args([
            "info",
            "--format",
            "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}",
        ])
        .output()
        .expect("the docker CLI");
    assert_eq!(
        String::from_utf8_lossy(&info.stdout).trim(),
        "active true",
        "this test needs the engine to be a swarm manager: run scripts/ensure-swarm"
    );
    common::build_demo_images();
    let dir = tempfile::tempdir().unwrap();
    let drill = starter(dir.path(), "as-a-service", "swarm");
    let report = dir.path().join("swarm.json");
    let mut cmd = firedrill();
    cmd.env("FIREDRILL_RUNS_DIR", dir.path())
        .env("DEMO_ADMIN_TOKEN", "init-swarm-token")
        .env("SWARM_PORT", common::free_port().to_string());
    let (code, stdout, record) = common::run_to_record(cmd, &drill, &report);
    assert_eq!(code, 0, "{stdout}");
    assert_all_passed(&record, &stdout);
    let run_id = record["run_id"].as_str().unwrap();
    let left = Command::new("docker")
        .args(["service", "ls", "-q", "--filter"])
        .arg(format!("label=firedrill.run={run_id}"))
        .output()
        .unwrap();
    assert!(left.stdout.is_empty(), "services left behind");
}

#[test]
fn init_never_writes_over_a_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mine.yaml"), "keep me").unwrap();
    let (code, _, stderr) = init(dir.path(), &["mine"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("mine.yaml exists"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mine.yaml")).unwrap(),
        "keep me"
    );
    // The answers file of new-engineer counts too, and then nothing is written.
    std::fs::write(dir.path().join("newbie.answers.yaml"), "keep me").unwrap();
    let (code, _, stderr) = init(dir.path(), &["newbie", "--template", "new-engineer"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("newbie.answers.yaml exists"), "{stderr}");
    assert!(!dir.path().join("newbie.yaml").exists());
}

#[test]
fn init_takes_a_file_name_or_a_drill_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("drills")).unwrap();
    let (code, stdout, stderr) = init(dir.path(), &["drills/release.yml"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("drills/release.yml"), "{stdout}");
    let text = std::fs::read_to_string(dir.path().join("drills/release.yml")).unwrap();
    assert!(text.contains("drill: release\n"));
    let (code, _, _) = init(dir.path(), &[]);
    assert_eq!(code, 0);
    assert!(dir.path().join("my-drill.yaml").exists());
    let (code, _, stderr) = init(dir.path(), &["two words"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a drill name"), "{stderr}");
}

#[test]
fn init_is_in_the_help_and_the_readme() {
    let output = firedrill().args(["init", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for template in TEMPLATES {
        assert!(
            help.contains(template),
            "`init --help` lacks {template}:\n{help}"
        );
    }
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let at = readme
        .find("### Starting a drill")
        .expect("the README's Starting a drill");
    let section = &readme[at..];
    for words in [
        "firedrill init",
        "--template",
        "new-engineer",
        "answers",
        "exists",
    ] {
        assert!(
            section[..section.len().min(3000)].contains(words),
            "the README's init section lacks {words}"
        );
    }
}
