//! A service verb's fields, templates resolved, as a [`ServiceCommand`].

use std::time::Duration;

use super::words;
use super::{ServiceAction, ServiceCommand, ServiceWait};
use crate::drill::model::{
    DockerAction, DockerVerb, Healthcheck as HealthcheckSpec, RestartPolicySpec, Spanned,
    UpdatePolicySpec,
};
use crate::drill::template::Renderer;
use crate::steps::docker::error::DockerResolveError;
use crate::steps::docker::swarm::{
    Change, Healthcheck, Mode, Port, PublishMode, RestartPolicy, ServiceInput, Until, UpdatePolicy,
};

/// How long a service wait lasts unless `for` says: a rolling update of a
/// few tasks with the engine's defaults takes 10–30 s, a rollback as much
/// again.
pub(crate) const DEFAULT_SERVICE_WAIT: Duration = Duration::from_secs(120);

/// The service command of a service verb, or of a `wait` whose `until` is
/// a service's (`converged`, `rolled_back`).
pub(crate) fn resolve(
    verb: DockerVerb,
    name: String,
    a: &DockerAction,
    r: &mut Renderer<'_>,
) -> Result<ServiceCommand, DockerResolveError> {
    let within = a
        .within
        .as_ref()
        .map_or(DEFAULT_SERVICE_WAIT, |w| w.value.0);
    let detach = a.detach.as_ref().is_some_and(|d| d.value);
    let after = |until: Until| (!detach).then_some(ServiceWait { until, within });
    let written_until = a.until.as_ref().map(|u| u.value.as_str());
    let (action, wait) = match verb {
        DockerVerb::ServiceCreate => (
            ServiceAction::Create(Box::new(input(name, a, r)?)),
            after(Until::Converged),
        ),
        DockerVerb::ServiceUpdate => {
            let until = written_until.and_then(words::until);
            let change = change(a, r);
            (
                ServiceAction::Update { name, change },
                after(until.unwrap_or(Until::Converged)),
            )
        }
        DockerVerb::ServiceRollback => (ServiceAction::Rollback { name }, after(Until::RolledBack)),
        DockerVerb::ServiceScale => {
            let replicas = a
                .replicas
                .as_ref()
                .ok_or(DockerResolveError::ScaleNeedsReplicas)?;
            let replicas = replicas.value;
            (
                ServiceAction::Scale { name, replicas },
                after(Until::Converged),
            )
        }
        DockerVerb::ServiceRemove => (ServiceAction::Remove { name }, None),
        DockerVerb::Wait => {
            let until = written_until
                .and_then(words::until)
                .ok_or(DockerResolveError::ServiceWaitNeedsUntil)?;
            (
                ServiceAction::Wait { name },
                Some(ServiceWait { until, within }),
            )
        }
        other => return Err(DockerResolveError::NotServiceVerb(other)),
    };
    Ok(ServiceCommand { action, wait })
}

fn input(
    name: String,
    a: &DockerAction,
    r: &mut Renderer<'_>,
) -> Result<ServiceInput, DockerResolveError> {
    let mode = match (a.mode.as_ref().map(|m| m.value.as_str()), &a.replicas) {
        (Some("global"), None) => Mode::Global,
        (Some("global"), Some(_)) => {
            return Err(DockerResolveError::GlobalReplicas);
        }
        (_, replicas) => Mode::Replicated(replicas.as_ref().map_or(1, |r| r.value)),
    };
    let publish = match &a.publish {
        Some(word) => words::publish(&word.value)
            .ok_or_else(|| DockerResolveError::UnknownPublish(word.value.clone()))?,
        None => PublishMode::Ingress,
    };
    let ports = strings(r, &a.ports)
        .iter()
        .map(|text| {
            words::port(text).map(|(published, target)| Port {
                published,
                target,
                mode: publish,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut networks = strings(r, &a.networks);
    if let Some(network) = &a.network {
        networks.insert(0, r.string(network));
    }
    Ok(ServiceInput {
        name,
        image: a.image.as_ref().map(|i| r.string(i)).unwrap_or_default(),
        mode,
        env: pairs(r, a),
        command: a
            .command
            .as_ref()
            .map(|c| c.value.iter().map(|s| r.string(s)).collect()),
        ports,
        networks,
        mounts: strings(r, &a.mounts),
        labels: a
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), r.string(v)))
            .collect(),
        healthcheck: a.healthcheck.as_ref().map(|h| healthcheck(&h.value)),
        update: a.update.as_ref().map(|p| policy(&p.value)),
        rollback: a.rollback.as_ref().map(|p| policy(&p.value)),
        restart: a.restart_policy.as_ref().map(|p| restart(&p.value)),
        init: false,
        stop_grace_period: a.grace.as_ref().map(|g| g.value.0),
    })
}

fn change(a: &DockerAction, r: &mut Renderer<'_>) -> Change {
    Change {
        image: a.image.as_ref().map(|i| r.string(i)),
        env: pairs(r, a),
        env_remove: strings(r, &a.env_remove),
        replicas: a.replicas.as_ref().map(|n| n.value),
        force: a.force.as_ref().is_some_and(|f| f.value),
    }
}

fn pairs(r: &mut Renderer<'_>, a: &DockerAction) -> Vec<(String, String)> {
    a.env
        .iter()
        .map(|(k, v)| (k.clone(), r.string(v)))
        .collect()
}

fn strings(r: &mut Renderer<'_>, list: &Option<Spanned<Vec<Spanned<String>>>>) -> Vec<String> {
    list.as_ref()
        .map(|l| l.value.iter().map(|s| r.string(s)).collect())
        .unwrap_or_default()
}

/// The engine's check, `CMD` form (never through a shell: a `FROM scratch`
/// image has none).
fn healthcheck(spec: &HealthcheckSpec) -> Healthcheck {
    Healthcheck {
        cmd: spec.cmd.clone().unwrap_or_default(),
        interval: spec.interval.map(|d| d.0),
        timeout: spec.timeout.map(|d| d.0),
        retries: spec.retries.map(u64::from),
        start_period: None,
    }
}

/// Unknown words were refused by the checks; here they are left unset.
fn policy(spec: &UpdatePolicySpec) -> UpdatePolicy {
    UpdatePolicy {
        parallelism: spec.parallelism.as_ref().map(|p| p.value),
        delay: spec.delay.as_ref().map(|d| d.value.0),
        order: spec.order.as_ref().and_then(|o| words::order(&o.value)),
        failure_action: spec
            .failure_action
            .as_ref()
            .and_then(|f| words::failure_action(&f.value)),
        monitor: spec.monitor.as_ref().map(|m| m.value.0),
        max_failure_ratio: spec.max_failure_ratio.as_ref().map(|m| m.value),
    }
}

fn restart(spec: &RestartPolicySpec) -> RestartPolicy {
    RestartPolicy {
        condition: spec
            .condition
            .as_ref()
            .and_then(|c| words::condition(&c.value)),
        max_attempts: spec.max_attempts.as_ref().map(|m| m.value),
        delay: spec.delay.as_ref().map(|d| d.value.0),
    }
}
