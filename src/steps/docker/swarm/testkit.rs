//! What the real-swarm tests share: the connection (a test that cannot
//! reach a swarm manager fails, it is never skipped), tiny images built
//! offline, unique names, and a guard that removes a test's services even
//! when the test fails.
//!
//! The images hold three hand-assembled static x86-64 programs, so they
//! need nothing but the engine (no registry, no toolchain, no busybox):
//! `/app` waits for a signal forever, `/fail` exits 3, `/ok` exits 0.
//! Services run them with `init: true` so SIGTERM stops `/app` at once.

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use bollard::models::LocalNodeState;
use bollard::query_parameters as q;
use futures_util::StreamExt;
use tokio::sync::OnceCell;

use super::{FailureAction, Mode, Order, Owner, RestartPolicy, ServiceInput, UpdatePolicy, sweep};
use crate::steps::docker::RUN_LABEL;

pub(super) const IMAGE_1: &str = "fd-swarm-test:1";
pub(super) const IMAGE_2: &str = "fd-swarm-test:2";
/// Its command exits 3: a release that cannot start.
pub(super) const BROKEN: &str = "fd-swarm-test:broken";
/// Bumped when the images' content changes, so old ones are rebuilt.
const CONTENT: &str = "1";
const CONTENT_LABEL: &str = "firedrill.test.swarm";

/// A deadline no test should reach; the tests of deadlines set their own.
pub(super) const DEADLINE: Duration = Duration::from_secs(60);

/// The engine, checked to be a swarm manager, with the test images.
pub(super) async fn engine() -> Docker {
    static IMAGES: OnceCell<()> = OnceCell::const_new();
    let docker = Docker::connect_with_defaults()
        .unwrap_or_else(|err| panic!("cannot connect to the Docker engine: {err}"));
    let info = docker.info().await.unwrap_or_else(|err| {
        panic!("the Swarm tests need a Docker engine (DOCKER_HOST or /var/run/docker.sock): {err}")
    });
    let swarm = info.swarm.unwrap_or_default();
    if swarm.local_node_state != Some(LocalNodeState::ACTIVE)
        || swarm.control_available != Some(true)
    {
        panic!(
            "the Swarm tests need this engine to be a swarm manager (state {:?}): run `docker swarm init --advertise-addr 127.0.0.1`",
            swarm.local_node_state
        );
    }
    IMAGES.get_or_init(|| build_images(&docker)).await;
    docker
}

async fn build_images(docker: &Docker) {
    for (tag, cmd) in [("1", "/app"), ("2", "/app"), ("broken", "/fail")] {
        let reference = format!("fd-swarm-test:{tag}");
        if let Ok(image) = docker.inspect_image(&reference).await {
            let labels = image.config.and_then(|c| c.labels).unwrap_or_default();
            if labels.get(CONTENT_LABEL).map(String::as_str) == Some(CONTENT) {
                continue;
            }
        }
        let options = q::CreateImageOptions {
            from_src: Some("-".into()),
            repo: Some("fd-swarm-test".into()),
            tag: Some(tag.into()),
            changes: vec![
                format!("CMD [\"{cmd}\"]"),
                format!("LABEL {CONTENT_LABEL}={CONTENT}"),
            ],
            ..Default::default()
        };
        let body = bollard::body_full(rootfs(tag).into());
        let mut progress = docker.create_image(Some(options), Some(body), None);
        while let Some(step) = progress.next().await {
            step.unwrap_or_else(|err| panic!("importing {reference} failed: {err}"));
        }
    }
}

/// The image's files: the three programs and `/version`.
fn rootfs(version: &str) -> Vec<u8> {
    let programs: [(&str, &[u8]); 3] = [
        // loop { pause() }
        ("app", &[0xb8, 0x22, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xf7]),
        // exit(3)
        ("fail", &[0xbf, 3, 0, 0, 0, 0xb8, 0x3c, 0, 0, 0, 0x0f, 0x05]),
        // exit(0)
        ("ok", &[0xbf, 0, 0, 0, 0, 0xb8, 0x3c, 0, 0, 0, 0x0f, 0x05]),
    ];
    let mut archive = tar::Builder::new(Vec::new());
    let mut add = |path: &str, mode: u32, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_cksum();
        archive.append_data(&mut header, path, data).unwrap();
    };
    for (name, code) in programs {
        add(name, 0o755, &elf(code));
    }
    add("version", 0o644, version.as_bytes());
    archive.into_inner().unwrap()
}

/// A minimal static ELF64 executable: one loadable segment holding `code`.
fn elf(code: &[u8]) -> Vec<u8> {
    const BASE: u64 = 0x40_0000;
    const HEADERS: u64 = 64 + 56;
    let size = HEADERS + code.len() as u64;
    let mut out = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    out.extend(2u16.to_le_bytes()); // executable
    out.extend(0x3eu16.to_le_bytes()); // x86-64
    out.extend(1u32.to_le_bytes());
    out.extend((BASE + HEADERS).to_le_bytes()); // entry
    out.extend(64u64.to_le_bytes()); // program headers
    out.extend(0u64.to_le_bytes()); // no section headers
    out.extend(0u32.to_le_bytes());
    for half in [64u16, 56, 1, 0, 0, 0] {
        out.extend(half.to_le_bytes());
    }
    out.extend(1u32.to_le_bytes()); // PT_LOAD
    out.extend(5u32.to_le_bytes()); // read + execute
    for word in [0, BASE, BASE, size, size, 0x1000] {
        out.extend(word.to_le_bytes());
    }
    out.extend_from_slice(code);
    out
}

/// One test's run: its owner labels, unique names, and the cleanup.
pub(super) struct Run {
    pub owner: Owner,
    suffix: String,
}

impl Run {
    pub(super) fn new() -> Self {
        let suffix = random_hex();
        Run {
            owner: Owner {
                run_id: format!("swarm-test-{suffix}"),
                drill: "swarm-core-tests".into(),
            },
            suffix,
        }
    }

    /// A service name no other test (or engineer) uses.
    pub(super) fn name(&self, what: &str) -> String {
        format!("fdt-{what}-{}", self.suffix)
    }

    /// A port in 38000..39000 for host-mode publishing, so two runs of the
    /// tests (or two engineers) do not ask for the same one.
    pub(super) fn port(&self) -> u16 {
        38000 + (u32::from_str_radix(&self.suffix, 16).unwrap_or(0) % 1000) as u16
    }

    /// A replicated service of `image` with quick update and rollback
    /// policies (monitor 1s, no delay, the engine rolls back on failure).
    pub(super) fn input(&self, what: &str, image: &str, replicas: u64) -> ServiceInput {
        let quick = UpdatePolicy {
            parallelism: Some(1),
            delay: Some(Duration::ZERO),
            order: Some(Order::StopFirst),
            failure_action: Some(FailureAction::Rollback),
            monitor: Some(Duration::from_secs(1)),
            max_failure_ratio: None,
        };
        ServiceInput {
            name: self.name(what),
            image: image.into(),
            mode: Mode::Replicated(replicas),
            update: Some(quick),
            rollback: Some(UpdatePolicy {
                failure_action: Some(FailureAction::Pause),
                ..quick
            }),
            restart: Some(RestartPolicy {
                delay: Some(Duration::from_millis(200)),
                ..Default::default()
            }),
            init: true,
            stop_grace_period: Some(Duration::from_secs(2)),
            ..Default::default()
        }
    }
}

/// Removes the run's services and volumes, also when the test panicked
/// (its own thread and runtime: the test's runtime may be unwinding).
impl Drop for Run {
    fn drop(&mut self) {
        let run = self.owner.run_id.clone();
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(remove_run(&run));
        });
        let _ = cleanup.join();
    }
}

async fn remove_run(run: &str) {
    let Ok(docker) = Docker::connect_with_defaults() else {
        return;
    };
    if let Err(err) = sweep(&docker, run).await {
        eprintln!("cleanup of {run}: {err}");
    }
    let filters = HashMap::from([("label", vec![format!("{RUN_LABEL}={run}")])]);
    // Volumes are released once the tasks' containers are gone.
    for _ in 0..50 {
        let options = q::ListVolumesOptionsBuilder::new()
            .filters(&filters)
            .build();
        let volumes = match docker.list_volumes(Some(options)).await {
            Ok(list) => list.volumes.unwrap_or_default(),
            Err(_) => return,
        };
        if volumes.is_empty() {
            return;
        }
        for volume in volumes {
            let _ = docker
                .remove_volume(&volume.name, None::<q::RemoveVolumeOptions>)
                .await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 3];
    getrandom::fill(&mut bytes).expect("random bytes");
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .concat()
}
