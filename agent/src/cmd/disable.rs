//! `dwell-agent disable [--erase]`: withdraws the consent, stops a running
//! agent, and with `--erase` (after asking on a terminal) deletes everything
//! dwell recorded.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use dwell_core::paths::{self, DB_FILE};
use dwell_core::Store;

use super::{data_dir, Global};
use crate::lock::{self, AgentLock};

/// Asks a running agent to stop, and waits for it (up to 15 s).
fn stop_agent(dir: &Path) -> Result<bool> {
    let Some(pid) = lock::holder_pid(dir) else {
        return Ok(false);
    };
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .context("cannot run `kill` to stop the running agent")?;
    if !status.success() {
        return Ok(false);
    }
    for _ in 0..150 {
        if !AgentLock::is_held(dir) {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(anyhow!(
        "the running agent (pid {pid}) did not stop within 15 s; stop it and try again"
    ))
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
    if stop_agent(&dir)? {
        println!("Stopped the running agent.");
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
