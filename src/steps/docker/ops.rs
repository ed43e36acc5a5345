//! The Docker calls behind the verbs.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerStateStatusEnum, ExecConfig,
    HealthStatusEnum, HostConfig, PortBinding, PortMap, VolumeCreateRequest,
};
use bollard::query_parameters as q;
use futures_util::StreamExt;

use super::engine::{describe, status_of};
use super::error::DockerError;
use super::swarm;
use super::{DRILL_LABEL, HttpHealth, RUN_LABEL, RunSpec, Until};
use crate::steps::attempt::excerpt;
use crate::steps::context::StepContext;
use crate::steps::exec::ProgramOutput;

/// How long a sweep waits for removed services' task containers to stop
/// (the engine stops them after the removal returns; 10s grace each by
/// default), before it removes the volumes they held.
const SERVICE_TASKS_GONE: Duration = Duration::from_secs(30);

/// The Docker calls behind the verbs.
pub(super) struct Ops<'a> {
    pub(super) docker: &'a Docker,
    pub(super) ctx: &'a StepContext<'a>,
}

impl Ops<'_> {
    fn labels(&self) -> HashMap<String, String> {
        HashMap::from([
            (RUN_LABEL.to_string(), self.ctx.run_id.to_string()),
            (DRILL_LABEL.to_string(), self.ctx.drill.to_string()),
        ])
    }

    async fn inspect(&self, name: &str) -> Result<ContainerInspectResponse, DockerError> {
        self.docker
            .inspect_container(name, None::<q::InspectContainerOptions>)
            .await
            .map_err(|source| match status_of(&source) {
                Some(404) => DockerError::NoContainer(name.to_string()),
                _ => DockerError::Inspect {
                    name: name.to_string(),
                    source,
                },
            })
    }

    async fn image_present(
        &self,
        image: &str,
    ) -> Result<bollard::models::ImageInspect, DockerError> {
        self.docker
            .inspect_image(image)
            .await
            .map_err(|source| match status_of(&source) {
                Some(404) => DockerError::NoImage(image.to_string()),
                _ => DockerError::InspectImage {
                    image: image.to_string(),
                    source,
                },
            })
    }

    pub(super) async fn run(&self, spec: &RunSpec) -> Result<(), DockerError> {
        self.image_present(&spec.image).await?;
        let mut binds = Vec::new();
        for mount in &spec.volumes {
            let source = mount.split(':').next().unwrap_or_default();
            let named_volume =
                !source.is_empty() && !source.starts_with('/') && !source.starts_with('.');
            if named_volume {
                self.ensure_volume(source).await?;
            }
            binds.push(mount.clone());
        }
        let (exposed, bindings) = port_bindings(&spec.ports)?;
        let mut labels = spec.labels.clone();
        labels.extend(self.labels());
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            env: (!spec.env.is_empty()).then(|| spec.env.clone()),
            cmd: spec.command.clone(),
            entrypoint: spec.entrypoint.clone(),
            labels: Some(labels),
            exposed_ports: (!exposed.is_empty()).then_some(exposed),
            healthcheck: spec.engine_healthcheck.clone(),
            user: spec.user.clone(),
            working_dir: spec.workdir.clone(),
            host_config: Some(HostConfig {
                binds: (!binds.is_empty()).then_some(binds),
                port_bindings: (!bindings.is_empty()).then_some(bindings),
                network_mode: spec.network.clone(),
                ..HostConfig::default()
            }),
            ..ContainerCreateBody::default()
        };
        let options = spec
            .name
            .as_ref()
            .map(|name| q::CreateContainerOptionsBuilder::new().name(name).build());
        let created = self
            .docker
            .create_container(options, body)
            .await
            .map_err(|source| match status_of(&source) {
                Some(409) => {
                    DockerError::NameTaken(spec.name.as_deref().unwrap_or_default().to_string())
                }
                _ => DockerError::Create {
                    image: spec.image.clone(),
                    source,
                },
            })?;
        self.start(&created.id).await
    }

    async fn ensure_volume(&self, name: &str) -> Result<(), DockerError> {
        match self.docker.inspect_volume(name).await {
            Ok(_) => Ok(()),
            Err(err) if status_of(&err) == Some(404) => self
                .docker
                .create_volume(VolumeCreateRequest {
                    name: Some(name.to_string()),
                    labels: Some(self.labels()),
                    ..VolumeCreateRequest::default()
                })
                .await
                .map(|_| ())
                .map_err(|source| DockerError::CreateVolume {
                    name: name.to_string(),
                    source,
                }),
            Err(source) => Err(DockerError::InspectVolume {
                name: name.to_string(),
                source,
            }),
        }
    }

    pub(super) async fn start(&self, name: &str) -> Result<(), DockerError> {
        match self
            .docker
            .start_container(name, None::<q::StartContainerOptions>)
            .await
        {
            Ok(()) => Ok(()),
            Err(err) if status_of(&err) == Some(304) => Ok(()),
            Err(err) if status_of(&err) == Some(404) => {
                Err(DockerError::NoContainer(name.to_string()))
            }
            Err(source) => Err(container_failed("starting", name, source)),
        }
    }

    pub(super) async fn stop(
        &self,
        name: &str,
        grace: Option<Duration>,
    ) -> Result<(), DockerError> {
        let options = grace.map(|g| {
            q::StopContainerOptionsBuilder::new()
                .t(g.as_secs() as i32)
                .build()
        });
        match self.docker.stop_container(name, options).await {
            Ok(()) => Ok(()),
            Err(err) if status_of(&err) == Some(304) => Ok(()),
            Err(err) if status_of(&err) == Some(404) => {
                Err(DockerError::NoContainer(name.to_string()))
            }
            Err(source) => Err(container_failed("stopping", name, source)),
        }
    }

    pub(super) async fn restart(
        &self,
        name: &str,
        grace: Option<Duration>,
    ) -> Result<(), DockerError> {
        let options = grace.map(|g| {
            q::RestartContainerOptionsBuilder::new()
                .t(g.as_secs() as i32)
                .build()
        });
        self.docker
            .restart_container(name, options)
            .await
            .map_err(|source| match status_of(&source) {
                Some(404) => DockerError::NoContainer(name.to_string()),
                _ => container_failed("restarting", name, source),
            })
    }

    pub(super) async fn remove(&self, name: &str, volumes: bool) -> Result<(), DockerError> {
        let named_volumes: Vec<String> = if volumes {
            self.inspect(name)
                .await?
                .mounts
                .unwrap_or_default()
                .into_iter()
                .filter(|m| m.typ.as_deref() == Some("volume"))
                .filter_map(|m| m.name)
                .collect()
        } else {
            Vec::new()
        };
        let options = q::RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(volumes)
            .build();
        self.docker
            .remove_container(name, Some(options))
            .await
            .map_err(|source| match status_of(&source) {
                Some(404) => DockerError::NoContainer(name.to_string()),
                _ => container_failed("removing", name, source),
            })?;
        for volume in named_volumes {
            self.docker
                .remove_volume(&volume, None::<q::RemoveVolumeOptions>)
                .await
                .map_err(|source| DockerError::RemoveVolume {
                    volume: volume.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    /// Stops `name`, recreates it from `image` with the configuration the
    /// operator gave it (not what the old image baked in), and starts it.
    /// If the new container cannot be created or started, the old one is
    /// put back and started again.
    pub(super) async fn replace(
        &self,
        name: &str,
        image: &str,
        grace: Option<Duration>,
    ) -> Result<(), DockerError> {
        let old = self.inspect(name).await?;
        self.image_present(image).await?;
        let old_image = match old.image.as_deref() {
            Some(id) => self.docker.inspect_image(id).await.ok(),
            None => None,
        };
        let body = recreate_body(
            &old,
            old_image.as_ref().and_then(|i| i.config.as_ref()),
            image,
            self.labels(),
        );
        let old_id = old.id.clone().unwrap_or_else(|| name.to_string());
        let parked = format!("{name}-replaced-{}", &self.ctx.run_id);
        self.stop(&old_id, grace).await?;
        self.docker
            .rename_container(
                &old_id,
                q::RenameContainerOptionsBuilder::new()
                    .name(&parked)
                    .build(),
            )
            .await
            .map_err(|source| DockerError::Rename {
                name: name.to_string(),
                source,
            })?;
        let restore_old = || async {
            let _ = self
                .docker
                .rename_container(
                    &old_id,
                    q::RenameContainerOptionsBuilder::new().name(name).build(),
                )
                .await;
            let _ = self.start(&old_id).await;
        };
        let created = match self
            .docker
            .create_container(
                Some(q::CreateContainerOptionsBuilder::new().name(name).build()),
                body,
            )
            .await
        {
            Ok(created) => created,
            Err(source) => {
                restore_old().await;
                return Err(DockerError::Recreate {
                    name: name.to_string(),
                    image: image.to_string(),
                    source,
                });
            }
        };
        if let Err(err) = self.start(&created.id).await {
            let _ = self
                .docker
                .remove_container(
                    &created.id,
                    Some(q::RemoveContainerOptionsBuilder::new().force(true).build()),
                )
                .await;
            restore_old().await;
            return Err(DockerError::NotStarted(Box::new(err)));
        }
        self.docker
            .remove_container(
                &old_id,
                Some(q::RemoveContainerOptionsBuilder::new().force(true).build()),
            )
            .await
            .map_err(DockerError::RemoveReplaced)
    }

    pub(super) async fn exec(
        &self,
        container: &str,
        argv: &[String],
        env: &[String],
        user: Option<&str>,
        workdir: Option<&str>,
        limit: usize,
    ) -> Result<ProgramOutput, DockerError> {
        let config = ExecConfig {
            attach_stdin: Some(false),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(false),
            cmd: Some(argv.to_vec()),
            env: (!env.is_empty()).then(|| env.to_vec()),
            user: user.map(str::to_string),
            working_dir: workdir.map(str::to_string),
            ..ExecConfig::default()
        };
        let created = self
            .docker
            .create_exec(container, config)
            .await
            .map_err(|source| match status_of(&source) {
                Some(404) => DockerError::NoContainer(container.to_string()),
                Some(409) => DockerError::NotRunning(container.to_string()),
                _ => exec_failed(container, source),
            })?;
        let started = self
            .docker
            .start_exec(&created.id, None::<bollard::exec::StartExecOptions>)
            .await
            .map_err(|source| exec_failed(container, source))?;
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        if let bollard::exec::StartExecResults::Attached { mut output, .. } = started {
            // Drain everything: an undrained stream can keep the exec open.
            while let Some(chunk) = output.next().await {
                match chunk {
                    Ok(bollard::container::LogOutput::StdOut { message }) => {
                        stdout.extend_from_slice(&message);
                    }
                    Ok(bollard::container::LogOutput::StdErr { message }) => {
                        stderr.extend_from_slice(&message);
                    }
                    Ok(_) => {}
                    Err(err) => return Err(DockerError::ExecOutput(err)),
                }
                if stdout.len() + stderr.len() > limit {
                    return Err(DockerError::ExecTooLarge { limit });
                }
            }
        }
        let inspected = self
            .docker
            .inspect_exec(&created.id)
            .await
            .map_err(|source| exec_failed(container, source))?;
        Ok(ProgramOutput {
            exit_code: inspected.exit_code.unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    }

    pub(super) async fn wait(
        &self,
        container: &str,
        until: &Until,
        within: Duration,
    ) -> Result<(), DockerError> {
        let deadline = Instant::now() + within;
        let mut last;
        loop {
            let state = self.inspect(container).await?.state.unwrap_or_default();
            let status = state.status.unwrap_or(ContainerStateStatusEnum::EMPTY);
            let health = state.health.as_ref().and_then(|h| h.status);
            last = format!(
                "state: {status}{}",
                health.map(|h| format!(", health: {h}")).unwrap_or_default()
            );
            let exited = matches!(
                status,
                ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD
            );
            match until {
                Until::Running if status == ContainerStateStatusEnum::RUNNING => return Ok(()),
                Until::Running if exited => {
                    return Err(DockerError::ExitedNotRunning {
                        container: container.to_string(),
                        code: state.exit_code.unwrap_or(-1),
                    });
                }
                Until::Healthy if health == Some(HealthStatusEnum::HEALTHY) => return Ok(()),
                Until::Healthy
                    if health.is_none()
                        || matches!(
                            health,
                            Some(HealthStatusEnum::NONE | HealthStatusEnum::EMPTY)
                        ) =>
                {
                    return Err(DockerError::NoHealthcheck(container.to_string()));
                }
                Until::Healthy if exited => {
                    return Err(DockerError::ExitedUnhealthy {
                        container: container.to_string(),
                        code: state.exit_code.unwrap_or(-1),
                    });
                }
                Until::Exited(expected) if exited => {
                    let code = state.exit_code.unwrap_or(-1);
                    return match expected {
                        Some(expected) if *expected != code => Err(DockerError::ExitCode {
                            container: container.to_string(),
                            code,
                            expected: *expected,
                        }),
                        _ => Ok(()),
                    };
                }
                Until::Log { text, times } => {
                    let seen = self.count_in_logs(container, text).await?;
                    if seen >= *times as usize {
                        return Ok(());
                    }
                    last = format!("{last}; {text:?} seen {seen} of {times} times");
                }
                _ => {}
            }
            if Instant::now() >= deadline {
                return Err(DockerError::WaitDeadline {
                    container: container.to_string(),
                    within,
                    last,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn count_in_logs(&self, container: &str, text: &str) -> Result<usize, DockerError> {
        let options = q::LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .build();
        let mut logs = self.docker.logs(container, Some(options));
        let mut all = Vec::new();
        while let Some(chunk) = logs.next().await {
            match chunk {
                Ok(output) => all.extend_from_slice(&output.into_bytes()),
                Err(source) => {
                    return Err(DockerError::Logs {
                        container: container.to_string(),
                        source,
                    });
                }
            }
        }
        Ok(String::from_utf8_lossy(&all).matches(text).count())
    }

    pub(super) async fn copy_out(
        &self,
        container: &str,
        path: &str,
        to: &Path,
    ) -> Result<(), DockerError> {
        let options = q::DownloadFromContainerOptionsBuilder::new()
            .path(path)
            .build();
        let mut stream = self
            .docker
            .download_from_container(container, Some(options));
        let mut archive = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|source| match status_of(&source) {
                Some(404) => DockerError::NoSuchPath {
                    container: container.to_string(),
                    path: path.to_string(),
                },
                _ => DockerError::CopyOut {
                    container: container.to_string(),
                    path: path.to_string(),
                    source,
                },
            })?;
            archive.extend_from_slice(&chunk);
        }
        crate::record::files::write_atomically(to, &archive).map_err(|source| DockerError::Write {
            path: to.to_path_buf(),
            source,
        })
    }

    pub(super) async fn copy_in(
        &self,
        container: &str,
        from: &Path,
        path: &str,
    ) -> Result<(), DockerError> {
        let archive = tokio::fs::read(from)
            .await
            .map_err(|source| DockerError::Read {
                path: from.to_path_buf(),
                source,
            })?;
        let options = q::UploadToContainerOptionsBuilder::new().path(path).build();
        self.docker
            .upload_to_container(container, Some(options), bollard::body_full(archive.into()))
            .await
            .map_err(|source| match status_of(&source) {
                Some(404) => DockerError::NoSuchTarget {
                    container: container.to_string(),
                    path: path.to_string(),
                },
                _ => DockerError::CopyIn {
                    from: from.to_path_buf(),
                    container: container.to_string(),
                    path: path.to_string(),
                    source: Box::new(source),
                },
            })
    }

    pub(super) async fn build(
        &self,
        context: &Path,
        dockerfile: &str,
        tag: &str,
        args: &HashMap<String, String>,
        labels: &HashMap<String, String>,
    ) -> Result<(), DockerError> {
        let context_dir = context.to_path_buf();
        let archive = tokio::task::spawn_blocking(move || pack_context(&context_dir))
            .await
            .map_err(DockerError::PackTask)??;
        let mut all_labels = labels.clone();
        all_labels.extend(self.labels());
        let options = q::BuildImageOptionsBuilder::new()
            .dockerfile(dockerfile)
            .t(tag)
            .rm(true)
            .buildargs(args)
            .labels(&all_labels)
            .build();
        let mut stream =
            self.docker
                .build_image(options, None, Some(bollard::body_full(archive.into())));
        let mut tail: Vec<String> = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(detail) = info.error_detail {
                        let message = detail.message.unwrap_or_default();
                        return Err(DockerError::BuildReported {
                            tag: tag.to_string(),
                            message: message.trim().to_string(),
                        });
                    }
                    if let Some(line) = info.stream {
                        let line = line.trim().to_string();
                        if !line.is_empty() {
                            tracing::debug!(target: "firedrill::docker", "build {tag}: {line}");
                            tail.push(line);
                            if tail.len() > 8 {
                                tail.remove(0);
                            }
                        }
                    }
                }
                Err(source) => {
                    return Err(DockerError::Build {
                        tag: tag.to_string(),
                        source,
                        tail,
                    });
                }
            }
        }
        self.image_present(tag).await.map(|_| ())
    }

    /// Removes every service, container, volume and image labelled with
    /// this run. Services go first: their tasks hold the volumes.
    pub(super) async fn sweep(&self) -> Result<(), DockerError> {
        let mut problems = self.sweep_services().await;
        let filter = HashMap::from([("label", vec![format!("{RUN_LABEL}={}", self.ctx.run_id)])]);
        let containers = self
            .docker
            .list_containers(Some(
                q::ListContainersOptionsBuilder::new()
                    .all(true)
                    .filters(&filter)
                    .build(),
            ))
            .await
            .map_err(|source| DockerError::List {
                what: "containers",
                source,
            })?;
        for container in containers {
            let Some(id) = container.id else { continue };
            let options = q::RemoveContainerOptionsBuilder::new()
                .force(true)
                .v(true)
                .build();
            if let Err(err) = self.docker.remove_container(&id, Some(options)).await {
                problems.push(format!(
                    "container {}: {}",
                    excerpt(&id, 12),
                    describe(&err)
                ));
            }
        }
        let volumes = self
            .docker
            .list_volumes(Some(
                q::ListVolumesOptionsBuilder::new().filters(&filter).build(),
            ))
            .await
            .map_err(|source| DockerError::List {
                what: "volumes",
                source,
            })?;
        for volume in volumes.volumes.unwrap_or_default() {
            if let Err(err) = self
                .docker
                .remove_volume(&volume.name, None::<q::RemoveVolumeOptions>)
                .await
            {
                problems.push(format!("volume {}: {}", volume.name, describe(&err)));
            }
        }
        let images = self
            .docker
            .list_images(Some(
                q::ListImagesOptionsBuilder::new().filters(&filter).build(),
            ))
            .await
            .map_err(|source| DockerError::List {
                what: "images",
                source,
            })?;
        for image in images {
            let options = q::RemoveImageOptionsBuilder::new().force(true).build();
            if let Err(err) = self
                .docker
                .remove_image(&image.id, Some(options), None)
                .await
            {
                problems.push(format!(
                    "image {}: {}",
                    excerpt(&image.id, 19),
                    describe(&err)
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(DockerError::Sweep(problems))
        }
    }

    /// Removes images by name (those `copy_image` loaded); one already
    /// gone is fine.
    pub(super) async fn remove_images(&self, images: &[String]) -> Result<(), DockerError> {
        let mut problems = Vec::new();
        for image in images {
            let options = q::RemoveImageOptionsBuilder::new().force(true).build();
            match self.docker.remove_image(image, Some(options), None).await {
                Err(err) if status_of(&err) != Some(404) => {
                    problems.push(format!("image {image}: {}", describe(&err)));
                }
                _ => {}
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(DockerError::Sweep(problems))
        }
    }

    /// Removes this run's services and waits (bounded) until their task
    /// containers are gone, so the volumes they mount can be removed. An
    /// engine that is not a swarm manager has no services: nothing to do.
    async fn sweep_services(&self) -> Vec<String> {
        let removed = match swarm::sweep(self.docker, self.ctx.run_id).await {
            Ok(removed) => removed,
            Err(err) if err.to_string().contains("not a swarm manager") => return Vec::new(),
            Err(err) => return vec![err.to_string()],
        };
        let deadline = Instant::now() + SERVICE_TASKS_GONE;
        for service in &removed {
            let filter = HashMap::from([(
                "label",
                vec![format!("com.docker.swarm.service.name={service}")],
            )]);
            let options = q::ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filter)
                .build();
            while Instant::now() < deadline {
                match self.docker.list_containers(Some(options.clone())).await {
                    Ok(left) if !left.is_empty() => {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    _ => break,
                }
            }
        }
        Vec::new()
    }

    /// Polls `path` on the container's first published port until 2xx.
    pub(super) async fn http_health(
        &self,
        name: &str,
        health: &HttpHealth,
    ) -> Result<(), DockerError> {
        let inspected = self.inspect(name).await?;
        let port = inspected
            .network_settings
            .and_then(|n| n.ports)
            .and_then(|ports| {
                ports
                    .into_values()
                    .flatten()
                    .flatten()
                    .find_map(|binding| binding.host_port.filter(|p| !p.is_empty()))
            })
            .ok_or_else(|| DockerError::NoPort(name.to_string()))?;
        let url = format!(
            "http://127.0.0.1:{port}/{}",
            health.path.trim_start_matches('/')
        );
        let poll = crate::steps::poll::Poll {
            http: self.ctx.http,
            url: &url,
            within: health.within,
            every: Duration::from_millis(100),
        };
        let never = tokio_util::sync::CancellationToken::new();
        let exited = || async {
            let state = self.inspect(name).await?.state.unwrap_or_default();
            match state.status {
                Some(ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD) => {
                    Err(DockerError::HealthExited {
                        name: name.to_string(),
                        code: state.exit_code.unwrap_or(-1),
                        url: url.clone(),
                    })
                }
                _ => Ok(()),
            }
        };
        poll.until_2xx(&never, exited)
            .await
            .map_err(|end| match end {
                crate::steps::poll::PollEnd::TimedOut { last } => DockerError::Unhealthy {
                    url: url.clone(),
                    within: health.within,
                    last,
                },
                crate::steps::poll::PollEnd::Stopped(why) => why,
                crate::steps::poll::PollEnd::Cancelled => DockerError::Cancelled,
            })
    }
}

/// `"8080"`, `"18080:8080"`, `"127.0.0.1:18080:8080/tcp"` as Docker wants
/// them: exposed ports and their host bindings.
fn port_bindings(ports: &[String]) -> Result<(Vec<String>, PortMap), DockerError> {
    let mut exposed = Vec::new();
    let mut bindings: PortMap = HashMap::new();
    for spec in ports {
        let (addr, proto) = match spec.rsplit_once('/') {
            Some((addr, proto)) => (addr, proto),
            None => (spec.as_str(), "tcp"),
        };
        let parts: Vec<&str> = addr.split(':').collect();
        let (host_ip, host_port, container_port) = match parts.as_slice() {
            [container] => (None, None, *container),
            [host, container] => (None, Some(*host), *container),
            [ip, host, container] => (Some(*ip), Some(*host), *container),
            _ => return Err(DockerError::PortShape(spec.clone())),
        };
        if container_port.parse::<u16>().is_err()
            || host_port.is_some_and(|p| !p.is_empty() && p.parse::<u16>().is_err())
        {
            return Err(DockerError::PortNumber(spec.clone()));
        }
        let key = format!("{container_port}/{proto}");
        exposed.push(key.clone());
        if host_port.is_some() {
            bindings
                .entry(key)
                .or_insert_with(|| Some(Vec::new()))
                .get_or_insert_with(Vec::new)
                .push(PortBinding {
                    host_ip: host_ip.map(str::to_string),
                    host_port: host_port.map(str::to_string),
                });
        }
    }
    Ok((exposed, bindings))
}

/// The create body for `replace`: the container's own configuration minus
/// what its old image baked in (so the new image's defaults apply), with
/// the same host configuration (mounts, ports, network) and labels.
fn recreate_body(
    old: &ContainerInspectResponse,
    old_image: Option<&bollard::models::ImageConfig>,
    image: &str,
    run_labels: HashMap<String, String>,
) -> ContainerCreateBody {
    let config = old.config.clone().unwrap_or_default();
    let image_env = old_image.and_then(|i| i.env.clone()).unwrap_or_default();
    let env: Vec<String> = config
        .env
        .unwrap_or_default()
        .into_iter()
        .filter(|e| !image_env.contains(e))
        .collect();
    let image_labels = old_image.and_then(|i| i.labels.clone()).unwrap_or_default();
    let mut labels: HashMap<String, String> = config
        .labels
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, v)| image_labels.get(k) != Some(v))
        .collect();
    labels.extend(run_labels);
    let differs = |own: &Option<Vec<String>>, baked: Option<&Option<Vec<String>>>| match baked {
        Some(baked) => own != baked,
        None => own.is_some(),
    };
    let cmd = differs(&config.cmd, old_image.map(|i| &i.cmd))
        .then(|| config.cmd.clone())
        .flatten();
    let entrypoint = differs(&config.entrypoint, old_image.map(|i| &i.entrypoint))
        .then(|| config.entrypoint.clone())
        .flatten();
    let image_ports = old_image
        .and_then(|i| i.exposed_ports.clone())
        .unwrap_or_default();
    let exposed: Vec<String> = config
        .exposed_ports
        .unwrap_or_default()
        .into_iter()
        .filter(|p| !image_ports.contains(p))
        .collect();
    let keep = |own: Option<String>, baked: Option<String>| {
        own.filter(|o| !o.is_empty() && Some(o) != baked.as_ref())
    };
    ContainerCreateBody {
        image: Some(image.to_string()),
        env: Some(env),
        cmd,
        entrypoint,
        labels: Some(labels),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        user: keep(config.user, old_image.and_then(|i| i.user.clone())),
        working_dir: keep(
            config.working_dir,
            old_image.and_then(|i| i.working_dir.clone()),
        ),
        healthcheck: if config.healthcheck == old_image.and_then(|i| i.healthcheck.clone()) {
            None
        } else {
            config.healthcheck
        },
        stop_signal: config.stop_signal,
        stop_timeout: config.stop_timeout,
        host_config: old.host_config.clone(),
        ..ContainerCreateBody::default()
    }
}

/// Packs a build context directory into a tar archive in memory.
fn pack_context(dir: &Path) -> Result<Vec<u8>, DockerError> {
    if !dir.is_dir() {
        return Err(DockerError::NoContext(dir.to_path_buf()));
    }
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(true);
    // The engine rejects GNU sparse entries, and a fresh release binary is
    // often sparse on disk. Deterministic headers keep the build cache warm.
    builder.sparse(false);
    builder.mode(tar::HeaderMode::Deterministic);
    let packing_failed = |source| DockerError::Pack {
        dir: dir.to_path_buf(),
        source,
    };
    builder.append_dir_all(".", dir).map_err(packing_failed)?;
    builder.into_inner().map_err(packing_failed)
}

/// Starting, stopping, restarting or removing `name` failed.
fn container_failed(
    doing: &'static str,
    name: &str,
    source: bollard::errors::Error,
) -> DockerError {
    DockerError::Container {
        doing,
        name: name.to_string(),
        source,
    }
}

/// Creating, starting or inspecting an exec in `container` failed.
fn exec_failed(container: &str, source: bollard::errors::Error) -> DockerError {
    DockerError::Exec {
        container: container.to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::docker::RUN_LABEL;

    #[test]
    fn port_specs() {
        let (exposed, bindings) = port_bindings(&[
            "8080".into(),
            "18080:8080".into(),
            "127.0.0.1:9000:9000/udp".into(),
        ])
        .unwrap();
        assert_eq!(exposed, vec!["8080/tcp", "8080/tcp", "9000/udp"]);
        let tcp = bindings["8080/tcp"].as_ref().unwrap();
        assert_eq!(tcp[0].host_port.as_deref(), Some("18080"));
        let udp = bindings["9000/udp"].as_ref().unwrap();
        assert_eq!(udp[0].host_ip.as_deref(), Some("127.0.0.1"));
        assert!(port_bindings(&["a:b:c:d".into()]).is_err());
        assert!(port_bindings(&["http".into()]).is_err());
    }

    #[test]
    fn replace_keeps_the_operators_config_and_drops_what_the_old_image_baked_in() {
        let old = ContainerInspectResponse {
            config: Some(bollard::models::ContainerConfig {
                env: Some(vec![
                    "DEMO_VERSION_TAG=1".into(),
                    "DEMO_ADMIN_TOKEN=t".into(),
                ]),
                cmd: Some(vec!["--listen".into()]),
                labels: Some(HashMap::from([
                    ("team".into(), "sre".into()),
                    ("baked".into(), "yes".into()),
                ])),
                ..Default::default()
            }),
            host_config: Some(HostConfig {
                binds: Some(vec!["data:/data".into()]),
                ..HostConfig::default()
            }),
            ..Default::default()
        };
        let image = bollard::models::ImageConfig {
            env: Some(vec!["DEMO_VERSION_TAG=1".into()]),
            cmd: None,
            labels: Some(HashMap::from([("baked".into(), "yes".into())])),
            ..Default::default()
        };
        let body = recreate_body(
            &old,
            Some(&image),
            "demo-app:2",
            HashMap::from([(RUN_LABEL.into(), "r".into())]),
        );
        assert_eq!(body.image.as_deref(), Some("demo-app:2"));
        assert_eq!(body.env, Some(vec!["DEMO_ADMIN_TOKEN=t".to_string()]));
        assert_eq!(body.cmd, Some(vec!["--listen".to_string()]));
        let labels = body.labels.unwrap();
        assert_eq!(labels.get("team").map(String::as_str), Some("sre"));
        assert!(!labels.contains_key("baked"));
        assert_eq!(labels.get(RUN_LABEL).map(String::as_str), Some("r"));
        assert_eq!(
            body.host_config.unwrap().binds,
            Some(vec!["data:/data".to_string()])
        );
    }
}
