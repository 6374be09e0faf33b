//! Log lines a test captures: a `tracing` subscriber that writes into memory, set as the default
//! of the current thread for as long as the [`CapturedLogs`] lives.

use std::sync::{Arc, Mutex};

use tracing::subscriber::DefaultGuard;

/// What was logged on this thread since [`capture`]; the capture ends when it is dropped.
pub struct CapturedLogs {
    buf: Arc<Mutex<Vec<u8>>>,
    _guard: DefaultGuard,
}

#[derive(Clone)]
struct Writer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Writer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures the lines logged on this thread at `level` or above, as plain text without colours.
/// A test on a current-thread runtime sees what its tasks log.
pub fn capture(level: tracing::Level) -> CapturedLogs {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let writer = Writer(buf.clone());
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    CapturedLogs {
        buf,
        _guard: tracing::subscriber::set_default(subscriber),
    }
}

impl CapturedLogs {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(
            &self
                .buf
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_owned()
    }

    /// Everything logged so far, a line each.
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_at_the_level_and_above_are_captured_until_dropped() {
        let logs = capture(tracing::Level::INFO);
        tracing::debug!("below the level");
        tracing::warn!(field = 7, "a warning");
        assert_eq!(logs.lines().len(), 1, "{:?}", logs.lines());
        assert!(logs.text().contains("WARN"), "{}", logs.text());
        assert!(logs.text().contains("a warning field=7"), "{}", logs.text());
        drop(logs);
        let after = capture(tracing::Level::TRACE);
        assert!(after.text().is_empty());
    }
}
