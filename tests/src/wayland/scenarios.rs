//! The Wayland end-to-end scenarios, the same on every compositor (the test files
//! `wayland_sway.rs`, `wayland_kwin.rs`, `wayland_gnome.rs` and `session_lock.rs` run them):
//! the real `dwell-agent run` with `backend = "auto"` in a [`WaylandSession`], the truth
//! measured with [`Instant`], and what the agent stored compared with it (±1 s).

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use super::Version;
use super::{Compositor, WaylandOptions, WaylandSession};
use crate::{sqlite_json, wait_until, Child, Dwell, Session};

/// Recorded seconds may differ from the truth by this much.
pub const TOLERANCE: f64 = 1.0;

/// Records always, no reminders in the way, long idle timeout; backend chosen by `auto`.
pub const ALWAYS: &str = "[tracking]\nbackend = \"auto\"\nidle_timeout = \"10m\"\n\
                          [schedule]\nrecord = \"always\"\n[reminders]\nenabled = false\n";

/// As [`ALWAYS`] with a 5 s idle timeout (the smallest the config accepts).
pub const IDLE_5S: &str = "[tracking]\nbackend = \"auto\"\nidle_timeout = \"5s\"\n\
                           [schedule]\nrecord = \"always\"\n[reminders]\nenabled = false\n";

/// The Wayland globals release `version` of `compositor` must offer and must not offer:
/// what the agent's backend there relies on (and, on KWin, fake input for the tests; on
/// Hyprland and labwc, the virtual pointer), and why GNOME needs its extension (no toplevel
/// or idle protocol for clients). sway 1.7 has only `org_kde_kwin_idle`; `ext-idle-notify-v1`
/// came with sway 1.8, and sway 1.10 (wlroots 0.18) dropped `org_kde_kwin_idle`.
pub fn expected_globals(
    compositor: Compositor,
    version: Version,
) -> (&'static [&'static str], &'static [&'static str]) {
    match compositor {
        Compositor::Sway if !version.at_least(1, 8) => (
            &["zwlr_foreign_toplevel_manager_v1", "org_kde_kwin_idle"],
            &["ext_idle_notifier_v1"],
        ),
        Compositor::Sway if !version.at_least(1, 10) => (
            &[
                "zwlr_foreign_toplevel_manager_v1",
                "ext_idle_notifier_v1",
                "org_kde_kwin_idle",
            ],
            &[],
        ),
        Compositor::Sway => (
            &["zwlr_foreign_toplevel_manager_v1", "ext_idle_notifier_v1"],
            &["org_kde_kwin_idle"],
        ),
        Compositor::Hyprland | Compositor::Labwc => (
            &[
                "zwlr_foreign_toplevel_manager_v1",
                "ext_idle_notifier_v1",
                "zwlr_virtual_pointer_manager_v1",
            ],
            &[],
        ),
        Compositor::Kwin if version.at_least(6, 0) => (
            &["ext_idle_notifier_v1", "org_kde_kwin_fake_input"],
            &["zwlr_foreign_toplevel_manager_v1"],
        ),
        Compositor::Kwin => (
            &[
                "ext_idle_notifier_v1",
                "org_kde_kwin_idle",
                "org_kde_kwin_fake_input",
            ],
            &["zwlr_foreign_toplevel_manager_v1"],
        ),
        Compositor::Gnome => (
            &["xdg_wm_base"],
            &[
                "zwlr_foreign_toplevel_manager_v1",
                "ext_idle_notifier_v1",
                "org_kde_kwin_idle",
            ],
        ),
    }
}

/// The session of `compositor` without the agent: the expected globals, windows get the
/// right app id and title, focus switches, a title change shows, input resets the
/// compositor's idle state, and the compositor can be killed and started again.
pub fn harness_windows_focus_input_and_restart(compositor: Compositor) {
    let session = WaylandSession::start(compositor, WaylandOptions::default());
    let (present, absent) = expected_globals(compositor, session.version());
    session.assert_globals(present, absent);
    let fb = session.open_window("firefox", "Facebook — Mozilla Firefox");
    let discord = session.open_window("discord", "Discord");
    let focused = session.focused().expect("a window has focus");
    assert_eq!(
        (focused.app_id.as_str(), focused.pid),
        ("discord", discord.pid())
    );
    fb.focus();
    let focused = session.focused().expect("a window has focus");
    assert_eq!(focused.app_id, "firefox");
    assert_eq!(focused.title, "Facebook — Mozilla Firefox");
    fb.set_title("Jane Doe | Facebook — Mozilla Firefox");
    assert_eq!(
        session.focused().map(|f| f.title),
        Some("Jane Doe | Facebook — Mozilla Firefox".to_owned())
    );
    session.nudge_input();
    session.nudge_input();
    session.kill_compositor();
    assert!(!session.compositor_running());
    assert!(
        wait_until(Duration::from_secs(5), || !fb.is_running()),
        "the window outlived its compositor"
    );
    session.start_compositor();
    let again = session.open_window("discord", "Discord");
    assert_eq!(session.focused().map(|f| f.pid), Some(again.pid()));
    session.nudge_input();
}

/// The same five tests for one compositor: the four agent scenarios (focus script, idle,
/// title privacy, the compositor going away) and the harness test. Each compositor's test
/// file is one call, so they run as separate test binaries. Attributes after the
/// compositor go on every test (Hyprland and labwc: `#[ignore = …]` on this Debian 12
/// host, which has neither; `scripts/roots` runs them with `--include-ignored` in the
/// forky root).
#[macro_export]
macro_rules! wayland_tests {
    ($compositor:expr $(, #[$attr:meta])*) => {
        use $crate::wayland_scenarios as scenario;

        #[test]
        $(#[$attr])*
        fn a_focus_script_is_counted_per_site_and_status_names_the_backend() {
            scenario::focus_script_is_counted_per_site($compositor);
        }

        #[test]
        $(#[$attr])*
        fn idle_time_is_cut_back_to_the_last_input() {
            scenario::idle_is_cut_back_to_the_last_input($compositor);
        }

        #[test]
        $(#[$attr])*
        fn titles_are_never_stored_or_logged() {
            scenario::titles_are_never_stored_or_logged($compositor);
        }

        #[test]
        $(#[$attr])*
        fn the_agent_survives_the_compositor_going_away() {
            scenario::survives_the_compositor_going_away($compositor);
        }

        #[test]
        $(#[$attr])*
        fn harness_windows_focus_input_and_restart() {
            scenario::harness_windows_focus_input_and_restart($compositor);
        }
    };
}

/// What `status --json` must say in a session of release `version` of `compositor`:
/// (`backend`, `idle_source`). The agent prefers `ext-idle-notify-v1` when offered.
pub fn expected_status(compositor: Compositor, version: Version) -> (&'static str, &'static str) {
    match compositor {
        Compositor::Sway if !version.at_least(1, 8) => ("wlroots", "kde-idle"),
        Compositor::Sway | Compositor::Hyprland | Compositor::Labwc => {
            ("wlroots", "ext-idle-notify")
        }
        Compositor::Kwin => ("kwin", "ext-idle-notify"),
        Compositor::Gnome => ("gnome", "mutter"),
    }
}

pub type WlDwell<'s> = Dwell<'s, WaylandSession>;

/// Starts a session of `compositor` with a dwell installation that has opted in (for
/// GNOME, `dwell-agent gnome-extension install` runs before the shell starts, as a user
/// does), and hands both to `body`.
pub fn with_dwell(
    compositor: Compositor,
    config: &str,
    body: impl FnOnce(&WaylandSession, &WlDwell<'_>),
) {
    let session = WaylandSession::prepare(compositor, WaylandOptions::default());
    let dwell = Dwell::new(&session, config);
    dwell.enable();
    if compositor == Compositor::Gnome {
        let out = dwell.agent(&["gnome-extension", "install"]);
        assert!(
            out.status.success(),
            "`dwell-agent gnome-extension install` failed ({}): the agent must write its \
             extension under $XDG_DATA_HOME/gnome-shell/extensions/dwell-focus@dwell/ and \
             enable it with gsettings:\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    session.start_compositor();
    if compositor == Compositor::Gnome {
        assert_gnome_extension_enabled(&session, "dwell-focus@dwell");
    }
    body(&session, &dwell);
}

/// Panics unless GNOME Shell has `uuid` loaded and enabled (state 1), showing its error.
pub fn assert_gnome_extension_enabled(session: &WaylandSession, uuid: &str) {
    let info = session.gdbus(
        super::Bus::Session,
        "org.gnome.Shell",
        "/org/gnome/Shell",
        "org.gnome.Shell.Extensions.GetExtensionInfo",
        &[uuid],
    );
    assert!(
        info.contains("'state': <1.0>") || info.contains("'state': <1>"),
        "GNOME Shell did not enable the agent's extension {uuid} (state 1 = enabled, 3 = \
         error, 6 = initialized but not enabled):\n{info}"
    );
}

/// Starts `dwell-agent run` and waits until it watches focus; returns it with the clock
/// started at that moment. On KWin, "watching" means its KWin script is loaded: KWin
/// 5.27 reads (hashes) the whole executable of a new Wayland client, which stalls it for
/// ~2 s with a 120 MB debug build of the agent, and the script waits behind that.
pub fn start_agent(session: &WaylandSession, dwell: &WlDwell<'_>, log: &str) -> (Child, Clock) {
    let agent = dwell.start_watching_at(log);
    if session.compositor() == Compositor::Kwin {
        wait_for_kwin_script(session, &agent);
    }
    (agent, Clock::now())
}

/// Opens a work editor and then a window `app_id` with `title`, gives the editor focus, starts
/// the agent, and then focuses the other window. Returns that window, the agent, the clock
/// and the moment of the switch on it. (Only the focus-script scenario relies on the agent
/// seeing the window that has focus when it starts.)
pub fn start_then_focus<'s>(
    session: &'s WaylandSession,
    dwell: &WlDwell<'_>,
    app_id: &str,
    title: &str,
) -> (super::WaylandWindow<'s>, Child, Clock, f64) {
    let work = session.open_window("org.gnome.TextEditor", "notes.txt");
    let window = session.open_window(app_id, title);
    work.focus();
    let (agent, clock) = start_agent(session, dwell, "debug");
    thread::sleep(Duration::from_millis(300));
    let t0 = clock.during(|| window.focus());
    (window, agent, clock, t0)
}

/// Waits until the agent's KWin script (`dwell-focus`) is loaded; panics with the log if not.
pub fn wait_for_kwin_script(session: &WaylandSession, agent: &Child) {
    let loaded = crate::wait_until(Duration::from_secs(10), || {
        session
            .run(
                "dbus-send",
                [
                    "--session",
                    "--print-reply",
                    "--dest=org.kde.KWin",
                    "/Scripting",
                    "org.kde.kwin.Scripting.isScriptLoaded",
                    "string:dwell-focus",
                ],
            )
            .stdout
            .ends_with(b"boolean true\n")
    });
    assert!(
        loaded,
        "the agent did not load its KWin script `dwell-focus` within 10 s:\n{}",
        agent.stderr_text()
    );
}

/// `dwell-agent status --json`.
pub fn status(dwell: &WlDwell<'_>) -> serde_json::Value {
    let out = dwell.agent(&["status", "--json"]);
    assert!(
        out.status.success(),
        "dwell-agent status --json failed: {out:?}"
    );
    serde_json::from_slice(&out.stdout).expect("status --json prints JSON")
}

/// Panics unless `status --json` names the backend and idle source of the session's
/// compositor, and on GNOME says the agent's extension is active (once the agent has
/// asked the shell).
pub fn assert_status_names_backend(session: &WaylandSession, dwell: &WlDwell<'_>) {
    let compositor = session.compositor();
    let (backend, idle) = expected_status(compositor, session.version());
    let extension = match compositor {
        Compositor::Gnome => serde_json::json!({"state": "active", "error": null}),
        _ => serde_json::Value::Null,
    };
    let mut st = status(dwell);
    wait_until(Duration::from_secs(5), || {
        st = status(dwell);
        st["gnome_extension"] == extension
    });
    assert_eq!(
        (st["backend"].as_str(), st["idle_source"].as_str()),
        (Some(backend), Some(idle)),
        "status --json on {} {} must say backend={backend:?} idle_source={idle:?}; it says:\n{st:#}",
        compositor.name(),
        session.version()
    );
    assert_eq!(st["gnome_extension"], extension, "{st:#}");
}

/// Panics unless `got` is within [`TOLERANCE`] of `want`.
pub fn assert_near(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOLERANCE,
        "{what}: recorded {got:.2} s, expected {want:.2} s (±{TOLERANCE} s)"
    );
}

/// Maps test [`Instant`]s to the Unix milliseconds the database stores.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    instant: Instant,
    unix_ms: f64,
}

impl Clock {
    pub fn now() -> Self {
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("the clock is after 1970");
        Clock {
            instant: Instant::now(),
            unix_ms: unix.as_secs_f64() * 1000.0,
        }
    }

    /// Seconds from this clock's origin to `at`.
    pub fn secs(&self, at: Instant) -> f64 {
        at.saturating_duration_since(self.instant).as_secs_f64()
    }

    /// Seconds since the origin, now.
    pub fn elapsed(&self) -> f64 {
        self.instant.elapsed().as_secs_f64()
    }

    /// Seconds from the origin to Unix ms `ms`.
    pub fn secs_of_unix_ms(&self, ms: f64) -> f64 {
        (ms - self.unix_ms) / 1000.0
    }

    /// Runs `action` and returns the middle of the call, in seconds since the origin: the
    /// moment a switch is taken to have happened.
    pub fn during(&self, action: impl FnOnce()) -> f64 {
        let before = self.elapsed();
        action();
        (before + self.elapsed()) / 2.0
    }
}

/// One stored span, in seconds since a [`Clock`]'s origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub start: f64,
    pub end: f64,
    pub site: String,
}

/// Every stored span, in order, on `clock`'s time line.
pub fn spans(dwell: &WlDwell<'_>, clock: &Clock) -> Vec<Span> {
    let rows = sqlite_json(
        &dwell.db(),
        "SELECT s.start AS start, s.end AS end, coalesce(t.label, '(other)') AS site
         FROM spans s LEFT JOIN sites t ON t.id = s.site ORDER BY s.start",
    );
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| Span {
            start: clock.secs_of_unix_ms(r["start"].as_f64().expect("start")),
            end: clock.secs_of_unix_ms(r["end"].as_f64().expect("end")),
            site: r["site"].as_str().expect("site").to_owned(),
        })
        .collect()
}

/// Seconds of `spans` for `site` that fall inside `[from, to]`.
pub fn seconds_within(spans: &[Span], site: &str, from: f64, to: f64) -> f64 {
    spans
        .iter()
        .filter(|s| s.site == site)
        .map(|s| (s.end.min(to) - s.start.max(from)).max(0.0))
        .sum()
}

/// Recorded seconds of `site` (0 when none).
pub fn seconds(dwell: &WlDwell<'_>, site: &str) -> f64 {
    dwell.db_seconds().get(site).copied().unwrap_or(0.0)
}

/// Ends the agent with SIGTERM and panics unless it exits with 0.
pub fn stop(agent: &Child) {
    let status = agent.terminate();
    assert_eq!(
        status.code(),
        Some(0),
        "the agent did not exit cleanly on SIGTERM:\n{}",
        agent.stderr_text()
    );
}

// ---------------------------------------------------------------------------------------------
// (a) focus on a script
// ---------------------------------------------------------------------------------------------

/// Focus moves between a Facebook tab in Firefox, Discord, a work editor and a Chromium window
/// whose title changes to X; each site's seconds match the truth, and `status` names the
/// compositor's backend and idle source. The agent starts while Facebook already has focus.
pub fn focus_script_is_counted_per_site(compositor: Compositor) {
    with_dwell(compositor, ALWAYS, |session, dwell| {
        let work = session.open_window("org.gnome.TextEditor", "notes.txt");
        let discord = session.open_window("discord", "Discord");
        let chromium = session.open_window("chromium", "New Tab - Chromium");
        let fb = session.open_window("firefox", "Facebook — Mozilla Firefox");
        let (agent, clock) = start_agent(session, dwell, "debug");
        assert_status_names_backend(session, dwell);
        thread::sleep(Duration::from_millis(1500));
        let t1 = clock.during(|| work.focus());
        thread::sleep(Duration::from_millis(1500));
        let t2 = clock.during(|| discord.focus());
        thread::sleep(Duration::from_millis(1500));
        let t3 = clock.during(|| chromium.focus());
        thread::sleep(Duration::from_millis(1000));
        // A title change inside the browser moves the time to another site.
        let t4 = clock.during(|| chromium.set_title("Home / X - Chromium"));
        thread::sleep(Duration::from_millis(1500));
        let t5 = clock.during(|| fb.focus());
        thread::sleep(Duration::from_millis(1000));
        stop(&agent);
        let end = clock.elapsed();

        let got = dwell.db_seconds();
        let at = |site: &str| got.get(site).copied().unwrap_or(0.0);
        let report = format!(
            "recorded {got:?}; switches at {t1:.2} {t2:.2} {t3:.2} {t4:.2} {t5:.2}, end {end:.2}"
        );
        eprintln!("{}: {report}", compositor.name());
        assert!(
            at("facebook.com") > 0.0,
            "nothing recorded for the Facebook window that had focus when the agent started, \
             nor after it got focus again at {t5:.2} s: {report}"
        );
        let all = spans(dwell, &clock);
        assert_near(
            &format!(
                "facebook.com before the first switch: the Facebook window had focus before the \
                 agent started, and the agent must learn that at start, not at the next focus \
                 change ({report}; spans {all:?})"
            ),
            seconds_within(&all, "facebook.com", -1.0, t1),
            t1,
        );
        assert_near(
            &format!("facebook.com ({report})"),
            at("facebook.com"),
            t1 + (end - t5),
        );
        assert_near(
            &format!("discord.com ({report})"),
            at("discord.com"),
            t3 - t2,
        );
        assert_near(&format!("x.com ({report})"), at("x.com"), t5 - t4);
        assert_near(
            &format!("other ({report})"),
            at("(other)"),
            (t2 - t1) + (t4 - t3),
        );
    });
}

// ---------------------------------------------------------------------------------------------
// (b) idle
// ---------------------------------------------------------------------------------------------

/// With `idle_timeout = "5s"`, input stops for ~8 s: the open span is cut back to the last
/// input, and input again resumes counting; the compositor's own idle source tells the agent.
pub fn idle_is_cut_back_to_the_last_input(compositor: Compositor) {
    with_dwell(compositor, IDLE_5S, |session, dwell| {
        let (_reddit, agent, clock, t0) = start_then_focus(
            session,
            dwell,
            "firefox",
            "Reddit - Dive into anything — Mozilla Firefox",
        );
        session.nudge_input();
        thread::sleep(Duration::from_millis(1000));
        let last_input = clock.during(|| session.nudge_input());
        // Away from the keyboard for well over the idle timeout.
        thread::sleep(Duration::from_millis(8000));
        let back = clock.during(|| session.nudge_input());
        thread::sleep(Duration::from_millis(1500));
        stop(&agent);
        let end = clock.elapsed();

        let all = spans(dwell, &clock);
        let got = seconds(dwell, "reddit.com");
        let want = (last_input - t0) + (end - back);
        eprintln!(
            "{}: idle: recorded {got:.2} s, truth {want:.2} s; spans {all:?}",
            compositor.name()
        );
        assert_near(
            &format!(
                "reddit.com with the idle gap ({last_input:.2}–{back:.2} s) cut; spans {all:?}; \
                 agent log:\n{}\n",
                agent.stderr_text()
            ),
            got,
            want,
        );
        let idle_part = seconds_within(&all, "reddit.com", last_input + 1.0, back - 1.0);
        assert!(
            idle_part < 0.5,
            "{idle_part:.2} s recorded while away from the keyboard: {all:?}"
        );
    });
}

// ---------------------------------------------------------------------------------------------
// (c) titles stay private
// ---------------------------------------------------------------------------------------------

/// Files under `dir` (recursively) whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            found.extend(files_containing(&path, needle));
        } else if let Ok(bytes) = fs::read(&path) {
            if bytes.windows(needle.len()).any(|w| w == needle) {
                found.push(path);
            }
        }
    }
    found
}

/// Unique titles planted in a social and a work window (and changed while focused) are
/// never found in any file of the data directory nor in the agent's log (at info level, the
/// level a user runs at; titles may appear at debug only).
pub fn titles_are_never_stored_or_logged(compositor: Compositor) {
    with_dwell(compositor, ALWAYS, |session, dwell| {
        let unique = format!(
            "{}x{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let secrets = [
            format!("dwellsecretA{unique}"),
            format!("dwellsecretB{unique}"),
            format!("dwellsecretC{unique}"),
        ];
        let work = session.open_window("org.gnome.TextEditor", &format!("{}.txt", secrets[0]));
        let fb = session.open_window(
            "firefox",
            &format!("{} | Facebook — Mozilla Firefox", secrets[1]),
        );
        work.focus();
        let (agent, _) = start_agent(session, dwell, "info");
        thread::sleep(Duration::from_millis(500));
        fb.focus();
        thread::sleep(Duration::from_millis(1200));
        fb.set_title(&format!("{} | Facebook — Mozilla Firefox", secrets[2]));
        thread::sleep(Duration::from_millis(800));
        work.focus();
        thread::sleep(Duration::from_millis(500));
        let _ = status(dwell);
        let report = dwell.report(&["week", "--json"]);
        stop(&agent);

        // The agent saw the windows (so it had the titles in hand).
        let got = dwell.db_seconds();
        assert!(
            got.get("facebook.com").copied().unwrap_or(0.0) > 1.0
                && got.get("(other)").copied().unwrap_or(0.0) > 0.3,
            "the agent did not record the windows whose titles it must keep private: {got:?}"
        );
        for secret in &secrets {
            let files = files_containing(&dwell.data_dir, secret.as_bytes());
            assert!(
                files.is_empty(),
                "the title {secret:?} is stored in {files:?}"
            );
            for (what, text) in [
                ("stderr", agent.stderr_text()),
                ("stdout", agent.stdout_text()),
                (
                    "report week --json",
                    String::from_utf8_lossy(&report.stdout).into_owned(),
                ),
            ] {
                assert!(
                    !text.contains(secret.as_str()),
                    "the title {secret:?} appears in the agent's {what}:\n{text}"
                );
            }
        }
    });
}

// ---------------------------------------------------------------------------------------------
// (d) the compositor goes away under the agent
// ---------------------------------------------------------------------------------------------

/// User + system CPU seconds a process has used (`/proc/PID/stat`).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_else(|e| panic!("cannot read /proc/{pid}/stat: {e}"));
    // Fields after the command name (which is in parentheses and may hold spaces):
    // state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // USER_HZ is 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

/// How long the agent may take to see a restarted compositor (its reconnect backoff).
pub const RECOVERY: f64 = 5.0;

/// The compositor is killed under the agent: the agent keeps running without spinning
/// (< 5 % of a core), counts nothing while the compositor is gone, and records again once
/// the compositor is back (restarted on the same socket) and a window has focus.
pub fn survives_the_compositor_going_away(compositor: Compositor) {
    with_dwell(compositor, ALWAYS, |session, dwell| {
        let (_fb, agent, clock, t0) =
            start_then_focus(session, dwell, "firefox", "Facebook — Mozilla Firefox");
        thread::sleep(Duration::from_millis(1500));
        let killed = clock.during(|| session.kill_compositor());

        thread::sleep(Duration::from_millis(500));
        let cpu0 = cpu_seconds(agent.pid());
        let measured = Instant::now();
        thread::sleep(Duration::from_millis(2500));
        let used = cpu_seconds(agent.pid()) - cpu0;
        let window = measured.elapsed().as_secs_f64();
        assert!(
            agent.is_running(),
            "the agent died with {}:\n{}",
            compositor.name(),
            agent.stderr_text()
        );
        assert!(
            used / window < 0.05,
            "the agent used {:.1} % of a core while {} was gone (spinning?):\n{}",
            100.0 * used / window,
            compositor.name(),
            crate::tail(&agent.stderr_text(), 30)
        );

        let restarting = clock.elapsed();
        session.start_compositor();
        // Until this window opens, the new compositor has no window that could have focus.
        let opening = clock.elapsed();
        // The new window gets focus when it maps; `open_window` returns once it has it.
        let _fb = session.open_window("firefox", "Facebook — Mozilla Firefox");
        let focused = clock.elapsed();
        thread::sleep(Duration::from_secs_f64(RECOVERY + 1.0));
        stop(&agent);
        let end = clock.elapsed();

        let all = spans(dwell, &clock);
        eprintln!(
            "{}: killed at {killed:.2}, cpu {:.2} % while gone, restarted at {restarting:.2}, \
             window opened at {opening:.2} and focused by {focused:.2}, end {end:.2}; spans \
             {all:?}",
            compositor.name(),
            100.0 * used / window
        );
        let log = crate::tail(&agent.stderr_text(), 40);
        let name = compositor.name();
        let before = seconds_within(&all, "facebook.com", t0 - 1.0, killed);
        assert_near(
            &format!("facebook.com until {name} went away ({all:?})"),
            before,
            killed - t0,
        );
        let gone: f64 = all
            .iter()
            .map(|s| (s.end.min(opening) - s.start.max(killed + 0.3)).max(0.0))
            .sum();
        assert!(
            gone < 0.3,
            "{gone:.2} s recorded while {name} was gone (killed at {killed:.2} s, started \
             again at {restarting:.2} s) or had no window yet (one opened at {opening:.2} s): \
             {all:?}\n{log}"
        );
        let Some(first) = all
            .iter()
            .find(|s| s.site == "facebook.com" && s.start >= opening - 0.3)
            .map(|s| s.start)
        else {
            panic!(
                "nothing recorded after {name} came back ({restarting:.2} s) and a new Facebook \
                 window had focus (by {focused:.2} s; end {end:.2} s): {all:?}\n{log}"
            );
        };
        assert!(
            first - focused <= RECOVERY,
            "the agent took {:.2} s to record again after {name} came back and the window had \
             focus (allowed: {RECOVERY} s): {all:?}\n{log}",
            first - focused
        );
        let after = seconds_within(&all, "facebook.com", first, end + 1.0);
        assert_near(
            &format!(
                "facebook.com from when the agent saw {name} again ({first:.2} s) to the end: \
                 it must keep counting ({all:?})\n{log}\n"
            ),
            after,
            end - first,
        );
    });
}

// ---------------------------------------------------------------------------------------------
// lock and suspend
// ---------------------------------------------------------------------------------------------

/// Facebook keeps focus throughout; `away` (which starts the away period) and `back` (which
/// ends it) run 3 s apart: the seconds in between are not counted.
pub fn away_time_is_not_counted(
    compositor: Compositor,
    what: &str,
    away: impl FnOnce(&WaylandSession),
    back: impl FnOnce(&WaylandSession),
) {
    with_dwell(compositor, ALWAYS, |session, dwell| {
        let (_fb, agent, clock, t0) =
            start_then_focus(session, dwell, "firefox", "Facebook — Mozilla Firefox");
        thread::sleep(Duration::from_millis(1500));
        let gone = clock.during(|| away(session));
        thread::sleep(Duration::from_millis(3000));
        let returned = clock.during(|| back(session));
        thread::sleep(Duration::from_millis(1500));
        stop(&agent);
        let end = clock.elapsed();

        let all = spans(dwell, &clock);
        let got = seconds(dwell, "facebook.com");
        eprintln!(
            "{}: {what} {gone:.2}–{returned:.2} s, end {end:.2}; spans {all:?}",
            compositor.name()
        );
        assert_near(
            &format!(
                "facebook.com with the {what} ({gone:.2}–{returned:.2} s) off the record; spans \
                 {all:?}; agent log:\n{}\n",
                crate::tail(&agent.stderr_text(), 30)
            ),
            got,
            (gone - t0) + (end - returned),
        );
        let inside = seconds_within(&all, "facebook.com", gone + 0.5, returned - 0.5);
        assert!(
            inside < 0.3,
            "{inside:.2} s recorded during the {what}: {all:?}"
        );
        let after = seconds_within(&all, "facebook.com", returned, end + 1.0);
        assert!(
            after > 0.5,
            "counting did not resume after the {what} ended: {all:?}"
        );
    });
}
