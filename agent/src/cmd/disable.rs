//! `dwell-agent disable [--erase]`: withdraws the consent, stops a running
//! agent (asks it to, see [`crate::control::ask_to_stop`], then a bounded
//! wait for its lock), and with `--erase` (after
//! asking on a terminal) deletes everything dwell recorded — never while an
//! agent still holds the lock: then it refuses and says what to do.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use dwell_core::paths::{self, DB_FILE};
use dwell_core::Store;

use super::{data_dir, refused, Global};
use crate::lock::{self, AgentLock};

/// How long `disable` waits for a running agent to stop once asked.
const STOP_WAIT: Duration = Duration::from_secs(15);
/// How long it waits for an agent it cannot signal (one that is just starting
/// or ending) to let go of its lock.
const UNSIGNALLED_WAIT: Duration = Duration::from_secs(1);

/// Stops the agent running on `dir`, if one is: asks it (SIGTERM on Linux),
/// then a bounded wait for its lock to be released. `Ok(true)`: it stopped; `Ok(false)`: none
/// ran; `Err(why)`: one still runs (then nothing may be deleted).
fn stop_agent(dir: &Path) -> std::result::Result<bool, String> {
    if !AgentLock::is_held(dir) {
        return Ok(false);
    }
    let raw = lock::holder_pid(dir);
    let signalled = match raw {
        Some(pid) => crate::control::ask_to_stop(dir, pid),
        None => Err("its pid cannot be read from its lock file".to_owned()),
    };
    let wait = if signalled.is_ok() {
        STOP_WAIT
    } else {
        UNSIGNALLED_WAIT
    };
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if !AgentLock::is_held(dir) {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(match signalled {
        Ok(()) => format!(
            "pid {}: it did not stop within {} s",
            raw.unwrap_or_default(),
            wait.as_secs()
        ),
        Err(why) => why,
    })
}

pub fn disable(cli: &Global, erase: bool, yes: bool) -> Result<()> {
    let dir = data_dir(cli)?;
    let Some(store) = Store::open_existing(&dir)? else {
        println!(
            "dwell was not enabled here ({}); nothing to do.",
            dir.display()
        );
        return Ok(());
    };
    if erase {
        let what = format!(
            "This stops dwell and deletes everything it recorded in {} for good (spans, reminders, notes, your consent, and any damaged copies set aside).",
            dir.display()
        );
        if !crate::ask::confirm(&what, yes)? {
            return Ok(());
        }
    }
    store.clear_consent().context("cannot withdraw consent")?;
    drop(store);
    match stop_agent(&dir) {
        Ok(true) => println!("Stopped the running agent."),
        Ok(false) => {}
        Err(why) => {
            let deleted = if erase { "; nothing was deleted" } else { "" };
            return Err(refused(format!(
                "your consent is withdrawn, but a dwell-agent is still running on {} ({why}){deleted}: stop it (`systemctl --user stop dwell-agent`, or end that process) and run `dwell-agent disable{}` again",
                dir.display(),
                if erase { " --erase" } else { "" }
            )));
        }
    }
    if erase {
        // The database, its -wal and -shm, and what a salvage left: damaged
        // copies set aside (dwell.db.damaged-*) and an unfinished rebuild.
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
            if entry.file_name().to_string_lossy().starts_with(DB_FILE) {
                let p = entry.path();
                std::fs::remove_file(&p)
                    .with_context(|| format!("cannot delete {}", p.display()))?;
            }
        }
        let _ = std::fs::remove_file(dir.join(paths::LOCK_FILE));
        let _ = std::fs::remove_file(dir.join(lock::RECORD_FILE));
        let _ = std::fs::remove_dir(&dir);
        println!("Disabled. Everything dwell recorded has been deleted.");
    } else {
        println!(
            "Disabled: nothing more will be recorded. Your data is kept in {} (erase it with `dwell-agent disable --erase`).",
            dir.display()
        );
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Holds the agent lock on `dir` as a running agent would, with `record`
    /// as its lock file's text (a pid `disable` cannot signal).
    fn hold_lock(dir: &Path, record: &str) -> std::fs::File {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.join(paths::LOCK_FILE))
            .unwrap();
        file.try_lock().unwrap();
        file.write_all(record.as_bytes()).unwrap();
        file
    }

    /// An agent that holds the lock but cannot be stopped (its pid is not
    /// ours to signal, or cannot be read): nothing is deleted, and the
    /// message says what to do.
    #[test]
    fn erase_refuses_while_an_agent_it_cannot_stop_holds_the_lock() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join("dwell");
        let store = Store::open(&dir).unwrap();
        store.set_consent(chrono::Utc::now()).unwrap();
        drop(store);
        // No such process (pids are below 2^22 on Linux).
        for record in ["999999999\n", ""] {
            let lock = hold_lock(&dir, record);
            let g = Global {
                data_dir: Some(dir.clone()),
                config: None,
            };
            let err = disable(&g, true, true).unwrap_err();
            let msg = format!("{err:#}");
            assert!(
                msg.contains("still running") && msg.contains("nothing was deleted"),
                "{msg}"
            );
            assert!(dir.join(DB_FILE).exists(), "{record:?}: the database went");
            drop(lock);
        }
    }
}
