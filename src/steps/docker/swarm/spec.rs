//! What a drill says about a service, resolved (no templates left), and its
//! translation to the engine's `ServiceSpec`.
//!
//! The image reference is used exactly as given: firedrill never resolves
//! it to a digest against a registry (there is none in air-gapped clusters;
//! `docker service create --no-resolve-image` behaviour).

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::{
    EndpointPortConfig, EndpointPortConfigPublishModeEnum, EndpointSpec, HealthConfig, Mount,
    MountType, MountVolumeOptions, NetworkAttachmentConfig, ServiceSpec, ServiceSpecMode,
    ServiceSpecModeReplicated, ServiceSpecRollbackConfig,
    ServiceSpecRollbackConfigFailureActionEnum, ServiceSpecRollbackConfigOrderEnum,
    ServiceSpecUpdateConfig, ServiceSpecUpdateConfigFailureActionEnum,
    ServiceSpecUpdateConfigOrderEnum, TaskSpec, TaskSpecContainerSpec, TaskSpecRestartPolicy,
    TaskSpecRestartPolicyConditionEnum,
};

use super::SwarmError;
use super::error::InvalidSpec;
use crate::steps::docker::{DRILL_LABEL, RUN_LABEL};

/// A service to create, every value already resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ServiceInput {
    pub name: String,
    /// Used as given, never resolved to a digest.
    pub image: String,
    pub mode: Mode,
    /// In order; the engine fills Go templates per task
    /// (`PORT=1810{{.Task.Slot}}`).
    pub env: Vec<(String, String)>,
    /// Replaces the image's `CMD` (the engine's `Args`), as `docker run
    /// IMAGE COMMAND…` and firedrill's container `run` do.
    pub command: Option<Vec<String>>,
    pub ports: Vec<Port>,
    /// Network names; `host` means host networking.
    pub networks: Vec<String>,
    /// `volume:/path` or `/host/path:/path`, each with an optional `:ro`.
    pub mounts: Vec<String>,
    /// The service's labels; firedrill's own are added by [`to_spec`].
    pub labels: Vec<(String, String)>,
    pub healthcheck: Option<Healthcheck>,
    pub update: Option<UpdatePolicy>,
    pub rollback: Option<UpdatePolicy>,
    pub restart: Option<RestartPolicy>,
    /// Runs an init process as PID 1, so SIGTERM stops a program that does
    /// not handle it (else every stop waits the whole grace period).
    pub init: bool,
    /// How long a task gets between SIGTERM and SIGKILL (engine default 10s).
    pub stop_grace_period: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Replicated(u64),
    /// One task on every node that can run it.
    Global,
}

impl Default for Mode {
    fn default() -> Self {
        Mode::Replicated(1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Port {
    pub published: u16,
    pub target: u16,
    pub mode: PublishMode,
}

/// `Ingress` goes through the routing mesh (which does not answer on some
/// machines); `Host` binds the port on the node running the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum PublishMode {
    #[default]
    Ingress,
    Host,
}

/// The engine's healthcheck, `CMD` form: `cmd` is run without a shell.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Healthcheck {
    pub cmd: Vec<String>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub retries: Option<u64>,
    pub start_period: Option<Duration>,
}

/// How the engine rolls tasks to a new spec (or back). Unset fields keep
/// the engine's defaults: parallelism 1, no delay, stop-first, pause on
/// failure, monitor 5s, max failure ratio 0.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct UpdatePolicy {
    pub parallelism: Option<u64>,
    pub delay: Option<Duration>,
    pub order: Option<Order>,
    pub failure_action: Option<FailureAction>,
    pub monitor: Option<Duration>,
    pub max_failure_ratio: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    StopFirst,
    StartFirst,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureAction {
    Pause,
    Continue,
    /// Only for updates: a rollback cannot itself roll back.
    Rollback,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct RestartPolicy {
    pub condition: Option<RestartCondition>,
    pub max_attempts: Option<u64>,
    pub delay: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RestartCondition {
    None,
    OnFailure,
    Any,
}

/// Who created the service: the run and the drill, written as the labels
/// `firedrill.run` / `firedrill.drill` so `sweep` finds exactly this run's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owner {
    pub run_id: String,
    pub drill: String,
}

/// The engine's spec for `input`, labelled with `owner` (the service and
/// the volumes its mounts create, so a sweep can remove both).
pub(crate) fn to_spec(input: &ServiceInput, owner: &Owner) -> Result<ServiceSpec, SwarmError> {
    let invalid = |problem: InvalidSpec| SwarmError::Invalid {
        service: input.name.clone(),
        problem,
    };
    if input.image.trim().is_empty() {
        return Err(invalid(InvalidSpec::NoImage));
    }
    let owned = owner_labels(owner);
    let mut labels: HashMap<String, String> = input.labels.iter().cloned().collect();
    labels.extend(owned.clone());
    let mounts = input
        .mounts
        .iter()
        .map(|text| parse_mount(text, &owned).map_err(&invalid))
        .collect::<Result<Vec<_>, _>>()?;
    let rollback_config = input
        .rollback
        .as_ref()
        .map(rollback_config)
        .transpose()
        .map_err(invalid)?;
    Ok(ServiceSpec {
        name: Some(input.name.clone()),
        labels: Some(labels),
        task_template: Some(TaskSpec {
            container_spec: Some(container_spec(input, mounts)),
            restart_policy: input.restart.as_ref().map(restart_policy),
            networks: networks(&input.networks),
            ..Default::default()
        }),
        mode: Some(mode(input.mode)),
        update_config: input.update.as_ref().map(update_config),
        rollback_config,
        endpoint_spec: endpoint(&input.ports),
        ..Default::default()
    })
}

pub(crate) fn owner_labels(owner: &Owner) -> HashMap<String, String> {
    HashMap::from([
        (RUN_LABEL.to_string(), owner.run_id.clone()),
        (DRILL_LABEL.to_string(), owner.drill.clone()),
    ])
}

fn container_spec(input: &ServiceInput, mounts: Vec<Mount>) -> TaskSpecContainerSpec {
    TaskSpecContainerSpec {
        image: Some(input.image.clone()),
        args: input.command.clone(),
        env: Some(input.env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        mounts: (!mounts.is_empty()).then_some(mounts),
        health_check: input.healthcheck.as_ref().map(health),
        init: input.init.then_some(true),
        stop_grace_period: input.stop_grace_period.map(nanos),
        ..Default::default()
    }
}

pub(crate) fn mode(mode: Mode) -> ServiceSpecMode {
    match mode {
        Mode::Replicated(replicas) => ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated {
                replicas: Some(replicas as i64),
            }),
            ..Default::default()
        },
        // The engine's API takes an empty object for global mode.
        #[allow(clippy::zero_sized_map_values)]
        Mode::Global => ServiceSpecMode {
            global: Some(HashMap::new()),
            ..Default::default()
        },
    }
}

fn networks(names: &[String]) -> Option<Vec<NetworkAttachmentConfig>> {
    (!names.is_empty()).then(|| {
        names
            .iter()
            .map(|name| NetworkAttachmentConfig {
                target: Some(name.clone()),
                ..Default::default()
            })
            .collect()
    })
}

fn endpoint(ports: &[Port]) -> Option<EndpointSpec> {
    (!ports.is_empty()).then(|| EndpointSpec {
        ports: Some(
            ports
                .iter()
                .map(|port| EndpointPortConfig {
                    target_port: Some(port.target.into()),
                    published_port: Some(port.published.into()),
                    publish_mode: Some(match port.mode {
                        PublishMode::Ingress => EndpointPortConfigPublishModeEnum::INGRESS,
                        PublishMode::Host => EndpointPortConfigPublishModeEnum::HOST,
                    }),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    })
}

/// `volume:/path[:ro]` (a named volume, created by the engine with the
/// owner's labels) or `/host/path:/path[:ro]` (a bind mount).
fn parse_mount(text: &str, labels: &HashMap<String, String>) -> Result<Mount, InvalidSpec> {
    let parts: Vec<&str> = text.split(':').collect();
    let (source, target, read_only) = match parts.as_slice() {
        [source, target] => (*source, *target, false),
        [source, target, "ro"] => (*source, *target, true),
        [source, target, "rw"] => (*source, *target, false),
        _ => return Err(InvalidSpec::MountShape(text.to_string())),
    };
    if source.is_empty() || !target.starts_with('/') {
        return Err(InvalidSpec::MountPaths(text.to_string()));
    }
    let bind = source.starts_with('/');
    Ok(Mount {
        target: Some(target.to_string()),
        source: Some(source.to_string()),
        typ: Some(if bind {
            MountType::BIND
        } else {
            MountType::VOLUME
        }),
        read_only: read_only.then_some(true),
        volume_options: (!bind).then(|| MountVolumeOptions {
            labels: Some(labels.clone()),
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn health(check: &Healthcheck) -> HealthConfig {
    let mut test = vec!["CMD".to_string()];
    test.extend(check.cmd.iter().cloned());
    HealthConfig {
        test: Some(test),
        interval: check.interval.map(nanos),
        timeout: check.timeout.map(nanos),
        retries: check.retries.map(|r| r as i64),
        start_period: check.start_period.map(nanos),
        ..Default::default()
    }
}

fn update_config(policy: &UpdatePolicy) -> ServiceSpecUpdateConfig {
    use ServiceSpecUpdateConfigFailureActionEnum as F;
    use ServiceSpecUpdateConfigOrderEnum as O;
    ServiceSpecUpdateConfig {
        parallelism: policy.parallelism.map(|p| p as i64),
        delay: policy.delay.map(nanos),
        failure_action: policy.failure_action.map(|action| match action {
            FailureAction::Pause => F::PAUSE,
            FailureAction::Continue => F::CONTINUE,
            FailureAction::Rollback => F::ROLLBACK,
        }),
        monitor: policy.monitor.map(nanos),
        max_failure_ratio: policy.max_failure_ratio,
        order: policy.order.map(|order| match order {
            Order::StopFirst => O::STOP_FIRST,
            Order::StartFirst => O::START_FIRST,
        }),
    }
}

fn rollback_config(policy: &UpdatePolicy) -> Result<ServiceSpecRollbackConfig, InvalidSpec> {
    use ServiceSpecRollbackConfigFailureActionEnum as F;
    use ServiceSpecRollbackConfigOrderEnum as O;
    let failure_action = match policy.failure_action {
        None => None,
        Some(FailureAction::Pause) => Some(F::PAUSE),
        Some(FailureAction::Continue) => Some(F::CONTINUE),
        Some(FailureAction::Rollback) => {
            return Err(InvalidSpec::RollbackOfRollback);
        }
    };
    Ok(ServiceSpecRollbackConfig {
        parallelism: policy.parallelism.map(|p| p as i64),
        delay: policy.delay.map(nanos),
        failure_action,
        monitor: policy.monitor.map(nanos),
        max_failure_ratio: policy.max_failure_ratio,
        order: policy.order.map(|order| match order {
            Order::StopFirst => O::STOP_FIRST,
            Order::StartFirst => O::START_FIRST,
        }),
    })
}

fn restart_policy(policy: &RestartPolicy) -> TaskSpecRestartPolicy {
    use TaskSpecRestartPolicyConditionEnum as C;
    TaskSpecRestartPolicy {
        condition: policy.condition.map(|condition| match condition {
            RestartCondition::None => C::NONE,
            RestartCondition::OnFailure => C::ON_FAILURE,
            RestartCondition::Any => C::ANY,
        }),
        max_attempts: policy.max_attempts.map(|n| n as i64),
        delay: policy.delay.map(nanos),
        ..Default::default()
    }
}

/// The engine counts durations in nanoseconds.
pub(crate) fn nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Owner {
        Owner {
            run_id: "r1".into(),
            drill: "d".into(),
        }
    }

    #[test]
    fn labels_mounts_and_policies_reach_the_spec() {
        let input = ServiceInput {
            name: "demo".into(),
            image: "demo-app:1".into(),
            mode: Mode::Replicated(2),
            env: vec![
                ("A".into(), "1".into()),
                ("PORT".into(), "1810{{.Task.Slot}}".into()),
            ],
            command: Some(vec!["/app".into()]),
            ports: vec![Port {
                published: 18090,
                target: 8080,
                mode: PublishMode::Host,
            }],
            networks: vec!["host".into()],
            mounts: vec!["data:/data".into(), "/srv/x:/x:ro".into()],
            labels: vec![("team".into(), "sre".into())],
            healthcheck: Some(Healthcheck {
                cmd: vec!["/app".into(), "check".into()],
                interval: Some(Duration::from_secs(1)),
                retries: Some(3),
                ..Default::default()
            }),
            update: Some(UpdatePolicy {
                order: Some(Order::StartFirst),
                failure_action: Some(FailureAction::Rollback),
                monitor: Some(Duration::from_millis(1500)),
                ..Default::default()
            }),
            ..Default::default()
        };
        let spec = to_spec(&input, &owner()).unwrap();
        let labels = spec.labels.as_ref().unwrap();
        assert_eq!(labels["firedrill.run"], "r1");
        assert_eq!(labels["team"], "sre");
        let container = spec
            .task_template
            .as_ref()
            .unwrap()
            .container_spec
            .as_ref()
            .unwrap();
        assert_eq!(container.image.as_deref(), Some("demo-app:1"));
        assert_eq!(
            container.env.as_ref().unwrap()[1],
            "PORT=1810{{.Task.Slot}}"
        );
        let mounts = container.mounts.as_ref().unwrap();
        assert_eq!(mounts[0].typ, Some(MountType::VOLUME));
        let volume_labels = mounts[0].volume_options.as_ref().unwrap().labels.as_ref();
        assert_eq!(volume_labels.unwrap()["firedrill.drill"], "d");
        assert_eq!(
            (mounts[1].typ, mounts[1].read_only),
            (Some(MountType::BIND), Some(true))
        );
        let test = container
            .health_check
            .as_ref()
            .unwrap()
            .test
            .as_ref()
            .unwrap();
        assert_eq!(test, &["CMD", "/app", "check"]);
        let update = spec.update_config.as_ref().unwrap();
        assert_eq!(update.monitor, Some(1_500_000_000));
        assert_eq!(
            update.order,
            Some(ServiceSpecUpdateConfigOrderEnum::START_FIRST)
        );
        let port = &spec.endpoint_spec.as_ref().unwrap().ports.as_ref().unwrap()[0];
        assert_eq!(
            port.publish_mode,
            Some(EndpointPortConfigPublishModeEnum::HOST)
        );
    }

    #[test]
    fn bad_inputs_are_refused_before_the_engine_sees_them() {
        let mut input = ServiceInput {
            name: "demo".into(),
            image: "demo-app:1".into(),
            mounts: vec!["data".into()],
            ..Default::default()
        };
        let err = to_spec(&input, &owner()).unwrap_err().to_string();
        assert!(err.starts_with("service demo: mount `data`"), "{err}");
        input.mounts.clear();
        input.rollback = Some(UpdatePolicy {
            failure_action: Some(FailureAction::Rollback),
            ..Default::default()
        });
        let err = to_spec(&input, &owner()).unwrap_err().to_string();
        assert!(err.contains("pause or continue"), "{err}");
    }
}
