//! Self-checks of the end-to-end harness: each test starts its own desktop and proves one part
//! of it works (windows, focus, fullscreen, idle counter, notifications, environment, cleanup).

use std::path::Path;
use std::thread;
use std::time::Duration;

use dwell_tests::{require_tool, wait_until, Desktop, DesktopOptions, Session, Signal};

fn xprop(desktop: &Desktop, args: &[&str]) -> String {
    desktop.run_ok("xprop", args)
}

#[test]
fn windows_open_with_class_title_and_pid() {
    let desktop = Desktop::start(DesktopOptions::default());
    let title = "Home / X — ünïcode “quoted”";
    let window = desktop.open_window("Firefox", "Navigator", title);

    let id = window.id().to_string();
    let props = xprop(
        &desktop,
        &[
            "-id",
            &id,
            "WM_CLASS",
            "_NET_WM_NAME",
            "WM_NAME",
            "_NET_WM_PID",
        ],
    );
    assert!(
        props.contains(r#"WM_CLASS(STRING) = "Navigator", "Firefox""#),
        "{props}"
    );
    assert!(
        props.contains(&format!(r#"_NET_WM_NAME(UTF8_STRING) = "{title}""#)),
        "{props}"
    );
    assert!(props.contains("WM_NAME("), "{props}");
    assert!(
        props.contains(&format!("_NET_WM_PID(CARDINAL) = {}", window.pid())),
        "{props}"
    );

    assert_eq!(
        window.wm_class(),
        ("Navigator".to_owned(), "Firefox".to_owned())
    );
    assert_eq!(window.title(), title);
    assert_eq!(window.wm_pid(), Some(window.pid()));

    window.set_title("(3) Notifications / X");
    assert_eq!(window.title(), "(3) Notifications / X");
    let wm_name = xprop(&desktop, &["-id", &id, "WM_NAME"]);
    assert!(
        wm_name.contains(r#"WM_NAME(STRING) = "(3) Notifications / X""#),
        "{wm_name}"
    );

    window.set_class("Chromium", "chromium");
    assert_eq!(
        window.wm_class(),
        ("chromium".to_owned(), "Chromium".to_owned())
    );
}

#[test]
fn activation_moves_net_active_window() {
    let desktop = Desktop::start(DesktopOptions::default());
    let first = desktop.open_window("Firefox", "Navigator", "first");
    assert_eq!(desktop.active_window(), Some(first.id()));
    let second = desktop.open_window("XTerm", "xterm", "second");
    assert_eq!(desktop.active_window(), Some(second.id()));

    first.activate();
    assert_eq!(desktop.active_window(), Some(first.id()));
    let root = xprop(&desktop, &["-root", "_NET_ACTIVE_WINDOW"]);
    assert!(
        root.contains(&format!("window id # {:#x}", first.id())),
        "{root}"
    );

    second.activate();
    assert_eq!(desktop.active_window(), Some(second.id()));

    let second_id = second.id();
    second.close();
    assert!(
        wait_until(Duration::from_secs(5), || desktop.active_window()
            != Some(second_id)),
        "a closed window stayed active"
    );
}

#[test]
fn fullscreen_toggles_net_wm_state() {
    let desktop = Desktop::start(DesktopOptions::default());
    let window = desktop.open_window("mpv", "gl", "video.mkv - mpv");
    assert!(!window.is_fullscreen());
    window.fullscreen(true);
    let state = xprop(
        &desktop,
        &["-id", &window.id().to_string(), "_NET_WM_STATE"],
    );
    assert!(state.contains("_NET_WM_STATE_FULLSCREEN"), "{state}");
    window.fullscreen(false);
    assert!(!window.is_fullscreen());
}

#[test]
fn idle_counter_grows_and_resets_on_input() {
    let desktop = Desktop::start(DesktopOptions::default());
    desktop.nudge_input();
    thread::sleep(Duration::from_millis(1200));
    let idle = desktop.idle_ms();
    assert!(idle >= 1000, "idle counter did not grow: {idle} ms");
    require_tool("xprintidle");
    let printed: u64 = desktop
        .run_ok("xprintidle", [] as [&str; 0])
        .trim()
        .parse()
        .expect("xprintidle prints a number");
    assert!(printed >= 1000, "xprintidle says {printed} ms");
    desktop.nudge_input();
    let idle = desktop.idle_ms();
    assert!(idle < 500, "idle counter did not reset: {idle} ms");
}

#[test]
fn dunst_receives_notify_send_and_monitor_sees_it() {
    require_tool("notify-send");
    let desktop = Desktop::start(DesktopOptions::with_dunst());
    assert!(desktop.name_has_owner("org.freedesktop.Notifications"));
    let watcher = desktop.watch_notifications();
    desktop.run_ok("notify-send", ["-a", "dwell", "Hello", "World"]);
    let seen = watcher
        .wait_for(Duration::from_secs(5), |n| n.app_name == "dwell")
        .unwrap_or_else(|| panic!("no Notify seen; monitor output:\n{}", watcher.raw()));
    assert_eq!(seen.summary, "Hello");
    assert_eq!(seen.body, "World");
    assert_eq!(seen.replaces_id, 0);
    assert_eq!(seen.hint("urgency"), Some("byte 1"));
    assert!(seen.time > 1.0e9);
    // dunst answered (notify-send succeeded) and is still alive.
    assert!(desktop.name_has_owner("org.freedesktop.Notifications"));
}

#[test]
fn private_bus_auto_starts_nothing() {
    require_tool("notify-send");
    let desktop = Desktop::start(DesktopOptions::default());
    let names = desktop.run_ok(
        "dbus-send",
        [
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.ListActivatableNames",
        ],
    );
    assert!(
        !names.contains("org.freedesktop.Notifications"),
        "activatable: {names}"
    );
    let watcher = desktop.watch_notifications();
    let output = desktop.run("notify-send", ["-a", "dwell", "nobody", "listens"]);
    assert!(
        !output.status.success(),
        "notify-send found a notification server on a bus without dunst"
    );
    assert!(!desktop.name_has_owner("org.freedesktop.Notifications"));
    // libnotify asked for the server first; the monitor saw that unanswered call.
    assert!(
        wait_until(Duration::from_secs(5), || watcher
            .raw()
            .contains("member=GetServerInformation")),
        "{}",
        watcher.raw()
    );
    assert!(watcher.notifications().is_empty());
}

#[test]
fn children_get_a_clean_environment() {
    let desktop = Desktop::start(DesktopOptions {
        tz: "Europe/Paris".to_owned(),
        extra_env: vec![("DWELL_TEST_EXTRA".to_owned(), "yes".to_owned())],
        ..DesktopOptions::default()
    });
    let env = desktop.run_ok("env", [] as [&str; 0]);
    let mut keys: Vec<&str> = env
        .lines()
        .filter_map(|line| line.split_once('=').map(|(k, _)| k))
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "DBUS_SESSION_BUS_ADDRESS",
            "DISPLAY",
            "DWELL_TEST_EXTRA",
            "HOME",
            "LANG",
            "LC_ALL",
            "NO_AT_BRIDGE",
            "PATH",
            "TZ",
            "XDG_CACHE_HOME",
            "XDG_CONFIG_HOME",
            "XDG_DATA_HOME",
            "XDG_RUNTIME_DIR",
            "XDG_STATE_HOME",
        ]
    );
    assert!(env.contains("TZ=Europe/Paris\n"), "{env}");
    assert!(env.contains(&format!("DISPLAY={}\n", desktop.display())));
    let home = format!("HOME={}\n", desktop.home().display());
    assert!(env.contains(&home), "{env}");
    let mode = std::fs::metadata(desktop.runtime_dir())
        .expect("runtime dir exists")
        .permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o700
    );
    assert!(desktop.tempdir().is_dir());
}

#[test]
fn spawned_processes_log_and_terminate() {
    let desktop = Desktop::start(DesktopOptions::default());
    let talker = desktop.spawn("sh", ["-c", "echo out; echo err >&2"]);
    assert!(talker.wait_exit(Duration::from_secs(5)).success());
    assert_eq!(talker.stdout_text(), "out\n");
    assert_eq!(talker.stderr_text(), "err\n");

    let graceful = desktop.spawn(
        "sh",
        [
            "-c",
            "trap 'echo bye >&2; exit 3' TERM; echo ready >&2; while :; do sleep 0.05; done",
        ],
    );
    assert!(graceful.wait_for_stderr(Duration::from_secs(5), |e| e.contains("ready")));
    let status = graceful.terminate();
    assert_eq!(status.code(), Some(3));
    assert!(graceful.stderr_text().contains("bye"));

    let stubborn = desktop.spawn(
        "sh",
        [
            "-c",
            "trap '' TERM HUP; echo ready >&2; while :; do sleep 0.05; done",
        ],
    );
    assert!(stubborn.wait_for_stderr(Duration::from_secs(5), |e| e.contains("ready")));
    assert!(stubborn.signal(Signal::HUP));
    assert!(stubborn.is_running());
    let status = stubborn.kill9();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    assert!(!stubborn.signal(Signal::TERM), "signalled a reaped process");
}

#[test]
fn dropping_the_desktop_ends_everything() {
    let desktop = Desktop::start(DesktopOptions::with_dunst());
    let window = desktop.open_window("Firefox", "Navigator", "bye");
    let sleeper = desktop.spawn("sleep", ["1000"]);
    let display = desktop.display_number();
    let tempdir = desktop.tempdir().to_path_buf();
    let pids: Vec<(String, u32)> = desktop.processes();
    for infra in [
        "Xvfb",
        "dbus-daemon",
        "openbox",
        "dunst",
        "xmessage",
        "sleep",
    ] {
        assert!(
            pids.iter().any(|(name, _)| name == infra),
            "{infra}: {pids:?}"
        );
    }
    drop(window);
    drop(desktop);

    assert!(!sleeper.is_running());
    // Reaped, not zombies: /proc/<pid> is gone for every process.
    for (name, pid) in &pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "{name} (pid {pid}) is still there"
        );
    }
    assert!(!Path::new(&format!("/tmp/.X{display}-lock")).exists());
    assert!(!Path::new(&format!("/tmp/.X11-unix/X{display}")).exists());
    // A handle keeps the logs (and so the temporary directory) until it goes.
    assert!(tempdir.is_dir());
    let _ = sleeper.stderr_text();
    drop(sleeper);
    assert!(!tempdir.exists() || std::env::var_os("DWELL_E2E_KEEP").is_some());
}

#[test]
fn bin_path_points_into_the_target_dir() {
    // Only the lookup rule is checked here: the binaries may not be built when this runs.
    let result = std::panic::catch_unwind(|| dwell_tests::bin_path("no-such-dwell-binary"));
    let message = result
        .err()
        .and_then(|e| e.downcast_ref::<String>().cloned())
        .expect("a missing binary panics with a message");
    assert!(
        message.contains("cargo build --workspace --bins"),
        "{message}"
    );
}

/// Run inside a private, empty `/tmp` by
/// [`desktops_start_at_once_on_a_machine_where_none_ran_before`]: several desktops
/// started at the same moment, each with a working X server.
#[test]
#[ignore = "run by desktops_start_at_once_on_a_machine_where_none_ran_before, inside a private /tmp"]
fn several_desktops_at_once_inside_a_fresh_tmp() {
    assert!(
        !Path::new("/tmp/.X11-unix").exists() || std::env::var_os("DWELL_FRESH_TMP").is_none(),
        "/tmp is not fresh"
    );
    // Started at one moment, as `cargo test` starts its first tests.
    let at_once = std::sync::Arc::new(std::sync::Barrier::new(8));
    let starters: Vec<_> = (0..8)
        .map(|_| {
            let at_once = at_once.clone();
            thread::spawn(move || {
                at_once.wait();
                let desktop = Desktop::start(DesktopOptions::default());
                // Every client can reach the server by its socket file (a server
                // that lost the race to create the directory has none).
                let socket = format!("/tmp/.X11-unix/X{}", desktop.display_number());
                assert!(Path::new(&socket).exists(), "no {socket}");
                let window = desktop.open_window("Firefox", "Navigator", "fresh");
                window.activate();
                assert!(desktop.wait_for_active(Some(window.id()), Duration::from_secs(10)));
            })
        })
        .collect();
    for s in starters {
        assert!(
            s.join().is_ok(),
            "a desktop failed to start in a fresh /tmp"
        );
    }
}

/// The first run on a new machine: `/tmp` empty (no `/tmp/.X11-unix`), desktops
/// started at once. Runs the test above in a private mount namespace whose
/// `/tmp` is a new, empty tmpfs.
#[test]
fn desktops_start_at_once_on_a_machine_where_none_ran_before() {
    let unshare = require_tool("unshare");
    let exe = std::env::current_exe().expect("the test binary's path");
    let script = r#"mount -t tmpfs -o mode=1777 tmpfs /tmp && exec "$0" --ignored --exact several_desktops_at_once_inside_a_fresh_tmp --nocapture"#;
    let out = std::process::Command::new(unshare)
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .arg(&exe)
        .env("DWELL_FRESH_TMP", "1")
        .output()
        .expect("cannot run unshare");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("1 passed"),
        "the inner test did not run:\n{text}"
    );
}
