//! Every way a Swarm action can fail, each as one line naming the service
//! and, where the engine said something, the engine's own words.

use std::time::Duration;

use bollard::errors::Error as DockerError;

use super::facts::Convergence;

/// Why a service's input cannot become a spec the engine accepts; found
/// before anything is sent.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InvalidSpec {
    /// The service names no image.
    #[error("no image given")]
    NoImage,
    /// A mount with too few or too many `:`-separated parts.
    #[error("mount `{0}` is not `volume:/path` or `/host/path:/path` (optionally `:ro`)")]
    MountShape(String),
    /// A mount with an empty source or a relative target.
    #[error("mount `{0}` needs a source and an absolute target path")]
    MountPaths(String),
    /// `rollback.failure_action: rollback`: a rollback cannot roll back.
    #[error("a rollback's failure_action is pause or continue, not rollback")]
    RollbackOfRollback,
    /// `replicas` for a service the engine runs in global mode.
    #[error("a global service runs one task per node; replicas cannot be set")]
    GlobalReplicas,
}

/// A Swarm action's failure. `Display` is the one line a drill report shows.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SwarmError {
    /// The input cannot become a service spec (a bad mount, `replicas` on a
    /// global service, …): nothing was sent to the engine.
    #[error("service {service}: {problem}")]
    Invalid {
        service: String,
        #[source]
        problem: InvalidSpec,
    },

    #[error("service {service} does not exist on this engine")]
    NotFound { service: String },

    /// Any other answer of the engine (or no answer) to `action`.
    #[error("service {service}: {action} failed: {message}")]
    Engine {
        service: String,
        action: &'static str,
        message: String,
    },

    /// The engine kept answering "update out of sequence": someone else
    /// keeps changing the service between our inspect and our update.
    #[error(
        "service {service}: update out of sequence {attempts} times in a row (something else keeps changing the service)"
    )]
    OutOfSequence { service: String, attempts: u32 },

    /// A server-side rollback needs a previous spec; a fresh service, or one
    /// the engine already rolled back automatically, has none.
    #[error(
        "service {service} has no previous spec to roll back to (never updated, or already rolled back)"
    )]
    NoPreviousSpec { service: String },

    /// `paused` or `rollback_paused`: the engine stopped the rollout.
    #[error("service {service}: the engine paused the {what}: {message}{}", cause_suffix(.cause))]
    Paused {
        service: String,
        what: &'static str,
        message: String,
        cause: Option<String>,
    },

    /// The engine rolled back an update that was expected to stick. The
    /// convergence facts (how long until the engine decided, how long the
    /// rollback took) stay available for the record.
    #[error("service {service}: the engine rolled the update back: {cause}")]
    RolledBack {
        service: String,
        cause: String,
        facts: Box<Convergence>,
    },

    /// `until: rolled_back`, but the engine kept the update.
    #[error("service {service}: expected the engine to roll the update back, but {state}")]
    NotRolledBack { service: String, state: String },

    /// A task was rejected because its node does not have the image (no
    /// registry to pull from).
    #[error("service {service}: node {node} has no image {image} (task {task} rejected: {err})")]
    NoSuchImage {
        service: String,
        task: String,
        node: String,
        image: String,
        err: String,
    },

    #[error("service {service}: not {goal} after {}: {last}", humantime::format_duration(*.waited))]
    Deadline {
        service: String,
        goal: &'static str,
        waited: Duration,
        last: String,
    },

    /// `sweep` removed what it could; these are what it could not.
    #[error("sweep of run {run} could not remove: {}", .problems.join("; "))]
    Sweep { run: String, problems: Vec<String> },
}

fn cause_suffix(cause: &Option<String>) -> String {
    cause
        .as_ref()
        .map(|cause| format!(" ({cause})"))
        .unwrap_or_default()
}

/// The engine's own message for API errors, the innermost cause otherwise.
pub(crate) fn engine_message(err: &DockerError) -> String {
    match err {
        DockerError::DockerResponseServerError {
            status_code,
            message,
        } => format!("{} (HTTP {status_code})", message.trim()),
        DockerError::RequestTimeoutError => "the engine did not answer in time".into(),
        other => {
            let mut text = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(inner) = source {
                text = inner.to_string();
                source = inner.source();
            }
            text
        }
    }
}

/// Maps a failed call about `service` to the right variant: 404 is
/// [`SwarmError::NotFound`], anything else [`SwarmError::Engine`].
pub(crate) fn from_engine(service: &str, action: &'static str, err: &DockerError) -> SwarmError {
    if let DockerError::DockerResponseServerError {
        status_code: 404, ..
    } = err
    {
        return SwarmError::NotFound {
            service: service.to_string(),
        };
    }
    SwarmError::Engine {
        service: service.to_string(),
        action,
        message: engine_message(err),
    }
}
