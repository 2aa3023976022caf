//! [`ProcessSet`]: the processes one test session (an X11 [`crate::Desktop`] or a
//! [`crate::WaylandSession`]) started: each with its stdout and stderr in files under the
//! session's logs directory, all ended (SIGTERM, then SIGKILL) newest first when the session
//! ends, and the tails of their logs for failure messages.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tempfile::TempDir;

use crate::{describe, read_lossy, tail, Child, Proc, ProcState};

/// Every process a session started, in order.
pub(crate) struct ProcessSet {
    dir: Arc<TempDir>,
    logs: PathBuf,
    procs: Mutex<Vec<Arc<Proc>>>,
    seq: AtomicUsize,
}

impl ProcessSet {
    /// Processes whose logs go to `logs`; `dir` is kept alive as long as any [`Child`].
    pub(crate) fn new(dir: Arc<TempDir>, logs: PathBuf) -> Self {
        ProcessSet {
            dir,
            logs,
            procs: Mutex::new(Vec::new()),
            seq: AtomicUsize::new(0),
        }
    }

    /// Starts `cmd` with stdout/stderr redirected to numbered files in the logs directory and
    /// records it. Stdin is null, or a pipe returned with the child when `pipe_stdin`.
    pub(crate) fn spawn(&self, mut cmd: Command, pipe_stdin: bool) -> (Child, Option<ChildStdin>) {
        let name = Path::new(cmd.get_program()).file_name().map_or_else(
            || "process".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let stdout = self.logs.join(format!("{seq:03}-{name}.stdout"));
        let stderr = self.logs.join(format!("{seq:03}-{name}.stderr"));
        let open = |path: &Path| {
            File::create(path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()))
        };
        cmd.stdin(if pipe_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(open(&stdout))
        .stderr(open(&stderr));
        let desc = describe(&cmd);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{desc}`: {e}"));
        let stdin = child.stdin.take();
        let proc = Arc::new(Proc {
            name,
            pid: child.id(),
            stdout,
            stderr,
            state: Mutex::new(ProcState {
                child: Some(child),
                status: None,
            }),
        });
        self.lock().push(Arc::clone(&proc));
        (
            Child {
                proc,
                _dir: Arc::clone(&self.dir),
            },
            stdin,
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Proc>>> {
        self.procs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Name and pid of every recorded process, in order.
    pub(crate) fn list(&self) -> Vec<(String, u32)> {
        self.lock()
            .iter()
            .map(|p| (p.name.clone(), p.pid))
            .collect()
    }

    /// Ends every process still running, newest first (SIGTERM, SIGKILL after `grace`).
    pub(crate) fn stop_all(&self, grace: Duration) {
        let procs = self.lock().clone();
        for proc in procs.iter().rev() {
            proc.stop(grace);
        }
    }

    /// Status and log tails of every recorded process, after `header`.
    pub(crate) fn diagnostics(&self, header: &str) -> String {
        let procs = self.lock().clone();
        let mut text = header.to_owned();
        for proc in procs {
            let status = proc
                .try_status()
                .map_or_else(|| "running".to_owned(), |s| s.to_string());
            let _ = writeln!(text, "== {} (pid {}): {status}", proc.name, proc.pid);
            for (label, path) in [("stdout", &proc.stdout), ("stderr", &proc.stderr)] {
                let log = read_lossy(path);
                if !log.trim().is_empty() {
                    let _ = writeln!(text, "-- {label}:\n{}", tail(&log, 30));
                }
            }
        }
        text
    }
}
