//! The drill file: its model, parsing with locations, templating and the
//! kind-independent checks. The step kinds sit above this layer and check
//! their own fields; `steps::load` reads a drill and runs every check.

pub mod diagnostic;
pub mod model;
pub mod parse;
pub mod spanned;
pub mod template;
pub mod validate;

use std::path::PathBuf;
use std::sync::Arc;

pub use diagnostic::{Diagnostic, Diagnostics};
pub use model::Drill;

/// A drill that parsed and passed every check (`steps::load` makes it),
/// with what is needed to point at its source later.
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
