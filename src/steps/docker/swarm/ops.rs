//! The service actions: create, update, rollback, scale, remove, sweep.
//!
//! An update replaces the engine's **whole** spec, so each one is inspect →
//! change the inspected spec → update with the inspected `version.index`.
//! When something else changed the service in between (a rolling update
//! bumps the version too), the engine answers "update out of sequence": the
//! action inspects again and retries, at most [`MAX_ATTEMPTS`] times.

use std::collections::HashMap;

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::models::{Service, ServiceSpec};
use bollard::query_parameters as q;

use super::SwarmError;
use super::converge::service_name;
use super::error::{InvalidSpec, engine_message, from_engine};
use super::spec::{Mode, Owner, ServiceInput, mode, to_spec};
use crate::steps::docker::RUN_LABEL;

/// How many times an update is tried when the engine keeps answering
/// "update out of sequence" (each retry re-inspects first).
pub(crate) const MAX_ATTEMPTS: u32 = 5;

/// What an accepted update looked like: the spec version it was based on,
/// how many tries it took (each out-of-sequence answer is one more), and
/// the engine's warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Updated {
    pub version: u64,
    pub attempts: u32,
    pub warnings: Vec<String>,
}

/// A change to a running service; unset fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Change {
    pub image: Option<String>,
    /// Merged by key into the service's env: a key already there is
    /// replaced in place, a new one appended.
    pub env: Vec<(String, String)>,
    pub env_remove: Vec<String>,
    pub replicas: Option<u64>,
    /// Redeploy every task even if nothing else changed (bumps
    /// `ForceUpdate`, as `docker service update --force` does).
    pub force: bool,
}

/// Creates the service; returns its id and the engine's warnings.
pub(crate) async fn create(
    docker: &Docker,
    input: &ServiceInput,
    owner: &Owner,
) -> Result<(String, Vec<String>), SwarmError> {
    let spec = to_spec(input, owner)?;
    let created = docker
        .create_service(spec, None)
        .await
        .map_err(|err| SwarmError::Engine {
            service: input.name.clone(),
            action: "create",
            message: engine_message(&err),
        })?;
    Ok((
        created.id.unwrap_or_default(),
        created.warnings.unwrap_or_default(),
    ))
}

/// Applies `change` to the service's current spec.
pub(crate) async fn update(
    docker: &Docker,
    name: &str,
    change: &Change,
) -> Result<Updated, SwarmError> {
    submit(docker, name, None, None, |spec| apply(name, spec, change)).await
}

/// Sets the replica count of a replicated service.
pub(crate) async fn scale(
    docker: &Docker,
    name: &str,
    replicas: u64,
) -> Result<Updated, SwarmError> {
    let change = Change {
        replicas: Some(replicas),
        ..Change::default()
    };
    update(docker, name, &change).await
}

/// The engine's own rollback to the previous spec (`rollback=previous`,
/// with the current spec and version in the request, as the API wants).
/// The engine swaps spec and previous spec, so a second rollback re-applies
/// the update; after an automatic rollback there is no previous spec.
pub(crate) async fn rollback(docker: &Docker, name: &str) -> Result<Updated, SwarmError> {
    submit(docker, name, Some("previous"), None, |_| Ok(())).await
}

/// Removes the service (its tasks stop; volumes stay for `sweep`).
pub(crate) async fn remove(docker: &Docker, name: &str) -> Result<(), SwarmError> {
    docker
        .delete_service(name)
        .await
        .map_err(|err| from_engine(name, "remove", &err))
}

/// Removes every service labelled `firedrill.run=<run_id>` and returns
/// their names. Run it before removing volumes: tasks hold their mounts.
pub(crate) async fn sweep(docker: &Docker, run_id: &str) -> Result<Vec<String>, SwarmError> {
    let filters = HashMap::from([("label", vec![format!("{RUN_LABEL}={run_id}")])]);
    let options = q::ListServicesOptionsBuilder::new()
        .filters(&filters)
        .build();
    let services = docker
        .list_services(Some(options))
        .await
        .map_err(|err| SwarmError::Sweep {
            run: run_id.to_string(),
            problems: vec![format!("listing services failed: {}", engine_message(&err))],
        })?;
    let mut removed = Vec::new();
    let mut problems = Vec::new();
    for service in services {
        let name = service_name(&service);
        match docker.delete_service(&name).await {
            Ok(()) => removed.push(name),
            Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(err) => problems.push(format!("service {name}: {}", engine_message(&err))),
        }
    }
    if problems.is_empty() {
        Ok(removed)
    } else {
        Err(SwarmError::Sweep {
            run: run_id.to_string(),
            problems,
        })
    }
}

/// Inspect → `edit` → update with the inspected version, retried on "update
/// out of sequence". `first` replaces the first inspect (tests use it to
/// send a stale version on purpose).
pub(crate) async fn submit(
    docker: &Docker,
    name: &str,
    rollback: Option<&str>,
    mut first: Option<Service>,
    edit: impl Fn(&mut ServiceSpec) -> Result<(), SwarmError>,
) -> Result<Updated, SwarmError> {
    let action = if rollback.is_some() {
        "rollback"
    } else {
        "update"
    };
    for attempt in 1..=MAX_ATTEMPTS {
        let service = match first.take() {
            Some(service) => service,
            None => inspect(docker, name).await?,
        };
        let version = service.version.as_ref().and_then(|v| v.index).unwrap_or(0);
        let mut spec = service.spec.unwrap_or_default();
        edit(&mut spec)?;
        let options = q::UpdateServiceOptions {
            version: i32::try_from(version).unwrap_or(i32::MAX),
            registry_auth_from: "spec".into(),
            rollback: rollback.map(str::to_string),
        };
        match docker.update_service(name, spec, options, None).await {
            Ok(response) => {
                return Ok(Updated {
                    version,
                    attempts: attempt,
                    warnings: response.warnings.unwrap_or_default(),
                });
            }
            Err(err) => {
                let message = engine_message(&err);
                if message.contains("update out of sequence") {
                    tracing::debug!(service = name, attempt, "update out of sequence; retrying");
                    continue;
                }
                if message.contains("does not have a previous spec") {
                    return Err(SwarmError::NoPreviousSpec {
                        service: name.to_string(),
                    });
                }
                return Err(from_engine(name, action, &err));
            }
        }
    }
    Err(SwarmError::OutOfSequence {
        service: name.to_string(),
        attempts: MAX_ATTEMPTS,
    })
}

pub(crate) async fn inspect(docker: &Docker, name: &str) -> Result<Service, SwarmError> {
    let options = q::InspectServiceOptions {
        insert_defaults: false,
    };
    docker
        .inspect_service(name, Some(options))
        .await
        .map_err(|err| from_engine(name, "inspect", &err))
}

/// `change` applied to an inspected spec.
fn apply(name: &str, spec: &mut ServiceSpec, change: &Change) -> Result<(), SwarmError> {
    if let Some(replicas) = change.replicas {
        let global = spec.mode.as_ref().is_some_and(|m| m.global.is_some());
        if global {
            return Err(SwarmError::Invalid {
                service: name.to_string(),
                problem: InvalidSpec::GlobalReplicas,
            });
        }
        spec.mode = Some(mode(Mode::Replicated(replicas)));
    }
    let task = spec.task_template.get_or_insert_with(Default::default);
    if change.force {
        task.force_update = Some(task.force_update.unwrap_or(0) + 1);
    }
    let container = task.container_spec.get_or_insert_with(Default::default);
    if let Some(image) = &change.image {
        container.image = Some(image.clone());
    }
    let env = container.env.get_or_insert_with(Vec::new);
    merge_env(env, &change.env, &change.env_remove);
    Ok(())
}

/// Replaces keys in place, appends new ones, then drops `remove`d keys.
fn merge_env(env: &mut Vec<String>, set: &[(String, String)], remove: &[String]) {
    let key = |entry: &str| entry.split('=').next().unwrap_or("").to_string();
    for (name, value) in set {
        let entry = format!("{name}={value}");
        match env.iter_mut().find(|existing| key(existing) == *name) {
            Some(existing) => *existing = entry,
            None => env.push(entry),
        }
    }
    env.retain(|entry| !remove.contains(&key(entry)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_is_merged_by_key_in_place() {
        let mut env = vec!["A=1".to_string(), "B=2".into(), "C=3".into()];
        merge_env(
            &mut env,
            &[("B".into(), "20".into()), ("D".into(), "4=four".into())],
            &["A".into()],
        );
        assert_eq!(env, ["B=20", "C=3", "D=4=four"]);
    }

    #[test]
    fn replicas_on_a_global_service_are_refused() {
        let mut spec = ServiceSpec {
            mode: Some(mode(Mode::Global)),
            ..Default::default()
        };
        let change = Change {
            replicas: Some(2),
            ..Change::default()
        };
        let err = apply("agent", &mut spec, &change).unwrap_err().to_string();
        assert!(err.starts_with("service agent: a global service"), "{err}");
    }
}
