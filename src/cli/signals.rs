//! Ctrl-C and SIGTERM during a run: the first stops the steps and runs
//! cleanup, the second skips the rest of cleanup; the first one received
//! decides the exit code.

use super::exit;
use crate::run::{Cancellation, Stop};

/// The exit code of an interrupted run: 143 after SIGTERM, else 130.
pub(super) fn interrupted_exit_code() -> i32 {
    match LAST_SIGNAL.get() {
        Some(Signal::Terminate) => exit::TERMINATED,
        _ => exit::INTERRUPTED,
    }
}

/// Which signal stopped the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Interrupt,
    Terminate,
}

/// First SIGINT/SIGTERM: stop the steps, run cleanup. Second: skip the rest
/// of cleanup. The record is written either way.
pub(super) async fn watch_signals(cancel: Cancellation) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return;
    };
    loop {
        let got = tokio::select! {
            _ = interrupt.recv() => Signal::Interrupt,
            _ = terminate.recv() => Signal::Terminate,
        };
        if LAST_SIGNAL.set(got).is_ok() {
            eprintln!(
                "\ninterrupted: stopping the steps and running cleanup (press Ctrl-C again to skip cleanup)"
            );
            cancel.stop(Stop::Interrupted(format!("interrupted by {got:?}")));
        } else {
            eprintln!(
                "\ninterrupted again: skipping the rest of cleanup; the record will still be written"
            );
            cancel.stop_cleanup();
        }
    }
}

/// The first signal received, for the exit code.
static LAST_SIGNAL: std::sync::OnceLock<Signal> = std::sync::OnceLock::new();
