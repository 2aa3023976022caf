//! What differs per compositor: starting it, listing windows and the focused one, focusing a
//! window, and input that the compositor's idle tracking sees.
//!
//! * sway: IPC (`swaymsg`), `[pid=N] focus`, `seat - cursor move`;
//! * KWin: one-shot KWin scripts loaded over D-Bus (`org.kde.kwin.Scripting`), whose
//!   `print()` lines land in kwin's stderr (KWin 6: with `kwin_scripting` debug logging on);
//!   input through `org_kde_kwin_fake_input`;
//! * GNOME Shell: the test helper extension's `org.dwell.TestHelper` methods;
//! * Hyprland and labwc: `dwell-e2e-wayland` lists windows and activates them through
//!   `zwlr_foreign_toplevel_manager_v1`, and moves a `zwlr_virtual_pointer_v1`.

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{
    Bus, Compositor, Probe, WaylandSession, EFFECT_TIMEOUT, GNOME_HELPER_UUID, PROBE_MS, SOCKET,
};
use crate::{
    bin_path, require_tool, tail, wait_until, write_file, Child, Session, STARTUP_TIMEOUT,
};
use std::path::PathBuf;

/// One window as the compositor sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowFacts {
    /// The Wayland app id (sway `app_id`, KWin `resourceClass`, Mutter `wm_class`).
    pub app_id: String,
    pub title: String,
    pub pid: u32,
}

impl WindowFacts {
    fn from_json(value: &Value) -> Option<WindowFacts> {
        Some(WindowFacts {
            app_id: value.get("app_id")?.as_str()?.to_owned(),
            title: value.get("title")?.as_str()?.to_owned(),
            pid: u32::try_from(value.get("pid")?.as_u64()?).ok()?,
        })
    }
}

impl WaylandSession {
    // ----- starting -----

    /// The script a compositor runs once it is up (sway's `exec`, labwc's `-s`, Hyprland's
    /// `exec-once`): it writes `$WAYLAND_DISPLAY` to the returned file. Returns (script,
    /// file); the file is removed first, so its presence means "this run is up".
    fn ready_script(&self) -> (PathBuf, PathBuf) {
        let ready_file = self.etc_dir().join("compositor-display");
        let _ = fs::remove_file(&ready_file);
        let script = self.etc_dir().join("compositor-ready.sh");
        if !script.exists() {
            write_file(
                &script,
                "#!/bin/sh\n# Run by the compositor once it is up: tells the test which socket it \
                 took.\nprintf '%s' \"$WAYLAND_DISPLAY\" > \"$1.tmp\" && mv \"$1.tmp\" \"$1\"\n",
            );
            fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .expect("chmod compositor-ready.sh");
            self.adopt_tree(&self.etc_dir());
        }
        (script, ready_file)
    }

    /// Waits until the compositor's ready script has told the socket name (and `also`
    /// holds), records it (a restarted compositor must take the same one) and returns it.
    fn wait_for_socket_name(
        &self,
        child: &Child,
        ready_file: &Path,
        also: impl Fn() -> bool,
    ) -> String {
        let mut display = String::new();
        let up = wait_until(STARTUP_TIMEOUT, || {
            display = fs::read_to_string(ready_file).unwrap_or_default();
            (!display.is_empty() && also()) || !child.is_running()
        });
        assert!(
            up && child.is_running(),
            "{} {} did not start (socket name {display:?}):\n{}",
            self.compositor.name(),
            self.version(),
            tail(
                &format!("{}{}", child.stdout_text(), child.stderr_text()),
                60
            )
        );
        let mut run = self.lock_run();
        if let Some(before) = &run.display {
            assert_eq!(
                before,
                &display,
                "the restarted {} took another socket name",
                self.compositor.name()
            );
        }
        run.display = Some(display.clone());
        display
    }

    pub(super) fn start_sway(&self) -> Child {
        let (script, ready_file) = self.ready_script();
        let config = self.etc_dir().join("sway.conf");
        if !config.exists() {
            let (width, height) = self.opts.screen;
            write_file(
                &config,
                &format!(
                    "# dwell end-to-end tests: a bare sway, no bar, no Xwayland.\n\
                     xwayland disable\n\
                     output * mode {width}x{height}\n\
                     exec {} {}\n",
                    script.display(),
                    ready_file.display()
                ),
            );
            self.adopt_tree(&self.etc_dir());
        }
        let mut cmd = self.command(require_tool("sway"));
        cmd.arg("-c")
            .arg(&config)
            .env("WLR_BACKENDS", "headless")
            .env("WLR_LIBINPUT_NO_DEVICES", "1")
            .env("WLR_RENDERER", "pixman")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("SWAYSOCK");
        let child = self.spawn_command(cmd);
        let ipc = self
            .runtime_dir()
            .join(format!("sway-ipc.{}.{}.sock", self.uid(), child.pid()));
        self.wait_for_socket_name(&child, &ready_file, || ipc.exists());
        self.lock_run().swaysock = Some(ipc);
        let version = self.swaymsg(&["-t", "get_version"]);
        assert!(
            version.contains("human_readable"),
            "swaymsg get_version: {version}"
        );
        child
    }

    /// labwc with wlroots' headless backend and pixman renderer, its default config (a
    /// new window gets focus) and the ready script as its start-up command (`-s`).
    pub(super) fn start_labwc(&self) -> Child {
        let (script, ready_file) = self.ready_script();
        let config_dir = self.etc_dir().join("labwc");
        if !config_dir.exists() {
            crate::create_dir(&config_dir);
            // Server-side decorations, no menu, no autostart: a bare labwc.
            write_file(
                &config_dir.join("rc.xml"),
                "<?xml version=\"1.0\"?>\n<labwc_config>\n  <core><decoration>server</decoration></core>\n\
                 </labwc_config>\n",
            );
            self.adopt_tree(&config_dir);
        }
        let mut cmd = self.command(require_tool("labwc"));
        cmd.arg("-C")
            .arg(&config_dir)
            .arg("-s")
            .arg(format!("{} {}", script.display(), ready_file.display()))
            .env("WLR_BACKENDS", "headless")
            .env("WLR_LIBINPUT_NO_DEVICES", "1")
            .env("WLR_RENDERER", "pixman")
            .env_remove("WAYLAND_DISPLAY");
        let child = self.spawn_command(cmd);
        self.wait_for_socket_name(&child, &ready_file, || true);
        child
    }

    /// Hyprland, its config written by the test (no animations, no splash or update news,
    /// its log on stdout), the ready script as `exec-once`. Hyprland 0.56 has no backend
    /// that runs without a GPU: aquamarine's only allocator is GBM on a DRM node, which its
    /// headless backend does not provide, so with no `/dev/dri` it stops at start ("Cannot
    /// open backend: no allocator available"), and the failure shows that log line.
    pub(super) fn start_hyprland(&self) -> Child {
        let (script, ready_file) = self.ready_script();
        let config = self.etc_dir().join("hyprland.conf");
        if !config.exists() {
            let (width, height) = self.opts.screen;
            write_file(
                &config,
                &format!(
                    "# dwell end-to-end tests: a bare Hyprland.\n\
                     monitor = , {width}x{height}, 0x0, 1\n\
                     animations {{\n    enabled = false\n}}\n\
                     misc {{\n    disable_hyprland_logo = true\n    disable_splash_rendering = true\n}}\n\
                     ecosystem {{\n    no_update_news = true\n    no_donation_nag = true\n}}\n\
                     xwayland {{\n    enabled = false\n}}\n\
                     debug {{\n    disable_logs = false\n    enable_stdout_logs = true\n}}\n\
                     exec-once = {} {}\n",
                    script.display(),
                    ready_file.display()
                ),
            );
            self.adopt_tree(&self.etc_dir());
        }
        let mut cmd = self.command(require_tool("Hyprland"));
        cmd.arg("--config")
            .arg(&config)
            .env("HYPRLAND_NO_SD_NOTIFY", "1")
            .env("HYPRLAND_NO_RT", "1")
            .env("WLR_LIBINPUT_NO_DEVICES", "1")
            .env_remove("WAYLAND_DISPLAY");
        let child = self.spawn_command(cmd);
        self.wait_for_socket_name(&child, &ready_file, || true);
        child
    }

    pub(super) fn start_kwin(&self) -> Child {
        let kwin6 = self.version().at_least(6, 0);
        let program = if kwin6 {
            // KWin 6's binary (cap_sys_nice) runs here as it is, and a renamed copy aborts:
            // it looks for its Qt platform plugin by its own name.
            require_tool("kwin_wayland")
        } else {
            // KWin 5.27's carries a file capability (cap_sys_resource) that exec refuses
            // here; a plain copy (same name, another directory) has none.
            let copy = self.tempdir().join("kwin").join("kwin_wayland");
            if !copy.exists() {
                crate::create_dir(copy.parent().expect("has a parent"));
                fs::copy(require_tool("kwin_wayland"), &copy)
                    .unwrap_or_else(|e| panic!("cannot copy kwin_wayland: {e}"));
                fs::set_permissions(&copy, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                    .expect("chmod the kwin_wayland copy");
            }
            copy
        };
        let (width, height) = self.opts.screen;
        let mut cmd = self.command(&program);
        cmd.args(["--virtual", "--width", &width.to_string()])
            .args(["--height", &height.to_string(), "--socket", SOCKET])
            .args(["--no-lockscreen", "--no-global-shortcuts"])
            .env("KWIN_WAYLAND_NO_PERMISSION_CHECKS", "1")
            .env_remove("WAYLAND_DISPLAY");
        if kwin6 {
            // print() in a KWin 6 script is a debug message of this category.
            cmd.env("QT_LOGGING_RULES", "kwin_scripting.debug=true");
        } else {
            cmd.arg("--no-kactivities");
        }
        let child = self.spawn_command(cmd);
        let socket = self.runtime_dir().join(SOCKET);
        let up = wait_until(STARTUP_TIMEOUT, || {
            (socket.exists()
                && self
                    .run(
                        "dbus-send",
                        [
                            "--session",
                            "--print-reply",
                            "--dest=org.kde.KWin",
                            "/Scripting",
                            "org.kde.kwin.Scripting.isScriptLoaded",
                            "string:dwell-e2e-none",
                        ],
                    )
                    .status
                    .success())
                || !child.is_running()
        });
        assert!(
            up && child.is_running(),
            "kwin_wayland {} did not start (no {} or no /Scripting on the bus):\n{}",
            self.version(),
            socket.display(),
            tail(&child.stderr_text(), 40)
        );
        child
    }

    pub(super) fn start_gnome(&self) -> Child {
        self.install_gnome_helper();
        let (width, height) = self.opts.screen;
        let mut cmd = self.command(require_tool("gnome-shell"));
        cmd.args(["--headless", "--wayland", "--no-x11"])
            .args(["--virtual-monitor", &format!("{width}x{height}")])
            .args(["--wayland-display", SOCKET])
            .env_remove("WAYLAND_DISPLAY");
        let child = self.spawn_command(cmd);
        let up = wait_until(STARTUP_TIMEOUT, || {
            self.name_has_owner(Bus::Session, "org.dwell.TestHelper") || !child.is_running()
        });
        if !up || !child.is_running() {
            let info = self
                .run(
                    "gdbus",
                    [
                        "call",
                        "--session",
                        "--dest",
                        "org.gnome.Shell",
                        "--object-path",
                        "/org/gnome/Shell",
                        "--method",
                        "org.gnome.Shell.Extensions.GetExtensionInfo",
                        GNOME_HELPER_UUID,
                    ],
                )
                .stdout;
            panic!(
                "gnome-shell {} did not start, or the test helper extension did not load (it \
                 owns org.dwell.TestHelper once the shell has started; state 4 = out of \
                 date):\n{}\nGetExtensionInfo: {}",
                self.version(),
                tail(&child.stderr_text(), 60),
                String::from_utf8_lossy(&info)
            );
        }
        child
    }

    /// Starts `dwell-e2e-wayland` in the compositor and asks it for idle reports after
    /// [`PROBE_MS`] without input.
    pub(super) fn start_probe(&self) {
        let cmd = self.command(bin_path("dwell-e2e-wayland"));
        let (child, stdin) = self.procs.spawn(cmd, true);
        let mut probe = Probe {
            child,
            stdin: stdin.expect("stdin was piped"),
            commands: 0,
        };
        let ready = probe
            .child
            .wait_for_stdout(STARTUP_TIMEOUT, |out| out.starts_with("ready"));
        assert!(
            ready,
            "dwell-e2e-wayland did not connect to {}:\n{}{}",
            self.compositor.name(),
            probe.child.stdout_text(),
            probe.child.stderr_text()
        );
        probe.send(&format!("probe {PROBE_MS}"));
        self.lock_run().probe = Some(probe);
    }

    // ----- sway -----

    /// Runs `swaymsg ARGS…` against the running sway; returns its output.
    pub fn swaymsg(&self, args: &[&str]) -> String {
        self.run_ok("swaymsg", args)
    }

    fn sway_windows(&self) -> (Vec<WindowFacts>, Option<WindowFacts>) {
        fn walk(node: &Value, all: &mut Vec<WindowFacts>, focused: &mut Option<WindowFacts>) {
            if let (Some(app_id), Some(pid)) = (
                node.get("app_id").and_then(Value::as_str),
                node.get("pid").and_then(Value::as_u64),
            ) {
                let facts = WindowFacts {
                    app_id: app_id.to_owned(),
                    title: node
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    pid: u32::try_from(pid).unwrap_or(0),
                };
                if node.get("focused").and_then(Value::as_bool) == Some(true) {
                    *focused = Some(facts.clone());
                }
                all.push(facts);
            }
            for key in ["nodes", "floating_nodes"] {
                for child in node
                    .get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    walk(child, all, focused);
                }
            }
        }
        let tree = self.swaymsg(&["-t", "get_tree", "-r"]);
        let tree: Value = serde_json::from_str(&tree)
            .unwrap_or_else(|e| panic!("swaymsg get_tree printed no JSON ({e}): {tree}"));
        let mut all = Vec::new();
        let mut focused = None;
        walk(&tree, &mut all, &mut focused);
        (all, focused)
    }

    // ----- KWin -----

    /// Runs `body` as a one-shot KWin script (loaded, run, unloaded) and returns what it
    /// passed to `out(…)`, one string per call. Beside `out`, the script has `windows()`,
    /// `active()` and `activate(w)`, the same on KWin 5 (`clientList`, `activeClient`) and 6
    /// (`windowList`, `activeWindow`); a window has `resourceClass`, `caption` and `pid`.
    pub fn kwin_script(&self, body: &str) -> Vec<String> {
        let token = format!("dwell-e2e-{}-{}", std::process::id(), self.token());
        let path = self.etc_dir().join(format!("{token}.js"));
        write_file(
            &path,
            &format!(
                "function out(x) {{ print(\"{token} \" + x); }}\n{KWIN_COMPAT}{body}\nprint(\"{token} done\");\n"
            ),
        );
        Session::adopt(self, &path);
        let loaded = self.run_ok(
            "dbus-send",
            [
                "--session",
                "--print-reply",
                "--dest=org.kde.KWin",
                "/Scripting",
                "org.kde.kwin.Scripting.loadScript",
                &format!("string:{}", path.display()),
                &format!("string:{token}"),
            ],
        );
        let id: i64 = loaded
            .split_whitespace()
            .skip_while(|w| *w != "int32")
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("KWin loadScript answered {loaded:?}"));
        assert!(
            id >= 0,
            "KWin refused the script {}: {loaded}",
            path.display()
        );
        // KWin 5.27 numbers scripts by the count loaded (ids are reused) and registers script
        // N at /N (KWin 6: /Scripting/ScriptN); when the agent's own script holds the path
        // ours would get, `run` there would reach the agent's. `start` runs every loaded
        // script that is not running yet, on 5.27, 6.3 and 6.7 alike.
        self.run_ok(
            "dbus-send",
            [
                "--session",
                "--print-reply",
                "--dest=org.kde.KWin",
                "/Scripting",
                "org.kde.kwin.Scripting.start",
            ],
        );
        let done = format!("{token} done");
        let finished = wait_until(EFFECT_TIMEOUT, || self.compositor_stderr().contains(&done));
        self.run_ok(
            "dbus-send",
            [
                "--session",
                "--print-reply",
                "--dest=org.kde.KWin",
                "/Scripting",
                "org.kde.kwin.Scripting.unloadScript",
                &format!("string:{token}"),
            ],
        );
        // Only now: KWin reads a loaded script's file later, on a worker thread, and drops
        // a script whose file is gone by then.
        let _ = fs::remove_file(&path);
        let log = self.compositor_stderr();
        assert!(
            finished,
            "the KWin script {token} did not finish:\n{body}\n--- kwin:\n{}",
            tail(&log, 30)
        );
        let prefix = format!("{token} ");
        log.lines()
            .filter_map(|line| line.split_once(&prefix).map(|(_, rest)| rest.to_owned()))
            .filter(|rest| rest != "done")
            .collect()
    }

    fn kwin_windows(&self) -> (Vec<WindowFacts>, Option<WindowFacts>) {
        let lines = self.kwin_script(
            "function facts(c) { return JSON.stringify({app_id: String(c.resourceClass), \
             title: String(c.caption), pid: c.pid}); }\n\
             var clients = windows();\n\
             for (var i = 0; i < clients.length; i++) out('window ' + facts(clients[i]));\n\
             if (active()) out('active ' + facts(active()));",
        );
        let mut all = Vec::new();
        let mut focused = None;
        for line in lines {
            let (kind, json) = line.split_once(' ').unwrap_or_default();
            let facts = serde_json::from_str(json)
                .ok()
                .as_ref()
                .and_then(WindowFacts::from_json);
            match (kind, facts) {
                ("window", Some(facts)) => all.push(facts),
                ("active", Some(facts)) => focused = Some(facts),
                _ => panic!("unexpected line from the KWin script: {line:?}"),
            }
        }
        (all, focused)
    }

    // ----- GNOME -----

    /// Calls `org.dwell.TestHelper.METHOD` of the GNOME test helper extension; returns its
    /// string reply ("" for none).
    pub fn gnome_helper(&self, method: &str, args: &[&str]) -> String {
        let mut all = vec![
            "--session",
            "--print-reply",
            "--dest=org.dwell.TestHelper",
            "/org/dwell/TestHelper",
        ];
        let member = format!("org.dwell.TestHelper.{method}");
        all.push(&member);
        all.extend_from_slice(args);
        let reply = self.run_ok("dbus-send", all);
        // `   string "…"` (dbus-send does not escape) or `   boolean true`.
        reply
            .split_once('\n')
            .map(|(_, body)| body.trim())
            .map(|body| {
                body.strip_prefix("string \"")
                    .and_then(|s| s.strip_suffix('"'))
                    .unwrap_or(body)
                    .to_owned()
            })
            .unwrap_or_default()
    }

    fn gnome_windows(&self) -> (Vec<WindowFacts>, Option<WindowFacts>) {
        let parse = |text: &str| -> Value {
            serde_json::from_str(text)
                .unwrap_or_else(|e| panic!("the GNOME helper answered no JSON ({e}): {text}"))
        };
        let all = parse(&self.gnome_helper("Windows", &[]))
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(WindowFacts::from_json)
            .collect();
        let focused = WindowFacts::from_json(&parse(&self.gnome_helper("Focused", &[])));
        (all, focused)
    }

    // ----- Hyprland and labwc: the probe's foreign-toplevel client -----

    /// Sends `command` to `dwell-e2e-wayland` and returns what followed its `ok N`.
    fn probe_send(&self, command: &str) -> String {
        let mut run = self.lock_run();
        let probe = run.probe.as_mut().expect("the probe runs");
        probe.send(command)
    }

    /// App id of the window of `pid` the test opened (see `Run::opened`).
    fn opened_app_id(&self, pid: u32) -> String {
        let run = self.lock_run();
        run.opened
            .iter()
            .rev()
            .find(|(p, _)| *p == pid)
            .map(|(_, app_id)| app_id.clone())
            .unwrap_or_else(|| panic!("the test opened no window of pid {pid}"))
    }

    fn probe_windows(&self) -> (Vec<WindowFacts>, Option<WindowFacts>) {
        let json = self.probe_send("toplevels");
        let list: Value = serde_json::from_str(json.trim())
            .unwrap_or_else(|e| panic!("dwell-e2e-wayland listed no JSON ({e}): {json}"));
        let opened = self.lock_run().opened.clone();
        let mut all = Vec::new();
        let mut focused = None;
        for top in list.as_array().into_iter().flatten() {
            let app_id = top["app_id"].as_str().unwrap_or_default().to_owned();
            let pid = opened
                .iter()
                .rev()
                .find(|(_, a)| *a == app_id)
                .map_or(0, |(p, _)| *p);
            let facts = WindowFacts {
                app_id,
                title: top["title"].as_str().unwrap_or_default().to_owned(),
                pid,
            };
            if top["activated"].as_bool() == Some(true) {
                focused = Some(facts.clone());
            }
            all.push(facts);
        }
        (all, focused)
    }

    // ----- the same on every compositor -----

    /// Panics unless the compositor offers every global in `offered` and none in `absent`.
    pub fn assert_globals(&self, offered: &[&str], absent: &[&str]) {
        let globals = self.globals();
        for name in offered {
            assert!(
                globals.iter().any(|g| g == name),
                "{} offers no {name}: {globals:?}",
                self.compositor.name()
            );
        }
        for name in absent {
            assert!(
                !globals.iter().any(|g| g == name),
                "{} offers {name}: {globals:?}",
                self.compositor.name()
            );
        }
    }

    /// The Wayland globals the compositor offers a client (`wayland-info`), by interface.
    pub fn globals(&self) -> Vec<String> {
        let out = self.run_ok(require_tool("wayland-info"), std::iter::empty::<&str>());
        out.lines()
            .filter_map(|line| line.split_once("interface: '"))
            .filter_map(|(_, rest)| rest.split_once('\''))
            .map(|(name, _)| name.to_owned())
            .collect()
    }

    /// Every window the compositor knows (app id, title, pid), and the focused one.
    pub fn windows(&self) -> (Vec<WindowFacts>, Option<WindowFacts>) {
        match self.compositor {
            Compositor::Sway => self.sway_windows(),
            Compositor::Kwin => self.kwin_windows(),
            Compositor::Gnome => self.gnome_windows(),
            Compositor::Hyprland | Compositor::Labwc => self.probe_windows(),
        }
    }

    /// The focused window, as the compositor sees it.
    pub fn focused(&self) -> Option<WindowFacts> {
        self.windows().1
    }

    /// Asks the compositor to focus the window of process `pid` and waits until it has.
    pub(super) fn focus_pid(&self, pid: u32) {
        // Asking again for the focused window is not a no-op everywhere (GNOME Shell can
        // take focus away and give it back): leave it alone.
        if self.focused().is_some_and(|f| f.pid == pid) {
            return;
        }
        match self.compositor {
            Compositor::Sway => {
                self.swaymsg(&[&format!("[pid={pid}]"), "focus"]);
            }
            Compositor::Kwin => {
                self.kwin_script(&format!(
                    "var clients = windows();\n\
                     for (var i = 0; i < clients.length; i++)\n\
                     \u{20}   if (clients[i].pid == {pid}) activate(clients[i]);"
                ));
            }
            Compositor::Hyprland | Compositor::Labwc => {
                let app_id = self.opened_app_id(pid);
                self.probe_send(&format!("activate {app_id}"));
            }
            Compositor::Gnome => {
                let found = self.gnome_helper("Activate", &[&format!("uint32:{pid}")]);
                assert_eq!(
                    found, "boolean true",
                    "GNOME Shell has no window of pid {pid}"
                );
            }
        }
        let mut focused = None;
        let done = wait_until(EFFECT_TIMEOUT, || {
            focused = self.focused();
            focused.as_ref().is_some_and(|f| f.pid == pid)
        });
        assert!(
            done,
            "{} did not focus the window of pid {pid} (focused: {focused:?})",
            self.compositor.name()
        );
    }

    /// Input the compositor's idle tracking sees: a one-pixel pointer move (sway:
    /// `swaymsg seat - cursor move`; KWin: `org_kde_kwin_fake_input`; Hyprland, labwc: a
    /// wlroots virtual pointer; GNOME: a Clutter virtual pointer in the helper extension). Checks that the compositor saw it: its
    /// idle notification resumed (sway, KWin), or Mutter's idle time restarted (GNOME).
    pub fn nudge_input(&self) {
        match self.compositor {
            Compositor::Sway => self.nudge_with_probe(|n| {
                let d = if n % 2 == 0 { "1" } else { "-1" };
                self.swaymsg(&[&format!("seat - cursor move {d} {d}")]);
            }),
            Compositor::Kwin | Compositor::Hyprland | Compositor::Labwc => {
                self.nudge_with_probe(|_| {
                    self.probe_send("nudge");
                });
            }
            Compositor::Gnome => {
                let started = Instant::now();
                self.gnome_helper("Nudge", &[]);
                let mut idle = u64::MAX;
                let reset = wait_until(EFFECT_TIMEOUT, || {
                    idle = self.gnome_idle_ms();
                    u128::from(idle) <= started.elapsed().as_millis() + 50
                });
                assert!(
                    reset,
                    "Mutter's idle time did not restart ({idle} ms) after a nudge"
                );
            }
        }
    }

    /// Milliseconds since the last input, from `org.gnome.Mutter.IdleMonitor` (GNOME only).
    pub fn gnome_idle_ms(&self) -> u64 {
        let reply = self.gdbus(
            Bus::Session,
            "org.gnome.Mutter.IdleMonitor",
            "/org/gnome/Mutter/IdleMonitor/Core",
            "org.gnome.Mutter.IdleMonitor.GetIdletime",
            &[],
        );
        reply
            .trim()
            .trim_start_matches("(uint64 ")
            .trim_end_matches(",)")
            .parse()
            .unwrap_or_else(|e| panic!("GetIdletime answered {reply:?}: {e}"))
    }

    /// Waits until the probe reports idle, injects input with `inject(n)`, and waits until
    /// the probe reports that input resumed.
    fn nudge_with_probe(&self, inject: impl FnOnce(usize)) {
        let probe_out = || {
            let run = self.lock_run();
            let probe = run.probe.as_ref().expect("the probe runs");
            probe.child.stdout_text()
        };
        let count = |out: &str, what: &str| out.lines().filter(|l| *l == what).count();
        let idle = wait_until(Duration::from_secs(3), || {
            let out = probe_out();
            count(&out, "idled") > count(&out, "resumed")
        });
        assert!(
            idle,
            "{} never reported idle to the probe ({PROBE_MS} ms without input):\n{}",
            self.compositor.name(),
            probe_out()
        );
        let before = count(&probe_out(), "resumed");
        inject(before);
        let seen = wait_until(EFFECT_TIMEOUT, || count(&probe_out(), "resumed") > before);
        assert!(
            seen,
            "{} did not count the nudge as input (its idle notification did not resume):\n{}",
            self.compositor.name(),
            probe_out()
        );
    }
}

impl Probe {
    /// Sends one command, waits for its `ok N` and returns what followed it on that line
    /// (`toplevels`' JSON; "" for the others).
    pub(super) fn send(&mut self, command: &str) -> String {
        let n = self.commands;
        self.commands += 1;
        writeln!(self.stdin, "{command}")
            .and_then(|()| self.stdin.flush())
            .unwrap_or_else(|e| panic!("cannot write to dwell-e2e-wayland: {e}"));
        let ok = format!("ok {n}");
        let ok_with = format!("ok {n} ");
        let err = format!("error {n}:");
        let answer = |out: &str| -> Option<String> {
            out.lines().find_map(|l| {
                if l == ok {
                    Some(String::new())
                } else {
                    l.strip_prefix(&ok_with).map(str::to_owned)
                }
            })
        };
        let answered = self.child.wait_for_stdout(EFFECT_TIMEOUT, |out| {
            answer(out).is_some() || out.contains(&err)
        });
        let out = self.child.stdout_text();
        match answer(&out) {
            Some(payload) if answered => payload,
            _ => panic!(
                "dwell-e2e-wayland did not do {command:?}:\n{}{}",
                tail(&out, 30),
                self.child.stderr_text()
            ),
        }
    }
}

/// Prepended to every one-shot KWin script: the same names on KWin 5 and 6.
const KWIN_COMPAT: &str = "var kwin6 = typeof workspace.windowList === 'function';\n\
function windows() { return kwin6 ? workspace.windowList() : workspace.clientList(); }\n\
function active() { return kwin6 ? workspace.activeWindow : workspace.activeClient; }\n\
function activate(w) { if (kwin6) workspace.activeWindow = w; else workspace.activeClient = w; }\n";
