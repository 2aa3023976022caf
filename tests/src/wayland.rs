//! [`WaylandSession`]: a real, throw-away Wayland session per test, with sway, KWin, GNOME
//! Shell, Hyprland or labwc running headless.
//!
//! [`WaylandSession::start`] brings up, for one test only:
//!
//! * a private D-Bus session bus with **no** service directories (nothing is auto-started);
//! * a throw-away **system** bus with a logind stand-in (`python3-dbusmock`'s `logind`
//!   template) holding the session `c1` (`XDG_SESSION_ID`), and an
//!   `org.freedesktop.ScreenSaver` stand-in on the session bus: the agent listens to both on
//!   every backend, and [`WaylandSession::lock`], [`WaylandSession::suspend`] and
//!   [`WaylandSession::set_screensaver_active`] drive them;
//! * the compositor, headless: `sway` or `labwc` (wlroots headless backend, pixman renderer),
//!   `Hyprland`, `kwin_wayland --virtual` (KWin 5.27: a copy, because the installed binary
//!   carries a file capability this sandbox cannot grant and a copy drops it; KWin 6: the
//!   installed binary, which aborts under another name), or `gnome-shell --headless` with
//!   `dconf-service` for its settings and a test-only helper extension
//!   (`tests/data/gnome-shell/`, an ES module; its legacy build for 43–44 is made from it)
//!   that hides the overview at startup and offers focus and input over D-Bus
//!   (`org.dwell.TestHelper`, because `org.gnome.Shell.Eval` is disabled);
//! * for all but GNOME, `dwell-e2e-wayland` (this crate's `src/bin`): a Wayland client that
//!   injects input (KWin's `org_kde_kwin_fake_input`, else a wlroots virtual pointer) and
//!   watches the compositor's own idle notifications, so [`WaylandSession::nudge_input`]
//!   proves the compositor saw the input; on Hyprland and labwc it also lists windows and
//!   focuses them through `zwlr_foreign_toplevel_manager_v1`.
//!
//! The compositor's version ([`WaylandSession::version`], from its Debian package) decides
//! what differs between releases: KWin 5 or 6 script API, the GNOME helper's flavour and
//! `shell-version`, which idle protocols sway offers. The same tests run on this host's
//! Debian 12 compositors and, through `scripts/roots`, inside Debian trixie and forky roots.
//!
//! Everything runs as an unprivileged user (uid/gid 65534 with no supplementary groups, the
//! same as `setpriv --reuid=65534 --regid=65534 --clear-groups`) when the tests run as root:
//! sway refuses to run as root, and running KWin and GNOME Shell the same way (both would
//! also run as root) keeps one code path. `HOME`, the XDG directories and a mode-0700
//! `XDG_RUNTIME_DIR` belong to that user.
//!
//! Processes are recorded like the X11 [`crate::Desktop`]'s: logs in files, tails printed when
//! a test panics, everything ended on drop. [`WaylandSession::prepare`] stops before the
//! compositor, for what must happen first (the GNOME extension is installed before the shell
//! starts); [`WaylandSession::start_compositor`] then starts it.

use std::env;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::Duration;

use tempfile::TempDir;

mod compositors;
mod gnome_helper;
pub mod scenarios;
mod window;

pub use compositors::WindowFacts;
pub use window::WaylandWindow;

use crate::procs::ProcessSet;
use crate::{
    create_dir, require_tool, run_command, wait_until, write_file, Child, Session, COMMAND_TIMEOUT,
    STARTUP_TIMEOUT,
};

/// Grace period between SIGTERM and SIGKILL when a session is dropped.
const DROP_GRACE: Duration = Duration::from_secs(5);
/// How long to wait for the compositor to show the effect of a request (focus, a window).
const EFFECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The user everything runs as when the tests run as root (`nobody`/`nogroup`).
const UNPRIVILEGED: u32 = 65534;
/// `XDG_SESSION_ID` of the session, and the logind session the stand-in holds.
pub const SESSION_ID: &str = "c1";
/// `WAYLAND_DISPLAY` of KWin and GNOME Shell (sway picks its own, `wayland-1`).
const SOCKET: &str = "wayland-dwell";
/// Uuid of the test-only GNOME Shell helper extension (`tests/data/gnome-shell/`).
pub const GNOME_HELPER_UUID: &str = "dwell-test-helper@dwell";
/// Milliseconds without input after which the idle probe reports "idled".
const PROBE_MS: u32 = 100;

/// Which compositor a [`WaylandSession`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compositor {
    /// sway (wlroots): foreign-toplevel; `org_kde_kwin_idle` (1.7), `ext-idle-notify-v1`
    /// (1.8 on).
    Sway,
    /// KWin 5.27 or 6 (`kwin_wayland --virtual`): scripting over D-Bus, `ext-idle-notify-v1`.
    Kwin,
    /// GNOME Shell (`--headless`): an extension reports focus, Mutter's `IdleMonitor`.
    Gnome,
    /// Hyprland (aquamarine): foreign-toplevel, `ext-idle-notify-v1`.
    Hyprland,
    /// labwc (wlroots): foreign-toplevel, `ext-idle-notify-v1`; no IPC for focus.
    Labwc,
}

impl Compositor {
    /// The program's name, as in logs.
    pub fn name(self) -> &'static str {
        match self {
            Compositor::Sway => "sway",
            Compositor::Kwin => "kwin_wayland",
            Compositor::Gnome => "gnome-shell",
            Compositor::Hyprland => "Hyprland",
            Compositor::Labwc => "labwc",
        }
    }

    /// The Debian package that ships it (its version is the compositor's).
    pub fn package(self) -> &'static str {
        match self {
            Compositor::Sway => "sway",
            Compositor::Kwin => "kwin-wayland",
            Compositor::Gnome => "gnome-shell",
            Compositor::Hyprland => "hyprland",
            Compositor::Labwc => "labwc",
        }
    }

    /// `XDG_CURRENT_DESKTOP` of a real session of this compositor.
    fn desktop_name(self) -> &'static str {
        match self {
            Compositor::Sway => "sway",
            Compositor::Kwin => "KDE",
            Compositor::Gnome => "GNOME",
            Compositor::Hyprland => "Hyprland",
            Compositor::Labwc => "labwc:wlroots",
        }
    }

    /// Whether the compositor picks its own socket name (`wayland-N`), which the test learns
    /// from a script the compositor runs at start.
    fn picks_socket(self) -> bool {
        matches!(
            self,
            Compositor::Sway | Compositor::Hyprland | Compositor::Labwc
        )
    }
}

/// A compositor's release (`major.minor`), from its Debian package's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
}

impl Version {
    /// Whether this release is `major.minor` or later.
    pub fn at_least(self, major: u32, minor: u32) -> bool {
        self >= Version { major, minor }
    }

    /// Reads `4:5.27.5-2`, `1.10.1-2` or `50.5-1` (epoch and Debian revision ignored).
    pub fn parse_debian(text: &str) -> Option<Version> {
        let upstream = text.trim().split_once(':').map_or(text.trim(), |(_, v)| v);
        let mut parts = upstream
            .split(|c: char| !c.is_ascii_digit())
            .map(str::parse::<u32>);
        let major = parts.next()?.ok()?;
        let minor = parts.next().and_then(Result::ok).unwrap_or(0);
        Some(Version { major, minor })
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Options for [`WaylandSession::start`].
#[derive(Debug, Clone)]
pub struct WaylandOptions {
    /// `TZ` of the children (default: `"UTC"`).
    pub tz: String,
    /// Size of the headless output (default: 1280×800).
    pub screen: (u32, u32),
    /// Extra variables added to [`WaylandSession::env`] (they override the defaults).
    pub extra_env: Vec<(String, String)>,
}

impl Default for WaylandOptions {
    fn default() -> Self {
        Self {
            tz: "UTC".to_owned(),
            screen: (1280, 800),
            extra_env: Vec::new(),
        }
    }
}

/// The running compositor and what belongs to that run.
#[derive(Default)]
struct Run {
    compositor: Option<Child>,
    /// `WAYLAND_DISPLAY` (sway's is known once it runs).
    display: Option<String>,
    /// sway's IPC socket.
    swaysock: Option<PathBuf>,
    /// `dwell-e2e-wayland` (all but GNOME).
    probe: Option<Probe>,
    /// (pid, app id) of every window the test opened, newest last: the foreign-toplevel
    /// protocol names no pid, so on Hyprland and labwc a window's pid is the one of the
    /// newest window opened with its app id (the scenarios never open two at once).
    opened: Vec<(u32, String)>,
}

/// The `dwell-e2e-wayland` helper of one compositor run.
struct Probe {
    child: Child,
    stdin: ChildStdin,
    commands: usize,
}

/// A private Wayland session (buses, logind stand-in, compositor) for one test.
pub struct WaylandSession {
    compositor: Compositor,
    opts: WaylandOptions,
    dir: Arc<TempDir>,
    procs: ProcessSet,
    /// (uid, gid) the children run as, when the test runs as root.
    user: Option<(u32, u32)>,
    bus_address: String,
    system_bus_address: String,
    /// The logind and ScreenSaver stand-ins.
    stand_ins: Vec<Child>,
    run: Mutex<Run>,
    tokens: AtomicU32,
    version: OnceLock<Version>,
}

impl WaylandSession {
    /// Starts a fresh session with `compositor` running; panics (with logs) if any part of it
    /// fails to come up.
    pub fn start(compositor: Compositor, opts: WaylandOptions) -> WaylandSession {
        let session = Self::prepare(compositor, opts);
        session.start_compositor();
        session
    }

    /// Starts everything but the compositor: the directories, the session bus, the system bus
    /// with the logind stand-in, the ScreenSaver stand-in (and dconf for GNOME). Start the
    /// compositor with [`WaylandSession::start_compositor`].
    pub fn prepare(compositor: Compositor, opts: WaylandOptions) -> WaylandSession {
        let mut tools = vec!["dbus-daemon", "dbus-send", "gdbus", "python3"];
        tools.extend(match compositor {
            Compositor::Sway => &["sway", "swaymsg"][..],
            Compositor::Kwin => &["kwin_wayland"][..],
            Compositor::Gnome => &["gnome-shell", "gsettings"][..],
            Compositor::Hyprland => &["Hyprland"][..],
            Compositor::Labwc => &["labwc"][..],
        });
        for tool in tools {
            require_session_tool(compositor, tool);
        }
        require_python_modules();
        if compositor == Compositor::Gnome {
            assert!(
                Path::new(DCONF_SERVICE).exists(),
                "required program {DCONF_SERVICE} (Debian package `dconf-service`) is missing; \
                 run scripts/test, which installs it"
            );
        }

        let keep = env::var_os("DWELL_E2E_KEEP").is_some_and(|v| !v.is_empty() && v != "0");
        let dir = tempfile::Builder::new()
            .prefix("dwell-e2e-wl-")
            .disable_cleanup(keep)
            .tempdir()
            .expect("cannot create the session's temporary directory");
        let dir = Arc::new(dir);
        let logs = dir.path().join("logs");
        let user = rustix::process::geteuid()
            .is_root()
            .then_some((UNPRIVILEGED, UNPRIVILEGED));
        let mut session = WaylandSession {
            compositor,
            opts,
            procs: ProcessSet::new(Arc::clone(&dir), logs),
            dir,
            user,
            bus_address: String::new(),
            system_bus_address: String::new(),
            stand_ins: Vec::new(),
            run: Mutex::new(Run::default()),
            tokens: AtomicU32::new(0),
            version: OnceLock::new(),
        };
        session.make_dirs();
        session.bus_address =
            session.start_private_bus("session", &session.runtime_dir().join("bus"));
        session.system_bus_address =
            session.start_private_bus("system", &session.system_dir().join("system_bus_socket"));
        let logind = session.start_logind();
        let screensaver = session.start_screensaver();
        session.stand_ins = vec![logind, screensaver];
        if compositor == Compositor::Gnome {
            session.start_dconf();
        }
        session
    }

    fn make_dirs(&self) {
        for dir in [
            self.home(),
            self.config_home(),
            self.data_home(),
            self.state_home(),
            self.cache_home(),
            self.runtime_dir(),
            self.logs_dir(),
            self.etc_dir(),
            self.system_dir(),
            self.bin_dir(),
        ] {
            create_dir(&dir);
        }
        fs::set_permissions(self.runtime_dir(), fs::Permissions::from_mode(0o700))
            .expect("cannot chmod 0700 the runtime directory");
        // Test data the children read, copied where the session's user can read it.
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        for file in ["wayland-window.py", "dbusmock-screensaver.py"] {
            fs::copy(data.join(file), self.etc_dir().join(file))
                .unwrap_or_else(|e| panic!("cannot copy tests/data/{file}: {e}"));
        }
        // Children find this `xdg-open` first: it records what it was asked to open.
        write_file(
            &self.bin_dir().join("xdg-open"),
            &format!(
                "#!/bin/sh\n# xdg-open stand-in: records its argument, opens nothing.\nprintf '%s\\n' \"$1\" >> '{}'\n",
                self.logs_dir().join("xdg-open.txt").display()
            ),
        );
        fs::set_permissions(
            self.bin_dir().join("xdg-open"),
            fs::Permissions::from_mode(0o755),
        )
        .expect("cannot make xdg-open executable");
        self.adopt_tree(self.tempdir());
    }

    /// Makes `path` and everything below it belong to the session's user.
    fn adopt_tree(&self, path: &Path) {
        let Some((uid, gid)) = self.user else { return };
        std::os::unix::fs::lchown(path, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("cannot chown {}: {e}", path.display()));
        if path.is_dir() && !path.is_symlink() {
            let entries = fs::read_dir(path)
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", path.display()));
            for entry in entries.flatten() {
                self.adopt_tree(&entry.path());
            }
        }
    }

    fn start_logind(&self) -> Child {
        let mut cmd = self.command(PYTHON);
        cmd.args(["-m", "dbusmock", "--system", "--template", "logind"]);
        let child = self.spawn_command(cmd);
        let up = wait_until(STARTUP_TIMEOUT, || {
            self.name_has_owner(Bus::System, "org.freedesktop.login1") || !child.is_running()
        });
        assert!(
            up && child.is_running(),
            "the logind stand-in (python3 -m dbusmock --system --template logind) did not \
             start:\n{}",
            child.stderr_text()
        );
        let uid = self
            .user
            .map_or_else(|| rustix::process::getuid().as_raw(), |(u, _)| u);
        self.gdbus(
            Bus::System,
            "org.freedesktop.login1",
            "/org/freedesktop/login1",
            "org.freedesktop.DBus.Mock.AddSession",
            &[SESSION_ID, "seat0", &uid.to_string(), "nobody", "true"],
        );
        child
    }

    fn start_screensaver(&self) -> Child {
        let mut cmd = self.command(PYTHON);
        cmd.args(["-m", "dbusmock", "--template"])
            .arg(self.etc_dir().join("dbusmock-screensaver.py"));
        let child = self.spawn_command(cmd);
        let up = wait_until(STARTUP_TIMEOUT, || {
            self.name_has_owner(Bus::Session, "org.freedesktop.ScreenSaver") || !child.is_running()
        });
        assert!(
            up && child.is_running(),
            "the org.freedesktop.ScreenSaver stand-in did not start:\n{}",
            child.stderr_text()
        );
        child
    }

    fn start_dconf(&self) {
        let child = self.spawn(DCONF_SERVICE, std::iter::empty::<&str>());
        let up = wait_until(STARTUP_TIMEOUT, || {
            self.name_has_owner(Bus::Session, "ca.desrt.dconf") || !child.is_running()
        });
        assert!(
            up && child.is_running(),
            "dconf-service did not start:\n{}",
            child.stderr_text()
        );
    }

    // ----- paths and environment -----

    /// The session's private temporary directory (removed on drop); put data dirs here.
    pub fn tempdir(&self) -> &Path {
        self.dir.path()
    }

    fn bin_dir(&self) -> PathBuf {
        self.tempdir().join("bin")
    }

    fn system_dir(&self) -> PathBuf {
        self.tempdir().join("system")
    }

    /// Which compositor this session runs.
    pub fn compositor(&self) -> Compositor {
        self.compositor
    }

    /// The compositor's release, from `dpkg-query` on its package (read once).
    pub fn version(&self) -> Version {
        *self.version.get_or_init(|| {
            let package = self.compositor.package();
            let mut cmd = Command::new("dpkg-query");
            cmd.env_clear()
                .env("PATH", "/usr/bin:/bin")
                .args(["-W", "-f=${Version}", package]);
            let out = run_command(cmd, COMMAND_TIMEOUT);
            let text = String::from_utf8_lossy(&out.stdout);
            Version::parse_debian(&text).unwrap_or_else(|| {
                panic!(
                    "cannot read the version of the Debian package `{package}` ({}): {text:?} {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                )
            })
        })
    }

    /// `DBUS_SESSION_BUS_ADDRESS` of the private session bus.
    pub fn bus_address(&self) -> &str {
        &self.bus_address
    }

    /// `DBUS_SYSTEM_BUS_ADDRESS` of the throw-away system bus.
    pub fn system_bus_address(&self) -> &str {
        &self.system_bus_address
    }

    /// `WAYLAND_DISPLAY` (sway's, Hyprland's and labwc's are known once they have started).
    pub fn wayland_display(&self) -> Option<String> {
        if self.compositor.picks_socket() {
            self.lock_run().display.clone()
        } else {
            Some(SOCKET.to_owned())
        }
    }

    /// The uid the children run as.
    pub fn uid(&self) -> u32 {
        self.user
            .map_or_else(|| rustix::process::getuid().as_raw(), |(uid, _)| uid)
    }

    fn lock_run(&self) -> MutexGuard<'_, Run> {
        self.run
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The clean environment for children: PATH, HOME, XDG_{CONFIG,DATA,STATE,CACHE}_HOME,
    /// XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS, DBUS_SYSTEM_BUS_ADDRESS, XDG_SESSION_ID,
    /// XDG_SESSION_TYPE=wayland, XDG_CURRENT_DESKTOP, WAYLAND_DISPLAY (once known), SWAYSOCK
    /// (sway), LANG/LC_ALL=C.UTF-8, NO_AT_BRIDGE=1, TZ, then [`WaylandOptions::extra_env`].
    /// No DISPLAY: there is no X server.
    pub fn env(&self) -> Vec<(OsString, OsString)> {
        let path =
            env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
        let mut vars: Vec<(OsString, OsString)> = vec![
            ("PATH".into(), {
                let mut p = self.bin_dir().into_os_string();
                p.push(":");
                p.push(path);
                p
            }),
            ("HOME".into(), self.home().into()),
            ("USER".into(), "nobody".into()),
            ("XDG_CONFIG_HOME".into(), self.config_home().into()),
            ("XDG_DATA_HOME".into(), self.data_home().into()),
            ("XDG_STATE_HOME".into(), self.state_home().into()),
            ("XDG_CACHE_HOME".into(), self.cache_home().into()),
            ("XDG_RUNTIME_DIR".into(), self.runtime_dir().into()),
            ("XDG_SESSION_ID".into(), SESSION_ID.into()),
            ("XDG_SESSION_TYPE".into(), "wayland".into()),
            (
                "XDG_CURRENT_DESKTOP".into(),
                self.compositor.desktop_name().into(),
            ),
            ("LANG".into(), "C.UTF-8".into()),
            ("LC_ALL".into(), "C.UTF-8".into()),
            ("NO_AT_BRIDGE".into(), "1".into()),
            ("TZ".into(), self.opts.tz.clone().into()),
        ];
        if !self.bus_address.is_empty() {
            vars.push((
                "DBUS_SESSION_BUS_ADDRESS".into(),
                self.bus_address.clone().into(),
            ));
        }
        if !self.system_bus_address.is_empty() {
            vars.push((
                "DBUS_SYSTEM_BUS_ADDRESS".into(),
                self.system_bus_address.clone().into(),
            ));
        }
        if let Some(display) = self.wayland_display() {
            vars.push(("WAYLAND_DISPLAY".into(), display.into()));
        }
        if let Some(sock) = self.lock_run().swaysock.clone() {
            vars.push(("SWAYSOCK".into(), sock.into()));
        }
        for (key, value) in &self.opts.extra_env {
            vars.retain(|(k, _)| k != key.as_str());
            vars.push((key.into(), value.into()));
        }
        vars
    }

    /// A `Command` with `env_clear()` + [`WaylandSession::env`], working directory `HOME`,
    /// run as the session's user.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear().envs(self.env()).current_dir(self.home());
        if let Some((uid, gid)) = self.user {
            // std drops the supplementary groups when root changes the uid.
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    // ----- processes -----

    /// Starts `cmd` (usually made with [`WaylandSession::command`]) with stdin null and
    /// stdout/stderr redirected to files in [`Session::logs_dir`], and records it.
    pub fn spawn_command(&self, cmd: Command) -> Child {
        self.procs.spawn(cmd, false).0
    }

    /// Name and pid of every process this session started (infrastructure included).
    pub fn processes(&self) -> Vec<(String, u32)> {
        self.procs.list()
    }

    /// Tail of every recorded process's logs, for failure messages.
    pub fn diagnostics(&self) -> String {
        self.procs.diagnostics(&format!(
            "{} session in {}\n",
            self.compositor.name(),
            self.tempdir().display()
        ))
    }

    fn token(&self) -> u32 {
        self.tokens.fetch_add(1, Ordering::Relaxed)
    }

    // ----- D-Bus -----

    /// Whether `name` is owned on the session or the system bus.
    pub fn name_has_owner(&self, bus: Bus, name: &str) -> bool {
        let output = self.run(
            "dbus-send",
            [
                bus.flag(),
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                &format!("string:{name}"),
            ],
        );
        output.status.success() && String::from_utf8_lossy(&output.stdout).contains("boolean true")
    }

    /// `gdbus call` (arguments in GVariant text); panics unless it succeeds; returns the reply.
    pub fn gdbus(&self, bus: Bus, dest: &str, path: &str, method: &str, args: &[&str]) -> String {
        let mut all = vec![
            "call",
            bus.flag(),
            "--dest",
            dest,
            "--object-path",
            path,
            "--method",
            method,
        ];
        all.extend_from_slice(args);
        self.run_ok("gdbus", all)
    }

    // ----- the compositor -----

    /// Starts (or restarts, after [`WaylandSession::kill_compositor`]) the compositor and
    /// waits until it is ready: sway's IPC answers and its Wayland socket is known; Hyprland
    /// and labwc have run their start-up command (which tells the socket); KWin's
    /// `/Scripting` answers; GNOME Shell's helper extension owns `org.dwell.TestHelper` (the
    /// shell has started and the overview is hidden). For all but GNOME, also starts the
    /// `dwell-e2e-wayland` probe. A restarted compositor must take the same socket name.
    pub fn start_compositor(&self) {
        assert!(
            self.lock_run().compositor.is_none(),
            "{} is already running",
            self.compositor.name()
        );
        let child = match self.compositor {
            Compositor::Sway => self.start_sway(),
            Compositor::Kwin => self.start_kwin(),
            Compositor::Gnome => self.start_gnome(),
            Compositor::Hyprland => self.start_hyprland(),
            Compositor::Labwc => self.start_labwc(),
        };
        self.lock_run().compositor = Some(child);
        if self.compositor != Compositor::Gnome {
            self.start_probe();
        }
    }

    /// The running compositor's process (panics when none runs).
    pub fn compositor_process(&self) -> Child {
        let run = self.lock_run();
        let child = run
            .compositor
            .as_ref()
            .expect("the compositor is not running");
        Child {
            proc: Arc::clone(&child.proc),
            _dir: Arc::clone(&self.dir),
        }
    }

    /// Kills the compositor (SIGKILL, as a crash would) and waits until it is gone; its
    /// windows end with it.
    pub fn kill_compositor(&self) {
        let (compositor, probe) = {
            let mut run = self.lock_run();
            (run.compositor.take(), run.probe.take())
        };
        let compositor = compositor.expect("the compositor is not running");
        compositor.kill9();
        if let Some(probe) = probe {
            drop(probe.stdin);
            if probe.child.wait_timeout(EFFECT_TIMEOUT).is_none() {
                probe.child.kill9();
            }
        }
    }

    /// Whether the compositor runs.
    pub fn compositor_running(&self) -> bool {
        self.lock_run()
            .compositor
            .as_ref()
            .is_some_and(Child::is_running)
    }

    fn compositor_stderr(&self) -> String {
        self.lock_run()
            .compositor
            .as_ref()
            .map(Child::stderr_text)
            .unwrap_or_default()
    }
}

/// Which bus a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bus {
    /// The session's private session bus.
    Session,
    /// The throw-away system bus (logind stand-in).
    System,
}

impl Bus {
    fn flag(self) -> &'static str {
        match self {
            Bus::Session => "--session",
            Bus::System => "--system",
        }
    }
}

/// As [`require_tool`], but inside a `scripts/roots` root (`DWELL_E2E_ROOT` names its
/// suite) a missing tool means the root's package list lacks it, which the panic says.
fn require_session_tool(compositor: Compositor, tool: &str) {
    match env::var("DWELL_E2E_ROOT") {
        Ok(suite) if crate::find_tool(tool).is_none() => panic!(
            "`{tool}` ({} session) is not in the Debian {suite} root: add its package to \
             that suite's list in scripts/roots (the root is rebuilt when the list changes)",
            compositor.name()
        ),
        _ => {
            require_tool(tool);
        }
    }
}

const PYTHON: &str = "/usr/bin/python3";
const DCONF_SERVICE: &str = "/usr/libexec/dconf-service";

/// Python modules the helpers need, each with the Python statement that proves it is there
/// and its Debian package (`scripts/test` checks the same list).
const PYTHON_MODULES: &[(&str, &str)] = &[
    ("import gi", "python3-gi"),
    (
        "import gi; gi.require_version('Gtk', '3.0')",
        "gir1.2-gtk-3.0",
    ),
    ("import dbus", "python3-dbus"),
    ("import dbusmock", "python3-dbusmock"),
];

/// Panics, naming the Debian package, when `/usr/bin/python3` lacks a module the helpers
/// need. Checked once per test process.
fn require_python_modules() {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    let result = CHECKED.get_or_init(|| {
        if !Path::new(PYTHON).exists() {
            return Err(format!(
                "{PYTHON} (Debian package `python3`) is missing; run scripts/test, which \
                 installs it"
            ));
        }
        let all: Vec<&str> = PYTHON_MODULES
            .iter()
            .map(|(statement, _)| *statement)
            .collect();
        let mut cmd = Command::new(PYTHON);
        cmd.env_clear().args(["-c", &all.join("; ")]);
        if run_command(cmd, COMMAND_TIMEOUT).status.success() {
            return Ok(());
        }
        for (statement, package) in PYTHON_MODULES {
            let mut cmd = Command::new(PYTHON);
            cmd.env_clear().args(["-c", statement]);
            let out = run_command(cmd, COMMAND_TIMEOUT);
            if !out.status.success() {
                return Err(format!(
                    "{PYTHON} -c \"{statement}\" failed: Debian package `{package}` is missing; \
                     run scripts/test, which installs it\n{}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        Ok(())
    });
    if let Err(message) = result {
        panic!("{message}");
    }
}

impl WaylandSession {
    // ----- windows and input (per compositor: see compositors.rs) -----

    /// Focuses `window` and waits until the compositor says it has focus.
    pub fn focus(&self, window: &WaylandWindow<'_>) {
        self.focus_pid(window.pid());
    }

    // ----- lock and suspend: the logind stand-in and the ScreenSaver stand-in -----

    fn logind_session_path() -> String {
        format!("/org/freedesktop/login1/session/{SESSION_ID}")
    }

    /// The logind session's `Lock` (`true`) or `Unlock` (`false`) signal, as `loginctl
    /// lock-session` / `unlock-session` make logind send it.
    pub fn emit_session_lock(&self, locked: bool) {
        let method = if locked { "Lock" } else { "Unlock" };
        self.gdbus(
            Bus::System,
            "org.freedesktop.login1",
            &Self::logind_session_path(),
            &format!("org.freedesktop.login1.Session.{method}"),
            &[],
        );
    }

    /// The logind session's `LockedHint` property (a `PropertiesChanged` signal), as a
    /// screen locker sets it once the screen is locked or unlocked.
    pub fn set_locked_hint(&self, locked: bool) {
        self.gdbus(
            Bus::System,
            "org.freedesktop.login1",
            &Self::logind_session_path(),
            "org.freedesktop.login1.Session.SetLockedHint",
            &[if locked { "true" } else { "false" }],
        );
    }

    /// Locks the session the way logind and a locker do: `Lock`, then `LockedHint` true.
    pub fn lock(&self) {
        self.emit_session_lock(true);
        self.set_locked_hint(true);
    }

    /// Unlocks the session: `Unlock`, then `LockedHint` false.
    pub fn unlock(&self) {
        self.emit_session_lock(false);
        self.set_locked_hint(false);
    }

    /// `org.freedesktop.ScreenSaver` `ActiveChanged(active)` on the session bus (the
    /// stand-in's `SetActive`).
    pub fn set_screensaver_active(&self, active: bool) {
        self.gdbus(
            Bus::Session,
            "org.freedesktop.ScreenSaver",
            "/org/freedesktop/ScreenSaver",
            "org.freedesktop.ScreenSaver.SetActive",
            &[if active { "true" } else { "false" }],
        );
    }

    /// What the logind stand-in logged (dbusmock: every call and `emit …` line).
    pub fn logind_log(&self) -> String {
        self.stand_ins[0].stdout_text()
    }

    /// What the ScreenSaver stand-in logged.
    pub fn screensaver_log(&self) -> String {
        self.stand_ins[1].stdout_text()
    }

    /// logind's `PrepareForSleep(sleeping)` signal on the system bus.
    pub fn prepare_for_sleep(&self, sleeping: bool) {
        self.gdbus(
            Bus::System,
            "org.freedesktop.login1",
            "/org/freedesktop/login1",
            "org.freedesktop.DBus.Mock.EmitSignal",
            &[
                "org.freedesktop.login1.Manager",
                "PrepareForSleep",
                "b",
                if sleeping { "[<true>]" } else { "[<false>]" },
            ],
        );
    }

    /// A suspend as logind announces it: `PrepareForSleep(true)`, `duration`, then
    /// `PrepareForSleep(false)`. (The clocks keep running: nothing really sleeps.)
    pub fn suspend(&self, duration: Duration) {
        self.prepare_for_sleep(true);
        thread::sleep(duration);
        self.prepare_for_sleep(false);
    }
}

impl Session for WaylandSession {
    fn tempdir(&self) -> &Path {
        WaylandSession::tempdir(self)
    }

    fn command(&self, program: impl AsRef<OsStr>) -> Command {
        WaylandSession::command(self, program)
    }

    fn spawn_command(&self, cmd: Command) -> Child {
        WaylandSession::spawn_command(self, cmd)
    }

    fn adopt(&self, path: &Path) {
        if let Some((uid, gid)) = self.user {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))
                .unwrap_or_else(|e| panic!("cannot chown {}: {e}", path.display()));
        }
    }
}

impl Drop for WaylandSession {
    fn drop(&mut self) {
        // Newest first: test processes, the compositor, the stand-ins, the buses last.
        self.procs.stop_all(DROP_GRACE);
        if thread::panicking() {
            eprintln!(
                "---- dwell e2e wayland session diagnostics ----\n{}",
                self.diagnostics()
            );
            if env::var_os("DWELL_E2E_KEEP").is_none() {
                eprintln!(
                    "(set DWELL_E2E_KEEP=1 to keep {})",
                    self.tempdir().display()
                );
            }
        }
    }
}
