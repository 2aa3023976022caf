//! The Windows watcher and idle source.
//!
//! The watcher runs on its own thread, blocked in its message loop: a WinEvent
//! hook (out of context, so the system posts to this thread and nothing of dwell
//! runs inside other programs) reports every `EVENT_SYSTEM_FOREGROUND`, and a
//! second hook, moved to the foreground window's process at each change, its
//! `EVENT_OBJECT_NAMECHANGE` (title changes), kept only for the foreground window
//! itself. A hidden window of the same thread gets `WM_WTSSESSION_CHANGE`
//! (lock, unlock) and `WM_POWERBROADCAST` (suspend, resume). Each becomes a
//! [`WatchEvent`]; while nothing happens the thread does not wake.
//!
//! The app is the process image name: `msedge.exe` gives the class and
//! instance `msedge` and the process `msedge.exe`, so core's rules see the
//! same names as on Linux (`msedge`, `chrome`, `firefox` are browsers, whose
//! titles are read; `Discord` is an app; `WINWORD` is neither, so its titles are
//! never looked at).
//!
//! Idle is polled through `GetLastInputInfo` ([`WindowsIdle`]): the run loop asks
//! it only when the idle timeout could first be reached, and while idle (see
//! [`crate::run`]). Windows has no "input stopped" notification short of
//! low-level input hooks, which would see every key.
//!
//! Every Win32 call is in [`sys`], the watcher's one module allowed `unsafe`;
//! this one is safe code and the pure parts (image names, fullscreen, lock and power
//! codes, tick arithmetic) are unit-tested (under Wine here).

mod sys;

use std::time::Duration;

use anyhow::{Context, Result};
use dwell_core::config::BackendChoice;
use dwell_core::WindowInfo;
use tokio::sync::mpsc;
use windows_sys::Win32::UI::WindowsAndMessaging::{
    PBT_APMRESUMEAUTOMATIC, PBT_APMRESUMESUSPEND, PBT_APMSUSPEND, WTS_SESSION_LOCK,
    WTS_SESSION_UNLOCK,
};

use super::{cut, Backend, IdleSource, WatchEvent, Watching, MAX_TITLE};

/// The idle source's name, as `status` shows it (`idle_source`).
pub const IDLE_NAME: &str = "getlastinputinfo";

/// Starts the Windows watcher, sending to `tx`, and gives the run loop what it
/// listens to (the same interface as Linux's `select::start`). `[tracking]
/// backend` names Linux backends only: anything but `auto` is said once and
/// ignored.
pub fn start(choice: BackendChoice, tx: mpsc::Sender<WatchEvent>) -> Result<Watching> {
    if choice != BackendChoice::Auto {
        tracing::warn!("[tracking] backend names a Linux backend; Windows has one watcher");
    }
    let watcher = spawn(tx).context("cannot start the Windows watcher thread")?;
    Ok(Watching {
        backend: Backend::Windows,
        idle: Box::new(WindowsIdle::default()),
        idle_name: Some(IDLE_NAME),
        guard: Some(Box::new(watcher)),
        hint: None,
    })
}

/// The running watcher thread; dropping it ends its message loop (the thread
/// then only unhooks). It also ends by itself when the run loop drops its
/// receiver (at the next event).
#[derive(Debug)]
pub struct Watcher {
    thread: u32,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        if self.thread != 0 {
            sys::quit(self.thread);
        }
    }
}

/// Starts the watcher thread, sending to `tx`. It has its hooks and window in
/// place when this returns.
pub fn spawn(tx: mpsc::Sender<WatchEvent>) -> std::io::Result<Watcher> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("windows-watcher".into())
        .spawn(move || watch(tx, &ready_tx))?;
    // The thread says its id once its message queue exists (or it failed).
    let thread = ready_rx.recv().unwrap_or(0);
    Ok(Watcher { thread })
}

/// Said when the system refuses the foreground hook.
const NO_HOOK: &str = "Windows refused dwell's foreground hook (SetWinEventHook), so dwell cannot see which window has focus";

fn watch(tx: mpsc::Sender<WatchEvent>, ready: &std::sync::mpsc::Sender<u32>) {
    let hook = sys::Hook::foreground();
    let window = sys::NoticeWindow::create();
    // The window exists: this thread has a message queue, so `quit` reaches it.
    let _ = ready.send(sys::thread_id());
    if hook.is_none() {
        tracing::error!("{NO_HOOK}");
        let _ = tx.blocking_send(WatchEvent::Untrackable(NO_HOOK.to_owned()));
        return;
    }
    match &window {
        None => tracing::warn!(
            "cannot create the watcher's hidden window: lock and suspend are seen only as clock gaps"
        ),
        Some(w) if !w.sees_sessions() => tracing::warn!(
            "cannot register for session notifications: a locked screen is not seen as away"
        ),
        Some(_) => {}
    }
    let mut focus = Focus::new(tx);
    if !focus.send(WatchEvent::Connected) || !focus.refresh(sys::foreground()) {
        return;
    }
    tracing::debug!("Windows watcher started");
    if !sys::pump(move |notice| focus.on(notice)) {
        tracing::warn!("the Windows watcher's message loop failed; focus is no longer seen");
    }
    drop(window);
    drop(hook);
}

/// The foreground window as last read.
struct Current {
    window: sys::Window,
    pid: u32,
    image: Option<String>,
}

/// The watcher's state on its thread: what it last sent, the foreground
/// window and the name hook on its process.
struct Focus {
    tx: mpsc::Sender<WatchEvent>,
    last_sent: Option<Option<WindowInfo>>,
    current: Option<Current>,
    /// Name changes of this process are hooked.
    name_hook: Option<(u32, sys::Hook)>,
    away: Away,
}

impl Focus {
    fn new(tx: mpsc::Sender<WatchEvent>) -> Focus {
        Focus {
            tx,
            last_sent: None,
            current: None,
            name_hook: None,
            away: Away::default(),
        }
    }

    /// Sends `event`; `false` once the run loop has gone.
    fn send(&self, event: WatchEvent) -> bool {
        self.tx.blocking_send(event).is_ok()
    }

    /// Handles one notice; `false` ends the loop.
    fn on(&mut self, notice: sys::Notice) -> bool {
        tracing::trace!(?notice, "Windows watcher notice");
        match notice {
            sys::Notice::Foreground(w) => self.refresh(Some(w)),
            sys::Notice::NameChanged(w) => {
                if self.current.as_ref().is_some_and(|c| c.window == w) {
                    self.refresh(Some(w))
                } else {
                    true
                }
            }
            sys::Notice::Session(code) => self.away.session(code).is_none_or(|e| self.send(e)),
            sys::Notice::Power(code) => self.away.power(code).is_none_or(|e| self.send(e)),
        }
    }

    /// Reads the foreground window `w` and sends it when it differs from what
    /// was sent last; `false` once the run loop has gone.
    fn refresh(&mut self, w: Option<sys::Window>) -> bool {
        let info = w.and_then(|w| self.read(w));
        if self.last_sent.as_ref() == Some(&info) {
            return true;
        }
        self.last_sent = Some(info.clone());
        self.send(WatchEvent::Focus(info))
    }

    /// The facts of window `w`; `None` when it has gone.
    fn read(&mut self, w: sys::Window) -> Option<WindowInfo> {
        let pid = sys::process_id(w)?;
        let known = self
            .current
            .as_ref()
            .is_some_and(|c| c.window == w && c.pid == pid);
        if !known {
            if self.name_hook.as_ref().map(|(p, _)| *p) != Some(pid) {
                // The old hook goes first: one process hooked at a time.
                self.name_hook = None;
                self.name_hook = sys::Hook::name_changes(pid).map(|h| (pid, h));
            }
            self.current = Some(Current {
                window: w,
                pid,
                image: sys::image_path(pid),
            });
        }
        let title = sys::title(w);
        let fullscreen = sys::window_and_monitor(w)
            .is_some_and(|(win, mon)| covers(win, mon) && !is_desktop(&sys::class_name(w)));
        let image = self.current.as_ref().and_then(|c| c.image.as_deref());
        Some(window_from_image(image, &title, fullscreen))
    }
}

/// The window facts the rules match, from a process image path (or name)
/// and a title: class and instance are the program's name without `.exe`,
/// the process its file name. An unknown image gives empty names.
pub fn window_from_image(image: Option<&str>, title: &str, fullscreen: bool) -> WindowInfo {
    let file = image
        .map(|p| p.rsplit(['\\', '/']).next().unwrap_or(p).trim())
        .unwrap_or("");
    let stem = match file.len().checked_sub(4) {
        Some(i) if file.is_char_boundary(i) && file[i..].eq_ignore_ascii_case(".exe") => &file[..i],
        _ => file,
    };
    WindowInfo {
        class: stem.to_owned(),
        instance: stem.to_owned(),
        title: cut(title, MAX_TITLE).to_owned(),
        process: (!file.is_empty()).then(|| file.to_owned()),
        fullscreen,
    }
}

/// Whether a window's rectangle covers its whole monitor.
fn covers(win: sys::Rect, monitor: sys::Rect) -> bool {
    win.0 <= monitor.0 && win.1 <= monitor.1 && win.2 >= monitor.2 && win.3 >= monitor.3
}

/// The desktop itself (the shell's wallpaper windows) covers the monitor
/// without being a fullscreen program.
fn is_desktop(class: &str) -> bool {
    class == "Progman" || class == "WorkerW"
}

/// Lock and sleep as last told to the run loop: the system repeats itself
/// (two resume messages after one suspend), the run loop hears each change once.
#[derive(Debug, Default)]
struct Away {
    locked: bool,
    asleep: bool,
}

impl Away {
    /// A `WM_WTSSESSION_CHANGE` code.
    fn session(&mut self, code: u32) -> Option<WatchEvent> {
        let locked = match code {
            WTS_SESSION_LOCK => true,
            WTS_SESSION_UNLOCK => false,
            _ => return None,
        };
        (locked != self.locked).then(|| {
            self.locked = locked;
            WatchEvent::Locked(locked)
        })
    }

    /// A `WM_POWERBROADCAST` code.
    fn power(&mut self, code: u32) -> Option<WatchEvent> {
        let asleep = match code {
            PBT_APMSUSPEND => true,
            PBT_APMRESUMEAUTOMATIC | PBT_APMRESUMESUSPEND => false,
            _ => return None,
        };
        (asleep != self.asleep).then(|| {
            self.asleep = asleep;
            WatchEvent::Sleeping(asleep)
        })
    }
}

/// How long since the last input, from `GetLastInputInfo` (polled: see the
/// module's doc).
#[derive(Debug, Default)]
pub struct WindowsIdle {
    warned: bool,
}

impl IdleSource for WindowsIdle {
    fn idle_for(&mut self) -> Option<Duration> {
        match sys::input_ticks() {
            Some((last, now)) => Some(since_input(last, now)),
            None => {
                if !self.warned {
                    self.warned = true;
                    tracing::warn!("cannot read the time of the last input (GetLastInputInfo)");
                }
                None
            }
        }
    }
}

/// The time from the last input to now, both tick counts (ms, wrapping every
/// 49.7 days). An input newer than `now` (the two are read one after the
/// other) is just now.
fn since_input(last: u32, now: u32) -> Duration {
    let ms = now.wrapping_sub(last);
    if ms > u32::MAX / 2 {
        return Duration::ZERO;
    }
    Duration::from_millis(u64::from(ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dwell_core::rules::Classifier;
    use dwell_core::Activity;

    #[test]
    fn the_app_is_the_image_name() {
        let w = window_from_image(
            Some(r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe"),
            "Home / X - Personal - Microsoft\u{200b} Edge",
            false,
        );
        assert_eq!(
            (w.class.as_str(), w.instance.as_str()),
            ("msedge", "msedge")
        );
        assert_eq!(w.process.as_deref(), Some("msedge.exe"));
        let w = window_from_image(Some(r"C:\x\Discord.EXE"), "", true);
        assert_eq!(
            (w.class.as_str(), w.process.as_deref()),
            ("Discord", Some("Discord.EXE"))
        );
        assert!(w.fullscreen);
        let w = window_from_image(Some("/opt/app"), "t", false);
        assert_eq!(
            (w.class.as_str(), w.process.as_deref()),
            ("app", Some("app"))
        );
        let w = window_from_image(None, "t", false);
        assert_eq!((w.class.as_str(), w.process), ("", None));
        let w = window_from_image(Some(r"C:\é.exe"), "", false);
        assert_eq!(w.class, "é");
        let long = "é".repeat(MAX_TITLE);
        assert!(window_from_image(None, &long, false).title.len() <= MAX_TITLE);
    }

    /// Core's rules see Windows programs as they see Linux ones: titles count
    /// in browsers only, apps by name.
    #[test]
    fn core_rules_apply_to_windows_programs() {
        let rules = Classifier::new(&[], &[]).expect("built-in rules");
        let classify = |image: &str, title: &str| {
            rules.classify(&window_from_image(Some(image), title, false))
        };
        let social = |label: &str| Activity::Social(label.to_owned());
        for browser in [
            r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
            r"C:\Program Files\Google\Chrome\Application\chrome.exe",
            r"C:\Program Files\Mozilla Firefox\firefox.exe",
            r"C:\Program Files\BraveSoftware\Brave-Browser\Application\brave.exe",
        ] {
            assert_eq!(
                classify(browser, "Facebook"),
                social("facebook.com"),
                "{browser}"
            );
        }
        assert_eq!(
            classify(
                r"C:\e\msedge.exe",
                "(3) Facebook - Personal - Microsoft\u{200b} Edge"
            ),
            social("facebook.com")
        );
        assert_eq!(
            classify(r"C:\f\firefox.exe", "Home / X — Mozilla Firefox"),
            social("x.com")
        );
        assert_eq!(
            classify(
                r"C:\Users\a\AppData\Local\Discord\app-1.0\Discord.exe",
                "#general"
            ),
            social("discord.com")
        );
        assert_eq!(
            classify(r"C:\t\Telegram.exe", "Telegram"),
            social("web.telegram.org")
        );
        assert_eq!(
            classify(r"C:\w\WhatsApp.exe", "WhatsApp"),
            social("web.whatsapp.com")
        );
        // The Word trap: a document named after Facebook is not social time.
        assert_eq!(
            classify(
                r"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE",
                "Facebook - Word"
            ),
            Activity::Other
        );
        assert_eq!(
            classify(r"C:\Windows\explorer.exe", "Facebook"),
            Activity::Other
        );
        // Chromium-based apps are not browsers (their window class is Chrome's).
        assert_eq!(classify(r"C:\m\ms-teams.exe", "Facebook"), Activity::Other);
    }

    #[test]
    fn fullscreen_is_a_window_over_its_whole_monitor() {
        let monitor = (0, 0, 1920, 1080);
        assert!(covers((0, 0, 1920, 1080), monitor));
        assert!(covers((-8, -8, 1928, 1088), monitor), "borders outside");
        assert!(
            !covers((0, 0, 1920, 1040), monitor),
            "maximised above the taskbar"
        );
        assert!(covers((1920, 0, 3840, 1080), (1920, 0, 3840, 1080)));
        assert!(!covers((0, 0, 1920, 1080), (1920, 0, 3840, 1080)));
        assert!(is_desktop("Progman") && is_desktop("WorkerW"));
        assert!(!is_desktop("Chrome_WidgetWin_1"));
    }

    #[test]
    fn lock_and_sleep_are_told_once_per_change() {
        let mut away = Away::default();
        assert_eq!(away.session(WTS_SESSION_UNLOCK), None, "not locked");
        assert_eq!(
            away.session(WTS_SESSION_LOCK),
            Some(WatchEvent::Locked(true))
        );
        assert_eq!(away.session(WTS_SESSION_LOCK), None);
        assert_eq!(away.session(1), None, "a console connect says nothing");
        assert_eq!(
            away.session(WTS_SESSION_UNLOCK),
            Some(WatchEvent::Locked(false))
        );
        assert_eq!(away.power(PBT_APMRESUMEAUTOMATIC), None, "not asleep");
        assert_eq!(away.power(PBT_APMSUSPEND), Some(WatchEvent::Sleeping(true)));
        // Both resume messages come after a suspend the employee woke from.
        assert_eq!(
            away.power(PBT_APMRESUMEAUTOMATIC),
            Some(WatchEvent::Sleeping(false))
        );
        assert_eq!(away.power(PBT_APMRESUMESUSPEND), None);
        assert_eq!(away.power(10), None, "a power status change says nothing");
    }

    #[test]
    fn idle_is_counted_across_the_tick_wrap() {
        let ms = Duration::from_millis;
        assert_eq!(since_input(1000, 6000), ms(5000));
        assert_eq!(since_input(u32::MAX - 999, 4000), ms(5000), "wrapped");
        assert_eq!(since_input(6001, 6000), ms(0), "input after the tick read");
        assert_eq!(since_input(0, 0), ms(0));
    }
}
