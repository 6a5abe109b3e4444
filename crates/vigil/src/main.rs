//! The `vigil` binary: the command line of every component, and `up`, which
//! runs them together in one process.
//!
//! Each subcommand builds its component's own config struct and starts it
//! through the same function `up` uses, so running a part alone and running
//! the whole stack cannot drift apart.

mod cli;
mod status;
mod supervise;
mod up;

use clap::Parser;
use tokio_util::sync::CancellationToken;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The error and its causes on one line, without a backtrace:
            // a message for the user (a taken port, a bad config file).
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    limit_malloc_arenas();
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

/// Caps glibc's malloc at two arenas, as `MALLOC_ARENA_MAX=2` would.
///
/// glibc gives each thread that allocates its own arena (up to eight per
/// core) and keeps memory freed in it for reuse. The log store decodes and
/// stores pushes of a megabyte or more on whichever blocking threads are
/// free, so under a heavy push the resident set grew with the number of
/// threads rather than with what is in use: 75-90 MiB at the push
/// benchmark's peak, 54-57 MiB with two arenas, at the same throughput
/// (docs/benchmarks.md). A user's own `MALLOC_ARENA_MAX` wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it is called
        // first thing in main, before any other thread exists.
        #[allow(unsafe_code)]
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
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
