//! Values a drill is run with from outside the drill file: `--vars FILE`
//! (YAML or JSON maps of vars), `--var NAME=VALUE`, and `--env-file FILE`
//! (dotenv files read into `${env.NAME}` for this run only).
//!
//! Env files never touch the process environment: `exec` steps see their
//! values only where a step's `env:` passes them on.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value;

use super::diagnostic::{Diagnostic, Diagnostics};
use super::parse::{MAX_DRILL_BYTES, parse_any};
use super::spanned::Spanned;
use super::validate::usable_name;

/// What `${env.NAME}` resolves to: the process environment, then the env
/// files (later files win over earlier ones). A variable set in the
/// environment wins over the files, as with dotenv and Compose, so CI can
/// override one value without editing the file.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    from_files: Arc<HashMap<String, String>>,
}

impl Environment {
    /// The value of environment variable `name` for this run.
    pub fn get(&self, name: &str) -> Option<String> {
        std::env::var(name)
            .ok()
            .or_else(|| self.from_files.get(name).cloned())
    }

    /// An environment holding `pairs` on top of the process environment.
    fn with_values(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Environment {
            from_files: Arc::new(pairs.into_iter().collect()),
        }
    }
}

/// Vars and environment given on the command line, read and checked.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Vars from `--vars` files then `--var`, in order: a later one wins.
    pub vars: Vec<(String, Value)>,
    /// `${env.NAME}` lookups, with `--env-file` values.
    pub env: Environment,
}

impl Inputs {
    /// Reads the vars files and env files; `--var` values come last so
    /// they win. Every problem is located in its file.
    pub fn read(
        vars_files: &[impl AsRef<Path>],
        env_files: &[impl AsRef<Path>],
        vars: &[(String, String)],
    ) -> Result<Self, Diagnostics> {
        let mut inputs = Inputs::default();
        for path in vars_files {
            inputs.vars.extend(read_vars_file(path.as_ref())?);
        }
        inputs.vars.extend(
            vars.iter()
                .map(|(name, value)| (name.clone(), Value::String(value.clone()))),
        );
        let mut from_files = HashMap::new();
        for path in env_files {
            from_files.extend(read_env_file(path.as_ref())?);
        }
        inputs.env = Environment::with_values(from_files);
        Ok(inputs)
    }

    /// The names the inputs define, for `check`'s undefined-name errors.
    pub fn names(&self) -> Vec<String> {
        self.vars.iter().map(|(name, _)| name.clone()).collect()
    }
}

/// Reads a small text file whole (capped like a drill), as UTF-8.
fn read_text(path: &Path, what: &str) -> Result<String, Diagnostics> {
    let fail = |text: &str, item: Diagnostic| Diagnostics::new(path, Arc::from(text), vec![item]);
    let file = std::fs::File::open(path).map_err(|err| {
        fail(
            "",
            Diagnostic::whole_file(format!("cannot read the {what}: {err}")),
        )
    })?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, MAX_DRILL_BYTES + 1),
        &mut bytes,
    )
    .map_err(|err| {
        fail(
            "",
            Diagnostic::whole_file(format!("cannot read the {what}: {err}")),
        )
    })?;
    if bytes.len() as u64 > MAX_DRILL_BYTES {
        return Err(fail(
            "",
            Diagnostic::whole_file(format!(
                "the {what} is larger than {MAX_DRILL_BYTES} bytes, the most firedrill reads"
            )),
        ));
    }
    String::from_utf8(bytes).map_err(|err| {
        let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
        let at = err.utf8_error().valid_up_to();
        fail(
            &text,
            Diagnostic::at_offset(&text, at, format!("the {what} is not valid UTF-8"))
                .with_help("save it as UTF-8"),
        )
    })
}

/// A `--vars` file: a map of var names to values (any YAML or JSON value;
/// a list can feed `for_each`).
fn read_vars_file(path: &Path) -> Result<Vec<(String, Value)>, Diagnostics> {
    let text = read_text(path, "vars file")?;
    let located = |items: Vec<Diagnostic>| Diagnostics::new(path, Arc::from(text.as_str()), items);
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(Vec::new());
    }
    let parsed: IndexMap<String, Spanned<Value>> = parse_any(&text).map_err(|d| {
        located(vec![d.with_help(
            "a vars file is a map of names to values, like `tenant: acme`",
        )])
    })?;
    let problems: Vec<Diagnostic> = parsed
        .iter()
        .filter(|(name, _)| !usable_name(name))
        .map(|(name, value)| {
            Diagnostic::new(value.referenced, format!("`{name}` cannot be a var name"))
                .at_key(name.clone())
                .with_help("use letters, digits, `_` and `-`; env, secret, run, target and item are reserved")
        })
        .collect();
    if !problems.is_empty() {
        return Err(located(problems));
    }
    Ok(parsed.into_iter().map(|(k, v)| (k, v.value)).collect())
}

/// An `--env-file`: dotenv lines (`NAME=value`, `export NAME=value`,
/// quotes, `#` comments), read with `dotenvy` but never put into the
/// process environment.
fn read_env_file(path: &Path) -> Result<Vec<(String, String)>, Diagnostics> {
    let text = read_text(path, "env file")?;
    let mut pairs = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok(pair) => pairs.push(pair),
            Err(err) => {
                let problem = env_file_problem(&text, &err);
                return Err(Diagnostics::new(
                    path,
                    Arc::from(text.as_str()),
                    vec![problem],
                ));
            }
        }
    }
    Ok(pairs)
}

/// Locates a dotenv parse error: dotenvy names the bad line's text and the
/// byte in it where parsing stopped.
fn env_file_problem(text: &str, err: &dotenvy::Error) -> Diagnostic {
    match err {
        dotenvy::Error::LineParse(line, at) => {
            let start = text.find(line.as_str()).unwrap_or(0);
            Diagnostic::at_offset(text, start + at, "this line is not `NAME=value`")
                .with_help("write one `NAME=value` per line; quote values with spaces or `#`")
        }
        other => Diagnostic::whole_file(format!("cannot read the env file: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn later_vars_win_and_command_line_vars_come_last() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(&dir, "a.yaml", "tenant: acme\nregions: [eu, us]\n");
        let b = write(&dir, "b.json", r#"{"tenant": "globex"}"#);
        let inputs = Inputs::read(&[a, b], &[] as &[&Path], &[("x".into(), "1".into())]).unwrap();
        let last: HashMap<_, _> = inputs.vars.iter().cloned().collect();
        assert_eq!(last["tenant"], Value::from("globex"));
        assert_eq!(last["regions"], serde_json::json!(["eu", "us"]));
        assert_eq!(inputs.vars.last().unwrap().0, "x");
    }

    #[test]
    fn a_bad_var_name_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(&dir, "a.yaml", "ok: 1\nenv: 2\n");
        let err = Inputs::read(&[a], &[] as &[&Path], &[]).unwrap_err();
        let out = err.render(false);
        assert!(out.contains("a.yaml:2:"), "{out}");
        assert!(out.contains("`env` cannot be a var name"), "{out}");
    }

    #[test]
    fn env_files_fill_env_lookups_without_touching_the_process() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(
            &dir,
            "a.env",
            "# staging\nFIREDRILL_T_ONE=1\nexport FIREDRILL_T_TWO=\"two words\"\n",
        );
        let b = write(&dir, "b.env", "FIREDRILL_T_ONE=again\n");
        let inputs = Inputs::read(&[] as &[&Path], &[a, b], &[]).unwrap();
        assert_eq!(inputs.env.get("FIREDRILL_T_ONE").as_deref(), Some("again"));
        assert_eq!(
            inputs.env.get("FIREDRILL_T_TWO").as_deref(),
            Some("two words")
        );
        assert!(std::env::var("FIREDRILL_T_ONE").is_err());
    }

    #[test]
    fn a_bad_env_line_is_located() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(&dir, "a.env", "GOOD=1\nthis is not dotenv\n");
        let out = Inputs::read(&[] as &[&Path], &[a], &[])
            .unwrap_err()
            .render(false);
        assert!(out.contains("a.env:2:"), "{out}");
        assert!(out.contains("not `NAME=value`"), "{out}");
    }
}
