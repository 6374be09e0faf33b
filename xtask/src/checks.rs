//! Static checks of the workspace: crate layering and crate-root documentation.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::root;

/// What each crate must not pull in (normal dependencies, all features unless said).
const LAYERS: &[(&str, &[&str], &str)] = &[
    // (crate and cargo tree flags, forbidden crates, why)
    (
        "hookshot-core",
        &[
            "tokio",
            "hyper",
            "rustls",
            "liquid",
            "redis",
            "md-5",
            "hookshot-config",
            "hookshot-template",
            "hookshot-cooldown",
            "hookshot-transport",
            "hookshot-webhook",
        ],
        "the seams only: a crate implementing one needs nothing heavy",
    ),
    (
        "hookshot-event",
        &[
            "http",
            "tokio",
            "hyper",
            "liquid",
            "redis",
            "md-5",
            "hookshot-template",
            "hookshot-cooldown",
            "hookshot-transport",
            "hookshot-config",
        ],
        "no I/O, no async: everyone depends on it",
    ),
    (
        "hookshot-config",
        &[
            "tokio",
            "hyper",
            "liquid",
            "redis",
            "md-5",
            "hookshot-template",
            "hookshot-cooldown",
            "hookshot-transport",
            "hookshot-webhook",
            "hookshot-gateway",
        ],
        "knows Tyk's file formats and the event model, no runtime or I/O",
    ),
    (
        "hookshot-template",
        &[
            "tokio",
            "hyper",
            "redis",
            "hookshot-cooldown",
            "hookshot-transport",
            "hookshot-webhook",
            "hookshot-config",
        ],
        "knows only events and liquid",
    ),
    (
        "hookshot-redis",
        &[
            "hyper",
            "liquid",
            "hookshot-event",
            "hookshot-template",
            "hookshot-cooldown",
            "hookshot-transport",
            "hookshot-webhook",
            "hookshot-gateway",
            "hookshot-testkit",
        ],
        "knows Redis and nothing of events, webhooks or the gateway",
    ),
    (
        "hookshot-cooldown",
        &[
            "hyper",
            "liquid",
            "hookshot-template",
            "hookshot-transport",
            "hookshot-webhook",
            "hookshot-config",
        ],
        "knows only events and its stores",
    ),
    (
        "hookshot-transport",
        &[
            "liquid",
            "redis",
            "hookshot-template",
            "hookshot-cooldown",
            "hookshot-webhook",
            "hookshot-config",
        ],
        "knows only HTTP and the transport seam",
    ),
    (
        "hookshot-webhook",
        &["redis", "clap", "hookshot-gateway"],
        "sees stores and transports only through their traits",
    ),
];

/// Crates without their optional features: `hookshot-cooldown` pulls in no Redis and no runtime;
/// `hookshot-webhook` no HTTP client, TLS, liquid or Redis (a user brings their own transport and
/// renderer).
const NO_FEATURES: &[(&str, &[&str])] = &[
    ("hookshot-cooldown", &["redis", "tokio"]),
    ("hookshot-webhook", WEBHOOK_WITHOUT_DEFAULTS),
];

/// What `hookshot-webhook` without default features must not pull in: a user brings their own
/// transport and renderer.
pub(crate) const WEBHOOK_WITHOUT_DEFAULTS: &[&str] = &[
    "hyper",
    "hyper-util",
    "rustls",
    "liquid",
    "redis",
    "hookshot-template",
    "hookshot-transport",
];

fn tree(pkg: &str, all_features: bool) -> Result<Vec<String>> {
    let features = if all_features {
        "--all-features"
    } else {
        "--no-default-features"
    };
    normal_dependencies(&root(), &["-p", pkg, features])
}

/// The package names in `cargo tree -e normal ARGS` run in `dir`, the root package first.
pub(crate) fn normal_dependencies(dir: &std::path::Path, args: &[&str]) -> Result<Vec<String>> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "tree", "-e", "normal", "--prefix", "none", "--format", "{p}",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .context("running cargo tree")?;
    if !out.status.success() {
        bail!(
            "cargo tree {} in {} failed: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect())
}

/// Fails when a crate depends on something its layer must not know.
pub fn layers() -> Result<()> {
    eprintln!("\n==> layering (cargo tree)");
    let mut problems = Vec::new();
    let mut check = |pkg: &str, all: bool, forbidden: &[&str], why: &str| -> Result<()> {
        let deps = tree(pkg, all)?;
        for f in forbidden {
            if deps.iter().skip(1).any(|d| d == f) {
                let flags = if all {
                    "--all-features"
                } else {
                    "--no-default-features"
                };
                problems.push(format!(
                    "{pkg} ({flags}) depends on {f}, but it must not ({why})"
                ));
            }
        }
        Ok(())
    };
    for (pkg, forbidden, why) in LAYERS {
        check(pkg, true, forbidden, why)?;
    }
    for (pkg, forbidden) in NO_FEATURES {
        check(
            pkg,
            false,
            forbidden,
            "optional dependencies stay behind their features",
        )?;
    }
    if !problems.is_empty() {
        bail!(
            "crates reach outside their layer:\n  {}",
            problems.join("\n  ")
        );
    }
    eprintln!("every crate keeps to its layer");
    Ok(())
}

/// Fails when a crate root (`lib.rs`, `main.rs`) does not open with a `//!` paragraph.
pub fn tidy() -> Result<()> {
    eprintln!("\n==> tidy (crate roots open with //! docs)");
    let mut missing = Vec::new();
    let mut roots = Vec::new();
    for dir in ["crates", "xtask", "tests"] {
        collect(&root().join(dir), &mut roots)?;
    }
    for path in roots {
        let text = std::fs::read_to_string(&path)?;
        if !text.trim_start().starts_with("//!") {
            missing.push(
                path.strip_prefix(root())
                    .unwrap_or(&path)
                    .display()
                    .to_string(),
            );
        }
    }
    if !missing.is_empty() {
        bail!(
            "these crate roots do not open with a //! paragraph saying what the crate is for and what it must not know:\n  {}",
            missing.join("\n  ")
        );
    }
    Ok(())
}

fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            collect(&path, out)?;
        } else if path
            .file_name()
            .is_some_and(|n| n == "lib.rs" || n == "main.rs")
        {
            out.push(path);
        }
    }
    Ok(())
}
