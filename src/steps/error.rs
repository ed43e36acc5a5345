//! [`StepError`]: why a step could not be resolved into an action, whatever
//! its kind. Each kind keeps its own typed error (`HttpError`, `ExecError`,
//! `DockerResolveError`, …) next to its code; this carries it whole, so
//! [`Kind::resolve`](super::kind::Kind::resolve) has one return type
//! without this file naming every kind (which would tie the bottom of the
//! steps layer to each kind, and each kind back to it). The executor turns
//! it into words only where it writes the record.

use std::fmt;

/// Why a step did not resolve: the kind's own error, boxed, its words
/// unchanged. Template errors are not here: they land in the renderer's
/// errors, located.
pub(crate) struct StepError(Box<dyn std::error::Error + Send + Sync>);

impl<E: std::error::Error + Send + Sync + 'static> From<E> for StepError {
    fn from(error: E) -> Self {
        StepError(Box::new(error))
    }
}

impl StepError {
    /// The kind's own error, when it is an `E`.
    #[cfg(test)]
    pub(crate) fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.0.downcast_ref()
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A step without a kind (only an unchecked one), or a parallel group,
/// which the executor schedules itself and which has no one action.
#[derive(Debug, thiserror::Error)]
#[error("the step has no kind")]
pub(crate) struct NoKind;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kinds_error_keeps_its_words_and_its_type() {
        let error = StepError::from(NoKind);
        assert_eq!(error.to_string(), "the step has no kind");
        assert!(error.downcast_ref::<NoKind>().is_some());
    }
}
