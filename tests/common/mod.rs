//! Shared test support: the real demo-app on loopback, and the real
//! firedrill binary pointed at it.
#![allow(dead_code)]

pub(crate) mod harness;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The demo-app binary, built by `cargo test --workspace` beside firedrill.
pub(crate) fn demo_app_bin() -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_firedrill")).with_file_name("demo-app");
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo test --workspace`, which builds demo-app",
        path.display()
    );
    path
}

/// A running demo-app with its own data directory, stopped on drop.
pub(crate) struct DemoApp {
    child: Child,
    pub url: String,
    pub token: String,
    pub data: tempfile::TempDir,
}

impl DemoApp {
    pub(crate) fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts demo-app on a free loopback port with extra environment
    /// (fault knobs).
    pub(crate) fn start_with(env: &[(&str, &str)]) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let token = format!("tok-{}-{}", std::process::id(), rand_suffix());
        let mut child = Command::new(demo_app_bin())
            .args(["--listen", "127.0.0.1:0", "--data"])
            .arg(data.path())
            .env("DEMO_ADMIN_TOKEN", &token)
            .env("DEMO_BACKUP_DELAY_MS", "200")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start demo-app");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("demo-app printed its address within 20s");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from demo-app: {line:?}"))
            .to_string();
        DemoApp {
            child,
            url,
            token,
            data,
        }
    }

    fn client() -> reqwest::blocking::Client {
        reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client")
    }

    /// GET with the admin token: (status, JSON body or null).
    pub(crate) fn get(&self, path: &str) -> (u16, Value) {
        let response = Self::client()
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .expect("GET demo-app");
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    /// POST JSON with the admin token.
    #[allow(clippy::needless_pass_by_value)] // callers build the body in the call
    pub(crate) fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = Self::client()
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .expect("POST demo-app");
        let status = response.status().as_u16();
        (status, response.json().unwrap_or(Value::Null))
    }

    /// What demo-app has seen: `{total, by_endpoint, max_in_flight, …}`.
    pub(crate) fn stats(&self) -> Value {
        self.get("/admin/stats").1
    }

    /// firedrill, pointed at this demo-app through the drills' env vars.
    pub(crate) fn firedrill(&self, runs: &Path) -> assert_cmd::Command {
        let mut cmd = firedrill();
        cmd.env("TARGET_URL", &self.url)
            .env("DEMO_ADMIN_TOKEN", &self.token)
            .env("FIREDRILL_RUNS_DIR", runs);
        cmd
    }

    /// Starts `firedrill run DRILL --report REPORT EXTRA…` against this
    /// demo-app in the background, its output discarded.
    pub(crate) fn spawn_run(
        &self,
        drill: &Path,
        report: &Path,
        extra: &[&str],
    ) -> std::process::Child {
        Command::new(assert_cmd::cargo::cargo_bin("firedrill"))
            .arg("run")
            .arg(drill)
            .arg("--report")
            .arg(report)
            .args(extra)
            .env("TARGET_URL", &self.url)
            .env("DEMO_ADMIN_TOKEN", &self.token)
            .env("FIREDRILL_RUNS_DIR", shared_runs_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start firedrill")
    }

    /// Waits (up to 20 s) until this demo-app has `n` requests in flight.
    pub(crate) fn wait_in_flight(&self, n: u64) {
        self.wait_for_stats(&format!("{n} requests in flight"), |stats| {
            stats["in_flight"].as_u64().unwrap_or(0) >= n
        });
    }

    /// Waits (up to 20 s) until `endpoint` (a name from demo-app's stats,
    /// e.g. `list_users`) has been called at least once: the step that
    /// calls it has started, so every step before it has finished.
    pub(crate) fn wait_called(&self, endpoint: &str) {
        self.wait_for_stats(&format!("a call to {endpoint}"), |stats| {
            stats["by_endpoint"][endpoint].as_u64().unwrap_or(0) >= 1
        });
    }

    fn wait_for_stats(&self, what: &str, reached: impl Fn(&Value) -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !reached(&self.stats()) {
            assert!(
                std::time::Instant::now() < deadline,
                "demo-app never saw {what}"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for DemoApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a signal (`INT`, `TERM`, `KILL`) to a child process.
pub(crate) fn send_signal(child: &std::process::Child, name: &str) {
    Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill");
}

/// The firedrill binary with a clean environment for its knobs. Its run
/// store is [`shared_runs_dir`] unless the test names one: a run with
/// `--report` keeps a copy there, never in the checkout.
pub(crate) fn firedrill() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("firedrill").expect("firedrill binary");
    cmd.env_remove("RUST_LOG")
        .env_remove("TARGET_URL")
        // Tests that want CI integrations set these themselves.
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_WORKSPACE")
        .env_remove("FIREDRILL_PUSHGATEWAY")
        .env_remove("FIREDRILL_METRICS_JOB")
        .env("FIREDRILL_OPERATOR", "tester")
        .env("FIREDRILL_RUNS_DIR", shared_runs_dir())
        .timeout(Duration::from_secs(120));
    cmd
}

/// The run store of tests that do not look at theirs, under cargo's
/// temporary directory for integration tests.
pub(crate) fn shared_runs_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("runs")
}

/// Writes a drill into `dir` and returns its path.
pub(crate) fn write_drill(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write drill");
    path
}

/// Copies the drill `tests/drills/NAME.yaml` (NAME is `<test-file>/<drill>`)
/// into `dir` as `<drill>.yaml`, each `@KEY@` in it replaced by its value
/// from `vars`, and returns the copy's path. Every key must appear in the
/// file, and no `@KEY@` may be left: a typo fails here, not in the drill.
pub(crate) fn drill_file(dir: &Path, name: &str, vars: &[(&str, &str)]) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/drills")
        .join(format!("{name}.yaml"));
    let mut text = std::fs::read_to_string(&source)
        .unwrap_or_else(|err| panic!("cannot read drill {}: {err}", source.display()));
    for (key, value) in vars {
        let placeholder = format!("@{key}@");
        assert!(
            text.contains(&placeholder),
            "{} has no {placeholder}",
            source.display()
        );
        text = text.replace(&placeholder, value);
    }
    let left = regex::Regex::new("@[A-Z][A-Z0-9_]*@").expect("regex");
    if let Some(found) = left.find(&text) {
        panic!(
            "{} still has {} after its vars were put in",
            source.display(),
            found.as_str()
        );
    }
    let file_name = format!(
        "{}.yaml",
        Path::new(name)
            .file_name()
            .expect("a drill name")
            .to_string_lossy()
    );
    write_drill(dir, &file_name, &text)
}

/// The path of a drill shipped in `drills/`.
pub(crate) fn shipped_drill(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("drills")
        .join(name)
}

/// Reads a run record.
pub(crate) fn read_record(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("cannot read record {}: {err}", path.display()));
    serde_json::from_str(&text).expect("record is JSON")
}

/// The one record file in a runs directory.
pub(crate) fn only_record(runs: &Path) -> PathBuf {
    let records: Vec<PathBuf> = std::fs::read_dir(runs)
        .expect("runs dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(
        records.len(),
        1,
        "expected one record in {}: {records:?}",
        runs.display()
    );
    records.into_iter().next().unwrap_or_default()
}

/// The step of a record with this name.
pub(crate) fn step<'a>(record: &'a Value, name: &str) -> &'a Value {
    record["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no step {name:?} in {record:#}"))
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(u64::from(std::process::id()));
    h.finish() % 1_000_000
}

/// A drill header pointing at demo-app through `TARGET_URL` and the token.
pub(crate) const HEADER: &str = r#"
target:
  base_url: ${env.TARGET_URL}
  headers: { Authorization: "Bearer ${secret.TOKEN}" }
secrets:
  TOKEN: { env: DEMO_ADMIN_TOKEN }
"#;

/// Compares with `tests/snapshots/NAME`; `UPDATE_SNAPSHOTS=1` rewrites it.
pub(crate) fn snapshot(name: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        // In CI a snapshot is checked, never rewritten: a run that rewrote
        // them would pass whatever the output became.
        assert!(
            std::env::var_os("CI").is_none(),
            "UPDATE_SNAPSHOTS is set in CI: snapshots are only updated by hand, and reviewed"
        );
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}: run with UPDATE_SNAPSHOTS=1 and review it",
            path.display()
        )
    });
    if actual != expected {
        let line = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or_else(|| actual.lines().count().min(expected.lines().count()));
        panic!(
            "{name} differs from its snapshot at line {}:\n  now:      {:?}\n  snapshot: {:?}\n\
             (if the change is intended, rerun with UPDATE_SNAPSHOTS=1 and review the diff)\n\nnow:\n{actual}",
            line + 1,
            actual.lines().nth(line),
            expected.lines().nth(line)
        );
    }
}

/// Builds demo-app:1 and demo-app:2 once per test binary, offline, with
/// firedrill's own build action (drills/build-images.yaml).
pub(crate) fn build_demo_images() {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let output = firedrill()
            .timeout(Duration::from_secs(1500))
            .env("FIREDRILL_RUNS_DIR", dir.path())
            .arg("run")
            .arg(shipped_drill("build-images.yaml"))
            .arg("--report")
            .arg(dir.path().join("build.json"))
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "building the demo-app images failed:\n{}",
            String::from_utf8_lossy(&output.stdout)
        );
    });
}

/// A loopback port that was free a moment ago.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `firedrill run DRILL --report REPORT` with `cmd` (its environment
/// already set): the exit code, stdout and the record.
pub(crate) fn run_to_record(
    mut cmd: assert_cmd::Command,
    drill: &Path,
    report: &Path,
) -> (i32, String, Value) {
    let output = cmd
        .arg("run")
        .arg(drill)
        .arg("--report")
        .arg(report)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (
        output.status.code().unwrap_or(-1),
        stdout,
        read_record(report),
    )
}

/// Headless Chromium on a page: its DOM after the script ran, and the
/// console messages it logged. Fails (never skips) without Chromium.
pub(crate) fn chromium(page: &Path, extra: &[&str], fragment: &str) -> (String, Vec<String>) {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}{fragment}", page.display());
    let output = assert_cmd::Command::new("chromium")
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(&url)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap_or_else(|err| {
            panic!("cannot run chromium ({err}): install it with scripts/ensure-chromium")
        });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "chromium failed on {url}:\n{stderr}"
    );
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .map(str::to_string)
        .collect();
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        console,
    )
}

/// Nothing in the page may reach the network: no external resources.
pub(crate) fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for pattern in [
        " src=",
        " href=",
        "<link",
        "@import",
        "url(",
        "fetch(",
        "xmlhttprequest",
        "<iframe",
    ] {
        assert!(!lower.contains(pattern), "the page uses {pattern:?}");
    }
}

/// The exit code of `child` once it exits; kills it and fails the test when
/// it is still running after `within`.
pub(crate) fn wait_exit(child: &mut Child, within: Duration) -> i32 {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("firedrill did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
