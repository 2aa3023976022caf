//! Windows: the tray icon in the notification area — **a stub for now**: no
//! icon is shown, and the agent runs on without one, as on a Linux desktop
//! without a tray. The real one (`Shell_NotifyIconW` on a window of its own
//! thread, the tooltip from [`TrayState::tooltip`], the menu of [`super::MENU`]
//! sending [`super::TrayEvent`]s) takes this file's place, with the same
//! [`start`].

use std::path::Path;

use super::{TrayLink, TrayState};

/// Starts the tray with `initial` shown; `None` while there is none on Windows.
pub async fn start(initial: TrayState) -> Option<TrayLink> {
    let _ = initial;
    tracing::info!("no tray icon: not built for Windows yet");
    None
}

/// The command that opens the config file at `path`: Notepad, which every
/// Windows has (a `.toml` file is associated with nothing by default).
pub fn settings_opener(path: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new("notepad.exe");
    cmd.arg(path);
    cmd
}
