//! The drill file: its model, parsing with locations, templating and the
//! checks that run before anything touches a target.

pub mod diagnostic;
pub mod model;
pub mod parse;
pub mod spanned;
pub mod template;
pub mod validate;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use model::Drill;

/// A drill that parsed and passed every check, with what is needed to point
/// at its source later.
#[derive(Debug)]
pub struct LoadedDrill {
    pub path: PathBuf,
    pub source: Arc<str>,
    pub drill: Drill,
    /// Display names of `steps`, in order.
    pub step_names: Vec<String>,
    /// Display names of `cleanup`, in order.
    pub cleanup_names: Vec<String>,
}

/// Reads, parses and checks a drill. `extra_vars` are the names given with
/// `--var`, which count as defined.
pub fn load(path: &Path, extra_vars: &[String]) -> Result<LoadedDrill, Diagnostics> {
    let (drill, source) = parse::read(path)?;
    checked(path, drill, source, extra_vars)
}

/// [`load`] for a drill already in memory, named `path` in messages.
pub fn load_bytes(
    path: &Path,
    bytes: Vec<u8>,
    extra_vars: &[String],
) -> Result<LoadedDrill, Diagnostics> {
    let (drill, source) = parse::parse_bytes(path, bytes)?;
    checked(path, drill, source, extra_vars)
}

fn checked(
    path: &Path,
    drill: Drill,
    source: Arc<str>,
    extra_vars: &[String],
) -> Result<LoadedDrill, Diagnostics> {
    let items = validate::validate(&drill, extra_vars);
    if !items.is_empty() {
        return Err(Diagnostics::new(path, source, items));
    }
    let step_names = validate::step_names(&drill.steps.value);
    let cleanup_names = validate::step_names(&drill.cleanup);
    Ok(LoadedDrill {
        path: path.to_path_buf(),
        source,
        drill,
        step_names,
        cleanup_names,
    })
}
