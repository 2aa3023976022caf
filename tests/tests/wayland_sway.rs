//! End-to-end tests of the agent in a sway session (wlroots: focus from
//! `zwlr_foreign_toplevel_manager_v1`, idle from `org_kde_kwin_idle`), with
//! `backend = "auto"`: focus, idle, title privacy and the compositor going away, and the
//! harness test that proves the session itself (windows, focus, input) without the agent.
//! The scenarios are shared by every compositor (`dwell_tests::wayland_scenarios`).

dwell_tests::wayland_tests!(dwell_tests::Compositor::Sway);
