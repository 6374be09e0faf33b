//! `Checksum::of_request` against Go: every vector of `go/checksums.json` holds a webhook as
//! configured (method, target URL), its rendered body, the bytes Go's `http.Request.Write` wrote
//! for the request Tyk builds from them, and their MD5. The file is written by the Go program in
//! `go/` (`cargo xtask golden`), never by hand.

use std::path::Path;
use std::str::FromStr;

use hookshot_core::TargetUrl;
use http::Method;
use serde_json::Value;

const FIXTURE: &str = "tests/go/checksums.json";

struct Vector {
    what: String,
    method: String,
    url: String,
    body: String,
    request: String,
    md5: String,
}

fn vectors() -> Vec<Vector> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run cargo xtask golden", path.display()));
    let file: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let field = |v: &Value, i: usize, name: &str| -> String {
        v[name]
            .as_str()
            .unwrap_or_else(|| panic!("{FIXTURE}: vector {i} has no string field {name:?}"))
            .to_owned()
    };
    file["vectors"]
        .as_array()
        .unwrap_or_else(|| panic!("{FIXTURE}: no \"vectors\" array"))
        .iter()
        .enumerate()
        .map(|(i, v)| Vector {
            what: field(v, i, "what"),
            method: field(v, i, "method"),
            url: field(v, i, "url"),
            body: field(v, i, "body"),
            request: field(v, i, "request"),
            md5: field(v, i, "md5"),
        })
        .collect()
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_fixture_is_whole_and_consistent() {
    let vectors = vectors();
    // The program writes 49 cases; a truncated or emptied file must not pass by having none.
    assert!(
        vectors.len() >= 40,
        "{FIXTURE}: only {} vectors",
        vectors.len()
    );
    for v in &vectors {
        assert_eq!(
            md5_hex(v.request.as_bytes()),
            v.md5,
            "{FIXTURE}: {}: the md5 is not that of the request bytes",
            v.what
        );
    }
    // Tyk's own test vector (tyk/README.md) is among them, with Tyk's value.
    assert!(
        vectors.iter().any(|v| v.url == "http://127.0.0.1:16500/get"
            && v.method == "GET"
            && v.md5 == "62a6b4fa9b45cd372b871764296fb3a5"),
        "{FIXTURE}: Tyk's test vector is missing"
    );
}

#[test]
fn matches_the_checksum_go_computes_for_tyks_request() {
    let mut wrong = Vec::new();
    for v in vectors() {
        let method = Method::from_str(&v.method.to_ascii_uppercase())
            .unwrap_or_else(|e| panic!("{FIXTURE}: {}: method {:?}: {e}", v.what, v.method));
        let url = TargetUrl::parse(&v.url)
            .unwrap_or_else(|e| panic!("{FIXTURE}: {}: url {:?}: {e}", v.what, v.url));
        let got =
            hookshot_cooldown::request_checksum(method.as_str(), &url, v.body.as_bytes()).to_hex();
        if got != v.md5 {
            wrong.push(format!(
                "{}: {} {} {:?}: got {got}, Go gives {} for\n{}",
                v.what, v.method, v.url, v.body, v.md5, v.request
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
