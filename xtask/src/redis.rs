//! A throwaway `redis-server` on a free loopback port, stopped when dropped (also when tests fail).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A running `redis-server` owned by this process.
pub struct RedisServer {
    child: Child,
    port: u16,
    binary: String,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts one with no persistence, installing `redis-server` first when it is missing and the
    /// machine allows it.
    pub fn start() -> Result<RedisServer> {
        let binary = find_or_install()?;
        let mut last_err = None;
        for _ in 0..5 {
            let port = free_port()?;
            let dir =
                std::env::temp_dir().join(format!("hookshot-redis-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let child = Command::new(&binary)
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .arg("--dir")
                .arg(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .with_context(|| format!("starting {binary}"))?;
            let server = RedisServer {
                child,
                port,
                binary: binary.clone(),
                dir,
            };
            match server.wait_ready(Duration::from_secs(10)) {
                Ok(()) => {
                    eprintln!("==> redis-server ready at {}", server.url());
                    return Ok(server);
                }
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("redis-server did not start")))
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The `redis-server` executable, for tests that start servers of their own.
    pub fn binary(&self) -> &str {
        &self.binary
    }

    fn wait_ready(&self, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                s.set_read_timeout(Some(Duration::from_secs(1)))?;
                s.write_all(b"PING\r\n")?;
                let mut buf = [0u8; 7];
                if s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n" {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!(
            "redis-server on port {} did not answer PING within {limit:?}",
            self.port
        )
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

fn find_or_install() -> Result<String> {
    if let Some(bin) = crate::install::find_or_install("redis-server", "redis-server") {
        return Ok(bin);
    }
    bail!(
        "redis-server is not installed, and the tests need one (they start a throwaway server on a free port).\n\
         Install it, then run this again:\n  Debian/Ubuntu: sudo apt-get install redis-server\n  Fedora: sudo dnf install redis\n  macOS: brew install redis"
    )
}
