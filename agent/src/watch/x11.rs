//! The X11 watcher and idle source.
//!
//! The watcher runs on its own thread, blocked in `wait_for_event`: it listens for
//! `PropertyNotify` of `_NET_ACTIVE_WINDOW` on the root window and of the title and
//! state on the focused window, and reports each change as a [`WatchEvent`]. It
//! never polls. Without EWMH it falls back to the input focus (`FocusIn`/`FocusOut`).
//! When the X server goes away it reports [`WatchEvent::Gone`] and reconnects with
//! backoff (1 s doubling to 30 s).
//!
//! The idle source asks MIT-SCREEN-SAVER how long ago the last input was, on a
//! second connection owned by the run loop.

use std::time::Duration;

use dwell_core::WindowInfo;
use tokio::sync::mpsc;

use super::{IdleSource, ProcessNames, WatchEvent};
use x11rb::connection::Connection;
use x11rb::errors::{ConnectionError, ReplyError};
use x11rb::properties::WmClass;
use x11rb::protocol::screensaver::ConnectionExt as _;
use x11rb::protocol::xproto::{
    AtomEnum, ChangeWindowAttributesAux, ConnectionExt as _, EventMask, Window,
};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;

/// Why the event loop ended.
enum Stop {
    /// Connection lost: reconnect.
    Lost,
    /// Receiver dropped: the agent is shutting down.
    Closed,
}

struct Atoms {
    active: u32,
    net_wm_name: u32,
    utf8: u32,
    pid: u32,
    state: u32,
    fullscreen: u32,
}

fn atom(conn: &RustConnection, name: &[u8]) -> Result<u32, ReplyError> {
    Ok(conn.intern_atom(false, name)?.reply()?.atom)
}

impl Atoms {
    fn new(conn: &RustConnection) -> Result<Atoms, ReplyError> {
        Ok(Atoms {
            active: atom(conn, b"_NET_ACTIVE_WINDOW")?,
            net_wm_name: atom(conn, b"_NET_WM_NAME")?,
            utf8: atom(conn, b"UTF8_STRING")?,
            pid: atom(conn, b"_NET_WM_PID")?,
            state: atom(conn, b"_NET_WM_STATE")?,
            fullscreen: atom(conn, b"_NET_WM_STATE_FULLSCREEN")?,
        })
    }
}

/// Starts the watcher thread. It ends when `tx`'s receiver is dropped.
pub fn spawn(tx: mpsc::Sender<WatchEvent>) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("x11-watcher".into())
        .spawn(move || watch_forever(&tx))
}

fn watch_forever(tx: &mpsc::Sender<WatchEvent>) {
    let mut backoff = Duration::from_secs(1);
    let mut connected_before = false;
    let mut procs = ProcessNames::default();
    loop {
        match x11rb::connect(None) {
            Ok((conn, screen)) => {
                backoff = Duration::from_secs(1);
                if connected_before {
                    tracing::info!("reconnected to the X server");
                }
                connected_before = true;
                if tx.blocking_send(WatchEvent::Connected).is_err() {
                    return;
                }
                let root = match conn.setup().roots.get(screen) {
                    Some(s) => s.root,
                    None => return,
                };
                match watch(&conn, root, tx, &mut procs) {
                    Stop::Closed => return,
                    Stop::Lost => {
                        tracing::warn!("lost the X server connection; will retry");
                        if tx.blocking_send(WatchEvent::Gone).is_err() {
                            return;
                        }
                    }
                }
            }
            Err(e) => {
                if tx.is_closed() {
                    return;
                }
                tracing::warn!(error = %e, retry_in = ?backoff, "cannot connect to the X server");
            }
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

fn lost<E>(_: E) -> Stop {
    Stop::Lost
}

/// Runs until the connection breaks or the receiver goes away.
fn watch(
    conn: &RustConnection,
    root: Window,
    tx: &mpsc::Sender<WatchEvent>,
    procs: &mut ProcessNames,
) -> Stop {
    let atoms = match Atoms::new(conn) {
        Ok(a) => a,
        Err(_) => return Stop::Lost,
    };
    let root_mask = EventMask::PROPERTY_CHANGE | EventMask::FOCUS_CHANGE;
    if conn
        .change_window_attributes(
            root,
            &ChangeWindowAttributesAux::new().event_mask(root_mask),
        )
        .and_then(|_| conn.flush())
        .is_err()
    {
        return Stop::Lost;
    }
    let mut watched: Option<Window> = None;
    let mut last_sent: Option<Option<WindowInfo>> = None;

    let mut refresh = |watched: &mut Option<Window>| -> Result<bool, Stop> {
        let win = focused_window(conn, root, &atoms).map_err(lost)?;
        if win != *watched {
            if let Some(old) = *watched {
                // The old window may be gone already; that is fine.
                let _ = conn.change_window_attributes(
                    old,
                    &ChangeWindowAttributesAux::new().event_mask(EventMask::NO_EVENT),
                );
            }
            if let Some(new) = win {
                let _ = conn.change_window_attributes(
                    new,
                    &ChangeWindowAttributesAux::new()
                        .event_mask(EventMask::PROPERTY_CHANGE | EventMask::FOCUS_CHANGE),
                );
            }
            conn.flush().map_err(lost)?;
            *watched = win;
        }
        let info = match win {
            Some(w) => window_info(conn, w, &atoms, procs).map_err(lost)?,
            None => None,
        };
        if last_sent.as_ref() != Some(&info) {
            last_sent = Some(info.clone());
            if tx.blocking_send(WatchEvent::Focus(info)).is_err() {
                return Err(Stop::Closed);
            }
        }
        Ok(true)
    };

    if let Err(stop) = refresh(&mut watched) {
        return stop;
    }
    loop {
        let event = match conn.wait_for_event() {
            Ok(e) => e,
            Err(_) => return Stop::Lost,
        };
        let relevant = match event {
            Event::PropertyNotify(e) => {
                (e.window == root && e.atom == atoms.active)
                    || (Some(e.window) == watched
                        && (e.atom == atoms.net_wm_name
                            || e.atom == u32::from(AtomEnum::WM_NAME)
                            || e.atom == u32::from(AtomEnum::WM_CLASS)
                            || e.atom == atoms.state))
            }
            Event::FocusIn(_) | Event::FocusOut(_) | Event::DestroyNotify(_) => true,
            _ => false,
        };
        if relevant {
            if let Err(stop) = refresh(&mut watched) {
                return stop;
            }
        }
    }
}

/// The window with focus: `_NET_ACTIVE_WINDOW` where the window manager keeps it
/// (0 means none), else the input focus walked up to its top-level client.
fn focused_window(
    conn: &RustConnection,
    root: Window,
    atoms: &Atoms,
) -> Result<Option<Window>, ConnectionError> {
    match conn
        .get_property(false, root, atoms.active, AtomEnum::WINDOW, 0, 1)?
        .reply()
    {
        Ok(reply) if reply.format == 32 => {
            let w = reply.value32().and_then(|mut v| v.next()).unwrap_or(0);
            return Ok((w != 0).then_some(w));
        }
        Ok(_) => {}
        Err(ReplyError::ConnectionError(e)) => return Err(e),
        Err(_) => {}
    }
    // No EWMH: fall back to the input focus.
    let focus = match conn.get_input_focus()?.reply() {
        Ok(r) => r.focus,
        Err(ReplyError::ConnectionError(e)) => return Err(e),
        Err(_) => return Ok(None),
    };
    if focus == root || focus == 0 || focus == 1 {
        return Ok(None);
    }
    // Walk up until a window that carries WM_CLASS.
    let mut w = focus;
    for _ in 0..16 {
        let has_class = match conn
            .get_property(false, w, AtomEnum::WM_CLASS, AtomEnum::STRING, 0, 1)?
            .reply()
        {
            Ok(r) => r.value_len > 0 || r.bytes_after > 0,
            Err(ReplyError::ConnectionError(e)) => return Err(e),
            Err(_) => return Ok(None),
        };
        if has_class {
            return Ok(Some(w));
        }
        match conn.query_tree(w)?.reply() {
            Ok(t) if t.parent != root && t.parent != 0 => w = t.parent,
            Ok(_) => return Ok(Some(focus)),
            Err(ReplyError::ConnectionError(e)) => return Err(e),
            Err(_) => return Ok(None),
        }
    }
    Ok(Some(focus))
}

/// Reads class, title, pid and fullscreen state. A window that vanished midway
/// gives `Ok(None)`; only a broken connection is an error.
fn window_info(
    conn: &RustConnection,
    w: Window,
    atoms: &Atoms,
    procs: &mut ProcessNames,
) -> Result<Option<WindowInfo>, ConnectionError> {
    fn ok<T>(r: Result<T, ReplyError>) -> Result<Option<T>, ConnectionError> {
        match r {
            Ok(v) => Ok(Some(v)),
            Err(ReplyError::ConnectionError(e)) => Err(e),
            Err(ReplyError::X11Error(_)) => Ok(None),
        }
    }
    // Send all requests first, then collect: one round trip.
    let class = WmClass::get(conn, w)?;
    let net_name = conn.get_property(false, w, atoms.net_wm_name, atoms.utf8, 0, 1024)?;
    let name = conn.get_property(false, w, AtomEnum::WM_NAME, AtomEnum::ANY, 0, 1024)?;
    let pid = conn.get_property(false, w, atoms.pid, AtomEnum::CARDINAL, 0, 1)?;
    let state = conn.get_property(false, w, atoms.state, AtomEnum::ATOM, 0, 32)?;

    let class = match class.reply() {
        Ok(c) => c,
        // A WM_CLASS that is not a pair of strings: treat as absent.
        Err(ReplyError::ConnectionError(ConnectionError::ParseError(_))) => None,
        Err(ReplyError::ConnectionError(e)) => return Err(e),
        // The window vanished mid-read.
        Err(ReplyError::X11Error(_)) => return Ok(None),
    };
    let Some(net_name) = ok(net_name.reply())? else {
        return Ok(None);
    };
    let Some(name) = ok(name.reply())? else {
        return Ok(None);
    };
    let pid = ok(pid.reply())?.and_then(|r| r.value32().and_then(|mut v| v.next()));
    let state = ok(state.reply())?;

    let title = if !net_name.value.is_empty() {
        String::from_utf8_lossy(&net_name.value).into_owned()
    } else {
        // WM_NAME is usually Latin-1 (STRING) or COMPOUND_TEXT; lossy is fine
        // for matching.
        String::from_utf8_lossy(&name.value).into_owned()
    };
    let (instance, class) = class
        .map(|c| {
            (
                String::from_utf8_lossy(c.instance()).into_owned(),
                String::from_utf8_lossy(c.class()).into_owned(),
            )
        })
        .unwrap_or_default();
    let fullscreen = state
        .and_then(|s| s.value32().map(|mut v| v.any(|a| a == atoms.fullscreen)))
        .unwrap_or(false);
    Ok(Some(WindowInfo {
        class,
        instance,
        title,
        process: pid.and_then(|p| procs.name(p)),
        fullscreen,
    }))
}

/// MIT-SCREEN-SAVER on a connection of its own; reconnects lazily.
#[derive(Default)]
pub struct X11Idle {
    conn: Option<(RustConnection, Window)>,
    warned: bool,
}

impl IdleSource for X11Idle {
    fn idle_for(&mut self) -> Option<Duration> {
        if self.conn.is_none() {
            match x11rb::connect(None) {
                Ok((c, screen)) => {
                    let root = c.setup().roots.get(screen)?.root;
                    self.conn = Some((c, root));
                }
                Err(_) => return None,
            }
        }
        let (conn, root) = self.conn.as_ref()?;
        match conn
            .screensaver_query_info(*root)
            .map_err(ReplyError::from)
            .and_then(|c| c.reply())
        {
            Ok(info) => Some(Duration::from_millis(u64::from(info.ms_since_user_input))),
            Err(e) => {
                if !self.warned {
                    tracing::warn!(error = %e, "cannot read idle time (MIT-SCREEN-SAVER)");
                    self.warned = true;
                }
                self.conn = None;
                None
            }
        }
    }
}
