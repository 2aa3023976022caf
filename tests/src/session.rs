//! [`Session`]: what [`crate::Dwell`] needs from a test session, so the same installation
//! helpers drive the agent on an X11 [`Desktop`] and in a [`crate::WaylandSession`], and
//! both lay out their temporary directory (HOME, the XDG directories, logs) the same way.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::{
    require_tool, run_command, wait_until, write_file, Child, Desktop, COMMAND_TIMEOUT,
    STARTUP_TIMEOUT,
};

/// A throw-away session that runs programs in a clean environment and records them.
pub trait Session {
    /// The session's private temporary directory (removed on drop).
    fn tempdir(&self) -> &Path;

    /// A `Command` with the session's clean environment (and user).
    fn command(&self, program: impl AsRef<OsStr>) -> Command;

    /// Starts `cmd` with its output logged, recorded for cleanup.
    fn spawn_command(&self, cmd: Command) -> Child;

    /// `HOME` of the children.
    fn home(&self) -> PathBuf {
        self.tempdir().join("home")
    }

    /// `XDG_CONFIG_HOME` of the children.
    fn config_home(&self) -> PathBuf {
        self.home().join(".config")
    }

    /// `XDG_DATA_HOME` of the children.
    fn data_home(&self) -> PathBuf {
        self.home().join(".local/share")
    }

    /// `XDG_STATE_HOME` of the children.
    fn state_home(&self) -> PathBuf {
        self.home().join(".local/state")
    }

    /// `XDG_CACHE_HOME` of the children.
    fn cache_home(&self) -> PathBuf {
        self.home().join(".cache")
    }

    /// `XDG_RUNTIME_DIR` of the children (mode 0700; holds the session bus, and on
    /// Wayland the compositor's sockets).
    fn runtime_dir(&self) -> PathBuf {
        self.tempdir().join("run")
    }

    /// Where the stdout/stderr files of every process go.
    fn logs_dir(&self) -> PathBuf {
        self.tempdir().join("logs")
    }

    /// Configuration files the session writes (bus configs…).
    fn etc_dir(&self) -> PathBuf {
        self.tempdir().join("etc")
    }

    /// Starts a private `dbus-daemon` of `kind` (`session` or `system`) listening on
    /// `socket`, and returns its address. Its config has no service directories, so
    /// nothing is ever auto-started; a system bus lets every user in.
    fn start_private_bus(&self, kind: &str, socket: &Path) -> String {
        let config = self.etc_dir().join(format!("{kind}-bus.conf"));
        let users = if kind == "system" {
            "\n    <allow user=\"*\"/>"
        } else {
            ""
        };
        write_file(
            &config,
            &format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>{kind}</type>
  <keep_umask/>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">{users}
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        );
        let mut cmd = self.command(require_tool("dbus-daemon"));
        cmd.arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nopidfile", "--print-address=1"]);
        let child = self.spawn_command(cmd);
        let mut address = String::new();
        let ok = wait_until(STARTUP_TIMEOUT, || {
            let out = child.stdout_text();
            if out.ends_with('\n') {
                address = out.trim().to_owned();
            }
            !address.is_empty() || !child.is_running()
        });
        assert!(
            ok && !address.is_empty(),
            "the {kind} dbus-daemon did not start:\n{}",
            child.stderr_text()
        );
        address
    }

    /// Makes a file the test wrote itself usable by the session's user (a no-op when the
    /// session runs as the test's own user).
    fn adopt(&self, path: &Path) {
        let _ = path;
    }

    /// Starts `program args…` in the session's environment, output logged, recorded.
    fn spawn<I, S>(&self, program: impl AsRef<OsStr>, args: I) -> Child
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(program);
        cmd.args(args);
        self.spawn_command(cmd)
    }

    /// Like [`Session::run`], but panics unless it succeeds; returns stdout.
    fn run_ok<I, S>(&self, program: impl AsRef<OsStr>, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(program);
        cmd.args(args);
        crate::run_ok_command(cmd)
    }

    /// Runs `program args…` in the session's environment to completion (10 s limit).
    fn run<I, S>(&self, program: impl AsRef<OsStr>, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(program);
        cmd.args(args);
        run_command(cmd, COMMAND_TIMEOUT)
    }
}

impl Session for Desktop {
    fn tempdir(&self) -> &Path {
        Desktop::tempdir(self)
    }

    fn command(&self, program: impl AsRef<OsStr>) -> Command {
        Desktop::command(self, program)
    }

    fn spawn_command(&self, cmd: Command) -> Child {
        Desktop::spawn_command(self, cmd)
    }
}
