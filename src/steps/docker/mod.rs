//! `docker`: containers, images and volumes through the Docker API
//! (bollard). `replace` is the rollback primitive: recreate a container from
//! another image with the configuration the operator gave it, and put the
//! old one back if the new one cannot start.
//!
//! Everything this step kind creates carries the labels `firedrill.run` and
//! `firedrill.drill`, so `sweep: run` can remove exactly what a run made.

mod check;
pub(crate) mod engine;
mod kind;
mod ops;
mod resolve;
pub(crate) mod service;
pub(crate) mod swarm;

pub(crate) use engine::Engine;
pub(crate) use kind::DockerKind;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use bollard::models::HealthConfig;

use super::attempt::{Attempt, Verdict};
use super::context::StepContext;
use super::exec::{OutputCaptures, OutputExpectations};
use super::kind::{AttemptFuture, Resolved};
use crate::kind::StepKind;
use ops::Ops;

/// The label every object firedrill creates carries: the run id.
pub(crate) const RUN_LABEL: &str = "firedrill.run";
/// The label with the drill's name.
pub(crate) const DRILL_LABEL: &str = "firedrill.drill";

/// What `wait` waits for.
#[derive(Debug)]
pub(crate) enum Until {
    Running,
    Healthy,
    Exited(Option<i64>),
    Log { text: String, times: u32 },
}

/// A container to create.
#[derive(Debug, Default)]
pub(crate) struct RunSpec {
    pub image: String,
    pub name: Option<String>,
    pub env: Vec<String>,
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub ports: Vec<String>,
    pub volumes: Vec<String>,
    pub network: Option<String>,
    pub labels: HashMap<String, String>,
    pub engine_healthcheck: Option<HealthConfig>,
    pub user: Option<String>,
    pub workdir: Option<String>,
}

/// A Docker action ready to run.
#[derive(Debug)]
pub(crate) enum DockerOp {
    Run(Box<RunSpec>),
    Start(String),
    Stop {
        name: String,
        grace: Option<Duration>,
    },
    Restart {
        name: String,
        grace: Option<Duration>,
    },
    Remove {
        name: String,
        volumes: bool,
    },
    Replace {
        name: String,
        image: String,
        grace: Option<Duration>,
    },
    Exec {
        container: String,
        argv: Vec<String>,
        env: Vec<String>,
        user: Option<String>,
        workdir: Option<String>,
        expect: OutputExpectations,
        captures: OutputCaptures,
    },
    Wait {
        container: String,
        until: Until,
        within: Duration,
    },
    CopyOut {
        container: String,
        path: String,
        to: PathBuf,
    },
    CopyIn {
        container: String,
        from: PathBuf,
        path: String,
    },
    Build {
        context: PathBuf,
        dockerfile: String,
        tag: String,
        args: HashMap<String, String>,
        labels: HashMap<String, String>,
    },
    Sweep,
    /// A Swarm service action and its wait.
    Service(Box<service::ServiceCommand>),
}

/// After the action: poll this path on the container's published port.
#[derive(Debug)]
pub(crate) struct HttpHealth {
    pub path: String,
    pub within: Duration,
}

/// A Docker step ready to run.
#[derive(Debug)]
pub(crate) struct DockerCommand {
    pub op: DockerOp,
    pub health: Option<HttpHealth>,
}

impl DockerCommand {
    /// Runs the action, then the HTTP health poll if asked.
    // One arm per verb: the dispatch reads as the list of verbs.
    #[allow(clippy::too_many_lines)]
    pub(crate) async fn run(&self, ctx: &StepContext<'_>) -> Attempt {
        let docker = match ctx.docker.docker().await {
            Ok(docker) => docker,
            Err(err) => return Attempt::failed(err),
        };
        let ops = Ops { docker, ctx };
        let result = match &self.op {
            DockerOp::Run(spec) => ops.run(spec).await.map(|()| None),
            DockerOp::Start(name) => ops.start(name).await.map(|()| None),
            DockerOp::Stop { name, grace } => ops.stop(name, *grace).await.map(|()| None),
            DockerOp::Restart { name, grace } => ops.restart(name, *grace).await.map(|()| None),
            DockerOp::Remove { name, volumes } => ops.remove(name, *volumes).await.map(|()| None),
            DockerOp::Replace { name, image, grace } => {
                ops.replace(name, image, *grace).await.map(|()| None)
            }
            DockerOp::Exec {
                container,
                argv,
                env,
                user,
                workdir,
                expect,
                captures,
            } => match ops
                .exec(
                    container,
                    argv,
                    env,
                    user.as_deref(),
                    workdir.as_deref(),
                    ctx.max_body_bytes,
                )
                .await
            {
                Ok(output) => Ok(Some(expect.judge(&output, captures))),
                Err(err) => Err(err),
            },
            DockerOp::Wait {
                container,
                until,
                within,
            } => ops.wait(container, until, *within).await.map(|()| None),
            DockerOp::CopyOut {
                container,
                path,
                to,
            } => ops.copy_out(container, path, to).await.map(|()| None),
            DockerOp::CopyIn {
                container,
                from,
                path,
            } => ops.copy_in(container, from, path).await.map(|()| None),
            DockerOp::Build {
                context,
                dockerfile,
                tag,
                args,
                labels,
            } => ops
                .build(context, dockerfile, tag, args, labels)
                .await
                .map(|()| None),
            DockerOp::Sweep => ops.sweep().await.map(|()| None),
            DockerOp::Service(command) => Ok(Some(command.run(docker, ctx).await)),
        };
        let attempt = match result {
            Err(err) => return Attempt::failed(err),
            Ok(Some(attempt)) => attempt,
            Ok(None) => Attempt::passed(Vec::new()),
        };
        if !matches!(attempt.verdict, Verdict::Passed) {
            return attempt;
        }
        if let Some(health) = &self.health {
            let name = match &self.op {
                DockerOp::Run(spec) => spec.name.clone(),
                DockerOp::Start(name)
                | DockerOp::Restart { name, .. }
                | DockerOp::Replace { name, .. } => Some(name.clone()),
                _ => None,
            };
            if let Some(name) = name {
                if let Err(err) = ops.http_health(&name, health).await {
                    return Attempt::failed(err);
                }
            }
        }
        attempt
    }
}

impl Resolved for DockerCommand {
    fn kind(&self) -> StepKind {
        StepKind::Docker
    }

    /// A timeout the action implies: a `wait` needs at least its `for`.
    fn own_timeout(&self) -> Option<Duration> {
        let health = self.health.as_ref().map(|h| h.within);
        let wait = match &self.op {
            DockerOp::Wait { within, .. } => Some(*within),
            DockerOp::Service(command) => return command.own_timeout(),
            _ => None,
        };
        match (health, wait) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or_default() + b.unwrap_or_default() + Duration::from_secs(30)),
        }
    }

    /// One line saying what it does, for `plan` and logs.
    fn describe(&self) -> String {
        match &self.op {
            DockerOp::Run(spec) => format!(
                "docker run {}{}",
                spec.image,
                spec.name
                    .as_ref()
                    .map(|n| format!(" as {n}"))
                    .unwrap_or_default()
            ),
            DockerOp::Start(name) => format!("docker start {name}"),
            DockerOp::Stop { name, .. } => format!("docker stop {name}"),
            DockerOp::Restart { name, .. } => format!("docker restart {name}"),
            DockerOp::Remove { name, volumes } => {
                format!(
                    "docker remove {name}{}",
                    if *volumes { " and its volumes" } else { "" }
                )
            }
            DockerOp::Replace { name, image, .. } => format!("docker replace {name} with {image}"),
            DockerOp::Exec {
                container, argv, ..
            } => format!("docker exec {container} {}", argv.join(" ")),
            DockerOp::Wait {
                container,
                until,
                within,
            } => format!(
                "docker wait until {container} is {} (up to {})",
                match until {
                    Until::Running => "running".to_string(),
                    Until::Healthy => "healthy".to_string(),
                    Until::Exited(Some(code)) => format!("exited with {code}"),
                    Until::Exited(None) => "exited".to_string(),
                    Until::Log { text, times } => format!("logging {text:?} {times}x"),
                },
                humantime::format_duration(*within)
            ),
            DockerOp::CopyOut {
                container,
                path,
                to,
            } => {
                format!("docker copy {container}:{path} to {}", to.display())
            }
            DockerOp::CopyIn {
                container,
                from,
                path,
            } => {
                format!("docker copy {} into {container}:{path}", from.display())
            }
            DockerOp::Build { context, tag, .. } => {
                format!("docker build {} as {tag}", context.display())
            }
            DockerOp::Sweep => "docker: remove everything this run created".to_string(),
            DockerOp::Service(command) => command.describe(),
        }
    }

    fn attempt<'a>(&'a self, ctx: &'a StepContext<'_>) -> AttemptFuture<'a> {
        Box::pin(self.run(ctx))
    }
}
