//! The agent's run loop: one tokio task that owns the store, feeds what the
//! watchers report to core's pure tracker, and arms exactly the timers that can
//! matter right now:
//!
//! - the idle check: sources that push (SYNC alarms on X11, the Wayland idle
//!   protocols, Mutter's watches) wake it with `IdleChanged`, and a timer runs
//!   only from their "no input for 5 s" to the idle timeout; a polled source is
//!   asked at the moment the idle timeout could first be reached, and once a
//!   second while idle, to notice the next input;
//! - the checkpoint of the open span, every 9 s while one is open (so a
//!   crash loses at most 10 s, the write included);
//! - the next edge of recording hours;
//! - the next reminder crossing, and the reminders' own small timers (see
//!   [`crate::remind`]), only while on a social site;
//! - the control wake-up: the end of a pause, of the calibration period, and
//!   the daily retention run.
//!
//! A changed config file (inotify, see [`crate::reload`]) or a `SIGUSR1` (sent
//! by `pause`, `resume`, `setup`) makes it re-read the config and the pause
//! state; an invalid config is refused and the previous one stays in force. A
//! changed `/etc/localtime` (inotify too) makes it look at the recording hours
//! at once.
//!
//! With no span open and nothing to wait for, it sleeps until an event arrives.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, TimeZone, Utc};
use dwell_core::forget::ForgetEntry;
use dwell_core::store::{Put, StoreError};
use dwell_core::tracker::{Event, Tracker};
use dwell_core::{calibrate, control, Activity, Config, Source, Span, Store, WindowInfo};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::clock::{Clock, SystemClock};
use crate::notify::{self, NotifyEvent};
use crate::remind::{Notifications, Reminding};
use crate::tray::{TrayEvent, TrayLink, TrayState};
use crate::watch::{select, Backend, IdleSource, WatchEvent, PUSH_AFTER};

/// The most a crash or `kill -9` may lose (README, "Reliability").
pub const MAX_LOSS: Duration = Duration::from_secs(10);
/// Time allowed for a checkpoint's wake-up and its commit (a few ms on a
/// desktop; a kill in that window loses the whole period plus that time).
const WRITE_SLACK: Duration = Duration::from_secs(1);
/// How often the open span is written out: early enough that what is
/// committed is never more than [`MAX_LOSS`] old, wake-up and commit included.
pub const CHECKPOINT_EVERY: Duration =
    Duration::from_secs(MAX_LOSS.as_secs() - WRITE_SLACK.as_secs());
/// While idle, how often to look for the next input.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// Longest single sleep towards a far-away recording edge, so that a suspend
/// (which stops the monotonic clock) cannot make it very late.
const MAX_EDGE_SLEEP: Duration = Duration::from_secs(600);
/// `chrono::Local` reads `/etc/localtime` again at most this often (its
/// cache is kept for a second): after a time-zone change the recording hours
/// are looked at again this much later, so the new zone is seen within it.
const LOCAL_ZONE_CACHE: Duration = Duration::from_secs(1);
/// A wall-clock step larger than this (either way) against the monotonic clock
/// between two wakes means a clock change or a suspend (which stops the
/// monotonic clock): the open span ends at the moment before the step and
/// starts again at the new time.
const STEP: chrono::Duration = chrono::Duration::seconds(1);

/// A focus change to "no window" that lasts less than this is not a change:
/// window managers and compositors report one in the middle of many switches.
const NO_WINDOW_SETTLES: Duration = Duration::from_millis(250);

/// What woke the loop.
enum Wake {
    Shutdown,
    Watch(Option<WatchEvent>),
    IdleCheck,
    Checkpoint,
    Edge,
    Notify(Option<NotifyEvent>),
    Remind,
    Control(Option<()>),
    /// The config file was found empty a moment ago: look again.
    ConfigSettled,
    Tray(Option<TrayEvent>),
    ControlTimer,
    NoWindow,
}

/// `meta` key holding the error of a config file the running agent refused.
pub const CONFIG_ERROR_KEY: &str = "config_error";
/// `meta` keys telling `status` which backend and idle source the running agent
/// uses, and what the employee should do if something is missing.
pub const BACKEND_KEY: &str = "watch_backend";
pub const IDLE_SOURCE_KEY: &str = "watch_idle_source";
pub const HINT_KEY: &str = "watch_hint";
/// Meta key: what GNOME Shell says of dwell's extension, as JSON (see
/// [`crate::watch::gnome::ExtensionReport`]), for `status`.
pub const GNOME_EXTENSION_KEY: &str = "watch_gnome_extension";
/// Meta key: the browsers whose extension reported, as JSON (see
/// [`crate::browser::Browsers::status_json`]), for `status`.
pub const BROWSERS_KEY: &str = "watch_browsers";
/// How often, at most, the browsers' `last_seen` is written for `status`
/// (a connection or disconnection is written at once).
const BROWSERS_STORE_EVERY: chrono::Duration = chrono::Duration::seconds(60);
/// Meta key: why the running agent sends no notifications (for `status`).
pub const NOTIFY_OFF_KEY: &str = "notifications_off";
/// How long a stopping agent waits for the notification server's answer to a
/// reminder on its way (well within the second a stop may take).
const AWAIT_SHOWN: Duration = Duration::from_millis(500);
/// Longest sleep towards a control wake-up (pause end, retention, calibration).
const MAX_CONTROL_SLEEP: Duration = Duration::from_secs(3600);
/// When a setting in the store could not be read, how soon to try again.
const STORE_RETRY: Duration = Duration::from_secs(60);

/// What the run loop listens to.
pub struct Sources {
    pub watch: mpsc::Receiver<WatchEvent>,
    pub idle: Box<dyn IdleSource>,
    /// "Look again": the config file changed or a `SIGUSR1` arrived.
    pub control: Option<mpsc::Receiver<()>>,
    /// The config file to re-read on a control event (`None`: never reload).
    pub config_path: Option<PathBuf>,
    /// Which watchers these are, for `status`.
    pub about: About,
}

/// Which watchers feed the loop, as `status` shows them.
#[derive(Debug, Clone, Default)]
pub struct About {
    pub backend: Option<Backend>,
    pub idle_source: Option<&'static str>,
    pub hint: Option<String>,
    /// Why notifications are off, when the agent knows at start (a session bus
    /// it refuses to use).
    pub notifications_off: Option<String>,
    /// Where the agent notes since when writes fail (its lock file), so
    /// `status` can say so even when the database takes no writes.
    pub health: Option<crate::lock::HealthNote>,
}

/// Runs the agent on the real desktop until `shutdown` completes (no live reload).
pub async fn run(config: Config, store: Store, shutdown: impl Future<Output = ()>) -> Result<()> {
    run_live(config, None, None, store, shutdown).await
}

/// Runs the agent on the real desktop until `shutdown` completes, re-reading
/// `config_path` when it changes and the pause state on `SIGUSR1`.
pub async fn run_live(
    config: Config,
    config_path: Option<PathBuf>,
    health: Option<crate::lock::HealthNote>,
    store: Store,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let (tx, rx) = mpsc::channel(64);
    let watching = select::start(config.tracking.backend, tx)?;
    tracing::info!(
        backend = watching.backend.name(),
        idle_source = watching.idle_name.unwrap_or("none"),
        "watching focus"
    );
    if let Some(hint) = &watching.hint {
        tracing::warn!("{hint}");
    }
    let (control_tx, control_rx) = mpsc::channel(4);
    if let Some(path) = &config_path {
        crate::reload::spawn_watcher(path, control_tx.clone());
    }
    // A time-zone change moves the recording hours: looked at within a second.
    crate::reload::spawn_zone_watcher(control_tx.clone());
    let mut usr1 = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())
        .context("cannot listen for SIGUSR1")?;
    tokio::spawn(async move {
        while usr1.recv().await.is_some() {
            if control_tx.send(()).await.is_err() {
                break;
            }
        }
    });
    // A session bus that is not a local socket is never used: tracking goes
    // on, reminders are off, and `status` says why.
    let notifications_off = std::env::var("DBUS_SESSION_BUS_ADDRESS")
        .ok()
        .and_then(|address| crate::watch::bus::local_only(&address).err())
        .map(|why| format!("notifications are off: {why}"));
    let sources = Sources {
        watch: rx,
        idle: watching.idle,
        control: Some(control_rx),
        config_path,
        about: About {
            backend: Some(watching.backend),
            idle_source: watching.idle_name,
            hint: watching.hint,
            notifications_off: notifications_off.clone(),
            health,
        },
    };
    let bus = watching.bus;
    let (ev_tx, ev_rx) = mpsc::channel(16);
    let notifications = match &notifications_off {
        Some(why) => {
            tracing::warn!("{why}; tracking goes on");
            None
        }
        None => match notify::spawn(ev_tx) {
            Ok((requests, _thread)) => Some(Notifications {
                requests,
                events: ev_rx,
            }),
            Err(e) => {
                tracing::warn!(error = %e, "cannot start the notification thread; no reminders");
                None
            }
        },
    };
    // The tray icon: what it shows comes from the loop, its menu goes to it.
    let tray = if config.ui.tray {
        crate::tray::start(TrayState::default()).await
    } else {
        None
    };
    let result = run_with_ui(
        config,
        store,
        sources,
        notifications,
        tray,
        &SystemClock,
        &chrono::Local,
        shutdown,
    )
    .await;
    // Unloads the KWin script, if one was loaded.
    if let Some(bus) = bus {
        bus.shutdown();
    }
    result
}

struct Loop<'a, C: Clock, Tz: TimeZone> {
    config: Config,
    store: Store,
    clock: &'a C,
    tz: &'a Tz,
    tracker: Tracker,
    /// The backend's source: spans seen through it (and not through the
    /// browser extension) carry it.
    source: Source,
    /// Spans closed but not yet written (kept when a write fails).
    pending: Vec<Span>,
    /// The focused window's activity as last classified (kept while away, so
    /// counting can resume without a new focus event).
    focus: Option<Activity>,
    x_connected: bool,
    /// The screen is locked: away, whatever has focus.
    locked: bool,
    /// Between logind's "about to sleep" and "woke up".
    asleep: bool,
    /// The idle source reports changes itself (no timer while active, no poll while away).
    idle_pushes: bool,
    recording: bool,
    idle_at: Option<Instant>,
    last_idle: Option<Duration>,
    checkpoint_at: Option<Instant>,
    edge_at: Option<Instant>,
    awake: (DateTime<Utc>, Instant),
    write_failed: bool,
    /// See [`About::health`].
    health: Option<crate::lock::HealthNote>,
    /// The store is damaged: the loop ends with this error.
    fatal: Option<StoreError>,
    /// A "no window" focus report waiting to last [`NO_WINDOW_SETTLES`]: when
    /// it came, and when it counts.
    no_window: Option<(DateTime<Utc>, Instant)>,
    /// The open span's start and end as last written: if it is cut back, the
    /// pieces written beyond its new end are deleted.
    open_written: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The latest forget this loop has applied (see `dwell_core::forget`).
    forget_seq: u64,
    remind: Reminding,
    /// The focused window, in memory only, to classify it again after a reload.
    window: Option<WindowInfo>,
    /// What dwell's browser extension reports, per browser (in memory only).
    browsers: crate::browser::Browsers,
    /// When the browsers' state was last written for `status`, and whether it
    /// has changed since.
    browsers_stored: (Option<DateTime<Utc>>, bool),
    config_path: Option<PathBuf>,
    /// The config file as last taken in: a `SIGUSR1` or a save that changed
    /// nothing leaves the open span alone.
    live: Option<crate::reload::Live>,
    /// When to look again at a config file found empty (see
    /// [`crate::reload::EMPTY_SETTLES`]).
    reload_at: Option<Instant>,
    /// Off the record until `resume` or the pause's end.
    paused: bool,
    /// The pause in force, as last read (for the tray's tooltip).
    pause: Option<control::Pause>,
    /// Where the tray's state goes (see [`crate::tray`]), if there is a tray.
    tray: Option<tokio::sync::watch::Sender<TrayState>>,
    /// Reminders are held back until then (calibration period).
    calibrating_until: Option<DateTime<Utc>>,
    control_at: Option<Instant>,
    /// A setting in the store could not be read (said once until it can).
    read_failing: bool,
}

async fn recv_opt<T>(rx: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The run loop with injected sources, clock and time zone (tests use these),
/// without notifications (reminders are stored as undelivered).
pub async fn run_with<C: Clock, Tz: TimeZone>(
    config: Config,
    store: Store,
    sources: Sources,
    clock: &C,
    tz: &Tz,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    run_with_notifications(config, store, sources, None, clock, tz, shutdown).await
}

/// The run loop with injected sources, notification channels, clock and time zone.
pub async fn run_with_notifications<C: Clock, Tz: TimeZone>(
    config: Config,
    store: Store,
    sources: Sources,
    notifications: Option<Notifications>,
    clock: &C,
    tz: &Tz,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    run_with_ui(
        config,
        store,
        sources,
        notifications,
        None,
        clock,
        tz,
        shutdown,
    )
    .await
}

/// The run loop with injected sources, notification channels, tray, clock and
/// time zone.
#[allow(clippy::too_many_arguments)]
pub async fn run_with_ui<C: Clock, Tz: TimeZone>(
    config: Config,
    store: Store,
    mut sources: Sources,
    notifications: Option<Notifications>,
    tray: Option<TrayLink>,
    clock: &C,
    tz: &Tz,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let now = clock.now();
    let (tray_show, mut tray_events) = match tray {
        Some(t) => (Some(t.show), Some(t.events)),
        None => (None, None),
    };
    let (requests, mut notify_events) = match notifications {
        Some(n) => (Some(n.requests), Some(n.events)),
        None => (None, None),
    };
    let mut remind = Reminding::new(&config, requests);
    remind.restore(&store, now, tz);
    let forget_seq = store.forget_seq().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot read the forget log");
        0
    });
    let live = sources
        .config_path
        .clone()
        .map(|path| crate::reload::Live::new(path, &config));
    let mut lp = Loop {
        remind,
        recording: config.schedule.is_recording(now, tz),
        config,
        store,
        clock,
        tz,
        tracker: Tracker::new(sources.about.backend.map_or(Source::X11, |b| b.source())),
        source: sources.about.backend.map_or(Source::X11, |b| b.source()),
        pending: Vec::new(),
        focus: None,
        x_connected: false,
        locked: false,
        asleep: false,
        idle_pushes: false,
        idle_at: None,
        last_idle: None,
        checkpoint_at: None,
        edge_at: None,
        awake: (now, Instant::now()),
        write_failed: false,
        health: sources.about.health.clone(),
        open_written: None,
        no_window: None,
        fatal: None,
        forget_seq,
        window: None,
        browsers: crate::browser::Browsers::default(),
        browsers_stored: (None, false),
        live,
        reload_at: None,
        config_path: sources.config_path.take(),
        paused: false,
        calibrating_until: None,
        control_at: None,
        read_failing: false,
        pause: None,
        tray: tray_show,
    };
    let mut control_events = sources.control.take();
    // Nothing is observed until the watcher connects.
    lp.tracker.apply(Event::Away { at: now });
    lp.arm_edge();
    // A snooze does not outlive the agent that honoured it (`status` reads
    // the note only while an agent runs).
    for key in [CONFIG_ERROR_KEY, crate::remind::SNOOZED_UNTIL_KEY] {
        if let Err(e) = lp.store.meta_delete(key) {
            tracing::warn!(error = %e, "cannot clear a stored note for status");
        }
    }
    lp.refresh_control();
    lp.store_about(&sources.about);
    if let Some(e) = lp.fatal.take() {
        return Err(e).context("dwell-agent stopped writing");
    }
    tracing::info!(recording = lp.recording, "dwell-agent running");
    lp.show_tray();

    tokio::pin!(shutdown);
    let mut watch_open = true;
    let mut untrackable = None;
    loop {
        let wake = tokio::select! {
            () = &mut shutdown => Wake::Shutdown,
            ev = sources.watch.recv(), if watch_open => Wake::Watch(ev),
            () = sleep_opt(lp.idle_at) => Wake::IdleCheck,
            () = sleep_opt(lp.checkpoint_at) => Wake::Checkpoint,
            () = sleep_opt(lp.edge_at) => Wake::Edge,
            ev = recv_opt(&mut notify_events) => Wake::Notify(ev),
            () = sleep_opt(lp.remind.wake_at) => Wake::Remind,
            () = sleep_opt(lp.remind.aux_at()) => Wake::Remind,
            ev = recv_opt(&mut control_events) => Wake::Control(ev),
            () = sleep_opt(lp.control_at) => Wake::ControlTimer,
            () = sleep_opt(lp.reload_at) => Wake::ConfigSettled,
            () = sleep_opt(lp.no_window.map(|(_, at)| at)) => Wake::NoWindow,
            ev = recv_opt(&mut tray_events) => Wake::Tray(ev),
        };
        // Whatever woke the loop, a step of the wall clock (or a suspend) is
        // dealt with first, so nothing after it is dated across it.
        lp.check_jump();
        match wake {
            Wake::Shutdown => break,
            Wake::Watch(Some(WatchEvent::Untrackable(why))) => {
                untrackable = Some(why);
                break;
            }
            Wake::Watch(Some(WatchEvent::IdleChanged)) | Wake::IdleCheck => {
                lp.on_idle_check(sources.idle.as_mut())
            }
            Wake::Watch(Some(ev)) => lp.on_watch(ev),
            Wake::Watch(None) => {
                tracing::warn!("the window watcher stopped");
                watch_open = false;
                let now = lp.clock.now();
                lp.close(Event::Away { at: now });
            }
            Wake::Checkpoint => lp.checkpoint(),
            Wake::Edge => lp.on_edge(),
            Wake::Notify(Some(ev)) => lp.on_notify(ev),
            Wake::Notify(None) => notify_events = None,
            Wake::Remind => {}
            Wake::Control(Some(())) => lp.on_control(),
            Wake::Control(None) => control_events = None,
            Wake::ControlTimer => lp.refresh_control(),
            Wake::ConfigSettled => {
                lp.reload_at = None;
                lp.look_at_config(true);
            }
            Wake::NoWindow => lp.settle_no_window(),
            Wake::Tray(Some(ev)) => lp.on_tray(ev),
            Wake::Tray(None) => tray_events = None,
        }
        if let Some(e) = lp.fatal.take() {
            return Err(e).context("dwell-agent stopped writing");
        }
        lp.remind_tick();
        lp.arm_idle();
        lp.arm_checkpoint();
        lp.show_tray();
        lp.awake = (lp.clock.now(), Instant::now());
    }
    // A reminder on its way to the screen when the loop ends: its answer is
    // waited for a little, so that what was shown is recorded as shown.
    if let Some(events) = notify_events.as_mut() {
        let until = Instant::now() + AWAIT_SHOWN;
        while lp.remind.awaits_answer() {
            match tokio::time::timeout_at(until, events.recv()).await {
                Ok(Some(ev)) => lp.on_notify(ev),
                _ => break,
            }
        }
    }
    lp.remind.unanswered(&mut lp.store);
    lp.settle_no_window();
    let now = lp.clock.now();
    lp.close(Event::Away { at: now });
    lp.flush();
    lp.clear_about();
    if let Some(why) = untrackable {
        tracing::warn!("{why}");
        return Err(anyhow::anyhow!(dwell_core::exit::Refused(why)));
    }
    if !lp.pending.is_empty() {
        anyhow::bail!(
            "could not write {} span(s) to {} before exiting",
            lp.pending.len(),
            lp.store.path().display()
        );
    }
    tracing::info!("dwell-agent stopped");
    Ok(())
}

/// A write error as the running agent says it: it retries by itself, so the
/// advice is what to fix, never "start dwell again".
fn while_running(e: &StoreError) -> String {
    match e {
        StoreError::DiskFull { path } => {
            format!(
                "the disk holding {} is full: free some space",
                path.display()
            )
        }
        StoreError::ReadOnly { path } => format!(
            "{} is on a read-only disk: make it writable",
            path.display()
        ),
        StoreError::PermissionDenied { path } => format!(
            "{} cannot be written by you: make it yours and writable (chown, chmod u+rw)",
            path.display()
        ),
        other => other.to_string(),
    }
}

impl<C: Clock, Tz: TimeZone> Loop<'_, C, Tz> {
    fn observing(&self) -> bool {
        self.recording && self.x_connected && !self.paused && !self.locked && !self.asleep
    }

    /// Tells `status` which watchers run (removed again on exit).
    fn store_about(&mut self, about: &About) {
        let keys = [
            (BACKEND_KEY, about.backend.map(|b| b.name().to_owned())),
            (IDLE_SOURCE_KEY, about.idle_source.map(str::to_owned)),
            (HINT_KEY, about.hint.clone()),
            (NOTIFY_OFF_KEY, about.notifications_off.clone()),
            // Said again by the GNOME backend once it has asked the shell.
            (GNOME_EXTENSION_KEY, None),
        ];
        for (key, value) in keys {
            let res = match value {
                Some(v) => self.store.meta_set(key, &v),
                None => self.store.meta_delete(key),
            };
            if let Err(e) = res {
                tracing::warn!(error = %e, "cannot store the watcher state for status");
            }
        }
    }

    fn clear_about(&mut self) {
        for key in [
            BACKEND_KEY,
            IDLE_SOURCE_KEY,
            HINT_KEY,
            GNOME_EXTENSION_KEY,
            NOTIFY_OFF_KEY,
            BROWSERS_KEY,
        ] {
            if let Err(e) = self.store.meta_delete(key) {
                tracing::warn!(error = %e, "cannot clear the watcher state");
            }
        }
    }

    /// The config file or the time zone changed, or `SIGUSR1` arrived:
    /// re-read the config and the pause state, and look at the recording
    /// hours at once (a new zone moves them) and again within
    /// [`LOCAL_ZONE_CACHE`].
    fn on_control(&mut self) {
        self.look_at_config(false);
        self.on_edge();
        let again = Instant::now() + LOCAL_ZONE_CACHE;
        self.edge_at = Some(self.edge_at.map_or(again, |at| at.min(again)));
        self.refresh_control();
        // `dwell-agent snooze` / `done-for-today`, if one is waiting.
        let now = self.clock.now();
        self.remind.take_request(&mut self.store, now, self.tz);
        // Whatever `dwell-agent forget` erased is dropped from memory now.
        self.checkpoint();
    }

    /// Takes in the config file if it changed; `settled`: a file found empty
    /// a moment ago is taken if it still is.
    fn look_at_config(&mut self, settled: bool) {
        let Some(live) = self.live.as_mut() else {
            return;
        };
        let look = live.look(settled);
        if !matches!(look, crate::reload::Look::Settle) {
            self.reload_at = None;
        }
        match look {
            crate::reload::Look::Unchanged => self.clear_config_error(),
            crate::reload::Look::Settle => {
                tracing::debug!("the config file is empty: looking again in a moment");
                self.reload_at
                    .get_or_insert(Instant::now() + crate::reload::EMPTY_SETTLES);
            }
            crate::reload::Look::Take(config) => {
                self.apply_config(*config);
                self.clear_config_error();
            }
            crate::reload::Look::Refused(refused) => {
                crate::reload::log_refused(&refused);
                if let Err(e) = self.store.meta_set(CONFIG_ERROR_KEY, &refused.to_string()) {
                    tracing::warn!(error = %e, "cannot store the config error");
                }
            }
        }
    }

    /// The store found damage: stop (the caller moves the file aside, salvages
    /// what can be read and starts again). Other errors are only logged.
    fn store_failed(&mut self, e: StoreError) {
        if matches!(e, StoreError::Damaged { .. }) {
            tracing::error!(error = %e, "the database is damaged; stopping to set it aside");
            self.fatal = Some(e);
        } else {
            tracing::warn!(error = %e, "the database check failed; will retry");
        }
    }

    fn clear_config_error(&mut self) {
        if let Err(e) = self.store.meta_delete(CONFIG_ERROR_KEY) {
            tracing::warn!(error = %e, "cannot clear the stored config error");
        }
    }

    /// Puts a new, valid config in force: the open span is closed and counting
    /// goes on under the new rules and hours.
    fn apply_config(&mut self, config: Config) {
        let now = self.clock.now();
        self.close(Event::Away { at: now });
        self.config = config;
        self.remind.set_config(&self.config);
        if !self.config.ui.tray {
            // `[ui] tray = false` takes the icon away at once (dropping the
            // sender ends the tray); turning it on needs a restart.
            self.tray = None;
        }
        if self.window.is_some() {
            self.focus = self.activity_of(self.window.as_ref());
        }
        self.recording = self.config.schedule.is_recording(now, self.tz);
        self.resume(now);
        self.arm_edge();
        tracing::info!(recording = self.recording, "config reloaded");
    }

    /// Reads the pause state, runs retention when due, and works out when to
    /// look again (pause end, calibration end, next retention run). A setting
    /// that cannot be read (a transient store error) leaves what was in force
    /// as it was, and is read again after [`STORE_RETRY`].
    fn refresh_control(&mut self) {
        self.control_at = None;
        let now = self.clock.now();
        let mut failed = false;
        let pause = match control::paused(&self.store, now) {
            Ok(pause) => pause,
            Err(e) => {
                failed = true;
                self.read_failed("cannot read the pause state; the previous one stays", &e);
                self.pause.filter(|p| p.is_active(now))
            }
        };
        let paused = pause.is_some();
        self.pause = pause;
        if paused != self.paused {
            if paused {
                tracing::info!("paused: off the record");
                self.remind.close();
                self.close(Event::Away { at: now });
                self.paused = true;
            } else {
                tracing::info!("resumed");
                self.paused = false;
                self.resume(now);
            }
        }
        let next_retention = match control::retention_last_run(&self.store) {
            Ok(last_run) => self.retention_if_due(last_run, now),
            Err(e) => {
                failed = true;
                self.read_failed("cannot read when retention last ran; it waits", &e);
                None
            }
        };
        if self.fatal.is_some() {
            return;
        }
        match self.store.consent() {
            Ok(consent) => {
                self.calibrating_until =
                    calibrate::calibration_end(consent, self.config.tracking.calibrate)
            }
            Err(e) => {
                failed = true;
                self.read_failed("cannot read the consent; calibration stays as it was", &e);
            }
        }
        self.calibrating_until = self.calibrating_until.filter(|end| *end > now);
        if !failed && self.read_failing {
            tracing::info!("reading the settings in the database works again");
            self.read_failing = false;
        }
        let retry =
            failed.then(|| now + chrono::Duration::from_std(STORE_RETRY).unwrap_or_default());
        let wake = [
            pause.and_then(|p| p.until()),
            self.calibrating_until,
            next_retention,
            retry,
        ]
        .into_iter()
        .flatten()
        .filter(|t| *t > now)
        .min();
        let wait = wake
            .and_then(|t| (t - now).to_std().ok())
            .unwrap_or(MAX_CONTROL_SLEEP)
            .min(MAX_CONTROL_SLEEP);
        self.control_at = Some(Instant::now() + wait);
    }

    /// A setting in the store could not be read: said once (at warn) until
    /// reading works again.
    fn read_failed(&mut self, what: &str, e: &StoreError) {
        if self.read_failing {
            tracing::debug!(error = %e, "{what}");
        } else {
            tracing::warn!(error = %e, "{what}");
            self.read_failing = true;
        }
    }

    /// Runs retention when it is due (once a day, with a check that the
    /// database is still sound); returns when it is next due.
    fn retention_if_due(
        &mut self,
        last_run: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let next = last_run.map(|t| t + chrono::Duration::days(1));
        if !control::retention_due(last_run, now) {
            return next;
        }
        // A damaged database is never written to again (the caller moves it
        // aside).
        if let Err(e) = self.store.health_check() {
            self.store_failed(e);
        }
        if self.fatal.is_some() {
            return next;
        }
        match control::apply_retention(&mut self.store, self.config.data.keep, now) {
            Ok(n) => {
                tracing::info!(deleted_spans = n, "retention ran");
                Some(now + chrono::Duration::days(1))
            }
            Err(e @ StoreError::Damaged { .. }) => {
                self.store_failed(e);
                next
            }
            Err(e) => {
                tracing::warn!(error = %e, "retention failed; will retry");
                next
            }
        }
    }

    /// Applies an event that may close a span, and writes what it closed. A
    /// focus change first tells the tracker where the new activity is seen:
    /// the browser extension (for a browser whose extension is connected) or
    /// the backend.
    fn close(&mut self, event: Event) {
        if matches!(event, Event::Focus { .. }) {
            let through_extension = self
                .window
                .as_ref()
                .is_some_and(|w| self.browsers.for_window(w).is_some());
            self.tracker.set_source(if through_extension {
                Source::Extension
            } else {
                self.source
            });
        }
        let closed = self.tracker.apply(event);
        self.keep(closed);
    }

    /// Counts and writes a span the tracker closed.
    fn keep(&mut self, closed: Option<Span>) {
        if let Some(span) = closed {
            self.count(&span);
            self.pending.push(span);
            self.flush();
        }
    }

    /// A closed span counts towards the limits (its part in recording hours).
    fn count(&mut self, span: &Span) {
        if span.activity.is_social() {
            for piece in self.clip(std::slice::from_ref(span)) {
                self.remind.record(&piece, self.tz);
            }
        }
    }

    /// The start of the open span, when it is on a social site.
    fn open_social(&self) -> Option<DateTime<Utc>> {
        match self.tracker.current() {
            Some(a) if a.is_social() => self.tracker.open_since(),
            _ => None,
        }
    }

    /// Lets the reminder policy look at the current moment.
    fn remind_tick(&mut self) {
        let now = self.clock.now();
        // While calibrating, dwell records but does not remind.
        let calibrating = self.calibrating_until.is_some_and(|end| now < end);
        let open = self.open_social().filter(|_| !calibrating);
        self.remind.tick(&mut self.store, now, open, self.tz);
    }

    fn on_notify(&mut self, ev: NotifyEvent) {
        let now = self.clock.now();
        self.remind.on_event(&mut self.store, ev, now, self.tz);
    }

    /// A choice from the tray's menu. A pause or a resume is stored as
    /// `dwell-agent pause` / `resume` store it, then taken in as their
    /// `SIGUSR1` is.
    fn on_tray(&mut self, ev: TrayEvent) {
        let now = self.clock.now();
        let stored = match ev {
            TrayEvent::PauseHour => match control::parse_pause(control::DEFAULT_PAUSE, now) {
                Ok(pause) => control::set_pause(&self.store, pause),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot pause from the tray");
                    return;
                }
            },
            TrayEvent::PauseUntilTomorrow => {
                let tomorrow =
                    dwell_core::schedule::local_date(now, self.tz) + chrono::Days::new(1);
                let (midnight, _) = dwell_core::schedule::local_day_bounds(tomorrow, self.tz);
                control::set_pause(&self.store, control::Pause::Until(midnight))
            }
            TrayEvent::Resume => control::clear_pause(&self.store),
            TrayEvent::ReportToday | TrayEvent::ReportWeek => {
                let period = if ev == TrayEvent::ReportToday {
                    crate::remind::ReportPeriod::Today
                } else {
                    crate::remind::ReportPeriod::Week
                };
                let data_dir = self.store.path().parent().map(|p| p.to_owned());
                let (lang, requests) = self.remind.opener_context();
                crate::remind::open_report(data_dir, period, lang, requests, |_| {});
                return;
            }
            TrayEvent::Settings => {
                crate::tray::open_settings(self.config_path.clone());
                return;
            }
            TrayEvent::Snooze | TrayEvent::DoneForToday => {
                let request = match ev {
                    TrayEvent::Snooze => control::Request::Snooze(None),
                    _ => control::Request::DoneForToday,
                };
                self.remind
                    .apply_request(&mut self.store, request, now, self.tz);
                return;
            }
        };
        match stored {
            Ok(()) => self.on_control(),
            Err(e) => tracing::warn!(error = %e, "cannot store the pause chosen in the tray"),
        }
    }

    /// Sends the tray what it shows now, when that changed: today's figure
    /// from the usage ledger (as `status` and the reminders count it) and the
    /// pause.
    fn show_tray(&mut self) {
        let Some(tx) = &self.tray else {
            return;
        };
        let now = self.clock.now();
        let figures = self.remind.figures(now, self.open_social(), self.tz);
        let pause = self.pause.map(|p| match p.until() {
            Some(t) => crate::tray::PauseNote::Until(dwell_core::text::moment(t, now, self.tz)),
            None => crate::tray::PauseNote::Indefinite,
        });
        let mut state = crate::tray::state(figures.today, figures.daily_limit, pause);
        let over = !figures.daily_limit.is_zero() && figures.today >= figures.daily_limit;
        state.reminder_actions = self.remind.offers_actions(now, over, self.tz);
        tx.send_if_modified(|shown| {
            let changed = *shown != state;
            if changed {
                *shown = state;
            }
            changed
        });
    }

    /// Re-reports the focused activity once observation is possible again.
    fn resume(&mut self, at: DateTime<Utc>) {
        if self.observing() {
            self.tracker.apply(Event::Back { at });
            let activity = self.focus.clone();
            self.close(Event::Focus { at, activity });
            self.last_idle = None;
            // Check idleness soon: the employee may have left meanwhile.
            self.idle_at = Some(Instant::now());
        }
    }

    fn on_watch(&mut self, ev: WatchEvent) {
        let now = self.clock.now();
        // "No window" only counts once it has lasted (see NO_WINDOW_SETTLES);
        // any other news first settles it (a browser tab report is not news
        // about which window has focus).
        if !matches!(
            ev,
            WatchEvent::Focus(Some(_))
                | WatchEvent::Tab { .. }
                | WatchEvent::TabGone { .. }
                | WatchEvent::PauseResult(_)
        ) {
            self.settle_no_window();
        }
        match ev {
            WatchEvent::Connected => {
                self.x_connected = true;
                self.resume(now);
            }
            WatchEvent::Gone => {
                self.x_connected = false;
                self.close(Event::Away { at: now });
            }
            // Handled in the loop, which owns the idle source.
            WatchEvent::IdleChanged => {}
            WatchEvent::Locked(locked) => {
                if locked {
                    self.close(Event::Away { at: now });
                    self.locked = true;
                } else {
                    self.locked = false;
                    self.resume(now);
                }
            }
            WatchEvent::Sleeping(sleeping) => {
                if sleeping {
                    self.close(Event::Away { at: now });
                    self.asleep = true;
                } else {
                    self.asleep = false;
                    self.resume(now);
                }
            }
            WatchEvent::GnomeExtension(report) => {
                let json = report.and_then(|r| serde_json::to_string(&r).ok());
                let res = match &json {
                    Some(j) => self.store.meta_set(GNOME_EXTENSION_KEY, j),
                    None => self.store.meta_delete(GNOME_EXTENSION_KEY),
                };
                if let Err(e) = res {
                    tracing::warn!(error = %e, "cannot store the GNOME extension's state for status");
                }
            }
            WatchEvent::Hint(hint) => {
                let res = match &hint {
                    Some(h) => self.store.meta_set(HINT_KEY, h),
                    None => self.store.meta_delete(HINT_KEY),
                };
                if let Err(e) = res {
                    tracing::warn!(error = %e, "cannot store the watcher hint for status");
                }
            }
            WatchEvent::Focus(None) if self.observing() && self.tracker.current().is_some() => {
                if self.no_window.is_none() {
                    self.no_window = Some((now, Instant::now() + NO_WINDOW_SETTLES));
                }
            }
            WatchEvent::Focus(window) => {
                self.no_window = None;
                self.remind.desk.fullscreen = window.as_ref().is_some_and(|w| w.fullscreen);
                let activity = self.activity_of(window.as_ref());
                self.window = window;
                tracing::debug!(?activity, "focus");
                self.focus = activity.clone();
                if self.observing() {
                    let was_open = self.tracker.current().is_some();
                    self.close(Event::Focus { at: now, activity });
                    if !was_open && self.tracker.current().is_some() && self.idle_at.is_none() {
                        self.idle_at = Some(Instant::now());
                    }
                }
            }
            WatchEvent::Tab {
                browser,
                sender,
                facts,
                reply,
            } => {
                if self.browsers.tab(&browser, &sender, facts, now) {
                    tracing::info!(browser = %browser, "browser extension connected");
                    self.store_browsers(now, true);
                } else {
                    self.browsers_stored.1 = true;
                    self.store_browsers(now, false);
                }
                let before = self.focus.clone();
                self.refocus(now);
                reply.send(self.pause_page(before.as_ref(), now));
            }
            // Handled in the loop, which stops.
            WatchEvent::Untrackable(_) => {}
            WatchEvent::PauseResult(outcome) => {
                self.remind.pause_result(&mut self.store, outcome);
            }
            WatchEvent::TabGone { sender } => {
                if self.browsers.gone(&sender) {
                    tracing::info!("a browser extension disconnected");
                    self.store_browsers(now, true);
                    self.refocus(now);
                }
            }
        }
    }

    /// The browser extension's pause page, when a tab report has just made a
    /// social site the focused activity (it was `before`): with `[reminders]
    /// pause_page` on, while recording, not paused and not calibrating, the
    /// reminders decide (see [`crate::remind::Reminding::pause_page`]).
    fn pause_page(
        &mut self,
        before: Option<&Activity>,
        now: DateTime<Utc>,
    ) -> Option<crate::native_host::Pause> {
        if !self.config.reminders.pause_page || !self.observing() {
            return None;
        }
        let Some(Activity::Social(site)) = &self.focus else {
            return None;
        };
        if before == self.focus.as_ref() || self.calibrating_until.is_some_and(|end| now < end) {
            return None;
        }
        let site = site.clone();
        let open = self.open_social();
        self.remind
            .pause_page(&mut self.store, now, &site, open, self.tz)
    }

    /// What the focused window counts as: for a browser whose extension is
    /// connected, its active tab's host name (a private window, or a browser
    /// window the extension cannot see, counts as nothing); else the window
    /// rules.
    fn activity_of(&self, window: Option<&WindowInfo>) -> Option<Activity> {
        let window = window?;
        match self.browsers.for_window(window) {
            Some(tab) if tab.private || !tab.focused => None,
            Some(tab) => Some(
                tab.host
                    .as_deref()
                    .map_or(Activity::Other, |h| self.config.classifier.classify_host(h)),
            ),
            None => Some(self.config.classifier.classify(window)),
        }
    }

    /// The browser extension's news may change what the focused window counts
    /// as (another tab, another host, a tab that started playing sound).
    fn refocus(&mut self, now: DateTime<Utc>) {
        if self.no_window.is_some() {
            return;
        }
        let activity = self.activity_of(self.window.as_ref());
        tracing::debug!(?activity, "tab");
        if activity != self.focus {
            self.focus = activity.clone();
            if self.observing() {
                let was_open = self.tracker.current().is_some();
                self.close(Event::Focus { at: now, activity });
                if !was_open && self.tracker.current().is_some() && self.idle_at.is_none() {
                    self.idle_at = Some(Instant::now());
                }
            }
        }
        // Audible or not changes the idle timeout: look again.
        if self.observing() && (self.tracker.current().is_some() || self.tracker.is_idle()) {
            self.idle_at = Some(Instant::now());
        }
    }

    /// Writes the browsers' state for `status`: at once when `at_once`
    /// (a connection changed), else at most every [`BROWSERS_STORE_EVERY`].
    fn store_browsers(&mut self, now: DateTime<Utc>, at_once: bool) {
        let due = self
            .browsers_stored
            .0
            .is_none_or(|t| now - t >= BROWSERS_STORE_EVERY || now < t);
        if !(at_once || (self.browsers_stored.1 && due)) {
            return;
        }
        match self
            .store
            .meta_set(BROWSERS_KEY, &self.browsers.status_json())
        {
            Ok(()) => self.browsers_stored = (Some(now), false),
            Err(e) => tracing::warn!(error = %e, "cannot store the browsers' state for status"),
        }
    }

    /// The idle timeout now: longer while an audible social tab has focus.
    fn idle_timeout(&self) -> Duration {
        let base = self.config.tracking.idle_timeout;
        let media = self.focus.as_ref().is_some_and(Activity::is_social)
            && self
                .window
                .as_ref()
                .and_then(|w| self.browsers.for_window(w))
                .is_some_and(|tab| tab.audible && tab.focused && !tab.private);
        if media {
            base.max(self.config.tracking.media_idle_timeout)
        } else {
            base
        }
    }

    /// Applies a "no window" that has lasted long enough, dated when it came.
    fn settle_no_window(&mut self) {
        if let Some((at, _)) = self.no_window.take() {
            self.remind.desk.fullscreen = false;
            self.window = None;
            self.focus = None;
            tracing::debug!("focus: no window");
            if self.observing() {
                self.close(Event::Focus { at, activity: None });
            }
        }
    }

    fn on_idle_check(&mut self, idle: &mut dyn IdleSource) {
        self.idle_at = None;
        if !self.observing() {
            return;
        }
        let timeout = self.idle_timeout();
        let now = self.clock.now();
        self.idle_pushes = idle.pushes();
        let Some(idle_for) = idle.idle_for() else {
            // Cannot tell: keep counting, look again after a timeout.
            self.last_idle = None;
            if self.tracker.current().is_some() {
                self.idle_at = Some(Instant::now() + timeout);
            }
            return;
        };
        let since = |d: Duration| now - chrono::Duration::from_std(d).unwrap_or_default();
        let base = self.config.tracking.idle_timeout;
        if self.tracker.is_idle() {
            if self.last_idle.is_some_and(|prev| idle_for < prev) || idle_for < base {
                self.close(Event::Input {
                    at: since(idle_for),
                });
            }
        } else if idle_for >= timeout {
            tracing::debug!("idle");
            // An audible tab kept the employee there up to the media timeout.
            let last_input = if timeout > base {
                since(idle_for.saturating_sub(timeout))
            } else {
                since(idle_for)
            };
            self.close(Event::Idle { last_input });
        }
        self.last_idle = Some(idle_for);
        // A pushing source says when input stops (after PUSH_AFTER) and starts
        // again: no timer until then.
        let pushed = self.idle_pushes;
        self.idle_at = if self.tracker.is_idle() {
            (!pushed).then(|| Instant::now() + IDLE_POLL)
        } else if self.tracker.current().is_some() && !(pushed && idle_for < PUSH_AFTER) {
            Some(Instant::now() + (timeout.saturating_sub(idle_for)).max(IDLE_POLL))
        } else {
            None
        };
    }

    /// Keeps the idle timer armed exactly when something can change.
    fn arm_idle(&mut self) {
        if !self.observing() || (self.tracker.current().is_none() && !self.tracker.is_idle()) {
            self.idle_at = None;
        }
    }

    fn arm_checkpoint(&mut self) {
        if self.tracker.current().is_none() && self.pending.is_empty() {
            self.checkpoint_at = None;
        } else if self.checkpoint_at.is_none() {
            // Counted from the moment this pass woke (when a new span was dated,
            // or the last checkpoint read the clock), not from when its work
            // ended: however long classifying or writing took, a crash loses at
            // most CHECKPOINT_EVERY plus this checkpoint's own write (MAX_LOSS).
            self.checkpoint_at = Some(self.awake.1 + CHECKPOINT_EVERY);
        }
    }

    fn arm_edge(&mut self) {
        let now = self.clock.now();
        let wait = self
            .config
            .schedule
            .next_boundary(now, self.tz)
            .and_then(|at| (at - now).to_std().ok())
            .unwrap_or(MAX_EDGE_SLEEP)
            .min(MAX_EDGE_SLEEP);
        self.edge_at = Some(Instant::now() + wait);
    }

    fn on_edge(&mut self) {
        let now = self.clock.now();
        let recording = self.config.schedule.is_recording(now, self.tz);
        if recording != self.recording {
            self.recording = recording;
            tracing::info!(recording, "recording hours edge");
            if recording {
                self.resume(now);
            } else {
                self.close(Event::Away { at: now });
            }
        }
        self.arm_edge();
    }

    /// A suspend stops the monotonic clock but not the wall clock: if the wall
    /// clock moved much further than tokio's since the last wake, close the open
    /// span at the last moment seen awake and start again from now.
    fn check_jump(&mut self) {
        let (wall, mono) = self.awake;
        let expected = wall + chrono::Duration::from_std(mono.elapsed()).unwrap_or_default();
        let now = self.clock.now();
        let step = now - expected;
        if step > STEP || step < -STEP {
            tracing::info!(
                step_seconds = step.num_seconds(),
                "the wall clock stepped (a clock change, or a suspend); the open span restarts at the new time"
            );
            let closed = self.tracker.step(expected, now);
            self.keep(closed);
            // After a suspend the employee may be away: look soon.
            if self.tracker.current().is_some() {
                self.idle_at = Some(Instant::now());
            }
            let recording = self.config.schedule.is_recording(now, self.tz);
            if recording != self.recording {
                self.recording = recording;
                if recording {
                    self.resume(now);
                } else {
                    self.close(Event::Away { at: now });
                }
            }
            self.arm_edge();
        }
        self.awake = (now, Instant::now());
    }

    /// Writes pending spans and the open span as it stands now.
    fn checkpoint(&mut self) {
        self.checkpoint_at = None;
        let now = self.clock.now();
        self.store_browsers(now, false);
        let mut spans: Vec<Span> = self.pending.drain(..).collect();
        spans.extend(self.tracker.open_span(now));
        self.write(spans);
    }

    fn flush(&mut self) {
        let spans: Vec<Span> = self.pending.drain(..).collect();
        self.write(spans);
    }

    /// Clips to recording hours, splits at local midnight, writes. On failure the
    /// closed spans are kept for the next try; the open one is rewritten anyway.
    /// If the employee forgot something since the last write, what it removed
    /// is dropped from memory first, so it is never written back.
    fn write(&mut self, mut spans: Vec<Span>) {
        // A second forget between two tries is rare; a third one waits for the
        // next checkpoint.
        for _ in 0..3 {
            if spans.is_empty() {
                return;
            }
            let pieces = self.clip(&spans);
            // The open span as written before may reach further than it does
            // now (idleness cut it back): its later pieces go.
            let retract = self.open_written.and_then(|(start, end)| {
                spans
                    .iter()
                    .find(|s| s.start == start && s.end < end)
                    .map(|s| (s.end, end))
            });
            match self
                .store
                .put_spans_retracting(self.forget_seq, &pieces, retract)
            {
                Ok(Put::Written) => {
                    let open = self.tracker.open_since();
                    self.open_written = spans
                        .iter()
                        .find(|s| Some(s.start) == open)
                        .map(|s| (s.start, s.end))
                        .or(self.open_written.filter(|(start, _)| Some(*start) == open));
                    if self.write_failed {
                        tracing::info!("writing to the database works again");
                        self.write_failed = false;
                        if let Some(h) = &self.health {
                            h.writes_failing(None);
                        }
                    }
                    return;
                }
                Ok(Put::Forgotten(entries)) => spans = self.apply_forgets(spans, &entries),
                Err(e @ StoreError::Damaged { .. }) => {
                    self.store_failed(e);
                    return;
                }
                Err(e) => {
                    if !self.write_failed {
                        tracing::error!(
                            "cannot write to the database ({}); what is seen stays in memory and dwell tries again by itself",
                            while_running(&e)
                        );
                        self.write_failed = true;
                        if let Some(h) = &self.health {
                            h.writes_failing(Some(self.clock.now()));
                        }
                    }
                    self.keep_closed(spans);
                    return;
                }
            }
        }
        self.keep_closed(spans);
    }

    /// Keeps the closed spans among `spans` for the next write (the open one is
    /// rewritten from the tracker anyway).
    fn keep_closed(&mut self, spans: Vec<Span>) {
        let open_start = self.tracker.open_since();
        self.pending
            .extend(spans.into_iter().filter(|s| Some(s.start) != open_start));
    }

    /// Drops from `spans` (and from the open span) what `entries` erased.
    fn apply_forgets(&mut self, spans: Vec<Span>, entries: &[ForgetEntry]) -> Vec<Span> {
        let now = self.clock.now();
        let open_start = self.tracker.open_since();
        let (open, mut closed): (Vec<Span>, Vec<Span>) =
            spans.into_iter().partition(|s| Some(s.start) == open_start);
        let store = &self.store;
        let known = |label: &str| store.cached_site_id(label);
        let mut restart = None;
        for entry in entries {
            closed = closed
                .into_iter()
                .flat_map(|s| entry.keep(s, &known))
                .collect();
            if let Some(open) = self.tracker.open_span(now) {
                if let Some(at) = entry.restart(&open, &known) {
                    restart = Some(restart.map_or(at, |r: DateTime<Utc>| r.max(at)));
                }
            }
            self.forget_seq = self.forget_seq.max(entry.seq);
        }
        tracing::info!(
            forgets = entries.len(),
            restarted = restart.is_some(),
            "data was forgotten while running; dropped it from memory too"
        );
        if let Some(at) = restart {
            self.tracker.restart_at(at.min(now));
        }
        self.store.clear_site_cache();
        // Count again what is left: the store, and what is about to join it.
        self.remind.recount(&self.store, now, self.tz);
        for span in &closed {
            self.count(span);
        }
        if !open.is_empty() {
            closed.extend(self.tracker.open_span(now));
        }
        closed
    }

    /// The parts of `spans` in recording hours, split at local midnight.
    fn clip(&self, spans: &[Span]) -> Vec<Span> {
        spans
            .iter()
            .flat_map(|s| {
                self.config
                    .schedule
                    .clip(s.start, s.end, self.tz)
                    .into_iter()
                    .map(move |(start, end)| Span {
                        start,
                        end,
                        activity: s.activity.clone(),
                        source: s.source,
                    })
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::clock::TokioClock;
    use dwell_core::WindowInfo;
    use std::sync::{Arc, Mutex};

    /// Idle source driven by the test: the time of the last input.
    #[derive(Clone)]
    struct FakeIdle {
        last_input: Arc<Mutex<Instant>>,
    }
    impl IdleSource for FakeIdle {
        fn idle_for(&mut self) -> Option<Duration> {
            Some(Instant::now() - *self.last_input.lock().unwrap())
        }
    }

    fn browser(title: &str) -> Option<WindowInfo> {
        Some(WindowInfo {
            class: "Chromium".into(),
            instance: "chromium".into(),
            title: title.into(),
            process: None,
            fullscreen: false,
        })
    }

    fn editor() -> Option<WindowInfo> {
        Some(WindowInfo {
            class: "Code".into(),
            instance: "code".into(),
            title: "main.rs".into(),
            process: None,
            fullscreen: false,
        })
    }

    fn always() -> Config {
        Config::parse(
            "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"2m\"\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap()
    }

    /// 2026-11-24 10:00 UTC, a Tuesday.
    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap()
    }

    async fn replay(
        config: Config,
        script: impl FnOnce(mpsc::Sender<WatchEvent>, FakeIdle) -> futures_like::BoxFut,
    ) -> (tempfile::TempDir, Vec<Span>) {
        replay_in(tempfile::tempdir().unwrap(), config, script).await
    }

    async fn replay_in(
        dir: tempfile::TempDir,
        config: Config,
        script: impl FnOnce(mpsc::Sender<WatchEvent>, FakeIdle) -> futures_like::BoxFut,
    ) -> (tempfile::TempDir, Vec<Span>) {
        replay_from(start(), dir, config, script).await
    }

    async fn replay_from(
        wall: DateTime<Utc>,
        dir: tempfile::TempDir,
        config: Config,
        script: impl FnOnce(mpsc::Sender<WatchEvent>, FakeIdle) -> futures_like::BoxFut,
    ) -> (tempfile::TempDir, Vec<Span>) {
        let store = Store::open(dir.path()).unwrap();
        let (tx, rx) = mpsc::channel(16);
        let idle = FakeIdle {
            last_input: Arc::new(Mutex::new(Instant::now())),
        };
        let clock = TokioClock::starting_at(wall);
        let sources = Sources {
            watch: rx,
            idle: Box::new(idle.clone()),
            control: None,
            config_path: None,
            about: Default::default(),
        };
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let script = script(tx, idle);
        let driver = async move {
            script.await;
            let _ = stop_tx.send(());
        };
        let (res, ()) = tokio::join!(
            run_with(config, store, sources, &clock, &Utc, async {
                let _ = stop_rx.await;
            }),
            driver
        );
        res.unwrap();
        let store = Store::open(dir.path()).unwrap();
        let spans = store
            .spans(
                wall - chrono::Duration::days(1),
                wall + chrono::Duration::days(3),
            )
            .unwrap();
        (dir, spans)
    }

    mod futures_like {
        pub type BoxFut = std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>;
    }

    fn secs(spans: &[Span], site: Option<&str>) -> f64 {
        spans
            .iter()
            .filter(|s| s.activity.site() == site)
            .map(|s| s.seconds())
            .sum()
    }

    async fn at(t0: Instant, secs: u64) {
        tokio::time::sleep_until(t0 + Duration::from_secs(secs)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn counts_switches_to_the_second() {
        let (_d, spans) = replay(always(), |tx, idle| {
            Box::pin(async move {
                let t0 = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Home / X - Chromium")))
                    .await
                    .unwrap();
                at(t0, 50).await;
                *idle.last_input.lock().unwrap() = Instant::now();
                tx.send(WatchEvent::Focus(editor())).await.unwrap();
                at(t0, 100).await;
                *idle.last_input.lock().unwrap() = Instant::now();
                tx.send(WatchEvent::Focus(browser("r/rust - Reddit - Chromium")))
                    .await
                    .unwrap();
                at(t0, 130).await;
            })
        })
        .await;
        assert_eq!(secs(&spans, Some("x.com")), 50.0);
        assert_eq!(secs(&spans, None), 50.0);
        assert_eq!(secs(&spans, Some("reddit.com")), 30.0);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_is_cut_back_to_the_last_input() {
        let (_d, spans) = replay(always(), |tx, idle| {
            Box::pin(async move {
                let t0 = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                at(t0, 30).await;
                *idle.last_input.lock().unwrap() = Instant::now(); // last input at 30
                at(t0, 600).await; // away for ages
                *idle.last_input.lock().unwrap() = Instant::now(); // back at 600
                at(t0, 660).await;
            })
        })
        .await;
        // 0..30, then 600..660 (input noticed within the 1 s poll, dated exactly).
        assert_eq!(secs(&spans, Some("facebook.com")), 90.0, "{spans:?}");
    }

    fn tab(host: Option<&str>, private: bool, audible: bool) -> WatchEvent {
        WatchEvent::Tab {
            browser: "chromium".into(),
            sender: ":1.7".into(),
            facts: crate::native_host::TabFacts {
                host: host.map(str::to_owned),
                private,
                audible,
                focused: true,
            },
            reply: Default::default(),
        }
    }

    /// A tab report on `host` and the run loop's answer to it.
    async fn tab_answer(
        tx: &mpsc::Sender<WatchEvent>,
        host: &str,
    ) -> Option<crate::native_host::Pause> {
        let (reply, answer) = crate::native_host::Answer::new();
        let WatchEvent::Tab {
            browser,
            sender,
            facts,
            ..
        } = tab(Some(host), false, false)
        else {
            unreachable!()
        };
        tx.send(WatchEvent::Tab {
            browser,
            sender,
            facts,
            reply,
        })
        .await
        .unwrap();
        answer.await.unwrap_or(None)
    }

    type Answers = Arc<Mutex<Vec<(u64, &'static str, bool)>>>;

    /// Over a 20 s daily limit, a switch to a social tab gets the pause page
    /// once per site per `repeat_over`; the choice is stored.
    async fn pause_replay(extra: &str) -> (Vec<dwell_core::model::ReminderRecord>, Answers) {
        let config = Config::parse(
            &format!(
                "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"1h\"\n\
                 [limits]\ndaily = \"20s\"\nstreak = \"1h\"\nweekly = \"10h\"\n\
                 [reminders]\nlanguage = \"fr\"\nmin_gap = \"1s\"\nrepeat_over = \"2m\"\n{extra}"
            ),
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let answers: Answers = Arc::default();
        let seen = answers.clone();
        let (dir, _spans) = replay(config, move |tx, _idle| {
            Box::pin(async move {
                let t0 = Instant::now();
                let ask = |s: u64, host: &'static str, pause: Option<crate::native_host::Pause>| {
                    if let Some(p) = &pause {
                        assert_eq!(
                            (p.limit.as_str(), p.lang.as_str(), p.continue_label.as_str()),
                            ("20\u{a0}s", "fr", "Continuer"),
                            "{p:?}"
                        );
                        assert!(!p.line.is_empty() && !p.line.contains(host), "{p:?}");
                    }
                    seen.lock().unwrap().push((s, host, pause.is_some()));
                };
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("New Tab")))
                    .await
                    .unwrap();
                ask(
                    0,
                    "www.facebook.com",
                    tab_answer(&tx, "www.facebook.com").await,
                );
                at(t0, 30).await;
                ask(
                    30,
                    "docs.example.com",
                    tab_answer(&tx, "docs.example.com").await,
                );
                ask(
                    30,
                    "www.facebook.com",
                    tab_answer(&tx, "www.facebook.com").await,
                );
                tx.send(WatchEvent::PauseResult(
                    crate::native_host::PauseOutcome::Closed,
                ))
                .await
                .unwrap();
                at(t0, 40).await;
                ask(
                    40,
                    "docs.example.com",
                    tab_answer(&tx, "docs.example.com").await,
                );
                ask(
                    40,
                    "m.facebook.com",
                    tab_answer(&tx, "m.facebook.com").await,
                );
                ask(
                    40,
                    "old.reddit.com",
                    tab_answer(&tx, "old.reddit.com").await,
                );
                tx.send(WatchEvent::PauseResult(
                    crate::native_host::PauseOutcome::Continued,
                ))
                .await
                .unwrap();
                at(t0, 200).await;
                ask(
                    200,
                    "docs.example.com",
                    tab_answer(&tx, "docs.example.com").await,
                );
                ask(
                    200,
                    "www.facebook.com",
                    tab_answer(&tx, "www.facebook.com").await,
                );
                at(t0, 201).await;
            })
        })
        .await;
        let recs = Store::open(dir.path())
            .unwrap()
            .reminders(start(), start() + chrono::Duration::hours(1))
            .unwrap()
            .into_iter()
            .filter(|r| r.kind == "pause_page")
            .collect();
        (recs, answers)
    }

    #[tokio::test(start_paused = true)]
    async fn over_the_limit_a_social_tab_gets_the_pause_page_once_per_site() {
        let (recs, answers) = pause_replay("pause_page = true\n").await;
        let shown: Vec<(u64, &str)> = answers
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.2)
            .map(|a| (a.0, a.1))
            .collect();
        // Under the limit at 0; at 30 Facebook; at 40 not Facebook again (same
        // site, another host), Reddit yes; after repeat_over Facebook again.
        assert_eq!(
            shown,
            vec![
                (30, "www.facebook.com"),
                (40, "old.reddit.com"),
                (200, "www.facebook.com")
            ]
        );
        let outcomes: Vec<(i64, &str)> = recs
            .iter()
            .map(|r| ((r.at - start()).num_seconds(), r.outcome.as_str()))
            .collect();
        assert_eq!(
            outcomes,
            vec![(30, "closed"), (40, "continued"), (200, "shown")]
        );
        assert!(recs
            .iter()
            .all(|r| r.message.as_deref().is_some_and(|m| m.starts_with("fr-"))));
    }

    #[tokio::test(start_paused = true)]
    async fn no_pause_page_unless_asked_for() {
        let (recs, answers) = pause_replay("").await;
        assert!(answers.lock().unwrap().iter().all(|a| !a.2));
        assert!(recs.is_empty(), "{recs:?}");
        let (recs, answers) = pause_replay("pause_page = true\nenabled = false\n").await;
        assert!(answers.lock().unwrap().iter().all(|a| !a.2));
        assert!(recs.is_empty(), "{recs:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_connected_extension_counts_by_host_not_title() {
        let (_d, spans) = replay(always(), |tx, _idle| {
            Box::pin(async move {
                let t0 = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                // The title names Facebook, but the tab is on old.reddit.com.
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                at(t0, 10).await;
                tx.send(tab(Some("old.reddit.com"), false, false))
                    .await
                    .unwrap();
                at(t0, 30).await;
                // A page whose title names no site: counted by its host.
                tx.send(tab(Some("mastodon.social"), false, false))
                    .await
                    .unwrap();
                at(t0, 45).await;
                tx.send(tab(Some("docs.example.com"), false, false))
                    .await
                    .unwrap();
                at(t0, 50).await;
                // A private window: not counted at all.
                tx.send(tab(None, true, false)).await.unwrap();
                at(t0, 70).await;
                // The host left: the title counts again.
                tx.send(WatchEvent::TabGone {
                    sender: ":1.7".into(),
                })
                .await
                .unwrap();
                at(t0, 80).await;
            })
        })
        .await;
        assert_eq!(secs(&spans, Some("facebook.com")), 20.0, "{spans:?}");
        assert_eq!(secs(&spans, Some("reddit.com")), 20.0, "{spans:?}");
        assert_eq!(secs(&spans, Some("mastodon")), 15.0, "{spans:?}");
        assert_eq!(secs(&spans, None), 5.0, "{spans:?}");
        // Seen through the extension, or through the window's title.
        for s in &spans {
            let want = match s.activity.site() {
                Some("facebook.com") => Source::X11,
                _ => Source::Extension,
            };
            assert_eq!(s.source, want, "{s:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_audible_social_tab_counts_through_idleness_up_to_the_media_timeout() {
        let mut config = always();
        config.tracking.idle_timeout = Duration::from_secs(60);
        config.tracking.media_idle_timeout = Duration::from_secs(600);
        let (_d, spans) = replay(config, |tx, idle| {
            Box::pin(async move {
                let t0 = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("New Tab")))
                    .await
                    .unwrap();
                tx.send(tab(Some("www.youtube.com"), false, true))
                    .await
                    .unwrap();
                *idle.last_input.lock().unwrap() = Instant::now();
                // No input from here on: counted for 600 s, then cut back.
                at(t0, 1000).await;
            })
        })
        .await;
        // Counted up to the media timeout after the last input, not beyond.
        assert_eq!(secs(&spans, Some("youtube.com")), 600.0, "{spans:?}");
    }

    /// Replays `script` with a wall clock the script can step, and the
    /// notification channels (nothing shows: events are the script's).
    async fn replay_stepped(
        script: impl FnOnce(
            mpsc::Sender<WatchEvent>,
            mpsc::Sender<NotifyEvent>,
            crate::clock::SteppedClock,
        ) -> futures_like::BoxFut,
    ) -> Vec<Span> {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (tx, rx) = mpsc::channel(16);
        let (ev_tx, ev_rx) = mpsc::channel(16);
        let (req_tx, mut req_rx) = mpsc::channel(16);
        // Answer nothing: requests are dropped.
        tokio::spawn(async move { while req_rx.recv().await.is_some() {} });
        let idle = FakeIdle {
            last_input: Arc::new(Mutex::new(Instant::now())),
        };
        let clock = crate::clock::SteppedClock::starting_at(start());
        let sources = Sources {
            watch: rx,
            idle: Box::new(idle),
            control: None,
            config_path: None,
            about: Default::default(),
        };
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let script = script(tx, ev_tx, clock.clone());
        let driver = async move {
            script.await;
            let _ = stop_tx.send(());
        };
        let config = Config::parse(
            "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"1h\"\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let notifications = Notifications {
            requests: req_tx,
            events: ev_rx,
        };
        let (res, ()) = tokio::join!(
            run_with_notifications(
                config,
                store,
                sources,
                Some(notifications),
                &clock,
                &Utc,
                async {
                    let _ = stop_rx.await;
                }
            ),
            driver
        );
        res.unwrap();
        Store::open(dir.path())
            .unwrap()
            .spans(
                start() - chrono::Duration::days(1),
                start() + chrono::Duration::days(1),
            )
            .unwrap()
    }

    fn no_empty_or_negative(spans: &[Span]) {
        for s in spans {
            assert!(s.end > s.start, "an empty or negative span: {spans:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_clock_stepped_back_loses_nothing() {
        let spans = replay_stepped(|tx, _ev, clock| {
            Box::pin(async move {
                let t0 = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                at(t0, 25).await;
                clock.step(-chrono::Duration::seconds(3625));
                at(t0, 60).await;
            })
        })
        .await;
        no_empty_or_negative(&spans);
        let got = secs(&spans, Some("facebook.com"));
        assert!((59.0..=60.0).contains(&got), "{got} s: {spans:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_clock_stepped_forward_loses_at_most_a_second() {
        let spans = replay_stepped(|tx, _ev, clock| {
            Box::pin(async move {
                let t0 = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                at(t0, 25).await;
                clock.step(chrono::Duration::hours(1));
                at(t0, 60).await;
            })
        })
        .await;
        no_empty_or_negative(&spans);
        let got = secs(&spans, Some("facebook.com"));
        assert!((59.0..=60.0).contains(&got), "{got} s: {spans:?}");
    }

    /// A suspend first noticed through a notification event (the reminder
    /// expiring) is not counted.
    #[tokio::test(start_paused = true)]
    async fn a_suspend_seen_first_by_a_notification_is_not_counted() {
        let spans = replay_stepped(|tx, ev, clock| {
            Box::pin(async move {
                let t0 = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                at(t0, 5).await;
                clock.step(chrono::Duration::hours(2));
                ev.send(NotifyEvent::Closed { id: 1, reason: 1 })
                    .await
                    .unwrap();
                at(t0, 6).await;
            })
        })
        .await;
        no_empty_or_negative(&spans);
        let got = secs(&spans, Some("facebook.com"));
        assert!((5.0..=6.0).contains(&got), "{got} s: {spans:?}");
    }

    /// A suspend, then the agent is stopped before anything else wakes it.
    #[tokio::test(start_paused = true)]
    async fn a_suspend_right_before_shutdown_is_not_counted() {
        let spans = replay_stepped(|tx, _ev, clock| {
            Box::pin(async move {
                let t0 = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                at(t0, 5).await;
                clock.step(chrono::Duration::hours(2));
            })
        })
        .await;
        no_empty_or_negative(&spans);
        let got = secs(&spans, Some("facebook.com"));
        assert!((4.0..=5.0).contains(&got), "{got} s: {spans:?}");
    }

    /// A span written across midnight by checkpoints, then cut back by
    /// idleness to before midnight, leaves nothing after midnight.
    #[tokio::test(start_paused = true)]
    async fn idle_cut_back_across_midnight_leaves_no_phantom() {
        let config = Config::parse(
            "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"1m\"\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let wall = Utc.with_ymd_and_hms(2026, 11, 24, 23, 59, 30).unwrap();
        let (_d, spans) = replay_from(wall, tempfile::tempdir().unwrap(), config, |tx, idle| {
            Box::pin(async move {
                let t0 = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                at(t0, 10).await;
                *idle.last_input.lock().unwrap() = Instant::now(); // the last input: 23:59:40
                at(t0, 100).await;
            })
        })
        .await;
        assert_eq!(secs(&spans, Some("facebook.com")), 10.0, "{spans:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_blink_of_no_window_is_not_a_change() {
        let (_d, spans) = replay(always(), |tx, idle| {
            Box::pin(async move {
                let t0 = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                at(t0, 10).await;
                // A switch reported as "none" then the same window, 100 ms apart.
                tx.send(WatchEvent::Focus(None)).await.unwrap();
                tokio::time::sleep(Duration::from_millis(100)).await;
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                at(t0, 20).await;
                // A real "no window" for 5 s.
                *idle.last_input.lock().unwrap() = Instant::now();
                tx.send(WatchEvent::Focus(None)).await.unwrap();
                at(t0, 25).await;
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                at(t0, 30).await;
            })
        })
        .await;
        assert_eq!(
            spans
                .iter()
                .map(|s| (
                    (s.start - start()).num_seconds(),
                    (s.end - start()).num_seconds()
                ))
                .collect::<Vec<_>>(),
            vec![(0, 20), (25, 30)],
            "{spans:?}"
        );
    }

    /// Every value `config check` accepts runs: the longest durations too.
    #[tokio::test(start_paused = true)]
    async fn the_longest_durations_the_config_accepts_run() {
        let config = Config::parse(
            "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"3650d\"\ncalibrate = \"3650d\"\n\
             [limits]\ndaily = \"3650d\"\nstreak = \"3650d\"\nweekly = \"3650d\"\nstreak_gap = \"3650d\"\n\
             [reminders]\nrepeat_over = \"3650d\"\nmin_gap = \"3650d\"\nsnooze = \"3650d\"\n[data]\nkeep = \"3650d\"\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let (_d, spans) = replay(config, |tx, _idle| {
            Box::pin(async move {
                let t0 = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                at(t0, 60).await;
            })
        })
        .await;
        assert_eq!(secs(&spans, Some("facebook.com")), 60.0, "{spans:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn locked_and_suspended_time_is_not_counted() {
        let (_d, spans) = replay(always(), |tx, idle| {
            Box::pin(async move {
                let t0 = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                at(t0, 30).await;
                tx.send(WatchEvent::Locked(true)).await.unwrap();
                at(t0, 90).await;
                *idle.last_input.lock().unwrap() = Instant::now();
                tx.send(WatchEvent::Locked(false)).await.unwrap();
                at(t0, 100).await;
                tx.send(WatchEvent::Sleeping(true)).await.unwrap();
                at(t0, 400).await;
                *idle.last_input.lock().unwrap() = Instant::now();
                tx.send(WatchEvent::Sleeping(false)).await.unwrap();
                at(t0, 420).await;
            })
        })
        .await;
        // 0..30, 90..100, 400..420.
        assert_eq!(secs(&spans, Some("facebook.com")), 60.0, "{spans:?}");
    }

    /// An idle source that pushes (Wayland idle protocols, Mutter's watches):
    /// idle is cut back to the last input without polling.
    #[tokio::test(start_paused = true)]
    async fn a_pushing_idle_source_cuts_back_to_the_last_input() {
        let config = Config::parse(
            "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"10s\"\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (tx, rx) = mpsc::channel(16);
        let pushed = crate::watch::PushedIdle::new();
        pushed.connected();
        let sources = Sources {
            watch: rx,
            idle: Box::new(pushed.clone()),
            control: None,
            config_path: None,
            about: Default::default(),
        };
        let clock = TokioClock::starting_at(start());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let driver = async move {
            let t0 = Instant::now();
            tx.send(WatchEvent::Connected).await.unwrap();
            tx.send(WatchEvent::Focus(browser("Facebook")))
                .await
                .unwrap();
            // The last input at 30 s; the source says "idle" 5 s later.
            at(t0, 35).await;
            pushed.idled();
            tx.send(WatchEvent::IdleChanged).await.unwrap();
            at(t0, 100).await;
            pushed.resumed();
            tx.send(WatchEvent::IdleChanged).await.unwrap();
            at(t0, 130).await;
            let _ = stop_tx.send(());
        };
        let (res, ()) = tokio::join!(
            run_with(config, store, sources, &clock, &Utc, async {
                let _ = stop_rx.await;
            }),
            driver
        );
        res.unwrap();
        let spans = Store::open(dir.path())
            .unwrap()
            .spans(start(), start() + chrono::Duration::days(1))
            .unwrap();
        assert_eq!(secs(&spans, Some("facebook.com")), 60.0, "{spans:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn x_server_gone_closes_at_that_moment() {
        let (_d, spans) = replay(always(), |tx, idle| {
            Box::pin(async move {
                let t0 = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Instagram")))
                    .await
                    .unwrap();
                at(t0, 40).await;
                tx.send(WatchEvent::Gone).await.unwrap();
                at(t0, 100).await;
                *idle.last_input.lock().unwrap() = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Instagram")))
                    .await
                    .unwrap();
                at(t0, 110).await;
            })
        })
        .await;
        assert_eq!(secs(&spans, Some("instagram.com")), 50.0, "{spans:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn untrackable_stops_the_agent_with_exit_code_2() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (tx, rx) = mpsc::channel(16);
        let sources = Sources {
            watch: rx,
            idle: Box::new(FakeIdle {
                last_input: Arc::new(Mutex::new(Instant::now())),
            }),
            control: None,
            config_path: None,
            about: Default::default(),
        };
        let clock = TokioClock::starting_at(start());
        tx.send(WatchEvent::Untrackable("no door".into()))
            .await
            .unwrap();
        let res = run_with(
            always(),
            store,
            sources,
            &clock,
            &Utc,
            std::future::pending(),
        )
        .await;
        let e = res.unwrap_err();
        assert_eq!(format!("{e:#}"), "no door");
        assert_eq!(dwell_core::exit::code(e.chain()), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_outside_work_hours() {
        // Work hours end at 10:01 on this Tuesday.
        let config = Config::parse(
            "[schedule]\nwork_hours = [\"09:00-10:01\"]\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let (_d, spans) = replay(config, |tx, idle| {
            Box::pin(async move {
                let t0 = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                for s in (10..=180).step_by(10) {
                    at(t0, s).await;
                    *idle.last_input.lock().unwrap() = Instant::now();
                }
            })
        })
        .await;
        assert_eq!(secs(&spans, Some("facebook.com")), 60.0, "{spans:?}");
    }

    /// Runs `forget` on a second connection at `secs` into the replay, as
    /// `dwell-agent forget` does from another process, and returns what is
    /// stored at the end.
    async fn forget_at(
        secs: u64,
        focus: Vec<(u64, Option<WindowInfo>)>,
        end: u64,
        forget: impl FnOnce(&mut Store, DateTime<Utc>) + 'static,
    ) -> Vec<Span> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_owned();
        let (_d, spans) = replay_in(dir, always(), move |tx, idle| {
            Box::pin(async move {
                let t0 = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                let mut forget = Some(forget);
                for (s, window) in focus {
                    if s > secs {
                        if let Some(f) = forget.take() {
                            at(t0, secs).await;
                            f(
                                &mut Store::open(&path).unwrap(),
                                start() + chrono::Duration::seconds(secs as i64),
                            );
                        }
                    }
                    at(t0, s).await;
                    *idle.last_input.lock().unwrap() = Instant::now();
                    tx.send(WatchEvent::Focus(window)).await.unwrap();
                }
                if let Some(f) = forget.take() {
                    at(t0, secs).await;
                    f(
                        &mut Store::open(&path).unwrap(),
                        start() + chrono::Duration::seconds(secs as i64),
                    );
                }
                for s in (secs..=end).step_by(30) {
                    at(t0, s).await;
                    *idle.last_input.lock().unwrap() = Instant::now();
                }
                at(t0, end).await;
            })
        })
        .await;
        spans
    }

    /// What a `kill -9` at any moment would find: at every moment, the
    /// committed data reaches no further back than [`MAX_LOSS`], with
    /// [`WRITE_SLACK`] left for the checkpoint's wake-up and its commit
    /// (under paused time both take no time; on a desktop they take a few ms).
    #[tokio::test(start_paused = true)]
    async fn the_committed_end_is_never_more_than_the_promised_loss_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_owned();
        let worst = Arc::new(Mutex::new(Duration::ZERO));
        let seen = worst.clone();
        replay_in(dir, always(), move |tx, idle| {
            Box::pin(async move {
                let t0 = Instant::now();
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                let reader = Store::open(&path).unwrap();
                for tick in 1..=600u64 {
                    tokio::time::sleep_until(t0 + Duration::from_millis(100 * tick)).await;
                    *idle.last_input.lock().unwrap() = Instant::now();
                    let now = start() + chrono::Duration::milliseconds(100 * tick as i64);
                    let committed = reader
                        .spans(start(), now + chrono::Duration::days(1))
                        .unwrap()
                        .iter()
                        .map(|s| s.end)
                        .max()
                        .unwrap_or(start());
                    let lag = (now - committed).to_std().unwrap_or_default();
                    let mut worst = seen.lock().unwrap();
                    *worst = (*worst).max(lag);
                }
            })
        })
        .await;
        let worst = *worst.lock().unwrap();
        assert!(
            worst + WRITE_SLACK <= MAX_LOSS,
            "the committed data was {worst:?} old at worst; with {WRITE_SLACK:?} for the wake-up \
             and the commit, a kill -9 could lose more than {MAX_LOSS:?}"
        );
    }

    /// Replays `script` with live reload: the config is read from a file in
    /// the data directory (`config` is its first text), and the script gets
    /// the control channel (a save or a `SIGUSR1`) and the file's path.
    async fn replay_live(
        config: &str,
        script: impl FnOnce(
            mpsc::Sender<WatchEvent>,
            mpsc::Sender<()>,
            PathBuf,
            FakeIdle,
        ) -> futures_like::BoxFut,
    ) -> (tempfile::TempDir, Vec<Span>) {
        replay_live_in(&Utc, config, script).await
    }

    /// [`replay_live`] in the time zone `tz`.
    async fn replay_live_in<Tz: TimeZone>(
        tz: &Tz,
        config: &str,
        script: impl FnOnce(
            mpsc::Sender<WatchEvent>,
            mpsc::Sender<()>,
            PathBuf,
            FakeIdle,
        ) -> futures_like::BoxFut,
    ) -> (tempfile::TempDir, Vec<Span>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, config).unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (tx, rx) = mpsc::channel(16);
        let (control_tx, control_rx) = mpsc::channel(4);
        let idle = FakeIdle {
            last_input: Arc::new(Mutex::new(Instant::now())),
        };
        let clock = TokioClock::starting_at(start());
        let sources = Sources {
            watch: rx,
            idle: Box::new(idle.clone()),
            control: Some(control_rx),
            config_path: Some(path.clone()),
            about: Default::default(),
        };
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let script = script(tx, control_tx, path.clone(), idle);
        let driver = async move {
            script.await;
            let _ = stop_tx.send(());
        };
        let config = crate::reload::reload(&path).unwrap();
        let (res, ()) = tokio::join!(
            run_with(config, store, sources, &clock, tz, async {
                let _ = stop_rx.await;
            }),
            driver
        );
        res.unwrap();
        let spans = Store::open(dir.path())
            .unwrap()
            .spans(
                start() - chrono::Duration::days(1),
                start() + chrono::Duration::days(3),
            )
            .unwrap();
        (dir, spans)
    }

    thread_local! {
        static CAPTURED: std::cell::RefCell<Option<Arc<Mutex<Vec<u8>>>>> =
            const { std::cell::RefCell::new(None) };
    }

    /// Writes into this thread's capture buffer, if one is set.
    struct Captured;
    impl std::io::Write for Captured {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            CAPTURED.with(|c| {
                if let Some(buf) = c.borrow().as_ref() {
                    buf.lock().unwrap().extend_from_slice(data);
                }
            });
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Clears this thread's capture buffer when dropped.
    struct CaptureGuard;
    impl Drop for CaptureGuard {
        fn drop(&mut self) {
            CAPTURED.with(|c| c.borrow_mut().take());
        }
    }

    /// Captures what this thread logs (the loop runs on the test's thread)
    /// while the guard lives. One global subscriber at every level writes to
    /// the thread's buffer: a subscriber per test thread (`set_default`)
    /// loses events when tests run in parallel.
    fn capture_logs() -> (Arc<Mutex<Vec<u8>>>, CaptureGuard) {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(|| Captured)
                .finish();
            tracing::subscriber::set_global_default(subscriber).unwrap();
        });
        let buf = Arc::new(Mutex::new(Vec::new()));
        CAPTURED.with(|c| *c.borrow_mut() = Some(buf.clone()));
        (buf, CaptureGuard)
    }

    /// The captured lines at `level` and above (a message's continuation
    /// lines go with it).
    fn logged(buf: &Arc<Mutex<Vec<u8>>>, level: tracing::Level) -> String {
        let text = String::from_utf8_lossy(&buf.lock().unwrap()).into_owned();
        let mut keep = false;
        let mut out = String::new();
        for line in text.lines() {
            if line.starts_with(|c: char| c.is_ascii_digit()) {
                keep = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|l| l.parse::<tracing::Level>().ok())
                    .is_some_and(|l| l <= level);
            }
            if keep {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// A refused config's source line (and the value quoted in its message)
    /// may name a site: above debug the log names only the file, line and key.
    #[tokio::test(start_paused = true)]
    async fn a_refused_config_names_no_site_in_the_log_above_debug() {
        for (level, shows_site) in [(tracing::Level::INFO, false), (tracing::Level::DEBUG, true)] {
            let (buf, guard) = capture_logs();
            let (dir, _) = replay_live(
                "[schedule]\nrecord = \"always\"\n",
                |_tx, control, path, _idle| {
                    Box::pin(async move {
                        std::fs::write(&path, "[limits]\ndaily = \"secret-site.example\"\n")
                            .unwrap();
                        control.send(()).await.unwrap();
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    })
                },
            )
            .await;
            drop(guard);
            let log = logged(&buf, level);
            assert!(log.contains("refused"), "{log}");
            assert!(
                log.contains("config.toml") && log.contains("line=2"),
                "{log}"
            );
            assert!(log.contains("limits.daily"), "{log}");
            assert_eq!(log.contains("secret-site"), shows_site, "{level}: {log}");
            // `status` still shows the whole message.
            let stored = Store::open(dir.path())
                .unwrap()
                .meta_get(CONFIG_ERROR_KEY)
                .unwrap()
                .unwrap_or_default();
            assert!(stored.contains("secret-site.example"), "{stored}");
        }
    }

    /// Facebook does not count under this config; it does under the defaults.
    const NO_FACEBOOK: &str =
        "[schedule]\nrecord = \"always\"\n[sites]\ndisable = [\"facebook.com\"]\n";

    /// A save that rewrites the file in place empties it for a moment: a
    /// look at that moment must not put the built-in defaults in force.
    #[tokio::test(start_paused = true)]
    async fn a_config_read_empty_in_the_middle_of_an_in_place_save_is_not_taken() {
        let (_d, spans) = replay_live(NO_FACEBOOK, |tx, control, path, _idle| {
            Box::pin(async move {
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_secs(5)).await;
                // The burst: truncated (and looked at), then written again.
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(&path);
                drop(file.unwrap());
                control.send(()).await.unwrap();
                tokio::time::sleep(Duration::from_millis(20)).await;
                std::fs::write(&path, NO_FACEBOOK).unwrap();
                tokio::time::sleep(Duration::from_secs(20)).await;
            })
        })
        .await;
        assert_eq!(secs(&spans, Some("facebook.com")), 0.0, "{spans:?}");
    }

    /// A file that stays empty is taken (the built-in defaults), once settled.
    #[tokio::test(start_paused = true)]
    async fn a_config_emptied_for_good_is_taken_once_settled() {
        let (_d, spans) = replay_live(NO_FACEBOOK, |tx, control, path, _idle| {
            Box::pin(async move {
                tx.send(WatchEvent::Connected).await.unwrap();
                tx.send(WatchEvent::Focus(browser("Facebook")))
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_secs(5)).await;
                std::fs::write(&path, "").unwrap();
                control.send(()).await.unwrap();
                tokio::time::sleep(Duration::from_secs(20)).await;
            })
        })
        .await;
        let counted = secs(&spans, Some("facebook.com"));
        assert!((19.0..=20.0).contains(&counted), "{counted}: {spans:?}");
    }

    /// Makes the store's settings unreadable for a moment (as a transient
    /// error would), sends a control event (the loop reads them all again),
    /// and makes them readable again.
    async fn settings_unreadable_for_a_moment(dir: &std::path::Path, control: &mpsc::Sender<()>) {
        let other = Store::open(dir).unwrap();
        other
            .raw_for_tests()
            .execute_batch("ALTER TABLE meta RENAME TO meta_gone")
            .unwrap();
        control.send(()).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        control.send(()).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
        other
            .raw_for_tests()
            .execute_batch("ALTER TABLE meta_gone RENAME TO meta")
            .unwrap();
    }

    /// A transient error reading the pause leaves the pause in force, and is
    /// logged once.
    #[tokio::test(start_paused = true)]
    async fn a_transient_error_reading_the_pause_keeps_it() {
        let (buf, guard) = capture_logs();
        let (_d, spans) = replay_live(
            "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"1h\"\n",
            |tx, control, path, _idle| {
                Box::pin(async move {
                    let dir = path.parent().unwrap().to_owned();
                    control::set_pause(&Store::open(&dir).unwrap(), control::Pause::Indefinite)
                        .unwrap();
                    control.send(()).await.unwrap();
                    tx.send(WatchEvent::Connected).await.unwrap();
                    tx.send(WatchEvent::Focus(browser("Facebook")))
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    settings_unreadable_for_a_moment(&dir, &control).await;
                    tokio::time::sleep(Duration::from_secs(60)).await;
                })
            },
        )
        .await;
        drop(guard);
        assert_eq!(secs(&spans, Some("facebook.com")), 0.0, "{spans:?}");
        let log = logged(&buf, tracing::Level::INFO);
        assert_eq!(
            log.matches("cannot read the pause state").count(),
            1,
            "{log}"
        );
    }

    /// A transient error reading the consent does not end the calibration
    /// period: no reminder.
    #[tokio::test(start_paused = true)]
    async fn a_transient_error_reading_the_consent_keeps_calibrating() {
        let (dir, _spans) = replay_live(
            "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"1h\"\ncalibrate = \"7d\"\n\
             [limits]\ndaily = \"20s\"\n[reminders]\nmin_gap = \"1s\"\n",
            |tx, control, path, _idle| {
                Box::pin(async move {
                    let dir = path.parent().unwrap().to_owned();
                    Store::open(&dir)
                        .unwrap()
                        .set_consent(start() - chrono::Duration::days(1))
                        .unwrap();
                    control.send(()).await.unwrap();
                    tx.send(WatchEvent::Connected).await.unwrap();
                    tx.send(WatchEvent::Focus(browser("Facebook"))).await.unwrap();
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    settings_unreadable_for_a_moment(&dir, &control).await;
                    tokio::time::sleep(Duration::from_secs(120)).await;
                })
            },
        )
        .await;
        let store = Store::open(dir.path()).unwrap();
        let reminders = store
            .reminders(start(), start() + chrono::Duration::days(1))
            .unwrap();
        assert!(reminders.is_empty(), "{reminders:?}");
    }

    /// A time zone the test can change, as `/etc/localtime` can be changed
    /// under `chrono::Local`.
    #[derive(Clone, Debug)]
    struct ChangingTz(Arc<Mutex<chrono::FixedOffset>>);

    impl ChangingTz {
        fn east(hours: i32) -> ChangingTz {
            ChangingTz(Arc::new(Mutex::new(
                chrono::FixedOffset::east_opt(hours * 3600).unwrap(),
            )))
        }
        fn set(&self, hours: i32) {
            *self.0.lock().unwrap() = chrono::FixedOffset::east_opt(hours * 3600).unwrap();
        }
    }

    impl TimeZone for ChangingTz {
        type Offset = chrono::FixedOffset;
        fn from_offset(offset: &chrono::FixedOffset) -> ChangingTz {
            ChangingTz(Arc::new(Mutex::new(*offset)))
        }
        fn offset_from_local_date(
            &self,
            _: &chrono::NaiveDate,
        ) -> chrono::LocalResult<chrono::FixedOffset> {
            chrono::LocalResult::Single(*self.0.lock().unwrap())
        }
        fn offset_from_local_datetime(
            &self,
            _: &chrono::NaiveDateTime,
        ) -> chrono::LocalResult<chrono::FixedOffset> {
            chrono::LocalResult::Single(*self.0.lock().unwrap())
        }
        fn offset_from_utc_date(&self, _: &chrono::NaiveDate) -> chrono::FixedOffset {
            *self.0.lock().unwrap()
        }
        fn offset_from_utc_datetime(&self, _: &chrono::NaiveDateTime) -> chrono::FixedOffset {
            *self.0.lock().unwrap()
        }
    }

    /// Tokyo → UTC on Tuesday at 10:00 UTC: from 19:00 (after work hours) to
    /// 10:00 (in them). The zone watcher's event makes the loop look at once:
    /// recording starts within a second, not at the next edge timer.
    #[tokio::test(start_paused = true)]
    async fn a_time_zone_change_into_work_hours_is_seen_within_a_second() {
        let tz = ChangingTz::east(9);
        let zone = tz.clone();
        let (_d, spans) = replay_live_in(
            &tz,
            "[tracking]\nidle_timeout = \"1h\"\n",
            |tx, control, _path, _idle| {
                Box::pin(async move {
                    tx.send(WatchEvent::Connected).await.unwrap();
                    tx.send(WatchEvent::Focus(browser("Facebook")))
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_secs(100)).await;
                    zone.set(0);
                    control.send(()).await.unwrap();
                    tokio::time::sleep(Duration::from_secs(200)).await;
                })
            },
        )
        .await;
        let counted = secs(&spans, Some("facebook.com"));
        assert!((199.0..=200.0).contains(&counted), "{counted}: {spans:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_site_forgotten_while_open_is_not_written_back() {
        let spans = forget_at(35, vec![(0, browser("Facebook"))], 60, |store, at| {
            store.forget_site("facebook.com", at).unwrap();
        })
        .await;
        // Checkpoints at 9, 18 and 27 s had written 0..27; only 35..60 is left.
        assert_eq!(
            spans
                .iter()
                .map(|s| (s.start, s.activity.site()))
                .collect::<Vec<_>>(),
            vec![(
                start() + chrono::Duration::seconds(35),
                Some("facebook.com")
            )],
            "{spans:?}"
        );
        assert_eq!(secs(&spans, Some("facebook.com")), 25.0);
    }

    #[tokio::test(start_paused = true)]
    async fn another_site_forgotten_leaves_the_open_span_alone() {
        let spans = forget_at(
            35,
            vec![(0, browser("Reddit")), (5, browser("Facebook"))],
            60,
            |store, at| {
                store.forget_site("reddit.com", at).unwrap();
            },
        )
        .await;
        assert_eq!(secs(&spans, Some("reddit.com")), 0.0, "{spans:?}");
        assert_eq!(secs(&spans, Some("facebook.com")), 55.0, "{spans:?}");
        assert_eq!(spans.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn forgetting_today_while_running_keeps_only_what_came_after() {
        let spans = forget_at(
            45,
            vec![(0, browser("Facebook")), (20, editor())],
            70,
            |store, at| {
                let day = start().date_naive();
                let (from, to) = dwell_core::schedule::local_day_bounds(day, &Utc);
                store.forget_range(from, to, at).unwrap();
            },
        )
        .await;
        assert_eq!(secs(&spans, Some("facebook.com")), 0.0, "{spans:?}");
        assert_eq!(secs(&spans, None), 25.0, "{spans:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn forgetting_everything_before_the_first_checkpoint_still_works() {
        // The open span is 4 s old and was never written when everything goes.
        let spans = forget_at(4, vec![(0, browser("Facebook"))], 30, |store, at| {
            store.erase_spans(at).unwrap();
        })
        .await;
        assert_eq!(secs(&spans, Some("facebook.com")), 26.0, "{spans:?}");
        assert_eq!(spans[0].start, start() + chrono::Duration::seconds(4));
    }
}
