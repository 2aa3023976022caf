//! Windows: the agent's door for the browser extension's native host — **a
//! stub for now**. The real one serves a named pipe for this user alone
//! (`\\.\pipe\dwell-<user SID>`, a DACL granting the user only), reads the
//! host's [`crate::door::TabFacts`] and pause results, and sends them to the
//! run loop as [`WatchEvent::Tab`], [`WatchEvent::TabGone`] and
//! [`WatchEvent::PauseResult`], answering each tab report through its
//! [`crate::door::Answer`] — what `watch/bus` does on Linux. The host's end
//! is `native_host/pipe.rs`.

use tokio::sync::mpsc;

use super::WatchEvent;

/// Starts serving the door, sending to `tx`; the guard stops it when
/// dropped. The stub serves nothing.
pub fn spawn(tx: mpsc::Sender<WatchEvent>) -> std::io::Result<Box<dyn Send>> {
    drop(tx);
    Ok(Box::new(()))
}
