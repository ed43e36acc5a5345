//! The firedrill binary: parse arguments, set up logs, run, exit.

use clap::Parser;
use firedrill::cli::{Cli, exit};
use firedrill::redact::RedactingWriter;

fn main() {
    // `firedrill --version` alone answers before clap builds the whole
    // command tree (every subcommand and flag): clap's own words.
    if is_version_only() {
        println!("firedrill {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                exit::INVALID
            } else {
                exit::PASSED
            };
            let _ = err.print();
            std::process::exit(code);
        }
    };
    // reqwest and bollard both use rustls; exactly one crypto provider must
    // be installed before either makes a connection.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    init_logs();
    std::process::exit(firedrill::cli::main(cli));
}

/// Whether the command line is `--version` or `-V` and nothing else.
fn is_version_only() -> bool {
    let mut args = std::env::args_os().skip(1);
    matches!(
        (args.next(), args.next()),
        (Some(arg), None) if arg == "--version" || arg == "-V"
    )
}

/// Logs go to stderr, secrets masked, at `warn` unless `RUST_LOG` says
/// otherwise. Without `RUST_LOG` a plain level filter does: an
/// `EnvFilter` is only built (its directives parsed) when one is given.
fn init_logs() {
    let logs = tracing_subscriber::fmt()
        .with_writer(|| RedactingWriter)
        .with_target(true);
    if std::env::var_os(tracing_subscriber::EnvFilter::DEFAULT_ENV).is_some() {
        logs.with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    } else {
        logs.with_max_level(tracing::Level::WARN).init();
    }
}
