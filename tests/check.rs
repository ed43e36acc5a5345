//! `firedrill check` and `firedrill plan`: located errors for malformed
//! drills, and nothing sent to the target.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{DemoApp, firedrill, shipped_drill};
use predicates::prelude::*;

/// Each bad drill is refused within this much wall time (debug build).
const FAST: Duration = Duration::from_secs(2);

/// And with at most this much resident memory: `check` of a small drill
/// takes about 20 MiB; an alias bomb left unbounded takes gigabytes.
const MAX_RSS_KIB: u64 = 96 * 1024;

/// A finished `firedrill` run with its peak memory.
struct Measured {
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
    max_rss_kib: u64,
}

/// Runs `firedrill ARGS…` and measures its wall time and peak resident set
/// size.
///
/// `wait4` on a child of this (large, multi-threaded) test process would
/// count the process's own peak, which the child inherits until its `exec`.
/// GNU time is a small process of its own: it starts firedrill and reports
/// firedrill's peak alone (`.ci/run` installs it when it is missing).
fn measured(args: &[&std::ffi::OsStr]) -> Measured {
    let time = Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "GNU time (/usr/bin/time, Debian's `time`) is needed to measure peak memory"
    );
    let report = tempfile::NamedTempFile::new().unwrap();
    let started = Instant::now();
    let output = std::process::Command::new(time)
        .args(["-f", "%x %M", "-o"])
        .arg(report.path())
        .arg(env!("CARGO_BIN_EXE_firedrill"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let numbers = std::fs::read_to_string(report.path()).unwrap();
    let last = numbers.lines().last().unwrap_or_default().to_string();
    let mut fields = last.split_whitespace();
    let code = fields.next().and_then(|c| c.parse::<i32>().ok());
    let max_rss_kib = fields
        .next()
        .and_then(|m| m.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("GNU time said: {numbers}"));
    Measured {
        code,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed,
        max_rss_kib,
    }
}

/// Each file in tests/malformed says on its first line (or in a
/// `.expect` file beside it) where its error is and what it says:
/// `# error: LINE:COL words of the message`. Some are not valid UTF-8 on
/// purpose, so the files are read as bytes.
#[test]
fn every_malformed_drill_gets_a_located_error_and_exit_2() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "the corpus has {} drills", files.len());
    for file in files {
        let sidecar = file.with_extension(format!(
            "{}.expect",
            file.extension().unwrap().to_string_lossy()
        ));
        let expectation = if sidecar.exists() {
            std::fs::read_to_string(&sidecar).unwrap()
        } else {
            let bytes = std::fs::read(&file).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            text.lines()
                .next()
                .and_then(|l| l.strip_prefix("# error: "))
                .unwrap_or_else(|| panic!("{} has no `# error:` line", file.display()))
                .to_string()
        };
        let (position, words) = expectation.trim().split_once(' ').unwrap();
        let name = file.file_name().unwrap().to_string_lossy();
        let run = measured(&["check".as_ref(), file.as_os_str()]);
        let stderr = &run.stderr;
        assert_eq!(run.code, Some(2), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name} panicked: {stderr}");
        assert!(run.elapsed < FAST, "{name} took {:?}", run.elapsed);
        assert!(
            run.max_rss_kib < MAX_RSS_KIB,
            "{name} took {} KiB",
            run.max_rss_kib
        );
        assert_located(&name, &file, position, words, stderr);
        eprintln!("{name}: {:?}, {} KiB peak", run.elapsed, run.max_rss_kib);
    }
}

/// The first error is `NAME:LINE:COL: …words…`, and the source line is
/// shown with a caret under the spot.
fn assert_located(name: &str, file: &Path, position: &str, words: &str, stderr: &str) {
    let located = format!("{name}:{position}: ");
    let first = stderr
        .lines()
        .find(|l| l.contains(" × ") || l.contains("×"))
        .unwrap_or("");
    assert!(
        first.contains(&located) && first.contains(words),
        "{name}: expected `{located}…{words}` in the first error, got:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("[{}:{position}]", file.display())),
        "{name}: {stderr}"
    );
    assert!(
        stderr.contains("help:") || !words.contains("unknown field"),
        "{name}: {stderr}"
    );
}

/// Writes `parts` (text, times) to `path` without holding the whole file
/// in memory.
fn write_parts(path: &Path, parts: &[(&str, usize)]) -> u64 {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut written = 0;
    for (text, times) in parts {
        for _ in 0..*times {
            out.write_all(text.as_bytes()).unwrap();
            written += text.len() as u64;
        }
    }
    out.flush().unwrap();
    written
}

/// Hostile drills too big to keep in the repository, made here: each is
/// refused with a located error, fast, in bounded memory, and what is
/// printed stays small even when the offending line is megabytes long.
#[test]
// A table of generated cases, each with what it must say: it reads best whole.
#[allow(clippy::too_many_lines, clippy::items_after_statements)]
fn huge_and_exploding_drills_are_refused_fast_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let kib = "a".repeat(1024);
    let alias = "*big,";
    type Case<'a> = (&'a str, Vec<(&'a str, usize)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            // Over the 4 MiB cap: refused where the cap falls, unparsed.
            "10mb-string.yaml",
            vec![
                ("drill: x\ndescription: ", 1),
                (&kib, 10 * 1024),
                ("\nsteps:\n  - sleep: 1ms\n", 1),
            ],
            "2:4194296",
            "the drill is larger than 4194304 bytes",
        ),
        (
            // Under the cap, an error at the end of a 2 MiB line.
            "long-line.yaml",
            vec![
                ("drill: x\nsteps:\n  - sleep: 1ms\n    name: ", 1),
                (&kib, 2048),
                ("x: 1\n", 1),
            ],
            "4:2097164",
            "mapping values are not allowed",
        ),
        (
            // An unknown field after a 3.5 MiB string.
            "big-description.yaml",
            vec![
                ("drill: x\ndescription: ", 1),
                (&kib, 3584),
                ("\nsteps:\n  - slep: 1ms\n", 1),
            ],
            "4:5",
            "unknown field `slep`",
        ),
        (
            // A 1 MiB string, aliased 900 times: 900 MiB once expanded.
            "string-alias-bomb.yaml",
            vec![
                ("drill: x\nvars:\n  big: &big ", 1),
                (&kib, 1024),
                ("\n  copies: [", 1),
                (alias, 900),
                ("]\nsteps:\n  - sleep: 1ms\n", 1),
            ],
            "4:",
            "too large or too complex to read",
        ),
        (
            // 100 000 `[` on one line.
            "100k-nested-lists.yaml",
            vec![
                ("drill: x\nsteps:\n  - http: { url: http://x/, json: ", 1),
                ("[", 100_000),
                ("]", 100_000),
                (" }\n", 1),
            ],
            "3:98",
            "recursion limit exceeded",
        ),
        (
            // A million `---`: one document is read, the second refused.
            "document-storm.yaml",
            vec![
                ("drill: x\nsteps:\n  - sleep: 1ms\n", 1),
                ("---\n", 1_000_000),
            ],
            "4:4",
            "a second YAML document",
        ),
    ];
    for (name, parts, position, words) in cases {
        let file = dir.path().join(name);
        let size = write_parts(&file, &parts);
        let run = measured(&["check".as_ref(), file.as_os_str()]);
        let stderr = &run.stderr;
        assert_eq!(
            run.code,
            Some(2),
            "{name}: {}",
            &stderr[..stderr.len().min(2000)]
        );
        assert!(!stderr.contains("panicked"), "{name} panicked: {stderr}");
        assert!(run.elapsed < FAST, "{name} took {:?}", run.elapsed);
        assert!(
            run.max_rss_kib < MAX_RSS_KIB,
            "{name} took {} KiB",
            run.max_rss_kib
        );
        assert!(
            stderr.len() < 5_000,
            "{name}: {} bytes of diagnostics",
            stderr.len()
        );
        if position.ends_with(':') {
            assert!(
                stderr.contains(&format!("{name}:{position}")),
                "{name}: {stderr}"
            );
            assert!(stderr.contains(words), "{name}: {stderr}");
        } else {
            assert_located(name, &file, position, words, stderr);
        }
        eprintln!(
            "{name}: {size} bytes, {:?}, {} KiB peak",
            run.elapsed, run.max_rss_kib
        );
    }
}

/// A long drill (a fresh environment with thousands of tenants written
/// out) is read whole: the parser's limits are for hostile files, not big
/// honest ones.
#[test]
fn a_ten_thousand_step_drill_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("long.yaml");
    let step = "  - name: get ${i}\n    http: { url: \"http://127.0.0.1:1/tenants/t-1\" }\n    expect: { status: 200, json: { \"$.name\": \"bench\" } }\n    capture: { plan: \"$.plan\" }\n";
    let steps: String = (0..10_000)
        .map(|i| step.replace("${i}", &i.to_string()))
        .collect();
    std::fs::write(&file, format!("drill: long\nsteps:\n{steps}")).unwrap();
    let output = firedrill().arg("check").arg(&file).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("ok (10000 steps"), "{stdout}");
}

/// Past 500 000 values a drill is refused where the limit falls. (Not in
/// the timed test above: a debug build takes seconds to read that many.)
#[test]
fn a_drill_over_the_value_limit_is_refused_where_it_falls() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("600k-values.yaml");
    let parts = [
        ("drill: x\nvars:\n  many: [", 1),
        ("0,", 600_000),
        ("0]\nsteps:\n  - sleep: 1ms\n", 1),
    ];
    write_parts(&file, &parts);
    let output = firedrill().arg("check").arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    // The 500 001st value is at column 1 + 2 * 500 000 - 4.
    assert!(
        stderr.contains("600k-values.yaml:3:999996: the drill is too large or too complex to read: it holds more than 500000 values"),
        "{stderr}"
    );
}

/// Ten thousand errors print the first 50 and count the rest.
#[test]
fn thousands_of_errors_are_counted_not_all_printed() {
    let dir = tempfile::tempdir().unwrap();
    let steps: Vec<String> = (0..10_000)
        .map(|i| format!("  - exec: {{ argv: [echo, \"${{u{i}}}\"] }}"))
        .collect();
    let drill = common::write_drill(
        dir.path(),
        "many.yaml",
        &format!("drill: x\nsteps:\n{}\n", steps.join("\n")),
    );
    let output = firedrill().arg("check").arg(&drill).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr.matches(" × ").count(), 50, "{stderr}");
    assert!(
        stderr.contains("many.yaml:3:27: `u0` is not defined"),
        "{stderr}"
    );
    assert!(
        stderr.contains("… and 9950 more errors not shown"),
        "{stderr}"
    );
    assert!(stderr.contains("10000 errors in"), "{stderr}");
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
