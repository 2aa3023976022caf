//! The run loop replayed under tokio's paused time: the harness every room
//! below shares, and the rooms by subject.
//!
//! A test describes a [`Replay`] (its config, the wall time it starts at,
//! what the loop gets beside the watcher's channel) and a script written
//! against a [`Desk`]: the watcher connects, the focus moves, the person
//! gives input, the clock steps, so many seconds pass. The loop runs until
//! the script ends; the test reads what was stored.
//!
//! Rooms: [`spans`] (what is counted, idleness, the watcher's end),
//! [`clock`] (clock steps, suspend, lock, time zone), [`browser`] (the
//! extension's tabs and the pause page), [`reload`] (config reload and
//! settings read again), [`forget`] (forgets while the loop runs); [`logs`]
//! captures what the loop logs.

mod browser;
mod clock;
mod forget;
mod logs;
mod reload;
mod spans;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use dwell_core::model::ReminderRecord;
use dwell_core::{control, Config, Source, Span, Store, WindowInfo};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::*;
use crate::clock::SteppedClock;
use crate::door::{Answer, Pause, TabFacts};
use crate::notify::NotifyEvent;
use crate::remind::Notifications;

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
    crate::windows_for_tests::chromium(title, false)
}

use crate::windows_for_tests::editor;

/// A config file's text: recorded at all hours, idle after `idle_timeout`
/// (the text ends in `[tracking]`: more of that table may follow).
fn recorded_always(idle_timeout: &str) -> String {
    format!("[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"{idle_timeout}\"\n")
}

/// `text` read as a config file.
fn config(text: &str) -> Config {
    Config::parse(text, Path::new("t.toml")).unwrap()
}

/// Recorded at all hours, idle after 2 minutes.
fn always() -> Config {
    config(&recorded_always("2m"))
}

/// 2026-11-24 10:00 UTC, a Tuesday.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap()
}

/// Seconds from [`start`] to `at`.
fn since_start(at: DateTime<Utc>) -> i64 {
    (at - start()).num_seconds()
}

/// The seconds counted on `site` (`None`: time on no site).
fn secs(spans: &[Span], site: Option<&str>) -> f64 {
    spans
        .iter()
        .filter(|s| s.activity.site() == site)
        .map(|s| s.seconds())
        .sum()
}

fn no_empty_or_negative(spans: &[Span]) {
    for s in spans {
        assert!(s.end > s.start, "an empty or negative span: {spans:?}");
    }
}

/// The reminders stored in `dir` on the day from [`start`].
fn reminders(dir: &Path) -> Vec<ReminderRecord> {
    Store::open(dir)
        .unwrap()
        .reminders(start(), start() + chrono::Duration::days(1))
        .unwrap()
}

/// The pause pages stored in `dir`.
fn pause_pages(dir: &Path) -> Vec<ReminderRecord> {
    reminders(dir)
        .into_iter()
        .filter(|r| r.kind == "pause_page")
        .collect()
}

/// The extension's report of the focused tab: on `host` (`None`: no host,
/// e.g. an extension page), in a private window, playing sound.
fn tab(host: Option<&str>, private: bool, audible: bool) -> WatchEvent {
    WatchEvent::Tab {
        browser: "chromium".into(),
        sender: ":1.7".into(),
        facts: TabFacts {
            host: host.map(str::to_owned),
            private,
            audible,
            focused: true,
        },
        reply: Default::default(),
    }
}

/// What a script drives the loop with: the watcher's channel, the idle
/// source's last input, the wall clock, the control channel and the
/// notification events (the last two reach the loop only when the
/// [`Replay`] gives it them: otherwise a send fails).
#[derive(Clone)]
struct Desk {
    tx: mpsc::Sender<WatchEvent>,
    last_input: Arc<Mutex<Instant>>,
    /// The replay's start in tokio's time.
    t0: Instant,
    clock: SteppedClock,
    /// The data directory.
    dir: PathBuf,
    control: mpsc::Sender<()>,
    events: mpsc::Sender<NotifyEvent>,
}

impl Desk {
    async fn send(&self, event: WatchEvent) {
        self.tx.send(event).await.unwrap();
    }

    async fn focus(&self, window: Option<WindowInfo>) {
        self.send(WatchEvent::Focus(window)).await;
    }

    /// The watcher connects, `window` in focus.
    async fn connect(&self, window: Option<WindowInfo>) {
        self.send(WatchEvent::Connected).await;
        self.focus(window).await;
    }

    /// An input now.
    fn input(&self) {
        *self.last_input.lock().unwrap() = Instant::now();
    }

    /// Until `secs` seconds after the start.
    async fn at(&self, secs: u64) {
        tokio::time::sleep_until(self.t0 + Duration::from_secs(secs)).await;
    }

    /// Moves the wall clock by `by` (a clock change, or a suspend).
    fn step(&self, by: chrono::Duration) {
        self.clock.step(by);
    }

    /// "Look again" (a save of the config file, or a command's word).
    async fn look_again(&self) {
        self.control.send(()).await.unwrap();
    }

    async fn notify(&self, event: NotifyEvent) {
        self.events.send(event).await.unwrap();
    }

    /// The config file a live [`Replay`] reads.
    fn config_path(&self) -> PathBuf {
        self.dir.join("config.toml")
    }

    /// A second connection to the store, as another process has.
    fn store(&self) -> Store {
        Store::open(&self.dir).unwrap()
    }

    /// A tab report on `host` and the run loop's answer to it.
    async fn tab_answer(&self, host: &str) -> Option<Pause> {
        let (reply, answer) = Answer::new();
        let WatchEvent::Tab {
            browser,
            sender,
            facts,
            ..
        } = tab(Some(host), false, false)
        else {
            unreachable!()
        };
        self.send(WatchEvent::Tab {
            browser,
            sender,
            facts,
            reply,
        })
        .await;
        answer.await.unwrap_or(None)
    }
}

/// A replay to set up: its config, the wall time it starts at and what the
/// loop gets beside the watcher's channel.
struct Replay {
    config: Config,
    /// Live reload: the config read instead from `config.toml` in the data
    /// directory (this is its first text), and again at each control event.
    file: Option<String>,
    wall: DateTime<Utc>,
    notifications: bool,
    idle: Option<Box<dyn IdleSource>>,
}

impl Replay {
    /// `config`, from [`start`], no reload, no notifications, the script's
    /// idle source.
    fn new(config: Config) -> Replay {
        Replay {
            config,
            file: None,
            wall: start(),
            notifications: false,
            idle: None,
        }
    }

    /// Live reload: the config read from a file in the data directory
    /// (`text` is its first text), read again at each control event.
    fn live(text: &str) -> Replay {
        Replay {
            file: Some(text.to_owned()),
            ..Replay::new(Config::default())
        }
    }

    /// Starting at `wall` rather than [`start`].
    fn from(self, wall: DateTime<Utc>) -> Replay {
        Replay { wall, ..self }
    }

    /// With the notification channels: nothing shows, requests are dropped,
    /// the events are the script's.
    fn notifying(self) -> Replay {
        Replay {
            notifications: true,
            ..self
        }
    }

    /// With `idle` in place of the idle source [`Desk::input`] moves.
    fn idle(self, idle: Box<dyn IdleSource>) -> Replay {
        Replay {
            idle: Some(idle),
            ..self
        }
    }

    /// The set-up, built.
    fn rig(self) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = mpsc::channel(16);
        let (control, control_rx) = mpsc::channel(4);
        let (events, events_rx) = mpsc::channel(16);
        let last_input = Arc::new(Mutex::new(Instant::now()));
        let idle = self.idle.unwrap_or_else(|| {
            Box::new(FakeIdle {
                last_input: last_input.clone(),
            })
        });
        let desk = Desk {
            tx,
            last_input,
            t0: Instant::now(),
            clock: SteppedClock::starting_at(self.wall),
            dir: dir.path().to_owned(),
            control,
            events,
        };
        let mut sources = Sources::watching(rx, idle);
        let mut config = self.config;
        if let Some(text) = self.file {
            let path = desk.config_path();
            std::fs::write(&path, text).unwrap();
            sources.control = Some(control_rx);
            sources.config_path = Some(path.clone());
            config = crate::reload::reload(&path).unwrap();
        }
        let mut outlets = Outlets::default();
        if self.notifications {
            let (requests, mut dropped) = mpsc::channel(16);
            tokio::spawn(async move { while dropped.recv().await.is_some() {} });
            outlets.notifications = Some(Notifications {
                requests,
                events: events_rx,
            });
        }
        Rig {
            store: Store::open(dir.path()).unwrap(),
            dir,
            wall: self.wall,
            config,
            sources,
            outlets,
            desk,
        }
    }

    /// Runs the loop in UTC while `script` runs; returns the data directory
    /// and the spans stored.
    async fn run<Fut: Future<Output = ()>>(
        self,
        script: impl FnOnce(Desk) -> Fut,
    ) -> (tempfile::TempDir, Vec<Span>) {
        self.run_in(&Utc, script).await
    }

    /// [`Replay::run`] in the time zone `tz`.
    async fn run_in<Tz: TimeZone, Fut: Future<Output = ()>>(
        self,
        tz: &Tz,
        script: impl FnOnce(Desk) -> Fut,
    ) -> (tempfile::TempDir, Vec<Span>) {
        let rig = self.rig();
        let clock = rig.desk.clock.clone();
        let script = script(rig.desk);
        run_while(
            rig.config,
            rig.store,
            rig.sources,
            rig.outlets,
            &clock,
            tz,
            script,
        )
        .await
        .unwrap();
        let spans = Store::open(rig.dir.path())
            .unwrap()
            .spans(
                rig.wall - chrono::Duration::days(1),
                rig.wall + chrono::Duration::days(3),
            )
            .unwrap();
        (rig.dir, spans)
    }
}

/// A replay's set-up, built: what [`run_with`] takes, and the script's desk.
struct Rig {
    dir: tempfile::TempDir,
    wall: DateTime<Utc>,
    config: Config,
    store: Store,
    sources: Sources,
    outlets: Outlets,
    desk: Desk,
}

/// `config`, replayed by `script` in UTC from [`start`].
async fn replay<Fut: Future<Output = ()>>(
    config: Config,
    script: impl FnOnce(Desk) -> Fut,
) -> (tempfile::TempDir, Vec<Span>) {
    Replay::new(config).run(script).await
}
