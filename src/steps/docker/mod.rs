//! `docker`: containers, images and volumes through the Docker API
//! (bollard). `replace` is the rollback primitive: recreate a container from
//! another image with the configuration the operator gave it, and put the
//! old one back if the new one cannot start.
//!
//! Everything this step kind creates carries the labels `firedrill.run` and
//! `firedrill.drill`, so `sweep: run` can remove exactly what a run made.

mod check;
mod copy_image;
pub(crate) mod engine;
mod error;
mod kind;
mod ops;
mod resolve;
pub(crate) mod service;
pub(crate) mod swarm;

pub(crate) use engine::{Engine, Engines};
pub(crate) use error::DockerError;
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
    /// An image from one engine to another, by name (`engines:`).
    CopyImage {
        image: String,
        from: String,
        to: String,
    },
    /// A Swarm service action and its wait.
    Service(Box<service::ServiceCommand>),
}

/// After the action: poll this path on the container's published port.
#[derive(Debug)]
pub(crate) struct HttpHealth {
    pub path: String,
    pub within: Duration,
}

/// Which engine `plan` says a step acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EngineShown {
    Named(String),
    /// `sweep: run` without `on:` in a drill of several engines.
    Every,
}

/// A Docker step ready to run.
#[derive(Debug)]
pub(crate) struct DockerCommand {
    pub op: DockerOp,
    pub health: Option<HttpHealth>,
    /// `on:` as written: the engine to act on (`None`: the default one;
    /// for `sweep`, every engine the run touched).
    pub on: Option<String>,
    /// The engine named in descriptions, when the drill names engines.
    pub shown_on: Option<EngineShown>,
}

impl DockerCommand {
    /// Picks the engine(s), runs the action on them. A failure on an
    /// engine that no longer answers becomes the one line naming it.
    pub(crate) async fn run(&self, ctx: &StepContext<'_>) -> Attempt {
        match &self.op {
            DockerOp::CopyImage { image, from, to } => {
                return copy_image::run(ctx, image, from, to).await;
            }
            DockerOp::Sweep => return sweep(ctx, self.on.as_deref()).await,
            _ => {}
        }
        let engine = match ctx.engines.get(self.on.as_deref()) {
            Ok(engine) => engine,
            Err(err) => return Attempt::failed(err.to_string()),
        };
        let docker = match engine.docker().await {
            Ok(docker) => docker,
            Err(err) => return Attempt::failed(err.to_string()),
        };
        let attempt = self.run_on(docker, ctx).await;
        if matches!(attempt.verdict, Verdict::Failed(_)) {
            if let Some(gone) = engine.gone().await {
                return Attempt::failed(gone);
            }
        }
        attempt
    }

    /// Runs the action on one engine, then the HTTP health poll if asked.
    async fn run_on(&self, docker: &bollard::Docker, ctx: &StepContext<'_>) -> Attempt {
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
            DockerOp::Sweep | DockerOp::CopyImage { .. } => Err(DockerError::OwnEngines),
            DockerOp::Service(command) => Ok(Some(command.run(docker, ctx).await)),
        };
        let attempt = match result {
            Err(err) => return Attempt::failed(err.to_string()),
            Ok(Some(attempt)) => attempt,
            Ok(None) => Attempt::passed(Vec::new()),
        };
        if !matches!(attempt.verdict, Verdict::Passed) {
            return attempt;
        }
        match self.http_health(&ops).await {
            Ok(()) => attempt,
            Err(err) => Attempt::failed(err.to_string()),
        }
    }

    /// The HTTP health poll after the action, if the step asks for one and
    /// the action names a container.
    async fn http_health(&self, ops: &Ops<'_>) -> Result<(), DockerError> {
        let Some(health) = &self.health else {
            return Ok(());
        };
        let name = match &self.op {
            DockerOp::Run(spec) => spec.name.as_deref(),
            DockerOp::Start(name)
            | DockerOp::Restart { name, .. }
            | DockerOp::Replace { name, .. } => Some(name.as_str()),
            _ => None,
        };
        match name {
            Some(name) => ops.http_health(name, health).await,
            None => Ok(()),
        }
    }
}

/// `sweep: run`: the engine of `on:`; without it every engine the run
/// touched, or the default one when none was (a run whose first Docker
/// step is the sweep, after a resume say). An engine that fails does not
/// stop the others: each problem is named with its engine.
async fn sweep(ctx: &StepContext<'_>, on: Option<&str>) -> Attempt {
    let engines = match sweep_targets(ctx, on) {
        Ok(engines) => engines,
        Err(err) => return Attempt::failed(err.to_string()),
    };
    let mut problems = Vec::new();
    for engine in engines {
        if let Err(err) = sweep_one(ctx, engine).await {
            match engine.gone().await {
                Some(gone) => problems.push(gone),
                None if engine.name().is_some() => {
                    problems.push(format!("on {}: {err}", engine.label()));
                }
                None => problems.push(err.to_string()),
            }
        }
    }
    if problems.is_empty() {
        Attempt::passed(Vec::new())
    } else {
        Attempt::failed(problems.join("; "))
    }
}

/// The engines a sweep covers: `on:`'s, else those the run touched, else
/// the default one.
fn sweep_targets<'e>(
    ctx: &StepContext<'e>,
    on: Option<&str>,
) -> Result<Vec<&'e Engine>, engine::UnknownEngine> {
    if on.is_some() {
        return ctx.engines.get(on).map(|engine| vec![engine]);
    }
    let touched: Vec<&Engine> = ctx.engines.touched().collect();
    Ok(if touched.is_empty() {
        vec![ctx.engines.default_engine()]
    } else {
        touched
    })
}

/// Removes what the run labelled on one engine, and the images
/// `copy_image` loaded there.
async fn sweep_one(ctx: &StepContext<'_>, engine: &Engine) -> Result<(), DockerError> {
    let docker = engine.docker().await?;
    let ops = Ops { docker, ctx };
    let labelled = ops.sweep().await;
    let loaded = ops.remove_images(&engine.take_loaded()).await;
    labelled.and(loaded)
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

    /// One line saying what it does, for `plan` and logs, with the engine
    /// it acts on when the drill names engines.
    fn describe(&self) -> String {
        let what = self.describe_op();
        match &self.shown_on {
            Some(EngineShown::Named(name)) => format!("{what} on engine `{name}`"),
            Some(EngineShown::Every) => format!("{what}, on every engine the run touched"),
            None => what,
        }
    }

    fn attempt<'a>(&'a self, ctx: &'a StepContext<'_>) -> AttemptFuture<'a> {
        Box::pin(self.run(ctx))
    }
}

impl DockerCommand {
    /// What the action does, in a few words.
    fn describe_op(&self) -> String {
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
            DockerOp::CopyImage { image, from, to } => format!(
                "copy the image {image} from engine `{from}` to engine `{to}` (exported from one, loaded into the other, no registry)"
            ),
            DockerOp::Service(command) => command.describe(),
        }
    }
}
