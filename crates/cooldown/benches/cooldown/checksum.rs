//! `Checksum::of_request` (streamed) beside MD5 over the same request bytes assembled first.

use std::time::Instant;

use hookshot_core::TargetUrl;
use hookshot_testkit::bench::{Table, median_f64, per_sec};
use md5::{Digest, Md5};

use crate::ROUNDS;

pub(crate) fn checksum(table: &mut Table) {
    let url = TargetUrl::parse("https://hooks.example.com/tyk/events?source=gateway").unwrap();
    let body = format!(
        "{{\"event\": \"AuthFailure\", \"message\": \"Auth Failure\", \"path\": \"/orders/\", \
         \"origin\": \"203.0.113.7\", \"key\": \"{}\", \"timestamp\": \"2026-11-28 18:36:24.182420098 +0000 UTC\"}}",
        "k".repeat(120)
    );
    let wire = format!(
        "POST /tyk/events?source=gateway HTTP/1.1\r\nHost: hooks.example.com\r\nUser-Agent: Go-http-client/1.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(
        hookshot_cooldown::request_checksum("POST", &url, body.as_bytes()).0,
        <[u8; 16]>::from(Md5::digest(wire.as_bytes())),
        "the streamed checksum must hash the same bytes"
    );
    let n = 200_000;
    let mut ours = Vec::new();
    let mut base = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(hookshot_cooldown::request_checksum(
                "POST",
                std::hint::black_box(&url),
                std::hint::black_box(body.as_bytes()),
            ));
        }
        ours.push(n as f64 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(Md5::digest(std::hint::black_box(wire.as_bytes())));
        }
        base.push(n as f64 / t.elapsed().as_secs_f64());
    }
    let (ours, base) = (median_f64(ours), median_f64(base));
    table.row(
        format!("Checksum::of_request, {}-byte body, 1 thread", body.len()),
        per_sec(ours),
        format!("{} MD5 of the same bytes preassembled", per_sec(base)),
        format!("{:.2}x", ours / base),
        "-",
    );
}
