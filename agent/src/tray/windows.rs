//! The tray on Windows: dwell's icon in the notification area, today's social
//! time against the daily limit as its tooltip, and the same menu as on Linux
//! ([`super::rows`]) when it is clicked, either button or the keyboard.
//!
//! A thread of its own ("tray") holds a hidden window and runs its message
//! loop (`win32`, where every `unsafe` of the tray is). The run loop's
//! [`TrayState`]s reach it through the watch channel and a [`win32::Waker`]
//! that a small task pokes at each change, so the thread sleeps in
//! `GetMessageW` while nothing changes. A choice goes back as a [`TrayEvent`]
//! on the channel, never blocking the window. When the run loop lets go of
//! its [`TrayLink`], the task closes the window: the icon is taken away before
//! the agent ends, so no dead icon is left behind.
//!
//! Without a notification area (a session without Explorer's taskbar) the
//! agent runs on without the icon, says so once (info), and adds it when a
//! taskbar announces itself ("TaskbarCreated", also sent when Explorer
//! restarts).

use std::path::Path;

use tokio::sync::{mpsc, oneshot, watch};

use super::rows::{Flags, Row, ROWS};
use super::win32::{self, Heard, Icon, Item, NotifyIcon, Window};
use super::{disc, TrayEvent, TrayIcon, TrayLink, TrayState};

/// Starts the tray thread with `initial` shown. `None` (said in the log) when
/// no window or thread can be made.
pub async fn start(initial: TrayState) -> Option<TrayLink> {
    let (events_tx, events) = mpsc::channel(8);
    let (show, shown) = watch::channel(initial);
    let (ready_tx, ready) = oneshot::channel();
    let thread_shown = shown.clone();
    let spawned = std::thread::Builder::new()
        .name("tray".into())
        .spawn(move || match Window::new() {
            Ok(window) => {
                let _ = ready_tx.send(Some(window.waker()));
                serve(&window, thread_shown, events_tx);
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot make the tray's window; running without the icon");
                let _ = ready_tx.send(None);
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the tray thread; running without the icon");
        return None;
    }
    let waker = ready.await.ok().flatten()?;
    tokio::spawn(forward(shown, waker));
    Some(TrayLink { events, show })
}

/// Wakes the window at each new state; closes it when the run loop is gone.
async fn forward(mut shown: watch::Receiver<TrayState>, waker: win32::Waker) {
    while shown.changed().await.is_ok() {
        waker.wake();
    }
    waker.close();
}

/// The three icons, drawn at the small icon size (as on Linux without an icon
/// theme: a disc in the state's colour).
struct Icons {
    normal: Icon,
    over: Icon,
    paused: Icon,
}

impl Icons {
    fn draw() -> Option<Icons> {
        let size = win32::small_icon_size();
        let one = |state: TrayIcon| Icon::from_argb(size, &disc(size, state.rgb()));
        Some(Icons {
            normal: one(TrayIcon::Normal)?,
            over: one(TrayIcon::Over)?,
            paused: one(TrayIcon::Paused)?,
        })
    }

    fn of(&self, state: TrayIcon) -> &Icon {
        match state {
            TrayIcon::Normal => &self.normal,
            TrayIcon::Over => &self.over,
            TrayIcon::Paused => &self.paused,
        }
    }
}

/// The window's loop: shows each new state, answers clicks with the menu.
fn serve(window: &Window, shown: watch::Receiver<TrayState>, events: mpsc::Sender<TrayEvent>) {
    let Some(icons) = Icons::draw() else {
        tracing::warn!("cannot draw the tray's icons; running without the icon");
        return;
    };
    let icon = NotifyIcon::new(window);
    let mut state = shown.borrow().clone();
    let mut added = icon.add(icons.of(state.icon), &state.tooltip);
    if !added {
        tracing::info!("no notification area (Explorer's taskbar) to show the tray icon in yet");
    }
    win32::run(|heard| {
        match heard {
            Heard::Woken => {
                let new = shown.borrow().clone();
                if new != state {
                    state = new;
                    if added {
                        icon.modify(icons.of(state.icon), &state.tooltip);
                    }
                }
            }
            Heard::TaskbarCreated => {
                added = icon.add(icons.of(state.icon), &state.tooltip);
                if added {
                    tracing::info!("the taskbar is there: tray icon added");
                }
            }
            Heard::Clicked => {
                let flags = Flags {
                    paused: state.paused,
                    reminder_actions: state.reminder_actions,
                };
                let chosen = win32::popup(window, &items(flags));
                if let Some(event) = chosen.and_then(|id| super::rows::click(i32::from(id), flags))
                {
                    if events.try_send(event).is_err() {
                        tracing::warn!(?event, "the run loop is not taking menu choices; dropped");
                    }
                }
            }
            Heard::Closing => return false,
        }
        true
    });
    if added {
        icon.delete();
    }
}

/// The command that opens the config file at `path`: Notepad, which every
/// Windows has (a `.toml` file is associated with nothing by default).
pub fn settings_opener(path: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new("notepad.exe");
    cmd.arg(path);
    cmd
}

/// The popup menu's rows: ids as in [`super::rows`], greyed when not offered.
fn items(flags: Flags) -> Vec<Item<'static>> {
    ROWS.iter()
        .zip(1u16..)
        .map(|(row, id)| match *row {
            Row::Entry(label, event) => Item::Entry(id, label, flags.enabled(event)),
            Row::Separator => Item::Separator,
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_popup_has_the_linux_menus_rows_and_ids() {
        let flags = Flags {
            paused: true,
            reminder_actions: false,
        };
        let items = items(flags);
        assert_eq!(items.len(), ROWS.len());
        let labels: Vec<&str> = items
            .iter()
            .filter_map(|i| match i {
                Item::Entry(_, label, _) => Some(*label),
                Item::Separator => None,
            })
            .collect();
        assert_eq!(labels, super::super::MENU);
        for item in &items {
            if let Item::Entry(id, _, enabled) = *item {
                let chosen = super::super::rows::click(i32::from(id), flags);
                assert_eq!(chosen.is_some(), enabled, "{item:?}");
            }
        }
        // Resume offered while paused, Snooze not without a reminder.
        assert!(matches!(items[2], Item::Entry(3, "Resume", true)));
        assert!(matches!(items[9], Item::Entry(10, "Snooze", false)));
    }

    /// Polls `f` every 50 ms for up to 10 s.
    async fn eventually(what: &str, f: impl Fn() -> bool) {
        for _ in 0..200 {
            if f() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("not within 10 s: {what}");
    }

    /// Needs Explorer's notification area: under Wine, a display (Xvfb and a
    /// window manager), where Wine's explorer serves it; without one the
    /// window cannot be made. Run with `--ignored` on such a desktop.
    #[tokio::test]
    #[ignore = "needs a desktop with a notification area (under Wine: Xvfb + openbox)"]
    async fn the_icon_is_in_the_notification_area_while_the_tray_runs_and_gone_after() {
        let min = |m: u64| std::time::Duration::from_secs(m * 60);
        let link = start(super::super::state(min(12), min(30), None))
            .await
            .expect("the tray starts");
        let hwnd = win32::tray_window().expect("the tray's window");
        eventually("the shell has the icon", || win32::shell_has_icon(hwnd)).await;
        // A new state: the icon stays, with the new tooltip and icon.
        link.show
            .send(super::super::state(min(40), min(30), None))
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert!(win32::shell_has_icon(hwnd));
        // The run loop lets go: the icon is taken away.
        drop(link);
        eventually("the icon is gone", || !win32::shell_has_icon(hwnd)).await;
    }
}
