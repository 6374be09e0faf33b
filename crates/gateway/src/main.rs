//! The `hookshot` binary: parses arguments, sets up logging, and calls the gateway library.
//!
//! It holds no logic of its own; configuration errors are printed and exit with status 1,
//! usage errors with status 2.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Hookshot: an API gateway whose events drive Tyk-compatible webhooks.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load and validate a configuration and every API definition it names; print all errors.
    Check {
        /// The gateway configuration file (tyk.conf-style JSON).
        #[arg(long)]
        conf: PathBuf,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Check { conf } => match hookshot_gateway::check::check(&conf) {
            Ok(checked) => {
                let handlers: usize = checked.global.iter().count()
                    + checked
                        .apis
                        .iter()
                        .map(|(_, _, h)| h.iter().count())
                        .sum::<usize>();
                println!(
                    "{}: OK ({} API definitions, {handlers} event handlers)",
                    conf.display(),
                    checked.apis.len()
                );
                ExitCode::SUCCESS
            }
            Err(errors) => {
                eprintln!("{}: {} error(s):", conf.display(), errors.len());
                for e in errors.iter() {
                    eprintln!("  {e}");
                }
                ExitCode::FAILURE
            }
        },
    }
}
