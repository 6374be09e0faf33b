//! End-to-end deliveries per second: distinct events fired into a `Dispatcher` whose webhook handler
//! renders Hookshot's default template, checksums, claims a cool-down (memory, then Redis) and posts
//! through `HttpTransport` with 32 in flight to a loopback receiver; beside a raw hyper-util client
//! posting the same number of pre-rendered bodies with 32 in flight, to the same receiver, in the
//! same run. With the memory store, each pair also runs the work Tyk's webhook handler does, in Go
//! (`benches/tyk_handler/main.go`: html/template, the MD5 of `http.Request.Write`, a cool-down map,
//! net/http; Go is installed from Debian's `golang-go` when missing), on the same events, template
//! syntax, receiver and number in flight. Rounds come in pairs, alternating which goes first; rates
//! are medians of rounds and ratios the medians of the pairs' ratios. The process's peak memory is
//! reported at the end.

use std::sync::Arc;

// The allocator the hookshot binary uses.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hookshot_config::WebhookConfig;
use hookshot_cooldown::{CooldownStore, MemoryStore, RedisConfig, RedisStore};
use hookshot_core::TargetUrl;
use hookshot_event::{ApiRef, Event, EventMeta, EventType, KeyFailureMeta};
use hookshot_template::{Renderer, Template};
use hookshot_testkit::bench::{self, Table};
use hookshot_testkit::receiver::Receiver;
use hookshot_transport::{HttpTransport, HttpTransportConfig};
use hookshot_webhook::{
    Dispatcher, DispatcherConfig, EventSink, HandlerMetrics, Routes, WebhookHandler,
};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;

const IN_FLIGHT: usize = 32;
const EVENTS_PER_ROUND: usize = 10_000;
const PAIRS: usize = 6;

fn event(i: usize, run: u64) -> Event {
    Event::new(
        EventType::AuthFailure,
        EventMeta::KeyFailure(KeyFailureMeta {
            message: "Auth Failure".into(),
            originating_request: "R0VUIC9vcmRlcnMvIEhUVFAvMS4x".into(),
            path: format!("/orders/{i}"),
            origin: "203.0.113.7".into(),
            key: format!("key-{run}-{i}"),
        }),
    )
    .with_api(ApiRef {
        id: "orders".into(),
        name: "Orders API".into(),
        org_id: "acme".into(),
    })
}

fn handler_config(url: &str) -> WebhookConfig {
    WebhookConfig::builder(
        http::Method::POST,
        TargetUrl::parse(url).expect("the receiver's URL"),
    )
    .id("bench")
    .header("X-Tyk-Test-Header", "Tyk v1.BANANA")
    .cooldown(Duration::from_secs(60))
    .build()
    .expect("a handler configuration")
}

/// Fires `EVENTS_PER_ROUND` distinct events (built beforehand, as the raw client's bodies are
/// rendered beforehand) and waits until all are delivered; events per second.
async fn engine_round(dispatcher: &Dispatcher, handler: &HandlerMetrics, run: u64) -> f64 {
    let events: Vec<Event> = (0..EVENTS_PER_ROUND).map(|i| event(i, run)).collect();
    let before = handler.snapshot().delivered;
    let started = Instant::now();
    for e in events {
        dispatcher.fire(e);
    }
    loop {
        let m = handler.snapshot();
        assert_eq!(
            (m.dropped, m.failed_total(), m.suppressed),
            (0, 0, 0),
            "every event must be delivered"
        );
        if m.delivered >= before + EVENTS_PER_ROUND as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    EVENTS_PER_ROUND as f64 / started.elapsed().as_secs_f64()
}

type RawClient = Client<HttpConnector, Full<Bytes>>;

/// Posts the pre-rendered bodies with `IN_FLIGHT` workers; posts per second.
async fn raw_round(client: &RawClient, url: &http::Uri, bodies: &Arc<Vec<Bytes>>) -> f64 {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..IN_FLIGHT {
        let (client, url, bodies, next) =
            (client.clone(), url.clone(), bodies.clone(), next.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= bodies.len() {
                    break;
                }
                let mut request = http::Request::new(Full::new(bodies[i].clone()));
                *request.method_mut() = http::Method::POST;
                *request.uri_mut() = url.clone();
                let headers = request.headers_mut();
                headers.insert(
                    "user-agent",
                    hookshot_webhook::USER_AGENT_VALUE.parse().unwrap(),
                );
                headers.insert("content-type", "application/json".parse().unwrap());
                headers.insert("x-tyk-test-header", "Tyk v1.BANANA".parse().unwrap());
                let response = client.request(request).await.expect("an answer");
                assert!(response.status().is_success());
                response.into_body().collect().await.expect("the body");
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.expect("a worker");
    }
    bodies.len() as f64 / started.elapsed().as_secs_f64()
}

struct Setup {
    name: &'static str,
    store: Arc<dyn CooldownStore>,
    target: f64,
    /// Whether this setup's pairs also run Tyk's handler work in Go.
    against_go: bool,
}

/// The Go-syntax template in the style of Tyk's default, which the Go program renders.
const GO_TEMPLATE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../template/tests/fixtures/go/tyk_default_style.json"
);
/// How many times faster than Tyk's handler work Hookshot is to be: "several".
const TIMES_GO: f64 = 3.0;

/// Builds the Go program that does Tyk's handler work; or says why it cannot run.
fn build_tyk_handler() -> Result<PathBuf, String> {
    let go = bench::find_or_install("go", "golang-go")?;
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tyk_handler");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let binary = dir.join("tyk_handler");
    let source = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/tyk_handler/main.go");
    let out = Command::new(go)
        .arg("build")
        .arg("-o")
        .arg(&binary)
        .arg(source)
        .env("GOCACHE", dir.join("cache"))
        .env("GOPATH", dir.join("gopath"))
        .output()
        .map_err(|e| format!("go build could not be run ({e})"))?;
    if !out.status.success() {
        return Err(format!(
            "go build {source} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(binary)
}

/// The Go program's transports: Go's default as Tyk uses it, and one that pools connections.
const GO_TRANSPORTS: [&str; 2] = ["default", "pooled"];

/// One round of the Go program against `url` on `transport`: events per second.
async fn go_round(binary: &Path, url: &str, run: u64, transport: &str) -> f64 {
    let mut command = Command::new(binary);
    command.args([
        url,
        GO_TEMPLATE,
        &EVENTS_PER_ROUND.to_string(),
        &IN_FLIGHT.to_string(),
        &format!("go{run}{transport}"),
        transport,
    ]);
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the Go round's thread")
        .expect("running the Go program");
    assert!(
        out.status.success(),
        "the Go program failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("the Go program prints events per second")
}

async fn run() {
    let receiver = Receiver::start_fast().await;
    let url = receiver.url("/hook");
    let template = Arc::new(Template::default_webhook());
    let transport =
        Arc::new(HttpTransport::new(HttpTransportConfig::default()).expect("a transport"));
    let raw: RawClient = bench::raw_client(64);
    let raw_url: http::Uri = url.parse().unwrap();
    let bodies: Arc<Vec<Bytes>> = Arc::new(
        (0..EVENTS_PER_ROUND)
            .map(|i| Bytes::from(template.render(&event(i, 0)).expect("a body")))
            .collect(),
    );

    let redis_url = std::env::var("REDIS_URL").ok();
    let tyk_handler = build_tyk_handler();
    let mut setups = vec![Setup {
        name: "memory store",
        store: Arc::new(MemoryStore::new()),
        target: 0.8,
        against_go: true,
    }];
    match &redis_url {
        Some(u) => setups.push(Setup {
            name: "Redis store",
            store: Arc::new(
                RedisStore::new(
                    RedisConfig::new(u.clone())
                        .with_key_prefix(format!("bench.{}.", std::process::id())),
                )
                .expect("a Redis store"),
            ),
            target: 0.6,
            against_go: false,
        }),
        None => {
            eprintln!("REDIS_URL is not set: the Redis rows are left out (run `cargo xtask bench`)")
        }
    }

    let mut table = Table::new(format!(
        "hookshot-webhook: distinct AuthFailure events fired → default template → checksum → \
         cool-down claim → POST, {IN_FLIGHT} in flight, {PAIRS} pairs of rounds of {EVENTS_PER_ROUND}"
    ));
    let mut run_id = 1u64;
    let started = Instant::now();
    for setup in setups {
        let handler = Arc::new(WebhookHandler::new(
            handler_config(&url),
            template.clone() as Arc<dyn Renderer>,
            setup.store.clone(),
            transport.clone(),
        ));
        let mut routes = Routes::new();
        routes.add_api("orders", EventType::AuthFailure, handler);
        let handler = routes.registrations()[0].metrics.clone();
        let dispatcher = Dispatcher::start(
            DispatcherConfig {
                queue_capacity: EVENTS_PER_ROUND,
                concurrency: IN_FLIGHT,
                shutdown_grace: Duration::from_secs(5),
                ..DispatcherConfig::default()
            },
            routes,
        );
        // Warm up both paths.
        engine_round(&dispatcher, &handler, run_id).await;
        run_id += 1;
        raw_round(&raw, &raw_url, &bodies).await;
        let go = tyk_handler.as_ref().ok().filter(|_| setup.against_go);
        let go_rounds = async |run: u64| {
            let mut rates = Vec::new();
            if let Some(go) = go {
                for transport in GO_TRANSPORTS {
                    rates.push(go_round(go, &url, run, transport).await);
                }
            }
            rates
        };
        go_rounds(0).await;
        let (mut engine, mut rawr, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let (mut go_rates, mut go_ratios) = ([vec![], vec![]], [vec![], vec![]]);
        for pair in 0..PAIRS {
            let (e, r, g) = if pair % 2 == 0 {
                let e = engine_round(&dispatcher, &handler, run_id).await;
                let r = raw_round(&raw, &raw_url, &bodies).await;
                (e, r, go_rounds(run_id).await)
            } else {
                let g = go_rounds(run_id).await;
                let r = raw_round(&raw, &raw_url, &bodies).await;
                (engine_round(&dispatcher, &handler, run_id).await, r, g)
            };
            run_id += 1;
            engine.push(e);
            rawr.push(r);
            ratios.push(e / r);
            for (i, g) in g.into_iter().enumerate() {
                go_rates[i].push(g);
                go_ratios[i].push(e / g);
            }
        }
        dispatcher.shutdown().await;
        let ratio = bench::median_f64(ratios);
        let engine_rate = bench::median_f64(engine);
        table.row(
            format!("deliveries/s, {}", setup.name),
            bench::per_sec(engine_rate),
            format!(
                "{} (raw hyper-util)",
                bench::per_sec(bench::median_f64(rawr))
            ),
            format!("{ratio:.2}x"),
            bench::verdict(&format!("≥ {}x", setup.target), ratio >= setup.target),
        );
        if setup.against_go {
            let rows = [
                (
                    "vs Tyk's handler work in Go, on Go's default transport as Tyk runs it",
                    Some(TIMES_GO),
                ),
                ("vs the same Go work on a pooled transport", None),
            ];
            let measured = rows.into_iter().zip(go_rates.into_iter().zip(go_ratios));
            for ((against, target), (rates, ratios)) in measured {
                let name = format!("deliveries/s, {}, {against}", setup.name);
                match &tyk_handler {
                    Ok(_) => {
                        let times = bench::median_f64(ratios);
                        table.row(
                            name,
                            bench::per_sec(engine_rate),
                            format!(
                                "{} (Go, same events)",
                                bench::per_sec(bench::median_f64(rates))
                            ),
                            format!("{times:.1}x"),
                            target.map_or_else(
                                || "-".to_owned(),
                                |t| bench::verdict(&format!("several times: ≥ {t}x"), times >= t),
                            ),
                        );
                    }
                    Err(why) => {
                        table.row(name, "-", "-", "-", format!("not measured: {why}"));
                    }
                }
            }
        }
    }
    table.row(
        "peak resident memory of this process",
        bench::peak_rss(std::process::id()),
        "-",
        "-",
        "-",
    );
    println!("{}", table.render());
    println!("({:.1} s in all)", started.elapsed().as_secs_f64());
}

fn main() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime")
        .block_on(run());
}
