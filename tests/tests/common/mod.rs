//! Shared support of the end-to-end tests: a `hookshot` gateway process on a configuration of a
//! test's own (in a temporary folder, on a free port), and a small HTTP/1.1 client.

#![allow(dead_code, reason = "each test file uses a part")]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// The admin secret of every test gateway.
pub const SECRET: &str = "e2e-secret";

/// A folder of a test's own, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "hookshot-e2e-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("apps")).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `apps/<name>.json`.
    pub fn write_api(&self, name: &str, def: &Value) {
        std::fs::write(
            self.0.join("apps").join(format!("{name}.json")),
            serde_json::to_string_pretty(def).unwrap(),
        )
        .unwrap();
    }

    pub fn remove_api(&self, name: &str) {
        std::fs::remove_file(self.0.join("apps").join(format!("{name}.json"))).unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What `hookshot check` said of a configuration.
pub struct Checked {
    /// The exit status (`Some(1)` when it found mistakes).
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Writes `settings` as `hookshot.conf` in `dir` and runs `hookshot check` on it.
pub fn check(dir: &TempDir, settings: &Value) -> Checked {
    let conf = dir.path().join("hookshot.conf");
    std::fs::write(&conf, serde_json::to_string_pretty(settings).unwrap()).unwrap();
    let out = std::process::Command::new(hookshot_testkit::hookshot_bin())
        .args(["check", "--conf"])
        .arg(&conf)
        .output()
        .unwrap();
    Checked {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A classic API definition.
pub fn api(id: &str, listen_path: &str, target: &str, events: Value) -> Value {
    json!({
        "name": format!("{id} API"),
        "api_id": id,
        "org_id": "e2e-org",
        "active": true,
        "use_keyless": false,
        "auth": {"auth_header_name": "Authorization"},
        "proxy": {"listen_path": listen_path, "target_url": target, "strip_listen_path": true},
        "event_handlers": {"events": events},
        "some_field_hookshot_ignores": {"x": 1}
    })
}

/// A webhook handler posting to `url` with no cool-down.
pub fn hook(method: &str, url: &str, event_timeout: u64) -> Value {
    json!([{"handler_name": "eh_web_hook_handler", "handler_meta": {
        "method": method, "target_path": url, "event_timeout": event_timeout,
        "header_map": {"X-E2E": "yes"}
    }}])
}

/// The storage section of a gateway on the test command's Redis, with a prefix of its own.
pub fn redis_storage(prefix: &str) -> Value {
    let url = hookshot_testkit::redis_url();
    let rest = url.trim_start_matches("redis://");
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let hostport = rest.split('/').next().unwrap_or(rest);
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "6379"));
    json!({"type": "redis", "host": host, "port": port.parse::<u16>().unwrap(), "key_prefix": prefix})
}

/// A running `hookshot` process, killed when dropped.
pub struct Gateway {
    pub child: Child,
    /// The public listener.
    pub addr: String,
    /// The control listener (`control_api_port`), or the public one when there is none.
    pub control_addr: String,
    pub dir: PathBuf,
}

/// A loopback port free a moment ago, for settings that cannot be 0 (`control_api_port`).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Gateway {
    /// Writes `conf` (merged over the defaults: loopback, port 0, `apps/`, the test secret) into
    /// `dir` and starts the gateway on it, waiting until it listens (on its control port too,
    /// when `conf` sets `control_api_port`). Fields of a section (`hookshot`, `storage`, ...)
    /// are merged into the defaults' section.
    pub async fn start(dir: &TempDir, conf: Value) -> Gateway {
        let mut full = json!({
            "listen_address": "127.0.0.1",
            "listen_port": 0,
            "secret": SECRET,
            "app_path": "apps",
            "hookshot": {"shutdown_grace_secs": 5}
        });
        if let (Some(f), Some(c)) = (full.as_object_mut(), conf.as_object()) {
            for (k, v) in c {
                match (f.get_mut(k).and_then(Value::as_object_mut), v.as_object()) {
                    (Some(section), Some(fields)) => {
                        for (field, value) in fields {
                            section.insert(field.clone(), value.clone());
                        }
                    }
                    _ => {
                        f.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        let separate_control = full["control_api_port"].as_u64().unwrap_or(0) != 0;
        let path = dir.path().join(format!(
            "hookshot-{}.conf",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::write(&path, serde_json::to_string_pretty(&full).unwrap()).unwrap();
        let mut child = Command::new(hookshot_testkit::hookshot_bin())
            .arg("--conf")
            .arg(&path)
            .env("RUST_LOG", "warn")
            .env_remove("HOOKSHOT_SECRET")
            .env_remove("TYK_GW_SECRET")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("the gateway did not start within 60 s")
            .unwrap()
            .expect("the gateway exited before listening");
        let addr = line
            .strip_prefix("hookshot: listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        let control_addr = if separate_control {
            let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
                .await
                .expect("the gateway did not open its control port within 60 s")
                .unwrap()
                .expect("the gateway exited before opening its control port");
            line.strip_prefix("hookshot: control API on http://")
                .unwrap_or_else(|| panic!("unexpected second line {line:?}"))
                .to_owned()
        } else {
            addr.clone()
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Gateway {
            child,
            addr,
            control_addr,
            dir: dir.path().to_path_buf(),
        }
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        request(&self.addr, "GET", path, headers, b"").await
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Answer {
        request(&self.addr, method, path, headers, body).await
    }

    /// An admin call with the secret, on the control listener.
    pub async fn admin(&self, method: &str, path: &str, body: &Value) -> Answer {
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        request(
            &self.control_addr,
            method,
            path,
            &[("x-tyk-authorization", SECRET)],
            &body,
        )
        .await
    }

    /// A request on the control listener.
    pub async fn control(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
        request(&self.control_addr, method, path, headers, b"").await
    }

    /// Creates a key with `session` and returns it.
    pub async fn create_key(&self, session: Value) -> String {
        let a = self.admin("POST", "/tyk/keys/create", &session).await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.json()["key"].as_str().unwrap().to_owned()
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// One HTTP/1.1 request on a fresh connection.
pub async fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let fut = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" || method == "PUT" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        parse(&raw)
    };
    tokio::time::timeout(Duration::from_secs(30), fut)
        .await
        .expect("no answer within 30 s")
}

fn parse(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&raw[..end])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 2 + size + 2..];
    }
    out
}

/// Parses a webhook body as JSON.
pub fn body_json(r: &hookshot_testkit::receiver::Recorded) -> Value {
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("webhook body is not JSON ({e}): {}", r.body_text()))
}

/// The host and port of a `redis://[user:password@]host:port[/db]` URL.
pub fn redis_host_port(url: &str) -> (String, u16) {
    let rest = url.trim_start_matches("redis://");
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let hostport = rest.split('/').next().unwrap_or(rest);
    let (host, port) = hostport.rsplit_once(':').unwrap_or((hostport, "6379"));
    (host.to_owned(), port.parse().unwrap())
}

/// A Redis reply, as the test reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resp {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Resp>>),
}

impl Resp {
    /// A bulk or simple string as text.
    pub fn text(&self) -> Option<String> {
        match self {
            Resp::Simple(s) => Some(s.clone()),
            Resp::Bulk(Some(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }

    pub fn int(&self) -> i64 {
        match self {
            Resp::Int(n) => *n,
            other => panic!("expected an integer reply, got {other:?}"),
        }
    }
}

/// Sends one command to the Redis at `url` (database `db`) on a fresh connection, with a RESP
/// client of the test's own, so that what is checked does not go through Hookshot's Redis code.
pub async fn redis_command(url: &str, db: i64, args: &[&str]) -> Resp {
    let (host, port) = redis_host_port(url);
    let fut = async {
        let stream = TcpStream::connect((host.as_str(), port)).await.unwrap();
        let mut stream = BufReader::new(stream);
        let encode = |args: &[&str]| {
            let mut out = format!("*{}\r\n", args.len()).into_bytes();
            for a in args {
                out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                out.extend_from_slice(a.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            out
        };
        let db = db.to_string();
        stream
            .get_mut()
            .write_all(&encode(&["SELECT", &db]))
            .await
            .unwrap();
        let selected = read_resp(&mut stream).await;
        assert_eq!(selected, Resp::Simple("OK".into()), "SELECT {db}");
        stream.get_mut().write_all(&encode(args)).await.unwrap();
        read_resp(&mut stream).await
    };
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .expect("Redis did not answer within 10 s")
}

fn read_resp<'a>(
    r: &'a mut BufReader<TcpStream>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Resp> + Send + 'a>> {
    Box::pin(async move {
        let mut line = String::new();
        r.read_line(&mut line).await.unwrap();
        let line = line.trim_end_matches("\r\n");
        let (kind, rest) = line.split_at(1);
        match kind {
            "+" => Resp::Simple(rest.to_owned()),
            "-" => Resp::Error(rest.to_owned()),
            ":" => Resp::Int(rest.parse().unwrap()),
            "$" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Resp::Bulk(None);
                }
                let mut buf = vec![0u8; n as usize + 2];
                r.read_exact(&mut buf).await.unwrap();
                buf.truncate(n as usize);
                Resp::Bulk(Some(buf))
            }
            "*" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Resp::Array(None);
                }
                let mut items = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    items.push(read_resp(r).await);
                }
                Resp::Array(Some(items))
            }
            other => panic!("unexpected Redis reply {other:?}{rest}"),
        }
    })
}

/// The values of every Prometheus series line that starts with `prefix`, added up.
pub fn metric_sum(metrics: &str, prefix: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next().and_then(|v| v.parse::<u64>().ok()))
        .sum()
}
