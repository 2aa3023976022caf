//! What the run loop logs, captured per test thread (the loop runs on the
//! test's thread) for tests that check what a log line may name.

use std::sync::{Arc, Mutex};

thread_local! {
    static CAPTURED: std::cell::RefCell<Option<Arc<Mutex<Vec<u8>>>>> =
        const { std::cell::RefCell::new(None) };
}

/// Writes into this thread's capture buffer, if one is set.
struct Captured;
impl std::io::Write for Captured {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        CAPTURED.with(|c| {
            if let Some(buf) = c.borrow().as_ref() {
                buf.lock().unwrap().extend_from_slice(data);
            }
        });
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Clears this thread's capture buffer when dropped.
pub(super) struct CaptureGuard;
impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURED.with(|c| c.borrow_mut().take());
    }
}

/// Captures what this thread logs (the loop runs on the test's thread)
/// while the guard lives. One global subscriber at every level writes to
/// the thread's buffer: a subscriber per test thread (`set_default`)
/// loses events when tests run in parallel.
pub(super) fn capture_logs() -> (Arc<Mutex<Vec<u8>>>, CaptureGuard) {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(|| Captured)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    let buf = Arc::new(Mutex::new(Vec::new()));
    CAPTURED.with(|c| *c.borrow_mut() = Some(buf.clone()));
    (buf, CaptureGuard)
}

/// The captured lines at `level` and above (a message's continuation
/// lines go with it).
pub(super) fn logged(buf: &Arc<Mutex<Vec<u8>>>, level: tracing::Level) -> String {
    let text = String::from_utf8_lossy(&buf.lock().unwrap()).into_owned();
    let mut keep = false;
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with(|c: char| c.is_ascii_digit()) {
            keep = line
                .split_whitespace()
                .nth(1)
                .and_then(|l| l.parse::<tracing::Level>().ok())
                .is_some_and(|l| l <= level);
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
