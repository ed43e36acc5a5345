//! The connections to the Docker engines of a run and their errors in
//! words: one engine (`target.docker`, `DOCKER_HOST` or the local socket),
//! or several by name (`engines:`), each connected on first use.

use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as DockerError;
use tokio::sync::OnceCell;

/// Where the engine is when neither `target.docker` nor `DOCKER_HOST` say.
pub(crate) const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// The connection to the Docker engine, opened on the first Docker step so
/// drills without one never touch it.
pub(crate) struct Engine {
    /// The engine's name under `engines:`; `None` for the drill's only one.
    name: Option<String>,
    address: String,
    connection: OnceCell<Result<(Docker, String), Unreachable>>,
    /// Images `copy_image` brought here that were not here before: they
    /// carry another run's labels (or none), so `sweep` needs this list.
    loaded: std::sync::Mutex<Vec<String>>,
}

impl Engine {
    /// `configured`: `target.docker`, resolved. Falls back to `DOCKER_HOST`,
    /// then the local socket. Docker contexts are not read.
    pub(crate) fn new(configured: Option<String>) -> Self {
        let address = configured
            .filter(|a| !a.is_empty())
            .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|a| !a.is_empty()))
            .unwrap_or_else(|| DEFAULT_HOST.to_string());
        Engine {
            name: None,
            address,
            connection: OnceCell::new(),
            loaded: std::sync::Mutex::default(),
        }
    }

    /// An engine of `engines:`, by name; its address is already resolved.
    pub(crate) fn named(name: &str, address: &str) -> Self {
        Engine {
            name: Some(name.to_string()),
            address: address.to_string(),
            connection: OnceCell::new(),
            loaded: std::sync::Mutex::default(),
        }
    }

    /// The name under `engines:`, if the drill has several engines.
    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// `image` was loaded here by this run and was not here before.
    pub(crate) fn remember_loaded(&self, image: &str) {
        self.loaded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(image.to_string());
    }

    /// The images [`Engine::remember_loaded`] kept, handed to the sweep.
    pub(crate) fn take_loaded(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .loaded
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Whether a step has asked for this engine (connected or not).
    pub(crate) fn touched(&self) -> bool {
        self.connection.initialized()
    }

    /// "the Docker engine `safe` at unix:///…", or without the name for a
    /// drill's only engine: how messages name it.
    pub(crate) fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("the Docker engine `{name}` at {}", self.address),
            None => format!("the Docker engine at {}", self.address),
        }
    }

    /// After a failed call: if the engine no longer answers (killed,
    /// socket gone), the one line that says so, naming it; `None` when it
    /// still answers, so the call's own error stands.
    pub(crate) async fn gone(&self) -> Option<String> {
        let Some(Ok((docker, _))) = self.connection.get() else {
            return None;
        };
        let why = match tokio::time::timeout(PING_WITHIN, docker.ping()).await {
            Ok(Ok(_)) => return None,
            Ok(Err(err)) => describe(&err),
            Err(_) => format!("no answer within {}s", PING_WITHIN.as_secs()),
        };
        Some(format!("cannot reach {}: {why}", self.label()))
    }

    /// The engine's version, once connected.
    pub(crate) fn version(&self) -> Option<String> {
        match self.connection.get() {
            Some(Ok((_, version))) => Some(version.clone()),
            _ => None,
        }
    }

    /// Connects (once) and asks the engine its version; the error is one
    /// line naming the address and what to check.
    pub(crate) async fn docker(&self) -> Result<&Docker, Unreachable> {
        let connection = self
            .connection
            .get_or_init(|| async {
                let unreachable = |why: String| Unreachable {
                    engine: self.label(),
                    why,
                    named: self.name.is_some(),
                };
                let docker = Docker::connect_with_host(&self.address)
                    .map_err(|err| unreachable(describe(&err)))?
                    // bollard's own 120 s limit would cut long builds and
                    // stops; every step has firedrill's deadline instead.
                    .with_timeout(Duration::from_secs(24 * 3600));
                let version = tokio::time::timeout(Duration::from_secs(10), docker.version())
                    .await
                    .map_err(|_| unreachable("no answer within 10s".into()))?
                    .map_err(|err| unreachable(describe(&err)))?;
                Ok((docker, version.version.unwrap_or_else(|| "unknown".into())))
            })
            .await;
        match connection {
            Ok((docker, _)) => Ok(docker),
            Err(err) => Err(err.clone()),
        }
    }
}

/// The engine did not answer when a step first asked for it. Kept for the
/// run: every later step on the engine fails with the same words.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot reach {engine}: {why} ({})", hint(*.named))]
pub(crate) struct Unreachable {
    /// The engine as messages name it ([`Engine::label`]).
    engine: String,
    /// What the connection or the version call said.
    why: String,
    /// Whether the engine is one of the drill's `engines:`, which says
    /// where its address came from.
    named: bool,
}

/// What to check when an engine is unreachable: whether it runs, and
/// where its address came from.
fn hint(named: bool) -> String {
    if named {
        "is dockerd running there? the address comes from the drill's `engines:`".into()
    } else {
        format!(
            "is dockerd running? firedrill uses target.docker, else DOCKER_HOST, else {DEFAULT_HOST}; Docker contexts are not read"
        )
    }
}

/// How long a liveness check after a failed call may take: a dead socket
/// refuses at once, a hung engine must not hang the step's error.
const PING_WITHIN: Duration = Duration::from_secs(3);

/// A Docker step asked for an engine the drill does not declare; `check`
/// finds these, so this is for drills that skipped it.
#[derive(Debug, thiserror::Error)]
#[error("no Docker engine `{name}` in this drill (engines: {known})")]
pub(crate) struct UnknownEngine {
    name: String,
    known: String,
}

/// Every Docker engine of a run: the drill's `engines:` in order, or the
/// one engine of `target.docker` / `DOCKER_HOST` / the local socket. The
/// first is the default of a step without `on:`.
pub(crate) struct Engines {
    engines: Vec<Engine>,
}

impl Engines {
    /// `named`: the drill's `engines:`, resolved, in order; empty for a
    /// drill with one engine, which `single` (`target.docker`) then names.
    pub(crate) fn new(named: &[(String, String)], single: Option<String>) -> Self {
        let engines = if named.is_empty() {
            vec![Engine::new(single)]
        } else {
            named
                .iter()
                .map(|(name, address)| Engine::named(name, address))
                .collect()
        };
        Engines { engines }
    }

    /// The engine a step acts on: `on:`, or the default.
    pub(crate) fn get(&self, on: Option<&str>) -> Result<&Engine, UnknownEngine> {
        let Some(name) = on else {
            return Ok(self.default_engine());
        };
        self.engines
            .iter()
            .find(|e| e.name() == Some(name))
            .ok_or_else(|| UnknownEngine {
                name: name.to_string(),
                known: self
                    .engines
                    .iter()
                    .filter_map(Engine::name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The first engine: the one steps without `on:` act on.
    pub(crate) fn default_engine(&self) -> &Engine {
        &self.engines[0]
    }

    /// The engines steps have asked for, in the drill's order.
    pub(crate) fn touched(&self) -> impl Iterator<Item = &Engine> {
        self.engines.iter().filter(|e| e.touched())
    }

    /// Each named engine's version, for the record (empty for a drill with
    /// one unnamed engine, whose version is `docker_version`).
    pub(crate) fn versions(&self) -> std::collections::BTreeMap<String, String> {
        self.engines
            .iter()
            .filter_map(|e| Some((e.name()?.to_string(), e.version()?)))
            .collect()
    }
}

/// A bollard error as a person would say it: the engine's own message for
/// API errors, the innermost cause otherwise.
pub(crate) fn describe(err: &DockerError) -> String {
    match err {
        DockerError::DockerResponseServerError {
            status_code,
            message,
        } => format!("{} (HTTP {status_code})", message.trim()),
        DockerError::RequestTimeoutError => "the engine did not answer in time".into(),
        DockerError::SocketNotFoundError(path) => format!("no socket at {path}"),
        other => crate::steps::attempt::error_chain(other),
    }
}

pub(super) fn status_of(err: &DockerError) -> Option<u16> {
    match err {
        DockerError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}
