//! End-to-end tests of the agent in a KWin session (focus from the agent's own KWin script,
//! idle from `ext-idle-notify-v1`), with `backend = "auto"`: focus, idle, title privacy and
//! the compositor going away, and the harness test that proves the session itself
//! (windows, focus, input) without the agent.
//! The scenarios are shared by every compositor (`dwell_tests::wayland_scenarios`).

dwell_tests::wayland_tests!(dwell_tests::Compositor::Kwin);
