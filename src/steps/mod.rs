//! The step kinds. Each kind's module owns everything about it: how it is
//! checked (fields, located errors, did-you-mean), its automatic name, how
//! `runbook` describes it, how it resolves its templates into an
//! [`Action`], and how that action runs and describes itself for `plan`.
//! Every kind implements [`Kind`] (the step as written) and [`Resolved`]
//! (the action); the checks, the planner, the runbook and the executor go
//! through them and name no kind. Scheduling, retries, timeouts and
//! cancellation belong to the executor, not here.
//!
//! Layers: this one imports the drill layer (model, templates, the
//! kind-independent [`Checker`](crate::drill::validate::Checker)) and
//! `crate::kind`, never the other way round. Inside it, from the bottom:
//! `attempt`, `target`, `context`, `json_path`, `matchers` (helpers) →
//! `check_context` (what a kind checks with) → `kind` (the traits) → the
//! kinds (`http/`, `exec`, `manual`, `sleep`, `docker/`, `parallel`) and
//! `expect` → `kinds` (the one list) → `check` (loading and the walk over
//! the steps). Nothing inside imports this file. `error` sits beside the
//! helpers: [`StepError`](error::StepError), which [`Kind::resolve`]
//! returns, carries any kind's own error without naming the kinds.
//!
//! Adding a step kind touches exactly:
//! - one new `src/steps/<kind>.rs` (or folder `src/steps/<kind>/`): a type
//!   implementing [`Kind`] over the kind's spec, and the [`Resolved`] action
//!   it runs; declared with `pub mod <kind>;` below;
//! - the list of kinds, which is one list written in three places because
//!   each layer needs its part: the [`StepKind`](crate::kind::StepKind)
//!   variant (`src/kind.rs`: the variant, its name, `ALL`); the kind's
//!   `Option` field on `drill::model::Step` with its
//!   [`StepSpec`](crate::drill::model::StepSpec) variant (`src/drill/model.rs`:
//!   the field keeps exact source locations); and its arm in
//!   [`with_kind`] (`src/steps/kinds.rs`). Its errors are its own types,
//!   in its own file; `?` turns them into a `StepError`.

pub(crate) mod attempt;
pub(crate) mod check;
pub(crate) mod check_context;
pub(crate) mod context;
pub(crate) mod docker;
pub(crate) mod error;
pub(crate) mod exec;
pub(crate) mod expect;
pub(crate) mod http;
pub(crate) mod json_path;
pub(crate) mod kind;
pub(crate) mod kinds;
pub(crate) mod manual;
pub(crate) mod matchers;
pub(crate) mod parallel;
pub(crate) mod poll;
pub(crate) mod sleep;
pub(crate) mod target;

pub(crate) use attempt::{Captured, Verdict, excerpt, plain};
pub(crate) use check::step_names;
pub use check::{load, load_bytes};
pub(crate) use context::StepContext;
pub(crate) use kind::Action;
pub(crate) use kinds::{describe_runbook, resolve};
pub(crate) use target::ResolvedTarget;
