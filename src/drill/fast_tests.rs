//! Differential tests of the fast reader (`fast.rs`) against serde-saphyr:
//! on every drill of the repository and on generated variations, the fast
//! reader either gives up or returns exactly serde-saphyr's drill, every
//! location included (the `Debug` form shows them all).

use std::path::{Path, PathBuf};

use super::fast;
use super::parse::parse_str_slow;

/// What the fast reader did with one text.
#[derive(Debug, PartialEq)]
enum Outcome {
    Read,
    Bailed(fast::Bail),
}

/// Runs both readers; panics when the fast one returns anything but
/// serde-saphyr's drill.
fn compare(label: &str, text: &str) -> Outcome {
    let fast = match fast::parse(text) {
        Ok(drill) => drill,
        Err(why) => return Outcome::Bailed(why),
    };
    let slow = match parse_str_slow(text) {
        Ok(drill) => drill,
        Err(err) => {
            panic!("{label}: the fast reader read a drill serde-saphyr refuses ({err}):\n{text}")
        }
    };
    let (fast, slow) = (format!("{fast:#?}"), format!("{slow:#?}"));
    if fast != slow {
        let first = fast
            .lines()
            .zip(slow.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let around = |s: &str| {
            s.lines()
                .skip(first.saturating_sub(8))
                .take(12)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "{label}: the readers differ at line {first} of the Debug form\n--- fast\n{}\n--- serde-saphyr\n{}\n--- text\n{text}",
            around(&fast),
            around(&slow)
        );
    }
    Outcome::Read
}

/// The YAML and JSON files under `dir`, recursively, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The 1000-step drill of the `check` benchmark (scripts/bench).
fn bench_drill(steps: usize) -> String {
    let mut text = String::from(
        "drill: bench-sequential\n\
         target: { base_url: \"${env.TARGET_URL}\", headers: { Authorization: \"Bearer ${secret.T}\" } }\n\
         secrets: { T: { env: DEMO_ADMIN_TOKEN } }\n\
         vars: { tenant_id: t-123, name: bench-tenant }\n\
         steps:\n",
    );
    for i in 1..=steps {
        text.push_str(&format!(
            "  - name: get {i}\n    http: {{ url: \"/tenants/${{tenant_id}}\" }}\n    \
             expect: {{ status: 200, json: {{ \"$.name\": \"${{name}}\" }} }}\n    \
             capture: {{ plan: \"$.plan\" }}\n"
        ));
    }
    text
}

#[test]
fn every_drill_of_the_repository_reads_the_same() {
    let mut read = 0;
    for dir in [
        "drills",
        "tests/drills",
        "tests/malformed",
        "src/cli/init",
        "fixtures",
    ] {
        for path in files_under(&repo(dir)) {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            match compare(&path.display().to_string(), &text) {
                Outcome::Read => read += 1,
                // Shown with --nocapture: which files fall back, and why.
                Outcome::Bailed(why) => eprintln!("{}: {why}", path.display()),
            }
        }
    }
    assert!(read > 30, "the fast reader read only {read} files");
}

#[test]
fn every_example_drill_takes_the_fast_path() {
    let files = files_under(&repo("drills"));
    assert!(!files.is_empty());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            compare(&path.display().to_string(), &text),
            Outcome::Read,
            "{} should take the fast path",
            path.display()
        );
    }
}

#[test]
fn the_benchmark_drill_takes_the_fast_path() {
    for steps in [1, 10, 1000] {
        assert_eq!(compare("bench", &bench_drill(steps)), Outcome::Read);
    }
}

/// Scalars of every shape, as YAML values (plain, quoted, block, flow).
const SCALARS: &[&str] = &[
    "x",
    "hello world",
    "t-123",
    "\"quoted\"",
    "'single'",
    "'it''s'",
    "\"esc\\n\\t\\u00e9\"",
    "\"\"",
    "''",
    "~",
    "null",
    "Null",
    "NULL",
    "",
    "true",
    "false",
    "True",
    "FALSE",
    "yes",
    "no",
    "Yes",
    "on",
    "off",
    "y",
    "n",
    "0",
    "1",
    "200",
    "-1",
    "-0",
    "+1",
    "007",
    "0x1f",
    "0X1F",
    "0o7",
    "0b101",
    "1_000",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "123456789012345678",
    "1.5",
    "-2.25",
    "0.1",
    "1.",
    ".5",
    "1e3",
    "1E-3",
    "-1.5e+3",
    ".inf",
    "-.inf",
    "+.inf",
    ".nan",
    ".NaN",
    "-.nan",
    "inf",
    "nan",
    "Infinity",
    "1e999",
    "30s",
    "500ms",
    "1h 30m",
    "2 s",
    "10MiB",
    "1.5MB",
    "512 KiB",
    "100B",
    "5 parsecs",
    "./data.tar",
    "/tenants/${tenant_id}",
    "${secret.T}",
    "Bearer ${secret.T}",
    "héllo wörld",
    "日本語",
    "\"日本語 ✓\"",
    "emoji 🎉 here",
    "a: b",
    "[1, 2, \"three\"]",
    "[]",
    "{}",
    "{ a: 1, b: [x, y] }",
    "{ \"$.id\": 1, \"$.name\": \"n\" }",
    "[ { a: 1 }, { b: 2 } ]",
    "x # a comment",
    "'# not'",
    "< 500",
    "=3",
    "@x",
    "`x`",
    "%x",
    "!!str 1",
    "!custom x",
    "&a x",
    "*a",
    "<<",
    "- x",
    "? x",
    "multi\n    line plain",
    "\"multi\n    line quoted\"",
    "|\n    literal\n    block\n",
    "|-\n    stripped\n",
    "|+\n    kept\n\n",
    ">\n    folded\n    block\n",
    ">-\n    folded\n",
    "|2\n     indented\n",
    "\"tab\there\"",
    "x\t",
    "[a,\n    b]",
];

/// Positions of the model that read a value with each kind of target.
const POSITIONS: &[&str] = &[
    "drill: d\nvars:\n  v: {S}\nsteps:\n  - sleep: 1s\n",
    "drill: {S}\nsteps:\n  - sleep: 1s\n",
    "drill: d\ndescription: {S}\nsteps:\n  - sleep: 1s\n",
    "drill: d\ntimeout: {S}\nsteps:\n  - sleep: 1s\n",
    "drill: d\nsteps:\n  - sleep: {S}\n",
    "drill: d\nsteps:\n  - name: {S}\n    sleep: 1s\n",
    "drill: d\nsteps:\n  - manual: {S}\n",
    "drill: d\ndefaults:\n  max_response: {S}\nsteps:\n  - sleep: 1s\n",
    "drill: d\ndefaults:\n  retry: { attempts: {S} }\nsteps:\n  - sleep: 1s\n",
    "drill: d\ntarget:\n  insecure: {S}\nsteps:\n  - sleep: 1s\n",
    "drill: d\ntarget: { base_url: {S} }\nsteps:\n  - sleep: 1s\n",
    "drill: d\nsteps:\n  - http: { url: /x }\n    expect: { status: {S} }\n",
    "drill: d\nsteps:\n  - http: { url: /x }\n    expect:\n      json: { \"$.a\": {S} }\n",
    "drill: d\nsteps:\n  - http: { url: /x, json: {S} }\n",
    "drill: d\nsteps:\n  - http: { url: /x, query: { q: {S} } }\n",
    "drill: d\nsteps:\n  - exec: { argv: [true] }\n    expect: { exit_code: {S} }\n",
    "drill: d\nsteps:\n  - http: { url: /x }\n    capture: { c: {S} }\n",
    "drill: d\nsteps:\n  - http: { url: /x }\n    capture: { c: { path: $.a, secret: {S} } }\n",
    "drill: d\nsteps:\n  - docker: { remove: app, volumes: {S} }\n",
    "drill: d\nsteps:\n  - docker: { service_create: s, image: i, replicas: {S} }\n",
    "drill: d\nsteps:\n  - docker:\n      service_create: s\n      update: { max_failure_ratio: {S} }\n",
    "drill: d\nsteps:\n  - parallel:\n      max: {S}\n      steps:\n        - sleep: 1s\n",
    "drill: d\nsteps:\n  - parallel:\n      for_each: {S}\n      steps:\n        - sleep: 1s\n",
];

/// The same text with other line ends, a byte order mark, comments.
fn dressings(text: &str) -> Vec<(&'static str, String)> {
    vec![
        ("lf", text.to_string()),
        ("crlf", text.replace('\n', "\r\n")),
        ("bom", format!("\u{feff}{text}")),
        (
            "comments",
            format!("# top\n{}# end\n", text.replace("\n  - ", "  # c\n  - ")),
        ),
        ("explicit document", format!("---\n{text}...\n")),
        ("prefix", format!("# é 日本\n\n{text}")),
    ]
}

#[test]
fn generated_variations_read_the_same_or_bail() {
    let mut read = 0;
    let mut total = 0;
    for position in POSITIONS {
        for scalar in SCALARS {
            let text = position.replace("{S}", scalar);
            for (dress, text) in dressings(&text) {
                total += 1;
                if compare(&format!("{dress}: {scalar:?} in {position:?}"), &text) == Outcome::Read
                {
                    read += 1;
                }
            }
        }
    }
    // Many positions refuse most spellings (a status is a number): a
    // quarter read by the fast path shows it is exercised everywhere.
    assert!(
        read * 4 > total,
        "only {read} of {total} read by the fast path"
    );
}

/// Shapes around the edges: flow and block collections, keys, nesting,
/// duplicates, anchors, documents.
const SHAPES: &[&str] = &[
    "drill: d\nsteps: [ { sleep: 1s }, { manual: \"do it\" } ]\n",
    "{ drill: d, steps: [ { sleep: 1s } ] }\n",
    "{\"drill\": \"d\", \"steps\": [{\"sleep\": \"1s\"}]}\n",
    "drill: d\nsteps:\n- sleep: 1s\n- sleep: 2s\n",
    "drill:   d   \nsteps:\n\n\n  -   sleep:   1s   \n",
    "drill: d\nsteps:\n  - sleep: 1s\ncleanup:\n  - sleep: 1s\n",
    "\"drill\": d\n'steps':\n  - \"sleep\": 1s\n",
    "drill: d\nvars:\n  a: 1\n  \"a\": 2\nsteps:\n  - sleep: 1s\n",
    "drill: d\nvars:\n  1: x\n  0x1: y\nsteps:\n  - sleep: 1s\n",
    "drill: d\nvars:\n  ~: x\nsteps:\n  - sleep: 1s\n",
    "drill: d\nvars:\n  ? [a]\n  : x\nsteps:\n  - sleep: 1s\n",
    "drill: d\nvars:\n  ? complex\n  : x\nsteps:\n  - sleep: 1s\n",
    "drill: d\nvars: &v { a: 1 }\nsteps:\n  - sleep: 1s\n",
    "base: &b { sleep: 1s }\ndrill: d\nsteps:\n  - *b\n",
    "drill: d\nsteps:\n  - <<: { sleep: 1s }\n",
    "drill: d\nsteps:\n  - sleep: 1s\n---\ndrill: e\n",
    "%YAML 1.2\n---\ndrill: d\nsteps:\n  - sleep: 1s\n",
    "drill: d\nsteps:\n  - sleep: 1s\n    sleep: 2s\n",
    "drill: d\nsteps:\n  - sleep: 1s\n  unexpected\n",
    "drill: d\nsteps:\n\t- sleep: 1s\n",
    "drill: d\nsteps: {}\n",
    "drill: d\nsteps: x\n",
    "drill: d\n",
    "steps:\n  - sleep: 1s\n",
    "- a\n- b\n",
    "just text\n",
    "drill: d\nsteps:\n  - sleep: 1s\nunknown: 1\n",
    "drill: d\nsteps:\n  - http: { url: /x, method: POST, headers: { A: b }, body: \"x\" }\n",
    "drill: d\nsteps:\n  - http:\n      url: /x\n      auth: { basic: { user: u, password: p } }\n",
    "drill: d\nsecrets:\n  T: { env: X }\n  F: { file: /f }\nsteps:\n  - sleep: 1s\n",
    "drill: d\nengines:\n  a: unix:///x\n  b: tcp://h:1\nsteps:\n  - sleep: 1s\n",
    "drill: d\nsteps:\n  - name: é\n    wait: { http: /h, for: 5s, every: 1s }\n    sleep: 1s\n",
    "drill: d\nsteps:\n  - exec: { shell: \"echo 日本\", env: { A: b }, cwd: /tmp }\n",
    "drill: d\nsteps:\n  - sleep: 1s\n    retry: { every: 1s, for: 10s, attempts: 3 }\n",
    "drill: d\nsteps:\n  - sleep: 1s\n    when: \"${x} == y\"\n    owner: me\n    budget: 1s\n",
];

#[test]
fn shapes_read_the_same_or_bail() {
    for shape in SHAPES {
        for (dress, text) in dressings(shape) {
            compare(&format!("{dress}: {shape:?}"), &text);
        }
    }
}

#[test]
fn anchors_duplicates_and_documents_bail() {
    for text in [
        "drill: d\nvars: &v { a: 1 }\nsteps:\n  - sleep: 1s\n",
        "drill: d\nvars:\n  a: 1\n  a: 2\nsteps:\n  - sleep: 1s\n",
        "drill: d\nsteps:\n  - sleep: 1s\n---\ndrill: e\n",
        "drill: d\nsteps:\n  - <<: { sleep: 1s }\n",
        "drill: !!str d\nsteps:\n  - sleep: 1s\n",
    ] {
        assert!(matches!(compare(text, text), Outcome::Bailed(_)), "{text}");
    }
}

#[test]
fn nesting_near_the_limit_reads_the_same_or_bails() {
    let mut read = 0;
    for depth in [1, 10, 40, 58, 60, 61, 62, 63, 64, 65, 100, 1000] {
        let flow = format!(
            "drill: d\nvars:\n  v: {}x{}\nsteps:\n  - sleep: 1s\n",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let mut block = String::from("drill: d\nvars:\n  v:\n");
        for level in 0..depth.min(200) {
            block.push_str(&format!("{}- \n", "  ".repeat(level + 2)));
        }
        for text in [flow, block] {
            if compare(&format!("depth {depth}"), &text) == Outcome::Read {
                read += 1;
            }
        }
    }
    assert!(read >= 4);
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// `text` with one random edit: a YAML-significant token inserted, a
/// character removed, or a line repeated.
fn mutate(text: &str, rng: &mut Rng) -> String {
    const TOKENS: &[&str] = &[
        ":", ": ", "- ", " ", "  ", "\n", "\r\n", "\t", "\"", "'", "#", "[", "]", "{", "}", ",",
        "&a ", "*a", "!!str ", "|", ">", "? ", "~", "null", "0", "1", "-1", "0x1", "1.5", "yes",
        "é", "日", "🎉", "\\", "\\n", "---\n", "<<: ", "x", "\u{feff}",
    ];
    let boundaries: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    let at = boundaries[rng.below(boundaries.len())];
    match rng.below(3) {
        0 => format!(
            "{}{}{}",
            &text[..at],
            TOKENS[rng.below(TOKENS.len())],
            &text[at..]
        ),
        1 => {
            let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
            format!("{}{}", &text[..at], &text[end..])
        }
        _ => {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            let line = rng.below(lines.len());
            let mut out = String::new();
            for (i, l) in lines.iter().enumerate() {
                out.push_str(l);
                if i == line {
                    out.push_str(l);
                }
            }
            out
        }
    }
}

#[test]
fn random_edits_of_real_drills_read_the_same_or_bail() {
    let mut sources: Vec<String> = files_under(&repo("drills"))
        .into_iter()
        .chain(files_under(&repo("src/cli/init")))
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .collect();
    sources.push(bench_drill(3));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut read, mut total) = (0, 0);
    for source in &sources {
        for round in 0..150 {
            let mut text = mutate(source, &mut rng);
            for _ in 0..round % 3 {
                text = mutate(&text, &mut rng);
            }
            total += 1;
            if compare(&format!("edit {round}"), &text) == Outcome::Read {
                read += 1;
            }
        }
    }
    assert!(
        read * 5 > total,
        "only {read} of {total} edits read by the fast path"
    );
}
