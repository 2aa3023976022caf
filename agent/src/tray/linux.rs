//! Linux: the tray is a StatusNotifierItem on the session bus, served by a
//! thread of its own (`sni`), and settings open with `xdg-open`.

use std::path::Path;

use tokio::sync::{mpsc, watch};

use super::{sni, TrayLink, TrayState};

/// Starts the tray with `initial` shown. `None` (said in the log) when the
/// session bus is not a local one or no thread can be started; a desktop
/// without a tray is not an error (see the module docs).
pub async fn start(initial: TrayState) -> Option<TrayLink> {
    if let Some(why) = crate::watch::bus::refused_address("DBUS_SESSION_BUS_ADDRESS") {
        tracing::info!("no tray icon: {why}");
        return None;
    }
    let (events_tx, events) = mpsc::channel(8);
    let (show, shown) = watch::channel(initial);
    // Not waiting for the connection: a session bus that does not answer
    // must not hold up the run loop. If the item cannot be served, the thread
    // says so and ends, and the loop sees the menu's channel close.
    let spawned = std::thread::Builder::new()
        .name("dbus-tray".into())
        .spawn(move || zbus::block_on(sni::serve(shown, events_tx)));
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the tray thread; running without the icon");
        return None;
    }
    Some(TrayLink { events, show })
}

/// The command that opens the config file at `path`.
pub fn settings_opener(path: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new("xdg-open");
    cmd.arg(path);
    cmd
}
