//! Desktop notifications, through the freedesktop notification server on the
//! session bus (dunst, GNOME Shell, Plasma, ...).
//!
//! One thread owns one long-lived D-Bus connection: it calls `Notify` on it and
//! listens on it for `ActionInvoked` and `NotificationClosed`, because servers such
//! as dunst send those only to the connection that called `Notify`. The run loop
//! talks to it over two channels ([`Request`] in, [`NotifyEvent`] out).
//!
//! - app name `dwell`, low urgency, a timeout; each new notification replaces the
//!   previous one (`replaces_id`), so reminders never stack up;
//! - actions only when the server's `GetCapabilities` lists `actions`;
//! - before showing, do-not-disturb is read where it can be: dunst's `paused`
//!   property (`org.dunstproject.cmd0`) and the `Inhibited` property of
//!   `org.freedesktop.Notifications` on servers that have it; while it is on, the
//!   notification is not sent (the server would queue it and show a pile later);
//! - no server: the request fails fast and is reported once as undelivered; the
//!   next request tries again, so a server that appears later is used.
//!
//! This uses zbus directly (the library notify-rust is built on): notify-rust opens
//! a connection per notification and cannot listen for signals on the connection
//! it keeps while also replacing the notification, nor read server properties.

use std::collections::HashMap;

use futures_lite::StreamExt;
use tokio::sync::mpsc;
use zbus::Variant as Value;
use zbus::{Connection, Message, MessageStream};

const DEST: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const IFACE: &str = "org.freedesktop.Notifications";
const PROPS: &str = "org.freedesktop.DBus.Properties";
const DUNST: &str = "org.dunstproject.cmd0";

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
}

/// What the run loop asks.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Show(Note),
    /// Is the server in do-not-disturb? Answered with [`NotifyEvent::Dnd`].
    QueryDnd,
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
}

/// Starts the notification thread; it ends when the request sender is dropped.
pub fn spawn(
    events: mpsc::Sender<NotifyEvent>,
) -> std::io::Result<(mpsc::Sender<Request>, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel(16);
    let handle = std::thread::Builder::new()
        .name("notifications".into())
        .spawn(move || zbus::block_on(serve(rx, events)))?;
    Ok((tx, handle))
}

#[derive(Default)]
struct Server {
    conn: Option<Connection>,
    stream: Option<MessageStream>,
    /// Capabilities of the server, once asked (reset on failure).
    caps: Option<Vec<String>>,
    /// Our current notification's id, to replace it.
    id: u32,
    failing: bool,
}

enum Next {
    Req(Option<Request>),
    Msg(Option<zbus::Result<Message>>),
}

async fn serve(mut rx: mpsc::Receiver<Request>, events: mpsc::Sender<NotifyEvent>) {
    let mut srv = Server::default();
    loop {
        let next = match srv.stream.as_mut() {
            Some(stream) => {
                futures_lite::future::or(async { Next::Req(rx.recv().await) }, async {
                    Next::Msg(stream.next().await)
                })
                .await
            }
            None => Next::Req(rx.recv().await),
        };
        let event = match next {
            Next::Req(None) => return,
            Next::Req(Some(Request::Show(note))) => Some(srv.show(&note).await),
            Next::Req(Some(Request::QueryDnd)) => Some(NotifyEvent::Dnd(srv.dnd().await)),
            Next::Msg(Some(Ok(msg))) => srv.signal(&msg),
            Next::Msg(_) => {
                // The bus went away: connect afresh next time.
                srv.reset();
                None
            }
        };
        if let Some(event) = event {
            if events.send(event).await.is_err() {
                return;
            }
        }
    }
}

impl Server {
    fn reset(&mut self) {
        self.conn = None;
        self.stream = None;
        self.caps = None;
        self.id = 0;
    }

    async fn connect(&mut self) -> zbus::Result<Connection> {
        if let Some(c) = &self.conn {
            return Ok(c.clone());
        }
        // Only a local (`unix:`) bus: dwell has no network code.
        let conn = crate::watch::bus::session().await?;
        // The stream exists before any Notify, so no signal is missed. Servers send
        // our signals to us directly; the match rules cover those that broadcast.
        self.stream = Some(MessageStream::from(&conn));
        for member in ["ActionInvoked", "NotificationClosed"] {
            let rule = format!("type='signal',interface='{IFACE}',member='{member}'");
            let _ = crate::watch::bus::add_match(&conn, &rule).await;
        }
        self.conn = Some(conn.clone());
        Ok(conn)
    }

    async fn show(&mut self, note: &Note) -> NotifyEvent {
        match self.try_show(note).await {
            Ok(event) => {
                self.failing = false;
                event
            }
            Err(e) => {
                let first = !self.failing;
                self.failing = true;
                // Ask again next time: the server may change.
                self.caps = None;
                self.id = 0;
                if matches!(e, zbus::Error::InputOutput(_) | zbus::Error::Connection(..)) {
                    self.reset();
                }
                NotifyEvent::Undelivered {
                    reason: describe(&e),
                    first,
                }
            }
        }
    }

    async fn try_show(&mut self, note: &Note) -> zbus::Result<NotifyEvent> {
        let conn = self.connect().await?;
        if self.caps.is_none() {
            let reply = conn
                .call_method(Some(DEST), PATH, Some(IFACE), "GetCapabilities", &())
                .await?;
            self.caps = Some(reply.body().deserialize::<Vec<String>>()?);
        }
        if note.respect_dnd && self.dnd_on(&conn).await {
            return Ok(NotifyEvent::HeldDnd);
        }
        let actions_ok = self
            .caps
            .as_ref()
            .is_some_and(|c| c.iter().any(|c| c == "actions"));
        let mut actions: Vec<&str> = Vec::new();
        if actions_ok {
            for (key, label) in &note.actions {
                actions.push(key);
                actions.push(label);
            }
        }
        let mut hints: HashMap<&str, Value<'_>> = HashMap::new();
        hints.insert("urgency", Value::U8(0));
        hints.insert("desktop-entry", Value::from("dwell"));
        let reply = conn
            .call_method(
                Some(DEST),
                PATH,
                Some(IFACE),
                "Notify",
                &(
                    "dwell",
                    self.id,
                    "",
                    note.summary.as_str(),
                    note.body.as_str(),
                    actions,
                    hints,
                    note.timeout_ms,
                ),
            )
            .await?;
        let id: u32 = reply.body().deserialize()?;
        self.id = id;
        Ok(NotifyEvent::Shown {
            id,
            actions: actions_ok && !note.actions.is_empty(),
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

    fn signal(&self, msg: &Message) -> Option<NotifyEvent> {
        let header = msg.header();
        if header.message_type() != zbus::message::Type::Signal
            || header.interface().map(|i| i.as_str()) != Some(IFACE)
        {
            return None;
        }
        match header.member().map(|m| m.as_str()) {
            Some("ActionInvoked") => {
                let (id, key): (u32, String) = msg.body().deserialize().ok()?;
                (id == self.id && id != 0).then_some(NotifyEvent::Action { id, key })
            }
            Some("NotificationClosed") => {
                let (id, reason): (u32, u32) = msg.body().deserialize().ok()?;
                (id == self.id && id != 0).then_some(NotifyEvent::Closed { id, reason })
            }
            _ => None,
        }
    }
}

/// A short reason, without anything the employee wrote.
fn describe(e: &zbus::Error) -> String {
    match e {
        zbus::Error::FDO(f) => match f.as_ref() {
            zbus::fdo::Error::ServiceUnknown(_) | zbus::fdo::Error::NameHasNoOwner(_) => {
                "no notification server on the session bus".into()
            }
            other => other.to_string(),
        },
        other => other.to_string(),
    }
}
