//! Checks that the library crates are libraries another project can take: their docs build
//! warning-free, they package, and the webhook crate's example builds and runs as a program
//! outside this workspace, without the HTTP client, TLS, liquid or Redis in its tree.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::{cargo, root};

/// What the outside program's tree must not hold: it brings its own transport and renderer.
const OUTSIDE_FORBIDDEN: &[&str] = crate::checks::WEBHOOK_WITHOUT_DEFAULTS;

/// `cargo doc` for every crate, rustdoc warnings (broken links included) denied.
pub fn docs() -> Result<()> {
    cargo(
        &["doc", "--workspace", "--no-deps", "--all-features"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )
}

/// `cargo package` for every publishable crate: each holds what it needs (templates included)
/// and builds from its package alone.
pub fn package() -> Result<()> {
    forget_packaged_sources()?;
    forget_packaged_builds()?;
    cargo(&["package", "--workspace", "--allow-dirty"], &[])
}

/// Cargo verifies a package against the workspace's other packages through a local registry
/// whose sources it unpacks under `$CARGO_HOME/registry/src/` once per name and version, and
/// reuses after: a second run would build against the first run's code. Removes those copies, so
/// every run verifies the code as it is.
fn forget_packaged_sources() -> Result<()> {
    let home = match std::env::var_os("CARGO_HOME") {
        Some(home) => std::path::PathBuf::from(home),
        None => match std::env::var_os("HOME") {
            Some(home) => Path::new(&home).join(".cargo"),
            None => return Ok(()),
        },
    };
    let Ok(registries) = std::fs::read_dir(home.join("registry").join("src")) else {
        return Ok(());
    };
    for registry in registries {
        remove_workspace_entries(&registry?.path())?;
    }
    Ok(())
}

/// Cargo also takes a registry package of a given name and version to be unchanging, so what it
/// built of the previous run's packages would be linked again. Removes the build fingerprints of
/// the workspace's crates, so cargo builds them anew from the packages it verifies (and, after,
/// from the workspace, as a change to them would anyway).
fn forget_packaged_builds() -> Result<()> {
    remove_workspace_entries(&root().join("target").join("debug").join(".fingerprint"))
}

/// Removes what `dir` holds of the workspace's own crates (entries named `hookshot-*`); nothing
/// when `dir` does not exist.
fn remove_workspace_entries(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("hookshot-"))
        {
            std::fs::remove_dir_all(&path)
                .with_context(|| format!("removing {}", path.display()))?;
        }
    }
    Ok(())
}

/// Builds and runs the crate-level example of `hookshot-webhook` as a program of its own, outside
/// this workspace, on `hookshot-webhook` (default features off), `hookshot-cooldown` and tokio;
/// then checks its dependency tree.
pub fn outside_program() -> Result<()> {
    crate::step("a program outside the workspace: hookshot-webhook without default features");
    let root = root();
    let dir = root.join("target").join("outside-program");
    std::fs::create_dir_all(dir.join("src"))?;
    let lib = std::fs::read_to_string(root.join("crates/webhook/src/lib.rs"))?;
    let program =
        crate_example(&lib).context("crates/webhook/src/lib.rs has no ```rust example")?;
    std::fs::write(dir.join("src/main.rs"), program)?;
    let path = |crate_dir: &str| root.join("crates").join(crate_dir).display().to_string();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            r#"[package]
name = "outside-program"
version = "0.0.0"
edition = "2024"
rust-version = "1.95"
publish = false

# A workspace of its own: not a member of Hookshot's.
[workspace]

[dependencies]
hookshot-webhook = {{ path = "{webhook}", default-features = false }}
hookshot-cooldown = {{ path = "{cooldown}" }}
tokio = {{ version = "1", features = ["macros", "rt"] }}
"#,
            webhook = path("webhook"),
            cooldown = path("cooldown"),
        ),
    )?;
    // The same versions as the workspace builds with.
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"))?;
    let manifest = dir.join("Cargo.toml");
    let manifest = manifest.to_str().context("a UTF-8 path")?;
    let target = root.join("target").display().to_string();
    cargo(
        &["run", "--quiet", "--manifest-path", manifest],
        &[("CARGO_TARGET_DIR", &target)],
    )?;
    let tree = crate::checks::normal_dependencies(&dir, &[])?;
    let found: Vec<&str> = OUTSIDE_FORBIDDEN
        .iter()
        .copied()
        .filter(|f| tree.iter().any(|d| d == f))
        .collect();
    if !found.is_empty() {
        bail!(
            "the outside program's tree holds {} (hookshot-webhook without default features must not need them)",
            found.join(", ")
        );
    }
    eprintln!(
        "the example ran outside the workspace; its tree holds none of {}",
        OUTSIDE_FORBIDDEN.join(", ")
    );
    Ok(())
}

/// The first ```rust block of a crate root's `//!` docs, as a program.
fn crate_example(lib: &str) -> Option<String> {
    let docs: Vec<&str> = lib
        .lines()
        .map_while(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    let start = docs.iter().position(|l| *l == "```rust" || *l == "```")?;
    let len = docs[start + 1..].iter().position(|l| *l == "```")?;
    let body: Vec<&str> = docs[start + 1..start + 1 + len]
        .iter()
        // rustdoc's hidden lines are part of the program.
        .map(|l| match *l {
            "#" => "",
            l => l.strip_prefix("# ").unwrap_or(l),
        })
        .collect();
    Some(body.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_is_the_first_rust_block_with_hidden_lines_kept() {
        let lib = "//! Text.\n//!\n//! ```rust\n//! # use std::io;\n//! fn main() {}\n//! ```\n//! ```\n//! other\n//! ```\n\nmod x;\n";
        assert_eq!(
            crate_example(lib).as_deref(),
            Some("use std::io;\nfn main() {}\n")
        );
        assert_eq!(crate_example("//! No example.\n"), None);
    }
}
