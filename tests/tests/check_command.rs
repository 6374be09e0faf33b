//! `hookshot check` on the real binary: a good configuration passes, a broken one prints every error.

use std::path::PathBuf;
use std::process::Command;

fn hookshot() -> Command {
    Command::new(hookshot_testkit::hookshot_bin())
}

fn fixture(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(dir)
}

#[test]
fn check_accepts_a_good_configuration() {
    let out = hookshot()
        .args(["check", "--conf"])
        .arg(fixture("good/hookshot.conf"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("OK (1 API definitions, 3 event handlers)"),
        "{stdout}"
    );
}

#[test]
fn check_prints_every_error_and_fails() {
    let out = hookshot()
        .args(["check", "--conf"])
        .arg(fixture("broken/hookshot.conf"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("3 error(s)"), "{stderr}");
    assert!(stderr.contains("apps/bad_method.json, API \"billing\", event \"AuthFailure\", handler #0, field `handler_meta.method`: found \"FETCH\""), "{stderr}");
    assert!(
        stderr.contains("apps/malformed.json:13:3: malformed JSON (expected `,` or `}`)"),
        "{stderr}"
    );
    assert!(stderr.contains("hookshot.conf, event \"TokenCreated\", handler #0, field `handler_meta.target_path`: found \"hooks.example.com/keys\", but it is not absolute"), "{stderr}");
}
