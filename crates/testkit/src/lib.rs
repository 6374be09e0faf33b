//! Test support shared by Hookshot's crates and end-to-end tests.
//!
//! - [`redis_url`]: the throwaway Redis that `cargo xtask test` / `ci` / `bench` started.
//! - [`redis::RedisServer`]: a `redis-server` of a test's own, for tests that stop or pause Redis.
//! - [`bench`](mod@bench): the table every benchmark prints, a figure beside its same-run baseline.
//! - [`logs`]: the log lines a test captures on its thread.
//! - [`events::RecordingSink`]: an event sink that keeps what is fired into it, for in-process tests.
//! - [`receiver`]: a real HTTP(S) receiver on loopback that records requests and answers as
//!   scripted, and the test CA its TLS certificates come from.
//!
//! Architecture invariant: used only by tests and benchmarks (as a dev-dependency); of Hookshot's
//! crates it knows only the seams (`hookshot-core`), so every crate above them can use it.

pub mod bench;
pub mod events;
pub mod logs;
pub mod receiver;
pub mod redis;

/// The URL of the Redis server the test command started (`REDIS_URL`).
///
/// # Panics
/// When `REDIS_URL` is not set: tests that need Redis run through `cargo xtask test` (or `ci`),
/// which starts a throwaway `redis-server` on a free port.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "REDIS_URL is not set: run the tests with `cargo xtask test` (or `cargo xtask ci`), \
             which starts a throwaway redis-server and passes its address"
        )
    })
}

/// The path of the `hookshot` binary, built first (once per test process) so that end-to-end tests
/// run the real thing in the same profile as the tests.
///
/// # Panics
/// When the build fails.
pub fn hookshot_bin() -> std::path::PathBuf {
    static BIN: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        // target/<profile>/deps/<test binary> -> target/<profile>/hookshot
        let exe = std::env::current_exe().expect("test binary path");
        let profile_dir = exe
            .parent()
            .and_then(std::path::Path::parent)
            .expect("test binary lives in target/<profile>/deps");
        let profile = profile_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("debug");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = std::process::Command::new(cargo);
        cmd.args([
            "build",
            "--quiet",
            "-p",
            "hookshot-gateway",
            "--bin",
            "hookshot",
        ]);
        if profile == "release" {
            cmd.arg("--release");
        }
        let status = cmd
            .status()
            .expect("running cargo build for the hookshot binary");
        assert!(status.success(), "building the hookshot binary failed");
        profile_dir.join("hookshot")
    })
    .clone()
}
