//! End-to-end tests of the agent in a labwc session (focus from
//! `zwlr_foreign_toplevel_manager_v1`, idle from `ext-idle-notify-v1`: the agent's wlroots
//! backend), with `backend = "auto"`: focus, idle, title privacy and the compositor going
//! away, and the harness test that proves the session itself (windows, focus, input)
//! without the agent. The test drives focus through the same protocol
//! (`dwell-e2e-wayland activate`).
//! The scenarios are shared by every compositor (`dwell_tests::wayland_scenarios`).
//!
//! Debian 12 has no labwc: these run in the Debian forky root (`scripts/roots test forky`,
//! which `scripts/test` runs), and are ignored on the host.

dwell_tests::wayland_tests!(
    dwell_tests::Compositor::Labwc,
    #[ignore = "labwc is not in Debian 12: scripts/roots runs this in the forky root"]
);
