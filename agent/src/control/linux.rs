//! Linux: `SIGUSR1` tells the running agent to look again (sent only to an
//! agent whose `/proc/PID/status` shows it catches the signal: to an older
//! build it would be fatal), `SIGTERM` and `SIGINT` stop it.

use std::path::Path;

use anyhow::{Context, Result};
use rustix::process::{kill_process, Pid, Signal};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use super::Told;
use crate::lock;

/// Whether `sig` is caught by a handler, from the `SigCgt:` line of
/// `/proc/PID/status`.
pub fn catches(proc_status: &str, sig: Signal) -> bool {
    let sig = sig.as_raw();
    proc_status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|mask| (1..=64).contains(&sig) && mask & (1 << (sig - 1)) != 0)
}

/// Sends SIGUSR1 to the agent running on `dir`, if it listens for it.
pub fn notify_agent(dir: &Path) -> Told {
    let Some(raw) = lock::holder_pid(dir).and_then(|p| i32::try_from(p).ok()) else {
        return Told::NotRunning;
    };
    let Some(pid) = Pid::from_raw(raw) else {
        return Told::NotRunning;
    };
    let listens = std::fs::read_to_string(format!("/proc/{raw}/status"))
        .is_ok_and(|st| catches(&st, Signal::USR1));
    if !listens {
        return Told::NotListening;
    }
    match kill_process(pid, Signal::USR1) {
        Ok(()) => Told::Yes,
        Err(e) => {
            tracing::warn!("cannot signal the running agent (pid {raw}): {e}");
            Told::NotRunning
        }
    }
}

/// Asks the agent running on `_dir` with pid `pid` to stop: SIGTERM. The
/// error says why it could not be asked.
pub fn ask_to_stop(_dir: &Path, pid: u32) -> std::result::Result<(), String> {
    let Some(p) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return Err("its pid cannot be read from its lock file".to_owned());
    };
    kill_process(p, Signal::TERM).map_err(|e| format!("pid {pid}: cannot be signalled: {e}"))
}

/// The agent's end: SIGTERM and SIGINT, as one stream.
pub struct Listener {
    term: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
}

impl Listener {
    /// Starts listening (inside a runtime). SIGTERM and SIGINT are caught
    /// from here on.
    pub fn start(_data_dir: &Path) -> Result<Listener> {
        Ok(Listener {
            term: signal(SignalKind::terminate()).ok(),
            int: signal(SignalKind::interrupt()).ok(),
        })
    }

    /// Where one run of the loop hears "look again" from.
    pub fn looks(&self) -> Looks {
        Looks(())
    }

    /// Completes at the next SIGTERM or SIGINT (never, if either could not be
    /// listened to: the default action, ending the process, then applies).
    pub async fn stopped(&mut self) {
        match (self.term.as_mut(), self.int.as_mut()) {
            (Some(term), Some(int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
}

/// "Look again" for one run of the loop: SIGUSR1.
pub struct Looks(());

impl Looks {
    /// Sends `()` to `tx` at each SIGUSR1 (inside a runtime), until the loop
    /// is gone.
    pub fn forward(self, tx: mpsc::Sender<()>) -> Result<()> {
        let mut usr1 = signal(SignalKind::user_defined1()).context("cannot listen for SIGUSR1")?;
        tokio::spawn(async move {
            while usr1.recv().await.is_some() {
                if tx.send(()).await.is_err() {
                    break;
                }
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caught_signals_from_proc_status() {
        let st = "Name:\tdwell-agent\nSigIgn:\t0000000000001000\nSigCgt:\t0000000180004200\n";
        assert!(catches(st, Signal::USR1));
        assert!(catches(st, Signal::TERM));
        assert!(!catches(st, Signal::USR2));
        assert!(!catches("SigCgt:\t0000000000000000\n", Signal::USR1));
        assert!(!catches("garbage", Signal::USR1));
    }
}
