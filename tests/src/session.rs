//! [`Session`]: what [`crate::Dwell`] needs from a test session, so the same installation
//! helpers drive the agent on an X11 [`Desktop`] and in a [`crate::WaylandSession`], and
//! both lay out their temporary directory (HOME, the XDG directories, logs) the same way.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::{run_command, Child, Desktop, COMMAND_TIMEOUT};

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
