//! The `vigil` binary: the command line of every component, and `up`, which
//! runs them together in one process.
//!
//! Each subcommand builds its component's own config struct and starts it
//! through the same function `up` uses, so running a part alone and running
//! the whole stack cannot drift apart.

mod cli;
mod up;

use clap::Parser;
use tokio_util::sync::CancellationToken;

fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse_from(cli::normalize_go_flags(std::env::args_os()));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(cli.command.run())
}

/// A token cancelled by the first SIGINT (Ctrl-C) or SIGTERM.
fn shutdown_on_signal() -> anyhow::Result<CancellationToken> {
    use tokio::signal::unix::{SignalKind, signal};
    let token = CancellationToken::new();
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("interrupted, shutting down"),
            _ = terminate.recv() => tracing::info!("terminated, shutting down"),
        }
        cancel.cancel();
    });
    Ok(token)
}
