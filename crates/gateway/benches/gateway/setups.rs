//! What is measured: the upstream in this process, the `hookshot` process and nginx, each
//! stopped and cleaned up when dropped.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hookshot_testkit::bench::{self};
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;

use crate::SECRET;

/// The upstream: answers every request `200 {"ok":true}` over HTTP/1.1 keep-alive.
pub(crate) async fn start_upstream() -> std::net::SocketAddr {
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
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
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
pub(crate) struct Process {
    child: Child,
    name: &'static str,
}

impl Process {
    pub(crate) fn pid(&self) -> u32 {
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
pub(crate) struct GatewayProcess {
    pub(crate) process: Process,
    pub(crate) addr: String,
    _dir: TempDir,
}

pub(crate) fn api(id: &str, listen_path: &str, target: &str, events: serde_json::Value) -> String {
    json!({
        "api_id": id, "name": format!("{id} API"), "org_id": "bench",
        "use_keyless": false,
        "proxy": {"listen_path": listen_path, "target_url": target, "strip_listen_path": true},
        "event_handlers": {"events": events}
    })
    .to_string()
}

pub(crate) fn start_gateway(upstream: &str, never: &str) -> GatewayProcess {
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
pub(crate) type Nginx = Result<(Process, String, TempDir), String>;

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

pub(crate) fn start_nginx(upstream: &str, workers: usize) -> Nginx {
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
