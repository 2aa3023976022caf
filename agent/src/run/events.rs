//! The loop's state and its events: what woke it ([`Wake`], from the
//! [`Inbox`] of channels and the loop's own timers), and how each event
//! becomes a tracker event: focus, tabs, idleness, lock and suspend, the
//! recording hours' edges and steps of the wall clock. The decisions are
//! core's (`dwell_core::tracker`); what is closed goes to the writer
//! ([`super::writer`]).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, TimeZone, Utc};
use dwell_core::store::StoreError;
use dwell_core::tracker::{Event, Tracker};
use dwell_core::{control, Activity, Config, Source, Span, Store, WindowInfo};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::writer::{Around, Writer, CHECKPOINT_EVERY};
use super::{About, Outlets, Sources, CONFIG_ERROR_KEY};
use crate::clock::Clock;
use crate::notify::NotifyEvent;
use crate::remind::Reminding;
use crate::tray::{TrayEvent, TrayState};
use crate::watch::{IdleSource, WatchEvent, PUSH_AFTER};

/// While idle, how often to look for the next input.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// Longest single sleep towards a far-away recording edge, so that a suspend
/// (which stops the monotonic clock) cannot make it very late.
const MAX_EDGE_SLEEP: Duration = Duration::from_secs(600);
/// A wall-clock step larger than this (either way) against the monotonic clock
/// between two wakes means a clock change or a suspend (which stops the
/// monotonic clock): the open span ends at the moment before the step and
/// starts again at the new time.
const STEP: chrono::Duration = chrono::Duration::seconds(1);
/// A focus change to "no window" that lasts less than this is not a change:
/// window managers and compositors report one in the middle of many switches.
const NO_WINDOW_SETTLES: Duration = Duration::from_millis(250);
/// How long a stopping agent waits for the notification server's answer to a
/// reminder on its way (well within the second a stop may take).
const AWAIT_SHOWN: Duration = Duration::from_millis(500);

/// What woke the loop.
pub(super) enum Wake {
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

/// Why the loop ended.
pub(super) enum End {
    Shutdown,
    /// The watcher can never see focus here: stop with this reason.
    Untrackable(String),
}

/// The channels the loop listens to (a closed one is no longer listened to).
pub(super) struct Inbox {
    watch: mpsc::Receiver<WatchEvent>,
    watch_open: bool,
    idle: Box<dyn IdleSource>,
    control: Option<mpsc::Receiver<()>>,
    notify: Option<mpsc::Receiver<NotifyEvent>>,
    tray: Option<mpsc::Receiver<TrayEvent>>,
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

impl Inbox {
    /// Waits for the next event or for one of `lp`'s timers.
    pub(super) async fn next<C: Clock, Tz: TimeZone>(
        &mut self,
        lp: &Loop<'_, C, Tz>,
        shutdown: &mut (impl std::future::Future<Output = ()> + Unpin),
    ) -> Wake {
        tokio::select! {
            () = shutdown => Wake::Shutdown,
            ev = self.watch.recv(), if self.watch_open => Wake::Watch(ev),
            () = sleep_opt(lp.idle_at) => Wake::IdleCheck,
            () = sleep_opt(lp.checkpoint_at) => Wake::Checkpoint,
            () = sleep_opt(lp.edge_at) => Wake::Edge,
            ev = recv_opt(&mut self.notify) => Wake::Notify(ev),
            () = sleep_opt(lp.remind.wake_at) => Wake::Remind,
            () = sleep_opt(lp.remind.aux_at()) => Wake::Remind,
            ev = recv_opt(&mut self.control) => Wake::Control(ev),
            () = sleep_opt(lp.control_at) => Wake::ControlTimer,
            () = sleep_opt(lp.reload_at) => Wake::ConfigSettled,
            () = sleep_opt(lp.no_window.map(|(_, at)| at)) => Wake::NoWindow,
            ev = recv_opt(&mut self.tray) => Wake::Tray(ev),
        }
    }
}

pub(super) struct Loop<'a, C: Clock, Tz: TimeZone> {
    pub(super) config: Config,
    pub(super) store: Store,
    pub(super) clock: &'a C,
    pub(super) tz: &'a Tz,
    pub(super) tracker: Tracker,
    /// The backend's source: spans seen through it (and not through the
    /// browser extension) carry it.
    source: Source,
    /// The span writer's own state (see [`super::writer`]).
    pub(super) writer: Writer,
    /// The focused window's activity as last classified (kept while away, so
    /// counting can resume without a new focus event).
    pub(super) focus: Option<Activity>,
    x_connected: bool,
    /// The screen is locked: away, whatever has focus.
    locked: bool,
    /// Between logind's "about to sleep" and "woke up".
    asleep: bool,
    /// The idle source reports changes itself (no timer while active, no poll while away).
    idle_pushes: bool,
    pub(super) recording: bool,
    pub(super) idle_at: Option<Instant>,
    last_idle: Option<Duration>,
    pub(super) checkpoint_at: Option<Instant>,
    pub(super) edge_at: Option<Instant>,
    pub(super) awake: (DateTime<Utc>, Instant),
    /// The store is damaged: the loop ends with this error.
    pub(super) fatal: Option<StoreError>,
    /// A "no window" focus report waiting to last [`NO_WINDOW_SETTLES`]: when
    /// it came, and when it counts.
    no_window: Option<(DateTime<Utc>, Instant)>,
    pub(super) remind: Reminding,
    /// The focused window, in memory only, to classify it again after a reload.
    pub(super) window: Option<WindowInfo>,
    /// What dwell's browser extension reports, per browser (in memory only).
    pub(super) browsers: crate::browser::Browsers,
    /// When the browsers' state was last written for `status`, and whether it
    /// has changed since.
    pub(super) browsers_stored: (Option<DateTime<Utc>>, bool),
    pub(super) config_path: Option<PathBuf>,
    /// The config file as last taken in: a `SIGUSR1` or a save that changed
    /// nothing leaves the open span alone.
    pub(super) live: Option<crate::reload::Live>,
    /// When to look again at a config file found empty (see
    /// [`crate::reload::EMPTY_SETTLES`]).
    pub(super) reload_at: Option<Instant>,
    /// Off the record until `resume` or the pause's end.
    pub(super) paused: bool,
    /// The pause in force, as last read (for the tray's tooltip).
    pub(super) pause: Option<control::Pause>,
    /// Where the tray's state goes (see [`crate::tray`]), if there is a tray.
    pub(super) tray: Option<tokio::sync::watch::Sender<TrayState>>,
    /// Reminders are held back until then (calibration period).
    pub(super) calibrating_until: Option<DateTime<Utc>>,
    pub(super) control_at: Option<Instant>,
    /// A setting in the store could not be read (said once until it can).
    pub(super) read_failing: bool,
}

impl<'a, C: Clock, Tz: TimeZone> Loop<'a, C, Tz> {
    /// The loop as it starts, with the channels it listens to and what
    /// `status` is to be told of the watchers.
    pub(super) fn new(
        config: Config,
        store: Store,
        sources: Sources,
        outlets: Outlets,
        clock: &'a C,
        tz: &'a Tz,
    ) -> (Self, Inbox, About) {
        let now = clock.now();
        let (tray_show, tray_events) = match outlets.tray {
            Some(t) => (Some(t.show), Some(t.events)),
            None => (None, None),
        };
        let (requests, notify_events) = match outlets.notifications {
            Some(n) => (Some(n.requests), Some(n.events)),
            None => (None, None),
        };
        let mut remind = Reminding::new(&config, requests);
        remind.restore(&store, now, tz);
        // Unreadable, the forget log counts as not applied yet: re-applying an
        // old forget removes nothing recorded after it (a forget only reaches
        // back from its own moment: `ForgetEntry::removed`).
        let forget_seq = store.forget_seq().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot read the forget log");
            0
        });
        let live = sources
            .config_path
            .clone()
            .map(|path| crate::reload::Live::new(path, &config));
        let source = sources.about.backend.map_or(Source::X11, |b| b.source());
        let lp = Loop {
            remind,
            recording: config.schedule.is_recording(now, tz),
            config,
            store,
            clock,
            tz,
            tracker: Tracker::new(source),
            source,
            writer: Writer::new(forget_seq, sources.about.health.clone()),
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
            no_window: None,
            fatal: None,
            window: None,
            browsers: crate::browser::Browsers::default(),
            browsers_stored: (None, false),
            live,
            reload_at: None,
            config_path: sources.config_path,
            paused: false,
            calibrating_until: None,
            control_at: None,
            read_failing: false,
            pause: None,
            tray: tray_show,
        };
        let inbox = Inbox {
            watch: sources.watch,
            watch_open: true,
            idle: sources.idle,
            control: sources.control,
            notify: notify_events,
            tray: tray_events,
        };
        (lp, inbox, sources.about)
    }

    /// Before the first wake: nothing is observed until the watcher
    /// connects; the notes for `status` are set; the pause, calibration and
    /// retention are looked at.
    pub(super) fn start(&mut self, about: &About) -> Result<()> {
        let now = self.clock.now();
        self.tracker.apply(Event::Away { at: now });
        self.arm_edge();
        // A snooze does not outlive the agent that honoured it (`status` reads
        // the note only while an agent runs).
        for key in [CONFIG_ERROR_KEY, crate::remind::SNOOZED_UNTIL_KEY] {
            if let Err(e) = self.store.meta_delete(key) {
                tracing::warn!(error = %e, "cannot clear a stored note for status");
            }
        }
        self.refresh_control();
        self.store_about(about);
        self.stop_if_fatal()?;
        tracing::info!(recording = self.recording, "dwell-agent running");
        self.show_tray();
        Ok(())
    }

    /// The store is damaged: the loop ends with its error.
    pub(super) fn stop_if_fatal(&mut self) -> Result<()> {
        match self.fatal.take() {
            Some(e) => Err(e).context("dwell-agent stopped writing"),
            None => Ok(()),
        }
    }

    /// Deals with what woke the loop; `Some` when the loop is to end.
    pub(super) fn on_wake(&mut self, wake: Wake, inbox: &mut Inbox) -> Option<End> {
        match wake {
            Wake::Shutdown => return Some(End::Shutdown),
            Wake::Watch(Some(WatchEvent::Untrackable(why))) => return Some(End::Untrackable(why)),
            Wake::Watch(Some(WatchEvent::IdleChanged)) | Wake::IdleCheck => {
                self.on_idle_check(inbox.idle.as_mut())
            }
            Wake::Watch(Some(ev)) => self.on_watch(ev),
            Wake::Watch(None) => {
                tracing::warn!("the window watcher stopped");
                inbox.watch_open = false;
                let now = self.clock.now();
                self.close(Event::Away { at: now });
            }
            Wake::Checkpoint => self.checkpoint(),
            Wake::Edge => self.on_edge(),
            Wake::Notify(Some(ev)) => self.on_notify(ev),
            Wake::Notify(None) => inbox.notify = None,
            Wake::Remind => {}
            Wake::Control(Some(())) => self.on_control(),
            Wake::Control(None) => inbox.control = None,
            Wake::ControlTimer => self.refresh_control(),
            Wake::ConfigSettled => {
                self.reload_at = None;
                self.look_at_config(true);
            }
            Wake::NoWindow => self.settle_no_window(),
            Wake::Tray(Some(ev)) => self.on_tray(ev),
            Wake::Tray(None) => inbox.tray = None,
        }
        None
    }

    /// After each wake: the reminders look at the moment, the timers are
    /// armed for what can change next, the tray is brought up to date.
    pub(super) fn after_wake(&mut self) {
        self.remind_tick();
        self.arm_idle();
        self.arm_checkpoint();
        self.show_tray();
        self.awake = (self.clock.now(), Instant::now());
    }

    /// The loop ends: a reminder on its way gets its answer, the open span is
    /// closed and everything is written, the notes for `status` go.
    pub(super) async fn finish(&mut self, inbox: &mut Inbox, end: End) -> Result<()> {
        // A reminder on its way to the screen when the loop ends: its answer is
        // waited for a little, so that what was shown is recorded as shown.
        if let Some(events) = inbox.notify.as_mut() {
            let until = Instant::now() + AWAIT_SHOWN;
            while self.remind.awaits_answer() {
                match tokio::time::timeout_at(until, events.recv()).await {
                    Ok(Some(ev)) => self.on_notify(ev),
                    _ => break,
                }
            }
        }
        self.remind.unanswered(&mut self.store);
        self.settle_no_window();
        let now = self.clock.now();
        self.close(Event::Away { at: now });
        self.flush();
        self.clear_about();
        if let End::Untrackable(why) = end {
            tracing::warn!("{why}");
            return Err(anyhow::anyhow!(dwell_core::exit::Refused(why)));
        }
        if !self.writer.pending.is_empty() {
            anyhow::bail!(
                "could not write {} span(s) to {} before exiting",
                self.writer.pending.len(),
                self.store.path().display()
            );
        }
        tracing::info!("dwell-agent stopped");
        Ok(())
    }

    pub(super) fn observing(&self) -> bool {
        self.recording && self.x_connected && !self.paused && !self.locked && !self.asleep
    }

    /// Applies an event that may close a span, and writes what it closed. A
    /// focus change first tells the tracker where the new activity is seen:
    /// the browser extension (for a browser whose extension is connected) or
    /// the backend.
    pub(super) fn close(&mut self, event: Event) {
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
    pub(super) fn keep(&mut self, closed: Option<Span>) {
        if let Some(span) = closed {
            self.count(&span);
            self.writer.pending.push(span);
            self.flush();
        }
    }

    /// A closed span counts towards the limits (its part in recording hours).
    pub(super) fn count(&mut self, span: &Span) {
        super::writer::count(&mut self.remind, &self.config.schedule, span, self.tz);
    }

    /// The start of the open span, when it is on a social site.
    pub(super) fn open_social(&self) -> Option<DateTime<Utc>> {
        match self.tracker.current() {
            Some(a) if a.is_social() => self.tracker.open_since(),
            _ => None,
        }
    }

    /// Re-reports the focused activity once observation is possible again.
    pub(super) fn resume(&mut self, at: DateTime<Utc>) {
        if self.observing() {
            self.tracker.apply(Event::Back { at });
            let activity = self.focus.clone();
            self.close(Event::Focus { at, activity });
            self.last_idle = None;
            // Check idleness soon: the employee may have left meanwhile.
            self.idle_at = Some(Instant::now());
        }
    }

    pub(super) fn on_watch(&mut self, ev: WatchEvent) {
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
                | WatchEvent::PauseResultFor(..)
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
            // Handled in the loop, which owns the idle source, or stops.
            WatchEvent::IdleChanged | WatchEvent::Untrackable(_) => {}
            WatchEvent::Locked(locked) => self.away(|lp| &mut lp.locked, locked, now),
            WatchEvent::Sleeping(sleeping) => self.away(|lp| &mut lp.asleep, sleeping, now),
            WatchEvent::GnomeExtension(report) => self.note_gnome_extension(report),
            WatchEvent::Hint(hint) => self.note_hint(hint.as_deref()),
            WatchEvent::Focus(None) if self.observing() && self.tracker.current().is_some() => {
                if self.no_window.is_none() {
                    self.no_window = Some((now, Instant::now() + NO_WINDOW_SETTLES));
                }
            }
            WatchEvent::Focus(window) => self.on_focus(window, now),
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
            WatchEvent::PauseResult(outcome) => {
                self.remind.pause_result(&mut self.store, outcome, None);
            }
            WatchEvent::PauseResultFor(outcome, page) => {
                self.remind
                    .pause_result(&mut self.store, outcome, Some(page));
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

    /// The screen locked or unlocked, the machine about to sleep or awake:
    /// `flag` says which.
    pub(super) fn away(
        &mut self,
        flag: fn(&mut Self) -> &mut bool,
        away: bool,
        now: DateTime<Utc>,
    ) {
        if away {
            self.close(Event::Away { at: now });
            *flag(self) = true;
        } else {
            *flag(self) = false;
            self.resume(now);
        }
    }

    /// Another window has focus.
    pub(super) fn on_focus(&mut self, window: Option<WindowInfo>, now: DateTime<Utc>) {
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

    /// What the focused window counts as: for a browser whose extension is
    /// connected, its active tab's host name (a private window, or a browser
    /// window the extension cannot see, counts as nothing); else the window
    /// rules.
    pub(super) fn activity_of(&self, window: Option<&WindowInfo>) -> Option<Activity> {
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
    pub(super) fn refocus(&mut self, now: DateTime<Utc>) {
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

    /// The idle timeout now: longer while an audible social tab has focus.
    pub(super) fn idle_timeout(&self) -> Duration {
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
    pub(super) fn settle_no_window(&mut self) {
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

    pub(super) fn on_idle_check(&mut self, idle: &mut dyn IdleSource) {
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
    pub(super) fn arm_idle(&mut self) {
        if !self.observing() || (self.tracker.current().is_none() && !self.tracker.is_idle()) {
            self.idle_at = None;
        }
    }

    pub(super) fn arm_edge(&mut self) {
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

    pub(super) fn on_edge(&mut self) {
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
    pub(super) fn check_jump(&mut self) {
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

    pub(super) fn arm_checkpoint(&mut self) {
        if self.tracker.current().is_none() && self.writer.pending.is_empty() {
            self.checkpoint_at = None;
        } else if self.checkpoint_at.is_none() {
            // Counted from the moment this pass woke (when a new span was dated,
            // or the last checkpoint read the clock), not from when its work
            // ended: however long classifying or writing took, a crash loses at
            // most CHECKPOINT_EVERY plus this checkpoint's own write (MAX_LOSS).
            self.checkpoint_at = Some(self.awake.1 + CHECKPOINT_EVERY);
        }
    }

    /// Writes pending spans and the open span as it stands now.
    pub(super) fn checkpoint(&mut self) {
        self.checkpoint_at = None;
        let now = self.clock.now();
        self.store_browsers(now, false);
        let mut spans: Vec<Span> = self.writer.pending.drain(..).collect();
        spans.extend(self.tracker.open_span(now));
        self.write(spans);
    }

    pub(super) fn flush(&mut self) {
        let spans: Vec<Span> = self.writer.pending.drain(..).collect();
        self.write(spans);
    }

    /// Writes `spans` (see [`Writer::write`]); a damaged store stops the loop.
    pub(super) fn write(&mut self, spans: Vec<Span>) {
        let mut around = Around {
            tracker: &mut self.tracker,
            remind: &mut self.remind,
            schedule: &self.config.schedule,
            tz: self.tz,
            clock: self.clock,
        };
        if let Err(e) = self.writer.write(&mut self.store, spans, &mut around) {
            self.store_failed(e);
        }
    }
}
