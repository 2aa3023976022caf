//! The watchers: what has focus, how long since the last input, and whether the
//! session is locked or asleep. One interface, one module per backend:
//!
//! - [`x11`]: an X11 session (x11rb), idle from the SYNC extension's
//!   `IDLETIME` alarms (MIT-SCREEN-SAVER, polled, where SYNC is missing);
//! - [`wayland`]: wlroots compositors (sway, Hyprland, labwc, river, Wayfire…)
//!   through `zwlr_foreign_toplevel_manager_v1`, and the Wayland idle protocols
//!   (`ext-idle-notify-v1`, else `org_kde_kwin_idle`) for KWin and wlroots;
//! - [`kwin`]: KDE Plasma — a small KWin script, loaded over D-Bus, reports
//!   activations to the agent's bus name;
//! - [`gnome`]: GNOME Shell — a small Shell extension reports focus to the
//!   agent's bus name; idle from `org.gnome.Mutter.IdleMonitor`;
//! - [`bus`]: the agent's session-bus name (the one door through which the KWin
//!   script and the GNOME extension report focus, and the native host (`dwell-native-host`)
//!   what the browser extension sees), the screen saver, and logind
//!   on the system bus (lock and suspend), for every backend.
//!
//! Those are Linux's, and [`select`] picks one of them; on Windows there is
//! one watcher, `windows` (the foreground window and its title, idle, lock
//! and suspend), and `pipe`, the door for the browser extension's native
//! host. Each platform's [`select`] has the same [`start`] and gives
//! the run loop the same [`Watching`]: every backend sends the same
//! [`WatchEvent`]s into the run loop, and gives it an [`IdleSource`] to ask how
//! long the employee has been away from the keyboard. A watcher's own thread
//! that must be stopped on exit (the bus thread, the pipe's) runs under a
//! [`stoppable::Stoppable`].

#[cfg(target_os = "linux")]
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

// tokio's Instant is the std one outside a runtime and in production; under
// tokio's paused test clock it lets the run loop's tests drive this state.
use tokio::time::Instant;

use dwell_core::WindowInfo;

#[cfg(target_os = "linux")]
pub mod bus;
#[cfg(target_os = "linux")]
pub mod gnome;
#[cfg(target_os = "linux")]
pub mod kwin;
#[cfg(windows)]
pub mod pipe;
#[cfg(target_os = "linux")]
pub mod select;
#[cfg(windows)]
#[path = "select_windows.rs"]
pub mod select;
pub mod stoppable;
#[cfg(target_os = "linux")]
pub mod trust;
#[cfg(target_os = "linux")]
pub mod wayland;
#[cfg(windows)]
pub mod windows;
#[cfg(target_os = "linux")]
pub mod x11;

/// Picks and starts the watchers (`[tracking] backend`), sending to `tx`:
/// on Linux one of X11, wlroots, KWin and GNOME, and the bus thread
/// (`select.rs`); on Windows the one Windows watcher and the native host's
/// pipe (`select_windows.rs`).
pub use select::start;

/// The watchers the run loop listens to, as each platform's [`start`] gives
/// them.
pub struct Watching {
    pub backend: Backend,
    pub idle: Box<dyn IdleSource>,
    /// The idle source's short name (`status`'s `idle_source`), `None` when
    /// this desktop offers none.
    pub idle_name: Option<&'static str>,
    /// Held while the loop runs; dropping it stops what the watchers need
    /// stopped (on Linux the bus thread, which unloads KWin's script).
    pub guard: Option<Box<dyn Send>>,
    /// What the employee should do for focus or idle to be seen, if anything.
    pub hint: Option<String>,
}

/// What GNOME Shell says of dwell's extension, as `status --json` shows it
/// (`gnome_extension`: `{"state": ..., "error": ...}`); how it is read and
/// what it asks of the employee are in `gnome.rs` (Linux). Here because the
/// run loop and `status` carry it on every platform (`None` off GNOME).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExtensionReport {
    pub state: ExtensionState,
    /// The shell's own error text, in state `error`.
    pub error: Option<String>,
}

/// The cases a person must tell apart to know what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExtensionState {
    /// Loaded and enabled: focus reports come.
    Active,
    /// Installed, but its `metadata.json` does not name the running shell's
    /// major version, so the shell does not load it (and logs nothing).
    OutOfDate,
    /// The shell tried to run it and failed.
    Error,
    /// Loaded but switched off (not in `enabled-extensions`, or user
    /// extensions are off).
    Disabled,
    /// Its files are there but the running shell has not read them (installed
    /// after log-in: GNOME Shell on Wayland reads new extensions at log-in).
    NotLoaded,
    /// Not installed.
    Missing,
}

/// What a watcher saw.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent {
    /// Connected to the display server or compositor (again).
    Connected,
    /// The focused window is now this one (or none).
    Focus(Option<WindowInfo>),
    /// The display server or compositor went away.
    Gone,
    /// A pushing [`IdleSource`] saw input stop or start: ask it now.
    IdleChanged,
    /// The screen was locked (`true`) or unlocked (`false`).
    Locked(bool),
    /// The machine is about to sleep (`true`) or has just woken (`false`).
    Sleeping(bool),
    /// What the employee should do for focus to be seen (e.g. install the GNOME
    /// Shell extension), or `None` once nothing is missing. Shown by `status`.
    Hint(Option<String>),
    /// What GNOME Shell says of dwell's extension (`None` off GNOME). Shown by `status`.
    GnomeExtension(Option<ExtensionReport>),
    /// dwell's browser extension reported the active tab of `browser` (see
    /// [`crate::browser`]) through the native-messaging host on bus name `sender`.
    /// The run loop answers through `reply`: the pause page to show, if any.
    Tab {
        browser: String,
        sender: String,
        facts: crate::door::TabFacts,
        reply: crate::door::Answer,
    },
    /// The native-messaging host on bus name `sender` has gone (the browser
    /// closed, or the extension was turned off).
    TabGone { sender: String },
    /// The employee's choice on the browser extension's pause page, from a
    /// host or extension from before page ids: the newest open page takes it.
    PauseResult(crate::door::PauseOutcome),
    /// The employee's choice on the pause page with this id.
    PauseResultFor(crate::door::PauseOutcome, crate::door::PageId),
    /// Focus cannot be seen at all in this run (the KWin or GNOME backend, and
    /// the bus refuses the agent its name): the agent stops with this one
    /// line, exit code 2.
    Untrackable(String),
}

impl From<crate::door::PauseChoice> for WatchEvent {
    /// A choice with its page, or the one without (`PauseResult`).
    fn from(choice: crate::door::PauseChoice) -> WatchEvent {
        match choice.page {
            Some(page) => WatchEvent::PauseResultFor(choice.outcome, page),
            None => WatchEvent::PauseResult(choice.outcome),
        }
    }
}

/// How long since the last keyboard or mouse input.
pub trait IdleSource: Send {
    /// `None` when it cannot be told (no server, no extension).
    fn idle_for(&mut self) -> Option<Duration>;

    /// Whether the source sends [`WatchEvent::IdleChanged`] when input has
    /// stopped for [`PUSH_AFTER`] and when it starts again. The run loop then
    /// needs no timer while the employee is active, and no polling while away.
    fn pushes(&self) -> bool {
        false
    }
}

/// The timeout at which pushing sources report that input stopped: the smallest
/// `tracking.idle_timeout` the config accepts, so it works under any config.
pub const PUSH_AFTER: Duration = Duration::from_secs(5);

/// An idle source fed by events (Wayland idle protocols, Mutter's idle watches):
/// the backend's thread calls [`PushedIdle::idled`] when input stopped
/// [`PUSH_AFTER`] ago and [`PushedIdle::resumed`] at the next input; the run loop
/// reads it through [`IdleSource`]. Clones share the state.
#[derive(Clone, Debug, Default)]
pub struct PushedIdle {
    state: Arc<Mutex<IdleState>>,
}

#[derive(Debug, Default)]
struct IdleState {
    /// Connected to a source that reports.
    live: bool,
    /// When the source said "idle" (input stopped [`PUSH_AFTER`] before that).
    idled_at: Option<Instant>,
    /// When the source last said "input again".
    resumed_at: Option<Instant>,
}

impl PushedIdle {
    pub fn new() -> PushedIdle {
        PushedIdle::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut IdleState) -> T) -> T {
        // A poisoned lock only means another thread panicked mid-update; the
        // state is still plain data.
        let mut guard = match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// The source is connected (or again): input is assumed now.
    pub fn connected(&self) {
        self.with(|s| {
            s.live = true;
            s.idled_at = None;
            s.resumed_at = Some(Instant::now());
        });
    }

    /// The source went away: idleness cannot be told until it is back.
    pub fn lost(&self) {
        self.with(|s| {
            s.live = false;
            s.idled_at = None;
        });
    }

    /// No input for [`PUSH_AFTER`], as of now.
    pub fn idled(&self) {
        self.idled_at(Instant::now());
    }

    /// No input for [`PUSH_AFTER`], as of `at`.
    pub fn idled_at(&self, at: Instant) {
        self.with(|s| {
            s.live = true;
            s.idled_at = Some(at);
        });
    }

    /// Input again, now.
    pub fn resumed(&self) {
        self.resumed_at(Instant::now());
    }

    /// Input again, at `at`.
    pub fn resumed_at(&self, at: Instant) {
        self.with(|s| {
            s.live = true;
            s.idled_at = None;
            s.resumed_at = Some(at);
        });
    }

    fn idle_for_at(&self, now: Instant) -> Option<Duration> {
        self.with(|s| {
            if !s.live {
                return None;
            }
            match s.idled_at {
                Some(idled) => Some(now.saturating_duration_since(idled) + PUSH_AFTER),
                // Active: the last input was at most PUSH_AFTER ago (or the
                // source would have said so), and no earlier than the resume.
                None => Some(
                    s.resumed_at
                        .map_or(Duration::ZERO, |r| now.saturating_duration_since(r))
                        .min(PUSH_AFTER.saturating_sub(Duration::from_millis(1))),
                ),
            }
        })
    }
}

impl IdleSource for PushedIdle {
    fn idle_for(&mut self) -> Option<Duration> {
        self.idle_for_at(Instant::now())
    }

    fn pushes(&self) -> bool {
        self.with(|s| s.live)
    }
}

/// Which backend watches focus, as shown by `status` (`backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    X11,
    Wlroots,
    Kwin,
    Gnome,
    /// Windows' foreground window (`watch/windows.rs`).
    #[cfg(windows)]
    Windows,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::X11 => "x11",
            Backend::Wlroots => "wlroots",
            Backend::Kwin => "kwin",
            Backend::Gnome => "gnome",
            #[cfg(windows)]
            Backend::Windows => "windows",
        }
    }

    /// Where the spans it records come from.
    pub fn source(self) -> dwell_core::Source {
        match self {
            Backend::X11 => dwell_core::Source::X11,
            #[cfg(windows)]
            Backend::Windows => dwell_core::Source::Windows,
            _ => dwell_core::Source::Wayland,
        }
    }
}

/// Turns a Wayland app id (or a KWin resource class) into the window facts the
/// rules match: the class is the app id as given; the instance is its last
/// reverse-DNS part (`org.mozilla.firefox` → `firefox`), so the same rules match
/// on X11 and Wayland.
pub fn window_from_app_id(app_id: &str, title: &str, process: Option<String>) -> WindowInfo {
    let app_id = app_id.trim();
    let instance = if app_id.contains('.') && !app_id.contains(char::is_whitespace) {
        app_id.rsplit('.').next().unwrap_or(app_id)
    } else {
        app_id
    };
    WindowInfo {
        class: app_id.to_owned(),
        instance: instance.to_owned(),
        title: title.to_owned(),
        process,
        fullscreen: false,
    }
}

/// The longest title kept from a Wayland or D-Bus report, in bytes; longer ones
/// are cut at a character boundary.
pub const MAX_TITLE: usize = 4096;

/// Cuts `s` to at most `max` bytes at a character boundary.
pub fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Process names by pid through sysinfo, refreshed one pid at a time. A
/// name is kept with its process's start time: a pid reused by another
/// process (pids come from the window system and from callers on the bus)
/// is looked up again. (Linux: the start time is read from `/proc`.)
#[cfg(target_os = "linux")]
#[derive(Default)]
pub(crate) struct ProcessNames {
    system: Option<sysinfo::System>,
    cache: HashMap<u32, (u64, String)>,
}

#[cfg(target_os = "linux")]
impl ProcessNames {
    pub(crate) fn name(&mut self, pid: u32) -> Option<String> {
        let Some(started) = start_time(pid) else {
            // Gone (or not ours to see): nothing to name, nothing to keep.
            self.cache.remove(&pid);
            return None;
        };
        if let Some((_, n)) = self.cache.get(&pid).filter(|(s, _)| *s == started) {
            return Some(n.clone());
        }
        if self.system.is_none() {
            self.system = sysinfo::System::new().ok();
        }
        let system = self.system.as_mut()?;
        let spid = sysinfo::Pid::from_u32(pid);
        system.refresh_processes_specifics(
            sysinfo::ProcessesToUpdate::Some(&[spid]),
            true,
            sysinfo::ProcessRefreshKind::nothing(),
        );
        let name = system.process(spid)?.name().to_string_lossy().into_owned();
        if self.cache.len() > 256 {
            self.cache.clear();
        }
        self.cache.insert(pid, (started, name.clone()));
        Some(name)
    }

    /// A process named `name` had `pid` before (and has ended since).
    #[cfg(test)]
    fn seen_before(&mut self, pid: u32, name: &str) {
        self.cache.insert(pid, (u64::MAX, name.to_owned()));
    }
}

/// When process `pid` started (clock ticks after boot: field 22 of
/// `/proc/PID/stat`), which tells a reused pid from the process that had it.
#[cfg(target_os = "linux")]
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

/// The start time in a `/proc/PID/stat` line. The command name (field 2) is
/// in parentheses and may itself hold spaces and parentheses: fields are
/// counted from the last `)`.
#[cfg(target_os = "linux")]
fn parse_start_time(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    // `rest` starts with field 3 (the state); field 22 is the 20th of it.
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushed_idle_counts_from_the_last_input() {
        let idle = PushedIdle::new();
        let t0 = Instant::now();
        assert_eq!(idle.idle_for_at(t0), None, "not connected yet");
        idle.connected();
        idle.resumed_at(t0);
        assert_eq!(
            idle.idle_for_at(t0 + Duration::from_secs(2)),
            Some(Duration::from_secs(2))
        );
        // Still active after a long while: the input was recent, under PUSH_AFTER.
        assert!(idle.idle_for_at(t0 + Duration::from_secs(60)).unwrap() < PUSH_AFTER);
        // Idled 5 s after the last input at t0 + 10.
        idle.idled_at(t0 + Duration::from_secs(15));
        assert_eq!(
            idle.idle_for_at(t0 + Duration::from_secs(75)),
            Some(Duration::from_secs(65))
        );
        idle.resumed_at(t0 + Duration::from_secs(80));
        assert_eq!(
            idle.idle_for_at(t0 + Duration::from_secs(80)),
            Some(Duration::ZERO)
        );
        idle.lost();
        assert_eq!(idle.idle_for_at(t0 + Duration::from_secs(81)), None);
        assert!(!idle.pushes());
    }

    #[test]
    fn app_ids_become_class_and_instance() {
        let w = window_from_app_id("org.mozilla.firefox", "Home / X", None);
        assert_eq!(
            (w.class.as_str(), w.instance.as_str()),
            ("org.mozilla.firefox", "firefox")
        );
        let w = window_from_app_id("discord", "", Some("Discord".into()));
        assert_eq!(
            (w.class.as_str(), w.instance.as_str()),
            ("discord", "discord")
        );
    }

    /// A pid seen before, now reused by another process (here: this test),
    /// gets the new process's name, not the cached one.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_reused_pid_gets_its_new_name() {
        let mut names = ProcessNames::default();
        let pid = std::process::id();
        names.seen_before(pid, "slack");
        let name = names.name(pid).unwrap();
        assert_ne!(name, "slack");
        assert_eq!(names.name(pid).unwrap(), name, "cached while it lives");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_start_time_is_read_past_a_name_with_parentheses() {
        let stat =
            "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_time(stat), Some(987_654));
        assert_eq!(parse_start_time("garbage"), None);
        assert!(start_time(std::process::id()).is_some());
    }

    #[test]
    fn cut_keeps_whole_characters() {
        assert_eq!(cut("abc", 10), "abc");
        assert_eq!(cut("aé", 2), "a");
        assert_eq!(cut(&"x".repeat(5000), MAX_TITLE).len(), MAX_TITLE);
    }
}
