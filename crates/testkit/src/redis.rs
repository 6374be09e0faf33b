//! A `redis-server` of a test's own, for tests that stop, pause and restart Redis.
//!
//! Most tests share the server the test command started ([`crate::redis_url`]); a test that takes
//! Redis away must not take it from the others, so it starts one here: on a free loopback port,
//! without persistence, killed when dropped (also when the test fails).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to answer its first PING.
const READY_LIMIT: Duration = Duration::from_secs(10);

/// A `redis-server` owned by the test.
#[derive(Debug)]
pub struct RedisServer {
    binary: String,
    port: u16,
    dir: PathBuf,
    extra_args: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free loopback port.
    ///
    /// # Panics
    /// When no `redis-server` can be found (`$REDIS_SERVER_BIN`, then `PATH`) or it does not
    /// answer PING within 10 s.
    pub fn start() -> RedisServer {
        RedisServer::start_with_args(&[])
    }

    /// Starts a server with extra `redis-server` arguments (for example `--requirepass`).
    ///
    /// # Panics
    /// As [`RedisServer::start`].
    pub fn start_with_args(args: &[&str]) -> RedisServer {
        let binary = binary();
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let dir = std::env::temp_dir()
                .join(format!("hookshot-test-redis-{}-{port}", std::process::id()));
            let mut server = RedisServer {
                binary: binary.clone(),
                port,
                dir,
                extra_args: args.iter().map(|a| (*a).to_owned()).collect(),
                child: None,
            };
            match server.spawn() {
                Ok(()) => return server,
                Err(e) => last = e,
            }
        }
        panic!("could not start {binary}: {last}");
    }

    /// The port it listens on (the same after [`RedisServer::start_again`]).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Whether the server process runs.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Kills the server: its port refuses connections and open connections are closed.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, empty.
    ///
    /// # Panics
    /// When it does not answer PING within 10 s (for example because the port was taken
    /// meanwhile).
    pub fn start_again(&mut self) {
        self.stop();
        if let Err(e) = self.spawn() {
            panic!(
                "could not start {} again on port {}: {e}",
                self.binary, self.port
            );
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open and connecting still succeeds, but
    /// nothing is answered, as when a server hangs or the network drops packets.
    ///
    /// # Panics
    /// When the server does not run or `kill` fails.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server go on (SIGCONT).
    ///
    /// # Panics
    /// As [`RedisServer::pause`].
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self
            .child
            .as_ref()
            .expect("the redis-server is not running");
        let status = Command::new("kill")
            .arg(signal)
            .arg(child.id().to_string())
            .status()
            .expect("running kill");
        assert!(status.success(), "kill {signal} {} failed", child.id());
    }

    fn spawn(&mut self) -> Result<(), String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        let child = Command::new(&self.binary)
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", self.binary))?;
        self.child = Some(child);
        let deadline = Instant::now() + READY_LIMIT;
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                self.child = None;
                return Err(format!("it exited at once ({status})"));
            }
            if answers_ping(self.port) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop();
        Err(format!("no answer to PING within {READY_LIMIT:?}"))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // A paused server must go on to be killed cleanly.
            let _ = Command::new("kill")
                .arg("-CONT")
                .arg(child.id().to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether a server on `port` answers PING (a server with a password answers `-NOAUTH`, which
/// also counts: it is up).
fn answers_ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && (&buf == b"+PONG\r\n" || buf.starts_with(b"-NOAUTH"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("finding a free loopback port")
}

/// `$REDIS_SERVER_BIN` (set by the test command), else `redis-server` on `PATH`.
fn binary() -> String {
    if let Ok(bin) = std::env::var("REDIS_SERVER_BIN")
        && !bin.is_empty()
    {
        return bin;
    }
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("redis-server"))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) => p.display().to_string(),
        None => panic!(
            "redis-server was not found: run the tests with `cargo xtask test`, which finds or \
             installs it and sets REDIS_SERVER_BIN, or install it (Debian/Ubuntu: apt-get install \
             redis-server)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_and_start_again_on_the_same_port() {
        let mut server = RedisServer::start();
        let port = server.port();
        assert!(answers_ping(port));
        server.stop();
        assert!(!server.is_running());
        assert!(!answers_ping(port));
        server.start_again();
        assert_eq!(server.port(), port);
        assert!(answers_ping(port));
    }
}
