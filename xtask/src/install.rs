//! Programs the commands need: found on `PATH`, else installed with apt-get when running as root
//! on a system that has it.

use std::process::Command;

/// The path of `name` on `PATH`, if it is there.
pub(crate) fn on_path(name: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}

/// The path of the program `binary`, installing the Debian package `package` with apt-get
/// (`apt-get update` first) when it is missing and that is possible; `None` when it is neither
/// there nor installable.
pub(crate) fn find_or_install(binary: &str, package: &str) -> Option<String> {
    if let Some(bin) = on_path(binary) {
        return Some(bin);
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if !is_root || on_path("apt-get").is_none() {
        return None;
    }
    eprintln!("==> {binary} is not installed; installing {package} with apt-get");
    let ok = Command::new("apt-get")
        .arg("update")
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", package])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success());
    on_path(binary).filter(|_| ok)
}
