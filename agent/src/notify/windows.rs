//! Windows: reminders as WinRT toasts, through notify-rust (its `show` and
//! the toast's answer).
//!
//! - sent as dwell ([`APP_ID`], its AppUserModelID) once that is registered
//!   for this user (`HKCU\Software\Classes\AppUserModelId\<APP_ID>`, with
//!   `DisplayName` and `IconUri`: written by the MSI and by `dwell-agent
//!   install`), so Windows shows the toast under dwell's name and icon; not
//!   registered (a zip's `dwell-agent run` by hand), as notify-rust's default,
//!   PowerShell's, which Windows shows without registration;
//! - app name `dwell`, the reminder's summary and body, short or long by its
//!   timeout; its actions as buttons (a click on the toast itself is the
//!   `default` action, as on Linux);
//! - each toast's answer (a button, a click, a dismissal, the timeout) is
//!   waited for on a small thread of its own, and comes back as
//!   [`NotifyEvent::Action`] or [`NotifyEvent::Closed`];
//! - a toast that cannot be shown (no WinRT: Wine, some stripped-down
//!   Windows editions) is reported as undelivered, `first` once until one
//!   is shown again: the reminder is stored as undelivered, as with no
//!   notification server on Linux;
//! - do-not-disturb (Focus Assist) is the system's: it holds toasts by
//!   itself, so dwell never reads it (`Dnd(false)`); toasts cannot be taken
//!   back, so `Close` does nothing (they expire).

use notify_rust::{NotificationResponse, Timeout};
use tokio::sync::mpsc;
use winreg::enums::{HKEY_CURRENT_USER, KEY_READ};
use winreg::RegKey;

use super::{close_code, Note, NotifyEvent, Request};

/// dwell's AppUserModelID: the one name Windows files its toasts under. The
/// MSI's registration and its Start-menu entry take it from here
/// (`packaging/windows/package.sh`), and `dwell-agent install` writes it.
pub const APP_ID: &str = "org.dwell.Dwell";

/// Where Windows looks for the name and icon of an unpackaged app's
/// AppUserModelID, under HKCU.
pub fn app_id_key() -> String {
    format!(r"Software\Classes\AppUserModelId\{APP_ID}")
}

/// Whether [`APP_ID`] is registered for this user (see the module's doc).
fn registered() -> bool {
    RegKey::predef(HKEY_CURRENT_USER)
        .open_subkey_with_flags(app_id_key(), KEY_READ)
        .is_ok()
}

/// Nothing rules toasts out before one is tried.
pub fn unavailable() -> Option<String> {
    None
}

/// The notification thread's loop (see [`super::spawn`]).
pub(super) fn serve(mut rx: mpsc::Receiver<Request>, events: mpsc::Sender<NotifyEvent>) {
    let mut toasts = Toasts::default();
    while let Some(request) = rx.blocking_recv() {
        let event = match request {
            Request::Show(note) => Some(toasts.show(&note, Some(&events))),
            Request::Inform(note) => {
                let _ = toasts.show(&note, None);
                None
            }
            Request::Opened { at, ok } => Some(NotifyEvent::Opened { at, ok }),
            Request::QueryDnd => Some(NotifyEvent::Dnd(false)),
            Request::Close => None,
        };
        if let Some(event) = event {
            if events.blocking_send(event).is_err() {
                return;
            }
        }
    }
}

/// What the thread keeps between toasts.
#[derive(Default)]
struct Toasts {
    /// The last toast's id (ours: toasts have none the run loop could use).
    last_id: u32,
    /// The last toast could not be shown.
    failing: bool,
    /// Said (at debug) that toasts go out under PowerShell's id.
    said_unregistered: bool,
}

impl Toasts {
    /// Shows `note`; its answer goes to `answers` (none: nobody listens).
    fn show(&mut self, note: &Note, answers: Option<&mpsc::Sender<NotifyEvent>>) -> NotifyEvent {
        // Looked up at each toast: an `install` while the agent runs counts.
        let own = registered();
        if !own && !self.said_unregistered {
            self.said_unregistered = true;
            tracing::debug!("dwell's AppUserModelID is not registered: toasts go out under PowerShell's (`dwell-agent install` registers it)");
        }
        match toast(note, own).show() {
            Ok(handle) => {
                self.failing = false;
                self.last_id = self.last_id.wrapping_add(1).max(1);
                let id = self.last_id;
                if let Some(answers) = answers.cloned() {
                    let waited = std::thread::Builder::new()
                        .name("toast-answer".into())
                        .spawn(move || {
                            let _ = handle.wait_for_response(|r: &NotificationResponse| {
                                if let Some(event) = answered(id, r) {
                                    let _ = answers.blocking_send(event);
                                }
                            });
                        });
                    if let Err(e) = waited {
                        tracing::debug!(error = %e, "cannot wait for the toast's answer");
                    }
                }
                NotifyEvent::Shown {
                    id,
                    actions: !note.actions.is_empty(),
                }
            }
            Err(e) => {
                let first = !self.failing;
                self.failing = true;
                NotifyEvent::Undelivered {
                    reason: format!("the toast could not be shown: {e}"),
                    first,
                }
            }
        }
    }
}

/// The toast for `note`: its actions as buttons, but `default`, which is a
/// click on the toast itself; sent as [`APP_ID`] when it is `registered`.
fn toast(note: &Note, registered: bool) -> notify_rust::Notification {
    let mut n = notify_rust::Notification::new();
    if registered {
        n.app_id(APP_ID);
    }
    n.appname("dwell")
        .summary(&note.summary)
        .body(&note.body)
        .timeout(Timeout::from(note.timeout_ms));
    for (key, label) in note.actions.iter().filter(|(key, _)| key != "default") {
        n.action(key, label);
    }
    n
}

/// What the toast `id`'s answer means for the run loop.
fn answered(id: u32, response: &NotificationResponse) -> Option<NotifyEvent> {
    Some(match response {
        NotificationResponse::Default => NotifyEvent::Action {
            id,
            key: "default".into(),
        },
        NotificationResponse::Action(key) => NotifyEvent::Action {
            id,
            key: key.clone(),
        },
        NotificationResponse::Reply(_) => return None,
        NotificationResponse::Closed(reason) => NotifyEvent::Closed {
            id,
            reason: close_code(*reason),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note() -> Note {
        Note {
            summary: "30 s of your 1 min".into(),
            body: "A gentle word".into(),
            timeout_ms: 20_000,
            actions: vec![
                ("default".into(), "Open today's report".into()),
                ("snooze".into(), "Snooze 15 min".into()),
            ],
            respect_dnd: true,
            without_buttons: None,
        }
    }

    #[test]
    fn the_toast_is_dwells_with_its_buttons_but_the_click() {
        let n = toast(&note(), true);
        assert_eq!(n.appname, "dwell");
        assert_eq!(
            (n.summary.as_str(), n.body.as_str()),
            ("30 s of your 1 min", "A gentle word")
        );
        assert_eq!(n.actions, ["snooze", "Snooze 15 min"]);
        assert_eq!(n.timeout, Timeout::Milliseconds(20_000));
    }

    /// Registered, the toast goes out under dwell's AppUserModelID; not,
    /// under notify-rust's default (PowerShell's), which Windows shows.
    #[test]
    fn the_toast_is_sent_as_dwell_once_registered() {
        let own = format!("{:?}", toast(&note(), true));
        assert!(own.contains(&format!("app_id: Some({APP_ID:?})")), "{own}");
        let default = format!("{:?}", toast(&note(), false));
        assert!(default.contains("app_id: None"), "{default}");
        assert_eq!(
            app_id_key(),
            r"Software\Classes\AppUserModelId\org.dwell.Dwell"
        );
        // An AppUserModelID: at most 128 characters, no spaces.
        assert!(APP_ID.len() <= 128 && !APP_ID.contains(' '));
    }

    #[test]
    fn answers_become_the_loops_events() {
        assert_eq!(
            answered(3, &NotificationResponse::Default),
            Some(NotifyEvent::Action {
                id: 3,
                key: "default".into()
            })
        );
        assert_eq!(
            answered(
                3,
                &NotificationResponse::Closed(notify_rust::CloseReason::Dismissed)
            ),
            Some(NotifyEvent::Closed { id: 3, reason: 2 })
        );
    }

    /// Under Wine (no WinRT) every toast fails: the first failure is said,
    /// the next ones are not, until one is shown again.
    #[test]
    fn a_toast_that_cannot_be_shown_is_undelivered_and_said_once() {
        let mut toasts = Toasts::default();
        let first = toasts.show(&note(), None);
        if matches!(first, NotifyEvent::Shown { .. }) {
            return; // a real Windows desktop: toasts work
        }
        assert!(
            matches!(&first, NotifyEvent::Undelivered { first: true, reason } if reason.contains("toast")),
            "{first:?}"
        );
        assert!(matches!(
            toasts.show(&note(), None),
            NotifyEvent::Undelivered { first: false, .. }
        ));
    }
}
