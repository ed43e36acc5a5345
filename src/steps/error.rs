//! [`StepError`]: why a step could not be resolved into an action, whatever
//! its kind. Each kind keeps its own error type; this wraps them so that
//! [`Kind::resolve`](super::kind::Kind::resolve) has one. The executor
//! turns it into words only where it writes the record.

use super::docker::DockerResolveError;
use super::exec::ExecError;
use super::http::HttpError;
use super::kind::NO_KIND;

/// Why a step did not resolve. Template errors are not here: they land in
/// the renderer's errors, located.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StepError {
    /// An `http` step (a method, a URL, a `JSONPath` once rendered).
    #[error(transparent)]
    Http(#[from] HttpError),
    /// An `exec` step (a pattern once rendered, a capture).
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// A `docker` step (a missing field, a service port once rendered).
    #[error(transparent)]
    Docker(#[from] DockerResolveError),
    /// A step without a kind (only an unchecked one), or a parallel group,
    /// which the executor schedules itself and which has no one action.
    #[error("{NO_KIND}")]
    NoKind,
}
