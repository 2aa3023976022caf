//! Windows: no signals. The agent serves a named pipe per data directory,
//! `\\.\pipe\dwell-control-<hash of the data directory>` ([`pipe_name`]),
//! inbound only, local clients only; a command opens it, writes one byte
//! (`L`: look again, `S`: stop) and closes it. Ctrl-C and Ctrl-Break also
//! stop the agent. Nothing else crosses the pipe: it carries no data, and a
//! byte from anyone who may open it (the user, SYSTEM and the administrators
//! may write; the default access list lets others only read, which sends
//! nothing) can at most make the agent re-read its own config or stop.
//!
//! The end of the session (log-off, shut-down, restart) stops it too: the
//! watcher's hidden window hears `WM_ENDSESSION` and raises
//! [`crate::watch::windows::session_end`], then holds Windows until the run
//! loop has stopped. The console's `CTRL_LOGOFF_EVENT` and
//! `CTRL_SHUTDOWN_EVENT` are not listened to: Windows does not send them to a
//! process that has loaded `user32.dll` (the agent has: its watcher and tray),
//! and the windowless `dwell-agent-background.exe` has no console. Closing
//! the console of a `dwell-agent.exe run` started by hand (`CTRL_CLOSE_EVENT`)
//! ends it without its last checkpoint (Windows ends the process as soon as
//! a handler returns).
//!
//! Event-driven (tokio's named pipes on the I/O completion port): no wake-up
//! while no command runs.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::net::windows::named_pipe::{NamedPipeServer, ServerOptions};
use tokio::signal::windows::{CtrlBreak, CtrlC};
use tokio::sync::{mpsc, watch};

use super::Told;
use crate::lock::AgentLock;

/// The byte that means "look again".
const LOOK: u8 = b'L';
/// The byte that means "stop".
const STOP: u8 = b'S';
/// How long a command retries a busy pipe (every instance taken: the agent
/// is between two).
const BUSY_WAIT: Duration = crate::pipe::client::BUSY_WAIT;
/// How long the agent waits for a connected client's byte.
const READ_WAIT: Duration = Duration::from_secs(1);

/// The control pipe of the agent on `data_dir`: one name per data directory
/// (its absolute path, compared without case as Windows does), so agents of
/// other users or other data directories never meet.
pub fn pipe_name(data_dir: &Path) -> String {
    let abs = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_owned());
    let text = abs.to_string_lossy().to_lowercase();
    let text = text.trim_end_matches(['\\', '/']);
    // FNV-1a, 64 bits: stable across builds (std's hasher is not).
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!(r"\\.\pipe\dwell-control-{hash:016x}")
}

/// Writes `byte` to the control pipe of the agent on `dir`.
fn send(dir: &Path, byte: u8) -> std::io::Result<()> {
    let name = pipe_name(dir);
    let deadline = Instant::now() + BUSY_WAIT;
    loop {
        match std::fs::OpenOptions::new().write(true).open(&name) {
            Ok(mut pipe) => return pipe.write_all(&[byte]),
            Err(e) if crate::pipe::client::is_busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Tells the agent running on `dir`, if any, to look again.
pub fn notify_agent(dir: &Path) -> Told {
    if !AgentLock::is_held(dir) {
        return Told::NotRunning;
    }
    match send(dir, LOOK) {
        Ok(()) => Told::Yes,
        Err(e) => {
            tracing::debug!(error = %e, "cannot reach the running agent's control pipe");
            Told::NotListening
        }
    }
}

/// Asks the agent running on `dir` (pid `pid`) to stop, through its pipe.
pub fn ask_to_stop(dir: &Path, pid: u32) -> std::result::Result<(), String> {
    send(dir, STOP).map_err(|e| format!("pid {pid}: cannot be asked to stop: {e}"))
}

/// The agent's end: the pipe's server (a task), Ctrl-C, Ctrl-Break and the
/// end of the session.
pub struct Listener {
    looks: watch::Receiver<u64>,
    stop: watch::Receiver<bool>,
    session_end: watch::Receiver<bool>,
    ctrl_c: Option<CtrlC>,
    ctrl_break: Option<CtrlBreak>,
}

impl Listener {
    /// Starts serving the pipe (inside a runtime). A pipe that cannot be
    /// served (its name taken) is said once: the agent runs on, and the
    /// commands' changes reach it at its next start.
    pub fn start(data_dir: &Path) -> Result<Listener> {
        Listener::start_with(data_dir, crate::watch::windows::session_end())
    }

    /// [`Listener::start`], stopping also when `session_end` becomes `true`.
    fn start_with(data_dir: &Path, session_end: watch::Receiver<bool>) -> Result<Listener> {
        let (looks_tx, looks) = watch::channel(0);
        let (stop_tx, stop) = watch::channel(false);
        let name = pipe_name(data_dir);
        match server(&name, true) {
            Ok(first) => {
                tokio::spawn(serve(first, name, looks_tx, stop_tx));
            }
            Err(e) => tracing::warn!(
                error = %e,
                "cannot serve the control pipe: `pause`, `resume` and `setup` reach this agent only when it starts again"
            ),
        }
        Ok(Listener {
            looks,
            stop,
            session_end,
            ctrl_c: tokio::signal::windows::ctrl_c().ok(),
            ctrl_break: tokio::signal::windows::ctrl_break().ok(),
        })
    }

    /// Where one run of the loop hears "look again" from.
    pub fn looks(&self) -> Looks {
        Looks(self.looks.clone())
    }

    /// Completes when a command asks the agent to stop, at Ctrl-C or
    /// Ctrl-Break, or when the session ends.
    pub async fn stopped(&mut self) {
        let Listener {
            stop,
            session_end,
            ctrl_c,
            ctrl_break,
            ..
        } = self;
        let asked = raised(stop);
        let ending = async {
            raised(session_end).await;
            tracing::info!("the session ends: stopping");
        };
        let c = async {
            let pressed = match ctrl_c.as_mut() {
                Some(c) => c.recv().await.is_some(),
                None => false,
            };
            if !pressed {
                std::future::pending::<()>().await;
            }
        };
        let brk = async {
            let pressed = match ctrl_break.as_mut() {
                Some(b) => b.recv().await.is_some(),
                None => false,
            };
            if !pressed {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = asked => {}
            () = ending => {}
            () = c => {}
            () = brk => {}
        }
    }
}

/// Completes once `flag` is `true` (at once if it is), never if its sender
/// has gone before.
async fn raised(flag: &mut watch::Receiver<bool>) {
    if flag.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// "Look again" for one run of the loop: bytes on the pipe.
pub struct Looks(watch::Receiver<u64>);

impl Looks {
    /// Sends `()` to `tx` at each "look again" (inside a runtime), until the
    /// loop is gone.
    pub fn forward(self, tx: mpsc::Sender<()>) -> Result<()> {
        let mut rx = self.0;
        tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                if tx.send(()).await.is_err() {
                    break;
                }
            }
        });
        Ok(())
    }
}

/// One instance of the pipe: inbound only, local clients only; `first`:
/// refused when the name exists already (another program's pipe).
fn server(name: &str, first: bool) -> std::io::Result<NamedPipeServer> {
    ServerOptions::new()
        .first_pipe_instance(first)
        .access_outbound(false)
        .reject_remote_clients(true)
        .create(name)
}

/// Serves the pipe: each client's one byte, in turn; a new instance waits
/// for the next client while one is read.
async fn serve(
    mut pipe: NamedPipeServer,
    name: String,
    looks: watch::Sender<u64>,
    stop: watch::Sender<bool>,
) {
    loop {
        if let Err(e) = pipe.connect().await {
            tracing::warn!(error = %e, "the control pipe failed; commands reach this agent only when it starts again");
            return;
        }
        let client = pipe;
        pipe = match server(&name, false) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the control pipe again; commands reach this agent only when it starts again");
                return;
            }
        };
        match tokio::time::timeout(READ_WAIT, read_byte(&client)).await {
            Ok(Some(LOOK)) => looks.send_modify(|n| *n = n.wrapping_add(1)),
            Ok(Some(STOP)) => {
                tracing::info!("asked to stop");
                let _ = stop.send(true);
            }
            _ => tracing::debug!("a client of the control pipe sent nothing known"),
        }
    }
}

/// The first byte a client sent (`None`: it sent none).
async fn read_byte(pipe: &NamedPipeServer) -> Option<u8> {
    let mut buf = [0u8; 1];
    loop {
        pipe.readable().await.ok()?;
        match pipe.try_read(&mut buf) {
            Ok(1) => return Some(buf[0]),
            Ok(_) => return None,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return None,
        }
    }
}

/// The token that stops the running agent's upkeep (the daily check,
/// retention) inside its statement. On Windows a stop arrives through the
/// control pipe, served on the loop's own runtime, so it is heard between
/// statements: the token is never set, and upkeep ends its statement first.
pub fn upkeep_stop(_data_dir: &Path) -> dwell_core::store::Cancel {
    dwell_core::store::Cancel::new()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn one_pipe_per_data_directory_whatever_the_case() {
        let a = pipe_name(Path::new(r"C:\Users\Ann\AppData\Local\dwell"));
        assert!(a.starts_with(r"\\.\pipe\dwell-control-"), "{a}");
        assert_eq!(
            a,
            pipe_name(Path::new(r"c:\users\ann\appdata\local\DWELL\"))
        );
        assert_ne!(a, pipe_name(Path::new(r"C:\Users\Bob\AppData\Local\dwell")));
    }

    /// The end of the session (the watcher's window at `WM_ENDSESSION`)
    /// stops the agent as `disable` does, and keeps stopping it (a loop
    /// started again after damage ends at once).
    #[tokio::test]
    async fn the_end_of_the_session_stops_the_agent() {
        let dir = tempfile::tempdir().unwrap();
        let (end_tx, end_rx) = watch::channel(false);
        let mut listener = Listener::start_with(dir.path(), end_rx).unwrap();
        let early = tokio::time::timeout(Duration::from_millis(200), listener.stopped()).await;
        assert!(early.is_err(), "stopped before the session ended");
        end_tx.send_replace(true);
        tokio::time::timeout(Duration::from_secs(10), listener.stopped())
            .await
            .expect("the end of the session stopped the agent");
        tokio::time::timeout(Duration::from_secs(10), listener.stopped())
            .await
            .expect("and again");
    }

    /// The agent's end and a command's, over a real pipe: a look reaches the
    /// loop's channel, a stop ends `stopped`; without an agent, nobody is told.
    #[tokio::test]
    async fn commands_reach_the_agent_through_its_pipe() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_owned();
        assert_eq!(notify_agent(&path), Told::NotRunning);
        let lock = AgentLock::acquire(&path).unwrap();
        let mut listener = Listener::start(&path).unwrap();
        let (tx, mut rx) = mpsc::channel(4);
        listener.looks().forward(tx).unwrap();
        let told = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || notify_agent(&path))
        };
        assert_eq!(told.await.unwrap(), Told::Yes);
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("the look reached the loop")
            .unwrap();
        let asked = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || ask_to_stop(&path, 1))
        };
        asked.await.unwrap().unwrap();
        tokio::time::timeout(Duration::from_secs(10), listener.stopped())
            .await
            .expect("the stop reached the agent");
        drop(lock);
    }
}
