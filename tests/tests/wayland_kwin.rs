//! End-to-end tests of the agent in a KWin session (focus from the agent's own KWin script,
//! idle from `ext-idle-notify-v1`), with `backend = "auto"`: focus, idle, title privacy and
//! the compositor going away.
//! The scenarios are shared by every compositor (`dwell_tests::wayland_scenarios`); the
//! harness test proves the session itself (windows, focus, input) without the agent.

use dwell_tests::wayland_scenarios as scenario;
use dwell_tests::{Compositor, WaylandOptions, WaylandSession};

const COMPOSITOR: Compositor = Compositor::Kwin;

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
    // What the agent's backend relies on, and fake input for the tests.
    session.assert_globals(
        &[
            "ext_idle_notifier_v1",
            "org_kde_kwin_idle",
            "org_kde_kwin_fake_input",
        ],
        &["zwlr_foreign_toplevel_manager_v1"],
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
