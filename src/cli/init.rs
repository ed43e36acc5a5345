//! `firedrill init [NAME] [--template …]`: writes a starter drill (and, for
//! `new-engineer`, an answers file beside it). Every template passes
//! `firedrill check` and runs against demo-app as written; init never
//! writes over a file.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{InitArgs, Template, exit};

/// The starter drills, kept in files beside this one.
const HTTP: &str = include_str!("init/http.yaml");
const DOCKER: &str = include_str!("init/docker.yaml");
const SWARM: &str = include_str!("init/swarm.yaml");
const NEW_ENGINEER: &str = include_str!("init/new-engineer.yaml");
const NEW_ENGINEER_ANSWERS: &str = include_str!("init/new-engineer.answers.yaml");

impl Template {
    /// The template's drill, and its answers file if it has one.
    fn texts(self) -> (&'static str, Option<&'static str>) {
        match self {
            Template::Http => (HTTP, None),
            Template::Docker => (DOCKER, None),
            Template::Swarm => (SWARM, None),
            Template::NewEngineer => (NEW_ENGINEER, Some(NEW_ENGINEER_ANSWERS)),
        }
    }
}

pub(super) fn init(args: &InitArgs) -> i32 {
    let (drill_path, name) = match paths(&args.name) {
        Ok(found) => found,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::INVALID;
        }
    };
    let (drill, answers) = args.template.texts();
    let answers_path = answers.map(|_| sibling(&drill_path, &format!("{name}.answers.yaml")));
    let mut files = vec![(drill_path.clone(), drill)];
    if let (Some(path), Some(text)) = (&answers_path, answers) {
        files.push((path.clone(), text));
    }
    if let Some((taken, _)) = files
        .iter()
        .find(|(path, _)| path.symlink_metadata().is_ok())
    {
        eprintln!(
            "error: {} exists; firedrill init never writes over a file: pick another NAME or move it away",
            taken.display()
        );
        return exit::INVALID;
    }
    let file = drill_path
        .file_name()
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    let answers_file = answers_path
        .as_ref()
        .and_then(|p| p.file_name())
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    for (path, text) in &files {
        let text = text
            .replace("__DRILL__", &name)
            .replace("__FILE__", &file)
            .replace("__ANSWERS__", &answers_file);
        if let Err(err) = write_new(path, &text) {
            eprintln!("error: cannot write {}: {err}", path.display());
            return if err.kind() == std::io::ErrorKind::AlreadyExists {
                exit::INVALID
            } else {
                exit::FAILED
            };
        }
        println!("wrote {}", path.display());
    }
    println!("next: firedrill check {}", drill_path.display());
    exit::PASSED
}

/// The drill file and the drill's name: NAME.yaml for a bare name, NAME
/// itself when it ends in .yaml, .yml or .json (the name is its stem).
fn paths(name: &str) -> Result<(PathBuf, String), NotADrillName> {
    let given = Path::new(name);
    let is_file = given
        .extension()
        .is_some_and(|ext| ["yaml", "yml", "json"].contains(&ext.to_string_lossy().as_ref()));
    let path = if is_file {
        given.to_path_buf()
    } else {
        PathBuf::from(format!("{name}.yaml"))
    };
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let fits = !stem.is_empty()
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if fits {
        Ok((path, stem))
    } else {
        Err(NotADrillName(name.to_string()))
    }
}

/// A NAME that cannot name a drill (or its file).
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a drill name: use letters, digits, `-`, `_` and `.` (a path may lead to it)")]
struct NotADrillName(String);

/// A file beside `path`.
fn sibling(path: &Path, file: &str) -> PathBuf {
    path.parent()
        .map_or_else(|| PathBuf::from(file), |dir| dir.join(file))
}

/// Creates `path` with `text`, failing if anything is there already.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}
