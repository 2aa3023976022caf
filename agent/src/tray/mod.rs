//! The tray icon (`[ui] tray`, on by default). On Linux a
//! StatusNotifierItem with a `com.canonical.dbusmenu` menu, served on the
//! agent's own zbus (`linux` starts it, `sni` for the item, its registration
//! and the bus thread, `menu` for the menu); on Windows an icon in the
//! notification area (`windows`). Both are started by [`start`] and speak to
//! the loop through the same [`TrayLink`]; what is shown and the menu's
//! entries ([`TrayState`], [`MENU`], [`TrayEvent`]) are defined here, once.
//!
//! The tray shows and asks; the run loop decides. The loop sends what to show
//! ([`TrayState`]: the tooltip with today's social time against the daily
//! limit, from the same ledger figure the reminders and `status` use, and which
//! icon) over a watch channel; a menu choice comes back to the loop as a
//! [`TrayEvent`], and the loop, which owns the database, applies it: a pause or
//! a resume goes through `dwell_core::control`, exactly like `dwell-agent
//! pause` / `resume` followed by their `SIGUSR1`.
//!
//! Without a StatusNotifierWatcher on the session bus the agent runs on without
//! the icon and says so once (info); the item registers when a watcher
//! appears later. Only a local (`unix:`) session bus is used.
//!
//! "Snooze" and "Done for today" are there for notification servers that
//! draw no buttons (mako): offered while a reminder is on screen or the day is
//! over the limit, applied by the loop with the notification's own rules.
//!
//! The icon changes quietly: a standard freedesktop icon name for each state
//! (counting, over the daily limit, paused), never the "needs attention" status.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
mod menu;
#[cfg(target_os = "linux")]
mod sni;
#[cfg(target_os = "linux")]
use linux as os;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as os;

/// Starts the tray with `initial` shown: `async fn start(initial: TrayState)
/// -> Option<TrayLink>`, `None` (said in the log) when this desktop has no
/// tray to show it in. Linux: the StatusNotifierItem (`tray/linux.rs`);
/// Windows: the notification-area icon (`tray/windows.rs`).
pub use os::start;

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

/// A choice from the tray's menu, for the run loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrayEvent {
    /// Pause for an hour (`dwell-agent pause`'s default length).
    PauseHour,
    /// Pause until the start of tomorrow (local midnight).
    PauseUntilTomorrow,
    Resume,
    /// Open today's report.
    ReportToday,
    /// Open this week's report.
    ReportWeek,
    /// Open the config file.
    Settings,
    /// "Snooze" the reminders (one of the day's snoozes), as the
    /// notification's button does.
    Snooze,
    /// No more reminders today.
    DoneForToday,
}

/// A D-Bus error to answer with (the item's and the menu's calls share it).
#[derive(Debug, PartialEq, Eq)]
pub struct Fault {
    pub name: &'static str,
    pub text: String,
}

pub fn fault(name: &'static str, text: String) -> Fault {
    Fault { name, text }
}

/// Which icon the tray shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TrayIcon {
    /// Counting, under the daily limit.
    #[default]
    Normal,
    /// Today's social time has reached the daily limit.
    Over,
    /// Paused: nothing is recorded.
    Paused,
}

impl TrayIcon {
    /// dwell's own icon for this state, as the package installs it in the
    /// hicolor theme (`packaging/org.dwell.Dwell*.svg`); where it is not
    /// installed, hosts draw [`TrayIcon::pixmaps`].
    pub fn name(self) -> &'static str {
        match self {
            TrayIcon::Normal => "org.dwell.Dwell",
            TrayIcon::Over => "org.dwell.Dwell-over",
            TrayIcon::Paused => "org.dwell.Dwell-paused",
        }
    }

    /// The icon's colour, as in its SVG: calm, warm (over the limit), grey.
    fn rgb(self) -> [u8; 3] {
        match self {
            TrayIcon::Normal => [0x2f, 0x6f, 0x73],
            TrayIcon::Over => [0x9a, 0x5b, 0x2e],
            TrayIcon::Paused => [0x6b, 0x72, 0x80],
        }
    }

    /// The same icon drawn at tray sizes (a disc in the icon's colour with a
    /// light ring), for hosts that cannot find it by name: `(width, height,
    /// ARGB32 in network byte order)`, as StatusNotifierItem's `IconPixmap`.
    pub fn pixmaps(self) -> Vec<(i32, i32, Vec<u8>)> {
        [22, 44]
            .into_iter()
            .map(|size| (size, size, disc(size, self.rgb())))
            .collect()
    }
}

/// A `size`×`size` ARGB32 disc of colour `rgb`, with a light ring inside its
/// edge and soft (anti-aliased) borders.
fn disc(size: i32, rgb: [u8; 3]) -> Vec<u8> {
    let light = [0xe8, 0xf1, 0xef];
    let r = f64::from(size) / 2.0;
    let mut out = Vec::with_capacity((size * size * 4) as usize);
    for y in 0..size {
        for x in 0..size {
            let dx = f64::from(x) + 0.5 - r;
            let dy = f64::from(y) + 0.5 - r;
            let d = (dx * dx + dy * dy).sqrt();
            let alpha = (r - d).clamp(0.0, 1.0);
            let ring = (d - r * 0.62).abs() < r * 0.09;
            let [cr, cg, cb] = if ring { light } else { rgb };
            out.extend_from_slice(&[(alpha * 255.0).round() as u8, cr, cg, cb]);
        }
    }
    out
}

/// What the tray shows; the run loop sends a new one when it changes.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TrayState {
    pub icon: TrayIcon,
    /// The tooltip's text (see `sni::Item::tooltip`).
    pub tooltip: String,
    pub paused: bool,
    /// "Snooze" and "Done for today" are offered: a reminder is on screen or
    /// today is over the daily limit (the run loop decides).
    pub reminder_actions: bool,
}

/// The pause, as the tooltip tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PauseNote {
    /// Until this local time of day (`14:10`), or day and time.
    Until(String),
    /// Until the employee resumes.
    Indefinite,
}

/// The tray's state for today's social time `today` against `daily_limit`,
/// with the pause if any. Durations read as `status` writes them.
pub fn state(today: Duration, daily_limit: Duration, pause: Option<PauseNote>) -> TrayState {
    let secs = |d: Duration| d.as_secs_f64();
    let fmt = |d: Duration| crate::words::fmt_minutes(secs(d));
    let over = !daily_limit.is_zero() && today >= daily_limit;
    let mut text = if over {
        format!(
            "Today: {}, over your {} daily limit",
            fmt(today),
            fmt(daily_limit)
        )
    } else {
        format!(
            "Today: {} of your {} daily limit",
            fmt(today),
            fmt(daily_limit)
        )
    };
    match &pause {
        Some(PauseNote::Until(t)) => text.push_str(&format!("\nPaused until {t}")),
        Some(PauseNote::Indefinite) => text.push_str("\nPaused until you resume"),
        None => {}
    }
    TrayState {
        icon: if pause.is_some() {
            TrayIcon::Paused
        } else if over {
            TrayIcon::Over
        } else {
            TrayIcon::Normal
        },
        tooltip: text,
        paused: pause.is_some(),
        reminder_actions: false,
    }
}

/// The run loop's end of the tray: menu choices in, what to show out.
pub struct TrayLink {
    pub events: mpsc::Receiver<TrayEvent>,
    pub show: watch::Sender<TrayState>,
}

/// The menu's labels, in order (separators left out), for tests and docs.
pub const MENU: &[&str] = &[
    "Pause 1 hour",
    "Pause until tomorrow",
    "Resume",
    "Today's report",
    "This week's report",
    "Open settings",
    "Snooze",
    "Done for today",
];

/// Opens the config file with the desktop's opener (`xdg-open`, as
/// `dwell-report --open` does for the reports; Notepad on Windows), writing the commented example
/// there first if there is no file yet. Never waits: a thread of its own does.
pub fn open_settings(path: Option<PathBuf>) {
    let Some(path) = path else {
        tracing::warn!("no config file location (HOME unset): nothing to open");
        return;
    };
    if let Err(e) = ensure_config(&path) {
        tracing::warn!(error = %e, "cannot write a config file to open");
        return;
    }
    crate::remind::open_in_background("settings-opener", move || {
        os::settings_opener(&path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
}

/// Writes the example config at `path` (0600) when nothing is there yet.
fn ensure_config(path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::files::write_private(path, dwell_core::Config::example())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn each_state_has_dwells_own_icon_and_pixmaps_to_fall_back_on() {
        let states = [TrayIcon::Normal, TrayIcon::Over, TrayIcon::Paused];
        for state in states {
            assert!(state.name().starts_with("org.dwell.Dwell"));
            let pixmaps = state.pixmaps();
            assert_eq!(pixmaps.len(), 2);
            for (w, h, argb) in pixmaps {
                assert_eq!(argb.len(), (w * h * 4) as usize);
                // Transparent corners, an opaque middle in the state's colour.
                assert_eq!(argb[0], 0, "{state:?}");
                let mid = ((h / 2) * w + 1) as usize * 4;
                assert_eq!(argb[mid], 255, "{state:?}");
                assert_eq!(argb[mid + 1..mid + 4], state.rgb(), "{state:?}");
            }
        }
        let names: std::collections::HashSet<_> = states.iter().map(|s| s.name()).collect();
        assert_eq!(names.len(), 3);
    }

    const MIN: u64 = 60;

    fn mins(m: u64) -> Duration {
        Duration::from_secs(m * MIN)
    }

    #[test]
    fn the_tooltip_says_today_against_the_limit_as_status_does() {
        let s = state(mins(12), mins(30), None);
        assert_eq!(s.tooltip, "Today: 12m of your 30m daily limit");
        assert_eq!(s.icon, TrayIcon::Normal);
        assert!(!s.paused);
        let s = state(mins(95), mins(90), None);
        assert_eq!(s.tooltip, "Today: 1h 35m, over your 1h 30m daily limit");
        assert_eq!(s.icon, TrayIcon::Over);
    }

    #[test]
    fn a_pause_shows_in_the_tooltip_and_the_icon() {
        let s = state(mins(40), mins(30), Some(PauseNote::Until("14:10".into())));
        assert_eq!(
            s.tooltip,
            "Today: 40m, over your 30m daily limit\nPaused until 14:10"
        );
        assert_eq!(s.icon, TrayIcon::Paused);
        assert!(s.paused);
        let s = state(mins(1), mins(30), Some(PauseNote::Indefinite));
        assert!(s.tooltip.ends_with("Paused until you resume"), "{s:?}");
    }

    /// Never idle.
    struct Busy;
    impl crate::watch::IdleSource for Busy {
        fn idle_for(&mut self) -> Option<Duration> {
            Some(Duration::ZERO)
        }
    }

    /// The run loop with a tray: the tooltip gets the ledger's figure, and the
    /// menu's pauses and resume are stored as `dwell-agent pause` stores them.
    #[tokio::test(start_paused = true)]
    async fn the_run_loop_shows_today_and_applies_the_menus_pauses() {
        use chrono::{TimeZone, Utc};
        use dwell_core::control::{self, Pause};
        use dwell_core::{Activity, Source, Span, Store};

        let start = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .put_spans(&[Span {
                start: start - chrono::Duration::minutes(20),
                end: start - chrono::Duration::minutes(8),
                activity: Activity::Social("facebook.com".into()),
                source: Source::X11,
            }])
            .unwrap();
        let config = dwell_core::Config::parse(
            "[schedule]\nrecord = \"always\"\n[limits]\ndaily = \"30m\"\n",
            Path::new("t.toml"),
        )
        .unwrap();
        let (_watch_tx, watch) = mpsc::channel(4);
        let sources = crate::run::Sources::watching(watch, Box::new(Busy));
        let (events_tx, events) = mpsc::channel(4);
        let (show, mut shown) = watch::channel(TrayState::default());
        let clock = crate::clock::TokioClock::starting_at(start);
        let path = dir.path().to_owned();
        let paused = move || control::paused(&Store::open(&path).unwrap(), start).unwrap();
        let driver = async move {
            let step = || tokio::time::sleep(Duration::from_secs(1));
            step().await;
            let s = shown.borrow_and_update().clone();
            assert_eq!(s.tooltip, "Today: 12m of your 30m daily limit");
            assert_eq!(s.icon, TrayIcon::Normal);

            events_tx.send(TrayEvent::PauseHour).await.unwrap();
            step().await;
            // Chosen 1 s in: an hour from then.
            let hour = start + chrono::Duration::seconds(3601);
            assert_eq!(paused(), Some(Pause::Until(hour)));
            let s = shown.borrow_and_update().clone();
            assert_eq!(s.icon, TrayIcon::Paused);
            assert!(s.tooltip.ends_with("Paused until 11:00"), "{s:?}");

            events_tx.send(TrayEvent::PauseUntilTomorrow).await.unwrap();
            step().await;
            let midnight = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
            assert_eq!(paused(), Some(Pause::Until(midnight)));
            assert!(
                shown
                    .borrow_and_update()
                    .tooltip
                    .ends_with("Paused until Wed 25 Nov 00:00"),
                "{:?}",
                *shown.borrow()
            );

            events_tx.send(TrayEvent::Resume).await.unwrap();
            step().await;
            assert_eq!(paused(), None);
            assert_eq!(shown.borrow_and_update().icon, TrayIcon::Normal);
        };
        let outlets = crate::run::Outlets {
            notifications: None,
            tray: Some(TrayLink { events, show }),
        };
        crate::run::run_while(config, store, sources, outlets, &clock, &Utc, driver)
            .await
            .unwrap();
    }

    #[test]
    fn settings_are_written_from_the_example_only_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dwell/config.toml");
        ensure_config(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, dwell_core::Config::example());
        std::fs::write(&path, "[limits]\ndaily = \"1h\"\n").unwrap();
        ensure_config(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[limits]\ndaily = \"1h\"\n"
        );
    }
}
