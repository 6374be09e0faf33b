//! Posts per second of `HttpTransport` with 32 requests in flight to a loopback receiver, beside a
//! raw hyper-util pooled client posting the same pre-built bodies, with 32 in flight, in the same
//! run and to the same receiver.
//!
//! Rounds come in pairs, one of each, so that both see the same machine (its load changes while
//! other work runs); each rate is the median round and the ratio the median of the pairs' ratios.
//! Runs on a two-worker Tokio runtime, the receiver included.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bytes::Bytes;
use hookshot_testkit::bench::{self, Table};
use hookshot_testkit::receiver::Receiver;
use hookshot_transport::{HttpTransport, HttpTransportConfig, Transport, WebhookRequest};
use http::{HeaderMap, HeaderValue, Method, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

const IN_FLIGHT: usize = 32;
const POSTS_PER_ROUND: usize = 10_000;
const PAIRS: usize = 20;
const TARGET: f64 = 0.9;

/// What every post carries: one URL, the headers a webhook sends, and distinct pre-built bodies.
struct Load {
    url: Uri,
    headers: HeaderMap,
    bodies: Vec<Bytes>,
}

impl Load {
    fn new(url: &str) -> Load {
        let mut headers = HeaderMap::new();
        headers.insert("user-agent", HeaderValue::from_static("Hookshot/0.1.0"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert(
            "x-tyk-test-header",
            HeaderValue::from_static("Tyk v1.BANANA"),
        );
        let bodies = (0..1024)
            .map(|i| {
                Bytes::from(format!(
                    r#"{{"event":"AuthFailure","message":"Auth Failure","path":"/orders/{i}","origin":"203.0.113.7","key":"5cc6ed1b8a{i:06}","timestamp":"2026-11-28 18:36:24.182420098 +0000 UTC","api":{{"id":"orders","name":"Orders API","org_id":"acme"}}}}"#
                ))
            })
            .collect();
        Load {
            url: url.parse().expect("the receiver's URL"),
            headers,
            bodies,
        }
    }

    fn body(&self, i: usize) -> Bytes {
        self.bodies[i % self.bodies.len()].clone()
    }
}

/// Runs `n` posts with `IN_FLIGHT` at a time; returns the posts per second.
async fn drive<F, Fut>(n: usize, post: F) -> f64
where
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..IN_FLIGHT {
        let next = Arc::clone(&next);
        let post = post.clone();
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                post(i).await;
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.expect("a worker");
    }
    n as f64 / started.elapsed().as_secs_f64()
}

async fn transport_round(transport: &HttpTransport, load: &Arc<Load>, n: usize) -> f64 {
    let transport = transport.clone();
    let load = Arc::clone(load);
    drive(n, move |i| {
        let transport = transport.clone();
        let request = WebhookRequest {
            method: Method::POST,
            url: load.url.clone(),
            headers: load.headers.clone(),
            body: load.body(i),
            timeout: None,
        };
        async move {
            transport.send(request).await.expect("a delivered post");
        }
    })
    .await
}

type RawClient = Client<HttpConnector, Full<Bytes>>;

async fn raw_round(client: &RawClient, load: &Arc<Load>, n: usize) -> f64 {
    let client = client.clone();
    let load = Arc::clone(load);
    drive(n, move |i| {
        let client = client.clone();
        let mut request = http::Request::new(Full::new(load.body(i)));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = load.url.clone();
        *request.headers_mut() = load.headers.clone();
        async move {
            let response = client.request(request).await.expect("an answer");
            assert!(response.status().is_success(), "{}", response.status());
            response.into_body().collect().await.expect("the body");
        }
    })
    .await
}

async fn run() {
    let receiver = Receiver::start_fast().await;
    let load = Arc::new(Load::new(&receiver.url("/hook")));

    let transport = HttpTransport::new(HttpTransportConfig::default()).expect("a transport");
    let raw: RawClient = bench::raw_client(64);

    // Warm up: connections opened, allocator and caches settled.
    raw_round(&raw, &load, POSTS_PER_ROUND / 4).await;
    transport_round(&transport, &load, POSTS_PER_ROUND / 4).await;

    let started = Instant::now();
    let (mut raw_rates, mut transport_rates, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for pair in 0..PAIRS {
        // Alternate which goes first, so neither always follows the other.
        let (raw_rate, transport_rate) = if pair % 2 == 0 {
            let r = raw_round(&raw, &load, POSTS_PER_ROUND).await;
            (r, transport_round(&transport, &load, POSTS_PER_ROUND).await)
        } else {
            let t = transport_round(&transport, &load, POSTS_PER_ROUND).await;
            (raw_round(&raw, &load, POSTS_PER_ROUND).await, t)
        };
        raw_rates.push(raw_rate);
        transport_rates.push(transport_rate);
        ratios.push(transport_rate / raw_rate);
    }
    ratios.sort_by(f64::total_cmp);
    let (low, high) = (ratios[PAIRS / 4], ratios[PAIRS * 3 / 4]);
    let (raw_rate, transport_rate, ratio) = (
        bench::median_f64(raw_rates),
        bench::median_f64(transport_rates),
        bench::median_f64(ratios),
    );

    let mut table = Table::new(format!(
        "hookshot-transport: POSTs of ~{} B bodies to a loopback receiver, {IN_FLIGHT} in flight, \
         {PAIRS} pairs of rounds of {POSTS_PER_ROUND} ({:.1} s; {} requests over {} connections)",
        load.bodies[0].len(),
        started.elapsed().as_secs_f64(),
        receiver.request_count(),
        receiver.connection_count(),
    ));
    table.row(
        "HttpTransport::send vs raw hyper-util Client",
        bench::per_sec(transport_rate),
        bench::per_sec(raw_rate),
        format!("{ratio:.2}x (pairs' middle half {low:.2}-{high:.2}x)"),
        bench::verdict(&format!("≥ {TARGET}x"), ratio >= TARGET),
    );
    println!("{}", table.render());
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    runtime.block_on(run());
}
