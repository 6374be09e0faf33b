//! A readable table of benchmark figures, each beside the baseline measured in the same run.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// One row: what was measured, its figure, the same-run baseline, and the target.
#[derive(Debug, Clone)]
pub struct Row {
    /// What was measured.
    pub name: String,
    /// The figure, already formatted with its unit.
    pub value: String,
    /// The baseline it is compared with, formatted with its unit.
    pub baseline: String,
    /// value / baseline (or the comparison that matters), formatted.
    pub ratio: String,
    /// The target and whether it was met.
    pub target: String,
}

/// A benchmark report: a title and rows, printed as an aligned table.
#[derive(Debug, Clone, Default)]
pub struct Table {
    title: String,
    rows: Vec<Row>,
}

impl Table {
    /// A table titled `title`.
    pub fn new(title: impl Into<String>) -> Table {
        Table {
            title: title.into(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(
        &mut self,
        name: impl Into<String>,
        value: impl Into<String>,
        baseline: impl Into<String>,
        ratio: impl Into<String>,
        target: impl Into<String>,
    ) -> &mut Table {
        self.rows.push(Row {
            name: name.into(),
            value: value.into(),
            baseline: baseline.into(),
            ratio: ratio.into(),
            target: target.into(),
        });
        self
    }

    /// The table as text.
    pub fn render(&self) -> String {
        let header = [
            "benchmark",
            "figure",
            "same-run baseline",
            "ratio",
            "target",
        ];
        let cells: Vec<[&str; 5]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.name.as_str(),
                    r.value.as_str(),
                    r.baseline.as_str(),
                    r.ratio.as_str(),
                    r.target.as_str(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        let _ = writeln!(out, "\n{}", self.title);
        let line = |out: &mut String, row: &[&str; 5]| {
            let mut s = String::from("|");
            for (c, w) in row.iter().zip(widths) {
                let pad = w - c.chars().count();
                let _ = write!(s, " {c}{} |", " ".repeat(pad));
            }
            let _ = writeln!(out, "{s}");
        };
        line(&mut out, &header);
        let sep: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        let _ = writeln!(out, "|-{}-|", sep.join("-|-"));
        for row in &cells {
            line(&mut out, row);
        }
        out
    }
}

/// Formats a rate: `1.23 M/s`, `45.6 k/s`, `789 /s`.
pub fn per_sec(rate: f64) -> String {
    if rate >= 1e6 {
        format!("{:.2} M/s", rate / 1e6)
    } else if rate >= 1e3 {
        format!("{:.1} k/s", rate / 1e3)
    } else {
        format!("{rate:.0} /s")
    }
}

/// Formats a duration with a unit that suits it: `812 ns`, `1.42 µs`, `3.1 ms`.
pub fn time(d: Duration) -> String {
    let ns = d.as_secs_f64() * 1e9;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.1} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// The median of some durations.
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// The benchmarks' raw client, the baseline Hookshot's own clients are compared with: hyper-util's
/// pooled client over plain TCP with no delay, keeping up to `idle_per_host` connections for 90 s.
pub fn raw_client<B>(idle_per_host: usize) -> Client<HttpConnector, B>
where
    B: hyper::body::Body + Send,
    B::Data: Send,
{
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(idle_per_host)
        .pool_timer(TokioTimer::new())
        .build(http)
}

/// The median of some rates or ratios (the upper middle one of an even count).
pub fn median_f64(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Process `pid`'s peak resident memory, as `/proc/<pid>/status` gives it (`31760 kB`; Linux), or
/// `unknown`.
pub fn peak_rss(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// `met` or `MISSED`, for the target column.
pub fn verdict(target: &str, met: bool) -> String {
    format!("{target}: {}", if met { "met" } else { "MISSED" })
}

/// `binary` on `PATH` (or in `/usr/sbin`, `/sbin`).
pub fn which(binary: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|d| d.join(binary))
        .find(|p| p.is_file())
}

/// `binary`, installed from Debian's `package` with `apt-get` when it is missing (a benchmark's
/// baseline program, such as nginx); or why it could not be had.
pub fn find_or_install(binary: &str, package: &str) -> Result<PathBuf, String> {
    if let Some(p) = which(binary) {
        return Ok(p);
    }
    let apt = |args: &[&str]| -> Result<(), String> {
        eprintln!(
            "{binary} is not installed: running apt-get {}",
            args.join(" ")
        );
        let out = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("apt-get could not be run ({e})"))?;
        if out.status.success() {
            Ok(())
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            Err(format!(
                "apt-get {} failed ({}): {last}",
                args.join(" "),
                out.status
            ))
        }
    };
    let install = ["install", "-y", "-q", "--no-install-recommends", package];
    if apt(&install).is_err() {
        // The package lists may be missing or stale.
        apt(&["update", "-q"])?;
        apt(&install)?;
    }
    which(binary)
        .ok_or_else(|| format!("apt-get installed {package}, but no {binary} binary was found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let mut t = Table::new("demo");
        t.row("render", "1.00 µs", "0.50 µs", "2.0x", "≤ 4x: met");
        t.row("a much longer name", "1", "2", "0.5x", "-");
        let text = t.render();
        let lines: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
        assert_eq!(lines.len(), 4);
        let widths: Vec<usize> = lines.iter().map(|l| l.chars().count()).collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{text}");
    }

    #[test]
    fn units() {
        assert_eq!(per_sec(2_500_000.0), "2.50 M/s");
        assert_eq!(per_sec(75_300.0), "75.3 k/s");
        assert_eq!(time(Duration::from_nanos(1420)), "1.42 µs");
        assert_eq!(
            median(vec![
                Duration::from_secs(3),
                Duration::from_secs(1),
                Duration::from_secs(2)
            ]),
            Duration::from_secs(2)
        );
    }
}
