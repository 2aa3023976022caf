//! End-to-end test harness for dwell: a real, throw-away X11 desktop per test.
//!
//! [`Desktop::start`] brings up, for one test only:
//!
//! * `Xvfb` on a free display number (`:90` and up, picked with a per-process random-ish offset,
//!   retried when another server got there first), started with `-displayfd` so readiness is
//!   reported by the server itself;
//! * a private D-Bus session bus (`dbus-daemon`) whose config has **no** service directories, so
//!   nothing is ever auto-started behind the test's back;
//! * the `openbox` window manager (ready once `_NET_SUPPORTING_WM_CHECK` is on the root window);
//! * optionally `dunst` as the notification server, with a test `dunstrc` (long timeouts, no idle
//!   handling, a `dmenu` stand-in), ready once it owns `org.freedesktop.Notifications`.
//!
//! Children get a clean environment ([`Desktop::env`], [`Desktop::command`]): `HOME` and the XDG
//! directories live in the desktop's temporary directory, `XDG_RUNTIME_DIR` is mode 0700, the
//! locale is `C.UTF-8` and `TZ` is `UTC` unless [`DesktopOptions::tz`] says otherwise.
//!
//! Every process started through the desktop is recorded; dropping the [`Desktop`] sends each one
//! SIGTERM, then SIGKILL after a grace period, and reaps it (no zombies, no leftover `Xvfb`).
//! Processes' stdout and stderr go to files under [`Session::logs_dir`]; when a test panics, the
//! tail of every log is printed, and `DWELL_E2E_KEEP=1` keeps the temporary directory.
//!
//! Test windows are `xmessage` clients whose `WM_CLASS`, `_NET_WM_NAME`/`WM_NAME` and
//! `_NET_WM_PID` are set the way real toolkits set them ([`Desktop::open_window`]).
//! Notifications can be observed with [`Desktop::watch_notifications`] (a `dbus-monitor`).
//!
//! [`WaylandSession`] (`src/wayland.rs`) is the same for Wayland: sway, KWin or GNOME Shell
//! headless, with a logind stand-in on a throw-away system bus; [`Dwell`] drives the agent in
//! either kind of session ([`Session`]), and [`wayland_scenarios`] holds the scenarios the
//! Wayland test files share. Process recording and logs are shared (`src/procs.rs`).
//!
//! A missing system tool makes the harness panic with the tool's name: `scripts/test` installs
//! them all. Binaries of the workspace are found with [`bin_path`]; build them first with
//! `cargo build --workspace --bins` (which `scripts/test` does).

use std::env;
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{self, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use rustix::process::Signal;

mod dwell;
mod procs;
mod session;
mod wayland;
pub use dwell::Dwell;
use procs::ProcessSet;
pub use session::Session;
use tempfile::TempDir;
pub use wayland::scenarios as wayland_scenarios;
pub use wayland::{Bus, Compositor, WaylandOptions, WaylandSession, WaylandWindow, WindowFacts};
use x11rb::connection::Connection as _;
use x11rb::protocol::screensaver::ConnectionExt as _;
use x11rb::protocol::xproto::{AtomEnum, ClientMessageEvent, ConnectionExt as _, EventMask};
use x11rb::rust_connection::RustConnection;

/// How long the harness waits for a server or window manager to become ready.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a helper command (`xprop`, `xdotool`, ...) may run before it is killed.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);
/// Grace period between SIGTERM and SIGKILL in [`Child::terminate`].
pub const TERMINATE_GRACE: Duration = Duration::from_secs(10);
/// Grace period between SIGTERM and SIGKILL when a [`Desktop`] is dropped.
const DROP_GRACE: Duration = Duration::from_secs(5);
/// Polling interval of every wait loop.
const POLL: Duration = Duration::from_millis(20);

/// System tools the harness (or its tests) use, with the Debian package providing each.
const TOOLS: &[(&str, &str)] = &[
    ("Xvfb", "xvfb"),
    ("openbox", "openbox"),
    ("dunst", "dunst"),
    ("xdotool", "xdotool"),
    ("xprop", "x11-utils"),
    ("xmessage", "x11-utils"),
    ("xdpyinfo", "x11-utils"),
    ("dbus-daemon", "dbus-daemon"),
    ("dbus-send", "dbus-bin"),
    ("dbus-monitor", "dbus-bin"),
    ("notify-send", "libnotify-bin"),
    ("sqlite3", "sqlite3"),
    ("xprintidle", "xprintidle"),
    ("dunstctl", "dunst"),
    ("systemd-analyze", "systemd"),
    ("flock", "util-linux"),
    ("chromium", "chromium"),
    ("firefox-esr", "firefox-esr"),
    // The Wayland sessions (src/wayland.rs).
    ("sway", "sway"),
    ("swaymsg", "sway"),
    ("kwin_wayland", "kwin-wayland"),
    ("gnome-shell", "gnome-shell"),
    ("gsettings", "libglib2.0-bin"),
    ("gdbus", "libglib2.0-bin"),
    ("wayland-info", "wayland-utils"),
    ("python3", "python3"),
];

// ---------------------------------------------------------------------------------------------
// Small free helpers
// ---------------------------------------------------------------------------------------------

/// Finds `name` in `PATH`, if it is there.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path =
        env::var_os("PATH").unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            fs::metadata(candidate)
                .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// Finds `name` in `PATH`; panics, naming the tool and its Debian package, when it is missing.
pub fn require_tool(name: &str) -> PathBuf {
    find_tool(name).unwrap_or_else(|| {
        let package = TOOLS
            .iter()
            .find(|(tool, _)| *tool == name)
            .map_or("?", |(_, package)| *package);
        panic!(
            "required tool `{name}` (Debian package `{package}`) is not installed or not in PATH; \
             run scripts/test, which installs it"
        )
    })
}

/// Polls `condition` every 20 ms until it holds or `timeout` has passed; returns whether it held.
/// The condition is always evaluated at least once, and once more after the deadline.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return condition();
        }
        thread::sleep(POLL);
    }
}

/// Path of a binary of this workspace (`dwell-agent`, `dwell-report`).
///
/// Looks in `$DWELL_BIN_DIR` if set, else in the cargo target directory the running test binary
/// lives in (`…/target/debug/deps/<test>` → `…/target/debug/`). `CARGO_BIN_EXE_*` does not reach
/// binaries of other packages, hence this. Panics when the binary has not been built.
pub fn bin_path(name: &str) -> PathBuf {
    let dir = match env::var_os("DWELL_BIN_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let exe = env::current_exe().expect("cannot locate the running test executable");
            let mut dir = exe
                .parent()
                .expect("test executable has no parent directory")
                .to_path_buf();
            if dir.file_name() == Some(OsStr::new("deps")) {
                dir.pop();
            }
            dir
        }
    };
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "binary `{name}` not found at {}: run `cargo build --workspace --bins` first \
         (scripts/test does that), or point DWELL_BIN_DIR at the directory holding it",
        path.display()
    );
    path
}

/// Runs `cmd` to completion ([`COMMAND_TIMEOUT`]), panicking with its output unless it
/// succeeds; returns its stdout (lossy UTF-8).
pub fn run_ok_command(cmd: Command) -> String {
    let desc = describe(&cmd);
    let output = run_command(cmd, COMMAND_TIMEOUT);
    assert!(
        output.status.success(),
        "`{desc}` failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `cmd` to completion (stdin null, stdout and stderr captured), killing it and panicking
/// if it takes longer than `timeout`. Panics if it cannot be started.
pub fn run_command(mut cmd: Command, timeout: Duration) -> Output {
    let desc = describe(&cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{desc}`: {e}"));
    let mut stdout = child.stdout.take().expect("stdout was piped");
    let mut stderr = child.stderr.take().expect("stderr was piped");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`{desc}` did not finish within {timeout:?}");
            }
            Err(e) => panic!("waiting for `{desc}` failed: {e}"),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Output {
        status,
        stdout,
        stderr,
    }
}

/// Runs `sqlite3 -json` on `db` (5 s busy timeout) and returns its rows as a JSON array
/// (an empty array when the query yields no rows). Panics when sqlite3 fails.
pub fn sqlite_json(db: &Path, sql: &str) -> serde_json::Value {
    let mut cmd = Command::new(require_tool("sqlite3"));
    cmd.env_clear()
        .env("LC_ALL", "C.UTF-8")
        .args(["-batch", "-bail", "-cmd", ".timeout 5000", "-json"])
        .arg(db)
        .arg(sql);
    let output = run_command(cmd, COMMAND_TIMEOUT);
    assert!(
        output.status.success(),
        "sqlite3 {} {sql:?} failed ({}): {}",
        db.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    if text.trim().is_empty() {
        return serde_json::Value::Array(Vec::new());
    }
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("sqlite3 printed something that is not JSON ({e}): {text}"))
}

fn describe(cmd: &Command) -> String {
    let mut desc = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        desc.push(' ');
        desc.push_str(&arg.to_string_lossy());
    }
    desc
}

fn read_lossy(path: &Path) -> String {
    fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub(crate) fn write_file(path: &Path, contents: &str) {
    fs::write(path, contents).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

fn write_script(path: &Path, contents: &str) {
    write_file(path, contents);
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("cannot make {} executable: {e}", path.display()));
}

fn create_dir(path: &Path) {
    fs::create_dir_all(path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

struct ProcState {
    child: Option<process::Child>,
    status: Option<ExitStatus>,
}

/// One recorded process. All signalling happens under the lock and only while the process has
/// not been reaped, so a signal can never hit a recycled pid.
struct Proc {
    name: String,
    pid: u32,
    stdout: PathBuf,
    stderr: PathBuf,
    state: Mutex<ProcState>,
}

impl Proc {
    fn lock(&self) -> MutexGuard<'_, ProcState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn poll(state: &mut ProcState) -> Option<ExitStatus> {
        if state.status.is_none() {
            if let Some(child) = state.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    state.status = Some(status);
                    state.child = None;
                }
            }
        }
        state.status
    }

    fn try_status(&self) -> Option<ExitStatus> {
        Self::poll(&mut self.lock())
    }

    /// Sends `signal` if the process is still running; returns whether it was sent.
    fn signal(&self, signal: Signal) -> bool {
        let mut state = self.lock();
        if Self::poll(&mut state).is_some() {
            return false;
        }
        let pid = i32::try_from(self.pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .expect("child pid is a valid positive pid");
        rustix::process::kill_process(pid, signal).is_ok()
    }

    fn wait_timeout(&self, timeout: Duration) -> Option<ExitStatus> {
        let mut status = None;
        wait_until(timeout, || {
            status = self.try_status();
            status.is_some()
        });
        status
    }

    fn wait_blocking(&self) -> ExitStatus {
        let mut state = self.lock();
        if let Some(status) = state.status {
            return status;
        }
        let child = state
            .child
            .as_mut()
            .expect("unreaped process has its handle");
        let status = child
            .wait()
            .unwrap_or_else(|e| panic!("waiting for {} (pid {}) failed: {e}", self.name, self.pid));
        state.status = Some(status);
        state.child = None;
        status
    }

    fn stop(&self, grace: Duration) -> ExitStatus {
        if let Some(status) = self.try_status() {
            return status;
        }
        self.signal(Signal::TERM);
        if let Some(status) = self.wait_timeout(grace) {
            return status;
        }
        self.kill9()
    }

    fn kill9(&self) -> ExitStatus {
        self.signal(Signal::KILL);
        self.wait_blocking()
    }
}

/// A process started through [`Session::spawn`] or [`Session::spawn_command`].
///
/// Its stdout and stderr go to files under [`Session::logs_dir`]. The process is ended when the
/// [`Desktop`] is dropped, if not before; the handle stays usable (logs included) after that.
pub struct Child {
    proc: Arc<Proc>,
    _dir: Arc<TempDir>,
}

impl Child {
    /// Process id.
    pub fn pid(&self) -> u32 {
        self.proc.pid
    }

    /// Short name (the program's file name), used in log file names and diagnostics.
    pub fn name(&self) -> &str {
        &self.proc.name
    }

    /// File receiving the process's stdout.
    pub fn stdout_path(&self) -> &Path {
        &self.proc.stdout
    }

    /// File receiving the process's stderr.
    pub fn stderr_path(&self) -> &Path {
        &self.proc.stderr
    }

    /// Everything the process wrote to stdout so far (lossy UTF-8).
    pub fn stdout_text(&self) -> String {
        read_lossy(&self.proc.stdout)
    }

    /// Everything the process wrote to stderr so far (lossy UTF-8).
    pub fn stderr_text(&self) -> String {
        read_lossy(&self.proc.stderr)
    }

    /// The exit status if the process has exited (it is reaped then), else `None`.
    pub fn try_status(&self) -> Option<ExitStatus> {
        self.proc.try_status()
    }

    /// Whether the process is still running.
    pub fn is_running(&self) -> bool {
        self.try_status().is_none()
    }

    /// Waits up to `timeout` for the process to exit on its own.
    pub fn wait_timeout(&self, timeout: Duration) -> Option<ExitStatus> {
        self.proc.wait_timeout(timeout)
    }

    /// Waits up to `timeout` for the process to exit on its own; panics (showing its logs) if it
    /// does not.
    pub fn wait_exit(&self, timeout: Duration) -> ExitStatus {
        self.wait_timeout(timeout).unwrap_or_else(|| {
            panic!(
                "{} (pid {}) still running after {timeout:?}\n--- stderr:\n{}",
                self.name(),
                self.pid(),
                tail(&self.stderr_text(), 40)
            )
        })
    }

    /// Sends `signal` (e.g. `Signal::INT`, `Signal::HUP`) if the process still runs; returns
    /// whether it was sent.
    pub fn signal(&self, signal: Signal) -> bool {
        self.proc.signal(signal)
    }

    /// SIGTERM, then wait up to 10 s ([`TERMINATE_GRACE`]), then SIGKILL; returns the exit
    /// status (already-exited processes just return theirs).
    pub fn terminate(&self) -> ExitStatus {
        self.proc.stop(TERMINATE_GRACE)
    }

    /// SIGKILL and reap; returns the exit status.
    pub fn kill9(&self) -> ExitStatus {
        self.proc.kill9()
    }

    /// Waits until `predicate` holds for the process's stderr text.
    pub fn wait_for_stderr(&self, timeout: Duration, predicate: impl Fn(&str) -> bool) -> bool {
        wait_until(timeout, || predicate(&self.stderr_text()))
    }

    /// Waits until `predicate` holds for the process's stdout text.
    pub fn wait_for_stdout(&self, timeout: Duration, predicate: impl Fn(&str) -> bool) -> bool {
        wait_until(timeout, || predicate(&self.stdout_text()))
    }
}

// ---------------------------------------------------------------------------------------------
// Desktop
// ---------------------------------------------------------------------------------------------

/// Options for [`Desktop::start`].
#[derive(Debug, Clone)]
pub struct DesktopOptions {
    /// Also start `dunst` as the notification server (default: false).
    pub with_dunst: bool,
    /// `TZ` of the children (default: `"UTC"`).
    pub tz: String,
    /// Screen size of Xvfb (default: 1280×800, depth 24).
    pub screen: (u32, u32),
    /// Extra variables added to [`Desktop::env`] (they override the defaults).
    pub extra_env: Vec<(String, String)>,
}

impl Default for DesktopOptions {
    fn default() -> Self {
        Self {
            with_dunst: false,
            tz: "UTC".to_owned(),
            screen: (1280, 800),
            extra_env: Vec::new(),
        }
    }
}

impl DesktopOptions {
    /// Default options plus dunst.
    pub fn with_dunst() -> Self {
        Self {
            with_dunst: true,
            ..Self::default()
        }
    }
}

/// X servers put their sockets in `/tmp/.X11-unix`, which each creates when it
/// is missing: on a machine where none ran before, servers started at once
/// race to create it, and the losers fail (`mkdir(/tmp/.X11-unix) failed,
/// errno = 17`). It is made here first, once, as X expects it (mode 1777,
/// sticky), and an existing one is taken as it is.
pub fn ensure_x11_socket_dir() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let dir = Path::new("/tmp/.X11-unix");
        match fs::create_dir(dir) {
            Ok(()) => {
                if let Err(e) = fs::set_permissions(dir, fs::Permissions::from_mode(0o1777)) {
                    panic!(
                        "cannot make {} world-writable and sticky: {e}",
                        dir.display()
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => panic!("cannot create {}: {e}", dir.display()),
        }
    });
}

/// A private X11 desktop (Xvfb + session bus + openbox [+ dunst]) for one test.
pub struct Desktop {
    opts: DesktopOptions,
    dir: Arc<TempDir>,
    display: Option<u32>,
    bus_address: Option<String>,
    procs: ProcessSet,
    xvfb: Option<Arc<Proc>>,
    nudge_left: AtomicBool,
}

impl Desktop {
    /// Starts a fresh desktop; panics (with logs) if any part of it fails to come up.
    pub fn start(opts: DesktopOptions) -> Desktop {
        for tool in [
            "Xvfb",
            "dbus-daemon",
            "dbus-send",
            "openbox",
            "xdotool",
            "xprop",
        ] {
            require_tool(tool);
        }
        if opts.with_dunst {
            require_tool("dunst");
        }
        let keep = env::var_os("DWELL_E2E_KEEP").is_some_and(|v| !v.is_empty() && v != "0");
        let dir = tempfile::Builder::new()
            .prefix("dwell-e2e-")
            .disable_cleanup(keep)
            .tempdir()
            .expect("cannot create the desktop's temporary directory");
        let dir = Arc::new(dir);
        let logs = dir.path().join("logs");
        let mut desktop = Desktop {
            opts,
            procs: ProcessSet::new(Arc::clone(&dir), logs),
            dir,
            display: None,
            bus_address: None,
            xvfb: None,
            nudge_left: AtomicBool::new(false),
        };
        desktop.make_dirs();
        desktop.start_xvfb();
        desktop.start_bus();
        desktop.start_openbox();
        if desktop.opts.with_dunst {
            desktop.start_dunst();
        }
        desktop
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
        ] {
            create_dir(&dir);
        }
        fs::set_permissions(self.runtime_dir(), fs::Permissions::from_mode(0o700))
            .expect("cannot chmod 0700 the runtime directory");
        // Children find this `xdg-open` first: it records what it was asked to open, so no
        // test ever starts a real browser and tests can see what was opened.
        create_dir(&self.bin_dir());
        write_script(
            &self.bin_dir().join("xdg-open"),
            &format!(
                "#!/bin/sh\n# xdg-open stand-in: records its argument, opens nothing.\nprintf '%s\\n' \"$1\" >> '{}'\n",
                self.logs_dir().join("xdg-open.txt").display()
            ),
        );
    }

    fn bin_dir(&self) -> PathBuf {
        self.tempdir().join("bin")
    }

    /// Makes the `xdg-open` stand-in fail, as on a desktop where nothing opens files.
    pub fn break_opener(&self) {
        write_script(
            &self.bin_dir().join("xdg-open"),
            "#!/bin/sh\n# xdg-open stand-in: nothing can open anything here.\nexit 3\n",
        );
    }

    /// What children asked `xdg-open` to open, in order.
    pub fn opened(&self) -> Vec<PathBuf> {
        read_lossy(&self.logs_dir().join("xdg-open.txt"))
            .lines()
            .map(PathBuf::from)
            .collect()
    }

    /// Chooses the action `key` of the newest notification through dunst's context menu, the way
    /// a person does (`dunstctl context`, then picking the entry in dunst's dmenu): dunst itself
    /// then invokes it. Returns whether dunst offered that action.
    pub fn choose_notification_action(&self, key: &str) -> bool {
        let input = self.logs_dir().join("dmenu-input.txt");
        let _ = fs::remove_file(&input);
        write_file(&self.etc_dir().join("dmenu-choice"), key);
        self.run("dunstctl", ["context"]);
        let offered = wait_until(Duration::from_secs(5), || {
            read_lossy(&input).contains(&format!(",{key}]"))
        });
        let _ = fs::remove_file(self.etc_dir().join("dmenu-choice"));
        offered
    }

    fn start_xvfb(&mut self) {
        ensure_x11_socket_dir();
        static NEXT: AtomicU32 = AtomicU32::new(0);
        static SEED: OnceLock<u32> = OnceLock::new();
        let seed = *SEED.get_or_init(|| {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            process::id().wrapping_mul(31).wrapping_add(nanos / 1000)
        });
        let (width, height) = self.opts.screen;
        let mut failures = String::new();
        for _attempt in 0..40 {
            let n = 90 + seed.wrapping_add(NEXT.fetch_add(1, Ordering::Relaxed)) % 900;
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                || Path::new(&format!("/tmp/.X{n}-lock")).exists()
            {
                continue;
            }
            let mut cmd = self.command("Xvfb");
            cmd.arg(format!(":{n}"))
                .args(["-screen", "0", &format!("{width}x{height}x24")])
                .args(["-nolisten", "tcp", "-noreset", "-displayfd", "1"]);
            let child = self.spawn_command(cmd);
            let mut ready = false;
            wait_until(STARTUP_TIMEOUT, || {
                ready = child.stdout_text().trim() == n.to_string();
                ready || !child.is_running()
            });
            if ready {
                self.display = Some(n);
                self.xvfb = Some(Arc::clone(&child.proc));
                return;
            }
            let status = child.proc.stop(DROP_GRACE);
            let _ = writeln!(
                failures,
                "Xvfb :{n} failed ({status}):\n{}",
                tail(&child.stderr_text(), 5)
            );
        }
        panic!("could not start Xvfb on any display:\n{failures}");
    }

    fn start_bus(&mut self) {
        let socket = self.runtime_dir().join("bus");
        self.bus_address = Some(self.start_private_bus("session", &socket));
    }

    fn start_openbox(&mut self) {
        let mut cmd = self.command("openbox");
        cmd.arg("--sm-disable");
        let child = self.spawn_command(cmd);
        let ok = wait_until(STARTUP_TIMEOUT, || {
            let x = self.x11();
            let check = x.prop32(x.root, "_NET_SUPPORTING_WM_CHECK");
            (!check.is_empty() && check[0] != 0) || !child.is_running()
        });
        assert!(
            ok && child.is_running(),
            "openbox did not come up on {}:\n{}",
            self.display(),
            child.stderr_text()
        );
    }

    fn start_dunst(&mut self) {
        let dmenu = self.etc_dir().join("dmenu-stand-in");
        // Records its input; picks the entry whose action key is in `dmenu-choice`, if any
        // (dunst lists actions as `#Label [ID,key]`), else nothing.
        write_script(
            &dmenu,
            &format!(
                "#!/bin/sh\n# dmenu stand-in for dunst.\ninput=$(cat)\nkey=$(cat '{choice}' 2>/dev/null)\nprintf '%s\\n' \"$input\" >> '{log}'\n[ -n \"$key\" ] || exit 0\nprintf '%s\\n' \"$input\" | grep -F \",$key]\" | head -n 1\n",
                log = self.logs_dir().join("dmenu-input.txt").display(),
                choice = self.etc_dir().join("dmenu-choice").display(),
            ),
        );
        let dunstrc = self.etc_dir().join("dunstrc");
        write_file(
            &dunstrc,
            &format!(
                "[global]
    monitor = 0
    follow = none
    width = 300
    height = 100
    origin = top-right
    offset = 10x10
    notification_limit = 0
    idle_threshold = 0
    show_age_threshold = -1
    sticky_history = yes
    history_length = 100
    startup_notification = false
    font = Monospace 8
    dmenu = {}
    browser = /bin/true

[urgency_low]
    timeout = 600

[urgency_normal]
    timeout = 600

[urgency_critical]
    timeout = 0
",
                dmenu.display()
            ),
        );
        let mut cmd = self.command("dunst");
        cmd.arg("-config").arg(&dunstrc);
        let child = self.spawn_command(cmd);
        let ok = wait_until(STARTUP_TIMEOUT, || {
            self.name_has_owner("org.freedesktop.Notifications") || !child.is_running()
        });
        assert!(
            ok && child.is_running(),
            "dunst did not take org.freedesktop.Notifications:\n{}",
            child.stderr_text()
        );
    }

    // ----- paths and environment -----

    /// The desktop's private temporary directory (removed on drop); put data dirs here.
    pub fn tempdir(&self) -> &Path {
        self.dir.path()
    }

    /// X display number (`N` of `:N`).
    pub fn display_number(&self) -> u32 {
        self.display.expect("Xvfb has not been started")
    }

    /// `DISPLAY` value, e.g. `":93"`.
    pub fn display(&self) -> String {
        format!(":{}", self.display_number())
    }

    /// `DBUS_SESSION_BUS_ADDRESS` of the private session bus.
    pub fn bus_address(&self) -> &str {
        self.bus_address
            .as_deref()
            .expect("the session bus has not been started")
    }

    /// The options the desktop was started with.
    pub fn options(&self) -> &DesktopOptions {
        &self.opts
    }

    /// The clean environment for children: PATH, HOME, XDG_{CONFIG,DATA,STATE,CACHE}_HOME,
    /// XDG_RUNTIME_DIR, DISPLAY, DBUS_SESSION_BUS_ADDRESS, LANG/LC_ALL=C.UTF-8, NO_AT_BRIDGE=1,
    /// TZ, then [`DesktopOptions::extra_env`].
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
            ("XDG_CONFIG_HOME".into(), self.config_home().into()),
            ("XDG_DATA_HOME".into(), self.data_home().into()),
            ("XDG_STATE_HOME".into(), self.state_home().into()),
            ("XDG_CACHE_HOME".into(), self.cache_home().into()),
            ("XDG_RUNTIME_DIR".into(), self.runtime_dir().into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("LC_ALL".into(), "C.UTF-8".into()),
            ("NO_AT_BRIDGE".into(), "1".into()),
            ("TZ".into(), self.opts.tz.clone().into()),
        ];
        if let Some(n) = self.display {
            vars.push(("DISPLAY".into(), format!(":{n}").into()));
        }
        if let Some(address) = &self.bus_address {
            vars.push(("DBUS_SESSION_BUS_ADDRESS".into(), address.into()));
        }
        for (key, value) in &self.opts.extra_env {
            vars.retain(|(k, _)| k != key.as_str());
            vars.push((key.into(), value.into()));
        }
        vars
    }

    /// A `Command` with `env_clear()` + [`Desktop::env`], working directory `HOME`.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear().envs(self.env()).current_dir(self.home());
        cmd
    }

    // ----- processes -----

    /// Starts `cmd` (usually made with [`Desktop::command`]) with stdin null and stdout/stderr
    /// redirected to files in [`Session::logs_dir`], and records it for cleanup.
    pub fn spawn_command(&self, cmd: Command) -> Child {
        self.procs.spawn(cmd, false).0
    }

    /// Name and pid of every process this desktop started (infrastructure included), in order.
    pub fn processes(&self) -> Vec<(String, u32)> {
        self.procs.list()
    }

    /// Tail of every recorded process's logs, for failure messages.
    pub fn diagnostics(&self) -> String {
        self.procs.diagnostics(&format!(
            "desktop {} in {}\n",
            self.display
                .map_or_else(|| "(no display)".to_owned(), |n| format!(":{n}")),
            self.tempdir().display()
        ))
    }

    // ----- X11 -----

    fn x11(&self) -> X11 {
        X11::connect(&self.display())
    }

    /// The window `_NET_ACTIVE_WINDOW` names, if any (0 and absence both give `None`).
    pub fn active_window(&self) -> Option<u32> {
        let x = self.x11();
        x.prop32(x.root, "_NET_ACTIVE_WINDOW")
            .first()
            .copied()
            .filter(|&w| w != 0)
    }

    /// Waits until `_NET_ACTIVE_WINDOW` is `window` (or none, for `None`).
    pub fn wait_for_active(&self, window: Option<u32>, timeout: Duration) -> bool {
        wait_until(timeout, || self.active_window() == window)
    }

    /// Milliseconds since the last user input, from the MIT-SCREEN-SAVER extension (what
    /// `xprintidle` prints).
    pub fn idle_ms(&self) -> u64 {
        let x = self.x11();
        let info = x
            .conn
            .screensaver_query_info(x.root)
            .expect("cannot send MIT-SCREEN-SAVER QueryInfo")
            .reply()
            .expect("MIT-SCREEN-SAVER QueryInfo failed");
        u64::from(info.ms_since_user_input)
    }

    /// Moves the pointer by one pixel (XTEST, via xdotool), which resets the idle counter, and
    /// waits until the server's idle counter shows it.
    pub fn nudge_input(&self) {
        let started = Instant::now();
        let left = self.nudge_left.fetch_xor(true, Ordering::Relaxed);
        let dx = if left { "-1" } else { "1" };
        self.run_ok("xdotool", ["mousemove_relative", "--", dx, "0"]);
        let reset = wait_until(Duration::from_secs(5), || {
            u128::from(self.idle_ms()) <= started.elapsed().as_millis() + 50
        });
        assert!(reset, "the idle counter did not reset after a pointer move");
    }

    /// Whether `name` is owned on the private session bus.
    pub fn name_has_owner(&self, name: &str) -> bool {
        let output = self.run(
            "dbus-send",
            [
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                &format!("string:{name}"),
            ],
        );
        output.status.success() && String::from_utf8_lossy(&output.stdout).contains("boolean true")
    }

    /// Opens a test window (an `xmessage` client) and gives it focus.
    ///
    /// The client starts iconic with a unique temporary title; once openbox manages it, its
    /// `WM_CLASS` becomes (`instance`, `class`), `_NET_WM_NAME` (UTF8_STRING) and `WM_NAME`
    /// become `title`, and `_NET_WM_PID` the client's pid. Only then is it mapped and activated,
    /// so an agent watching focus never sees the temporary identity.
    pub fn open_window(&self, class: &str, instance: &str, title: &str) -> Window<'_> {
        static WINDOWS: AtomicU32 = AtomicU32::new(0);
        require_tool("xmessage");
        let token = format!(
            "dwell-e2e-window-{}-{}",
            process::id(),
            WINDOWS.fetch_add(1, Ordering::Relaxed)
        );
        let child = self.spawn(
            "xmessage",
            [
                "-iconic",
                "-name",
                instance,
                "-title",
                &token,
                "-geometry",
                "+100+100",
                "dwell end-to-end test window",
            ],
        );
        let mut id = None;
        let found = wait_until(STARTUP_TIMEOUT, || {
            let output = self.run("xdotool", ["search", "--name", &format!("^{token}$")]);
            id = String::from_utf8_lossy(&output.stdout)
                .lines()
                .find_map(|line| line.trim().parse::<u32>().ok());
            id.is_some() || !child.is_running()
        });
        let id = match id {
            Some(id) if found => id,
            _ => panic!(
                "xmessage window {token} did not appear:\n{}",
                child.stderr_text()
            ),
        };
        // A MapRequest that reaches openbox while it is still starting up can be lost (the
        // window then stays unmapped with no WM_STATE): ask again until it is managed.
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let managed = loop {
            let managed = wait_until(Duration::from_secs(1), || {
                let x = self.x11();
                x.prop32(x.root, "_NET_CLIENT_LIST").contains(&id)
            });
            if managed || Instant::now() >= deadline {
                break managed;
            }
            self.run("xdotool", ["windowmap", &id.to_string()]);
        };
        assert!(managed, "openbox did not manage window {id:#x}");
        let window = Window {
            desktop: self,
            id,
            child,
        };
        window.set_class(class, instance);
        window.set_title(title);
        window.set_pid(window.child.pid());
        window.activate();
        window
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        // Newest first: test processes, dunst, openbox, the bus, Xvfb last.
        self.procs.stop_all(DROP_GRACE);
        if let (Some(n), Some(xvfb)) = (self.display, &self.xvfb) {
            // A SIGKILLed Xvfb leaves its lock and socket behind: remove them if they are ours.
            let lock = PathBuf::from(format!("/tmp/.X{n}-lock"));
            if read_lossy(&lock).trim() == xvfb.pid.to_string() {
                let _ = fs::remove_file(&lock);
                let _ = fs::remove_file(format!("/tmp/.X11-unix/X{n}"));
            }
        }
        if thread::panicking() {
            eprintln!(
                "---- dwell e2e desktop diagnostics ----\n{}",
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

// ---------------------------------------------------------------------------------------------
// X11 access (x11rb) for reading properties and sending EWMH client messages
// ---------------------------------------------------------------------------------------------

struct X11 {
    conn: RustConnection,
    root: u32,
}

impl X11 {
    fn connect(display: &str) -> X11 {
        let (conn, screen) = x11rb::connect(Some(display))
            .unwrap_or_else(|e| panic!("cannot connect to X display {display}: {e}"));
        let root = conn.setup().roots[screen].root;
        X11 { conn, root }
    }

    fn atom(&self, name: &str) -> u32 {
        self.conn
            .intern_atom(false, name.as_bytes())
            .expect("cannot send InternAtom")
            .reply()
            .unwrap_or_else(|e| panic!("InternAtom {name} failed: {e}"))
            .atom
    }

    /// Raw property value; `None` when the property or the window does not exist.
    fn prop(&self, window: u32, name: &str) -> Option<x11rb::protocol::xproto::GetPropertyReply> {
        let atom = self.atom(name);
        let reply = self
            .conn
            .get_property(false, window, atom, AtomEnum::ANY, 0, 1 << 20)
            .expect("cannot send GetProperty")
            .reply()
            .ok()?;
        (reply.type_ != u32::from(AtomEnum::NONE)).then_some(reply)
    }

    fn prop32(&self, window: u32, name: &str) -> Vec<u32> {
        self.prop(window, name)
            .and_then(|reply| reply.value32().map(Iterator::collect))
            .unwrap_or_default()
    }

    fn prop_bytes(&self, window: u32, name: &str) -> Option<Vec<u8>> {
        self.prop(window, name).map(|reply| reply.value)
    }

    fn window_exists(&self, window: u32) -> bool {
        self.conn
            .get_window_attributes(window)
            .map(|cookie| cookie.reply().is_ok())
            .unwrap_or(false)
    }
}

/// A test window (see [`Desktop::open_window`]). Ended with its client when dropped with the
/// desktop, or earlier by [`Window::close`].
pub struct Window<'d> {
    desktop: &'d Desktop,
    id: u32,
    child: Child,
}

impl Window<'_> {
    /// X window id (the client window, as in `_NET_ACTIVE_WINDOW`).
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Pid of the client process (also in `_NET_WM_PID`, unless changed by [`Window::set_pid`]).
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// `xdotool windowactivate --sync`, then waits until `_NET_ACTIVE_WINDOW` is this window.
    pub fn activate(&self) {
        let id = self.id.to_string();
        let output = self
            .desktop
            .run("xdotool", ["windowactivate", "--sync", &id]);
        let active = self
            .desktop
            .wait_for_active(Some(self.id), Duration::from_secs(5));
        assert!(
            active,
            "window {:#x} did not become active (active: {:?}); xdotool said: {}",
            self.id,
            self.desktop.active_window(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Sets `_NET_WM_NAME` (UTF8_STRING) and `WM_NAME` (STRING or COMPOUND_TEXT), as toolkits do.
    pub fn set_title(&self, title: &str) {
        let id = self.id.to_string();
        self.desktop.run_ok(
            "xprop",
            [
                "-id",
                &id,
                "-f",
                "_NET_WM_NAME",
                "8u",
                "-set",
                "_NET_WM_NAME",
                title,
            ],
        );
        self.desktop.run_ok(
            "xprop",
            ["-id", &id, "-f", "WM_NAME", "8t", "-set", "WM_NAME", title],
        );
    }

    /// Sets `WM_CLASS` to (`instance`, `class`).
    pub fn set_class(&self, class: &str, instance: &str) {
        let id = self.id.to_string();
        self.desktop.run_ok(
            "xdotool",
            ["set_window", "--class", class, "--classname", instance, &id],
        );
    }

    /// Sets `_NET_WM_PID` (e.g. to pretend the window belongs to another process).
    pub fn set_pid(&self, pid: u32) {
        let id = self.id.to_string();
        self.desktop.run_ok(
            "xprop",
            [
                "-id",
                &id,
                "-f",
                "_NET_WM_PID",
                "32c",
                "-set",
                "_NET_WM_PID",
                &pid.to_string(),
            ],
        );
    }

    /// Asks the window manager (EWMH `_NET_WM_STATE` client message) to make the window
    /// fullscreen or not, and waits until `_NET_WM_STATE` shows it.
    pub fn fullscreen(&self, on: bool) {
        let x = self.desktop.x11();
        let state = x.atom("_NET_WM_STATE");
        let fullscreen = x.atom("_NET_WM_STATE_FULLSCREEN");
        // data: action (1 add, 0 remove), property, second property, source (2 = pager), 0
        let event =
            ClientMessageEvent::new(32, self.id, state, [u32::from(on), fullscreen, 0, 2, 0]);
        x.conn
            .send_event(
                false,
                x.root,
                EventMask::SUBSTRUCTURE_REDIRECT | EventMask::SUBSTRUCTURE_NOTIFY,
                event,
            )
            .expect("cannot send the _NET_WM_STATE client message");
        x.conn.flush().expect("cannot flush the X connection");
        let done = wait_until(Duration::from_secs(5), || self.is_fullscreen() == on);
        assert!(done, "window {:#x} did not turn fullscreen={on}", self.id);
    }

    /// Whether `_NET_WM_STATE` contains `_NET_WM_STATE_FULLSCREEN`.
    pub fn is_fullscreen(&self) -> bool {
        let x = self.desktop.x11();
        let fullscreen = x.atom("_NET_WM_STATE_FULLSCREEN");
        x.prop32(self.id, "_NET_WM_STATE").contains(&fullscreen)
    }

    /// Iconifies the window (`xdotool windowminimize --sync`).
    pub fn minimize(&self) {
        self.desktop.run_ok(
            "xdotool",
            ["windowminimize", "--sync", &self.id.to_string()],
        );
    }

    /// `_NET_WM_NAME` as stored on the window (lossy UTF-8; empty if absent).
    pub fn title(&self) -> String {
        let bytes = self
            .desktop
            .x11()
            .prop_bytes(self.id, "_NET_WM_NAME")
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// `WM_CLASS` as stored on the window: (instance, class).
    pub fn wm_class(&self) -> (String, String) {
        let bytes = self
            .desktop
            .x11()
            .prop_bytes(self.id, "WM_CLASS")
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        let mut parts = text.split('\0');
        let instance = parts.next().unwrap_or_default().to_owned();
        let class = parts.next().unwrap_or_default().to_owned();
        (instance, class)
    }

    /// `_NET_WM_PID` as stored on the window.
    pub fn wm_pid(&self) -> Option<u32> {
        self.desktop
            .x11()
            .prop32(self.id, "_NET_WM_PID")
            .first()
            .copied()
    }

    /// Ends the client (SIGTERM) and waits until its window is gone.
    pub fn close(self) {
        self.child.terminate();
        let gone = wait_until(Duration::from_secs(5), || {
            !self.desktop.x11().window_exists(self.id)
        });
        assert!(
            gone,
            "window {:#x} still exists after its client ended",
            self.id
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Notifications
// ---------------------------------------------------------------------------------------------

/// One `org.freedesktop.Notifications.Notify` call seen on the session bus.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// When the bus saw it (dbus-monitor's `time=`, seconds since the Unix epoch).
    pub time: f64,
    /// When the harness first parsed it (a few tens of ms after `time`).
    pub seen: Instant,
    /// Unique bus name of the caller.
    pub sender: String,
    pub app_name: String,
    pub replaces_id: u32,
    pub app_icon: String,
    pub summary: String,
    pub body: String,
    /// Action keys and labels, in order.
    pub actions: Vec<String>,
    /// Hints as (key, value as dbus-monitor prints it, e.g. `byte 1`, `string "x"`).
    pub hints: Vec<(String, String)>,
    pub expire_timeout: i32,
}

impl Notification {
    /// The hint `key`, as dbus-monitor prints its value.
    pub fn hint(&self, key: &str) -> Option<&str> {
        self.hints
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A `dbus-monitor` on the session bus, watching the `org.freedesktop.Notifications` interface.
pub struct NotificationWatcher {
    child: Child,
    seen: Mutex<Vec<Instant>>,
}

impl Desktop {
    /// Starts a `dbus-monitor` for `interface='org.freedesktop.Notifications'` and waits until it
    /// is monitoring. Works with or without a notification server.
    pub fn watch_notifications(&self) -> NotificationWatcher {
        require_tool("dbus-monitor");
        let child = self.spawn(
            "dbus-monitor",
            ["--session", "interface='org.freedesktop.Notifications'"],
        );
        // BecomeMonitor makes the monitor lose its own unique name: then it is listening.
        let ready = child.wait_for_stdout(STARTUP_TIMEOUT, |out| out.contains("member=NameLost"));
        assert!(
            ready && child.is_running(),
            "dbus-monitor did not start monitoring:\n{}\n{}",
            child.stdout_text(),
            child.stderr_text()
        );
        NotificationWatcher {
            child,
            seen: Mutex::new(Vec::new()),
        }
    }
}

impl NotificationWatcher {
    /// Everything dbus-monitor printed so far.
    pub fn raw(&self) -> String {
        self.child.stdout_text()
    }

    /// The monitor process.
    pub fn child(&self) -> &Child {
        &self.child
    }

    /// Every complete `Notify` call seen so far, in order.
    pub fn notifications(&self) -> Vec<Notification> {
        let now = Instant::now();
        let parsed = parse_notify_calls(&self.raw());
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while seen.len() < parsed.len() {
            seen.push(now);
        }
        parsed
            .into_iter()
            .zip(seen.iter())
            .map(|(mut notification, &at)| {
                notification.seen = at;
                notification
            })
            .collect()
    }

    /// Waits up to `timeout` for a `Notify` call matching `predicate`; returns the first one.
    pub fn wait_for(
        &self,
        timeout: Duration,
        predicate: impl Fn(&Notification) -> bool,
    ) -> Option<Notification> {
        let mut found = None;
        wait_until(timeout, || {
            found = self.notifications().into_iter().find(|n| predicate(n));
            found.is_some()
        });
        found
    }

    /// Waits up to `timeout` until at least `count` `Notify` calls were seen; returns them all.
    pub fn wait_for_count(&self, count: usize, timeout: Duration) -> Vec<Notification> {
        let mut all = Vec::new();
        wait_until(timeout, || {
            all = self.notifications();
            all.len() >= count
        });
        all
    }
}

const MESSAGE_STARTS: [&str; 4] = [
    "method call time=",
    "method return time=",
    "signal time=",
    "error time=",
];

/// Parses the `Notify` method calls out of `dbus-monitor` text output. Incomplete trailing
/// messages are ignored. String arguments may span lines (dbus-monitor does not escape them).
pub fn parse_notify_calls(raw: &str) -> Vec<Notification> {
    let mut messages: Vec<(&str, String)> = Vec::new();
    for line in raw.split_inclusive('\n') {
        if MESSAGE_STARTS.iter().any(|start| line.starts_with(start)) {
            messages.push((line.trim_end(), String::new()));
        } else if let Some((_, body)) = messages.last_mut() {
            body.push_str(line);
        }
    }
    messages
        .iter()
        .filter(|(header, _)| {
            header.starts_with("method call ")
                && header.contains("interface=org.freedesktop.Notifications;")
                && header.ends_with("member=Notify")
        })
        .filter_map(|(header, body)| parse_notify(header, body))
        .collect()
}

fn header_field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    header
        .split(' ')
        .find_map(|part| part.strip_prefix(key))
        .map(|value| value.trim_end_matches(';'))
}

/// Parses `   string "<value>"` where the value ends right before `end` (which starts with the
/// closing quote). Returns the value and the rest after the closing quote.
fn take_string<'a>(text: &'a str, end: &str) -> Option<(String, &'a str)> {
    let rest = text.strip_prefix("   string \"")?;
    let stop = rest.find(end)?;
    Some((rest[..stop].to_owned(), &rest[stop + 1..]))
}

fn take_line<'a>(text: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let rest = text.strip_prefix(prefix)?;
    let stop = rest.find('\n')?;
    Some((&rest[..stop], &rest[stop + 1..]))
}

fn parse_notify(header: &str, body: &str) -> Option<Notification> {
    let time = header_field(header, "time=")?.parse().ok()?;
    let sender = header_field(header, "sender=")?.to_owned();
    let (app_name, rest) = take_string(body, "\"\n   uint32 ")?;
    let (replaces_id, rest) = take_line(rest.strip_prefix('\n')?, "   uint32 ")?;
    let (app_icon, rest) = take_string(rest, "\"\n   string \"")?;
    let (summary, rest) = take_string(rest.strip_prefix('\n')?, "\"\n   string \"")?;
    let (body_text, rest) = take_string(rest.strip_prefix('\n')?, "\"\n   array [\n")?;
    let rest = rest.strip_prefix("\n   array [\n")?;
    let actions_end = if rest.starts_with("   ]\n") {
        0
    } else {
        rest.find("\n   ]\n")? + 1
    };
    let actions = rest[..actions_end]
        .lines()
        .filter_map(|line| {
            line.trim()
                .strip_prefix("string \"")
                .and_then(|s| s.strip_suffix('"'))
                .map(str::to_owned)
        })
        .collect();
    let rest = rest[actions_end..].strip_prefix("   ]\n   array [\n")?;
    let hints_end = rest.rfind("   ]\n   int32 ")?;
    let mut hints = Vec::new();
    let mut key: Option<String> = None;
    for line in rest[..hints_end].lines() {
        let line = line.trim();
        if let Some(k) = line
            .strip_prefix("string \"")
            .and_then(|s| s.strip_suffix('"'))
        {
            if key.is_none() {
                key = Some(k.to_owned());
                continue;
            }
        }
        if let Some(value) = line.strip_prefix("variant") {
            if let Some(k) = key.take() {
                hints.push((k, value.trim().to_owned()));
            }
        }
    }
    let (expire, _) = take_line(&rest[hints_end..], "   ]\n   int32 ")?;
    Some(Notification {
        time,
        seen: Instant::now(),
        sender,
        app_name,
        replaces_id: replaces_id.trim().parse().ok()?,
        app_icon,
        summary,
        body: body_text,
        actions,
        hints,
        expire_timeout: expire.trim().parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"signal time=1795600067.080375 sender=org.freedesktop.DBus -> destination=:1.3 serial=2 path=/org/freedesktop/DBus; interface=org.freedesktop.DBus; member=NameAcquired
   string ":1.3"
signal time=1795600067.080400 sender=org.freedesktop.DBus -> destination=:1.3 serial=4 path=/org/freedesktop/DBus; interface=org.freedesktop.DBus; member=NameLost
   string ":1.3"
method call time=1795600067.384826 sender=:1.4 -> destination=:1.1 serial=7 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=GetServerInformation
method call time=1795600067.385684 sender=:1.4 -> destination=:1.1 serial=9 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=Notify
   string "dwell"
   uint32 0
   string ""
   string "Hello"
   string "World
line2 "q""
   array [
   ]
   array [
      dict entry(
         string "urgency"
         variant             byte 1
      )
      dict entry(
         string "sender-pid"
         variant             int64 12079
      )
   ]
   int32 -1
method call time=1795600068.5 sender=:1.5 -> destination=:1.1 serial=9 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=Notify
   string "other"
   uint32 7
   string "icon"
   string "S"
   string ""
   array [
      string "default"
      string "Open"
   ]
   array [
   ]
   int32 5000
method call time=1795600069.0 sender=:1.6 -> destination=:1.1 serial=9 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=Notify
   string "partial"
   uint32 0
"#;

    #[test]
    fn parses_notify_calls() {
        let calls = parse_notify_calls(SAMPLE);
        assert_eq!(calls.len(), 2, "{calls:#?}");
        let first = &calls[0];
        assert_eq!(first.sender, ":1.4");
        assert!((first.time - 1_795_600_067.385_684).abs() < 1e-6);
        assert_eq!(first.app_name, "dwell");
        assert_eq!(first.replaces_id, 0);
        assert_eq!(first.app_icon, "");
        assert_eq!(first.summary, "Hello");
        assert_eq!(first.body, "World\nline2 \"q\"");
        assert!(first.actions.is_empty());
        assert_eq!(first.hint("urgency"), Some("byte 1"));
        assert_eq!(first.hint("sender-pid"), Some("int64 12079"));
        assert_eq!(first.expire_timeout, -1);
        let second = &calls[1];
        assert_eq!(second.app_name, "other");
        assert_eq!(second.replaces_id, 7);
        assert_eq!(second.app_icon, "icon");
        assert_eq!(second.summary, "S");
        assert_eq!(second.body, "");
        assert_eq!(second.actions, ["default", "Open"]);
        assert!(second.hints.is_empty());
        assert_eq!(second.expire_timeout, 5000);
    }

    #[test]
    fn tail_keeps_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
