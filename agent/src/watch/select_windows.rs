//! Windows: what `[tracking] backend` picks is always the one Windows
//! watcher (`watch/windows.rs`, [`super::windows::start`]); its door for the
//! browser extension's native host, the named pipe (`watch/pipe.rs`,
//! [`super::pipe::spawn`]), runs beside it, as the bus thread does on Linux.

use anyhow::Result;
use dwell_core::config::BackendChoice;
use tokio::sync::mpsc;

use super::{WatchEvent, Watching};

/// Starts the Windows watcher and the native host's door, sending to `tx`.
/// `[tracking] backend` names Linux backends only: anything but `auto` is
/// said once and ignored.
pub fn start(choice: BackendChoice, tx: mpsc::Sender<WatchEvent>) -> Result<Watching> {
    // (`super::windows::start` says once that a Linux backend is ignored.)
    let mut watching = super::windows::start(choice, tx.clone())?;
    match super::pipe::spawn(tx) {
        Ok(door) => {
            // Both stop when the loop drops the guard.
            watching.guard = Some(Box::new((watching.guard.take(), door)));
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot open the door for the browser extension: browsers are counted by window title")
        }
    }
    Ok(watching)
}
