//! End-to-end tests of the agent's bus door, `org.dwell.Agent` (issue 18 item 4, issue 17
//! item 4): the native host's methods (`Tab`, `PauseResult`, `PauseResultFor`) refused to any
//! other caller; a flood of calls on one connection (10 to 10,000 in one go) is answered, every
//! call, and afterwards another client's call and a screen-saver lock signal are still
//! handled; a program owning the name before the agent starts gets nothing: `status --json`
//! says so in `watch_hint` and no KWin script is loaded; the agent takes its name once that
//! program leaves; the native host tells such a program nothing; a native host that leaves takes the agent's match rule for it along;
//! the KWin script of an agent killed with `kill -9` (which KWin keeps running) tells a
//! program that took the name afterwards nothing, and the next agent replaces it.

use std::process::Command;
use std::time::Duration;

use dwell_tests::wayland_scenarios as scenario;
use dwell_tests::{
    bin_path, run_command, wait_until, Compositor, Desktop, DesktopOptions, Dwell, Session,
};

const CONFIG: &str = r#"
[tracking]
idle_timeout = "10m"
[schedule]
record = "always"
[reminders]
enabled = false
"#;

/// `N METHOD`: sends N calls of METHOD to the agent on one connection without waiting, then
/// waits for every reply; prints `{"ok": n, "errors": {name: n}}`.
const FLOOD: &str = r#"
import sys, json, dbus, dbus.mainloop.glib
from gi.repository import GLib
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
n, method = int(sys.argv[1]), sys.argv[2]
bus = dbus.SessionBus()
call = bus.get_object('org.dwell.Agent', '/org/dwell/Agent', introspect=False).get_dbus_method(method, 'org.dwell.Agent1')
counts = {'ok': 0, 'errors': {}}
loop = GLib.MainLoop()
def done():
    if counts['ok'] + sum(counts['errors'].values()) == n:
        loop.quit()
def ok(*_):
    counts['ok'] += 1
    done()
def err(e):
    name = e.get_dbus_name() or 'none'
    counts['errors'][name] = counts['errors'].get(name, 0) + 1
    done()
for i in range(n):
    if method == 'Tab':
        args = ('chromium', 'h%d.example.com' % i, False, False, True, dbus.UInt32(1))
    elif method == 'PauseResult':
        args = ('closed',)
    elif method == 'PauseResultFor':
        args = ('closed', '1764064800000')
    else:
        args = ('firefox', 'Facebook', dbus.UInt32(1))
    call(*args, reply_handler=ok, error_handler=err, timeout=60)
GLib.timeout_add_seconds(90, loop.quit)
loop.run()
print(json.dumps(counts))
"#;

/// Owns `org.freedesktop.ScreenSaver` and sends `ActiveChanged(true)`.
const SAVER: &str = r#"
import dbus, time
bus = dbus.SessionBus()
assert bus.request_name('org.freedesktop.ScreenSaver') == 1
msg = dbus.lowlevel.SignalMessage('/org/freedesktop/ScreenSaver', 'org.freedesktop.ScreenSaver', 'ActiveChanged')
msg.append(True, signature='b')
bus.send_message(msg)
bus.flush()
time.sleep(1)
"#;

/// Owns `org.dwell.Agent` until killed; prints `call MEMBER` for each call it receives there.
const SQUATTER: &str = r#"
import dbus, dbus.mainloop.glib
from gi.repository import GLib
dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
assert bus.request_name('org.dwell.Agent', dbus.bus.NAME_FLAG_DO_NOT_QUEUE) == 1
def seen(bus, msg):
    if msg.get_path() == '/org/dwell/Agent':
        print('call', msg.get_member(), flush=True)
bus.add_message_filter(seen)
print('owned', flush=True)
GLib.MainLoop().run()
"#;

fn python(session: &impl Session, script: &str, args: &[&str]) -> Command {
    let mut cmd = session.command("/usr/bin/python3");
    cmd.arg("-c").arg(script).args(args);
    cmd
}

fn flood(desktop: &Desktop, n: usize, method: &str) -> serde_json::Value {
    let out = run_command(
        python(desktop, FLOOD, &[&n.to_string(), method]),
        Duration::from_secs(120),
    );
    assert!(out.status.success(), "the flood of {n} failed: {out:?}");
    serde_json::from_slice(&out.stdout).expect("the flood's counts")
}

#[test]
fn a_flood_on_one_connection_neither_blocks_nor_starves_the_door() {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, CONFIG);
    dwell.enable();
    let agent = dwell.start();
    for n in [10usize, 100, 1_000, 10_000] {
        let counts = flood(&desktop, n, "Tab");
        let errors = counts["errors"].as_object().cloned().unwrap_or_default();
        let answered = counts["ok"].as_u64().unwrap_or(0)
            + errors.values().filter_map(|v| v.as_u64()).sum::<u64>();
        assert_eq!(answered, n as u64, "burst of {n}: {counts}");
        for unanswered in ["org.freedesktop.DBus.Error.NoReply", "none"] {
            assert!(!errors.contains_key(unanswered), "burst of {n}: {counts}");
        }
        // Another client, one call: answered (refused: it is no dwell program).
        let one = flood(&desktop, 1, "Focus");
        assert!(
            one["ok"] == 1 || one["errors"].as_object().is_some_and(|e| e.len() == 1),
            "after a burst of {n}, another client's call: {one}"
        );
        assert!(
            one["errors"]
                .get("org.freedesktop.DBus.Error.NoReply")
                .is_none(),
            "after a burst of {n}, another client's call: {one}"
        );
        assert_eq!(
            one["errors"]["org.freedesktop.DBus.Error.AccessDenied"], 1,
            "after a burst of {n}: {one}"
        );
    }
    // A screen saver's lock signal is still taken.
    let out = run_command(python(&desktop, SAVER, &[]), Duration::from_secs(20));
    assert!(out.status.success(), "the screen saver failed: {out:?}");
    assert!(
        wait_until(Duration::from_secs(5), || agent
            .stderr_text()
            .contains("locked=true")),
        "the lock signal was not taken after the floods:\n{}",
        agent.stderr_text()
    );
    assert!(agent.is_running(), "{}", agent.stderr_text());
}

/// The native host's methods, the pause page's choice with its page's id (`PauseResultFor`)
/// as much as without (`PauseResult`) and the tab reports, are refused to a caller that is
/// not dwell's host, well-formed as they are.
#[test]
fn the_hosts_methods_are_refused_to_any_other_caller() {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, CONFIG);
    dwell.enable();
    let agent = dwell.start();
    for method in ["Tab", "PauseResult", "PauseResultFor"] {
        let counts = flood(&desktop, 1, method);
        assert_eq!(
            counts,
            serde_json::json!({"ok": 0, "errors": {"org.freedesktop.DBus.Error.AccessDenied": 1}}),
            "{method}"
        );
    }
    assert!(agent.is_running(), "{}", agent.stderr_text());
}

#[test]
fn a_squatter_on_the_agents_name_gets_no_kwin_script_and_status_says_so() {
    scenario::with_dwell(Compositor::Kwin, scenario::ALWAYS, |session, dwell| {
        let squatter = session.spawn_command(python(session, SQUATTER, &[]));
        assert!(
            squatter.wait_for_stdout(Duration::from_secs(10), |o| o.contains("owned")),
            "the squatter did not get the name: {}",
            squatter.stderr_text()
        );
        let agent = dwell.start_watching();
        let hinted = wait_until(Duration::from_secs(10), || {
            scenario::status(dwell)["watch_hint"]
                .as_str()
                .is_some_and(|h| h.contains("another program owns"))
        });
        let st = scenario::status(dwell);
        assert!(hinted, "status --json: {st:#}\n{}", agent.stderr_text());
        assert!(
            st["backend"].is_string() && st.get("idle_source").is_some(),
            "{st:#}"
        );
        let loaded = session.run(
            "dbus-send",
            [
                "--session",
                "--print-reply",
                "--dest=org.kde.KWin",
                "/Scripting",
                "org.kde.kwin.Scripting.isScriptLoaded",
                "string:dwell-focus",
            ],
        );
        assert!(
            loaded.stdout.ends_with(b"boolean false\n"),
            "a KWin script was loaded while another program owns the name: {loaded:?}\n{}",
            agent.stderr_text()
        );
        // The squatter leaves: the agent takes its name and loads the script.
        squatter.kill9();
        scenario::wait_for_kwin_script(session, &agent);
        assert!(
            wait_until(Duration::from_secs(5), || scenario::status(dwell)
                ["watch_hint"]
                .is_null()),
            "{:#}",
            scenario::status(dwell)
        );
    });
}

fn kwin_script_loaded(session: &dwell_tests::WaylandSession) -> bool {
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
}

#[test]
fn a_killed_agents_kwin_script_tells_a_squatter_nothing_and_the_next_agent_replaces_it() {
    scenario::with_dwell(Compositor::Kwin, scenario::ALWAYS, |session, dwell| {
        let work = session.open_window("org.gnome.TextEditor", "notes.txt");
        let social = session.open_window("firefox", "(3) Facebook - Mozilla Firefox");
        let (agent, _) = scenario::start_agent(session, dwell, "debug");
        social.focus();
        work.focus();
        agent.kill9();
        // KWin knows nothing of the agent's death: its script stays loaded and running.
        assert!(kwin_script_loaded(session), "{}", agent.stderr_text());
        // Another program takes the name the agent left (the bus frees it when the
        // agent's connection closes).
        let mut squatter = None;
        let owned = wait_until(Duration::from_secs(10), || {
            let child = session.spawn_command(python(session, SQUATTER, &[]));
            let ok = child.wait_for_stdout(Duration::from_secs(5), |o| o.contains("owned"));
            squatter = Some(child);
            ok
        });
        let squatter = squatter.expect("a squatter was started");
        assert!(
            owned,
            "the squatter did not get the name: {}",
            squatter.stderr_text()
        );
        for window in [&social, &work, &social] {
            window.focus();
        }
        std::thread::sleep(Duration::from_secs(1));
        assert!(
            !squatter.stdout_text().contains("call Focus"),
            "the dead agent's KWin script told the program that took its name: {}",
            squatter.stdout_text()
        );
        squatter.kill9();
        // The next agent unloads what is left and loads its own script, which counts.
        let (agent, clock) = scenario::start_agent(session, dwell, "debug");
        let before = scenario::seconds(dwell, "facebook.com");
        let t0 = clock.during(|| social.focus());
        std::thread::sleep(Duration::from_secs(2));
        let t1 = clock.during(|| work.focus());
        let counted = || scenario::seconds(dwell, "facebook.com") - before;
        assert!(
            wait_until(Duration::from_secs(15), || counted() >= (t1 - t0) * 0.5),
            "the next agent counted no Facebook time ({before} s before):\n{}",
            agent.stderr_text()
        );
        assert!(
            agent.stderr_text().contains("KWin script loaded"),
            "{}",
            agent.stderr_text()
        );
        scenario::stop(&agent);
        assert!(
            !kwin_script_loaded(session),
            "the script is still loaded after the agent stopped"
        );
    });
}

/// Prints how many match rules the agent's connection has (the bus's debug statistics).
const MATCH_RULES: &str = r#"
import dbus
bus = dbus.SessionBus()
d = bus.get_object('org.freedesktop.DBus', '/org/freedesktop/DBus')
owner = d.GetNameOwner('org.dwell.Agent', dbus_interface='org.freedesktop.DBus')
stats = d.GetConnectionStats(owner, dbus_interface='org.freedesktop.DBus.Debug.Stats')
print(int(stats['MatchRules']))
"#;

fn match_rules(desktop: &Desktop) -> u64 {
    let out = run_command(python(desktop, MATCH_RULES, &[]), Duration::from_secs(20));
    assert!(out.status.success(), "the bus statistics: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a number of match rules")
}

#[test]
fn native_hosts_that_leave_leave_no_match_rules_behind() {
    let desktop = Desktop::start(DesktopOptions::default());
    let dwell = Dwell::new(&desktop, CONFIG);
    dwell.enable();
    let agent = dwell.start();
    let before = match_rules(&desktop);
    let input = desktop.tempdir().join("one-frame");
    let body = br#"{"host":"a.example.com","focused":true}"#;
    let mut bytes = (body.len() as u32).to_ne_bytes().to_vec();
    bytes.extend_from_slice(body);
    std::fs::write(&input, &bytes).expect("write a frame");
    for _ in 0..5 {
        let mut cmd = desktop.command("sh");
        cmd.arg("-c").arg(format!(
            "exec '{}' chrome-extension://mdbmdcjahoajldikneojnlbokdlmghlk/ < '{}'",
            bin_path("dwell-native-host").display(),
            input.display()
        ));
        let out = run_command(cmd, Duration::from_secs(20));
        assert!(out.status.success(), "{out:?}");
    }
    let gone = wait_until(Duration::from_secs(5), || {
        agent
            .stderr_text()
            .matches("a browser extension disconnected")
            .count()
            == 5
    });
    assert!(gone, "{}", agent.stderr_text());
    assert!(
        wait_until(Duration::from_secs(5), || match_rules(&desktop) == before),
        "the agent kept match rules for hosts that left: {before} before, {} after",
        match_rules(&desktop)
    );
}

#[test]
fn the_native_host_tells_a_squatter_nothing() {
    let desktop = Desktop::start(DesktopOptions::default());
    let squatter = desktop.spawn_command(python(&desktop, SQUATTER, &[]));
    assert!(
        squatter.wait_for_stdout(Duration::from_secs(10), |o| o.contains("owned")),
        "the squatter did not get the name: {}",
        squatter.stderr_text()
    );
    let input = desktop.tempdir().join("one-frame");
    let body = br#"{"host":"a.example.com","focused":true}"#;
    let mut bytes = (body.len() as u32).to_ne_bytes().to_vec();
    bytes.extend_from_slice(body);
    std::fs::write(&input, &bytes).expect("write a frame");
    let mut cmd = desktop.command("sh");
    cmd.arg("-c").arg(format!(
        "exec '{}' chrome-extension://mdbmdcjahoajldikneojnlbokdlmghlk/ < '{}'",
        bin_path("dwell-native-host").display(),
        input.display()
    ));
    let out = run_command(cmd, Duration::from_secs(20));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{out:?}");
    let off = br#"{"dwell":"off"}"#;
    assert!(out.stdout.ends_with(off), "{stderr}");
    assert!(stderr.contains("another program owns"), "{stderr}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !squatter.stdout_text().contains("call"),
        "the host sent the squatter: {}",
        squatter.stdout_text()
    );
}

#[test]
fn the_gnome_extension_tells_a_squatter_nothing() {
    scenario::with_dwell(Compositor::Gnome, scenario::ALWAYS, |session, _dwell| {
        let squatter = session.spawn_command(python(session, SQUATTER, &[]));
        assert!(
            squatter.wait_for_stdout(Duration::from_secs(10), |o| o.contains("owned")),
            "the squatter did not get the name: {}",
            squatter.stderr_text()
        );
        let work = session.open_window("org.gnome.TextEditor", "notes.txt");
        let fb = session.open_window("firefox", "Facebook — Mozilla Firefox");
        work.focus();
        fb.focus();
        std::thread::sleep(Duration::from_millis(1500));
        assert!(
            !squatter.stdout_text().contains("call"),
            "the GNOME extension reported focus to a program that is not dwell-agent: {}",
            squatter.stdout_text()
        );
    });
}
