//! Requests per second through the real `hookshot` binary, beside the same load sent straight to
//! the upstream and through Debian's nginx as a plain reverse proxy, all in one run; and the
//! gateway's throughput while every request fires a webhook to a receiver that never answers,
//! beside the same load without a webhook handler.
//!
//! - The load: a hyper-util pooled client on loopback, `IN_FLIGHT` requests in flight (one
//!   keep-alive connection each), `REQUESTS_PER_ROUND` requests a round, every round bounded in
//!   time as well.
//! - The upstream: a tiny hyper HTTP/1.1 server in this process answering `200` with a small JSON
//!   body.
//! - The gateway: a separate `hookshot` process (the bench profile's build of the binary, which
//!   Cargo makes for a package's benchmarks), memory storage, its default Tokio runtime (one
//!   worker per core). `/api/` needs a key, and the key has a rate limit high enough never to
//!   refuse, so the key lookup and the rolling rate window run on every request.
//! - nginx: Debian's package (installed with `apt-get` when it is missing; when that fails the
//!   table says why), started on a free port with a configuration written to a temporary folder:
//!   as many worker processes as the gateway has runtime threads, keep-alive to the client and to
//!   the upstream, no access log, the same path stripping and `X-Forwarded-For` as the gateway.
//! - Webhooks: a proxied request fires no event, so the firing comparison uses the request that
//!   does, an unknown key (403, AuthFailure), on two APIs of the same gateway process: `/fire/`,
//!   whose AuthFailure handler posts every event (`event_timeout` 0: no cool-down) to a receiver
//!   that never answers, and `/quiet/`, with no handler. Deliveries hang until their 2 s timeout,
//!   so the dispatcher's 64 delivery slots stay busy, its queue (10,000) fills, and later events
//!   are dropped and counted, as configured; the figure shows what firing costs the request path
//!   when the receiver is at its worst.
//!
//! Rounds come in pairs (with nginx, triples) whose order rotates, so that every setup sees the
//! same machine (two cores shared by the load, the upstream, the gateway and nginx); each rate is
//! the median round and each ratio the median of the pairs' ratios. Beside the rates, the CPU time
//! the gateway and nginx processes used in their rounds (from /proc), per request: a figure that
//! other work on the machine disturbs much less than a rate.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hookshot_testkit::bench::{self, Table};
use hookshot_testkit::receiver::{Receiver, Reply};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::json;
use tokio::net::TcpListener;

const IN_FLIGHT: usize = 32;
const REQUESTS_PER_ROUND: usize = 15_000;
const WARM_UP: usize = 3_000;
/// Rounds of the proxy comparison (gateway, nginx, direct) and of the webhook comparison.
const PAIRS: usize = 9;
/// No round may take longer than this, whatever happens.
const ROUND_LIMIT: Duration = Duration::from_secs(20);
const SECRET: &str = "bench-secret";
const KEY: &str = "bench-key";
const UNKNOWN_KEY: &str = "bench-unknown-key";

type LoadClient = Client<HttpConnector, Empty<Bytes>>;

/// One kind of request, sent over and over.
#[derive(Clone)]
struct Target {
    uri: Uri,
    headers: HeaderMap,
    expect: StatusCode,
}

impl Target {
    fn new(url: &str, key: Option<&str>, expect: StatusCode) -> Target {
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
async fn round(client: &LoadClient, target: &Target, n: usize) -> f64 {
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
async fn measured_round(client: &LoadClient, target: &Target, pid: u32) -> (f64, f64) {
    let before = cpu_seconds(pid);
    let rate = round(client, target, REQUESTS_PER_ROUND).await;
    (rate, cpu_seconds(pid) - before)
}

/// The upstream: answers every request `200 {"ok":true}` over HTTP/1.1 keep-alive.
async fn start_upstream() -> std::net::SocketAddr {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("a port for the upstream");
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(|req: Request<Incoming>| async move {
                    let _ = req.into_body().collect().await;
                    let mut r = Response::new(Full::new(Bytes::from_static(b"{\"ok\":true}\n")));
                    r.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, std::convert::Infallible>(r)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// A folder of the bench's own, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("hookshot-bench-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process stopped when dropped: `SIGTERM`, then `SIGKILL` if it has not gone in 5 s.
struct Process {
    child: Child,
    name: &'static str,
}

impl Process {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("{} did not stop on SIGTERM; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The gateway process and its address.
struct GatewayProcess {
    process: Process,
    addr: String,
    _dir: TempDir,
}

fn api(id: &str, listen_path: &str, target: &str, events: serde_json::Value) -> String {
    json!({
        "api_id": id, "name": format!("{id} API"), "org_id": "bench",
        "use_keyless": false,
        "proxy": {"listen_path": listen_path, "target_url": target, "strip_listen_path": true},
        "event_handlers": {"events": events}
    })
    .to_string()
}

fn start_gateway(upstream: &str, never: &str) -> GatewayProcess {
    let dir = TempDir::new("gateway");
    let apps = dir.0.join("apps");
    std::fs::create_dir_all(&apps).unwrap();
    let hook = json!([{"handler_name": "eh_web_hook_handler", "handler_meta": {
        "method": "POST", "target_path": never, "event_timeout": 0
    }}]);
    for (file, text) in [
        ("api.json", api("api", "/api/", upstream, json!({}))),
        (
            "fire.json",
            api("fire", "/fire/", upstream, json!({"AuthFailure": hook})),
        ),
        ("quiet.json", api("quiet", "/quiet/", upstream, json!({}))),
    ] {
        std::fs::write(apps.join(file), text).unwrap();
    }
    let conf = dir.0.join("hookshot.conf");
    std::fs::write(
        &conf,
        json!({
            "listen_address": "127.0.0.1", "listen_port": 0, "secret": SECRET,
            "app_path": "apps", "storage": {"type": "memory"},
            "hookshot": {"request_timeout_secs": 2, "connect_timeout_secs": 2, "shutdown_grace_secs": 1}
        })
        .to_string(),
    )
    .unwrap();
    // Cargo builds the package's binary for its benchmarks, in the same profile and with the same
    // features, so no second build is needed.
    let mut child = Command::new(env!("CARGO_BIN_EXE_hookshot"))
        .arg("--conf")
        .arg(&conf)
        .env("RUST_LOG", "error")
        .env_remove("HOOKSHOT_SECRET")
        .env_remove("TYK_GW_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting hookshot");
    let stdout = child.stdout.take().unwrap();
    let process = Process {
        child,
        name: "hookshot",
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let _ = tx.send(lines.next());
        for _ in lines {}
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("hookshot did not start within 60 s")
        .expect("hookshot exited before listening")
        .expect("hookshot's first line");
    let addr = line
        .strip_prefix("hookshot: listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line from hookshot: {line:?}"))
        .to_owned();
    GatewayProcess {
        process,
        addr,
        _dir: dir,
    }
}

/// nginx started, or why it could not be.
type Nginx = Result<(Process, String, TempDir), String>;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn start_nginx(upstream: &str, workers: usize) -> Nginx {
    let binary = bench::find_or_install("nginx", "nginx")?;
    let dir = TempDir::new("nginx");
    let d = dir.0.display().to_string();
    let port = free_port();
    let conf = format!(
        r#"daemon off;
master_process on;
worker_processes {workers};
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    upstream backend {{
        server {upstream};
        keepalive 64;
        keepalive_requests 1000000;
    }}
    server {{
        listen 127.0.0.1:{port};
        location /api/ {{
            proxy_pass http://backend/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"#
    );
    let conf_path = dir.0.join("nginx.conf");
    std::fs::write(&conf_path, conf)
        .map_err(|e| format!("writing {}: {e}", conf_path.display()))?;
    let child = Command::new(&binary)
        .arg("-p")
        .arg(&dir.0)
        .arg("-e")
        .arg(dir.0.join("error.log"))
        .arg("-c")
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{} could not be started ({e})", binary.display()))?;
    let mut process = Process {
        child,
        name: "nginx",
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = process.child.try_wait() {
            let log = std::fs::read_to_string(dir.0.join("error.log")).unwrap_or_default();
            return Err(format!(
                "nginx exited at start ({status}): {}",
                log.lines().last().unwrap_or("")
            ));
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "nginx did not listen on 127.0.0.1:{port} within 10 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((process, format!("127.0.0.1:{port}"), dir))
}

/// Seconds of CPU (user and system) used so far by process `pid` and its children that run
/// (nginx's workers), from /proc (Linux); 0 where /proc cannot tell.
fn cpu_seconds(pid: u32) -> f64 {
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
fn per_request(cpu: f64) -> String {
    bench::time(Duration::from_secs_f64(
        cpu / (PAIRS * REQUESTS_PER_ROUND) as f64,
    ))
}

async fn text(client: &LoadClient, url: &str, headers: &[(&'static str, &str)]) -> (u16, String) {
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
async fn post_json(url: &str, body: serde_json::Value) -> u16 {
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

fn metric(metrics: &str, prefix: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<u64>().ok()))
        .sum()
}

async fn run() {
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let upstream = start_upstream().await;
    let never = Receiver::start().await;
    never.set_default_reply(Reply::never());
    let gateway = start_gateway(&format!("http://{upstream}/"), &never.url("/hook"));
    let nginx = start_nginx(&upstream.to_string(), threads);

    let client: LoadClient = bench::raw_client(IN_FLIGHT * 2);

    let gw = &gateway.addr;
    let created = post_json(
        &format!("http://{gw}/tyk/keys/{KEY}"),
        json!({"org_id": "bench", "rate": 1_000_000, "per": 1, "quota_max": -1}),
    )
    .await;
    assert_eq!(created, 200, "creating the bench key");

    let direct = Target::new(&format!("http://{upstream}/items"), None, StatusCode::OK);
    let through_gw = Target::new(&format!("http://{gw}/api/items"), Some(KEY), StatusCode::OK);
    let through_nginx = nginx.as_ref().ok().map(|(_, addr, _)| {
        Target::new(
            &format!("http://{addr}/api/items"),
            Some(KEY),
            StatusCode::OK,
        )
    });
    let quiet = Target::new(
        &format!("http://{gw}/quiet/items"),
        Some(UNKNOWN_KEY),
        StatusCode::FORBIDDEN,
    );
    let fire = Target::new(
        &format!("http://{gw}/fire/items"),
        Some(UNKNOWN_KEY),
        StatusCode::FORBIDDEN,
    );

    // The proxy comparison: gateway, nginx (when it runs) and direct, in a rotating order; the
    // CPU the gateway and nginx processes use in their rounds is added up.
    let mut setups: Vec<(&Target, Option<u32>)> =
        vec![(&through_gw, Some(gateway.process.pid())), (&direct, None)];
    if let (Some(n), Ok((p, _, _))) = (&through_nginx, &nginx) {
        setups.insert(1, (n, Some(p.pid())));
    }
    for (t, _) in &setups {
        round(&client, t, WARM_UP).await;
    }
    let measuring = Instant::now();
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); setups.len()];
    let mut cpu = vec![0.0; setups.len()];
    for pair in 0..PAIRS {
        for i in 0..setups.len() {
            let k = (i + pair) % setups.len();
            let (target, pid) = setups[k];
            let (rate, used) = match pid {
                Some(pid) => measured_round(&client, target, pid).await,
                None => (round(&client, target, REQUESTS_PER_ROUND).await, 0.0),
            };
            rates[k].push(rate);
            cpu[k] += used;
        }
    }
    let cpu_per_request = |k: usize| per_request(cpu[k]);
    let ratio_to = |k: usize| -> f64 {
        bench::median_f64(
            rates[0]
                .iter()
                .zip(&rates[k])
                .map(|(g, other)| g / other)
                .collect(),
        )
    };

    // The webhook comparison: the same unknown-key load with and without a webhook handler.
    round(&client, &quiet, WARM_UP).await;
    round(&client, &fire, WARM_UP).await;
    let (mut fired, mut silent, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut fire_cpu, mut quiet_cpu) = (0.0, 0.0);
    let gw_pid = gateway.process.pid();
    for pair in 0..PAIRS {
        let ((f, fc), (q, qc)) = if pair % 2 == 0 {
            let f = measured_round(&client, &fire, gw_pid).await;
            (f, measured_round(&client, &quiet, gw_pid).await)
        } else {
            let q = measured_round(&client, &quiet, gw_pid).await;
            (measured_round(&client, &fire, gw_pid).await, q)
        };
        fire_cpu += fc;
        quiet_cpu += qc;
        fired.push(f);
        silent.push(q);
        ratios.push(f / q);
    }
    let (_, metrics) = text(&client, &format!("http://{gw}/metrics"), &[]).await;

    let mut table = Table::new(format!(
        "hookshot-gateway: GET requests/s on loopback, {IN_FLIGHT} in flight, {PAIRS} rounds of \
         {REQUESTS_PER_ROUND} each; gateway = the hookshot binary ({threads} runtime threads, memory \
         storage)"
    ));
    let gw_rate = bench::median_f64(rates[0].clone());
    let direct_rate = bench::median_f64(rates[setups.len() - 1].clone());
    match &through_nginx {
        Some(_) => {
            let r = ratio_to(1);
            table.row(
                "through the gateway (key auth + rate limit), vs nginx",
                bench::per_sec(gw_rate),
                format!(
                    "{} (nginx, {threads} workers, plain reverse proxy)",
                    bench::per_sec(bench::median_f64(rates[1].clone()))
                ),
                format!("{r:.2}x"),
                bench::verdict("≥ 0.9x", r >= 0.9),
            );
            table.row(
                "  CPU per proxied request (all threads / worker processes)",
                cpu_per_request(0),
                format!("{} (nginx)", cpu_per_request(1)),
                format!("{:.2}x", cpu[0] / cpu[1]),
                "-",
            );
        }
        None => {
            let why = nginx.as_ref().err().cloned().unwrap_or_default();
            table.row(
                "through the gateway (key auth + rate limit), vs nginx",
                bench::per_sec(gw_rate),
                format!("nginx unavailable: {why}"),
                "-",
                "≥ 0.9x: not measured",
            );
        }
    }
    let r = ratio_to(setups.len() - 1);
    table.row(
        "through the gateway (key auth + rate limit), vs direct",
        bench::per_sec(gw_rate),
        format!("{} (straight to the upstream)", bench::per_sec(direct_rate)),
        format!("{r:.2}x"),
        "-",
    );
    let r = bench::median_f64(ratios);
    table.row(
        "unknown key (403), each firing a webhook to a receiver that never answers",
        bench::per_sec(bench::median_f64(fired)),
        format!(
            "{} (same load, no webhook handler)",
            bench::per_sec(bench::median_f64(silent))
        ),
        format!("{r:.2}x"),
        bench::verdict("≥ 0.9x", r >= 0.9),
    );
    table.row(
        "  gateway CPU per request",
        per_request(fire_cpu),
        format!("{} (no webhook handler)", per_request(quiet_cpu)),
        format!("{:.2}x", fire_cpu / quiet_cpu),
        "-",
    );
    table.row(
        "  AuthFailure events fired (both APIs) / webhooks held by the receiver / dropped, queue full",
        format!(
            "{} / {} / {}",
            metric(
                &metrics,
                "hookshot_events_fired_total{event=\"AuthFailure\"}"
            ),
            never.request_count(),
            metric(&metrics, "hookshot_webhook_dropped_total"),
        ),
        "-",
        "-",
        "-",
    );
    table.row(
        "peak resident memory of the gateway process",
        bench::peak_rss(gateway.process.pid()),
        "-",
        "-",
        "-",
    );
    println!("{}", table.render());
    println!(
        "({:.1} s measuring, {:.1} s in all with start-up)",
        measuring.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    drop(nginx);
    drop(gateway);
}

fn main() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime")
        .block_on(run());
}
