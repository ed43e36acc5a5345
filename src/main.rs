//! The firedrill binary: parse arguments, set up logs, run, exit.

use clap::Parser;
use firedrill::cli::{Cli, exit};
use firedrill::redact::RedactingWriter;

fn main() {
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(|| RedactingWriter)
        .with_target(true)
        .init();
    std::process::exit(firedrill::cli::main(cli));
}
