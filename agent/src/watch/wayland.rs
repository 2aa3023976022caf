//! The Wayland watcher: focus on wlroots compositors (sway, Hyprland, labwc,
//! river, Wayfire…) from `zwlr_foreign_toplevel_manager_v1`, and pushed idle from
//! `ext-idle-notify-v1` (else `org_kde_kwin_idle`) on wlroots and KWin alike.
//!
//! The watcher runs on its own thread, blocked in `blocking_dispatch`: it never
//! polls. Toplevel facts count only once the compositor commits them (`done`);
//! the focused window is the activated toplevel. When the compositor goes away it
//! reports [`WatchEvent::Gone`] and reconnects with backoff (250 ms doubling to 2 s: a restarted compositor is
//! seen again quickly, and a failed connect costs next to nothing).
//! It ends at the first event after the run loop dropped its receiver.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use dwell_core::WindowInfo;
use tokio::sync::mpsc;
use wayland_client::backend::ObjectId;
use wayland_client::globals::{registry_queue_init, GlobalList, GlobalListContents};
use wayland_client::protocol::{wl_registry, wl_seat};
use wayland_client::{event_created_child, Connection, Dispatch, EventQueue, Proxy, QueueHandle};
use wayland_protocols::ext::idle_notify::v1::client::{
    ext_idle_notification_v1, ext_idle_notifier_v1,
};
use wayland_protocols_plasma::idle::client::{org_kde_kwin_idle, org_kde_kwin_idle_timeout};
use wayland_protocols_wlr::foreign_toplevel::v1::client::{
    zwlr_foreign_toplevel_handle_v1 as handle, zwlr_foreign_toplevel_manager_v1 as manager,
};

use super::{cut, window_from_app_id, PushedIdle, WatchEvent, MAX_TITLE, PUSH_AFTER};

/// Which idle protocol a compositor offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleProtocol {
    ExtIdleNotify,
    KdeIdle,
}

impl IdleProtocol {
    pub fn name(self) -> &'static str {
        match self {
            IdleProtocol::ExtIdleNotify => "ext-idle-notify",
            IdleProtocol::KdeIdle => "kde-idle",
        }
    }
}

/// What the compositor offers, from one registry round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    /// `zwlr_foreign_toplevel_manager_v1`.
    pub toplevel: bool,
    /// `zcosmic_toplevel_info_v1`: COSMIC's own toplevel protocol (COSMIC offers no
    /// wlroots one), seen by name only, never bound.
    pub cosmic_toplevel: bool,
    /// The idle protocol the watcher would use (it needs a `wl_seat` too).
    pub idle: Option<IdleProtocol>,
}

const TOPLEVEL_MANAGER: &str = "zwlr_foreign_toplevel_manager_v1";
const EXT_IDLE: &str = "ext_idle_notifier_v1";
const KDE_IDLE: &str = "org_kde_kwin_idle";
const SEAT: &str = "wl_seat";
const COSMIC_TOPLEVEL_INFO: &str = "zcosmic_toplevel_info_v1";

fn offer_of(globals: &GlobalList) -> Offer {
    globals.contents().with_list(|list| {
        let has = |name: &str| list.iter().any(|g| g.interface == name);
        let idle = if !has(SEAT) {
            None
        } else if has(EXT_IDLE) {
            Some(IdleProtocol::ExtIdleNotify)
        } else if has(KDE_IDLE) {
            Some(IdleProtocol::KdeIdle)
        } else {
            None
        };
        Offer {
            toplevel: has(TOPLEVEL_MANAGER),
            cosmic_toplevel: has(COSMIC_TOPLEVEL_INFO),
            idle,
        }
    })
}

/// Connects to `$WAYLAND_DISPLAY` (as `Connection::connect_to_env` does), lists
/// the globals once and disconnects. `None` when no compositor answers.
pub fn probe() -> Option<Offer> {
    struct Probe;
    impl Dispatch<wl_registry::WlRegistry, GlobalListContents> for Probe {
        fn event(
            _: &mut Self,
            _: &wl_registry::WlRegistry,
            _: wl_registry::Event,
            _: &GlobalListContents,
            _: &Connection,
            _: &QueueHandle<Self>,
        ) {
        }
    }
    let conn = Connection::connect_to_env().ok()?;
    let (globals, _queue) = registry_queue_init::<Probe>(&conn).ok()?;
    Some(offer_of(&globals))
}

/// Starts the watcher thread (`wayland-watcher`). With `toplevel` it reports
/// focus from `zwlr_foreign_toplevel_manager_v1` (`Connected`, `Focus`, `Gone`);
/// without, only idle. In both cases it feeds `idle` from the compositor's idle
/// protocol and sends [`WatchEvent::IdleChanged`]. It ends when `tx`'s receiver
/// is dropped (noticed at the next event).
pub fn spawn(
    toplevel: bool,
    tx: mpsc::Sender<WatchEvent>,
    idle: PushedIdle,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("wayland-watcher".into())
        .spawn(move || watch_forever(toplevel, tx, idle))
}

/// Warnings given once per process, not at every reconnection.
static WARNED_NO_TOPLEVEL: AtomicBool = AtomicBool::new(false);
static WARNED_NO_IDLE: AtomicBool = AtomicBool::new(false);

fn warn_once(flag: &AtomicBool) -> bool {
    !flag.swap(true, Ordering::Relaxed)
}

/// Why a session ended.
enum Stop {
    /// Could not set up (no connection or no registry): nothing was reported.
    Failed(String),
    /// The connection broke after it was set up (`idle`: an idle protocol was
    /// in use).
    Lost { error: String, idle: bool },
    /// The receiver is gone: the agent is shutting down.
    Closed,
}

fn watch_forever(toplevel: bool, tx: mpsc::Sender<WatchEvent>, idle: PushedIdle) {
    let mut backoff = MIN_BACKOFF;
    let mut connected_before = false;
    let mut state = Watcher {
        tx,
        idle,
        track_focus: toplevel,
        toplevels: Toplevels::default(),
        closed: false,
    };
    loop {
        match session(&mut state, &mut connected_before) {
            Stop::Closed => {
                state.idle.lost();
                return;
            }
            Stop::Failed(e) => {
                if state.tx.is_closed() {
                    return;
                }
                tracing::warn!(error = %e, retry_in = ?backoff, "cannot connect to the Wayland compositor");
            }
            Stop::Lost { error, idle } => {
                backoff = MIN_BACKOFF;
                tracing::warn!(%error, "lost the Wayland compositor connection; will retry");
                state.idle.lost();
                if toplevel && !state.send(WatchEvent::Gone) {
                    return;
                }
                if idle && !state.send(WatchEvent::IdleChanged) {
                    return;
                }
            }
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// First wait before reconnecting to a compositor that went away.
const MIN_BACKOFF: Duration = Duration::from_millis(250);
/// Longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// One connection, from setup until it breaks or the receiver goes away.
fn session(state: &mut Watcher, connected_before: &mut bool) -> Stop {
    let conn = match Connection::connect_to_env() {
        Ok(c) => c,
        Err(e) => return Stop::Failed(e.to_string()),
    };
    let (globals, mut queue): (GlobalList, EventQueue<Watcher>) =
        match registry_queue_init::<Watcher>(&conn) {
            Ok(g) => g,
            Err(e) => return Stop::Failed(e.to_string()),
        };
    let qh = queue.handle();
    let offer = offer_of(&globals);
    state.toplevels = Toplevels::default();

    let manager = if state.track_focus && offer.toplevel {
        globals
            .bind::<manager::ZwlrForeignToplevelManagerV1, _, _>(&qh, 1..=3, ())
            .ok()
    } else {
        None
    };
    if state.track_focus && manager.is_none() && warn_once(&WARNED_NO_TOPLEVEL) {
        tracing::warn!(
            "the Wayland compositor offers no {TOPLEVEL_MANAGER}: focus cannot be seen, only idle"
        );
    }
    let idle = bind_idle(&globals, &qh, offer.idle);
    if idle.is_none() && warn_once(&WARNED_NO_IDLE) {
        tracing::warn!(
            "the Wayland compositor offers no idle protocol (ext-idle-notify, kde-idle) on a seat"
        );
    }
    if let Err(e) = conn.flush() {
        return Stop::Failed(e.to_string());
    }

    if *connected_before {
        tracing::info!("reconnected to the Wayland compositor");
    } else {
        tracing::info!(
            toplevel = manager.is_some(),
            idle = idle.map(IdleProtocol::name),
            "connected to the Wayland compositor"
        );
    }
    *connected_before = true;
    if state.track_focus && !state.send(WatchEvent::Connected) {
        return Stop::Closed;
    }
    if idle.is_some() {
        state.idle.connected();
        if !state.send(WatchEvent::IdleChanged) {
            return Stop::Closed;
        }
    }

    // The toplevels that exist now arrive in the first round trip; with no
    // manager the report stays "no window", so counting is not stuck.
    let lost = |e: wayland_client::DispatchError| Stop::Lost {
        error: e.to_string(),
        idle: idle.is_some(),
    };
    if let Err(e) = queue.roundtrip(state) {
        return lost(e);
    }
    loop {
        if state.closed || state.tx.is_closed() {
            return Stop::Closed;
        }
        if state.track_focus {
            if let Some(focus) = state.toplevels.report() {
                if !state.send(WatchEvent::Focus(focus)) {
                    return Stop::Closed;
                }
            }
        }
        if let Err(e) = queue.blocking_dispatch(state) {
            return lost(e);
        }
    }
}

/// Asks for "no input for [`PUSH_AFTER`]" on the first seat.
fn bind_idle(
    globals: &GlobalList,
    qh: &QueueHandle<Watcher>,
    offered: Option<IdleProtocol>,
) -> Option<IdleProtocol> {
    let protocol = offered?;
    let seat = globals.bind::<wl_seat::WlSeat, _, _>(qh, 1..=1, ()).ok()?;
    let timeout = u32::try_from(PUSH_AFTER.as_millis()).unwrap_or(u32::MAX);
    match protocol {
        IdleProtocol::ExtIdleNotify => {
            let notifier = globals
                .bind::<ext_idle_notifier_v1::ExtIdleNotifierV1, _, _>(qh, 1..=2, ())
                .ok()?;
            // Version 2 can ignore idle inhibitors (a playing video): input is
            // what counts, as with MIT-SCREEN-SAVER on X11.
            if notifier.version() >= 2 {
                notifier.get_input_idle_notification(timeout, &seat, qh, ());
            } else {
                notifier.get_idle_notification(timeout, &seat, qh, ());
            }
        }
        IdleProtocol::KdeIdle => {
            let kde = globals
                .bind::<org_kde_kwin_idle::OrgKdeKwinIdle, _, _>(qh, 1..=1, ())
                .ok()?;
            kde.get_idle_timeout(&seat, timeout, qh, ());
        }
    }
    Some(protocol)
}

/// The dispatch state of the watcher thread.
struct Watcher {
    tx: mpsc::Sender<WatchEvent>,
    idle: PushedIdle,
    track_focus: bool,
    toplevels: Toplevels<ObjectId>,
    /// A send failed: the receiver is gone.
    closed: bool,
}

impl Watcher {
    /// Sends `event`; `false` once the receiver is gone.
    fn send(&mut self, event: WatchEvent) -> bool {
        if !self.closed && self.tx.blocking_send(event).is_err() {
            self.closed = true;
        }
        !self.closed
    }

    fn idled(&mut self) {
        self.idle.idled();
        self.send(WatchEvent::IdleChanged);
    }

    fn resumed(&mut self) {
        self.idle.resumed();
        self.send(WatchEvent::IdleChanged);
    }
}

impl Dispatch<wl_registry::WlRegistry, GlobalListContents> for Watcher {
    fn event(
        _: &mut Self,
        _: &wl_registry::WlRegistry,
        _: wl_registry::Event,
        _: &GlobalListContents,
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
    }
}

// Objects whose events carry nothing dwell uses.
wayland_client::delegate_noop!(Watcher: ignore wl_seat::WlSeat);
wayland_client::delegate_noop!(Watcher: ignore ext_idle_notifier_v1::ExtIdleNotifierV1);
wayland_client::delegate_noop!(Watcher: ignore org_kde_kwin_idle::OrgKdeKwinIdle);

impl Dispatch<ext_idle_notification_v1::ExtIdleNotificationV1, ()> for Watcher {
    fn event(
        state: &mut Self,
        _: &ext_idle_notification_v1::ExtIdleNotificationV1,
        event: ext_idle_notification_v1::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        match event {
            ext_idle_notification_v1::Event::Idled => state.idled(),
            ext_idle_notification_v1::Event::Resumed => state.resumed(),
            _ => {}
        }
    }
}

impl Dispatch<org_kde_kwin_idle_timeout::OrgKdeKwinIdleTimeout, ()> for Watcher {
    fn event(
        state: &mut Self,
        _: &org_kde_kwin_idle_timeout::OrgKdeKwinIdleTimeout,
        event: org_kde_kwin_idle_timeout::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        match event {
            org_kde_kwin_idle_timeout::Event::Idle => state.idled(),
            org_kde_kwin_idle_timeout::Event::Resumed => state.resumed(),
            _ => {}
        }
    }
}

impl Dispatch<manager::ZwlrForeignToplevelManagerV1, ()> for Watcher {
    fn event(
        state: &mut Self,
        _: &manager::ZwlrForeignToplevelManagerV1,
        event: manager::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        match event {
            manager::Event::Toplevel { toplevel } => state.toplevels.add(toplevel.id()),
            manager::Event::Finished => {
                tracing::warn!("the Wayland compositor stopped reporting toplevels");
            }
            _ => {}
        }
    }

    event_created_child!(Watcher, manager::ZwlrForeignToplevelManagerV1, [
        manager::EVT_TOPLEVEL_OPCODE => (handle::ZwlrForeignToplevelHandleV1, ()),
    ]);
}

impl Dispatch<handle::ZwlrForeignToplevelHandleV1, ()> for Watcher {
    fn event(
        state: &mut Self,
        proxy: &handle::ZwlrForeignToplevelHandleV1,
        event: handle::Event,
        _: &(),
        _: &Connection,
        _: &QueueHandle<Self>,
    ) {
        let id = proxy.id();
        match event {
            handle::Event::Title { title } => state.toplevels.title(id, &title),
            handle::Event::AppId { app_id } => state.toplevels.app_id(id, &app_id),
            handle::Event::State { state: raw } => {
                let (activated, fullscreen) = parse_state(&raw);
                state.toplevels.state(id, activated, fullscreen);
            }
            handle::Event::Done => state.toplevels.done(id),
            handle::Event::Closed => {
                state.toplevels.closed(&id);
                proxy.destroy();
            }
            _ => {}
        }
    }
}

/// Reads a `state` array (native-endian `u32`s): whether it holds `activated`
/// and `fullscreen`.
fn parse_state(raw: &[u8]) -> (bool, bool) {
    let activated = handle::State::Activated as u32;
    let fullscreen = handle::State::Fullscreen as u32;
    raw.chunks_exact(4)
        .filter_map(|c| c.try_into().ok().map(u32::from_ne_bytes))
        .fold((false, false), |(a, f), s| {
            (a || s == activated, f || s == fullscreen)
        })
}

/// A toplevel's facts: `pending` collects events, `done` commits them.
#[derive(Debug, Clone, Default, PartialEq)]
struct Facts {
    title: String,
    app_id: String,
    activated: bool,
    fullscreen: bool,
}

#[derive(Debug, Default)]
struct Toplevel {
    current: Facts,
    pending: Facts,
    /// When it last became activated (higher is later).
    activated_at: u64,
}

/// The toplevels a compositor reported, keyed by handle, and which window to
/// report as focused: the activated one (the most recently activated, should
/// several seats each have one). Pure: fed events, asked what to report.
#[derive(Debug)]
struct Toplevels<K> {
    handles: HashMap<K, Toplevel>,
    activations: u64,
    /// What was reported last (`None`: nothing yet on this connection).
    last_sent: Option<Option<WindowInfo>>,
}

impl<K> Default for Toplevels<K> {
    fn default() -> Self {
        Toplevels {
            handles: HashMap::new(),
            activations: 0,
            last_sent: None,
        }
    }
}

impl<K: Hash + Eq> Toplevels<K> {
    fn add(&mut self, k: K) {
        self.handles.entry(k).or_default();
    }

    fn title(&mut self, k: K, title: &str) {
        self.handles.entry(k).or_default().pending.title = cut(title, MAX_TITLE).to_owned();
    }

    fn app_id(&mut self, k: K, app_id: &str) {
        self.handles.entry(k).or_default().pending.app_id = cut(app_id, MAX_TITLE).to_owned();
    }

    fn state(&mut self, k: K, activated: bool, fullscreen: bool) {
        let p = &mut self.handles.entry(k).or_default().pending;
        p.activated = activated;
        p.fullscreen = fullscreen;
    }

    /// The compositor committed this toplevel's pending facts.
    fn done(&mut self, k: K) {
        let t = self.handles.entry(k).or_default();
        if t.pending.activated && !t.current.activated {
            self.activations += 1;
            t.activated_at = self.activations;
        }
        t.current = t.pending.clone();
    }

    fn closed(&mut self, k: &K) {
        self.handles.remove(k);
    }

    /// The focused window now, from committed facts only.
    fn focused(&self) -> Option<WindowInfo> {
        let t = self
            .handles
            .values()
            .filter(|t| t.current.activated)
            .max_by_key(|t| t.activated_at)?;
        let mut w = window_from_app_id(&t.current.app_id, &t.current.title, None);
        w.fullscreen = t.current.fullscreen;
        Some(w)
    }

    /// What to send, if it differs from what was sent last.
    fn report(&mut self) -> Option<Option<WindowInfo>> {
        let now = self.focused();
        if self.last_sent.as_ref() == Some(&now) {
            return None;
        }
        self.last_sent = Some(now.clone());
        Some(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(t: &mut Toplevels<u32>, k: u32, app: &str, title: &str, activated: bool) {
        t.add(k);
        t.app_id(k, app);
        t.title(k, title);
        t.state(k, activated, false);
        t.done(k);
    }

    fn class_title(w: &Option<WindowInfo>) -> Option<(&str, &str)> {
        w.as_ref().map(|w| (w.class.as_str(), w.title.as_str()))
    }

    #[test]
    fn the_activated_toplevel_is_reported_once() {
        let mut t = Toplevels::default();
        assert_eq!(t.report(), Some(None), "no windows: report none once");
        assert_eq!(t.report(), None);
        open(&mut t, 1, "foot", "shell", false);
        assert_eq!(t.report(), None, "an unfocused window changes nothing");
        open(&mut t, 2, "org.mozilla.firefox", "Home / X", true);
        let w = t.report().expect("a change").expect("a window");
        assert_eq!(
            (w.class.as_str(), w.instance.as_str()),
            ("org.mozilla.firefox", "firefox")
        );
        assert_eq!(w.title, "Home / X");
        assert!(!w.fullscreen);
        assert_eq!(t.report(), None, "same again: nothing to send");
    }

    #[test]
    fn facts_count_only_at_done() {
        let mut t = Toplevels::default();
        open(&mut t, 1, "foot", "one", true);
        let _ = t.report();
        t.title(1, "two");
        assert_eq!(t.report(), None, "title not committed yet");
        t.done(1);
        assert_eq!(
            class_title(&t.report().expect("changed")),
            Some(("foot", "two"))
        );
    }

    #[test]
    fn titles_of_unfocused_windows_are_not_reported() {
        let mut t = Toplevels::default();
        open(&mut t, 1, "foot", "a", true);
        open(&mut t, 2, "discord", "b", false);
        let _ = t.report();
        t.title(2, "b (1 new)");
        t.done(2);
        assert_eq!(t.report(), None);
    }

    #[test]
    fn focus_switches_and_fullscreen() {
        let mut t = Toplevels::default();
        open(&mut t, 1, "foot", "a", true);
        open(&mut t, 2, "discord", "b", false);
        let _ = t.report();
        // The compositor deactivates 1, then activates 2, in one batch.
        t.state(1, false, false);
        t.done(1);
        t.state(2, true, true);
        t.done(2);
        let w = t.report().expect("changed").expect("a window");
        assert_eq!(w.class, "discord");
        assert!(w.fullscreen);
        t.state(2, true, false);
        t.done(2);
        assert!(!t.report().expect("changed").expect("a window").fullscreen);
    }

    #[test]
    fn the_latest_activation_wins_and_closing_falls_back() {
        let mut t = Toplevels::default();
        open(&mut t, 1, "foot", "a", true);
        open(&mut t, 2, "discord", "b", true);
        assert_eq!(
            class_title(&t.report().expect("changed")),
            Some(("discord", "b"))
        );
        t.closed(&2);
        assert_eq!(
            class_title(&t.report().expect("changed")),
            Some(("foot", "a"))
        );
        t.closed(&1);
        assert_eq!(t.report(), Some(None), "no window left");
        t.closed(&1);
        assert_eq!(t.report(), None, "closing an unknown handle is harmless");
    }

    #[test]
    fn no_activated_toplevel_reports_none() {
        let mut t = Toplevels::default();
        open(&mut t, 1, "foot", "a", true);
        let _ = t.report();
        t.state(1, false, false);
        t.done(1);
        assert_eq!(t.report(), Some(None));
    }

    #[test]
    fn long_titles_are_cut() {
        let mut t = Toplevels::default();
        open(&mut t, 1, "foot", &"é".repeat(MAX_TITLE), true);
        let w = t.report().expect("changed").expect("a window");
        assert!(w.title.len() <= MAX_TITLE);
    }

    #[test]
    fn state_arrays_are_read() {
        let raw = |v: &[u32]| v.iter().flat_map(|s| s.to_ne_bytes()).collect::<Vec<u8>>();
        assert_eq!(parse_state(&raw(&[])), (false, false));
        assert_eq!(parse_state(&raw(&[0, 2])), (true, false));
        assert_eq!(parse_state(&raw(&[3, 1])), (false, true));
        assert_eq!(parse_state(&raw(&[2, 3])), (true, true));
        assert_eq!(
            parse_state(&[2, 0, 0]),
            (false, false),
            "a torn array is ignored"
        );
    }

    #[test]
    fn idle_protocol_names() {
        assert_eq!(IdleProtocol::ExtIdleNotify.name(), "ext-idle-notify");
        assert_eq!(IdleProtocol::KdeIdle.name(), "kde-idle");
    }
}
