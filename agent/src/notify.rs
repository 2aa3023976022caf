//! Desktop notifications: the reminders the run loop shows, and what the
//! employee does with them. One thread owns them; the run loop talks to it
//! over two channels ([`Request`] in, [`NotifyEvent`] out), the same on
//! every platform. The thread is the platform's:
//!
//! - Linux (`notify/linux.rs`): the freedesktop notification server on the
//!   session bus (dunst, GNOME Shell, Plasma, mako...), with actions,
//!   replacement and do-not-disturb;
//! - Windows (`notify/windows.rs`): WinRT toasts through notify-rust; a toast
//!   that cannot be shown (always under Wine) is reported once as
//!   undelivered, as a missing notification server is on Linux.

use chrono::{DateTime, Utc};
use notify_rust::CloseReason;
use tokio::sync::mpsc;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as os;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as os;

pub use os::unavailable;
#[cfg(windows)]
pub use windows::{app_id_key, APP_ID};

/// One notification to show (replacing the previous one of ours).
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    pub summary: String,
    pub body: String,
    /// Milliseconds; the server's default when negative.
    pub timeout_ms: i32,
    /// `(key, label)` pairs, offered only if the server supports actions. The key
    /// `default` is the action of a click on the notification.
    pub actions: Vec<(String, String)>,
    /// Do not show it while the server is in do-not-disturb.
    pub respect_dnd: bool,
    /// Added to the body where the server draws no buttons for the actions.
    pub without_buttons: Option<String>,
}

/// What the run loop asks.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Show(Note),
    /// Show a plain note, not a reminder: nothing is reported back about it.
    Inform(Note),
    /// Passed back as [`NotifyEvent::Opened`]: what became of opening the
    /// report after a click on the reminder shown at `at`.
    Opened {
        at: DateTime<Utc>,
        ok: bool,
    },
    /// Is the server in do-not-disturb? Answered with [`NotifyEvent::Dnd`].
    QueryDnd,
    /// Take our notification off the screen, if one is up (the server then
    /// reports it closed with reason 3).
    Close,
}

/// What the notification thread reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotifyEvent {
    /// Shown with this id; `actions` tells whether actions were offered.
    Shown { id: u32, actions: bool },
    /// Not shown: the server is in do-not-disturb.
    HeldDnd,
    /// Not shown: no server, or it failed. `first` is true for the first failure
    /// after a success (log it then, not every time).
    Undelivered { reason: String, first: bool },
    /// The employee chose an action (`snooze`, `done`, `default`).
    Action { id: u32, key: String },
    /// The notification closed: 1 expired, 2 dismissed, 3 closed by us, 4 other.
    Closed { id: u32, reason: u32 },
    /// The answer to [`Request::QueryDnd`].
    Dnd(bool),
    /// See [`Request::Opened`].
    Opened { at: DateTime<Utc>, ok: bool },
}

/// Starts the notification thread; it ends when the request sender is dropped.
pub fn spawn(
    events: mpsc::Sender<NotifyEvent>,
) -> std::io::Result<(mpsc::Sender<Request>, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel(16);
    let handle = std::thread::Builder::new()
        .name("notifications".into())
        .spawn(move || os::serve(rx, events))?;
    Ok((tx, handle))
}

/// The freedesktop code of a close reason.
fn close_code(reason: CloseReason) -> u32 {
    match reason {
        CloseReason::Expired => 1,
        CloseReason::Dismissed => 2,
        CloseReason::CloseAction => 3,
        CloseReason::Other(n) => n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_keep_their_freedesktop_codes() {
        for code in 1..=5 {
            assert_eq!(close_code(CloseReason::from(code)), code);
        }
    }
}
