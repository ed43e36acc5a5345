//! `copy_image`: an image from one engine to another without a registry.
//! The `from` engine's export (`docker save`) is streamed through a
//! bounded channel into the `to` engine's load (`docker load`): at most
//! [`CHANNEL_CHUNKS`] chunks are in memory, never the whole tarball.
//!
//! The step captures `copied_bytes` (the size of the stream that moved),
//! so the record shows it and later steps may use `${copied_bytes}`.

use std::time::Instant;

use bollard::Docker;
use bollard::query_parameters as q;
use futures_util::{Stream, StreamExt};
use serde_json::json;
use tokio::sync::mpsc;

use super::engine::{Engine, UnknownEngine, Unreachable, describe, status_of};
use crate::steps::attempt::{Attempt, Captured};
use crate::steps::context::StepContext;

/// The capture a `copy_image` step makes: how many bytes moved.
pub(super) const COPIED_BYTES: &str = "copied_bytes";

/// Chunks in flight between the export and the load. The engine's chunks
/// are a few KiB to 32 KiB, so this bounds the copy's memory to about 1 MiB
/// whatever the image's size.
const CHANNEL_CHUNKS: usize = 32;

/// Why a copy failed, each naming the engine by name and address.
#[derive(Debug, thiserror::Error)]
enum CopyError {
    #[error(transparent)]
    Unknown(#[from] UnknownEngine),
    /// The engine's own one-line "cannot reach …".
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
    #[error(
        "image `{image}` is not on {engine}: build or load it there first (firedrill never pulls)"
    )]
    Missing { image: String, engine: String },
    #[error("inspecting `{image}` on {engine} failed: {why}")]
    Inspect {
        image: String,
        engine: String,
        why: String,
    },
    #[error("exporting `{image}` from {engine} failed after {bytes} bytes: {why}")]
    Export {
        image: String,
        engine: String,
        bytes: u64,
        why: String,
    },
    #[error("loading `{image}` into {engine} failed after {bytes} bytes: {why}")]
    Load {
        image: String,
        engine: String,
        bytes: u64,
        why: LoadError,
    },
}

/// Why the `to` engine did not load the image.
#[derive(Debug, thiserror::Error)]
enum LoadError {
    /// The load call itself failed (the engine's words).
    #[error("{}", describe(.0))]
    Engine(#[source] bollard::errors::Error),
    /// The load's progress stream reported an error (its message, trimmed).
    #[error("{0}")]
    Reported(String),
    /// The load said nothing wrong, but the image is not there.
    #[error("the image is not there afterwards: {}", describe(.0))]
    Missing(#[source] bollard::errors::Error),
}

/// Runs a `copy_image` step: the image's bytes captured on success.
pub(super) async fn run(ctx: &StepContext<'_>, image: &str, from: &str, to: &str) -> Attempt {
    let source = match ctx.engines.get(Some(from)) {
        Ok(engine) => engine,
        Err(err) => return Attempt::failed(err.to_string()),
    };
    let target = match ctx.engines.get(Some(to)) {
        Ok(engine) => engine,
        Err(err) => return Attempt::failed(err.to_string()),
    };
    let started = Instant::now();
    match copy(source, target, image).await {
        Ok(bytes) => {
            tracing::info!(
                target: "firedrill::docker",
                "copied {image} from `{from}` to `{to}`: {bytes} bytes in {:?}",
                started.elapsed()
            );
            Attempt::passed(vec![Captured {
                name: COPIED_BYTES.into(),
                value: json!(bytes),
            }])
        }
        Err(err) => {
            // A dead engine says so in one line, whatever call noticed it.
            for engine in [source, target] {
                if let Some(gone) = engine.gone().await {
                    return Attempt::failed(gone);
                }
            }
            Attempt::failed(err.to_string())
        }
    }
}

/// Streams the image across; the bytes moved.
async fn copy(source: &Engine, target: &Engine, image: &str) -> Result<u64, CopyError> {
    let from = source.docker().await?;
    let to = target.docker().await?;
    from.inspect_image(image)
        .await
        .map_err(|err| match status_of(&err) {
            Some(404) => CopyError::Missing {
                image: image.into(),
                engine: source.label(),
            },
            _ => CopyError::Inspect {
                image: image.into(),
                engine: source.label(),
                why: describe(&err),
            },
        })?;
    let was_there = to.inspect_image(image).await.is_ok();
    let (sender, receiver) = mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(CHANNEL_CHUNKS);
    let (exported, loaded) =
        tokio::join!(pump(from.export_image(image), sender), load(to, receiver));
    let bytes = exported
        .as_ref()
        .map_or_else(|(bytes, _)| *bytes, |bytes| *bytes);
    if let Err((bytes, why)) = exported {
        return Err(CopyError::Export {
            image: image.into(),
            engine: source.label(),
            bytes,
            why,
        });
    }
    let load_failed = |why: LoadError| CopyError::Load {
        image: image.into(),
        engine: target.label(),
        bytes,
        why,
    };
    loaded.map_err(load_failed)?;
    // The load answers 200 and reports problems in its stream; the image
    // being there is the proof.
    to.inspect_image(image)
        .await
        .map_err(|err| load_failed(LoadError::Missing(err)))?;
    if !was_there {
        target.remember_loaded(image);
    }
    Ok(bytes)
}

/// Moves the export's chunks into the channel; the bytes sent, or the
/// bytes sent and why the export broke (the load then sees the error too,
/// and fails instead of loading half an image).
async fn pump(
    export: impl Stream<Item = Result<bytes::Bytes, bollard::errors::Error>>,
    sender: mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
) -> Result<u64, (u64, String)> {
    let mut export = std::pin::pin!(export);
    let mut bytes = 0u64;
    while let Some(chunk) = export.next().await {
        match chunk {
            Ok(chunk) => {
                bytes += chunk.len() as u64;
                if sender.send(Ok(chunk)).await.is_err() {
                    // The load stopped reading: its own error says why.
                    return Ok(bytes);
                }
            }
            Err(err) => {
                let why = describe(&err);
                let _ = sender.send(Err(std::io::Error::other(why.clone()))).await;
                return Err((bytes, why));
            }
        }
    }
    Ok(bytes)
}

/// Feeds the channel to the engine's image load; the engine's error, if
/// its progress stream reports one.
async fn load(
    docker: &Docker,
    receiver: mpsc::Receiver<Result<bytes::Bytes, std::io::Error>>,
) -> Result<(), LoadError> {
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    let options = q::ImportImageOptionsBuilder::new().quiet(true).build();
    let mut progress = std::pin::pin!(docker.import_image_stream(options, body, None));
    while let Some(item) = progress.next().await {
        let info = item.map_err(LoadError::Engine)?;
        if let Some(detail) = info.error_detail {
            return Err(LoadError::Reported(
                detail.message.unwrap_or_default().trim().to_string(),
            ));
        }
        if let Some(line) = info.stream {
            tracing::debug!(target: "firedrill::docker", "load: {}", line.trim());
        }
    }
    Ok(())
}
