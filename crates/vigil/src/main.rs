//! The `vigil` binary: command line, and `up`, which runs every component.

use clap::Parser;

/// The monitoring stack for web APIs, as one binary.
#[derive(Parser)]
#[command(name = "vigil", version)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    Cli::parse();
    Ok(())
}
