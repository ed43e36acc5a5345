//! `docker`: containers, images and volumes through the Docker API
//! (bollard). `replace` is the rollback primitive: recreate a container from
//! another image with the configuration the operator gave it, and put the
//! old one back if the new one cannot start.
//!
//! Everything this step kind creates carries the labels `firedrill.run` and
//! `firedrill.drill`, so `sweep: run` can remove exactly what a run made.

mod check;
pub mod engine;
mod kind;
mod ops;

pub use engine::{DEFAULT_HOST, Engine, describe};
pub use kind::DockerKind;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use bollard::models::HealthConfig;

use super::attempt::{Attempt, Verdict};
use super::context::StepContext;
use super::exec::{OutputCaptures, OutputExpectations};
use super::kind::{AttemptFuture, Resolved};
use crate::drill::model::{DockerAction, DockerVerb, Location, Spanned, Step, VolumesSpec};
use crate::drill::template::Renderer;
use crate::kind::StepKind;
use ops::Ops;

/// The label every object firedrill creates carries: the run id.
pub const RUN_LABEL: &str = "firedrill.run";
/// The label with the drill's name.
pub const DRILL_LABEL: &str = "firedrill.drill";

/// What `wait` waits for.
#[derive(Debug)]
pub enum Until {
    Running,
    Healthy,
    Exited(Option<i64>),
    Log { text: String, times: u32 },
}

/// A container to create.
#[derive(Debug, Default)]
pub struct RunSpec {
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
pub enum DockerOp {
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
}

/// After the action: poll this path on the container's published port.
#[derive(Debug)]
pub struct HttpHealth {
    pub path: String,
    pub within: Duration,
}

/// A Docker step ready to run.
#[derive(Debug)]
pub struct DockerCommand {
    pub op: DockerOp,
    pub health: Option<HttpHealth>,
}

/// How long `wait` and health polls wait unless told.
const DEFAULT_WAIT: Duration = Duration::from_secs(30);

impl DockerCommand {
    /// Resolves templates.
    pub fn resolve(a: &DockerAction, step: &Step, r: &mut Renderer<'_>) -> Result<Self, String> {
        let strings = |r: &mut Renderer<'_>, list: &Option<Spanned<Vec<Spanned<String>>>>| {
            list.as_ref()
                .map(|l| l.value.iter().map(|s| r.string(s)).collect::<Vec<_>>())
        };
        let env: Vec<String> = a
            .env
            .iter()
            .map(|(k, v)| format!("{k}={}", r.string(v)))
            .collect();
        let labels: HashMap<String, String> = a
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), r.string(v)))
            .collect();
        let grace = a.grace.as_ref().map(|g| g.value.0);
        let opt =
            |r: &mut Renderer<'_>, v: &Option<Spanned<String>>| v.as_ref().map(|s| r.string(s));
        let required = |r: &mut Renderer<'_>, v: &Option<Spanned<String>>, field: &str| {
            v.as_ref()
                .map(|s| r.string(s))
                .ok_or_else(|| format!("this docker action needs `{field}`"))
        };
        let mut health = None;
        let mut engine_healthcheck = None;
        if let Some(check) = &a.healthcheck {
            let c = &check.value;
            if let Some(path) = &c.http {
                health = Some(HttpHealth {
                    path: r.string(path),
                    within: c.within.map_or(DEFAULT_WAIT, |w| w.0),
                });
            }
            if let Some(cmd) = &c.cmd {
                let nanos = |d: Option<crate::drill::model::HumanDuration>| {
                    d.map(|d| d.0.as_nanos() as i64)
                };
                let mut test = vec!["CMD".to_string()];
                test.extend(cmd.iter().cloned());
                engine_healthcheck = Some(HealthConfig {
                    test: Some(test),
                    interval: nanos(c.interval),
                    timeout: nanos(c.timeout),
                    retries: c.retries.map(i64::from),
                    ..HealthConfig::default()
                });
            }
        }
        let Some((verb, subject)) = a.verbs().into_iter().next() else {
            return Err("a docker step needs a verb: run, start, stop, …".into());
        };
        let subject = r.string(subject);
        let op = match verb {
            DockerVerb::Run => DockerOp::Run(Box::new(RunSpec {
                image: subject,
                name: opt(r, &a.name),
                env,
                command: strings(r, &a.command),
                entrypoint: strings(r, &a.entrypoint),
                ports: strings(r, &a.ports).unwrap_or_default(),
                volumes: match a.volumes.as_ref().map(|v| &v.value) {
                    Some(VolumesSpec::Mounts(mounts)) => mounts
                        .iter()
                        .map(|m| {
                            r.text_at(
                                m,
                                &a.volumes
                                    .as_ref()
                                    .map_or(Location::UNKNOWN, |v| v.referenced),
                            )
                        })
                        .collect(),
                    _ => Vec::new(),
                },
                network: opt(r, &a.network),
                labels,
                engine_healthcheck,
                user: opt(r, &a.user),
                workdir: opt(r, &a.workdir),
            })),
            DockerVerb::Start => DockerOp::Start(subject),
            DockerVerb::Stop => DockerOp::Stop {
                name: subject,
                grace,
            },
            DockerVerb::Restart => DockerOp::Restart {
                name: subject,
                grace,
            },
            DockerVerb::Remove => DockerOp::Remove {
                name: subject,
                volumes: matches!(
                    a.volumes.as_ref().map(|v| &v.value),
                    Some(VolumesSpec::Remove(true))
                ),
            },
            DockerVerb::Replace => DockerOp::Replace {
                name: subject,
                image: required(r, &a.image, "image")?,
                grace,
            },
            DockerVerb::Exec => {
                let (expect, captures) = OutputExpectations::resolve(step, r)?;
                DockerOp::Exec {
                    container: subject,
                    argv: strings(r, &a.argv).ok_or("a docker exec needs `argv`")?,
                    env,
                    user: opt(r, &a.user),
                    workdir: opt(r, &a.workdir),
                    expect,
                    captures,
                }
            }
            DockerVerb::Wait => {
                let until = match (a.until.as_ref().map(|u| u.value.as_str()), &a.log) {
                    (_, Some(text)) => Until::Log {
                        text: r.string(text),
                        times: a.times.as_ref().map_or(1, |t| t.value),
                    },
                    (Some("running"), None) => Until::Running,
                    (Some("healthy"), None) => Until::Healthy,
                    (Some("exited"), None) => Until::Exited(a.exit_code.as_ref().map(|c| c.value)),
                    (Some(other), None) => {
                        return Err(format!(
                            "unknown `until: {other}`: use running, healthy or exited"
                        ));
                    }
                    (None, None) => return Err("`wait` needs `until` or `log`".into()),
                };
                DockerOp::Wait {
                    container: subject,
                    until,
                    within: a.within.as_ref().map_or(DEFAULT_WAIT, |w| w.value.0),
                }
            }
            DockerVerb::CopyOut => DockerOp::CopyOut {
                container: subject,
                path: required(r, &a.path, "path")?,
                to: PathBuf::from(required(r, &a.to, "to")?),
            },
            DockerVerb::CopyIn => DockerOp::CopyIn {
                container: subject,
                from: PathBuf::from(required(r, &a.from, "from")?),
                path: required(r, &a.path, "path")?,
            },
            DockerVerb::Build => DockerOp::Build {
                context: PathBuf::from(subject),
                dockerfile: opt(r, &a.dockerfile).unwrap_or_else(|| "Dockerfile".into()),
                tag: required(r, &a.tag, "tag")?,
                args: a
                    .args
                    .iter()
                    .map(|(k, v)| (k.clone(), r.string(v)))
                    .collect(),
                labels,
            },
            DockerVerb::Sweep => {
                if subject != "run" {
                    return Err(format!("`sweep: {subject}`: only `sweep: run` exists"));
                }
                DockerOp::Sweep
            }
        };
        Ok(DockerCommand { op, health })
    }

    /// Runs the action, then the HTTP health poll if asked.
    pub async fn run(&self, ctx: &StepContext<'_>) -> Attempt {
        let docker = match ctx.docker.docker().await {
            Ok(docker) => docker,
            Err(err) => return Attempt::failed(err),
        };
        let ops = Ops { docker, ctx };
        let result = match &self.op {
            DockerOp::Run(spec) => ops.run(spec).await.map(|_| None),
            DockerOp::Start(name) => ops.start(name).await.map(|_| None),
            DockerOp::Stop { name, grace } => ops.stop(name, *grace).await.map(|_| None),
            DockerOp::Restart { name, grace } => ops.restart(name, *grace).await.map(|_| None),
            DockerOp::Remove { name, volumes } => ops.remove(name, *volumes).await.map(|_| None),
            DockerOp::Replace { name, image, grace } => {
                ops.replace(name, image, *grace).await.map(|_| None)
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
            } => ops.wait(container, until, *within).await.map(|_| None),
            DockerOp::CopyOut {
                container,
                path,
                to,
            } => ops.copy_out(container, path, to).await.map(|_| None),
            DockerOp::CopyIn {
                container,
                from,
                path,
            } => ops.copy_in(container, from, path).await.map(|_| None),
            DockerOp::Build {
                context,
                dockerfile,
                tag,
                args,
                labels,
            } => ops
                .build(context, dockerfile, tag, args, labels)
                .await
                .map(|_| None),
            DockerOp::Sweep => ops.sweep().await.map(|_| None),
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
        }
    }

    fn attempt<'a>(&'a self, ctx: &'a StepContext<'_>) -> AttemptFuture<'a> {
        Box::pin(self.run(ctx))
    }
}
