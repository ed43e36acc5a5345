//! One module per step kind, each owning everything about its kind: how it
//! is checked, its automatic name, how `runbook` describes it, how it
//! resolves its templates into an [`Action`], and how the action runs and
//! describes itself for `plan`. Every kind implements [`Kind`]; the
//! validator (`check`), the planner, the runbook and the executor go through
//! it and know no kind by name. Scheduling, retries, timeouts and
//! cancellation belong to the executor, not here.
//!
//! This layer imports the drill layer (model, templates, the
//! kind-independent [`Checker`](crate::drill::validate::Checker)), never the
//! other way round.
//!
//! Adding a step kind touches exactly:
//! - `src/steps/<kind>.rs` (or `src/steps/<kind>/`): a type implementing
//!   [`Kind`] over the kind's spec, and the [`Resolved`] action it runs;
//! - the list of kinds: a variant of [`StepKind`](crate::kind::StepKind) in
//!   `src/kind.rs`, the kind's `Option` field on `drill::model::Step` with
//!   its [`StepSpec`] arm (`src/drill/model.rs`), and its arm in
//!   [`with_kind`] below.

pub mod attempt;
pub mod check;
pub mod check_context;
pub mod context;
pub mod docker;
pub mod exec;
pub mod expect;
pub mod http;
pub mod json_path;
pub mod kind;
pub mod kinds;
pub mod manual;
pub mod matchers;
pub mod parallel;
pub mod sleep;
pub mod target;

pub use attempt::{Attempt, Captured, Verdict, excerpt, plain};
pub use check::{load, load_bytes, step_names};
pub use context::StepContext;
pub use kind::{Action, Kind, Resolved};
pub use kinds::{describe_runbook, resolve, with_kind};
pub use target::ResolvedTarget;
