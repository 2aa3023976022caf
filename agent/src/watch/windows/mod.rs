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
//! The same window hears the end of the session (log-off, shut-down, restart,
//! or an installer closing dwell): it answers `WM_QUERYENDSESSION` with yes,
//! and at `WM_ENDSESSION` raises [`session_end`], which the agent's control
//! hears as it hears `disable` ([`crate::control`]), then holds the window
//! procedure (Windows ends the process once it returns) until the run loop
//! has closed the open span and written it, [`END_WAIT`] at most. Without it
//! a log-off would lose up to the last checkpoint's 10 s.
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

use std::sync::{Arc, Condvar, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, Result};
use dwell_core::config::BackendChoice;
use dwell_core::WindowInfo;
use tokio::sync::mpsc;
use windows_sys::Win32::UI::WindowsAndMessaging::{
    ENDSESSION_CLOSEAPP, ENDSESSION_LOGOFF, PBT_APMRESUMEAUTOMATIC, PBT_APMRESUMESUSPEND,
    PBT_APMSUSPEND, WTS_SESSION_LOCK, WTS_SESSION_UNLOCK,
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

/// How long the window holds Windows' end of the session while the run loop
/// stops: Windows says an app "is preventing" the log-off after about 5 s,
/// and ends it.
pub const END_WAIT: Duration = Duration::from_secs(4);

/// Raised once the session ends (log-off, shut-down, restart; or the Restart
/// Manager closing dwell for an installer): the watcher's window heard
/// `WM_ENDSESSION`. Never lowered: the process is about to end.
static SESSION_END: LazyLock<tokio::sync::watch::Sender<bool>> =
    LazyLock::new(|| tokio::sync::watch::channel(false).0);

/// Becomes `true` when the session ends: the agent's control stops the run
/// loop at it, as at `disable` ([`crate::control`]).
pub fn session_end() -> tokio::sync::watch::Receiver<bool> {
    SESSION_END.subscribe()
}

/// Whether the run loop is over: set when the [`Watcher`] is dropped, which
/// [`crate::run::run`] does once the loop has closed its span, written it and
/// closed the store.
#[derive(Debug, Default)]
struct Finished {
    done: Mutex<bool>,
    cond: Condvar,
}

impl Finished {
    fn set(&self) {
        *self.done.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.cond.notify_all();
    }

    /// Waits until it is set, `bound` at most; whether it was.
    fn wait(&self, bound: Duration) -> bool {
        let done = self.done.lock().unwrap_or_else(PoisonError::into_inner);
        let (done, _) = self
            .cond
            .wait_timeout_while(done, bound, |done| !*done)
            .unwrap_or_else(PoisonError::into_inner);
        *done
    }
}

/// The running watcher thread; dropping it ends its message loop (the thread
/// then only unhooks) and tells a window holding the end of the session that
/// the loop is over. The thread also ends by itself when the run loop drops
/// its receiver (at the next event).
#[derive(Debug)]
pub struct Watcher {
    thread: u32,
    finished: Arc<Finished>,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.finished.set();
        if self.thread != 0 {
            sys::quit(self.thread);
        }
    }
}

/// Starts the watcher thread, sending to `tx`. It has its hooks and window in
/// place when this returns.
pub fn spawn(tx: mpsc::Sender<WatchEvent>) -> std::io::Result<Watcher> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let finished = Arc::new(Finished::default());
    let theirs = Arc::clone(&finished);
    std::thread::Builder::new()
        .name("windows-watcher".into())
        .spawn(move || watch(Focus::new(tx, theirs, &SESSION_END), &ready_tx))?;
    // The thread says its id once its message queue exists (or it failed).
    let thread = ready_rx.recv().unwrap_or(0);
    Ok(Watcher { thread, finished })
}

/// Said when the system refuses the foreground hook.
const NO_HOOK: &str = "Windows refused dwell's foreground hook (SetWinEventHook), so dwell cannot see which window has focus";

fn watch(mut focus: Focus, ready: &std::sync::mpsc::Sender<u32>) {
    let hook = sys::Hook::foreground();
    let window = sys::NoticeWindow::create();
    // The window exists: this thread has a message queue, so `quit` reaches it.
    let _ = ready.send(sys::thread_id());
    if hook.is_none() {
        tracing::error!("{NO_HOOK}");
        let _ = focus.send(WatchEvent::Untrackable(NO_HOOK.to_owned()));
        return;
    }
    match &window {
        None => tracing::warn!(
            "cannot create the watcher's hidden window: lock and suspend are seen only as clock gaps, and a log-off loses up to the last 10 s"
        ),
        Some(w) if !w.sees_sessions() => tracing::warn!(
            "cannot register for session notifications: a locked screen is not seen as away"
        ),
        Some(_) => {}
    }
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
    /// Set when the run loop is over (the [`Watcher`] dropped).
    finished: Arc<Finished>,
    /// Raised at the end of the session ([`SESSION_END`]; a test's own).
    session_end: &'static tokio::sync::watch::Sender<bool>,
}

impl Focus {
    fn new(
        tx: mpsc::Sender<WatchEvent>,
        finished: Arc<Finished>,
        session_end: &'static tokio::sync::watch::Sender<bool>,
    ) -> Focus {
        Focus {
            tx,
            last_sent: None,
            current: None,
            name_hook: None,
            away: Away::default(),
            finished,
            session_end,
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
            sys::Notice::SessionEnding(flags) => {
                self.session_ending(flags, END_WAIT);
                true
            }
        }
    }

    /// The session ends: asks the run loop to stop, and waits until it has
    /// (its span closed and written), `bound` at most; `true` if it has.
    /// Windows ends the process once this returns.
    fn session_ending(&self, flags: u32, bound: Duration) -> bool {
        tracing::info!("Windows ends the session ({}): stopping", ending(flags));
        self.session_end.send_replace(true);
        let stopped = self.finished.wait(bound);
        if stopped {
            tracing::debug!("stopped before the end of the session");
        } else {
            tracing::warn!(
                "not stopped within {} s of the end of the session: Windows ends dwell now, and up to the last 10 s are lost",
                bound.as_secs()
            );
        }
        stopped
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

/// What ends, from `WM_ENDSESSION`'s flags (for the log).
fn ending(flags: u32) -> &'static str {
    if flags & ENDSESSION_CLOSEAPP != 0 {
        "an installer or update closes dwell"
    } else if flags & ENDSESSION_LOGOFF != 0 {
        "log-off"
    } else {
        "shut-down or restart"
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
#[allow(clippy::unwrap_used)]
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
    fn the_end_of_the_session_is_named_in_the_log() {
        assert_eq!(ending(ENDSESSION_LOGOFF), "log-off");
        assert_eq!(ending(0), "shut-down or restart");
        assert_eq!(ending(0x4000_0000), "shut-down or restart", "critical");
        assert_eq!(
            ending(ENDSESSION_CLOSEAPP | ENDSESSION_LOGOFF),
            "an installer or update closes dwell"
        );
    }

    /// Dropping the watcher (what the run loop's end does) is what a window
    /// holding the end of the session waits for.
    #[test]
    fn the_watchers_drop_says_the_loop_is_over() {
        let finished = Arc::new(Finished::default());
        assert!(!finished.wait(Duration::ZERO));
        drop(Watcher {
            thread: 0,
            finished: Arc::clone(&finished),
        });
        assert!(finished.wait(Duration::ZERO));
    }

    /// At `WM_ENDSESSION` the run loop is asked to stop, and the window
    /// procedure returns only once it has, or after the bound.
    #[test]
    fn the_end_of_the_session_stops_the_loop_and_waits_for_it() {
        let session_end: &'static tokio::sync::watch::Sender<bool> =
            Box::leak(Box::new(tokio::sync::watch::channel(false).0));
        let mut heard = session_end.subscribe();
        let (tx, _rx) = mpsc::channel(1);
        let finished = Arc::new(Finished::default());
        let focus = Focus::new(tx, Arc::clone(&finished), session_end);
        // The run loop: stops when told, then drops the watcher.
        let run_loop = std::thread::spawn(move || {
            let started = std::time::Instant::now();
            while !*heard.borrow_and_update() {
                assert!(started.elapsed() < Duration::from_secs(10), "never told");
                std::thread::sleep(Duration::from_millis(5));
            }
            std::thread::sleep(Duration::from_millis(200));
            finished.set();
        });
        let started = std::time::Instant::now();
        assert!(focus.session_ending(ENDSESSION_LOGOFF, Duration::from_secs(10)));
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(200) && waited < Duration::from_secs(10),
            "{waited:?}"
        );
        run_loop.join().unwrap();
        // A loop that never stops: the window lets Windows go on at the bound.
        let (tx, _rx) = mpsc::channel(1);
        let stuck = Focus::new(tx, Arc::new(Finished::default()), session_end);
        let started = std::time::Instant::now();
        assert!(!stuck.session_ending(0, Duration::from_millis(100)));
        assert!(started.elapsed() >= Duration::from_millis(100));
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
