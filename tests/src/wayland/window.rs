//! [`WaylandWindow`]: a GTK3 test window (`tests/data/wayland-window.py`) in a
//! [`WaylandSession`], with its Wayland app id set the way GTK apps set it
//! (`GLib.set_prgname`) and a title that can change while it runs.

use std::io::Write as _;
use std::process::ChildStdin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use super::{WaylandSession, EFFECT_TIMEOUT, PYTHON};
use crate::{wait_until, Child, Session, STARTUP_TIMEOUT};

/// A test window (see [`WaylandSession::open_window`]). Ended with the session, when the
/// compositor goes away, or earlier by [`WaylandWindow::close`].
pub struct WaylandWindow<'s> {
    session: &'s WaylandSession,
    child: Child,
    stdin: Mutex<Option<ChildStdin>>,
    app_id: String,
    changes: AtomicU32,
}

impl WaylandSession {
    /// Opens a GTK3 window with Wayland app id `app_id` and `title`, waits until the
    /// compositor lists it, and focuses it.
    pub fn open_window(&self, app_id: &str, title: &str) -> WaylandWindow<'_> {
        assert!(!title.contains('\n'), "a window title is one line");
        let mut cmd = self.command(PYTHON);
        cmd.arg(self.etc_dir().join("wayland-window.py"))
            .args([app_id, title])
            .env("GDK_BACKEND", "wayland");
        let (child, stdin) = self.procs.spawn(cmd, true);
        let mapped = child.wait_for_stdout(STARTUP_TIMEOUT, |out| out.contains("mapped\n"));
        assert!(
            mapped && child.is_running(),
            "the GTK window {app_id:?} did not map on {}:\n{}",
            self.compositor.name(),
            child.stderr_text()
        );
        self.lock_run()
            .opened
            .push((child.pid(), app_id.to_owned()));
        let window = WaylandWindow {
            session: self,
            child,
            stdin: Mutex::new(stdin),
            app_id: app_id.to_owned(),
            changes: AtomicU32::new(0),
        };
        window.wait_for_facts(title);
        window.focus();
        window
    }
}

impl WaylandWindow<'_> {
    /// Pid of the client process.
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// The app id it was opened with.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The client process.
    pub fn child(&self) -> &Child {
        &self.child
    }

    /// Whether the client still runs (it ends when the compositor goes away).
    pub fn is_running(&self) -> bool {
        self.child.is_running()
    }

    /// Focuses the window and waits until the compositor says it has focus.
    pub fn focus(&self) {
        self.session.focus_pid(self.pid());
    }

    /// Changes the title (`gtk_window_set_title`) and waits until the compositor shows it.
    pub fn set_title(&self, title: &str) {
        assert!(!title.contains('\n'), "a window title is one line");
        let n = self.changes.fetch_add(1, Ordering::Relaxed) + 1;
        {
            let mut stdin = self
                .stdin
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let pipe = stdin.as_mut().expect("the window was closed");
            writeln!(pipe, "{title}")
                .and_then(|()| pipe.flush())
                .unwrap_or_else(|e| panic!("cannot write to the window script: {e}"));
        }
        let said = format!("title {n}\n");
        let done = self
            .child
            .wait_for_stdout(EFFECT_TIMEOUT, |out| out.contains(&said));
        assert!(
            done,
            "the window did not change its title:\n{}",
            self.child.stderr_text()
        );
        self.wait_for_facts(title);
    }

    /// Waits until the compositor lists this window with its app id and `title`.
    fn wait_for_facts(&self, title: &str) {
        let mut seen = Vec::new();
        let listed = wait_until(EFFECT_TIMEOUT, || {
            seen = self.session.windows().0;
            seen.iter()
                .any(|w| w.pid == self.pid() && w.app_id == self.app_id && w.title == title)
        });
        assert!(
            listed,
            "{} does not list the window (pid {}, app id {:?}, title {title:?}); it lists {seen:?}",
            self.session.compositor.name(),
            self.pid(),
            self.app_id
        );
    }

    /// Closes the window (its script ends) and waits until the process is gone.
    pub fn close(self) {
        {
            let mut stdin = self
                .stdin
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(mut pipe) = stdin.take() {
                let _ = writeln!(pipe, "quit");
            }
        }
        if self.child.wait_timeout(EFFECT_TIMEOUT).is_none() {
            self.child.terminate();
        }
    }
}
