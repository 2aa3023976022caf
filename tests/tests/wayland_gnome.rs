//! End-to-end tests of the agent in a GNOME Shell session (focus from the agent's extension,
//! installed with `dwell-agent gnome-extension install` before the shell starts; idle from
//! Mutter's `IdleMonitor`), with `backend = "auto"`: focus, idle, title privacy and the
//! compositor going away.
//! The scenarios are shared by every compositor (`dwell_tests::wayland_scenarios`); the
//! harness test proves the session itself (windows, focus, input) without the agent.

use dwell_tests::wayland_scenarios as scenario;
use dwell_tests::{Compositor, WaylandOptions, WaylandSession};

const COMPOSITOR: Compositor = Compositor::Gnome;

#[test]
fn a_focus_script_is_counted_per_site_and_status_names_the_backend() {
    scenario::focus_script_is_counted_per_site(COMPOSITOR);
}

#[test]
fn idle_time_is_cut_back_to_the_last_input() {
    scenario::idle_is_cut_back_to_the_last_input(COMPOSITOR);
}

#[test]
fn titles_are_never_stored_or_logged() {
    scenario::titles_are_never_stored_or_logged(COMPOSITOR);
}

#[test]
fn the_agent_survives_the_compositor_going_away() {
    scenario::survives_the_compositor_going_away(COMPOSITOR);
}

/// The session without the agent: windows get the right app id and title, focus switches,
/// a title change shows, input resets the compositor's idle state, and the compositor can be
/// killed and started again.
#[test]
fn harness_windows_focus_input_and_restart() {
    let session = WaylandSession::start(COMPOSITOR, WaylandOptions::default());
    // Why the agent needs its extension here: no toplevel or idle protocol for clients.
    session.assert_globals(
        &["xdg_wm_base"],
        &[
            "zwlr_foreign_toplevel_manager_v1",
            "ext_idle_notifier_v1",
            "org_kde_kwin_idle",
        ],
    );
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
        dwell_tests::wait_until(std::time::Duration::from_secs(5), || !fb.is_running()),
        "the window outlived its compositor"
    );
    session.start_compositor();
    let again = session.open_window("discord", "Discord");
    assert_eq!(session.focused().map(|f| f.pid), Some(again.pid()));
    session.nudge_input();
}

/// GNOME Shell without dwell's extension: the agent says so once in its log and `status`
/// says what to do (the exact command, and that a log-out and log-in is needed), in words
/// and in `--json`.
#[test]
fn without_the_extension_status_says_what_to_do() {
    let session = WaylandSession::prepare(COMPOSITOR, WaylandOptions::default());
    let dwell = dwell_tests::Dwell::new(
        &session,
        "[schedule]\nrecord = \"always\"\n[tracking]\nidle_timeout = \"10m\"\n",
    );
    dwell.enable();
    session.start_compositor();
    let agent = dwell.start_watching_at("info");
    let hint_logged = |e: &str| e.contains("dwell-agent gnome-extension install");
    assert!(
        agent.wait_for_stderr(std::time::Duration::from_secs(10), hint_logged),
        "the agent did not say the extension is missing:\n{}",
        agent.stderr_text()
    );
    let st = scenario::status(&dwell);
    assert_eq!(st["backend"], "gnome", "{st:#}");
    let hint = st["watch_hint"].as_str().unwrap_or_default();
    assert!(
        hint.contains("dwell-agent gnome-extension install") && hint.contains("log out"),
        "status --json must say what to do: {st:#}"
    );
    let out = dwell.agent(&["status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("gnome-extension install"),
        "status must say what to do:\n{text}"
    );
    let times = agent
        .stderr_text()
        .lines()
        .filter(|l| hint_logged(l))
        .count();
    assert_eq!(times, 1, "said more than once:\n{}", agent.stderr_text());
    scenario::stop(&agent);
}
