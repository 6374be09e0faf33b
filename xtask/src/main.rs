//! Hookshot's project commands, run as `cargo xtask <command>`.
//!
//! - `ci`: formatting, clippy (warnings denied, with and without features), the layering, tidy and
//!   library checks, and every test of the workspace against a throwaway Redis.
//! - `test [ARGS]`: `cargo test --workspace --all-features ARGS` against a throwaway Redis
//!   (without `--workspace` when ARGS name a package with `-p`).
//! - `bench [ARGS]`: every benchmark (`cargo bench`), against a throwaway Redis; `-p CRATE` runs
//!   that crate's alone.
//! - `layers`, `tidy`: the checks alone.
//! - `library`: the crates as another project takes them: `cargo doc` with warnings denied,
//!   `cargo package --workspace`, and the webhook crate's example built and run as a program
//!   outside the workspace whose tree holds no HTTP client, TLS, liquid or Redis.
//! - `golden [--check]`: regenerates every fixture that stands for another program's output with
//!   the Go program kept beside it (installing Go with apt-get when it is missing): Go's
//!   `html/template` renderings (`crates/template/tests/go/`) and Tyk's webhook checksums
//!   (`crates/cooldown/tests/go/`); `--check` regenerates them in a temporary directory and fails,
//!   naming the file, when a checked-in fixture differs. `ci` runs the check when `go` is on
//!   `PATH`.
//!
//! It knows nothing of Hookshot's code: it runs cargo, `redis-server` and `go`, with few
//! dependencies.

mod checks;
mod golden;
mod install;
mod library;
mod redis;

use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = args
        .split_first()
        .map_or(("help", &[][..]), |(c, r)| (c.as_str(), r));
    let result = match cmd {
        "ci" => ci(),
        "test" => test(rest),
        "bench" => bench(rest),
        "layers" => checks::layers(),
        "tidy" => checks::tidy(),
        "library" => library(),
        "golden" => golden::run(rest),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  ci           every check and test, as CI runs them\n  test [ARGS]  the tests, with a throwaway Redis (ARGS go to cargo test)\n  bench [ARGS] the benchmarks, with a throwaway Redis (ARGS go to cargo bench)\n  layers       check that each crate keeps to its layer\n  tidy         check that every crate root opens with a //! doc paragraph\n  library      the crates as libraries: docs (warnings denied), cargo package, the webhook crate's example as a program outside the workspace\n  golden       regenerate the fixtures of Go's output (html/template renderings, Tyk's checksums) with the Go programs beside them (needs Go; installed with apt-get when missing)\n  golden --check  fail, naming the file, when a checked-in fixture differs from a regeneration"
            );
            return if cmd == "help" || cmd == "--help" {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {cmd}: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `cargo ARGS` in the workspace root, failing when it fails.
pub(crate) fn cargo(args: &[&str], envs: &[(&str, &str)]) -> Result<()> {
    step(&format!("cargo {}", args.join(" ")));
    let status = Command::new(env_cargo())
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(root())
        .status()
        .with_context(|| format!("running cargo {}", args.join(" ")))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    Ok(())
}

fn env_cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// The workspace root.
pub(crate) fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

pub(crate) fn step(what: &str) {
    eprintln!("\n==> {what}");
}

fn ci() -> Result<()> {
    let started = std::time::Instant::now();
    cargo(&["fmt", "--all", "--check"], &[])?;
    checks::tidy()?;
    cargo(
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    // Library crates must also build, warning-free, without their optional features.
    cargo(
        &[
            "clippy",
            "-p",
            "hookshot-cooldown",
            "-p",
            "hookshot-webhook",
            "-p",
            "hookshot-gateway",
            "--no-default-features",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    checks::layers()?;
    library()?;
    match install::on_path("go") {
        Some(go) => golden::check(&go)?,
        None => eprintln!("\nxtask ci: skipped the golden fixture check: go is not on PATH"),
    }
    test(&[])?;
    eprintln!("\nxtask ci: all checks passed in {:.0?}", started.elapsed());
    Ok(())
}

/// The library crates as another project takes them.
fn library() -> Result<()> {
    library::docs()?;
    library::package()?;
    library::outside_program()
}

fn test(extra: &[String]) -> Result<()> {
    let redis = redis::RedisServer::start()?;
    let url = redis.url();
    let bin = redis.binary().to_string();
    let mut args = vec!["test"];
    args.extend(scope(extra));
    args.extend(extra.iter().map(String::as_str));
    cargo(&args, &[("REDIS_URL", &url), ("REDIS_SERVER_BIN", &bin)])
}

/// `--workspace --all-features`, or only `--all-features` when the arguments name packages
/// (`-p`, `--package`), so that `cargo xtask bench -p hookshot-webhook` runs that crate's alone.
fn scope(extra: &[String]) -> &'static [&'static str] {
    let names_packages = extra
        .iter()
        .any(|a| a == "-p" || a == "--package" || a.starts_with("--package="));
    if names_packages {
        &["--all-features"]
    } else {
        &["--workspace", "--all-features"]
    }
}

fn bench(extra: &[String]) -> Result<()> {
    let redis = redis::RedisServer::start()?;
    let url = redis.url();
    let bin = redis.binary().to_string();
    let mut args = vec!["bench"];
    args.extend(scope(extra));
    args.extend(extra.iter().map(String::as_str));
    cargo(&args, &[("REDIS_URL", &url), ("REDIS_SERVER_BIN", &bin)])
}
