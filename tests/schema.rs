//! `firedrill schema`: the JSON Schema of the drill format and of the run
//! record, checked with a real validator against every drill we ship or
//! test with, the structural errors of the malformed corpus, and records of
//! real runs.

mod common;

use std::path::{Path, PathBuf};

use common::{DemoApp, firedrill};
use serde_json::Value;

/// The line every drill in `drills/` starts with.
const MODELINE: &str = "# yaml-language-server: $schema=../schema/drill.schema.json";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `firedrill schema ARGS…` as JSON.
fn printed(args: &[&str]) -> (String, Value) {
    let output = firedrill().arg("schema").args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let value = serde_json::from_str(&text).expect("the schema is JSON");
    (text, value)
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::meta::validate(schema).expect("a valid JSON Schema");
    jsonschema::validator_for(schema).expect("a schema the validator takes")
}

fn drill_validator() -> jsonschema::Validator {
    validator(&printed(&[]).1)
}

/// The errors `validator` finds in `instance`, one per line.
fn errors(validator: &jsonschema::Validator, instance: &Value) -> String {
    validator
        .iter_errors(instance)
        .map(|err| format!("{} at {}", err, err.instance_path()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A YAML (or JSON) drill read as a JSON value, as an editor sees it.
fn as_json(path: &Path, text: &str) -> Value {
    serde_saphyr::from_str::<Value>(text)
        .unwrap_or_else(|err| panic!("{} is not YAML: {err}", path.display()))
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "json") {
            out.push(path);
        }
    }
    out.sort();
}

/// A test drill with its `@KEY@` placeholders filled the way the tests
/// fill them (a flag, an empty fragment, or a word inside a string).
fn filled(text: &str) -> String {
    let placeholder = regex::Regex::new("@([A-Z][A-Z0-9_]*)@").unwrap();
    placeholder
        .replace_all(text, |caps: &regex::Captures<'_>| {
            match &caps[1] {
                "FAIL_FAST" => "true",
                "DEFAULTS" | "TARGET" => "",
                // A step's kind and fields, as tests/hostile.rs gives them.
                "FIELDS" => "    http: { url: /declared }",
                // A drill name, as tests/ci_integrations.rs gives it.
                "DRILL" => "a-drill",
                _ => "1",
            }
            .to_string()
        })
        .into_owned()
}

#[test]
fn the_checked_in_schemas_are_what_firedrill_schema_prints() {
    for (file, args) in [
        ("schema/drill.schema.json", &[][..]),
        ("schema/record.schema.json", &["--record"][..]),
    ] {
        let checked_in = std::fs::read_to_string(root().join(file))
            .unwrap_or_else(|err| panic!("cannot read {file}: {err}"));
        let (text, _) = printed(args);
        assert!(
            checked_in == text,
            "{file} differs from `firedrill schema {}`: run `cargo run -q -- schema {} -o {file}`",
            args.join(" "),
            args.join(" ")
        );
    }
}

#[test]
fn schema_writes_the_file_given_with_o() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("drill.schema.json");
    firedrill()
        .args(["schema", "-o"])
        .arg(&out)
        .assert()
        .success();
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(written, printed(&[]).1);
}

#[test]
fn the_schema_is_draft_2020_12_with_enums_and_a_description_on_every_field() {
    let (_, schema) = printed(&[]);
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let text = schema.to_string();
    // Kinds, Docker verbs and matchers, each listed where an editor offers them.
    for kind in ["http", "exec", "docker", "manual", "sleep", "parallel"] {
        assert!(
            text.contains(&format!(r#"{{"required":["{kind}"]}}"#)),
            "kind {kind}"
        );
    }
    for verb in ["run", "replace", "copy_image", "service_update", "sweep"] {
        assert!(
            text.contains(&format!(r#""title":"{verb}""#)),
            "verb {verb}"
        );
    }
    for matcher in ["exists", "contains", "matches", "lt", "length", "one_of"] {
        assert!(
            text.contains(&format!(r#""title":"{matcher}""#)),
            "matcher {matcher}"
        );
    }
    let mut missing = Vec::new();
    undescribed(&schema, "#", &mut missing);
    assert!(
        missing.is_empty(),
        "fields without a description: {missing:#?}"
    );
    let (_, record) = printed(&["--record"]);
    let mut missing = Vec::new();
    undescribed(&record, "#", &mut missing);
    assert!(
        missing.is_empty(),
        "record fields without a description: {missing:#?}"
    );
    let outcomes = record
        .pointer("/$defs/Outcome")
        .expect("an Outcome definition");
    for outcome in [
        "passed",
        "failed",
        "timed_out",
        "skipped",
        "cancelled",
        "manual_done",
        "intervened",
    ] {
        assert!(
            outcomes.to_string().contains(&format!("\"{outcome}\"")),
            "{outcome}"
        );
    }
}

/// Every property of every object schema under `value` that has no
/// `description`, by path.
fn undescribed(value: &Value, at: &str, missing: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get("properties") {
                for (name, property) in properties {
                    let described = property.get("description").is_some()
                        || property.get("const").is_some()
                        || at.contains("/oneOf/")
                        || at.contains("/anyOf/");
                    if !described {
                        missing.push(format!("{at}/properties/{name}"));
                    }
                }
            }
            for (key, child) in map {
                undescribed(child, &format!("{at}/{key}"), missing);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                undescribed(child, &format!("{at}/{i}"), missing);
            }
        }
        _ => {}
    }
}

#[test]
fn every_shipped_drill_points_at_the_checked_in_schema() {
    let mut files = Vec::new();
    files_under(&root().join("drills"), &mut files);
    assert!(!files.is_empty());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            text.lines().next(),
            Some(MODELINE),
            "{} must start with `{MODELINE}`",
            file.display()
        );
    }
}

#[test]
fn every_drill_we_ship_or_test_with_validates() {
    let validator = drill_validator();
    let mut files = Vec::new();
    files_under(&root().join("drills"), &mut files);
    files_under(&root().join("tests/drills"), &mut files);
    files_under(&root().join("src/cli/init"), &mut files);
    files.retain(|f| !f.to_string_lossy().ends_with(".answers.yaml"));
    assert!(files.len() > 30, "{files:?}");
    let mut failures = Vec::new();
    for file in &files {
        let text = filled(&std::fs::read_to_string(file).unwrap());
        let drill = as_json(file, &text);
        let found = errors(&validator, &drill);
        if !found.is_empty() {
            failures.push(format!("{}:\n{found}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The malformed drills whose fault is structural, so that the schema
/// (what an editor checks as you type) refuses them too. The rest are
/// faults only `firedrill check` can see (undefined names, bad regexes,
/// JSONPath) or faults of the file (bombs, encodings, duplicate keys).
const STRUCTURAL: &[&str] = &[
    "01-unknown-step-field.yaml",
    "02-unknown-top-level.yaml",
    "03-missing-steps.yaml",
    "04-empty-steps.yaml",
    "05-no-kind.yaml",
    "06-two-kinds.yaml",
    "07-bad-duration.yaml",
    "08-unitless-duration.yaml",
    "16-wrong-type.yaml",
    "17-bad-status.yaml",
    "21-argv-and-shell.yaml",
    "22-retry-without-limit.yaml",
    "27-steps-is-a-mapping.yaml",
    "28-timeout-is-a-list.yaml",
    "29-status-u64-overflow.yaml",
    "30-status-1e30.yaml",
    "32-negative-attempts.yaml",
    "56-null-drill-name.yaml",
    "59-fraction-attempts.yaml",
    "61-unknown-duration-unit.yaml",
    "63-steps-not-a-list.yaml",
    "64-number-as-drill-name-list.yaml",
    "68-negative-duration.yaml",
    "70-argv-not-a-list.yaml",
];

#[test]
fn the_structural_errors_of_the_malformed_corpus_fail_the_schema() {
    let validator = drill_validator();
    let mut accepted = Vec::new();
    for name in STRUCTURAL {
        let file = root().join("tests/malformed").join(name);
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        let drill = as_json(&file, &text);
        if validator.is_valid(&drill) {
            accepted.push(*name);
        }
    }
    assert!(accepted.is_empty(), "the schema accepts {accepted:?}");
}

#[test]
fn a_docker_step_needs_one_verb_with_its_own_fields() {
    let validator = drill_validator();
    let drill =
        |docker: Value| serde_json::json!({ "drill": "x", "steps": [{ "docker": docker }] });
    for good in [
        serde_json::json!({ "run": "demo-app:1", "name": "app", "ports": ["1:2"] }),
        serde_json::json!({ "replace": "app", "image": "demo-app:2", "on": "safe" }),
        serde_json::json!({ "wait": "app", "log": "ready", "times": 2 }),
        serde_json::json!({ "sweep": "run" }),
    ] {
        assert_eq!(errors(&validator, &drill(good.clone())), "", "{good}");
    }
    for bad in [
        serde_json::json!({ "name": "app" }), // no verb
        serde_json::json!({ "run": "demo-app:1", "stop": "app" }), // two verbs
        serde_json::json!({ "replace": "app" }), // needs image
        serde_json::json!({ "stop": "app", "image": "demo-app:2" }), // a field of another verb
        serde_json::json!({ "wait": "app", "for": "2s" }), // until or log
        serde_json::json!({ "sweep": "everything" }), // sweep: run
        serde_json::json!({ "copy_image": "i", "from": "a", "to": "b", "on": "a" }),
    ] {
        assert!(!validator.is_valid(&drill(bad.clone())), "accepted {bad}");
    }
}

#[test]
fn a_matcher_takes_the_argument_check_wants() {
    let validator = drill_validator();
    let expect = |json: Value| serde_json::json!({ "drill": "x", "steps": [{ "http": { "url": "/" }, "expect": { "json": { "$.a": json } } }] });
    for good in [
        serde_json::json!({ "lt": 3 }),
        serde_json::json!({ "lt": "${n}" }),
        serde_json::json!({ "exists": false }),
        serde_json::json!({ "one_of": [1, 2] }),
        serde_json::json!({ "any": "literal map" }),
        serde_json::json!("plain"),
    ] {
        assert_eq!(errors(&validator, &expect(good.clone())), "", "{good}");
    }
    for bad in [
        serde_json::json!({ "lt": "three" }),
        serde_json::json!({ "exists": "yes" }),
        serde_json::json!({ "matches": 3 }),
        serde_json::json!({ "one_of": 1 }),
    ] {
        assert!(!validator.is_valid(&expect(bad.clone())), "accepted {bad}");
    }
}

#[test]
fn records_of_real_runs_validate_against_the_record_schema() {
    let validator = validator(&printed(&["--record"]).1);
    let app = DemoApp::start();
    let dir = tempfile::tempdir().unwrap();
    let mut records = Vec::new();
    // A passing run, and one that fails with a step error and a source.
    let passing = root().join("drills/quickstart.yaml");
    let report = dir.path().join("pass.json");
    let (code, _, record) = common::run_to_record(app.firedrill(dir.path()), &passing, &report);
    assert_eq!(code, 0);
    records.push(record);
    let failing = common::write_drill(
        dir.path(),
        "fail.yaml",
        &format!(
            "drill: fail\n{}\nsteps:\n  - manual: Look at it\n  - http: {{ url: /nowhere }}\n    expect: {{ status: 200 }}\n",
            common::HEADER
        ),
    );
    let mut cmd = app.firedrill(dir.path());
    let report = dir.path().join("fail.json");
    let output = cmd
        .arg("run")
        .arg(&failing)
        .arg("--report")
        .arg(&report)
        .args(["--manual", "done"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    records.push(common::read_record(&report));
    for record in &records {
        assert_eq!(errors(&validator, record), "", "{record:#}");
    }
    // And a record is not just anything.
    let mut broken = records[0].clone();
    broken["outcome"] = "fine".into();
    assert!(!validator.is_valid(&broken));
}
