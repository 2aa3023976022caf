//! The X11 watcher and idle source.
//!
//! The watcher runs on its own thread, blocked in `wait_for_event`: it listens for
//! `PropertyNotify` of `_NET_ACTIVE_WINDOW` on the root window and of the title and
//! state on the focused window, and reports each change as a [`WatchEvent`]. It
//! never polls. Without EWMH it falls back to the input focus (`FocusIn`/`FocusOut`).
//! When the X server goes away it reports [`WatchEvent::Gone`] and reconnects with
//! backoff (1 s doubling to 30 s).
//!
//! Idle is pushed, not polled, when the server has the SYNC extension's
//! `IDLETIME` counter (nearly all do): on its connection the watcher sets two
//! alarms, one for when `IDLETIME` reaches [`PUSH_AFTER`] and one for when it
//! drops back under it (the next input), and feeds a [`PushedIdle`] from the
//! counter value each alarm carries, so the last input is known to the
//! millisecond. A server without it keeps the polled [`X11Idle`], which asks
//! MIT-SCREEN-SAVER how long ago the last input was, on a second connection
//! owned by the run loop; [`has_sync_idle`] tells which one to use.

use std::time::Duration;

use dwell_core::WindowInfo;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{IdleSource, ProcessNames, PushedIdle, WatchEvent, PUSH_AFTER};
use x11rb::connection::Connection;
use x11rb::errors::{ConnectionError, ReplyError, ReplyOrIdError};
use x11rb::properties::WmClass;
use x11rb::protocol::screensaver::ConnectionExt as _;
use x11rb::protocol::sync::{
    self, Alarm, ChangeAlarmAux, ConnectionExt as _, CreateAlarmAux, Int64, TESTTYPE, VALUETYPE,
};
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

/// Starts the watcher thread. With `idle` it also feeds that from the SYNC
/// extension's `IDLETIME` alarms (see [`has_sync_idle`]) and sends
/// [`WatchEvent::IdleChanged`]. It ends when `tx`'s receiver is dropped.
pub fn spawn(
    tx: mpsc::Sender<WatchEvent>,
    idle: Option<PushedIdle>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("x11-watcher".into())
        .spawn(move || watch_forever(&tx, idle.as_ref()))
}

/// Whether the X server (`$DISPLAY`) has the SYNC extension with an `IDLETIME`
/// counter, on a connection of its own; `false` when none answers.
pub fn has_sync_idle() -> bool {
    match x11rb::connect(None) {
        Ok((conn, _)) => matches!(idletime_counter(&conn), Ok(Some(_))),
        Err(_) => false,
    }
}

fn watch_forever(tx: &mpsc::Sender<WatchEvent>, idle: Option<&PushedIdle>) {
    let mut backoff = Duration::from_secs(1);
    let mut connected_before = false;
    let mut warned_no_sync = false;
    let mut procs = ProcessNames::default();
    loop {
        match x11rb::connect(None) {
            Ok((conn, screen)) => {
                backoff = Duration::from_secs(1);
                if connected_before {
                    tracing::info!("reconnected to the X server");
                }
                connected_before = true;
                let root = match conn.setup().roots.get(screen) {
                    Some(s) => s.root,
                    None => return,
                };
                let stop = match idle.map(|i| SyncIdle::start(&conn, i)) {
                    None => session(&conn, root, tx, &mut procs, None),
                    Some(Ok(Some(mut sync))) => {
                        session(&conn, root, tx, &mut procs, Some(&mut sync))
                    }
                    Some(Ok(None)) => {
                        if !warned_no_sync {
                            warned_no_sync = true;
                            tracing::warn!(
                                "cannot use the SYNC IDLETIME counter of this X server: time away from the keyboard is not cut until the agent restarts"
                            );
                        }
                        session(&conn, root, tx, &mut procs, None)
                    }
                    Some(Err(_)) => Stop::Lost,
                };
                if let Some(i) = idle {
                    i.lost();
                }
                match stop {
                    Stop::Closed => return,
                    Stop::Lost => {
                        tracing::warn!("lost the X server connection; will retry");
                        if tx.blocking_send(WatchEvent::Gone).is_err() {
                            return;
                        }
                        if idle.is_some() && tx.blocking_send(WatchEvent::IdleChanged).is_err() {
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

/// Reports the connection (and, with `sync`, the idle state read as it was set
/// up), then watches until it breaks or the receiver goes away.
fn session(
    conn: &RustConnection,
    root: Window,
    tx: &mpsc::Sender<WatchEvent>,
    procs: &mut ProcessNames,
    sync: Option<&mut SyncIdle>,
) -> Stop {
    if tx.blocking_send(WatchEvent::Connected).is_err() {
        return Stop::Closed;
    }
    if sync.is_some() && tx.blocking_send(WatchEvent::IdleChanged).is_err() {
        return Stop::Closed;
    }
    watch(conn, root, tx, procs, sync)
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
    mut sync: Option<&mut SyncIdle>,
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
            Event::SyncAlarmNotify(e) => {
                if let Some(sync) = sync.as_deref_mut() {
                    if let Err(stop) = sync.on_alarm(conn, &e, tx) {
                        return stop;
                    }
                }
                false
            }
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
    let Some(net_name) = reply_ok(net_name.reply())? else {
        return Ok(None);
    };
    let Some(name) = reply_ok(name.reply())? else {
        return Ok(None);
    };
    let pid = reply_ok(pid.reply())?.and_then(|r| r.value32().and_then(|mut v| v.next()));
    let state = reply_ok(state.reply())?;

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

/// A reply, `None` for an X11 error; only a broken connection is an error.
fn reply_ok<T>(r: Result<T, ReplyError>) -> Result<Option<T>, ConnectionError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(ReplyError::ConnectionError(e)) => Err(e),
        Err(ReplyError::X11Error(_)) => Ok(None),
    }
}

/// SYNC's `IDLETIME` system counter; `None` when the server has no SYNC or no
/// such counter.
fn idletime_counter(conn: &RustConnection) -> Result<Option<sync::Counter>, ConnectionError> {
    let version = match conn.sync_initialize(3, 1) {
        Ok(cookie) => cookie.reply(),
        Err(ConnectionError::UnsupportedExtension) => return Ok(None),
        Err(e) => return Err(e),
    };
    if reply_ok(version)?.is_none() {
        return Ok(None);
    }
    let Some(list) = reply_ok(conn.sync_list_system_counters()?.reply())? else {
        return Ok(None);
    };
    Ok(list
        .counters
        .iter()
        .find(|c| c.name == b"IDLETIME")
        .map(|c| c.counter))
}

/// A SYNC 64-bit value from milliseconds.
fn int64(ms: i64) -> Int64 {
    Int64 {
        hi: (ms >> 32) as i32,
        lo: ms as u32,
    }
}

/// Milliseconds from a SYNC 64-bit value.
fn millis(v: Int64) -> i64 {
    (i64::from(v.hi) << 32) | i64::from(v.lo)
}

/// The `IDLETIME` values (ms) the two alarms wait for: "idle" when it rises
/// to [`PUSH_AFTER`], "input again" when it drops from there to below it.
fn alarm_values() -> (i64, i64) {
    let at = i64::try_from(PUSH_AFTER.as_millis()).unwrap_or(i64::MAX);
    (at, at - 1)
}

/// What one reading of `IDLETIME` (ms since the last input) says, as of the
/// moment it was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// No input for [`PUSH_AFTER`], reached `ago` before the reading.
    Idled { ago: Duration },
    /// Input within [`PUSH_AFTER`], the last one `ago` before the reading.
    Active { ago: Duration },
}

impl Reading {
    fn of(idle_ms: i64) -> Reading {
        let idle = Duration::from_millis(u64::try_from(idle_ms).unwrap_or(0));
        match idle.checked_sub(PUSH_AFTER) {
            Some(ago) => Reading::Idled { ago },
            None => Reading::Active { ago: idle },
        }
    }

    fn idled(self) -> bool {
        matches!(self, Reading::Idled { .. })
    }

    /// Tells `idle`, for a reading taken at `now`.
    fn apply(self, idle: &PushedIdle, now: Instant) {
        let back = |ago: Duration| now.checked_sub(ago).unwrap_or(now);
        match self {
            Reading::Idled { ago } => idle.idled_at(back(ago)),
            Reading::Active { ago } => idle.resumed_at(back(ago)),
        }
    }
}

/// Pushed idle from SYNC's `IDLETIME` on the watcher's connection: two alarms,
/// each event of which carries the counter's value when it fired.
struct SyncIdle {
    idle: PushedIdle,
    alarms: [Alarm; 2],
    /// What `idle` was last told: no input for [`PUSH_AFTER`].
    idled: bool,
}

impl SyncIdle {
    /// Sets the alarms, then reads the counter once and tells `idle`.
    /// `Ok(None)` when the server has no `IDLETIME` or refuses the alarms.
    fn start(
        conn: &RustConnection,
        idle: &PushedIdle,
    ) -> Result<Option<SyncIdle>, ConnectionError> {
        let Some(counter) = idletime_counter(conn)? else {
            return Ok(None);
        };
        let (idled_at, resumed_below) = alarm_values();
        let mut alarms = [0; 2];
        for (slot, (test, value)) in alarms.iter_mut().zip([
            (TESTTYPE::POSITIVE_TRANSITION, idled_at),
            (TESTTYPE::NEGATIVE_TRANSITION, resumed_below),
        ]) {
            let id = match conn.generate_id() {
                Ok(id) => id,
                Err(ReplyOrIdError::ConnectionError(e)) => return Err(e),
                Err(_) => return Ok(None),
            };
            // Delta 0 with a transition test: the alarm stays armed after
            // each time it fires.
            let aux = CreateAlarmAux::new()
                .counter(counter)
                .value_type(VALUETYPE::ABSOLUTE)
                .value(int64(value))
                .test_type(test)
                .delta(int64(0))
                .events(1);
            if reply_ok(conn.sync_create_alarm(id, &aux)?.check())?.is_none() {
                return Ok(None);
            }
            *slot = id;
        }
        // Read after the alarms are set, so no transition falls between.
        let Some(now) = reply_ok(conn.sync_query_counter(counter)?.reply())? else {
            return Ok(None);
        };
        let reading = Reading::of(millis(now.counter_value));
        idle.connected();
        reading.apply(idle, Instant::now());
        Ok(Some(SyncIdle {
            idle: idle.clone(),
            alarms,
            idled: reading.idled(),
        }))
    }

    /// One of the alarms fired: tells `idle` and the run loop when that
    /// changes what they know.
    fn on_alarm(
        &mut self,
        conn: &RustConnection,
        e: &sync::AlarmNotifyEvent,
        tx: &mpsc::Sender<WatchEvent>,
    ) -> Result<(), Stop> {
        if !self.alarms.contains(&e.alarm) {
            return Ok(());
        }
        // Some Xorg versions do not re-arm an alarm that fired until it is
        // changed (Mutter's idle monitor did the same); an empty change is
        // harmless elsewhere.
        conn.sync_change_alarm(e.alarm, &ChangeAlarmAux::new())
            .and_then(|_| conn.flush())
            .map_err(lost)?;
        let reading = Reading::of(millis(e.counter_value));
        if reading.idled() == self.idled {
            return Ok(());
        }
        self.idled = reading.idled();
        reading.apply(&self.idle, Instant::now());
        tracing::debug!(idle = self.idled, "X11 idle alarm");
        tx.blocking_send(WatchEvent::IdleChanged)
            .map_err(|_| Stop::Closed)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_values_split_into_high_and_low_words() {
        assert_eq!((int64(5000).hi, int64(5000).lo), (0, 5000));
        let big = (1_i64 << 32) + 7;
        assert_eq!((int64(big).hi, int64(big).lo), (1, 7));
        assert_eq!((int64(-1).hi, int64(-1).lo), (-1, u32::MAX));
        for v in [0, 4999, 5000, u32::MAX as i64 + 1, 40 * 86_400_000, -1] {
            assert_eq!(millis(int64(v)), v);
        }
    }

    #[test]
    fn the_alarms_straddle_push_after() {
        let (idled_at, resumed_below) = alarm_values();
        assert_eq!(idled_at, 5000);
        assert_eq!(resumed_below, 4999);
        assert!(Reading::of(idled_at).idled());
        assert!(!Reading::of(resumed_below).idled());
    }

    #[test]
    fn a_reading_tells_when_input_stopped() {
        let ms = Duration::from_millis;
        assert_eq!(Reading::of(0), Reading::Active { ago: ms(0) });
        assert_eq!(Reading::of(-3), Reading::Active { ago: ms(0) });
        assert_eq!(Reading::of(4999), Reading::Active { ago: ms(4999) });
        assert_eq!(Reading::of(5000), Reading::Idled { ago: ms(0) });
        // An alarm the server fired late, or a reading long after.
        assert_eq!(Reading::of(5023), Reading::Idled { ago: ms(23) });
        assert_eq!(
            Reading::of(3_600_000),
            Reading::Idled { ago: ms(3_595_000) }
        );
    }

    #[test]
    fn a_reading_gives_the_pushed_idle_the_exact_last_input() {
        let idle = PushedIdle::new();
        let t0 = Instant::now();
        idle.connected();
        // The idle alarm fired 23 ms late: input stopped 5.023 s before t0.
        Reading::of(5023).apply(&idle, t0);
        assert_eq!(
            idle.idle_for_at(t0 + Duration::from_secs(60)),
            Some(Duration::from_millis(65_023))
        );
        // The next input, read 1 ms after it.
        Reading::of(1).apply(&idle, t0 + Duration::from_secs(61));
        assert_eq!(
            idle.idle_for_at(t0 + Duration::from_secs(62)),
            Some(Duration::from_millis(1001))
        );
        // Connected while active: the last input 3 s before.
        Reading::of(3000).apply(&idle, t0 + Duration::from_secs(70));
        assert_eq!(
            idle.idle_for_at(t0 + Duration::from_secs(71)),
            Some(Duration::from_secs(4))
        );
        assert!(idle.pushes());
    }
}
