//! End-to-end tests of the agent in a GNOME Shell session (focus from the agent's extension,
//! installed with `dwell-agent gnome-extension install` before the shell starts; idle from
//! Mutter's `IdleMonitor`), with `backend = "auto"`: focus, idle, title privacy and the
//! compositor going away, the harness test that proves the session itself (windows, focus,
//! input) without the agent, and what the agent says without its extension.
//! The scenarios are shared by every compositor (`dwell_tests::wayland_scenarios`).

use dwell_tests::{Compositor, WaylandOptions, WaylandSession};

const COMPOSITOR: Compositor = Compositor::Gnome;

dwell_tests::wayland_tests!(COMPOSITOR);

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
