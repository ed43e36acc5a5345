//! The drill file: its model, parsing with locations, templating and the
//! kind-independent checks. The step kinds sit above this layer and check
//! their own fields; `steps::load` reads a drill and runs every check.

pub mod diagnostic;
mod fast;
#[cfg(test)]
mod fast_tests;
pub mod inputs;
pub(crate) mod limits;
pub(crate) mod model;
pub(crate) mod parse;
pub(crate) mod schema;
pub(crate) mod schema_rules;
pub(crate) mod spanned;
pub mod template;
pub(crate) mod validate;
pub(crate) mod verbs;

use std::path::PathBuf;
use std::sync::Arc;

pub use diagnostic::{Diagnostic, Diagnostics};
pub(crate) use model::Drill;
pub use spanned::Location;

/// A drill that parsed and passed every check (`steps::load` makes it),
/// with what is needed to point at its source later.
#[derive(Debug)]
pub struct LoadedDrill {
    /// Where the drill was read from, as given.
    pub(crate) path: PathBuf,
    /// Its text, for located messages.
    pub(crate) source: Arc<str>,
    pub(crate) drill: Drill,
    /// Display names of `steps`, in order.
    pub(crate) step_names: Vec<String>,
    /// Display names of `cleanup`, in order.
    pub(crate) cleanup_names: Vec<String>,
}
