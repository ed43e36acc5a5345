//! The connection to the Docker engine and its errors in words.

use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as DockerError;
use tokio::sync::OnceCell;

/// Where the engine is when neither `target.docker` nor `DOCKER_HOST` say.
pub(crate) const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// The connection to the Docker engine, opened on the first Docker step so
/// drills without one never touch it.
pub(crate) struct Engine {
    address: String,
    connection: OnceCell<Result<(Docker, String), String>>,
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
            address,
            connection: OnceCell::new(),
        }
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
    pub(crate) async fn docker(&self) -> Result<&Docker, String> {
        let connection = self
            .connection
            .get_or_init(|| async {
                let unreachable = |why: String| {
                    format!(
                        "cannot reach the Docker engine at {}: {why} (is dockerd running? firedrill uses target.docker, else DOCKER_HOST, else {DEFAULT_HOST}; Docker contexts are not read)",
                        self.address
                    )
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
