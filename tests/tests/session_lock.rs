//! End-to-end tests of lock and suspend, on sway (the cheapest compositor; the agent listens
//! to logind and the screen saver the same way on every backend): time while the session is
//! locked (logind `Lock` + `LockedHint`; `LockedHint` alone; `org.freedesktop.ScreenSaver`
//! `ActiveChanged`) or asleep (logind `PrepareForSleep`) is never counted.

use std::time::Duration;

use dwell_tests::wayland_scenarios as scenario;
use dwell_tests::{Compositor, WaylandOptions, WaylandSession};

const COMPOSITOR: Compositor = Compositor::Sway;

#[test]
fn a_logind_lock_is_not_counted() {
    scenario::away_time_is_not_counted(
        COMPOSITOR,
        "logind lock (Lock + LockedHint)",
        |s| s.lock(),
        |s| s.unlock(),
    );
}

#[test]
fn a_locked_hint_alone_is_not_counted() {
    scenario::away_time_is_not_counted(
        COMPOSITOR,
        "logind LockedHint",
        |s| s.set_locked_hint(true),
        |s| s.set_locked_hint(false),
    );
}

#[test]
fn an_active_screen_saver_is_not_counted() {
    scenario::away_time_is_not_counted(
        COMPOSITOR,
        "screen saver (ActiveChanged)",
        |s| s.set_screensaver_active(true),
        |s| s.set_screensaver_active(false),
    );
}

#[test]
fn a_suspend_is_not_counted() {
    scenario::away_time_is_not_counted(
        COMPOSITOR,
        "suspend (PrepareForSleep)",
        |s| s.prepare_for_sleep(true),
        |s| s.prepare_for_sleep(false),
    );
}

/// The stand-ins without the agent: each helper makes logind or the screen saver send the
/// signal the agent listens to.
#[test]
fn harness_lock_and_suspend_signals_are_sent() {
    let session = WaylandSession::prepare(COMPOSITOR, WaylandOptions::default());
    session.lock();
    session.unlock();
    session.suspend(Duration::from_millis(50));
    session.set_screensaver_active(true);
    session.set_screensaver_active(false);
    let logind = session.logind_log();
    for signal in [
        "emit /org/freedesktop/login1/session/c1 org.freedesktop.login1.Session.Lock",
        "emit /org/freedesktop/login1/session/c1 org.freedesktop.login1.Session.Unlock",
        "\"org.freedesktop.login1.Session\" {\"LockedHint\": True}",
        "\"org.freedesktop.login1.Session\" {\"LockedHint\": False}",
        "emit /org/freedesktop/login1 org.freedesktop.login1.Manager.PrepareForSleep True",
        "emit /org/freedesktop/login1 org.freedesktop.login1.Manager.PrepareForSleep False",
    ] {
        assert!(
            logind.contains(signal),
            "no {signal:?} in the logind stand-in's log:\n{logind}"
        );
    }
    let saver = session.screensaver_log();
    for signal in [
        "emit /org/freedesktop/ScreenSaver org.freedesktop.ScreenSaver.ActiveChanged True",
        "emit /org/freedesktop/ScreenSaver org.freedesktop.ScreenSaver.ActiveChanged False",
    ] {
        assert!(
            saver.contains(signal),
            "no {signal:?} in the ScreenSaver stand-in's log:\n{saver}"
        );
    }
}
