//! Hookshot's project commands, run as `cargo xtask <command>`.
//!
//! - `ci`: formatting, clippy (warnings denied, with and without features), the layering and tidy
//!   checks, and every test of the workspace against a throwaway Redis.
//! - `test [ARGS]`: `cargo test --workspace --all-features ARGS` against a throwaway Redis.
//! - `bench [ARGS]`: every benchmark (`cargo bench`), against a throwaway Redis.
//! - `layers`, `tidy`: the checks alone.
//! - `golden`: regenerates the fixtures of Go's `html/template` output that the template tests
//!   compare with, by running the Go program in `crates/template/tests/go/` (installing Go with
//!   apt-get when it is missing).
//!
//! It knows nothing of Hookshot's code: it runs cargo, `redis-server` and `go`, with few
//! dependencies.

mod checks;
mod install;
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
        "golden" => golden(),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  ci           every check and test, as CI runs them\n  test [ARGS]  the tests, with a throwaway Redis (ARGS go to cargo test)\n  bench [ARGS] the benchmarks, with a throwaway Redis (ARGS go to cargo bench)\n  layers       check that each crate keeps to its layer\n  tidy         check that every crate root opens with a //! doc paragraph\n  golden       regenerate the template tests' fixtures of Go's html/template output (needs Go; installed with apt-get when missing)"
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

fn step(what: &str) {
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
            "hookshot-gateway",
            "--no-default-features",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    checks::layers()?;
    test(&[])?;
    eprintln!("\nxtask ci: all checks passed in {:.0?}", started.elapsed());
    Ok(())
}

fn test(extra: &[String]) -> Result<()> {
    let redis = redis::RedisServer::start()?;
    let url = redis.url();
    let bin = redis.binary().to_string();
    let mut args = vec!["test", "--workspace", "--all-features"];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args, &[("REDIS_URL", &url), ("REDIS_SERVER_BIN", &bin)])
}

fn bench(extra: &[String]) -> Result<()> {
    let redis = redis::RedisServer::start()?;
    let url = redis.url();
    let bin = redis.binary().to_string();
    let mut args = vec!["bench", "--workspace", "--all-features"];
    args.extend(extra.iter().map(String::as_str));
    cargo(&args, &[("REDIS_URL", &url), ("REDIS_SERVER_BIN", &bin)])
}

/// Runs the Go program of `crates/template/tests/go/`, which renders the template tests' Go-syntax
/// templates with Go's `html/template` as Tyk does and writes what Go produced as their fixtures.
fn golden() -> Result<()> {
    let Some(go) = install::find_or_install("go", "golang-go") else {
        bail!(
            "go is not installed, and the fixtures are what Go's html/template renders.\n\
             Install it, then run this again:\n  Debian/Ubuntu: sudo apt-get install golang-go\n  elsewhere: https://go.dev/dl/"
        );
    };
    let tests = root().join("crates/template/tests");
    step(&format!("{go} run . {}", tests.display()));
    let status = Command::new(&go)
        .args(["run", "."])
        .arg(&tests)
        .current_dir(tests.join("go"))
        // The program uses the standard library only: no module downloads.
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .status()
        .context("running go")?;
    if !status.success() {
        bail!("the Go program of crates/template/tests/go failed ({status})");
    }
    eprintln!(
        "\nxtask golden: wrote crates/template/tests/go/expected.json and crates/template/tests/fixtures/go_expected.json; review them with git diff"
    );
    Ok(())
}
