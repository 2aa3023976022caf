//! End-to-end tests of lock and suspend, on sway (the cheapest compositor; the agent listens
//! to logind and the screen saver the same way on every backend): time while the session is
//! locked (logind `Lock` + `LockedHint`; `LockedHint` alone; `org.freedesktop.ScreenSaver`
//! `ActiveChanged`) or asleep (logind `PrepareForSleep`) is never counted; and the same
//! signals forged by another program on the system bus (not logind's connection) stop
//! nothing.

use std::thread;
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

/// Sends logind's `Session.Lock` and `Manager.PrepareForSleep(true)` from a connection that is
/// not logind's, both broadcast and addressed to every connection on the bus (a signal sent
/// to one connection bypasses its match rules).
const FORGER: &str = r#"
import sys, dbus
bus = dbus.bus.BusConnection(sys.argv[1])
me = bus.get_unique_name()
targets = [None] + [n for n in bus.list_names() if n.startswith(':') and n != me]
for dest in targets:
    for path, iface, member, args in [
        (sys.argv[2], 'org.freedesktop.login1.Session', 'Lock', []),
        ('/org/freedesktop/login1', 'org.freedesktop.login1.Manager', 'PrepareForSleep', [True]),
    ]:
        msg = dbus.lowlevel.SignalMessage(path, iface, member)
        if dest:
            msg.set_destination(dest)
        if args:
            msg.append(*args, signature='b')
        bus.send_message(msg)
bus.flush()
print('forged', len(targets))
"#;

#[test]
fn forged_logind_signals_do_not_stop_recording() {
    scenario::with_dwell(COMPOSITOR, scenario::ALWAYS, |session, dwell| {
        let (_fb, agent, clock, t0) =
            scenario::start_then_focus(session, dwell, "firefox", "Facebook — Mozilla Firefox");
        thread::sleep(Duration::from_millis(1500));
        let mut cmd = session.command("/usr/bin/python3");
        cmd.arg("-c")
            .arg(FORGER)
            .arg(session.system_bus_address())
            .arg("/org/freedesktop/login1/session/c1");
        let out = dwell_tests::run_command(cmd, Duration::from_secs(20));
        assert!(out.status.success(), "the forger failed: {out:?}");
        thread::sleep(Duration::from_millis(3000));
        scenario::stop(&agent);
        let end = clock.elapsed();
        let log = agent.stderr_text();
        scenario::assert_near(
            &format!(
                "facebook.com with forged logind signals (all of it counts); agent log:\n{}\n",
                log
            ),
            scenario::seconds(dwell, "facebook.com"),
            end - t0,
        );
        assert!(
            !log.contains("locked=true") && !log.contains("sleeping=true"),
            "a forged signal was taken:\n{log}"
        );
        assert!(log.contains("refused a message"), "{log}");
    });
}
