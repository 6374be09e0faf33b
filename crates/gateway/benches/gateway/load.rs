//! The load: the client's requests, sent in timed rounds, and the CPU a process used meanwhile.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hookshot_testkit::bench;
use http::{HeaderMap, HeaderValue, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::{IN_FLIGHT, PAIRS, REQUESTS_PER_ROUND, ROUND_LIMIT, SECRET};

pub(crate) type LoadClient = Client<HttpConnector, Empty<Bytes>>;

/// One kind of request, sent over and over.
#[derive(Clone)]
pub(crate) struct Target {
    uri: Uri,
    headers: HeaderMap,
    expect: StatusCode,
}

impl Target {
    pub(crate) fn new(url: &str, key: Option<&str>, expect: StatusCode) -> Target {
        let mut headers = HeaderMap::new();
        headers.insert("accept", HeaderValue::from_static("application/json"));
        if let Some(key) = key {
            headers.insert("authorization", HeaderValue::from_str(key).unwrap());
        }
        Target {
            uri: url.parse().expect("a target URL"),
            headers,
            expect,
        }
    }
}

/// Sends `n` requests to `target` with `IN_FLIGHT` workers; requests per second.
///
/// # Panics
/// When a request fails or is answered with another status than expected, or the round runs past
/// `ROUND_LIMIT`.
pub(crate) async fn round(client: &LoadClient, target: &Target, n: usize) -> f64 {
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + ROUND_LIMIT;
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..IN_FLIGHT {
        let (client, target, next) = (client.clone(), target.clone(), next.clone());
        workers.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < n {
                assert!(
                    Instant::now() < deadline,
                    "a round of {n} requests to {} took longer than {ROUND_LIMIT:?}",
                    target.uri
                );
                let mut request = Request::new(Empty::new());
                *request.uri_mut() = target.uri.clone();
                *request.headers_mut() = target.headers.clone();
                let response = client
                    .request(request)
                    .await
                    .unwrap_or_else(|e| panic!("{}: {e:?}", target.uri));
                let status = response.status();
                let body = response.into_body().collect().await.expect("a body");
                assert_eq!(
                    status,
                    target.expect,
                    "{}: {:?}",
                    target.uri,
                    body.to_bytes()
                );
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        if let Err(e) = done {
            std::panic::resume_unwind(e.into_panic());
        }
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// A round (see [`round`]) and the CPU seconds process `pid` used meanwhile.
pub(crate) async fn measured_round(client: &LoadClient, target: &Target, pid: u32) -> (f64, f64) {
    let before = cpu_seconds(pid);
    let rate = round(client, target, REQUESTS_PER_ROUND).await;
    (rate, cpu_seconds(pid) - before)
}

/// Seconds of CPU (user and system) used so far by process `pid` and its children that run
/// (nginx's workers), from /proc (Linux); 0 where /proc cannot tell.
pub(crate) fn cpu_seconds(pid: u32) -> f64 {
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks.
    let ticks = |stat: &str| -> Option<(u32, f64)> {
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        let ppid = fields.get(1)?.parse().ok()?;
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        Some((ppid, utime + stime))
    };
    let own = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| ticks(&s))
        .map_or(0.0, |(_, t)| t);
    let children: f64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|s| ticks(&s))
        .filter(|(ppid, _)| *ppid == pid)
        .map(|(_, t)| t)
        .sum();
    // Linux reports in USER_HZ, 100 on every common configuration.
    (own + children) / 100.0
}

/// CPU seconds of `PAIRS` rounds, per request.
pub(crate) fn per_request(cpu: f64) -> String {
    bench::time(Duration::from_secs_f64(
        cpu / (PAIRS * REQUESTS_PER_ROUND) as f64,
    ))
}

pub(crate) async fn text(
    client: &LoadClient,
    url: &str,
    headers: &[(&'static str, &str)],
) -> (u16, String) {
    let mut request = Request::new(Empty::new());
    *request.uri_mut() = url.parse().unwrap();
    for (n, v) in headers {
        request
            .headers_mut()
            .insert(*n, HeaderValue::from_str(v).unwrap());
    }
    let response = client.request(request).await.expect("an answer");
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A request with a body, for the keys API.
pub(crate) async fn post_json(url: &str, body: serde_json::Value) -> u16 {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let mut request = Request::new(Full::new(Bytes::from(body.to_string())));
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = url.parse().unwrap();
    request
        .headers_mut()
        .insert("x-tyk-authorization", HeaderValue::from_static(SECRET));
    client
        .request(request)
        .await
        .expect("an answer")
        .status()
        .as_u16()
}

pub(crate) fn metric(metrics: &str, prefix: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<u64>().ok()))
        .sum()
}
