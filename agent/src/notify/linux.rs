//! Linux: notifications through the freedesktop notification server on the
//! session bus (dunst, GNOME Shell, Plasma, ...).
//!
//! One thread owns them ([`serve`]). It sends, replaces, closes and hears the answers to
//! our notification through one kept [`notify_rust::NotificationHandle`]: the
//! handle keeps the connection that called `Notify`, and servers such as dunst
//! send `ActionInvoked` and `NotificationClosed` only to that connection. The
//! run loop talks to the thread over two channels ([`Request`] in,
//! [`NotifyEvent`] out).
//!
//! - app name `dwell`, low urgency, a timeout; each new notification replaces the
//!   previous one (the handle's `update`, which sends `replaces_id`), so
//!   reminders never stack up;
//! - actions only when the server's `GetCapabilities` lists `actions`;
//! - where the server draws no buttons (no `actions` capability, or a server
//!   known to draw none whatever it lists: mako, fnott, by the name
//!   `GetServerInformation` gives), the note's [`Note::without_buttons`] line
//!   is added to the body, so the way to snooze is still said;
//! - before showing, do-not-disturb is read where it can be: dunst's `paused`
//!   property (`org.dunstproject.cmd0`) and the `Inhibited` property of
//!   `org.freedesktop.Notifications` on servers that have it; while it is on, the
//!   notification is not sent (the server would queue it and show a pile later);
//! - no server: the request fails fast and is reported once as undelivered; the
//!   next request tries again, so a server that appears later is used;
//! - only a local (`unix:`) session bus: the address is checked before
//!   notify-rust (which connects by itself) is asked anything.
//!
//! notify-rust has no call for server properties and asks for capabilities on
//! a connection of its own each time, so those (and only those) go through a
//! second, direct zbus connection that this thread keeps. See
//! `docs/notifications.md` for what notify-rust does and does not cover.

use std::panic::AssertUnwindSafe;

use futures_lite::FutureExt;
use notify_rust::{Hint, NotificationHandle, NotificationResponse, Timeout, Urgency};
use tokio::sync::mpsc;
use zbus::Connection;
use zbus::Variant as Value;

use super::{close_code, Note, NotifyEvent, Request};

const DEST: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const IFACE: &str = "org.freedesktop.Notifications";
const PROPS: &str = "org.freedesktop.DBus.Properties";
const DUNST: &str = "org.dunstproject.cmd0";

/// Servers that take actions (through their own command, such as
/// `makoctl invoke`) but draw no buttons for them.
const BUTTONLESS: &[&str] = &["mako", "fnott"];

/// Whether a server with these capabilities and this name draws buttons.
fn draws_buttons(caps: &[String], name: &str) -> bool {
    caps.iter().any(|c| c == "actions") && !BUTTONLESS.contains(&name.to_ascii_lowercase().as_str())
}

/// Why a notification was not shown.
#[derive(Debug, thiserror::Error)]
enum ShowError {
    /// On our own connection (capabilities, properties).
    #[error(transparent)]
    Bus(#[from] zbus::Error),
    /// From notify-rust (send, replace).
    #[error("{0}")]
    Notify(#[from] notify_rust::error::Error),
    /// The session bus address is not local.
    #[error("{0}")]
    NotLocal(String),
}

#[derive(Default)]
struct Server {
    /// Our own connection, for what notify-rust lacks (capabilities, properties).
    conn: Option<Connection>,
    /// Capabilities of the server, once asked (reset on failure).
    caps: Option<Vec<String>>,
    /// The server's name (`GetServerInformation`), asked with the capabilities.
    name: String,
    /// The kept handle of our notification: its connection sent it, so it
    /// replaces it, closes it and hears its signals.
    handle: Option<NotificationHandle>,
    /// The notification of `handle` may still report an action or a close.
    open: bool,
    failing: bool,
}

enum Next {
    Req(Option<Request>),
    /// What became of the open notification; `None`: its connection broke.
    Answer(u32, Option<NotificationResponse>),
}

/// Waits for what the employee (or the server) does with the notification of
/// `handle`: one action, or its closing. notify-rust panics (an `unwrap`) when
/// the bus refuses its match rules; that is caught and taken as a broken
/// connection.
async fn answer(handle: &NotificationHandle) -> Option<NotificationResponse> {
    let mut got = None;
    let wait = handle.wait_for_action_async(|r: &NotificationResponse| got = Some(r.clone()));
    match AssertUnwindSafe(wait).catch_unwind().await {
        Ok(()) => got,
        Err(_) => None,
    }
}

/// The thread's loop. It is not one future under one `block_on`: notify-rust's
/// replace (`NotificationHandle::update`) blocks on the reply itself, and zbus
/// refuses a `block_on` inside another, so each wait and each call has its own.
pub(super) fn serve(mut rx: mpsc::Receiver<Request>, events: mpsc::Sender<NotifyEvent>) {
    let mut srv = Server::default();
    loop {
        let next = zbus::block_on(async {
            match srv.handle.as_ref().filter(|_| srv.open) {
                Some(handle) => {
                    let id = handle.id();
                    futures_lite::future::or(async { Next::Req(rx.recv().await) }, async {
                        Next::Answer(id, answer(handle).await)
                    })
                    .await
                }
                None => Next::Req(rx.recv().await),
            }
        });
        let event = match next {
            Next::Req(None) => return,
            Next::Req(Some(Request::Show(note))) => Some(srv.show(&note)),
            Next::Req(Some(Request::Inform(note))) => {
                let _ = srv.show(&note);
                None
            }
            Next::Req(Some(Request::Opened { at, ok })) => Some(NotifyEvent::Opened { at, ok }),
            Next::Req(Some(Request::QueryDnd)) => Some(NotifyEvent::Dnd(zbus::block_on(srv.dnd()))),
            Next::Req(Some(Request::Close)) => {
                if let Some(handle) = srv.handle.as_ref().filter(|_| srv.open) {
                    zbus::block_on(handle.close_async());
                }
                None
            }
            Next::Answer(id, Some(response)) => srv.answered(id, response),
            Next::Answer(..) => {
                // The connection went away: start afresh next time.
                srv.reset();
                None
            }
        };
        if let Some(event) = event {
            if zbus::block_on(events.send(event)).is_err() {
                return;
            }
        }
    }
}

/// What to do with a notification, once the server has been asked.
enum Ready {
    /// Held: do-not-disturb is on.
    HeldDnd,
    /// Send it; with its actions if the server supports them, and whether
    /// it draws them as buttons.
    Send { actions: bool, buttons: bool },
}

/// The notification of ours, as notify-rust sends it.
fn notification(note: &Note, actions: bool, buttons: bool) -> notify_rust::Notification {
    let mut n = notify_rust::Notification::new();
    let body = match &note.without_buttons {
        Some(line) if !buttons => format!("{}\n{line}", note.body),
        _ => note.body.clone(),
    };
    n.appname("dwell")
        .summary(&note.summary)
        .body(&body)
        .urgency(Urgency::Low)
        .hint(Hint::DesktopEntry("dwell".into()))
        // Negative: the server's default; 0: never expires (as on the wire).
        .timeout(Timeout::from(note.timeout_ms));
    if actions {
        for (key, label) in &note.actions {
            n.action(key, label);
        }
    }
    n
}

impl Server {
    fn reset(&mut self) {
        self.conn = None;
        self.caps = None;
        self.handle = None;
        self.open = false;
    }

    async fn connect(&mut self) -> zbus::Result<Connection> {
        if let Some(c) = &self.conn {
            return Ok(c.clone());
        }
        // Only a local (`unix:`) bus: dwell has no network code.
        let conn = crate::watch::bus::session().await?;
        self.conn = Some(conn.clone());
        Ok(conn)
    }

    fn show(&mut self, note: &Note) -> NotifyEvent {
        match self.try_show(note) {
            Ok(event) => {
                self.failing = false;
                event
            }
            Err(e) => {
                let first = !self.failing;
                self.failing = true;
                // Ask again next time: the server may change.
                self.caps = None;
                match &e {
                    ShowError::Bus(zbus::Error::InputOutput(_) | zbus::Error::Connection(..)) => {
                        self.reset()
                    }
                    // A failed send or replace: a new handle next time.
                    ShowError::Notify(_) => {
                        self.handle = None;
                        self.open = false;
                    }
                    _ => {}
                }
                NotifyEvent::Undelivered {
                    reason: describe(&e),
                    first,
                }
            }
        }
    }

    /// Asks the server (on our own connection) what notify-rust cannot:
    /// its capabilities, and whether it is in do-not-disturb.
    async fn ready(&mut self, note: &Note) -> zbus::Result<Ready> {
        let conn = self.connect().await?;
        if self.caps.is_none() {
            let reply = conn
                .call_method(Some(DEST), PATH, Some(IFACE), "GetCapabilities", &())
                .await?;
            self.caps = Some(reply.body().deserialize::<Vec<String>>()?);
            // Only its name matters; a server that cannot say keeps "".
            self.name = match conn
                .call_method(Some(DEST), PATH, Some(IFACE), "GetServerInformation", &())
                .await
            {
                Ok(r) => r
                    .body()
                    .deserialize::<(String, String, String, String)>()
                    .map(|(name, ..)| name)
                    .unwrap_or_default(),
                Err(_) => String::new(),
            };
        }
        if note.respect_dnd && self.dnd_on(&conn).await {
            return Ok(Ready::HeldDnd);
        }
        let caps = self.caps.as_deref().unwrap_or_default();
        Ok(Ready::Send {
            actions: caps.iter().any(|c| c == "actions"),
            buttons: draws_buttons(caps, &self.name),
        })
    }

    fn try_show(&mut self, note: &Note) -> Result<NotifyEvent, ShowError> {
        let (actions_ok, buttons) = match zbus::block_on(self.ready(note))? {
            Ready::HeldDnd => return Ok(NotifyEvent::HeldDnd),
            Ready::Send { actions, buttons } => (actions, buttons),
        };
        let n = notification(note, actions_ok, buttons);
        let id = match self.handle.as_mut() {
            Some(handle) => {
                // Replaces the one on screen (`replaces_id`), on the kept connection.
                **handle = n;
                handle.update()?;
                handle.id()
            }
            None => {
                // notify-rust connects by itself: the address is checked first.
                check_address().map_err(ShowError::NotLocal)?;
                let handle = n.show()?;
                let id = handle.id();
                self.handle = Some(handle);
                id
            }
        };
        self.open = true;
        Ok(NotifyEvent::Shown {
            id,
            actions: actions_ok && !note.actions.is_empty(),
        })
    }

    /// What the server said about our notification `id`, as an event.
    fn answered(&mut self, id: u32, response: NotificationResponse) -> Option<NotifyEvent> {
        if id == 0 {
            return None;
        }
        Some(match response {
            NotificationResponse::Default => NotifyEvent::Action {
                id,
                key: "default".into(),
            },
            NotificationResponse::Action(key) => NotifyEvent::Action { id, key },
            // Not on the freedesktop server; nothing of ours asks for one.
            NotificationResponse::Reply(_) => return None,
            NotificationResponse::Closed(reason) => {
                self.open = false;
                NotifyEvent::Closed {
                    id,
                    reason: close_code(reason),
                }
            }
        })
    }

    /// Reads a boolean property of the notification server; `None` if it has none.
    async fn property(conn: &Connection, iface: &str, name: &str) -> Option<bool> {
        let reply = conn
            .call_method(Some(DEST), PATH, Some(PROPS), "Get", &(iface, name))
            .await
            .ok()?;
        let body = reply.body();
        match body.deserialize::<Value<'_>>().ok()? {
            Value::Bool(b) => Some(b),
            Value::Variant(v) => match *v {
                Value::Bool(b) => Some(b),
                _ => None,
            },
            _ => None,
        }
    }

    async fn dnd_on(&self, conn: &Connection) -> bool {
        if Self::property(conn, DUNST, "paused").await == Some(true) {
            return true;
        }
        Self::property(conn, IFACE, "Inhibited").await == Some(true)
    }

    async fn dnd(&mut self) -> bool {
        match self.connect().await {
            Ok(conn) => self.dnd_on(&conn).await,
            Err(_) => false,
        }
    }
}

/// Why notifications cannot be used at all here: a session bus that is not a
/// local socket (dwell has no network code). `None`: they can.
pub fn unavailable() -> Option<String> {
    crate::watch::bus::refused_address("DBUS_SESSION_BUS_ADDRESS")
}

/// Refuses a session bus address that is not a local socket (see
/// [`crate::watch::bus::refused_address`]).
fn check_address() -> Result<(), String> {
    match crate::watch::bus::refused_address("DBUS_SESSION_BUS_ADDRESS") {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

/// A short reason, without anything the employee wrote.
fn describe(e: &ShowError) -> String {
    match e {
        ShowError::Bus(zbus::Error::FDO(f)) => match f.as_ref() {
            zbus::fdo::Error::ServiceUnknown(_) | zbus::fdo::Error::NameHasNoOwner(_) => {
                "no notification server on the session bus".into()
            }
            other => other.to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(timeout_ms: i32) -> Note {
        Note {
            summary: "30 s of your 1 min".into(),
            body: "A gentle word".into(),
            timeout_ms,
            actions: vec![
                ("default".into(), "Open today's report".into()),
                ("snooze".into(), "Snooze 15 min".into()),
            ],
            respect_dnd: true,
            without_buttons: Some("To snooze: `dwell-agent snooze`".into()),
        }
    }

    #[test]
    fn a_server_that_draws_no_buttons_gets_the_commands_in_the_body() {
        let caps = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(draws_buttons(&caps(&["body", "actions"]), "dunst"));
        assert!(!draws_buttons(&caps(&["body"]), "dunst"));
        // mako lists `actions` (makoctl invoke) but draws no buttons.
        assert!(!draws_buttons(&caps(&["body", "actions"]), "mako"));
        let n = notification(&note(20_000), true, false);
        assert_eq!(n.body, "A gentle word\nTo snooze: `dwell-agent snooze`");
        assert_eq!(
            n.actions.len(),
            4,
            "actions still offered: makoctl invokes them"
        );
        let n = notification(&note(20_000), false, false);
        assert!(n.body.ends_with("`dwell-agent snooze`"));
        assert_eq!(
            notification(&note(20_000), true, true).body,
            "A gentle word"
        );
    }

    #[test]
    fn the_notification_is_dwells_low_and_timed() {
        let n = notification(&note(20_000), true, true);
        assert_eq!(n.appname, "dwell");
        assert_eq!(n.summary, "30 s of your 1 min");
        assert_eq!(n.body, "A gentle word");
        assert_eq!(n.timeout, Timeout::Milliseconds(20_000));
        assert_eq!(
            n.actions,
            ["default", "Open today's report", "snooze", "Snooze 15 min"]
        );
        let hints = &n.hints;
        assert!(hints.contains(&Hint::Urgency(Urgency::Low)), "{hints:?}");
        assert!(
            hints.contains(&Hint::DesktopEntry("dwell".into())),
            "{hints:?}"
        );
    }

    #[test]
    fn no_actions_without_the_capability_and_the_servers_timeout_when_negative() {
        let n = notification(&note(-1), false, false);
        assert!(n.actions.is_empty());
        assert_eq!(n.timeout, Timeout::Default);
        assert_eq!(notification(&note(0), false, false).timeout, Timeout::Never);
    }

    #[test]
    fn an_answer_for_no_notification_is_dropped() {
        let mut srv = Server::default();
        assert_eq!(srv.answered(0, NotificationResponse::Default), None);
        srv.open = true;
        assert_eq!(
            srv.answered(7, NotificationResponse::Action("snooze".into())),
            Some(NotifyEvent::Action {
                id: 7,
                key: "snooze".into()
            })
        );
        assert!(srv.open);
        assert_eq!(
            srv.answered(
                7,
                NotificationResponse::Closed(notify_rust::CloseReason::Dismissed)
            ),
            Some(NotifyEvent::Closed { id: 7, reason: 2 })
        );
        assert!(!srv.open, "a closed notification is no longer waited on");
    }
}
