//! Every way a `docker` step can fail: [`DockerResolveError`] while its
//! templates are resolved into an action, [`DockerError`] while the action
//! runs against an engine. Each `Display` is the one line the record keeps;
//! the engine's own words come through [`describe`].

use std::path::PathBuf;
use std::time::Duration;

use bollard::errors::Error as BollardError;

use super::engine::{Unreachable, describe};
use super::service::words::PortError;
use crate::drill::model::DockerVerb;
use crate::steps::exec::ExecError;

/// Why a `docker` step cannot become an action. The checks refuse most of
/// these where they are written; an unchecked drill, or a value that only
/// became wrong once rendered, gets here.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DockerResolveError {
    /// No verb (`run`, `start`, …) at all.
    #[error("a docker step needs a verb: run, start, stop, …")]
    NoVerb,
    /// The verb needs a field the step does not give (`image`, `path`, …).
    #[error("this docker action needs `{0}`")]
    Needs(&'static str),
    /// `sweep:` names something other than `run`.
    #[error("`sweep: {0}`: only `sweep: run` exists")]
    SweepWhat(String),
    /// `copy_image` without `from` or `to`.
    #[error("`copy_image` needs `{0}`")]
    CopyImageNeeds(&'static str),
    /// A service verb reached the container verbs' resolving.
    #[error("`{0}` is resolved as a service verb")]
    ServiceVerb(DockerVerb),
    /// A container verb reached the service verbs' resolving.
    #[error("`{0}` is not a service verb")]
    NotServiceVerb(DockerVerb),
    /// A docker `exec` without `argv`.
    #[error("a docker exec needs `argv`")]
    ExecNeedsArgv,
    /// A container `wait` with an `until` it does not know.
    #[error("unknown `until: {0}`: use running, healthy or exited")]
    UnknownUntil(String),
    /// A container `wait` with neither `until` nor `log`.
    #[error("`wait` needs `until` or `log`")]
    NoUntil,
    /// A docker `exec`'s `expect` or `capture` (shared with exec steps).
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// `service_scale` without `replicas`.
    #[error("`service_scale` needs `replicas`")]
    ScaleNeedsReplicas,
    /// A service `wait` whose `until` is not a service's.
    #[error("a service wait needs `until: converged` or `until: rolled_back`")]
    ServiceWaitNeedsUntil,
    /// `mode: global` and `replicas` together.
    #[error("a `mode: global` service runs one task per node: drop `replicas`")]
    GlobalReplicas,
    /// `publish:` neither `ingress` nor `host`.
    #[error("unknown `publish: {0}`: ingress or host")]
    UnknownPublish(String),
    /// A service port, once rendered, that is not `PUBLISHED:TARGET`.
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Why a `docker` action failed on its engine. Variants with a `source`
/// show the engine's words for it ([`describe`]).
#[derive(Debug, thiserror::Error)]
pub(crate) enum DockerError {
    /// The engine did not answer when first asked.
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
    /// The engine answered 404 for the container the step names.
    #[error("container `{0}` not found")]
    NoContainer(String),
    /// Any other failure to inspect the container.
    #[error("inspecting container `{name}` failed: {}", describe(.source))]
    Inspect { name: String, source: BollardError },
    /// The image is not on the engine; firedrill never pulls.
    #[error(
        "image `{0}` is not on the engine, and firedrill never pulls: build or load it first (docker build action)"
    )]
    NoImage(String),
    /// Any other failure to inspect the image.
    #[error("inspecting image `{image}` failed: {}", describe(.source))]
    InspectImage { image: String, source: BollardError },
    /// `run` with a `name` another container already has (409).
    #[error("a container named `{0}` already exists: remove it first, or choose another name")]
    NameTaken(String),
    /// Any other failure to create the container of `run`.
    #[error("creating a container from `{image}` failed: {}", describe(.source))]
    Create { image: String, source: BollardError },
    /// A named volume of `run` could not be created.
    #[error("creating volume `{name}` failed: {}", describe(.source))]
    CreateVolume { name: String, source: BollardError },
    /// A named volume of `run` could not be inspected.
    #[error("inspecting volume `{name}` failed: {}", describe(.source))]
    InspectVolume { name: String, source: BollardError },
    /// Starting, stopping, restarting or removing a container failed;
    /// `doing` says which ("starting", …).
    #[error("{doing} `{name}` failed: {}", describe(.source))]
    Container {
        doing: &'static str,
        name: String,
        source: BollardError,
    },
    /// `remove` with `volumes: true`: one of the container's volumes.
    #[error("removing volume `{volume}` failed: {}", describe(.source))]
    RemoveVolume {
        volume: String,
        source: BollardError,
    },
    /// `replace`: the old container could not be renamed out of the way.
    #[error("renaming `{name}` out of the way failed: {}", describe(.source))]
    Rename { name: String, source: BollardError },
    /// `replace`: the new container could not be created; the old one was
    /// put back.
    #[error(
        "creating `{name}` from `{image}` failed, the old container is back: {}",
        describe(.source)
    )]
    Recreate {
        name: String,
        image: String,
        source: BollardError,
    },
    /// `replace`: the new container did not start; the old one was put
    /// back.
    #[error("{0}; the old container is back")]
    NotStarted(#[source] Box<DockerError>),
    /// `replace`: the new container runs, the old one could not be removed.
    #[error("removing the replaced container failed: {}", describe(.0))]
    RemoveReplaced(#[source] BollardError),
    /// `exec` in a container that is not running (409).
    #[error("container `{0}` is not running")]
    NotRunning(String),
    /// Any other failure to create, start or inspect the exec.
    #[error("docker exec in `{container}` failed: {}", describe(.source))]
    Exec {
        container: String,
        source: BollardError,
    },
    /// The exec's output stream broke.
    #[error("reading exec output failed: {}", describe(.0))]
    ExecOutput(#[source] BollardError),
    /// The exec wrote more than the drill's body limit.
    #[error("exec output is larger than {limit} bytes; firedrill stopped reading it")]
    ExecTooLarge { limit: usize },
    /// `wait: … until: running`, and the container exited.
    #[error("wait: `{container}` exited with {code} instead of running")]
    ExitedNotRunning { container: String, code: i64 },
    /// `wait: … until: healthy` for a container without a healthcheck.
    #[error("wait: `{0}` has no healthcheck, so it can never be healthy")]
    NoHealthcheck(String),
    /// `wait: … until: healthy`, and the container exited.
    #[error("wait: `{container}` exited with {code} before it was healthy")]
    ExitedUnhealthy { container: String, code: i64 },
    /// `wait: … until: exited` with an `exit_code`, and another code.
    #[error("wait: `{container}` exited with {code}, expected {expected}")]
    ExitCode {
        container: String,
        code: i64,
        expected: i64,
    },
    /// `wait` ran out of time; `last` is the state seen last.
    #[error(
        "wait: `{container}` did not get there within {} ({last})",
        humantime::format_duration(*.within)
    )]
    WaitDeadline {
        container: String,
        within: Duration,
        last: String,
    },
    /// `wait: … log:`: the logs could not be read.
    #[error("reading the logs of `{container}` failed: {}", describe(.source))]
    Logs {
        container: String,
        source: BollardError,
    },
    /// `copy` out of a container: the engine answered 404.
    #[error("`{container}:{path}` not found (is the container there?)")]
    NoSuchPath { container: String, path: String },
    /// `copy` out of a container: any other failure.
    #[error("copying `{container}:{path}` failed: {}", describe(.source))]
    CopyOut {
        container: String,
        path: String,
        source: BollardError,
    },
    /// `copy` out of a container: the archive could not be written.
    #[error("writing {} failed: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `copy` into a container: the archive could not be read.
    #[error("reading {} failed: {source}", .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `copy` into a container: the engine answered 404.
    #[error("container `{container}` or its path `{path}` not found")]
    NoSuchTarget { container: String, path: String },
    /// `copy` into a container: any other failure (boxed: the variant
    /// would make every result of the module large).
    #[error(
        "copying {} into `{container}:{path}` failed: {}",
        .from.display(),
        describe(.source)
    )]
    CopyIn {
        from: PathBuf,
        container: String,
        path: String,
        source: Box<BollardError>,
    },
    /// `build`: the task packing the context did not finish.
    #[error("packing the build context failed: {0}")]
    PackTask(#[source] tokio::task::JoinError),
    /// `build`: the context is not a directory.
    #[error("build context {} is not a directory", .0.display())]
    NoContext(PathBuf),
    /// `build`: the context could not be packed.
    #[error("packing {} failed: {source}", .dir.display())]
    Pack {
        dir: PathBuf,
        source: std::io::Error,
    },
    /// `build`: the engine reported an error in its progress stream.
    #[error("building `{tag}` failed: {message}")]
    BuildReported { tag: String, message: String },
    /// `build`: the progress stream broke; `tail` is the last output.
    #[error("building `{tag}` failed: {}{}", describe(.source), last_output(.tail))]
    Build {
        tag: String,
        source: BollardError,
        tail: Vec<String>,
    },
    /// `sweep`: the run's containers, volumes or images (`what`) could not
    /// be listed.
    #[error("listing {what} failed: {}", describe(.source))]
    List {
        what: &'static str,
        source: BollardError,
    },
    /// `sweep` removed what it could; these are what it could not.
    #[error("sweep could not remove: {}", .0.join("; "))]
    Sweep(Vec<String>),
    /// `healthcheck.http` on a container that publishes no port.
    #[error("healthcheck: `{0}` publishes no port to poll")]
    NoPort(String),
    /// `healthcheck.http`: the container exited while it was polled.
    #[error("healthcheck: `{name}` exited with {code} before answering {url}")]
    HealthExited {
        name: String,
        code: i64,
        url: String,
    },
    /// `healthcheck.http`: no 2xx answer in time; `last` is the last one.
    #[error(
        "healthcheck: {url} did not answer 2xx within {}; last: {last}",
        humantime::format_duration(*.within)
    )]
    Unhealthy {
        url: String,
        within: Duration,
        last: String,
    },
    /// The health poll was cancelled.
    #[error("cancelled")]
    Cancelled,
    /// A `ports` entry that is not `CONTAINER`, `HOST:CONTAINER` or
    /// `IP:HOST:CONTAINER`.
    #[error("invalid port `{0}`: write CONTAINER, HOST:CONTAINER or IP:HOST:CONTAINER")]
    PortShape(String),
    /// A `ports` entry whose ports are not numbers.
    #[error("invalid port `{0}`: ports are numbers from 1 to 65535")]
    PortNumber(String),
    /// `sweep` and `copy_image` reached the one-engine path; they pick
    /// their engines themselves.
    #[error("`sweep` and `copy_image` choose their engines themselves")]
    OwnEngines,
}

/// The last lines a failed build printed, as the message's tail.
fn last_output(tail: &[String]) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!("; last output: {}", tail.join(" | "))
    }
}
