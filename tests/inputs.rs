//! Values per environment: `--vars FILE`, `--env-file FILE` and `--var`,
//! through the real binary against the real demo-app.

mod common;

use std::path::{Path, PathBuf};

use common::{DemoApp, drill_file, firedrill, only_record, read_record, step};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn vars_and_env_files_fill_a_run_and_later_values_win() {
    let app = DemoApp::start();
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let drill = drill_file(dir.path(), "inputs/per-env", &[]);
    let staging = write(
        dir.path(),
        "staging.yaml",
        "tenant: staging\nplan: pro\nregion_expected: eu-west-1\n",
    );
    let overrides = write(dir.path(), "override.json", r#"{"plan": "enterprise"}"#);
    let base = write(
        dir.path(),
        "base.env",
        &format!("PER_ENV_REGION=us-east-1\nPER_ENV_TOKEN='{}'\n", app.token),
    );
    let region = write(
        dir.path(),
        "region.env",
        "export PER_ENV_REGION=eu-west-1\n",
    );
    let output = app
        .firedrill(&runs)
        .arg("run")
        .arg(&drill)
        .args(["--vars"])
        .arg(&staging)
        .args(["--vars"])
        .arg(&overrides)
        .args(["--var", "tenant=cli"])
        .args(["--env-file"])
        .arg(&base)
        .args(["--env-file"])
        .arg(&region)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let record = read_record(&only_record(&runs));
    // The drill expects the tenant demo-app made to carry the values that
    // won (plan `enterprise`, a name from `--var tenant=cli`), and the
    // region of the later env file.
    for name in [
        "Create tenant",
        "Region from the env file",
        "Unless the step passes it on",
    ] {
        assert_eq!(step(&record, name)["outcome"], "passed", "{record:#}");
    }
}

#[test]
fn a_secret_from_an_env_file_is_masked_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let drill = drill_file(dir.path(), "inputs/leak", &[]);
    let token = "leak-me-not-4242";
    let env = write(dir.path(), "secret.env", &format!("LEAK_TOKEN={token}\n"));
    let output = firedrill()
        .env("FIREDRILL_RUNS_DIR", &runs)
        .env("RUST_LOG", "firedrill=debug")
        .arg("run")
        .arg(&drill)
        .arg("--env-file")
        .arg(&env)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    let raw = std::fs::read_to_string(only_record(&runs)).unwrap();
    assert!(
        raw.contains("token=***"),
        "the program's output is in the record: {raw}"
    );
    for text in [&*stdout, &*stderr, &*raw] {
        assert!(!text.contains(token), "the token leaked:\n{text}");
    }
}

#[test]
fn the_environment_wins_over_env_files_and_plan_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "inputs/per-env", &[]);
    let env = write(
        dir.path(),
        "a.env",
        "PER_ENV_REGION=eu-west-1\nPER_ENV_TOKEN=a-long-enough-token\nTARGET_URL=http://127.0.0.1:9\n",
    );
    let vars = write(dir.path(), "v.yaml", "region_expected: eu-west-1\n");
    let plan = |extra_env: &[(&str, &str)]| {
        let mut cmd = firedrill();
        cmd.env_remove("TARGET_URL").env_remove("PER_ENV_REGION");
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let output = cmd
            .arg("plan")
            .arg(&drill)
            .arg("--vars")
            .arg(&vars)
            .arg("--env-file")
            .arg(&env)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let from_file = plan(&[]);
    assert!(from_file.contains("region=eu-west-1"), "{from_file}");
    assert!(from_file.contains("http://127.0.0.1:9"), "{from_file}");
    assert!(!from_file.contains("a-long-enough-token"), "{from_file}");
    let overridden = plan(&[("PER_ENV_REGION", "ap-south-1")]);
    assert!(overridden.contains("region=ap-south-1"), "{overridden}");
}

#[test]
fn check_counts_names_from_vars_files_as_defined() {
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "inputs/per-env", &[]);
    let without = firedrill().arg("check").arg(&drill).output().unwrap();
    assert_eq!(without.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&without.stderr);
    assert!(
        stderr.contains("`region_expected` is not defined"),
        "{stderr}"
    );

    let vars = write(dir.path(), "v.yaml", "region_expected: eu-west-1\n");
    let with = firedrill()
        .arg("check")
        .arg(&drill)
        .arg("--vars")
        .arg(&vars)
        .output()
        .unwrap();
    assert_eq!(with.status.code(), Some(0), "{with:?}");
}

#[test]
fn bad_vars_and_env_files_are_located_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "inputs/per-env", &[]);
    let cases = [
        ("--vars", "list.yaml", "- a\n- b\n", "list.yaml:1:1"),
        ("--vars", "dup.yaml", "a: 1\na: 2\n", "dup.yaml:2:1"),
        (
            "--vars",
            "name.yaml",
            "ok: 1\nrun: 2\n",
            "`run` cannot be a var name",
        ),
        (
            "--env-file",
            "bad.env",
            "GOOD=1\nnot dotenv at all\n",
            "bad.env:2:",
        ),
    ];
    for (flag, name, text, expected) in cases {
        let path = write(dir.path(), name, text);
        let output = firedrill()
            .arg("check")
            .arg(&drill)
            .arg(flag)
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{name}: expected {expected} in\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let missing = firedrill()
        .arg("check")
        .arg(&drill)
        .args(["--env-file", "/nonexistent/prod.env"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("cannot read the env file"), "{stderr}");
    assert!(stderr.contains("/nonexistent/prod.env"), "{stderr}");
}

#[test]
fn an_undefined_name_suggests_the_closest_defined_one() {
    let dir = tempfile::tempdir().unwrap();
    let drill = drill_file(dir.path(), "inputs/typo", &[]);
    let output = firedrill().arg("check").arg(&drill).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("typo.yaml:8:"), "{stderr}");
    assert!(stderr.contains("`tdi` is not defined"), "{stderr}");
    assert!(stderr.contains("did you mean `tid`?"), "{stderr}");
}
