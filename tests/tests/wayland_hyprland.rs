//! End-to-end tests of the agent in a Hyprland session (focus from
//! `zwlr_foreign_toplevel_manager_v1`, idle from `ext-idle-notify-v1`: the agent's wlroots
//! backend), with `backend = "auto"`: focus, idle, title privacy and the compositor going
//! away, and the harness test that proves the session itself (windows, focus, input)
//! without the agent. The test drives focus through the same protocol
//! (`dwell-e2e-wayland activate`).
//! The scenarios are shared by every compositor (`dwell_tests::wayland_scenarios`).
//!
//! Debian 12 has no Hyprland, and Hyprland 0.56 (Debian forky) cannot start without a GPU
//! device node (`/dev/dri`: its aquamarine backend has no allocator otherwise), which the
//! CI machines lack: these are not in `scripts/test`. On a machine with one, run them in the
//! forky root: `DWELL_ROOT_TESTS=wayland_hyprland scripts/roots test forky`.

dwell_tests::wayland_tests!(
    dwell_tests::Compositor::Hyprland,
    #[ignore = "needs Hyprland and a GPU device node: DWELL_ROOT_TESTS=wayland_hyprland scripts/roots test forky"]
);
