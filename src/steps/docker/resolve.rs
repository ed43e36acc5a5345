//! Resolving a `docker` step's templates into a [`DockerCommand`]: the
//! fields several verbs share first, then the verb's own operation.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use bollard::models::HealthConfig;

use super::error::DockerResolveError;
use super::{DockerCommand, DockerOp, EngineShown, HttpHealth, RunSpec, Until};
use crate::drill::model::{
    DockerAction, DockerVerb, Healthcheck, HumanDuration, Location, Spanned, Step, VolumesSpec,
};
use crate::drill::template::Renderer;
use crate::steps::exec::OutputExpectations;
use crate::steps::target::ResolvedTarget;

/// How long `wait` and health polls wait unless told.
const DEFAULT_WAIT: Duration = Duration::from_secs(30);

/// What several verbs share, resolved before the verb's own fields.
struct Shared {
    env: Vec<String>,
    labels: HashMap<String, String>,
    grace: Option<Duration>,
    engine_healthcheck: Option<HealthConfig>,
}

impl DockerCommand {
    /// Resolves templates.
    pub(crate) fn resolve(
        a: &DockerAction,
        step: &Step,
        r: &mut Renderer<'_>,
        target: &ResolvedTarget,
    ) -> Result<Self, DockerResolveError> {
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
        let (health, engine_healthcheck) = match &a.healthcheck {
            Some(check) => healthcheck(&check.value, r),
            None => (None, None),
        };
        let Some((verb, subject)) = a.verbs().into_iter().next() else {
            return Err(DockerResolveError::NoVerb);
        };
        let subject = r.string(subject);
        let shared = Shared {
            env,
            labels,
            grace: a.grace.as_ref().map(|g| g.value.0),
            engine_healthcheck,
        };
        let service_wait = verb == DockerVerb::Wait
            && a.until
                .as_ref()
                .is_some_and(|u| super::service::words::until(&u.value).is_some());
        let op = if verb.is_service() || service_wait {
            let command = super::service::resolve::resolve(verb, subject, a, r)?;
            DockerOp::Service(Box::new(command))
        } else {
            operation(verb, subject, a, step, r, shared)?
        };
        let on = a.on.as_ref().map(|on| on.value.clone());
        // What `plan` says the step acts on: the engine named, or the
        // first of `engines:`; a sweep without `on` covers them all.
        let shown_on = match (&op, &on) {
            (DockerOp::CopyImage { .. }, _) => None,
            (DockerOp::Sweep, None) if target.engines.len() > 1 => Some(EngineShown::Every),
            (_, Some(name)) => Some(EngineShown::Named(name.clone())),
            (_, None) => target
                .engines
                .first()
                .map(|(name, _)| EngineShown::Named(name.clone())),
        };
        Ok(DockerCommand {
            op,
            health,
            on,
            shown_on,
        })
    }
}

/// The HTTP poll firedrill makes, and the check the engine runs.
fn healthcheck(
    c: &Healthcheck,
    r: &mut Renderer<'_>,
) -> (Option<HttpHealth>, Option<HealthConfig>) {
    let health = c.http.as_ref().map(|path| HttpHealth {
        path: r.string(path),
        within: c.within.map_or(DEFAULT_WAIT, |w| w.0),
    });
    let engine = c.cmd.as_ref().map(|cmd| {
        let nanos = |d: Option<HumanDuration>| d.map(|d| d.0.as_nanos() as i64);
        let mut test = vec!["CMD".to_string()];
        test.extend(cmd.iter().cloned());
        HealthConfig {
            test: Some(test),
            interval: nanos(c.interval),
            timeout: nanos(c.timeout),
            retries: c.retries.map(i64::from),
            ..HealthConfig::default()
        }
    });
    (health, engine)
}

/// The verb's operation on its (resolved) subject.
fn operation(
    verb: DockerVerb,
    subject: String,
    a: &DockerAction,
    step: &Step,
    r: &mut Renderer<'_>,
    shared: Shared,
) -> Result<DockerOp, DockerResolveError> {
    let grace = shared.grace;
    Ok(match verb {
        DockerVerb::Run => DockerOp::Run(Box::new(run_spec(subject, a, r, shared))),
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
        DockerVerb::Exec => exec(subject, a, step, r, shared.env)?,
        DockerVerb::Wait => DockerOp::Wait {
            container: subject,
            until: until(a, r)?,
            within: a.within.as_ref().map_or(DEFAULT_WAIT, |w| w.value.0),
        },
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
        DockerVerb::Build => build(subject, a, r, shared.labels)?,
        DockerVerb::Sweep => {
            if subject != "run" {
                return Err(DockerResolveError::SweepWhat(subject));
            }
            DockerOp::Sweep
        }
        // Engine names are checked as written, never templated.
        DockerVerb::CopyImage => DockerOp::CopyImage {
            image: subject,
            from: a
                .from
                .as_ref()
                .map(|f| f.value.clone())
                .ok_or(DockerResolveError::CopyImageNeeds("from"))?,
            to: a
                .to
                .as_ref()
                .map(|t| t.value.clone())
                .ok_or(DockerResolveError::CopyImageNeeds("to"))?,
        },
        service => return Err(DockerResolveError::ServiceVerb(service)),
    })
}

fn run_spec(image: String, a: &DockerAction, r: &mut Renderer<'_>, shared: Shared) -> RunSpec {
    RunSpec {
        image,
        name: optional(r, &a.name),
        env: shared.env,
        command: strings(r, &a.command),
        entrypoint: strings(r, &a.entrypoint),
        ports: strings(r, &a.ports).unwrap_or_default(),
        volumes: match a.volumes.as_ref().map(|v| &v.value) {
            Some(VolumesSpec::Mounts(mounts)) => {
                let at = a
                    .volumes
                    .as_ref()
                    .map_or(Location::UNKNOWN, |v| v.referenced);
                mounts.iter().map(|m| r.text_at(m, &at)).collect()
            }
            _ => Vec::new(),
        },
        network: optional(r, &a.network),
        labels: shared.labels,
        engine_healthcheck: shared.engine_healthcheck,
        user: optional(r, &a.user),
        workdir: optional(r, &a.workdir),
    }
}

/// A docker exec expects and captures like a local exec.
fn exec(
    container: String,
    a: &DockerAction,
    step: &Step,
    r: &mut Renderer<'_>,
    env: Vec<String>,
) -> Result<DockerOp, DockerResolveError> {
    let (expect, captures) = OutputExpectations::resolve(step, r)?;
    Ok(DockerOp::Exec {
        container,
        argv: strings(r, &a.argv).ok_or(DockerResolveError::ExecNeedsArgv)?,
        env,
        user: optional(r, &a.user),
        workdir: optional(r, &a.workdir),
        expect,
        captures,
    })
}

fn until(a: &DockerAction, r: &mut Renderer<'_>) -> Result<Until, DockerResolveError> {
    Ok(match (a.until.as_ref().map(|u| u.value.as_str()), &a.log) {
        (_, Some(text)) => Until::Log {
            text: r.string(text),
            times: a.times.as_ref().map_or(1, |t| t.value),
        },
        (Some("running"), None) => Until::Running,
        (Some("healthy"), None) => Until::Healthy,
        (Some("exited"), None) => Until::Exited(a.exit_code.as_ref().map(|c| c.value)),
        (Some(other), None) => return Err(DockerResolveError::UnknownUntil(other.to_string())),
        (None, None) => return Err(DockerResolveError::NoUntil),
    })
}

fn build(
    context: String,
    a: &DockerAction,
    r: &mut Renderer<'_>,
    labels: HashMap<String, String>,
) -> Result<DockerOp, DockerResolveError> {
    Ok(DockerOp::Build {
        context: PathBuf::from(context),
        dockerfile: optional(r, &a.dockerfile).unwrap_or_else(|| "Dockerfile".into()),
        tag: required(r, &a.tag, "tag")?,
        args: a
            .args
            .iter()
            .map(|(k, v)| (k.clone(), r.string(v)))
            .collect(),
        labels,
    })
}

fn strings(
    r: &mut Renderer<'_>,
    list: &Option<Spanned<Vec<Spanned<String>>>>,
) -> Option<Vec<String>> {
    list.as_ref()
        .map(|l| l.value.iter().map(|s| r.string(s)).collect())
}

fn optional(r: &mut Renderer<'_>, v: &Option<Spanned<String>>) -> Option<String> {
    v.as_ref().map(|s| r.string(s))
}

fn required(
    r: &mut Renderer<'_>,
    v: &Option<Spanned<String>>,
    field: &'static str,
) -> Result<String, DockerResolveError> {
    v.as_ref()
        .map(|s| r.string(s))
        .ok_or(DockerResolveError::Needs(field))
}
