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
//!
//! `setups` starts what is measured (the upstream, the gateway process, nginx); `load` sends the
//! load and reads what it cost; this file runs the rounds and writes the table.

mod load;
mod setups;

use std::time::{Duration, Instant};

use hookshot_testkit::bench::{self, Table};
use hookshot_testkit::receiver::{Receiver, Reply};
use http::StatusCode;
use serde_json::json;

use load::*;
use setups::*;

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
